package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
)

// guardedMux assembles the listener's handler the way serve does: the
// silences API, a stand-in for Slack's signed endpoint, and Handler, all
// behind Guard.
type guardedMux struct {
	h         http.Handler
	silences  *memSilences
	slackHits int
}

func newGuardedMux(t *testing.T, token string) *guardedMux {
	t.Helper()
	g := &guardedMux{silences: &memSilences{}}
	mux := http.NewServeMux()
	mux.Handle("/api/silences", SilencesHandler(g.silences, accordwatch.Secret(token)))
	mux.Handle("/api/silences/", SilencesHandler(g.silences, accordwatch.Secret(token)))
	mux.Handle("POST /slack/commands", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.slackHits++
		w.WriteHeader(http.StatusOK)
	}))
	mux.Handle("/", Handler(Options{
		Searcher: &fixedSearcher{res: accordwatch.SearchResult{Query: "x"}},
		Items:    mapItems{"a": {ID: "a", Title: "A"}},
		Feeds:    fixedFeeds{{Feed: accordwatch.Feed{Name: "CISA", URL: "https://cisa.example/feed"}}},
		Token:    accordwatch.Secret(token),
	}))
	g.h = Guard(GuardOptions{
		Listen:       "AccordWatch.internal:8080",
		AllowedHosts: []string{"News.Example.org.", "digest.example.com:443", ""},
		SignedPaths:  []string{"/slack/commands"},
		Token:        accordwatch.Secret(token),
	})(mux)
	return g
}

// do serves one request in the test's goroutine (no server, so the fake
// store needs no locking) and returns the recorder.
func (g *guardedMux) do(method, host, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, req)
	return rec
}

func TestGuardHostAllowList(t *testing.T) {
	g := newGuardedMux(t, "")
	tests := []struct {
		host, path string
		want       int
	}{
		{"attacker.example", "/api/search?q=x", http.StatusMisdirectedRequest},
		{"attacker.example", "/api/feeds", http.StatusMisdirectedRequest},
		{"attacker.example:8080", "/", http.StatusMisdirectedRequest},
		{"ATTACKER.EXAMPLE", "/api/items/a", http.StatusMisdirectedRequest},
		{"localhost.attacker.example", "/api/feeds", http.StatusMisdirectedRequest},
		{"127.0.0.1.attacker.example", "/api/feeds", http.StatusMisdirectedRequest},
		{"news.example.org.attacker.example", "/api/feeds", http.StatusMisdirectedRequest},
		{"127.0.0.1:8080", "/api/search?q=x", http.StatusOK},
		{"127.0.0.1", "/api/feeds", http.StatusOK},
		{"192.168.1.20:8080", "/api/feeds", http.StatusOK},
		{"localhost", "/api/search?q=x", http.StatusOK},
		{"LocalHost:8080", "/api/feeds", http.StatusOK},
		{"localhost.", "/api/feeds", http.StatusOK},
		{"app.localhost:8080", "/api/feeds", http.StatusOK},
		{"[::1]:8080", "/api/search?q=x", http.StatusOK},
		{"[::1]", "/api/feeds", http.StatusOK},
		{"accordwatch.internal:8080", "/api/feeds", http.StatusOK}, // the listen host
		{"news.example.org", "/api/search?q=x", http.StatusOK},     // allowed_hosts
		{"NEWS.example.org:443", "/api/feeds", http.StatusOK},
		{"digest.example.com", "/api/feeds", http.StatusOK}, // digest.base_url's host
		// Probes reach /healthz by whatever name; it has nothing to steal.
		{"attacker.example", "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			rec := g.do("GET", tt.host, tt.path, "", nil)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == http.StatusMisdirectedRequest {
				body := rec.Body.String()
				if !strings.Contains(body, strings.ToLower(strings.Split(tt.host, ":")[0])) || !strings.Contains(body, "allowed_hosts") || !strings.Contains(body, "config.yaml") {
					t.Errorf("got body %s, want the host named and allowed_hosts in config.yaml", body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("got Content-Type %q, want JSON", ct)
				}
			}
		})
	}
	t.Run("unsafe methods too", func(t *testing.T) {
		rec := g.do("POST", "attacker.example", "/api/silences", silenceJSON("s1"), map[string]string{"Content-Type": "application/json"})
		if rec.Code != http.StatusMisdirectedRequest || len(g.silences.l) != 0 {
			t.Errorf("got %d with %d silences stored, want 421 and none", rec.Code, len(g.silences.l))
		}
	})
}

func TestHostAllowed(t *testing.T) {
	allowed := map[string]bool{"news.example.org": true}
	tests := []struct {
		host string
		want bool
	}{
		{"", false},
		{":8080", false},
		{"evil.example", false},
		{"localhost:1", true},
		{"a.b.localhost", true},
		{"xlocalhost", false},
		{"10.0.0.1", true},
		{"[fe80::1%25eth0]:80", true},
		{"[2001:db8::1]:443", true},
		{"2130706433", false}, // browsers normalise numeric hosts to dotted form
		{"News.Example.Org:80", true},
	}
	for _, tt := range tests {
		if got := hostAllowed(tt.host, allowed); got != tt.want {
			t.Errorf("hostAllowed(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
}

func silenceJSON(id string) string {
	return `{"id":"` + id + `","query":"state:russia","reason":"test","created":"2026-11-01T00:00:00Z","expires":"2026-12-01T00:00:00Z"}`
}

func TestGuardCrossSite(t *testing.T) {
	const host = "127.0.0.1:8080"
	tests := []struct {
		name         string
		token        string
		method, path string
		body         string
		hdr          map[string]string
		want         int
		wantStored   int
	}{
		// A page on evil.example posts a "simple" request, no preflight.
		{name: "text/plain from another origin", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, want: 403},
		{name: "text/plain without Origin (old browser)", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "text/plain"}, want: 415},
		{name: "form without Origin", method: "POST", path: "/api/silences", body: "x=" + url.QueryEscape(silenceJSON("s1")),
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 415},
		{name: "Sec-Fetch-Site cross-site", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "Sec-Fetch-Site same-site (a sibling subdomain)", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "expire from another origin", method: "POST", path: "/api/silences/s1/expire",
			hdr: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "expire by an empty form without Origin", method: "POST", path: "/api/silences/s1/expire",
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 415},
		{name: "same origin (Sec-Fetch-Site)", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, want: 201, wantStored: 1},
		{name: "same origin (Origin matches Host)", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": "http://" + host}, want: 201, wantStored: 1},
		{name: "CLI: JSON, no Origin", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json"}, want: 201, wantStored: 1},
		// `accordwatch silence expire` sends no body and no Content-Type.
		{name: "CLI expire: no body", method: "POST", path: "/api/silences/s1/expire", want: 404},
		{name: "bearer token from anywhere", token: "t0k", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example", "Authorization": "Bearer t0k"}, want: 201, wantStored: 1},
		{name: "wrong bearer token gets no pass", token: "t0k", method: "POST", path: "/api/silences", body: silenceJSON("s1"),
			hdr: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example", "Authorization": "Bearer nope"}, want: 403},
		// Slack posts a signed form, server to server, with no Origin.
		{name: "Slack slash command", method: "POST", path: "/slack/commands", body: "command=%2Faccord&text=apt28",
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 200},
		{name: "sign-out from another site", method: "POST", path: "/logout",
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "sign-in from another origin", token: "t0k", method: "POST", path: "/login", body: "token=t0k&next=%2F",
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}, want: 403},
		{name: "sign-in form from our page", token: "t0k", method: "POST", path: "/login", body: "token=t0k&next=%2F",
			hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, want: 303},
		{name: "GET stays open", method: "GET", path: "/api/silences",
			hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuardedMux(t, tt.token)
			rec := g.do(tt.method, host, tt.path, tt.body, tt.hdr)
			if rec.Code != tt.want {
				t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if got := len(g.silences.l); got != tt.wantStored {
				t.Errorf("got %d silences stored, want %d", got, tt.wantStored)
			}
			if tt.path == "/slack/commands" && g.slackHits != 1 {
				t.Errorf("got %d calls of the Slack handler, want 1", g.slackHits)
			}
		})
	}
	t.Run("Slack under a public name nobody listed", func(t *testing.T) {
		g := newGuardedMux(t, "")
		rec := g.do("POST", "abc123.tunnel.example", "/slack/commands", "text=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if rec.Code != 200 || g.slackHits != 1 {
			t.Errorf("got %d and %d calls, want 200 and the handler called", rec.Code, g.slackHits)
		}
	})
	t.Run("415 says what to send", func(t *testing.T) {
		g := newGuardedMux(t, "")
		rec := g.do("POST", host, "/api/silences", silenceJSON("s1"), map[string]string{"Content-Type": "text/plain"})
		if !strings.Contains(rec.Body.String(), "Content-Type: application/json") {
			t.Errorf("got %s, want the message to name application/json", rec.Body)
		}
	})
}

// TestSilencesHandlerTakesOnlyJSON: the handler refuses a non-JSON add on
// its own, without Guard in front.
func TestSilencesHandlerTakesOnlyJSON(t *testing.T) {
	tests := []struct {
		ct   string
		want int
	}{
		{"text/plain", 415},
		{"text/plain; charset=utf-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"", 415},
		{"application/json", 201},
		{"Application/JSON; charset=utf-8", 201},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			st := &memSilences{}
			req := httptest.NewRequest("POST", "/api/silences", strings.NewReader(silenceJSON("s1")))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			rec := httptest.NewRecorder()
			SilencesHandler(st, "").ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if stored := len(st.l) == 1; stored != (tt.want == 201) {
				t.Errorf("got %d silences stored", len(st.l))
			}
		})
	}
}
