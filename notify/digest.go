package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/accordwatch/accordwatch/digest"
)

// Digest message budget. Besides the 50-block limit, Slack rejects
// messages whose blocks hold much more than ~13k characters
// (msg_blocks_too_long, LIBRARIES.md §4.4), so a message is cut earlier.
const (
	digestMaxChars   = 11000
	digestFieldLines = 8 // values listed per breakdown field
	digestHitLines   = 5 // hits listed per saved section
)

// DefaultDigestRetryWait is how long one digest message waits out Slack's
// Retry-After answers, in all, when DigestSender.MaxRetryWait is not set:
// the default of alerting.max_retry_wait, which bounds the same wait for
// alerts.
const DefaultDigestRetryWait = 30 * time.Second

// DigestSender posts digests through a Notifier. It is safe for
// concurrent use, like the Notifier.
type DigestSender struct {
	Notifier *Notifier
	// MaxRetryWait bounds the time one message spends waiting on Slack's
	// Retry-After; a rate limit that asks for more fails the post at once.
	// Zero means DefaultDigestRetryWait.
	MaxRetryWait time.Duration
}

// SendDigest is DigestSender{Notifier: n}.SendDigest.
func (n *Notifier) SendDigest(ctx context.Context, channel string, r *digest.Report, htmlURL string) (ref string, err error) {
	return DigestSender{Notifier: n}.SendDigest(ctx, channel, r, htmlURL)
}

// SendDigest posts the weekly digest to channel ("" = the default
// channel): a header with the totals and their change, the breakdowns as
// fields, the top incidents, first-seen names, quiet signatories,
// unhealthy feeds and the saved sections, with a link to the HTML page
// when htmlURL is set. What does not fit one message (50 blocks) follows
// as replies in its thread in bot mode, and as further messages with an
// incoming webhook, which cannot thread. In file mode the digest is only
// logged. Every piece of feed text is escaped and truncated to Slack's
// limits. ref is "<channel>/<ts>" of the first message in bot mode, ""
// otherwise; failures are *SendError as for Send.
//
// Every message waits its turn on the channel's limiter, the one alerts
// to that channel wait on, and a message Slack turns away with a rate
// limit (429, Retry-After) is tried again after the wait Slack asked for,
// up to MaxRetryWait in all. Unlike Send, which leaves retries to the
// outbox, it retries in place: a digest has no outbox, and a rate-limited
// message was not posted, so trying it again cannot post it twice. No
// other failure is retried here, since Slack may have taken the message.
func (d DigestSender) SendDigest(ctx context.Context, channel string, r *digest.Report, htmlURL string) (ref string, err error) {
	n := d.Notifier
	maxWait := d.MaxRetryWait
	if maxWait <= 0 {
		maxWait = DefaultDigestRetryWait
	}
	msgs := renderDigest(r, htmlURL)
	switch n.mode {
	case ModeBot:
		if channel = strings.TrimSpace(channel); channel == "" {
			channel = n.channel
		}
		ts := ""
		respChannel := channel
		for i, m := range msgs {
			opts := []slack.MsgOption{
				slack.MsgOptionText(m.Text, false), // already escaped
				slack.MsgOptionBlocks(m.Blocks...),
				slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
			}
			if i > 0 {
				opts = append(opts, slack.MsgOptionTS(ts))
			}
			var c, t string
			err := n.retryRateLimited(ctx, channel, maxWait, r.Week, func() error {
				var err error
				if c, t, err = n.api.PostMessageContext(ctx, respChannel, opts...); err != nil {
					return n.classifyBot(ctx, err)
				}
				return nil
			})
			if err != nil {
				// Once the first message is out, a failed continuation is
				// logged, not returned: the caller would retry the whole
				// digest and post its first message twice.
				code := ""
				if se, ok := errors.AsType[*SendError](err); ok {
					code = se.Code
				}
				lvl := slog.LevelWarn
				if code == "canceled" {
					lvl = slog.LevelDebug // shutdown, not a failure
				}
				n.log.Log(ctx, lvl, "slack digest post failed", "channel", channel, "week", r.Week, "part", i+1, "code", code)
				if i > 0 {
					return ref, nil
				}
				return "", err
			}
			if i == 0 {
				ts = t
				if c != "" {
					respChannel = c
				}
				ref = respChannel + "/" + ts
			}
		}
		n.log.Info("slack digest posted", "channel", respChannel, "ts", ts, "week", r.Week, "messages", len(msgs))
		return ref, nil
	case ModeWebhook:
		for i, m := range msgs {
			err := n.retryRateLimited(ctx, webhookKey, maxWait, r.Week, func() error {
				return n.postWebhook(ctx, m.Text, m.Blocks)
			})
			if err != nil {
				if i > 0 {
					n.log.Warn("slack webhook digest continuation failed", "week", r.Week, "part", i+1, "err", err)
					return "", nil
				}
				return "", err
			}
		}
		n.log.Info("slack webhook digest posted", "week", r.Week, "messages", len(msgs))
		return "", nil
	default:
		n.log.Info("digest (no slack credentials)", "title", r.Title, "incidents", r.Total.N,
			"change", r.ChangeText(), "html", htmlURL)
		return "", nil
	}
}

// retryRateLimited waits on key's limiter and calls post, again after each
// rate-limit answer (a *SendError with RetryAfter) once its Retry-After has
// passed, as long as the waits add up to at most maxWait. It returns post's
// last error, or a *SendError "canceled" when ctx ends while waiting.
func (n *Notifier) retryRateLimited(ctx context.Context, key string, maxWait time.Duration, week string, post func() error) error {
	var waited time.Duration
	for {
		if err := n.wait(ctx, key); err != nil {
			return err
		}
		err := post()
		se, ok := errors.AsType[*SendError](err)
		if !ok || se.Permanent || se.RetryAfter <= 0 || waited+se.RetryAfter > maxWait {
			return err
		}
		n.log.Info("slack rate limited the digest; waiting as asked", "week", week, "retry_after", se.RetryAfter)
		t := time.NewTimer(se.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return &SendError{Code: "canceled", Err: fmt.Errorf("wait for Retry-After: %w", ctx.Err())}
		case <-t.C:
		}
		waited += se.RetryAfter
	}
}

// DigestPayload renders the digest's messages as Slack would receive them:
// a JSON array of {"text", "blocks"}, the first message then its thread
// replies. `accordwatch digest --format slack` prints it.
func DigestPayload(r *digest.Report, htmlURL string) ([]byte, error) {
	type msg struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}
	var out []msg
	for _, m := range renderDigest(r, htmlURL) {
		out = append(out, msg{Text: m.Text, Blocks: m.Blocks})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("notify: encode digest: %w", err)
	}
	return b, nil
}

// renderDigest builds the digest's blocks and cuts them into messages of
// at most maxBlocks blocks and digestMaxChars characters; continuation
// messages repeat a short context line so a thread reply stands alone.
func renderDigest(r *digest.Report, htmlURL string) []message {
	title := "Tech Accord weekly digest · " + r.Title
	fallback := fit(Escape(fmt.Sprintf("%s: %d incidents, %s", title, r.Total.N, r.ChangeText())), maxText)

	var blocks []slack.Block
	add := func(b ...slack.Block) { blocks = append(blocks, b...) }
	text := func(s string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(s, maxText), nil, nil) }

	add(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fit(Escape(title), maxHeader), true, false)))
	if r.Empty() {
		line := "No incidents matched this week. Quiet weeks happen — the feeds are still being watched."
		if r.Previous.N > 0 {
			line += "\nThe period before had " + countLink(r.Previous, fmt.Sprint(r.Previous.N)) + "."
		}
		add(text(line))
	} else {
		add(text("*" + countLink(r.Total, fmt.Sprintf("%d incidents", r.Total.N)) + "* this week, " +
			Escape(r.ChangeText()) + " (" + countLink(r.Previous, fmt.Sprint(r.Previous.N)) + ")."))
	}
	add(slack.NewContextBlock("", mrkdwn(Escape(r.Span()), maxText)))
	if u := slackURL(htmlURL); u != "" {
		add(text("<" + u + "|Open the full digest> — charts, and every count linked to its search."))
	}
	if !r.Empty() {
		var fields []*slack.TextBlockObject
		for _, f := range []struct {
			label string
			rows  []digest.Count
		}{
			{"By principle", r.ByPrinciple}, {"By attributed state", r.ByState}, {"By signatory", r.BySignatory},
			{"By actor", r.ByActor}, {"By attack type", r.ByAttack},
		} {
			if len(f.rows) > 0 && len(fields) < maxFields {
				fields = append(fields, mrkdwn("*"+f.label+"*\n"+countLines(f.rows, digestFieldLines), maxField))
			}
		}
		add(slack.NewSectionBlock(nil, fields, nil))
		add(slack.NewDividerBlock())
		add(text("*Top incidents by severity*"))
		for _, in := range r.TopIncidents {
			add(text(incidentText(in)))
		}
		add(slack.NewDividerBlock())
		var firsts []string
		for _, c := range r.NewActors {
			firsts = append(firsts, "• Actor "+countLink(c, Escape(c.Name))+fmt.Sprintf(" (%d)", c.N))
		}
		for _, c := range r.NewSignatories {
			firsts = append(firsts, "• Signatory "+countLink(c, Escape(c.Name))+fmt.Sprintf(" (%d)", c.N))
		}
		if len(firsts) > 0 {
			add(text("*Seen for the first time*\n" + strings.Join(firsts, "\n")))
		}
		if len(r.Quiet) > 0 {
			var lines []string
			for _, q := range r.Quiet {
				lines = append(lines, fmt.Sprintf("• %s: none this week, usually %.1f a week (%s in the 4 weeks before)",
					Escape(q.Name), q.PerWeek, countLink(q.Before, fmt.Sprint(q.Before.N))))
			}
			add(text("*Quiet signatories*\n" + strings.Join(lines, "\n")))
		}
	}
	if len(r.UnhealthyFeeds) > 0 {
		var lines []string
		for _, f := range r.UnhealthyFeeds {
			l := "• " + Escape(f.Name) + ": "
			if f.Recovered {
				l += "recovered; "
			}
			l += fmt.Sprintf("%d failed attempts", f.Failures)
			if f.Error != "" {
				l += ": " + fit(Escape(f.Error), 200)
			}
			lines = append(lines, l)
		}
		add(text("*Feeds unhealthy during the week*\n" + strings.Join(lines, "\n")))
	}
	if !r.Empty() {
		for _, s := range r.Sections {
			add(text(sectionDigestText(s)))
		}
	}
	return splitDigest(blocks, fallback, Escape(title))
}

// splitDigest cuts blocks into messages within Slack's limits.
func splitDigest(blocks []slack.Block, fallback, title string) []message {
	var msgs []message
	cur := message{Text: fallback}
	chars := 0
	for _, b := range blocks {
		size := blockChars(b)
		if len(cur.Blocks) > 0 && (len(cur.Blocks) == maxBlocks || chars+size > digestMaxChars) {
			msgs = append(msgs, cur)
			cont := fit(title+" (continued)", maxText)
			cur = message{Text: cont, Blocks: []slack.Block{slack.NewContextBlock("", mrkdwn(cont, maxText))}}
			chars = utf8.RuneCountInString(cont)
		}
		cur.Blocks = append(cur.Blocks, b)
		chars += size
	}
	return append(msgs, cur)
}

// blockChars is the text a block carries, for the message budget.
func blockChars(b slack.Block) int {
	n := 0
	count := func(t *slack.TextBlockObject) {
		if t != nil {
			n += utf8.RuneCountInString(t.Text)
		}
	}
	switch b := b.(type) {
	case *slack.SectionBlock:
		count(b.Text)
		for _, f := range b.Fields {
			count(f)
		}
	case *slack.HeaderBlock:
		count(b.Text)
	case *slack.ContextBlock:
		for _, e := range b.ContextElements.Elements {
			if t, ok := e.(*slack.TextBlockObject); ok {
				count(t)
			}
		}
	}
	return n
}

// countLink links already-escaped label to the count's search when the
// report has a web UI.
func countLink(c digest.Count, label string) string {
	if u := slackURL(c.Link); u != "" {
		return "<" + u + "|" + label + ">"
	}
	return label
}

// countLines lists up to max counts as "• Name: N" lines, the rest summed.
func countLines(rows []digest.Count, max int) string {
	var lines []string
	for i, c := range rows {
		if i == max {
			lines = append(lines, fmt.Sprintf("• and %d more", len(rows)-max))
			break
		}
		label := c.Label
		if label == "" {
			label = c.Name
		}
		lines = append(lines, "• "+fit(Escape(label), 80)+": "+countLink(c, fmt.Sprint(c.N)))
	}
	return strings.Join(lines, "\n")
}

// incidentText is one incident: severity, linked title, feed, date, why.
func incidentText(in digest.Incident) string {
	title := fit(Escape(in.Title), maxTitle)
	if u := slackURL(in.Link); u != "" {
		title = "<" + u + "|" + title + ">"
	}
	s := fmt.Sprintf("%s *%d* %s\n%s · %s", severityMarker(in.Severity), in.Severity, title,
		Escape(in.Feed), in.Published.UTC().Format(dateLayout))
	if len(in.Why) > 0 {
		s += "\n" + fit(Escape("Why: "+strings.Join(in.Why, "; ")), 600)
	}
	return s
}

// sectionDigestText is a saved search: its count and top hits.
func sectionDigestText(s digest.SectionResult) string {
	head := "*Saved search · " + fit(Escape(s.Name), 150) + "*"
	if s.Error != "" {
		return head + "\nThis saved search could not run: " + fit(Escape(s.Error), 500)
	}
	head += " — " + countLink(s.Count, fmt.Sprintf("%d incidents", s.Count.N)) + " for `" + fit(Escape(s.Count.Filter), 300) + "`"
	if len(s.Hits) == 0 {
		return head + "\nNothing this week."
	}
	lines := []string{head}
	for i, h := range s.Hits {
		if i == digestHitLines {
			break
		}
		title := fit(Escape(h.Title), 200)
		if u := slackURL(h.Link); u != "" {
			title = "<" + u + "|" + title + ">"
		}
		lines = append(lines, fmt.Sprintf("• *%d* %s · %s", h.Severity, title, Escape(h.Feed)))
	}
	return strings.Join(lines, "\n")
}
