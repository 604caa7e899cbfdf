package accordwatch

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

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
	// Disabled feeds are kept (with their state) but not polled.
	Disabled bool `json:"disabled,omitempty"`
	// MinInterval is the shortest time between two polls of this feed,
	// whatever the schedule or the server's hints say; 0 = the global one.
	MinInterval time.Duration `json:"min_interval,omitempty"`
	// Source says where the feed was defined: "config", "opml" (imported)
	// or "cli" (feeds add). Only non-config feeds live in the store.
	Source string `json:"source,omitempty"`
	// Article says when to fetch the web page behind a new item and use
	// the article in it: ArticleAuto, ArticleAlways or ArticleNever; ""
	// means the default (see ArticleMode).
	Article string `json:"article,omitempty"`
}

// Article settings of a feed.
const (
	// ArticleAuto fetches the page when the feed's own text for an item
	// is shorter than the configured threshold.
	ArticleAuto = "auto"
	// ArticleAlways fetches the page of every new item.
	ArticleAlways = "always"
	// ArticleNever uses the feed's text only.
	ArticleNever = "never"
)

// ArticleMode is the feed's Article setting, or its default: ArticleAuto
// for http(s) feeds, ArticleNever for local files and directories (an
// archive replayed offline should not reach out to the web).
func (f Feed) ArticleMode() string {
	if f.Article != "" {
		return f.Article
	}
	lower := strings.ToLower(f.URL)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return ArticleAuto
	}
	return ArticleNever
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
	// Fetches and NotModified count attempts and 304 answers, for the
	// conditional-GET hit ratio.
	Fetches     int `json:"fetches"`
	NotModified int `json:"not_modified"`
	// Gone is set when the server answered 410: the feed backs off to the
	// maximum interval but is never dropped.
	Gone bool `json:"gone,omitempty"`
	// MovedTo is where a permanent redirect (301/308) pointed; later polls
	// go there directly.
	MovedTo string `json:"moved_to,omitempty"`
	// UnhealthySince is when the current run of failures began; zero when
	// healthy. OpsNotified records that the one "feed unhealthy" message
	// for this run was sent.
	UnhealthySince time.Time `json:"unhealthy_since,omitempty"`
	OpsNotified    bool      `json:"ops_notified,omitempty"`
}

// Healthy reports whether the last attempt succeeded.
func (s FeedState) Healthy() bool { return s.ConsecutiveFailures == 0 }

// FeedHealth is a feed with its state, as `accordwatch feeds` and
// /api/feeds show them.
type FeedHealth struct {
	Feed  Feed      `json:"feed"`
	State FeedState `json:"state"`
}

// Redacted returns a copy of h without its credentials: URLs through
// RedactURL, header values masked (names kept), and the known secret
// values masked in the last error, since a failed poll's reason may quote
// the URL it fetched (a URL parse error does).
func (h FeedHealth) Redacted() FeedHealth {
	f, st := h.Feed, h.State
	secrets := feedSecrets(f.Headers, f.URL, st.URL, st.MovedTo)
	if f.Headers != nil {
		masked := make(map[string]string, len(f.Headers))
		for name := range f.Headers {
			masked[name] = redactedValue
		}
		f.Headers = masked
	}
	f.URL = RedactURL(f.URL)
	st.URL = RedactURL(st.URL)
	st.MovedTo = RedactURL(st.MovedTo)
	st.LastError = scrub(st.LastError, secrets)
	return FeedHealth{Feed: f, State: st}
}

// MarshalJSON is how every API and CLI shows a feed's health: Redacted,
// with headers by name only. FeedHealth is a view, never stored, so
// nothing is lost by this.
func (h FeedHealth) MarshalJSON() ([]byte, error) {
	type feedView struct {
		Feed
		HeaderNames []string `json:"header_names,omitempty"`
	}
	h = h.Redacted()
	f := feedView{Feed: h.Feed}
	for name := range f.Headers {
		f.HeaderNames = append(f.HeaderNames, name)
	}
	slices.Sort(f.HeaderNames)
	f.Headers = nil
	return json.Marshal(struct {
		Feed  feedView  `json:"feed"`
		State FeedState `json:"state"`
	}{f, h.State})
}
