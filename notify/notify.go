package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	// ModeJSON: the generic JSON webhook is the only sink.
	ModeJSON = "json"
	ModeFile = "file"
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
	// updateKeyPrefix keys chat.update pacing apart from posts: an edit
	// is not a new message in the channel and must not delay one.
	updateKeyPrefix = "\x00update/"
	// maxPending bounds the memory of Slack refs kept for alerts whose
	// JSON delivery is still failing (see Send).
	maxPending = 4096
)

// Options configures a Notifier. The Slack mode follows from what is set:
// BotToken → bot, else WebhookURL → webhook. JSONWebhookURL adds a signed
// JSON sink; alone it is mode "json". Nothing set → file.
type Options struct {
	// BotToken posts with chat.postMessage and Block Kit; it is needed for
	// threads and updates.
	BotToken accordwatch.Secret
	// WebhookURL is an incoming webhook, used when no bot token is set.
	WebhookURL accordwatch.Secret
	// JSONWebhookURL receives every alert as JSON (see jsonPayload), for
	// users not on Slack. With a Slack mode it is an additional sink.
	JSONWebhookURL accordwatch.Secret
	// JSONWebhookSecret signs JSON deliveries (X-Accordwatch-Signature);
	// receivers check them with VerifySignature.
	JSONWebhookSecret accordwatch.Secret
	// Channel is the default channel in bot mode; an alert's own Channel
	// wins. Channels may be given as "#name", "name" or an ID; see
	// Destination for how spellings of one channel are told apart.
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
	jsonURL    accordwatch.Secret
	jsonSecret accordwatch.Secret
	channel    string
	opsChannel string
	alertsFile string
	httpClient *http.Client
	log        *slog.Logger
	interval   time.Duration
	now        func() time.Time

	// book knows which channel spellings are one destination (see
	// channels.go); resolveMu serialises its lookups.
	book      *channelBook
	resolveMu sync.Mutex

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	// pending maps an alert (ID and kind) that Slack accepted but the JSON
	// sink did not to Slack's ref, so the outbox's retry does not post to
	// Slack twice.
	pending map[string]string

	fileMu sync.Mutex // serialises appends to alertsFile
}

// New returns a Notifier for the mode opts select and logs, once, what that
// mode cannot do. It fails when bot mode has no default channel or the JSON
// webhook URL is not http(s).
func New(opts Options) (*Notifier, error) {
	n := &Notifier{
		webhookURL: opts.WebhookURL,
		token:      opts.BotToken,
		jsonURL:    opts.JSONWebhookURL,
		jsonSecret: opts.JSONWebhookSecret,
		channel:    strings.TrimSpace(opts.Channel),
		opsChannel: strings.TrimSpace(opts.OpsChannel),
		alertsFile: opts.AlertsFile,
		httpClient: opts.HTTPClient,
		log:        opts.Logger,
		interval:   opts.PerChannelInterval,
		now:        time.Now,
		limiters:   make(map[string]*rate.Limiter),
		pending:    make(map[string]string),
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
	if n.jsonURL.IsSet() {
		// The URL is a credential: the error must not quote it.
		u, err := url.Parse(n.jsonURL.Reveal())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("notify: the JSON webhook URL must be an http or https URL")
		}
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
		n.log.Info("slack bot mode: incidents, threaded follow-ups and in-place updates", "channel", n.channel, "json_webhook", n.jsonURL.IsSet())
	case opts.WebhookURL.IsSet():
		n.mode = ModeWebhook
		n.log.Warn("slack incoming webhook: threads and updates need SLACK_BOT_TOKEN; follow-ups are posted as separate messages",
			"json_webhook", n.jsonURL.IsSet())
	case n.jsonURL.IsSet():
		n.mode = ModeJSON
		n.log.Info("json webhook only: threads and updates are Slack features; follow-ups arrive as kind \"followup\" with the incident id")
	default:
		n.mode = ModeFile
		n.log.Info("no slack credentials: alerts go to the log and the alerts file; threads and updates need SLACK_BOT_TOKEN", "file", n.alertsFile)
	}
	n.book = newChannelBook(n.mode, n.channel)
	n.book.seen[opts.Channel], n.book.seen[opts.OpsChannel] = true, true
	if n.jsonURL.IsSet() && !n.jsonSecret.IsSet() {
		n.log.Warn("json webhook has no secret: deliveries are unsigned and receivers cannot verify them")
	}
	return n, nil
}

// Mode returns "bot", "webhook", "json" or "file". A JSON webhook beside a
// Slack mode does not change it.
func (n *Notifier) Mode() string { return n.mode }

// hasSlack reports whether a Slack sink is configured.
func (n *Notifier) hasSlack() bool { return n.mode == ModeBot || n.mode == ModeWebhook }

// SendError is a failed delivery. Permanent means retrying cannot help (bad
// token, unknown channel, rejected blocks); otherwise RetryAfter, when set,
// is how long the destination asked us to wait. Its text never contains the
// token, a webhook URL or a signing secret.
type SendError struct {
	Permanent  bool
	RetryAfter time.Duration
	// Code is Slack's error code ("channel_not_found"), "http_<status>",
	// "rate_limited", "transport", "canceled", "bad_ref" or "file".
	Code string
	// Sink is "json" when the JSON webhook failed, "" for Slack and file.
	Sink string
	Err  error
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("notify: send alert: ")
	if e.Sink != "" {
		b.WriteString(e.Sink)
		b.WriteString(" webhook: ")
	}
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

// isPermanent reports whether a Slack error code, from chat.postMessage,
// chat.update or an incoming webhook, is one no retry can fix.
func isPermanent(code string) bool {
	switch code {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
		"invalid_token", "missing_scope", "team_disabled",
		"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived",
		"restricted_action", "action_prohibited", "posting_to_general_channel_denied", "no_service",
		"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long",
		"no_text", "invalid_arguments", "invalid_payload",
		// chat.update: the parent is gone or no longer ours to edit.
		"message_not_found", "cant_update_message", "edit_window_closed":
		return true
	}
	return false
}

// Send delivers one alert about item, as the message its Kind calls for:
//
//   - "" or KindIncident: the incident message (item's tags, evidence, and
//     "N sources" when a.Sources > 1).
//   - KindFollowup: in bot mode a reply in the thread at a.ThreadRef, also
//     shown in the channel when a.Broadcast; the returned ref is the
//     reply's. Webhook and file modes cannot thread, so the follow-up is a
//     separate message starting "Follow-up:" (degraded, not an error); so
//     is a bot-mode follow-up without a usable ThreadRef.
//   - KindSummary: one message listing a.Summary (item is unused).
//
// Send waits on the per-channel limiter (returning early if ctx ends),
// makes one attempt per sink, and returns ref ("<channel>/<ts>" in bot
// mode, "" otherwise). A failure is a *SendError.
//
// With both Slack and the JSON webhook configured, Slack goes first and
// its failure is returned without trying JSON. When Slack accepts but JSON
// fails, the JSON error is returned (Sink "json") and Slack's ref is
// remembered under a.ID, so the outbox's retry of the same alert re-tries
// only the JSON webhook and returns the remembered ref: no double post.
// (Remembered in memory only: a restart in between can double-post once.)
func (n *Notifier) Send(ctx context.Context, a accordwatch.Alert, item accordwatch.Item) (ref string, err error) {
	kind := normKind(a.Kind)
	if kind == accordwatch.KindSummary && len(a.Summary) == 0 {
		return "", nil // nothing was held back: nothing to say
	}
	key := ""
	if a.ID != "" {
		key = kind + "\x00" + a.ID
	}
	switch n.mode {
	case ModeBot, ModeWebhook:
		if r, ok := n.pendingRef(key); ok {
			ref = r
			break
		}
		if n.mode == ModeBot {
			ref, err = n.sendBot(ctx, kind, a, item)
		} else {
			err = n.sendWebhook(ctx, kind, a, item)
		}
		if err != nil {
			return "", err
		}
	case ModeFile:
		return "", n.sendFile(kind, a, item)
	}
	if n.jsonURL.IsSet() {
		if err := n.sendJSON(ctx, kind, a, item); err != nil {
			if n.hasSlack() {
				n.remember(key, ref)
			}
			return "", err
		}
		n.forget(key)
	}
	return ref, nil
}

// UpdateParent re-renders the incident message at ref ("<channel>/<ts>",
// as Send returned it) with the incident's current number of sources and
// edits it in place with chat.update. Only bot mode can edit messages: in
// the other modes it does nothing and returns nil (follow-ups already carry
// the source count there). The JSON webhook never gets updates, for the
// same reason. Failures are *SendError, classified like Send's.
func (n *Notifier) UpdateParent(ctx context.Context, ref string, a accordwatch.Alert, item accordwatch.Item, sources int) error {
	if n.mode != ModeBot {
		return nil
	}
	channel, ts, ok := splitRef(ref)
	if !ok {
		return &SendError{Permanent: true, Code: "bad_ref", Err: fmt.Errorf("update parent: ref %q is not <channel>/<ts>", ref)}
	}
	if err := n.wait(ctx, updateKeyPrefix+channel); err != nil {
		return err
	}
	a.Kind = accordwatch.KindIncident
	a.Sources = sources
	msg := render(a, item)
	_, _, _, err := n.api.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(msg.Text, false), // already escaped
		slack.MsgOptionBlocks(msg.Blocks...),
	)
	if err != nil {
		se := n.classifyBot(ctx, err)
		n.log.Debug("slack update failed", "channel", channel, "ts", ts, "rule", a.Rule, "item_id", item.ID, "code", se.Code)
		return se
	}
	n.log.Debug("slack incident updated", "channel", channel, "ts", ts, "sources", sources)
	return nil
}

// NotifyOps posts an operational message, such as "feed X has failed
// for 6h", to the ops channel (bot mode) or the webhook, and to the JSON
// webhook when set (kind "ops"). The text may name feeds and quote servers,
// so it is escaped like feed text. In file mode it is logged at warn.
// Failures are *SendError, as for Send; Slack's failure is reported first.
func (n *Notifier) NotifyOps(ctx context.Context, text string) error {
	var err error
	switch n.mode {
	case ModeBot, ModeWebhook:
		err = n.opsSlack(ctx, text)
	case ModeFile:
		n.log.Warn("feed health", "message", text)
	}
	if n.jsonURL.IsSet() {
		if jerr := n.postJSON(ctx, jsonPayload{Kind: "ops", Text: text}); err == nil {
			err = jerr
		}
	}
	return err
}

func (n *Notifier) opsSlack(ctx context.Context, text string) error {
	msg := renderOps(text)
	if n.mode == ModeWebhook {
		if err := n.wait(ctx, webhookKey); err != nil {
			return err
		}
		return n.postWebhook(ctx, msg.Text, msg.Blocks)
	}
	channel := n.opsChannel
	if err := n.wait(ctx, channel); err != nil {
		return err
	}
	_, _, err := n.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		return n.classifyBot(ctx, err)
	}
	return nil
}

// normKind maps the empty kind to KindIncident and anything unknown too:
// an outbox entry from an older version is an incident alert.
func normKind(k string) string {
	switch k {
	case accordwatch.KindFollowup, accordwatch.KindSummary:
		return k
	}
	return accordwatch.KindIncident
}

// splitRef splits "<channel>/<ts>".
func splitRef(ref string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(strings.TrimSpace(ref), "/")
	return channel, ts, ok && channel != "" && ts != ""
}

func (n *Notifier) pendingRef(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ref, ok := n.pending[key]
	return ref, ok
}

func (n *Notifier) remember(key, ref string) {
	if key == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.pending) >= maxPending {
		// Bounded: drop an arbitrary entry; at worst that alert's retry
		// posts to Slack once more.
		for k := range n.pending {
			delete(n.pending, k)
			break
		}
	}
	n.pending[key] = ref
}

func (n *Notifier) forget(key string) {
	if key == "" {
		return
	}
	n.mu.Lock()
	delete(n.pending, key)
	n.mu.Unlock()
}

// channelFor picks the alert's own channel, else the default.
func (n *Notifier) channelFor(a accordwatch.Alert) string {
	if c := strings.TrimSpace(a.Channel); c != "" {
		return c
	}
	return n.channel
}

// limiterKey is the limiter a channel (or webhookKey, or an update key)
// waits on: a channel named "#alerts" in config, "alerts" elsewhere and
// "C0ALERTS" in a thread ref is one channel to Slack's rate limit.
func (n *Notifier) limiterKey(key string) string {
	if key == webhookKey {
		return key
	}
	if ch, ok := strings.CutPrefix(key, updateKeyPrefix); ok {
		return updateKeyPrefix + n.book.key(ch)
	}
	return n.book.key(key)
}

// wait blocks until key may post again.
func (n *Notifier) wait(ctx context.Context, key string) error {
	key = n.limiterKey(key)
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

func (n *Notifier) sendBot(ctx context.Context, kind string, a accordwatch.Alert, item accordwatch.Item) (string, error) {
	channel := n.channelFor(a)
	var msg message
	opts := []slack.MsgOption{slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	switch kind {
	case accordwatch.KindFollowup:
		if ch, ts, ok := splitRef(a.ThreadRef); ok {
			channel = ch
			msg = renderFollowup(a, item, false)
			opts = append(opts, slack.MsgOptionTS(ts))
			if a.Broadcast {
				opts = append(opts, slack.MsgOptionBroadcast())
			}
		} else {
			// The incident was posted where no ts came back (webhook or
			// file mode then): no thread to reply in.
			n.log.Debug("follow-up without a thread ref: posting it unthreaded", "rule", a.Rule, "incident_id", a.IncidentID)
			msg = renderFollowup(a, item, true)
		}
	case accordwatch.KindSummary:
		msg = renderSummary(a, n.book.label(n.book.key(channel)))
	default:
		msg = render(a, item)
	}
	if err := n.wait(ctx, channel); err != nil {
		return "", err
	}
	opts = append(opts,
		slack.MsgOptionText(msg.Text, false), // already escaped
		slack.MsgOptionBlocks(msg.Blocks...),
	)
	respChannel, ts, err := n.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		se := n.classifyBot(ctx, err)
		n.log.Debug("slack post failed", "channel", n.book.label(channel), "channel_id", channel, "kind", kind, "rule", a.Rule, "item_id", item.ID, "code", se.Code)
		return "", se
	}
	if respChannel == "" {
		respChannel = channel
	} else if before := n.limiterKey(channel); before != respChannel {
		// Slack answers with the channel's ID: from now on every spelling
		// of it is that ID (the fallback when channels cannot be listed).
		n.book.learn(channel, respChannel)
		n.mu.Lock()
		// The limiter the name used becomes the ID's, so a follow-up sent
		// by ID right after this post still waits its turn.
		if lim, ok := n.limiters[before]; ok {
			if _, taken := n.limiters[respChannel]; !taken {
				n.limiters[respChannel] = lim
			}
		}
		n.mu.Unlock()
	}
	n.log.Debug("slack alert posted", "channel", n.book.label(respChannel), "channel_id", respChannel, "ts", ts, "kind", kind, "rule", a.Rule, "item_id", item.ID)
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
