package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/accordwatch/accordwatch"
)

// Searcher runs a search for the /accord slash command. It must be safe for
// concurrent use. An error caused by the query itself (a syntax error, a
// bad field) should wrap ErrBadQuery or implement BadQuery() bool: its text
// is then shown to the user; any other error is logged and the user gets a
// generic "search failed".
type Searcher interface {
	Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error)
}

// ErrBadQuery marks a Searcher error the user can fix by editing the
// query; wrap it (fmt.Errorf("%w: %w", notify.ErrBadQuery, err)) in the
// adapter that connects the index.
var ErrBadQuery = errors.New("bad query")

const (
	// slashTimeout keeps the answer inside Slack's 3-second window.
	slashTimeout = 2500 * time.Millisecond
	// defaultWindow is added to queries that name no date.
	defaultWindow = "since:90d"
	slashSize     = 5
	// maxSlashBody caps a slash-command request; Slack's are ~1 KB.
	maxSlashBody = 64 << 10
	// maxAckBytes stays under Socket Mode's 20 KB limit for an ack
	// payload, leaving room for the envelope around it.
	maxAckBytes   = 19 << 10
	maxSlashTitle = 300
)

// hasDateClause finds since: or published: as a clause of the query.
var hasDateClause = regexp.MustCompile(`(?i)(^|[\s(+\-])(since|published):`)

// slashReply is the JSON answer to a slash command (HTTP response body or
// Socket Mode ack payload). Ephemeral: only the asker sees it.
type slashReply struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

// SlashHandler is the signed HTTP endpoint for "/accord QUERY". It reads
// the body once (capped), checks Slack's v0 signature with signingSecret
// (missing or wrong signature, or a timestamp more than 5 minutes off: 401),
// runs the search (2.5 s timeout, size 5, since:90d unless the query names
// a date) and answers 200 with an ephemeral message: the top results, or
// why the query could not run. It never answers 500 for a bad query.
func SlashHandler(signingSecret accordwatch.Secret, s Searcher, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "notify", "endpoint", "slash")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSlashBody))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !signingSecret.IsSet() {
			log.Error("slash command rejected: no signing secret configured")
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		v, err := slack.NewSecretsVerifier(r.Header, signingSecret.Reveal())
		if err == nil {
			_, _ = v.Write(body)
			err = v.Ensure()
		}
		if err != nil {
			// err names the failed check, never the secret.
			log.Debug("slash command rejected", "reason", err.Error())
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		cmd, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		reply := answerSlash(r.Context(), s, cmd.Text, log)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(reply)
	})
}

// RunSocketMode answers the slash command over Socket Mode until ctx ends:
// no public endpoint needed. appToken is the app-level token (xapp-…, with
// connections:write); botToken is the bot token the app posts as. apiURL
// is the Web API base ("" for Slack's). Every slash command the app
// receives is acked with the same answer SlashHandler gives. It returns
// nil when ctx is canceled, or the error that stopped the client (an
// invalid token) — in both cases only once the connection is closed and
// no answer is running any more, so the caller may close the Searcher
// right after.
func RunSocketMode(ctx context.Context, appToken, botToken accordwatch.Secret, apiURL string, s Searcher, log *slog.Logger) error {
	if !appToken.IsSet() {
		return errors.New("notify: socket mode needs an app-level token (xapp-…)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "notify", "endpoint", "socket_mode")
	if apiURL == "" {
		apiURL = defaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	api := slack.New(botToken.Reveal(), slack.OptionAppLevelToken(appToken.Reveal()), slack.OptionAPIURL(apiURL))
	client := socketmode.New(api, socketmode.OptionLog(slogWriter{log}))

	// The event loop is ours rather than socketmode's handler, whose
	// dispatch starts handlers nobody waits for: a slash command answered
	// during a shutdown would search an index already closed.
	run, stop := context.WithCancel(ctx)
	defer stop()
	var answers sync.WaitGroup
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case evt := <-client.Events:
				dispatchSocketEvent(run, evt, client, &answers, s, log)
			case <-run.Done():
				return
			}
		}
	}()
	err := client.RunContext(run)
	stop()
	<-loopDone
	// No answer starts after the loop ends, so this wait is final.
	answers.Wait()
	if ctx.Err() != nil {
		log.Debug("socket mode closed")
		return nil
	}
	return fmt.Errorf("notify: socket mode: %w", err)
}

// dispatchSocketEvent handles one Socket Mode event on the event loop.
// Slash commands are answered on their own goroutine, counted in answers,
// so a slow search does not hold up the others.
func dispatchSocketEvent(ctx context.Context, evt socketmode.Event, c *socketmode.Client, answers *sync.WaitGroup, s Searcher, log *slog.Logger) {
	ack := ctxAcker{ctx: ctx, c: c}
	switch evt.Type {
	// By event type, not by command name: the app receives only the
	// commands it defines, whatever the workspace named them.
	case socketmode.EventTypeSlashCommand:
		answers.Go(func() { handleSlashEvent(ctx, &evt, ack, s, log) })
	case socketmode.EventTypeConnected:
		log.Info("socket mode connected")
	case socketmode.EventTypeConnectionError:
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok && ctx.Err() == nil {
			log.Warn("socket mode connection failed; retrying", "attempt", ce.Attempt, "backoff", ce.Backoff)
		}
	default:
		// Anything else that expects an ack gets an empty one, so Slack
		// does not redeliver it.
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			_ = ack.Ack(*evt.Request)
		}
	}
}

// acker is the part of *socketmode.Client the slash handler uses.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// ctxAcker acks under ctx: socketmode's own Ack waits forever for room in
// its send queue, which nobody empties once the connection is gone.
type ctxAcker struct {
	ctx context.Context
	c   *socketmode.Client
}

func (a ctxAcker) Ack(req socketmode.Request, payload ...any) error {
	var p any
	if len(payload) > 0 {
		p = payload[0]
	}
	return a.c.AckCtx(a.ctx, req.EnvelopeID, p)
}

// handleSlashEvent answers one slash_commands envelope with an ack that
// carries the results.
func handleSlashEvent(ctx context.Context, evt *socketmode.Event, c acker, s Searcher, log *slog.Logger) {
	if evt.Request == nil {
		return
	}
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		_ = c.Ack(*evt.Request)
		return
	}
	reply := answerSlash(ctx, s, cmd.Text, log)
	if err := c.Ack(*evt.Request, reply); err != nil {
		if ctx.Err() != nil {
			log.Debug("socket mode ack dropped: shutting down", "err", err)
			return
		}
		log.Warn("socket mode ack failed", "err", err)
	}
}

// answerSlash runs the query and builds the reply; it never fails.
func answerSlash(ctx context.Context, s Searcher, text string, log *slog.Logger) slashReply {
	q := strings.Join(strings.Fields(text), " ")
	if q == "" || strings.EqualFold(q, "help") {
		return ephemeral("Usage: `/accord QUERY`, e.g. `/accord state:russia signatory:microsoft since:30d`. Without a date the search covers the last 90 days.")
	}
	windowed := !hasDateClause.MatchString(q)
	// The reply lists hits only: no facets to count.
	req := accordwatch.SearchRequest{Query: q, Size: slashSize, Facets: accordwatch.FacetsNone}
	if windowed {
		// Parenthesised so "a OR b" stays one clause next to the window.
		req.Query = "(" + q + ") " + defaultWindow
	}
	ctx, cancel := context.WithTimeout(ctx, slashTimeout)
	defer cancel()
	res, err := s.Search(ctx, req)
	if err != nil && windowed && isBadQuery(err) {
		// Report the error against what the user typed: the wrapped
		// query's columns are off by one.
		if _, err2 := s.Search(ctx, accordwatch.SearchRequest{Query: q, Size: 1, Facets: accordwatch.FacetsNone}); err2 != nil && isBadQuery(err2) {
			err = err2
		}
	}
	switch {
	case err == nil:
		return slashResults(q, windowed, res)
	case errors.Is(err, context.Canceled):
		// The daemon is shutting down, or the asker went away: not a
		// failure worth an error line.
		log.Debug("slash search cancelled", "q", q, "err", err)
		return ephemeral("accordwatch is restarting; try again in a minute.")
	case isBadQuery(err):
		return ephemeral("Couldn't run `" + fit(Escape(q), maxSlashTitle) + "`: " + fit(Escape(err.Error()), 1000))
	case errors.Is(err, context.DeadlineExceeded):
		log.Warn("slash search timed out", "q", q)
		return ephemeral("The search took too long; try a narrower query (add a field like `state:` or a shorter `since:`).")
	default:
		log.Error("slash search failed", "q", q, "err", err)
		return ephemeral("The search failed; the error is in the accordwatch log.")
	}
}

func isBadQuery(err error) bool {
	var bq interface{ BadQuery() bool }
	return errors.Is(err, ErrBadQuery) || (errors.As(err, &bq) && bq.BadQuery())
}

func ephemeral(escaped string) slashReply {
	return slashReply{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         escaped,
		Blocks:       []slack.Block{slack.NewSectionBlock(mrkdwn(escaped, maxText), nil, nil)},
	}
}

// slashResults lists the hits: linked title, then date, severity and tags.
// Everything from the index is escaped; the reply stays under maxAckBytes.
func slashResults(q string, windowed bool, res accordwatch.SearchResult) slashReply {
	scope := ""
	if windowed {
		scope = " in the last 90 days"
	}
	qEsc := "`" + fit(Escape(q), maxSlashTitle) + "`"
	if len(res.Hits) == 0 {
		return ephemeral("No results for " + qEsc + scope + ".")
	}
	hits := res.Hits[:min(len(res.Hits), slashSize)]
	lead := fmt.Sprintf("Top %d of %d results for %s%s:", len(hits), res.Total, qEsc, scope)
	reply := slashReply{ResponseType: slack.ResponseTypeEphemeral, Text: fit(lead, maxText)}
	reply.Blocks = []slack.Block{slack.NewSectionBlock(mrkdwn(lead, maxText), nil, nil)}
	for _, h := range hits {
		var meta []string
		if !h.Published.IsZero() {
			meta = append(meta, h.Published.UTC().Format("2006-01-02"))
		}
		meta = append(meta, fmt.Sprintf("%s %d", severityMarker(h.Severity), h.Severity))
		var tags []string
		tags = append(tags, h.Signatories...)
		tags = append(tags, h.States...)
		tags = append(tags, h.Actors...)
		tags = append(tags, h.AttackTypes...)
		if len(tags) > 0 {
			meta = append(meta, fit(Escape(strings.Join(tags, ", ")), maxTagLine))
		}
		if h.Feed != "" {
			meta = append(meta, fit(Escape(h.Feed), maxHeader))
		}
		text := linkedTitle(h.Title, h.Link, maxSlashTitle) + "\n" + strings.Join(meta, " · ")
		reply.Blocks = append(reply.Blocks, slack.NewSectionBlock(mrkdwn(text, maxText), nil, nil))
	}
	// Socket Mode drops acks of 20 KB or more; drop results from the end
	// rather than lose the whole answer.
	for len(reply.Blocks) > 1 {
		b, err := json.Marshal(reply)
		if err == nil && len(b) < maxAckBytes {
			break
		}
		reply.Blocks = reply.Blocks[:len(reply.Blocks)-1]
	}
	return reply
}

// slogWriter adapts slog to socketmode's Output-style logger, at debug.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.log.Debug(strings.TrimRight(s, "\n"))
	return nil
}
