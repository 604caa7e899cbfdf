package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

func TestNotifyOpsBotGoesToTheOpsChannelEscaped(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, func(o *Options) { o.OpsChannel = "#accord-ops" })
	err := n.NotifyOps(context.Background(), "Feed <!channel> Evil & Co (https://evil.example/feed) has failed since 2026-11-25 09:00 UTC: HTTP 500")
	if err != nil {
		t.Fatal(err)
	}
	posts := fake.Posts()
	if len(posts) != 1 {
		t.Fatalf("got %d posts, want 1", len(posts))
	}
	p := posts[0]
	if p.Get("channel") != "#accord-ops" {
		t.Errorf("posted to %q, want #accord-ops", p.Get("channel"))
	}
	for _, field := range []string{"text", "blocks"} {
		// JSON encodes & as \u0026 inside blocks.
		got := strings.ReplaceAll(p.Get(field), `\u0026`, "&")
		if strings.Contains(got, "<!channel>") || !strings.Contains(got, "&lt;!channel&gt; Evil &amp; Co") {
			t.Errorf("%s not escaped: %s", field, got)
		}
	}
	if !strings.Contains(p.Get("blocks"), `"verbatim":true`) {
		t.Errorf("ops text must be verbatim mrkdwn: %s", p.Get("blocks"))
	}
	blocks := blocksOf(t, p)
	checkMessage(t, p.Get("text"), blocks, false)
	golden(t, filepath.Join("testdata", "ops.golden"), map[string]any{
		"channel": p.Get("channel"), "text": p.Get("text"), "blocks": blocks,
	})
}

func TestNotifyOpsDefaultsToAlertChannelAndReportsErrors(t *testing.T) {
	fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, _ url.Values) {
		w.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
	}}
	n := newBot(t, fake, nil)
	err := n.NotifyOps(context.Background(), "x")
	var se *SendError
	if !errors.As(err, &se) || !se.Permanent {
		t.Fatalf("got %v, want a permanent SendError", err)
	}
	if got := fake.Posts()[0].Get("channel"); got != "#alerts" {
		t.Errorf("posted to %q, want the alert channel #alerts", got)
	}
}

func TestNotifyOpsWebhook(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		k, _ := r.Body.Read(b)
		body = string(b[:k])
	}))
	defer srv.Close()
	n, err := New(Options{WebhookURL: accordwatch.Secret(srv.URL), HTTPClient: srv.Client(), PerChannelInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.NotifyOps(context.Background(), "feed <x> recovered"); err != nil {
		t.Fatal(err)
	}
	var msg struct{ Text string }
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Text != "feed &lt;x&gt; recovered" {
		t.Errorf("webhook body %s", body)
	}
}
