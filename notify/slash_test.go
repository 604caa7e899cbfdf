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
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/slack-go/slack/socketmode"

	"github.com/accordwatch/accordwatch"
)

const signingSecret = "slack-SIGNING-secret-0042"

// fakeSearcher records requests and answers with fn.
type fakeSearcher struct {
	fn func(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error)

	mu   sync.Mutex
	reqs []accordwatch.SearchRequest
}

func (f *fakeSearcher) Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	return f.fn(ctx, req)
}

func (f *fakeSearcher) Requests() []accordwatch.SearchRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]accordwatch.SearchRequest(nil), f.reqs...)
}

// badQuery is how the index adapter is expected to mark a syntax error.
type badQuery struct{ msg string }

func (e badQuery) Error() string  { return e.msg }
func (e badQuery) BadQuery() bool { return true }

// resultsSearcher answers with two hits, one hostile; "((" is a syntax
// error reported at its column in the query as received.
func resultsSearcher() *fakeSearcher {
	return &fakeSearcher{fn: func(_ context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
		if i := strings.Index(req.Query, "(("); i >= 0 && !strings.HasPrefix(req.Query, "((") {
			return accordwatch.SearchResult{}, badQuery{fmt.Sprintf("column %d: unexpected \"(\" <!here>", i+1)}
		}
		if i := strings.Index(req.Query, "(("); i >= 0 {
			return accordwatch.SearchResult{}, fmt.Errorf("%w: column %d: unexpected \"(\"", ErrBadQuery, i+1)
		}
		if strings.Contains(req.Query, "boom") {
			return accordwatch.SearchResult{}, errors.New("index: read /var/lib/accordwatch/index: I/O error")
		}
		return accordwatch.SearchResult{Query: req.Query, Total: 42, Hits: []accordwatch.SearchHit{
			{
				ID: "h1", Title: "Microsoft: APT28 exploited Exchange", Link: "https://news.example.com/a?x=1&y=2",
				Feed: "Example Security News", Published: time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC), Severity: 87,
				Signatories: []string{"Microsoft"}, States: []string{"Russia"}, Actors: []string{"APT28"}, AttackTypes: []string{"espionage"},
			},
			{
				ID: "h2", Title: hostileTitle, Link: "javascript:alert(1)", Feed: "<!everyone> feed",
				Published: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Severity: 12,
				Signatories: []string{"<@U1> & Co"},
			},
		}}, nil
	}}
}

// signedRequest builds a slash-command POST signed as Slack signs it:
// v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func signedRequest(t *testing.T, secret, text string, ts time.Time) *http.Request {
	t.Helper()
	form := url.Values{
		"command": {"/accord"}, "text": {text}, "user_id": {"U1"}, "channel_id": {"C1"},
		"response_url": {"https://hooks.slack.com/commands/T/1/x"}, "team_id": {"T1"},
	}
	body := form.Encode()
	sts := strconv.FormatInt(ts.Unix(), 10)
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "v0:%s:%s", sts, body)
	r := httptest.NewRequest(http.MethodPost, "/slack/command", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", sts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(h.Sum(nil)))
	return r
}

// decodeReply parses an ephemeral reply and checks its blocks.
func decodeReply(t *testing.T, raw []byte) (text string, blocks []any) {
	t.Helper()
	var reply struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
		Blocks       []any  `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, raw)
	}
	if reply.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral", reply.ResponseType)
	}
	checkMessage(t, reply.Text, reply.Blocks, false)
	return reply.Text, reply.Blocks
}

func TestSlashHandler(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantQuery  []string // queries the searcher saw
		wantText   string   // substring of the reply text
	}{
		{"results, default window", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "  state:russia   OR ransomware ", now)
		}, 200, []string{"(state:russia OR ransomware) since:90d"}, "Top 2 of 42 results for `state:russia OR ransomware` in the last 90 days:"},
		{"query with its own date is left alone", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "ransomware since:7d", now)
		}, 200, []string{"ransomware since:7d"}, "Top 2 of 42 results for `ransomware since:7d`:"},
		{"published: counts as a date", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "(x) -PUBLISHED:2026-01-01", now)
		}, 200, []string{"(x) -PUBLISHED:2026-01-01"}, "Top 2"},
		{"bad query shows the parse error at the user's column", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "a ((", now)
		}, 200, []string{"(a (() since:90d", "a (("}, "Couldn't run `a ((`: column 3: unexpected \"(\" &lt;!here&gt;"},
		{"bad query without the window", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "((x since:1d", now)
		}, 200, []string{"((x since:1d"}, "Couldn't run `((x since:1d`: bad query: column 1"},
		{"search failure is not shown", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "boom", now)
		}, 200, []string{"(boom) since:90d"}, "The search failed; the error is in the accordwatch log."},
		{"empty text is usage", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "   ", now)
		}, 200, nil, "Usage: `/accord QUERY`"},
		{"wrong secret", func(t *testing.T) *http.Request {
			return signedRequest(t, "not-the-secret", "x", now)
		}, 401, nil, ""},
		{"tampered body", func(t *testing.T) *http.Request {
			// Signed for text=x, delivered with text=y.
			r := signedRequest(t, signingSecret, "x", now)
			r.Body = io.NopCloser(strings.NewReader(url.Values{"command": {"/accord"}, "text": {"y"}}.Encode()))
			return r
		}, 401, nil, ""},
		{"missing signature", func(t *testing.T) *http.Request {
			r := signedRequest(t, signingSecret, "x", now)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401, nil, ""},
		{"stale timestamp, correctly signed", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, "x", now.Add(-10*time.Minute))
		}, 401, nil, ""},
		{"GET", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/slack/command", nil)
		}, 405, nil, ""},
		{"oversized body", func(t *testing.T) *http.Request {
			return signedRequest(t, signingSecret, strings.Repeat("x", maxSlashBody), now)
		}, 413, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resultsSearcher()
			var logs bytes.Buffer
			h := SlashHandler(signingSecret, s, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req(t))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var got []string
			for _, r := range s.Requests() {
				got = append(got, r.Query)
				if r.Size != 5 && r.Size != 1 {
					t.Errorf("search size = %d, want 5 (or 1 for the error re-check)", r.Size)
				}
			}
			if !equalStrings(got, tt.wantQuery) {
				t.Errorf("searcher saw %q, want %q", got, tt.wantQuery)
			}
			if strings.Contains(logs.String(), signingSecret) {
				t.Errorf("log leaks the signing secret:\n%s", logs.String())
			}
			if tt.wantStatus != 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type = %q, want application/json", ct)
			}
			text, blocks := decodeReply(t, rec.Body.Bytes())
			if !strings.Contains(text, tt.wantText) {
				t.Errorf("reply text = %q, want it to contain %q", text, tt.wantText)
			}
			if tt.name == "search failure is not shown" && (strings.Contains(rec.Body.String(), "/var/lib") || !strings.Contains(logs.String(), "I/O error")) {
				t.Errorf("internal error must be logged, not shown: reply %s", rec.Body)
			}
			if tt.name == "results, default window" {
				objs := textObjects(blocks, "")
				if len(objs) != 3 {
					t.Fatalf("got %d text objects, want lead + 2 hits", len(objs))
				}
				want := "<https://news.example.com/a?x=1&amp;y=2|Microsoft: APT28 exploited Exchange>\n2026-03-02 · 🔴 87 · Microsoft, Russia, APT28, espionage · Example Security News"
				if objs[1].text != want {
					t.Errorf("first hit = %q, want %q", objs[1].text, want)
				}
				if strings.Contains(objs[2].text, "javascript:") || !strings.HasPrefix(objs[2].text, Escape(hostileTitle)) {
					t.Errorf("hostile hit = %q, want the escaped title, unlinked", objs[2].text)
				}
				var v any
				_ = json.Unmarshal(rec.Body.Bytes(), &v)
				golden(t, filepath.Join("testdata", "slash.golden"), v)
			}
		})
	}
}

// TestSlashTimeout runs on synctest's fake clock: a search that never
// returns is cut off at 2.5 s and the user is told to narrow the query.
func TestSlashTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSearcher{fn: func(ctx context.Context, _ accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
			<-ctx.Done()
			return accordwatch.SearchResult{}, fmt.Errorf("search: %w", ctx.Err())
		}}
		start := time.Now()
		rec := httptest.NewRecorder()
		SlashHandler(signingSecret, s, nil).ServeHTTP(rec, signedRequest(t, signingSecret, "slow", time.Now()))
		if took := time.Since(start); took != slashTimeout {
			t.Errorf("answered after %v (fake clock), want exactly %v", took, slashTimeout)
		}
		text, _ := decodeReply(t, rec.Body.Bytes())
		if !strings.Contains(text, "took too long") {
			t.Errorf("reply = %q, want the timeout message", text)
		}
	})
}

func TestSlashNoSecretRejectsAll(t *testing.T) {
	s := resultsSearcher()
	rec := httptest.NewRecorder()
	SlashHandler("", s, nil).ServeHTTP(rec, signedRequest(t, "", "x", time.Now()))
	if rec.Code != http.StatusUnauthorized || len(s.Requests()) != 0 {
		t.Errorf("status %d, %d searches; want 401 and none", rec.Code, len(s.Requests()))
	}
}

// TestSlashReplySize: even huge hits stay under Socket Mode's 20 KB ack.
func TestSlashReplySize(t *testing.T) {
	var hits []accordwatch.SearchHit
	for i := range 5 {
		hits = append(hits, accordwatch.SearchHit{
			Title: strings.Repeat("<&>", 2000), Link: "https://x.example/" + strings.Repeat("%3C", 480) + strconv.Itoa(i),
			Feed: strings.Repeat("&", 500), Signatories: []string{strings.Repeat("<", 3000)}, Severity: 99,
		})
	}
	reply := slashResults("q", true, accordwatch.SearchResult{Total: 5, Hits: hits})
	b, err := json.Marshal(reply)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= maxAckBytes {
		t.Errorf("reply is %d bytes, want < %d", len(b), maxAckBytes)
	}
	if len(reply.Blocks) < 2 {
		t.Errorf("reply has %d blocks, want the lead and at least one hit", len(reply.Blocks))
	}
	_, _ = decodeReply(t, b)
}

// fakeAcker records Socket Mode acks.
type fakeAcker struct {
	reqs     []socketmode.Request
	payloads [][]any
}

func (f *fakeAcker) Ack(req socketmode.Request, payload ...any) error {
	f.reqs = append(f.reqs, req)
	f.payloads = append(f.payloads, payload)
	return nil
}

// TestHandleSlashEvent calls the envelope handler directly with
// constructed events.
func TestHandleSlashEvent(t *testing.T) {
	tests := []struct {
		name        string
		evt         socketmode.Event
		wantAcks    int
		wantPayload bool
	}{
		{"slash command", socketmode.Event{Type: socketmode.EventTypeSlashCommand,
			Data: slack.SlashCommand{Command: "/accord", Text: "state:russia"}, Request: &socketmode.Request{EnvelopeID: "e1"}}, 1, true},
		{"wrong data is acked empty", socketmode.Event{Type: socketmode.EventTypeSlashCommand,
			Data: "garbage", Request: &socketmode.Request{EnvelopeID: "e2"}}, 1, false},
		{"no request: nothing to ack", socketmode.Event{Type: socketmode.EventTypeSlashCommand,
			Data: slack.SlashCommand{Text: "x"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := resultsSearcher()
			a := &fakeAcker{}
			handleSlashEvent(t.Context(), &tt.evt, a, s, slog.New(slog.DiscardHandler))
			if len(a.reqs) != tt.wantAcks {
				t.Fatalf("got %d acks, want %d", len(a.reqs), tt.wantAcks)
			}
			if tt.wantAcks == 0 {
				return
			}
			if a.reqs[0].EnvelopeID != tt.evt.Request.EnvelopeID {
				t.Errorf("acked %q, want %q", a.reqs[0].EnvelopeID, tt.evt.Request.EnvelopeID)
			}
			if got := len(a.payloads[0]) == 1; got != tt.wantPayload {
				t.Fatalf("ack has payload = %v, want %v", got, tt.wantPayload)
			}
			if !tt.wantPayload {
				return
			}
			reply, ok := a.payloads[0][0].(slashReply)
			if !ok {
				t.Fatalf("payload is %T, want slashReply", a.payloads[0][0])
			}
			// The same builder as the HTTP endpoint.
			want, _ := json.Marshal(answerSlash(t.Context(), resultsSearcher(), "state:russia", slog.New(slog.DiscardHandler)))
			got, _ := json.Marshal(reply)
			if string(got) != string(want) {
				t.Errorf("ack payload differs from the HTTP reply:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRunSocketMode drives a real slash_commands envelope through
// socketmode: slacktest serves apps.connections.open, and its /ws route is
// replaced by one that sends hello and the envelope and reads the ack.
// (slacktest's own /ws speaks RTM and would swallow the ack.)
func TestRunSocketMode(t *testing.T) {
	const envelope = `{"type":"slash_commands","envelope_id":"env-1","accepts_response_payload":true,` +
		`"payload":{"command":"/accord","text":"state:russia","user_id":"U1","channel_id":"C1","response_url":"https://hooks.slack.com/commands/T/1/x"}}`
	acks := make(chan []byte, 1)
	done := make(chan struct{})
	var closeDone sync.Once
	t.Cleanup(func() { closeDone.Do(func() { close(done) }) })

	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/ws", slacktest.Websocket(func(conn *websocket.Conn) {
			for _, m := range []string{`{"type":"hello","num_connections":1}`, envelope} {
				if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					t.Errorf("write %s: %v", m, err)
					return
				}
			}
			if _, msg, err := conn.ReadMessage(); err == nil {
				acks <- msg
			}
			<-done
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}))
	})
	srv.Start()
	t.Cleanup(srv.Stop)

	s := resultsSearcher()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- RunSocketMode(ctx, "xapp-1-test", "xoxb-test", srv.GetAPIURL(), s, slog.New(slog.DiscardHandler))
	}()

	var raw []byte
	select {
	case raw = <-acks:
	case err := <-errc:
		t.Fatalf("RunSocketMode returned before acking: %v", err)
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no ack within 30s")
	}
	var ack struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &ack); err != nil {
		t.Fatalf("ack is not JSON: %v\n%s", err, raw)
	}
	if ack.EnvelopeID != "env-1" {
		t.Errorf("ack envelope_id = %q, want env-1", ack.EnvelopeID)
	}
	if len(raw) >= 20<<10 {
		t.Errorf("ack is %d bytes, want < 20 KB", len(raw))
	}
	text, _ := decodeReply(t, ack.Payload)
	if want := "Top 2 of 42 results for `state:russia` in the last 90 days:"; text != want {
		t.Errorf("ack text = %q, want %q", text, want)
	}
	if got := s.Requests(); len(got) != 1 || got[0].Query != "(state:russia) since:90d" {
		t.Errorf("searcher saw %+v, want one windowed query", got)
	}

	closeDone.Do(func() { close(done) })
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("RunSocketMode = %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunSocketMode did not return after cancel")
	}
}

func TestRunSocketModeNeedsAppToken(t *testing.T) {
	if err := RunSocketMode(t.Context(), "", "xoxb", "", resultsSearcher(), nil); err == nil {
		t.Error("RunSocketMode without an app token succeeded, want an error")
	}
}
