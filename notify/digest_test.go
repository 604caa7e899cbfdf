package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
)

const digestHTML = "https://accord.example.org/api/digest?week=2026-W47&format=html"

// fixtureDigest is the digest package's fixture week, built there from a
// real index and pinned by its JSON golden file.
func fixtureDigest(t *testing.T) *digest.Report {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "digest", "testdata", "week.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var r digest.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// asAny turns messages into the generic JSON Slack receives.
func asAny(t *testing.T, msgs []message) []map[string]any {
	t.Helper()
	raw, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDigestBlocksGolden(t *testing.T) {
	r := fixtureDigest(t)
	msgs := renderDigest(r, digestHTML)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1 for the fixture week", len(msgs))
	}
	generic := asAny(t, msgs)
	for i, m := range generic {
		blocks, _ := m["Blocks"].([]any)
		checkMessage(t, m["Text"].(string), blocks, i == 0)
	}
	all := plainJSON(generic)
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;",
		"Tech Accord weekly digest · 2026-W47",
		"<https://accord.example.org/api/digest?week=2026-W47&amp;format=html|Open the full digest>",
		"*Saved search · Wipers* — ",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("blocks do not contain %q", want)
		}
	}
	if strings.Contains(all, "javascript:") {
		t.Errorf("blocks contain a javascript: link")
	}
	golden(t, filepath.Join("testdata", "digest.golden"), generic)
}

// plainJSON encodes v without HTML escaping, as the golden files are.
func plainJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}

func TestDigestEmptyWeek(t *testing.T) {
	r := &digest.Report{Week: "2026-W47", Title: "2026-W47", Location: "UTC"}
	msgs := renderDigest(r, "")
	if len(msgs) != 1 || len(msgs[0].Blocks) != 3 {
		t.Fatalf("got %d messages / %d blocks, want 1 message of header, line, context", len(msgs), len(msgs[0].Blocks))
	}
	raw, _ := json.Marshal(msgs)
	if !strings.Contains(string(raw), "No incidents matched this week") {
		t.Errorf("no friendly line: %s", raw)
	}
}

// bigDigest has more saved sections than one message can hold.
func bigDigest(t *testing.T) *digest.Report {
	r := fixtureDigest(t)
	sec := r.Sections[1]
	r.Sections = nil
	for i := range 60 {
		s := sec
		s.Name = fmt.Sprintf("Section %d <!here>", i+1)
		r.Sections = append(r.Sections, s)
	}
	return r
}

func TestDigestSplitsLongDigests(t *testing.T) {
	msgs := renderDigest(bigDigest(t), digestHTML)
	if len(msgs) < 2 {
		t.Fatalf("got %d messages, want the digest continued in a second one", len(msgs))
	}
	total := 0
	for i, m := range asAny(t, msgs) {
		blocks, _ := m["Blocks"].([]any)
		checkMessage(t, m["Text"].(string), blocks, i == 0)
		total += len(blocks)
	}
	// Every section made it, in order.
	raw := plainJSON(msgs)
	last := -1
	for i := range 60 {
		at := strings.Index(raw, fmt.Sprintf("Section %d &lt;!here&gt;*", i+1))
		if at < 0 || at < last {
			t.Errorf("section %d missing or out of order", i+1)
		}
		last = at
	}
}

func TestSendDigestBotThreadsContinuations(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	ref, err := n.SendDigest(context.Background(), "#digest", bigDigest(t), digestHTML)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "C1/"+okTS {
		t.Errorf("ref: got %q, want C1/%s", ref, okTS)
	}
	posts := fake.Posts()
	if len(posts) < 2 {
		t.Fatalf("got %d posts, want a first message and thread replies", len(posts))
	}
	if posts[0].Get("channel") != "#digest" || posts[0].Get("thread_ts") != "" {
		t.Errorf("first post: channel %q thread_ts %q, want #digest and none", posts[0].Get("channel"), posts[0].Get("thread_ts"))
	}
	for i, p := range posts[1:] {
		if p.Get("thread_ts") != okTS || p.Get("channel") != "C1" {
			t.Errorf("reply %d: channel %q thread_ts %q, want C1 and %s", i+1, p.Get("channel"), p.Get("thread_ts"), okTS)
		}
	}
}

func TestSendDigestBotDefaultChannelAndError(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	if _, err := n.SendDigest(context.Background(), "", fixtureDigest(t), ""); err != nil {
		t.Fatal(err)
	}
	if got := fake.Posts()[0].Get("channel"); got != "#alerts" {
		t.Errorf("channel: got %q, want the default #alerts", got)
	}
	bad := newBot(t, &fakeSlack{token: "other"}, nil)
	_, err := bad.SendDigest(context.Background(), "#digest", fixtureDigest(t), "")
	var se *SendError
	if !errors.As(err, &se) || se.Code != "invalid_auth" || !se.Permanent {
		t.Errorf("got %v, want a permanent invalid_auth SendError", err)
	}
}

func TestSendDigestWebhookPostsWithoutThreads(t *testing.T) {
	fake := &fakeHook{}
	n := newHook(t, fake, nil)
	ref, err := n.SendDigest(context.Background(), "#ignored", bigDigest(t), digestHTML)
	if err != nil || ref != "" {
		t.Fatalf("got %q, %v, want \"\", nil", ref, err)
	}
	bodies := fake.Bodies()
	if len(bodies) != len(renderDigest(bigDigest(t), digestHTML)) {
		t.Errorf("got %d webhook posts, want one per message", len(bodies))
	}
	for _, b := range bodies {
		if strings.Contains(string(b), "thread_ts") {
			t.Errorf("webhook body has a thread: %s", b)
		}
	}
}

func TestSendDigestFileModeLogs(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ref, err := n.SendDigest(context.Background(), "", fixtureDigest(t), ""); err != nil || ref != "" {
		t.Errorf("got %q, %v, want \"\", nil", ref, err)
	}
}

func TestDigestPayload(t *testing.T) {
	raw, err := DigestPayload(fixtureDigest(t), digestHTML)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0].Blocks) == 0 || !strings.HasPrefix(msgs[0].Text, "Tech Accord weekly digest · 2026-W47: 8 incidents") {
		t.Errorf("payload: got %s", raw)
	}
}

// limitedOnce answers the first request 429 with Retry-After and every
// later one with ok, recording when each came.
type limitedOnce struct {
	retryAfter string
	ok         func(w http.ResponseWriter)
	start      time.Time

	mu     sync.Mutex
	at     []time.Duration
	status []int // of each answer
}

func (l *limitedOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = append(l.at, time.Since(l.start))
	if len(l.at) == 1 {
		w.Header().Set("Retry-After", l.retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		l.status = append(l.status, http.StatusTooManyRequests)
		return
	}
	l.status = append(l.status, http.StatusOK)
	l.ok(w)
}

func (l *limitedOnce) calls() ([]time.Duration, []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at), slices.Clone(l.status)
}

// TestSendDigestWaitsOutRetryAfter: a digest that Slack rate-limits once
// with Retry-After: 1 goes out once, a second later, in bot and webhook
// mode alike (it gave up at once before). synctest's clock makes the
// second exact and free.
func TestSendDigestWaitsOutRetryAfter(t *testing.T) {
	for _, mode := range []string{ModeBot, ModeWebhook} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &limitedOnce{retryAfter: "1", start: time.Now(), ok: func(w http.ResponseWriter) {
					if mode == ModeBot {
						w.Header().Set("Content-Type", "application/json")
						fmt.Fprintf(w, `{"ok":true,"channel":"C1","ts":%q}`, okTS)
						return
					}
					io.WriteString(w, "ok")
				}}
				opts := Options{HTTPClient: &http.Client{Transport: handlerTransport{fake}}}
				if mode == ModeBot {
					opts.BotToken, opts.Channel, opts.APIURL = testToken, "#digest", "http://slack.invalid/api/"
				} else {
					opts.WebhookURL = "http://hooks.slack.invalid/services/T0/B0/x"
				}
				n, err := New(opts)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := n.SendDigest(t.Context(), "", fixtureDigest(t), "")
				if err != nil {
					t.Fatalf("SendDigest: %v", err)
				}
				if mode == ModeBot && ref != "C1/"+okTS {
					t.Errorf("ref: got %q, want C1/%s", ref, okTS)
				}
				at, status := fake.calls()
				if !slices.Equal(status, []int{429, 200}) {
					t.Fatalf("answers: got %v, want one 429 then one 200 (the digest posted once)", status)
				}
				if at[1]-at[0] != time.Second {
					t.Errorf("retried after %s, want the 1s Slack asked for", at[1]-at[0])
				}
			})
		})
	}
}

// TestSendDigestRetryWaitIsBounded: a Retry-After longer than
// MaxRetryWait fails the post at once, with the rate-limit error, rather
// than hold the caller.
func TestSendDigestRetryWaitIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &limitedOnce{retryAfter: "120", start: time.Now(), ok: func(w http.ResponseWriter) { io.WriteString(w, "ok") }}
		n, err := New(Options{WebhookURL: "http://hooks.slack.invalid/services/T0/B0/x", HTTPClient: &http.Client{Transport: handlerTransport{fake}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = DigestSender{Notifier: n, MaxRetryWait: time.Minute}.SendDigest(t.Context(), "", fixtureDigest(t), "")
		var se *SendError
		if !errors.As(err, &se) || se.RetryAfter != 2*time.Minute {
			t.Fatalf("got %v, want the 429 as a SendError with RetryAfter 2m", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("waited %s before giving up, want 0", waited)
		}
		if _, status := fake.calls(); len(status) != 1 {
			t.Errorf("got %d requests, want 1", len(status))
		}
	})
}

// TestDigestAndAlertsShareTheChannelLimiter: a digest posted right after
// an alert to the same channel waits the channel's interval, because it
// waits on the alerts' limiter, not one of its own.
func TestDigestAndAlertsShareTheChannelLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, form url.Values) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			fmt.Fprintf(w, `{"ok":true,"channel":"C1","ts":%q}`, okTS)
		}}
		n, err := New(Options{
			BotToken: testToken, Channel: "C1", APIURL: "http://slack.invalid/api/",
			HTTPClient: &http.Client{Transport: handlerTransport{fake}}, PerChannelInterval: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r", Channel: "C1"}, normalItem()); err != nil {
			t.Fatal(err)
		}
		if _, err := n.SendDigest(t.Context(), "C1", fixtureDigest(t), ""); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{0, time.Second}; !slices.Equal(at, want) {
			t.Errorf("posts at %v, want %v", at, want)
		}
	})
}
