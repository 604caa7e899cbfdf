package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Headers of a JSON webhook delivery.
const (
	// SignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret,
	// timestamp + "." + body)).
	SignatureHeader = "X-Accordwatch-Signature"
	// TimestampHeader carries the Unix time the delivery was signed.
	TimestampHeader = "X-Accordwatch-Timestamp"
	signaturePrefix = "sha256="
	// DefaultMaxSkew is how far a delivery's timestamp may be from the
	// receiver's clock when VerifySignature is given no maxSkew.
	DefaultMaxSkew = 5 * time.Minute
)

// Errors from VerifySignature.
var (
	ErrBadSignature   = errors.New("notify: bad webhook signature")
	ErrStaleTimestamp = errors.New("notify: webhook timestamp outside the allowed skew")
)

// jsonPayload is the body of a JSON webhook delivery. Text in alert and item
// is raw feed text, not Slack-escaped: receivers escape for their medium.
type jsonPayload struct {
	// Kind is "incident", "followup", "summary" or "ops".
	Kind  string             `json:"kind"`
	Alert *accordwatch.Alert `json:"alert,omitempty"`
	// Item is absent for summaries and ops messages.
	Item *accordwatch.Item `json:"item,omitempty"`
	// Text is the operational message (kind "ops").
	Text   string    `json:"text,omitempty"`
	SentAt time.Time `json:"sent_at"`
}

// sendJSON delivers an alert to the JSON webhook.
func (n *Notifier) sendJSON(ctx context.Context, kind string, a accordwatch.Alert, item accordwatch.Item) error {
	a.Kind = kind
	p := jsonPayload{Kind: kind, Alert: &a}
	if kind != accordwatch.KindSummary {
		// The fetched article is the publisher's: receivers get its tags,
		// the evidence (short matches) and the link, not its text.
		item.Article = ""
		p.Item = &item
	}
	err := n.postJSON(ctx, p)
	if err == nil {
		n.log.Debug("json webhook alert delivered", "kind", kind, "rule", a.Rule, "item_id", item.ID)
	}
	return err
}

// postJSON signs and POSTs one payload. Failures are *SendError with Sink
// "json": 429 and 5xx are transient (429 with Retry-After), other 4xx are
// permanent (the receiver rejects the delivery or is gone).
func (n *Notifier) postJSON(ctx context.Context, p jsonPayload) error {
	now := n.now()
	p.SentAt = now.UTC()
	body, err := json.Marshal(p)
	if err != nil {
		return &SendError{Permanent: true, Sink: "json", Code: "encode", Err: fmt.Errorf("encode json webhook payload: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.jsonURL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return &SendError{Permanent: true, Sink: "json", Code: "bad_webhook_url", Err: n.sanitize(err)}
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "accordwatch")
	req.Header.Set(TimestampHeader, ts)
	if n.jsonSecret.IsSet() {
		req.Header.Set(SignatureHeader, Sign(n.jsonSecret.Reveal(), ts, body))
	}
	resp, err := n.httpClient.Do(req)
	if err != nil {
		code := "transport"
		if ctx.Err() != nil {
			code = "canceled"
		}
		return &SendError{Sink: "json", Code: code, Err: n.sanitize(err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	// The body is the receiver's and may be anything: it is not quoted.
	se := &SendError{Sink: "json", Code: "http_" + strconv.Itoa(resp.StatusCode), Err: fmt.Errorf("json webhook: %s", resp.Status)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		// transient
	case resp.StatusCode >= 400:
		se.Permanent = true
	}
	n.log.Debug("json webhook delivery failed", "status", resp.StatusCode)
	return se
}

// Sign returns the X-Accordwatch-Signature value for body sent at
// timestamp (Unix seconds, as in X-Accordwatch-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks a JSON webhook delivery as a receiver should: the
// timestamp must be within maxSkew of now (DefaultMaxSkew when maxSkew ≤ 0),
// which bounds replays, and sig must be the HMAC-SHA256 of
// timestamp + "." + body under secret, compared in constant time. It
// returns nil, ErrStaleTimestamp or an error wrapping ErrBadSignature.
func VerifySignature(secret, timestamp string, body []byte, sig string, now time.Time, maxSkew time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret configured", ErrBadSignature)
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > maxSkew || d < -maxSkew {
		return ErrStaleTimestamp
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: want %s<hex>", ErrBadSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256", ErrBadSignature)
	}
	if !hmac.Equal(got, mac(secret, strings.TrimSpace(timestamp), body)) {
		return ErrBadSignature
	}
	return nil
}
