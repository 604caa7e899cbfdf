package accordwatch

import "time"

// Rule is an alert rule: a saved search in the query language plus where
// its matches go.
type Rule struct {
	Name        string `json:"name"`
	Query       string `json:"query"`
	Channel     string `json:"channel,omitempty"`
	MinSeverity int    `json:"min_severity,omitempty"`
}

// Alert delivery states.
const (
	AlertPending = "pending"
	AlertSent    = "sent"
	// AlertFailed is terminal: a permanent error (bad token, unknown
	// channel) that retrying cannot fix.
	AlertFailed = "failed"
)

// Alert is an outbox entry: written before anything is sent, marked sent
// only after the destination accepted it.
type Alert struct {
	// ID is stable for (rule, item), so re-running a rule never enqueues
	// the same alert twice.
	ID      string    `json:"id"`
	Rule    string    `json:"rule"`
	Channel string    `json:"channel,omitempty"`
	ItemID  string    `json:"item_id"`
	Created time.Time `json:"created"`
	Status  string    `json:"status"`
	// Attempts counts delivery attempts; NextAttempt is when to try again.
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	SentAt      time.Time `json:"sent_at,omitempty"`
	// Ref is where the destination put it (Slack channel + ts), for threads.
	Ref string `json:"ref,omitempty"`
}
