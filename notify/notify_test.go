package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const (
	testToken = "xoxb-test-SECRET-token-0123456789"
	okTS      = "1700000000.000100"
)

// fakeSlack is a minimal Slack Web API: chat.postMessage and chat.update,
// form-encoded with the token in the body, as slack-go sends them. It
// records every call. slacktest is not used because it does not record
// HTTP posts.
type fakeSlack struct {
	token string
	// respond, when set, answers chat.postMessage instead of the default
	// {"ok":true,...}; respondUpdate does the same for chat.update.
	respond       func(w http.ResponseWriter, form url.Values)
	respondUpdate func(w http.ResponseWriter, form url.Values)

	mu    sync.Mutex
	calls []slackCall
}

// slackCall is one recorded Web API request.
type slackCall struct {
	Method string // "chat.postMessage" or "chat.update"
	Form   url.Values
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if r.Method != http.MethodPost || !ok || (method != "chat.postMessage" && method != "chat.update") {
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "unexpected content type "+ct, http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, slackCall{Method: method, Form: r.PostForm})
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if r.PostForm.Get("token") != f.token {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	respond := f.respond
	if method == "chat.update" {
		respond = f.respondUpdate
	}
	if respond != nil {
		respond(w, r.PostForm)
		return
	}
	if method == "chat.update" {
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":"x"}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
		return
	}
	fmt.Fprintf(w, `{"ok":true,"channel":"C1","ts":%q}`, okTS)
}

// Posts returns the form of every recorded call, in order.
func (f *fakeSlack) Posts() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]url.Values, 0, len(f.calls))
	for _, c := range f.calls {
		out = append(out, c.Form)
	}
	return out
}

// Calls returns every recorded call, in order.
func (f *fakeSlack) Calls() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackCall(nil), f.calls...)
}

// newBot starts a fake Slack and a bot-mode Notifier talking to it.
func newBot(t *testing.T, fake *fakeSlack, mutate func(*Options)) *Notifier {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	opts := Options{
		BotToken:           testToken,
		Channel:            "#alerts",
		APIURL:             srv.URL + "/api", // no trailing slash on purpose
		HTTPClient:         srv.Client(),
		PerChannelInterval: time.Millisecond,
	}
	if mutate != nil {
		mutate(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func normalItem() accordwatch.Item {
	return accordwatch.Item{
		ID:        "it-normal",
		FeedName:  "Example Security News",
		FeedURL:   "https://news.example.com/feed.xml",
		Link:      "https://news.example.com/2026/03/apt28-exchange?id=7&src=rss",
		Title:     "Microsoft: APT28 exploited an Exchange flaw against AT&T's suppliers",
		Text:      "Microsoft Threat Intelligence said on Monday that APT28, a unit of Russia's GRU,\nexploited a zero-day in Exchange Server. Customers should patch now.",
		Published: time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC),
		Tags: accordwatch.Tags{
			Signatories: []string{"Microsoft", "Cisco"},
			Roles:       map[string]string{"Microsoft": "reporter", "Cisco": "victim"},
			StateLinked: true,
			States:      []string{"Russia"},
			Attribution: []accordwatch.Attribution{{State: "Russia", Strength: accordwatch.StrengthAttributed, By: "Microsoft"}},
			Actors:      []string{"APT28"},
			AttackTypes: []string{accordwatch.AttackEspionage, accordwatch.AttackVulnerability},
			Principles:  []accordwatch.Principle{accordwatch.StrongerDefense, accordwatch.NoOffense},
			Severity:    87,
			Evidence: []accordwatch.Evidence{
				{Tag: "signatory:Microsoft", Field: "title", Match: "Microsoft", Offset: 0, Rule: "signatory-name"},
				{Tag: "principle:stronger-defense", Field: "tags", Offset: -1, Rule: "signatory-victim:Cisco"},
				{Tag: "principle:no-offense", Field: "tags", Offset: -1, Rule: "state-linked"},
			},
		},
	}
}

const hostileTitle = `<!channel> <@U123> <https://evil.example|click> & friends`

func hostileItem() accordwatch.Item {
	sigs := make([]string, 0, 300)
	for i := range 300 {
		sigs = append(sigs, fmt.Sprintf("<!here> Acme & Co %d", i))
	}
	return accordwatch.Item{
		ID:        "it-hostile",
		FeedName:  "<!everyone> Feed & <https://evil.example|Co>",
		Link:      "javascript:alert(1)",
		Title:     hostileTitle,
		Text:      strings.Repeat("<!here> & <@U999> <https://evil.example/x|login> ", 400),
		Published: time.Date(2026, 3, 3, 1, 2, 3, 0, time.FixedZone("CET", 3600)),
		Tags: accordwatch.Tags{
			Signatories: sigs,
			States:      []string{"<!subteam^S1>"},
			Actors:      []string{"<@U42>", "Sandworm & co"},
			AttackTypes: []string{"<http://x.example>"},
			Principles:  []accordwatch.Principle{"<!channel>", accordwatch.CapacityBuilding},
			Severity:    12,
			Evidence: []accordwatch.Evidence{
				{Tag: "principle:<!channel>", Field: "text", Match: "<@U1> & <!here>", Rule: "<!subteam^S2> rule"},
				{Tag: "principle:capacity-building", Field: "text", Match: strings.Repeat("<!here> patch now ", 20), Rule: "defender-guidance"},
			},
		},
	}
}

func TestSendBotGolden(t *testing.T) {
	tests := []struct {
		name    string
		alert   accordwatch.Alert
		item    accordwatch.Item
		channel string // where the post must go
	}{
		{"normal", accordwatch.Alert{ID: "a1", Rule: "state-linked-signatory"}, normalItem(), "#alerts"},
		{"hostile", accordwatch.Alert{ID: "a2", Rule: "<@U1> rule & <!here>", Channel: "C999"}, hostileItem(), "C999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSlack{token: testToken}
			n := newBot(t, fake, nil)
			ref, err := n.Send(t.Context(), tt.alert, tt.item)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if want := "C1/" + okTS; ref != want {
				t.Errorf("ref = %q, want %q", ref, want)
			}
			posts := fake.Posts()
			if len(posts) != 1 {
				t.Fatalf("got %d posts, want 1", len(posts))
			}
			form := posts[0]
			for k, want := range map[string]string{
				"channel": tt.channel, "unfurl_links": "false", "unfurl_media": "false", "token": testToken,
			} {
				if got := form.Get(k); got != want {
					t.Errorf("form %s = %q, want %q", k, got, want)
				}
			}
			for _, k := range []string{"link_names", "parse", "thread_ts", "reply_broadcast"} {
				if form.Has(k) {
					t.Errorf("form has %s=%q, want it unset", k, form.Get(k))
				}
			}

			var blocks []any
			if err := json.Unmarshal([]byte(form.Get("blocks")), &blocks); err != nil {
				t.Fatalf("blocks are not JSON: %v\n%s", err, form.Get("blocks"))
			}
			checkBlocks(t, form.Get("text"), blocks)
			if tt.name == "hostile" {
				for _, o := range textObjects(blocks, "") {
					for _, bad := range []string{"<http", "javascript:", "<"} {
						if strings.Contains(o.text, bad) {
							t.Errorf("%s text %q contains %q", o.where, o.text, bad)
						}
					}
				}
			} else {
				section := textObjects(blocks, "")[1]
				want := "<https://news.example.com/2026/03/apt28-exchange?id=7&amp;src=rss|Microsoft: APT28 exploited an Exchange flaw against AT&amp;T's suppliers>"
				if !strings.HasPrefix(section.text, want+"\n") {
					t.Errorf("section text = %q, want prefix %q", section.text, want)
				}
			}

			golden(t, filepath.Join("testdata", tt.name+".golden"), map[string]any{
				"channel": form.Get("channel"),
				"text":    form.Get("text"),
				"blocks":  blocks,
			})
		})
	}
}

// textObj is one Block Kit text object found in a message.
type textObj struct {
	where    string
	typ      string
	text     string
	verbatim bool
	limit    int
}

// textObjects finds every {"type":"plain_text"|"mrkdwn","text":...} object.
func textObjects(v any, where string) []textObj {
	var out []textObj
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			out = append(out, textObjects(e, fmt.Sprintf("%s[%d]", where, i))...)
		}
	case map[string]any:
		typ, _ := v["type"].(string)
		if text, ok := v["text"].(string); ok && (typ == "plain_text" || typ == "mrkdwn") {
			verbatim, _ := v["verbatim"].(bool)
			limit := maxText
			if strings.Contains(where, "fields") {
				limit = maxField
			}
			if strings.HasSuffix(where, "header.text") {
				limit = maxHeader
			}
			out = append(out, textObj{where: where, typ: typ, text: text, verbatim: verbatim, limit: limit})
		}
		bt := ""
		if typ != "plain_text" && typ != "mrkdwn" {
			bt = typ
		}
		for _, k := range []string{"text", "fields", "elements"} {
			if e, ok := v[k]; ok {
				out = append(out, textObjects(e, where+bt+"."+k)...)
			}
		}
	}
	return out
}

// checkBlocks asserts Slack's limits and the escaping invariants on a
// rendered incident message, which starts with a header.
func checkBlocks(t *testing.T, fallback string, blocks []any) {
	t.Helper()
	checkMessage(t, fallback, blocks, true)
}

// checkMessage asserts Slack's limits and the escaping invariants on any
// rendered message; withHeader also requires the plain_text header first.
func checkMessage(t *testing.T, fallback string, blocks []any, withHeader bool) {
	t.Helper()
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		t.Errorf("got %d blocks, want 1..%d", len(blocks), maxBlocks)
	}
	if fallback == "" {
		t.Error("fallback text is empty, want it set")
	}
	objs := textObjects(blocks, "")
	objs = append(objs, textObj{where: "text", typ: "fallback", text: fallback, limit: maxText})
	if withHeader {
		if len(objs) < 3 {
			t.Fatalf("found %d text objects, want at least header, section, fallback", len(objs))
		}
		if objs[0].typ != "plain_text" || !strings.HasSuffix(objs[0].where, "header.text") {
			t.Errorf("first text object is %s %s, want the plain_text header", objs[0].where, objs[0].typ)
		}
	}
	for _, b := range blocks {
		if f, ok := b.(map[string]any)["fields"].([]any); ok && len(f) > maxFields {
			t.Errorf("section has %d fields, want ≤ %d", len(f), maxFields)
		}
	}
	for _, o := range objs {
		if n := utf8.RuneCountInString(o.text); n == 0 || n > o.limit {
			t.Errorf("%s has %d runes, want 1..%d", o.where, n, o.limit)
		}
		if o.typ == "mrkdwn" && !o.verbatim {
			t.Errorf("%s is mrkdwn without verbatim: true", o.where)
		}
		for _, bad := range []string{"<!", "<@", "<#"} {
			if strings.Contains(o.text, bad) {
				t.Errorf("%s text %q contains unescaped %q", o.where, o.text, bad)
			}
		}
		// After escaping, every & starts one of the three entities.
		for i := 0; i < len(o.text); i++ {
			if o.text[i] == '&' {
				rest := o.text[i:]
				if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
					t.Errorf("%s has a bare or cut entity at byte %d: %q", o.where, i, rest[:min(len(rest), 8)])
				}
			}
		}
	}
}

// golden compares v, as indented JSON, with the file at path (rewritten
// with -update).
func golden(t *testing.T, path string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep &amp; readable in the file
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("%s differs (run go test -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestSendBotErrors(t *testing.T) {
	slackErr := func(code string) func(http.ResponseWriter, url.Values) {
		return func(w http.ResponseWriter, _ url.Values) {
			fmt.Fprintf(w, `{"ok":false,"error":%q,"response_metadata":{"messages":["[ERROR] detail"]}}`, code)
		}
	}
	status := func(code int, retryAfter string) func(http.ResponseWriter, url.Values) {
		return func(w http.ResponseWriter, _ url.Values) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
		}
	}
	tests := []struct {
		name           string
		token          accordwatch.Secret // default testToken
		respond        func(http.ResponseWriter, url.Values)
		wantCode       string
		wantPermanent  bool
		wantRetryAfter time.Duration
	}{
		{"429 with Retry-After", "", status(http.StatusTooManyRequests, "3"), "rate_limited", false, 3 * time.Second},
		{"429 without Retry-After", "", status(http.StatusTooManyRequests, ""), "http_429", false, time.Second},
		{"500", "", status(http.StatusInternalServerError, ""), "http_500", false, 0},
		{"503", "", status(http.StatusServiceUnavailable, ""), "http_503", false, 0},
		{"wrong token", "xoxb-wrong", nil, "invalid_auth", true, 0},
		{"not_authed", "", slackErr("not_authed"), "not_authed", true, 0},
		{"account_inactive", "", slackErr("account_inactive"), "account_inactive", true, 0},
		{"token_revoked", "", slackErr("token_revoked"), "token_revoked", true, 0},
		{"channel_not_found", "", slackErr("channel_not_found"), "channel_not_found", true, 0},
		{"not_in_channel", "", slackErr("not_in_channel"), "not_in_channel", true, 0},
		{"is_archived", "", slackErr("is_archived"), "is_archived", true, 0},
		{"invalid_blocks", "", slackErr("invalid_blocks"), "invalid_blocks", true, 0},
		{"msg_too_long", "", slackErr("msg_too_long"), "msg_too_long", true, 0},
		{"internal_error is transient", "", slackErr("internal_error"), "internal_error", false, 0},
		{"fatal_error is transient", "", slackErr("fatal_error"), "fatal_error", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSlack{token: testToken, respond: tt.respond}
			n := newBot(t, fake, func(o *Options) {
				if tt.token != "" {
					o.BotToken = tt.token
				}
			})
			ref, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r"}, normalItem())
			if err == nil {
				t.Fatalf("Send succeeded with ref %q, want an error", ref)
			}
			if ref != "" {
				t.Errorf("ref = %q, want empty on failure", ref)
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *SendError", err, err)
			}
			if se.Code != tt.wantCode || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got {Code:%q Permanent:%v RetryAfter:%v}, want {Code:%q Permanent:%v RetryAfter:%v}",
					se.Code, se.Permanent, se.RetryAfter, tt.wantCode, tt.wantPermanent, tt.wantRetryAfter)
			}
			if got := len(fake.Posts()); got != 1 {
				t.Errorf("server saw %d posts, want exactly 1 (no hidden retries)", got)
			}
		})
	}
}

func TestSendBotCanceledContext(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := n.Send(ctx, accordwatch.Alert{Rule: "r"}, normalItem())
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want *SendError", err)
	}
	if se.Permanent || !errors.Is(err, context.Canceled) {
		t.Errorf("got Permanent=%v, Is(Canceled)=%v; want transient and wrapping context.Canceled", se.Permanent, errors.Is(err, context.Canceled))
	}
	if got := len(fake.Posts()); got != 0 {
		t.Errorf("server saw %d posts, want 0", got)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantMode string
		wantErr  bool
	}{
		{"bot", Options{BotToken: "xoxb-1", Channel: "#a"}, ModeBot, false},
		{"bot wins over webhook", Options{BotToken: "xoxb-1", WebhookURL: "https://hooks.example/x", Channel: "#a"}, ModeBot, false},
		{"bot without channel", Options{BotToken: "xoxb-1"}, "", true},
		{"bot with blank channel", Options{BotToken: "xoxb-1", Channel: "  "}, "", true},
		{"webhook", Options{WebhookURL: "https://hooks.example/x"}, ModeWebhook, false},
		{"file", Options{AlertsFile: "x.jsonl"}, ModeFile, false},
		{"nothing set is file", Options{}, ModeFile, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := New(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := n.Mode(); got != tt.wantMode {
				t.Errorf("Mode() = %q, want %q", got, tt.wantMode)
			}
		})
	}
}

// TestSecretsNotLeaked drives every failure path that could quote the
// token or the webhook URL and checks each error string and the log.
func TestSecretsNotLeaked(t *testing.T) {
	const hookSecret = "WEBHOOKSECRETxyz123"
	const jsonPath = "JSONHOOKPATHsecret987"
	const hmacKey = "HMACKEYsecret555"
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close() // connection refused from here on

	hook404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_service", http.StatusNotFound)
	}))
	t.Cleanup(hook404.Close)
	echo404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook: "+r.URL.String(), http.StatusNotFound)
	}))
	t.Cleanup(echo404.Close)

	fake := &fakeSlack{token: testToken, respond: func(w http.ResponseWriter, _ url.Values) {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_blocks","errors":["invalid block"],"needed":"chat:write","provided":"none"}`)
	}}
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	slackOK := httptest.NewServer(&fakeSlack{token: testToken})
	t.Cleanup(slackOK.Close)

	tests := []struct {
		name       string
		opts       Options
		wantURLErr bool // the failure really came as a *url.Error
	}{
		{"webhook unreachable", Options{WebhookURL: accordwatch.Secret(closedURL + "/services/T0/B0/" + hookSecret)}, true},
		{"webhook 404", Options{WebhookURL: accordwatch.Secret(hook404.URL + "/services/T0/B0/" + hookSecret)}, false},
		{"webhook bad url", Options{WebhookURL: accordwatch.Secret("http://[::1/services/T0/B0/" + hookSecret)}, true},
		{"bot unreachable", Options{BotToken: testToken, Channel: "#a", APIURL: closedURL + "/api/"}, true},
		{"bot slack error", Options{BotToken: testToken, Channel: "#a", APIURL: slackSrv.URL + "/api/"}, false},
		{"json unreachable", Options{JSONWebhookURL: accordwatch.Secret(closedURL + "/in/" + jsonPath + "?k=" + jsonPath), JSONWebhookSecret: hmacKey}, true},
		{"json 404 echoing its url", Options{JSONWebhookURL: accordwatch.Secret(echo404.URL + "/in/" + jsonPath), JSONWebhookSecret: hmacKey}, false},
		{"json after slack", Options{BotToken: testToken, Channel: "#a", APIURL: slackOK.URL + "/api/",
			JSONWebhookURL: accordwatch.Secret(closedURL + "/in/" + jsonPath), JSONWebhookSecret: hmacKey}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Logger = logger
			opts.PerChannelInterval = time.Millisecond
			n, err := New(opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = n.Send(t.Context(), accordwatch.Alert{Rule: "r"}, normalItem())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			var ue *url.Error
			if got := errors.As(err, &ue); got != tt.wantURLErr {
				t.Errorf("errors.As(*url.Error) = %v, want %v (err: %v)", got, tt.wantURLErr, err)
			}
			var texts []string
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
			}
			for _, s := range texts {
				for _, secret := range []string{testToken, hookSecret, jsonPath, hmacKey} {
					if strings.Contains(s, secret) {
						t.Errorf("error text leaks a secret: %s", s)
					}
				}
			}
		})
	}
	if logs.Len() == 0 {
		t.Fatal("no log output captured; the log check would prove nothing")
	}
	for _, secret := range []string{testToken, hookSecret, jsonPath, hmacKey} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log leaks a secret:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "chat:write") {
		t.Errorf("log lacks Slack's scope diagnostics (needed=chat:write):\n%s", logs.String())
	}
}
