package accordwatch

import "time"

// Rule is an alert rule: a saved search in the query language plus where
// its matches go.
type Rule struct {
	Name        string `json:"name"`
	Query       string `json:"query"`
	Channel     string `json:"channel,omitempty"`
	MinSeverity int    `json:"min_severity,omitempty"`
	// RepeatInterval: a later report of an incident that already alerted
	// on this channel goes into its thread; once this long has passed
	// since the last message it is also broadcast to the channel. 0 = 24h.
	RepeatInterval time.Duration `json:"repeat_interval,omitempty"`
	// RateCap is the most new-incident messages per hour on this rule's
	// channel; the overflow becomes one summary message. 0 = no cap.
	RateCap int `json:"rate_cap,omitempty"`
}

// Alert delivery states.
const (
	AlertPending = "pending"
	AlertSent    = "sent"
	// AlertFailed is terminal: a permanent error (bad token, unknown
	// channel) that retrying cannot fix.
	AlertFailed = "failed"
	// AlertSilenced matched an active silence: recorded, never sent.
	AlertSilenced = "silenced"
	// AlertOverflow exceeded its channel's rate cap: not sent alone, but
	// listed in the next summary message.
	AlertOverflow = "overflow"
)

// Alert kinds: what message an outbox entry becomes.
const (
	// KindIncident is the first message about an incident on a channel.
	KindIncident = "incident"
	// KindFollowup is a later source of the same incident, posted in the
	// thread of the incident's message (ThreadRef); the parent is then
	// updated in place with the source count.
	KindFollowup = "followup"
	// KindSummary lists alerts held back by a rate cap (Summary).
	KindSummary = "summary"
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
	// Kind is KindIncident (also when empty), KindFollowup or KindSummary.
	Kind       string `json:"kind,omitempty"`
	IncidentID string `json:"incident_id,omitempty"`
	// ThreadRef is the incident message's Ref, for follow-ups.
	ThreadRef string `json:"thread_ref,omitempty"`
	// Broadcast asks a follow-up to show in the channel too.
	Broadcast bool `json:"broadcast,omitempty"`
	// Sources is the incident's number of sources when the alert was made.
	Sources int `json:"sources,omitempty"`
	// Summary lists the alerts a KindSummary message stands for.
	Summary []SummaryEntry `json:"summary,omitempty"`
}

// SummaryEntry is one held-back alert in a summary message.
type SummaryEntry struct {
	Title    string `json:"title"`
	Link     string `json:"link,omitempty"`
	Severity int    `json:"severity"`
	Rule     string `json:"rule"`
}

// Incident groups items that report the same event: the same canonical
// link, or near-duplicate titles within a time window.
type Incident struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Link      string    `json:"link,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// ItemIDs are the first MaxIncidentItems sources; Sources counts all.
	ItemIDs  []string `json:"item_ids"`
	Sources  int      `json:"sources,omitempty"`
	Severity int      `json:"severity"`
	// Merges say why each later report joined: the first
	// MaxIncidentMerges/2 and the latest (see AddMerge).
	Merges []IncidentMerge `json:"merges,omitempty"`
}

// MaxIncidentItems bounds the source IDs an incident keeps: a story with
// thousands of reports must not make every later report rewrite them all.
const MaxIncidentItems = 100

// SourceCount is how many items reported the incident.
func (i Incident) SourceCount() int { return max(i.Sources, len(i.ItemIDs)) }

// Silence mutes alerts whose item matches Query until Expires.
type Silence struct {
	ID      string    `json:"id"`
	Query   string    `json:"query"`
	Reason  string    `json:"reason"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Active reports whether the silence applies at now.
func (s Silence) Active(now time.Time) bool { return !now.Before(s.Created) && now.Before(s.Expires) }
