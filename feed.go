package accordwatch

import "time"

// Feed is a source to poll: an http(s) URL, or a local file or directory
// of feed files replayed offline.
type Feed struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Schedule is a cron spec or "@every 15m", evaluated in UTC.
	Schedule  string            `json:"schedule,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// FeedState is what the monitor remembers about a feed between polls: the
// validators for conditional GET and the feed's health.
type FeedState struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Title is the feed's own title, from its last successful parse.
	Title               string    `json:"title,omitempty"`
	LastAttempt         time.Time `json:"last_attempt"`
	LastSuccess         time.Time `json:"last_success"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastStatus          int       `json:"last_status,omitempty"`
	// LastError is a reason in words a user can act on; empty when healthy.
	LastError   string    `json:"last_error,omitempty"`
	ItemsSeen   int       `json:"items_seen"`
	NextCheckAt time.Time `json:"next_check_at"`
}

// Healthy reports whether the last attempt succeeded.
func (s FeedState) Healthy() bool { return s.ConsecutiveFailures == 0 }
