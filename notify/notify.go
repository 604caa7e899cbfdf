package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/accordwatch/accordwatch"
)

// Delivery modes reported by Notifier.Mode.
const (
	ModeBot     = "bot"
	ModeWebhook = "webhook"
	ModeFile    = "file"
)

const (
	defaultAPIURL      = "https://slack.com/api/"
	defaultHTTPTimeout = 15 * time.Second
	// Slack allows about one message per second per channel.
	defaultPerChannelInterval = time.Second
	// defaultRetryAfter is used when Slack answers 429 without Retry-After.
	defaultRetryAfter = time.Second
	// webhookKey is the limiter key in webhook mode: one webhook is one channel.
	webhookKey = "\x00webhook"
)

// Options configures a Notifier. The mode follows from what is set:
// BotToken → bot, else WebhookURL → webhook, else file.
type Options struct {
	// BotToken posts with chat.postMessage and Block Kit; it is needed for
	// threads and updates.
	BotToken accordwatch.Secret
	// WebhookURL is an incoming webhook, used when no bot token is set.
	WebhookURL accordwatch.Secret
	// Channel is the default channel in bot mode; an alert's own Channel wins.
	Channel string
	// OpsChannel receives operational messages (feed health); default
	// Channel.
	OpsChannel string
	// APIURL is the Slack Web API base, default "https://slack.com/api/".
	// Tests and Slack-compatible servers set it.
	APIURL string
	// AlertsFile is the JSON Lines file written in file mode. When empty,
	// file mode only logs.
	AlertsFile string
	// HTTPClient defaults to a client with a 15s timeout.
	HTTPClient *http.Client
	// Logger defaults to discarding.
	Logger *slog.Logger
	// PerChannelInterval is the minimum spacing between posts to one
	// channel; default 1s (Slack's 1 message/second/channel).
	PerChannelInterval time.Duration
}

// Notifier sends alerts to Slack (or a file). It is safe for concurrent use.
type Notifier struct {
	mode       string
	api        *slack.Client
	webhookURL accordwatch.Secret
	token      accordwatch.Secret
	channel    string
	opsChannel string
	alertsFile string
	httpClient *http.Client
	log        *slog.Logger
	interval   time.Duration

	mu       sync.Mutex
	limiters map[string]*rate.Limiter

	fileMu sync.Mutex // serialises appends to alertsFile
}

// New returns a Notifier for the mode opts select. It fails when bot mode
// has no default channel.
func New(opts Options) (*Notifier, error) {
	n := &Notifier{
		webhookURL: opts.WebhookURL,
		token:      opts.BotToken,
		channel:    strings.TrimSpace(opts.Channel),
		opsChannel: strings.TrimSpace(opts.OpsChannel),
		alertsFile: opts.AlertsFile,
		httpClient: opts.HTTPClient,
		log:        opts.Logger,
		interval:   opts.PerChannelInterval,
		limiters:   make(map[string]*rate.Limiter),
	}
	if n.opsChannel == "" {
		n.opsChannel = n.channel
	}
	if n.httpClient == nil {
		n.httpClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.log = n.log.With("component", "notify")
	if n.interval <= 0 {
		n.interval = defaultPerChannelInterval
	}

	switch {
	case opts.BotToken.IsSet():
		n.mode = ModeBot
		if n.channel == "" {
			return nil, errors.New("notify: bot mode needs a default channel")
		}
		apiURL := opts.APIURL
		if apiURL == "" {
			apiURL = defaultAPIURL
		}
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		// No slack.OptionRetry: Send makes one attempt and the outbox
		// decides about retries (a retried post can double-post). If retries
		// are ever added, OptionRetry must come after OptionHTTPClient or it
		// is silently discarded.
		n.api = slack.New(opts.BotToken.Reveal(),
			slack.OptionHTTPClient(n.httpClient),
			slack.OptionAPIURL(apiURL),
		)
	case opts.WebhookURL.IsSet():
		n.mode = ModeWebhook
		n.log.Warn("slack incoming webhook: alerts cannot be threaded or updated; set a bot token for that")
	default:
		n.mode = ModeFile
		n.log.Info("no slack credentials: alerts go to the log and the alerts file", "file", n.alertsFile)
	}
	return n, nil
}

// Mode returns "bot", "webhook" or "file".
func (n *Notifier) Mode() string { return n.mode }

// SendError is a failed delivery. Permanent means retrying cannot help (bad
// token, unknown channel, rejected blocks); otherwise RetryAfter, when set,
// is how long Slack asked us to wait. Its text never contains the token or
// the webhook URL.
type SendError struct {
	Permanent  bool
	RetryAfter time.Duration
	// Code is Slack's error code ("channel_not_found"), "http_<status>",
	// "rate_limited", "transport", "canceled" or "file".
	Code string
	Err  error
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("notify: send alert: ")
	b.WriteString(e.Code)
	if e.Err != nil && e.Err.Error() != e.Code {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	switch {
	case e.Permanent:
		b.WriteString(" (permanent)")
	case e.RetryAfter > 0:
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }

// isPermanent reports whether a Slack error code, from chat.postMessage
// or an incoming webhook, is one no retry can fix.
func isPermanent(code string) bool {
	switch code {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
		"invalid_token", "missing_scope", "team_disabled",
		"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived",
		"restricted_action", "action_prohibited", "posting_to_general_channel_denied", "no_service",
		"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long",
		"no_text", "invalid_arguments", "invalid_payload":
		return true
	}
	return false
}

// Send delivers one alert about item. It waits on the per-channel limiter
// (returning early if ctx ends), makes one attempt, and returns ref
// ("<channel>/<ts>" in bot mode, "" otherwise). A failure is a *SendError.
func (n *Notifier) Send(ctx context.Context, a accordwatch.Alert, item accordwatch.Item) (ref string, err error) {
	switch n.mode {
	case ModeBot:
		return n.sendBot(ctx, a, item)
	case ModeWebhook:
		return "", n.sendWebhook(ctx, a, item)
	default:
		return "", n.sendFile(a, item)
	}
}

// NotifyOps posts an operational message, such as "feed X has failed
// for 6h", to the ops channel (bot mode) or the webhook. The text may name
// feeds and quote servers, so it is escaped like feed text. In file mode
// it is logged at warn. Failures are *SendError, as for Send.
func (n *Notifier) NotifyOps(ctx context.Context, text string) error {
	esc := fit(Escape(text), maxText)
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, esc, false, true), nil, nil)}
	switch n.mode {
	case ModeBot:
		channel := n.opsChannel
		if err := n.wait(ctx, channel); err != nil {
			return err
		}
		_, _, err := n.api.PostMessageContext(ctx, channel,
			slack.MsgOptionText(esc, false),
			slack.MsgOptionBlocks(blocks...),
			slack.MsgOptionDisableLinkUnfurl(),
			slack.MsgOptionDisableMediaUnfurl(),
		)
		if err != nil {
			return n.classifyBot(ctx, err)
		}
		return nil
	case ModeWebhook:
		if err := n.wait(ctx, webhookKey); err != nil {
			return err
		}
		return n.postWebhook(ctx, esc, blocks)
	default:
		n.log.Warn("feed health", "message", text)
		return nil
	}
}

// channelFor picks the alert's own channel, else the default.
func (n *Notifier) channelFor(a accordwatch.Alert) string {
	if c := strings.TrimSpace(a.Channel); c != "" {
		return c
	}
	return n.channel
}

// wait blocks until key may post again.
func (n *Notifier) wait(ctx context.Context, key string) error {
	n.mu.Lock()
	lim, ok := n.limiters[key]
	if !ok {
		// Burst 1: posts to one channel are spaced by interval.
		lim = rate.NewLimiter(rate.Every(n.interval), 1)
		n.limiters[key] = lim
	}
	n.mu.Unlock()
	if err := lim.Wait(ctx); err != nil {
		return &SendError{Code: "canceled", Err: fmt.Errorf("wait for channel rate limit: %w", err)}
	}
	return nil
}

func (n *Notifier) sendBot(ctx context.Context, a accordwatch.Alert, item accordwatch.Item) (string, error) {
	channel := n.channelFor(a)
	if err := n.wait(ctx, channel); err != nil {
		return "", err
	}
	msg := render(a, item)
	respChannel, ts, err := n.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(msg.Text, false), // already escaped
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		se := n.classifyBot(ctx, err)
		n.log.Debug("slack post failed", "channel", channel, "rule", a.Rule, "item_id", item.ID, "code", se.Code)
		return "", se
	}
	if respChannel == "" {
		respChannel = channel
	}
	n.log.Debug("slack alert posted", "channel", respChannel, "ts", ts, "rule", a.Rule, "item_id", item.ID)
	return respChannel + "/" + ts, nil
}

// classifyBot turns a slack-go error into a *SendError.
func (n *Notifier) classifyBot(ctx context.Context, err error) *SendError {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		ra := rl.RetryAfter
		if ra <= 0 {
			ra = defaultRetryAfter
		}
		return &SendError{RetryAfter: ra, Code: "rate_limited", Err: n.sanitize(err)}
	case errors.As(err, &sc):
		out := &SendError{Code: fmt.Sprintf("http_%d", sc.Code), Err: n.sanitize(err)}
		if sc.Code == http.StatusTooManyRequests {
			out.RetryAfter = defaultRetryAfter
		}
		return out
	case errors.As(err, &se):
		// Slack explains invalid_blocks per block and missing scopes in
		// these fields; the error text carries only the code.
		n.log.Warn("slack rejected alert", "code", se.Err,
			"errors", fmt.Sprint(se.Errors),
			"messages", se.ResponseMetadata.Messages,
			"warnings", se.ResponseMetadata.Warnings,
			"needed", se.Needed, "provided", se.Provided)
		out := &SendError{Code: se.Err, Permanent: isPermanent(se.Err), Err: n.sanitize(err)}
		if se.Err == "ratelimited" || se.Err == "rate_limited" {
			out.RetryAfter = defaultRetryAfter
		}
		return out
	case ctx.Err() != nil:
		return &SendError{Code: "canceled", Err: n.sanitize(err)}
	default:
		return &SendError{Code: "transport", Err: n.sanitize(err)}
	}
}
