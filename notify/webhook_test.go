package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// fakeHook is an incoming-webhook endpoint that records JSON bodies.
type fakeHook struct {
	status     int
	body       string
	retryAfter string

	mu     sync.Mutex
	bodies [][]byte
}

func (f *fakeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/hooksecret" {
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	status := f.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	body := f.body
	if body == "" && status == http.StatusOK {
		body = "ok"
	}
	io.WriteString(w, body)
}

func (f *fakeHook) Bodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}

func newHook(t *testing.T, fake *fakeHook, logger *slog.Logger) *Notifier {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	n, err := New(Options{
		WebhookURL:         accordwatch.Secret(srv.URL + "/services/T0/B0/hooksecret"),
		HTTPClient:         srv.Client(),
		Logger:             logger,
		PerChannelInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestSendWebhook(t *testing.T) {
	var logs bytes.Buffer
	fake := &fakeHook{}
	n := newHook(t, fake, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := n.Mode(); got != ModeWebhook {
		t.Errorf("Mode() = %q, want %q", got, ModeWebhook)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "threads and updates need SLACK_BOT_TOKEN") {
		t.Errorf("construction log = %q, want a warning that threads need a bot token", logs.String())
	}

	ref, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r", Channel: "C-ignored"}, hostileItem())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if ref != "" {
		t.Errorf("ref = %q, want empty in webhook mode", ref)
	}
	bodies := fake.Bodies()
	if len(bodies) != 1 {
		t.Fatalf("got %d posts, want 1", len(bodies))
	}
	var msg struct {
		Text        string `json:"text"`
		Blocks      []any  `json:"blocks"`
		UnfurlLinks *bool  `json:"unfurl_links"`
		UnfurlMedia *bool  `json:"unfurl_media"`
		Channel     string `json:"channel"`
		LinkNames   any    `json:"link_names"`
	}
	if err := json.Unmarshal(bodies[0], &msg); err != nil {
		t.Fatalf("webhook body is not JSON: %v\n%s", err, bodies[0])
	}
	if msg.UnfurlLinks == nil || *msg.UnfurlLinks || msg.UnfurlMedia == nil || *msg.UnfurlMedia {
		t.Errorf("unfurl_links=%v unfurl_media=%v, want both false", msg.UnfurlLinks, msg.UnfurlMedia)
	}
	if msg.Channel != "" || msg.LinkNames != nil {
		t.Errorf("channel=%q link_names=%v, want both unset", msg.Channel, msg.LinkNames)
	}
	checkBlocks(t, msg.Text, msg.Blocks)

	// The webhook carries the same blocks as chat.postMessage would.
	want, _ := json.Marshal(render(accordwatch.Alert{Rule: "r"}, hostileItem()).Blocks)
	got, _ := json.Marshal(msg.Blocks)
	var wantAny any
	_ = json.Unmarshal(want, &wantAny)
	wantNorm, _ := json.Marshal(wantAny)
	if string(got) != string(wantNorm) {
		t.Errorf("webhook blocks differ from rendered blocks:\ngot  %s\nwant %s", got, wantNorm)
	}
}

func TestSendWebhookErrors(t *testing.T) {
	tests := []struct {
		name           string
		fake           *fakeHook
		wantCode       string
		wantPermanent  bool
		wantRetryAfter time.Duration
	}{
		{"429 Retry-After", &fakeHook{status: 429, body: "rate_limited", retryAfter: "3"}, "rate_limited", false, 3 * time.Second},
		{"429 no header", &fakeHook{status: 429}, "http_429", false, time.Second},
		{"403", &fakeHook{status: 403, body: "action_prohibited"}, "action_prohibited", true, 0},
		{"404", &fakeHook{status: 404, body: "no_service"}, "no_service", true, 0},
		{"410", &fakeHook{status: 410, body: "channel_is_archived"}, "channel_is_archived", true, 0},
		{"400 invalid_blocks", &fakeHook{status: 400, body: "invalid_blocks"}, "invalid_blocks", true, 0},
		{"400 unknown body", &fakeHook{status: 400, body: "<html>oops</html>"}, "http_400", false, 0},
		{"500", &fakeHook{status: 500, body: "<html>down</html>"}, "http_500", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newHook(t, tt.fake, nil)
			_, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r"}, normalItem())
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want *SendError", err)
			}
			if se.Code != tt.wantCode || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got {Code:%q Permanent:%v RetryAfter:%v}, want {Code:%q Permanent:%v RetryAfter:%v}",
					se.Code, se.Permanent, se.RetryAfter, tt.wantCode, tt.wantPermanent, tt.wantRetryAfter)
			}
			if got := len(tt.fake.Bodies()); got != 1 {
				t.Errorf("endpoint saw %d posts, want exactly 1", got)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"", time.Second},
		{"0", time.Second},
		{"-5", time.Second},
		{"soon", time.Second},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := retryAfter(tt.in, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
