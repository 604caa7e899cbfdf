package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/accordwatch/accordwatch"
)

// isWebhookCode reports whether a webhook response body is one of Slack's
// short error codes ("invalid_blocks", "no_service"); any other body (an
// HTML error page) is not echoed into errors.
func isWebhookCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// sendWebhook posts the alert to the incoming webhook. We POST ourselves
// rather than use slack.PostWebhook*: those discard the 400 body that says
// what was wrong (invalid_blocks, no_text), and the non-custom variants use
// http.DefaultClient, which has no timeout. A webhook cannot thread, so a
// follow-up goes out as its own message starting "Follow-up:".
func (n *Notifier) sendWebhook(ctx context.Context, kind string, a accordwatch.Alert, item accordwatch.Item) error {
	if err := n.wait(ctx, webhookKey); err != nil {
		return err
	}
	var msg message
	switch kind {
	case accordwatch.KindFollowup:
		msg = renderFollowup(a, item, true)
	case accordwatch.KindSummary:
		msg = renderSummary(a, n.channelFor(a))
	default:
		msg = render(a, item)
	}
	err := n.postWebhook(ctx, msg.Text, msg.Blocks)
	if err == nil {
		n.log.Debug("slack webhook alert posted", "kind", kind, "rule", a.Rule, "item_id", item.ID)
	}
	return err
}

// postWebhook posts escaped text and blocks to the incoming webhook.
func (n *Notifier) postWebhook(ctx context.Context, text string, blocks []slack.Block) error {
	off := false
	body, err := json.Marshal(&slack.WebhookMessage{
		Text:        text,
		Blocks:      &slack.Blocks{BlockSet: blocks},
		UnfurlLinks: &off,
		UnfurlMedia: &off,
	})
	if err != nil {
		return &SendError{Permanent: true, Code: "encode", Err: fmt.Errorf("encode webhook message: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.webhookURL.Reveal(), bytes.NewReader(body))
	if err != nil {
		// A malformed URL will not get better; the error may quote it.
		return &SendError{Permanent: true, Code: "bad_webhook_url", Err: n.sanitize(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.httpClient.Do(req)
	if err != nil {
		code := "transport"
		if ctx.Err() != nil {
			code = "canceled"
		}
		return &SendError{Code: code, Err: n.sanitize(err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}

	code := strings.TrimSpace(string(raw))
	if !isWebhookCode(code) {
		code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	se := &SendError{Code: code, Err: fmt.Errorf("slack webhook: %s", resp.Status)}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		se.Permanent = true
	case http.StatusBadRequest:
		se.Permanent = isPermanent(code)
	}
	n.log.Debug("slack webhook post failed", "status", resp.StatusCode, "code", code)
	return se
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), falling
// back to one second.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if secs, err := strconv.Atoi(h); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return defaultRetryAfter
}

const redactedURL = "<webhook>"

// sanitize keeps the token and the webhook URLs out of an error's text. The
// HTTP client's *url.Error quotes the full request URL, and for a webhook
// the URL is the credential.
func (n *Notifier) sanitize(err error) error {
	if err == nil {
		return nil
	}
	secrets := n.secrets()
	var ue *url.Error
	if errors.As(err, &ue) && containsAny(ue.URL, secrets) {
		// Rebuilt rather than wrapped, so unwrapping cannot reach the URL;
		// errors.Is(err, context.DeadlineExceeded) still works via ue.Err.
		err = &url.Error{Op: ue.Op, URL: redactedURL, Err: ue.Err}
	}
	msg := err.Error()
	if !containsAny(msg, secrets) {
		return err
	}
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "<secret>")
	}
	return errors.New(msg)
}

// secrets lists the strings that must never be printed, longest first so a
// whole URL is replaced before its path.
func (n *Notifier) secrets() []string {
	var out []string
	if n.webhookURL.IsSet() {
		out = append(out, n.webhookURL.Reveal())
		if u, err := url.Parse(n.webhookURL.Reveal()); err == nil && len(u.Path) > 1 {
			out = append(out, u.Path)
			if u.RawQuery != "" {
				out = append(out, u.RawQuery)
			}
		}
	}
	if n.jsonURL.IsSet() {
		out = append(out, n.jsonURL.Reveal())
		if u, err := url.Parse(n.jsonURL.Reveal()); err == nil {
			if len(u.Path) > 1 {
				out = append(out, u.Path)
			}
			if u.RawQuery != "" {
				out = append(out, u.RawQuery)
			}
		}
	}
	if n.token.IsSet() {
		out = append(out, n.token.Reveal())
	}
	if n.jsonSecret.IsSet() {
		out = append(out, n.jsonSecret.Reveal())
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
