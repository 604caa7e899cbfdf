package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// The tests in this file attack the whole program the way the security
// audit did, on loopback only; each one failed before its fix.

// inProcessServe starts serve in this process and returns its address and
// log; it stops when the test ends.
func inProcessServe(t *testing.T, cfg string, env map[string]string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	log := &lockedBuffer{}
	go func() {
		done <- Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, log, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() { cancel(); <-done })
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if o, ok := readOwner(dataDir); ok && o.Listen != "" && !strings.HasSuffix(o.Listen, ":0") {
			return o.Listen, log
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send makes one request and returns the status and body.
func send(t *testing.T, method, rawURL, host string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestOneHostileGETCannotKillServe: 300,000 '(' in q once overflowed the
// parser's stack, which no recover can catch. serve runs as a real
// process so that a crash is seen as one.
func TestOneHostileGETCannotKillServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nlisten: 127.0.0.1:0\nfeeds:\n  - url: "+dir+"/none.xml\n")
	sp := startServe(t, cfg, nil)
	var o owner
	waitFor(t, sp, 30*time.Second, "serve to listen", func() bool {
		var ok bool
		o, ok = readOwner(filepath.Join(dir, "data"))
		return ok && o.Listen != "" && !strings.HasSuffix(o.Listen, ":0")
	})
	// 300,000 raw '(' no longer fit in the server's 64 KiB of headers;
	// 20,000 do, and reach the parser, which refuses them by length.
	for _, n := range []int{300000, 20000} {
		q := strings.Repeat("(", n)
		for _, path := range []string{"/api/search?q=", "/?q="} {
			code, body := send(t, "GET", "http://"+o.Listen+path+q, "", nil, "")
			switch {
			case n > 64<<10 && code == http.StatusRequestHeaderFieldsTooLarge:
			case code == http.StatusBadRequest && strings.Contains(body, "the limit is 16384"):
			default:
				t.Errorf("GET %s<%d parens>: got %d %.200s, want 400 naming the limit (or 431 past the header cap)", path, n, code, body)
			}
		}
	}
	deep := url.QueryEscape(strings.Repeat("(", 150) + "x" + strings.Repeat(")", 150))
	if code, body := send(t, "GET", "http://"+o.Listen+"/api/search?q="+deep, "", nil, ""); code != 400 || !strings.Contains(body, "query nests deeper than 100 levels") {
		t.Errorf("150 levels: got %d %.200s", code, body)
	}
	if code, _ := send(t, "GET", "http://"+o.Listen+"/healthz", "", nil, ""); code != 200 {
		t.Fatalf("healthz after the attack: %d; log:\n%s", code, lastLines(sp.stderr.String(), 20))
	}
	if strings.Contains(sp.stderr.String(), "stack overflow") {
		t.Errorf("serve log shows a stack overflow:\n%s", lastLines(sp.stderr.String(), 20))
	}
}

// TestForeignPageCannotSilenceAlerts: a silence POSTed by another site's
// page (text/plain needs no CORS preflight) once muted every alert.
func TestForeignPageCannotSilenceAlerts(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nlisten: 127.0.0.1:0\nfeeds:\n  - url: "+dir+"/none.xml\n")
	addr, _ := inProcessServe(t, cfg, nil)
	silence := fmt.Sprintf(`{"id":"evil","query":"severity:>=0","created":%q,"expires":"2099-01-01T00:00:00Z","reason":"x"}`, time.Now().UTC().Format(time.RFC3339))
	attacks := []map[string]string{
		{"Content-Type": "text/plain", "Origin": "https://evil.example"},
		{"Content-Type": "text/plain"},
		{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"},
		{"Content-Type": "application/json", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
	}
	for _, hdr := range attacks {
		if code, body := send(t, "POST", "http://"+addr+"/api/silences", "", hdr, silence); code < 400 {
			t.Errorf("POST /api/silences with %v: got %d %s, want it refused", hdr, code, body)
		}
		if code, _ := send(t, "POST", "http://"+addr+"/api/silences/x/expire", "", hdr, ""); code < 400 || code == 404 {
			t.Errorf("POST expire with %v: got %d, want it refused before lookup", hdr, code)
		}
	}
	_, list := send(t, "GET", "http://"+addr+"/api/silences", "", nil, "")
	if strings.Contains(list, "evil") {
		t.Fatalf("a cross-site silence was stored: %s", list)
	}
	// The CLI's own request (JSON, no Origin) still works.
	if code, out, errOut := run(t, nil, "", "silence", "add", "state:china", "--for", "1h", "--reason", "drill", "--config", cfg); code != 0 {
		t.Errorf("silence add via serve: exit %d %s%s", code, out, errOut)
	}
}

// TestRebindingHostIsRefused: a DNS rebinding page reaches the daemon
// under its own name; such requests once read /api/search and /api/feeds.
func TestRebindingHostIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nlisten: 127.0.0.1:0\nallowed_hosts: [accordwatch.corp.example]\ndigest:\n  base_url: https://aw.example.org/\nfeeds:\n  - url: "+dir+"/none.xml\n")
	addr, _ := inProcessServe(t, cfg, nil)
	for _, path := range []string{"/api/search?q=x", "/api/feeds", "/", "/api/silences"} {
		if code, body := send(t, "GET", "http://"+addr+path, "attacker.example", nil, ""); code != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host attacker.example: got %d %.100s, want 421", path, code, body)
		}
	}
	_, port, _ := strings.Cut(addr, ":")
	for _, host := range []string{addr, "localhost:" + port, "accordwatch.corp.example", "aw.example.org"} {
		if code, body := send(t, "GET", "http://"+addr+"/api/feeds", host, nil, ""); code != 200 {
			t.Errorf("GET /api/feeds with Host %s: got %d %.100s, want 200", host, code, body)
		}
	}
}

// TestFeedsCannotReachPrivateAddresses: by default a feed on loopback is
// refused with a reason that names the opt-in.
func TestFeedsCannotReachPrivateAddresses(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf("data_dir: data\nfeeds:\n  - name: Internal\n    url: %s/feed.xml\n  - name: Metadata\n    url: http://169.254.169.254/latest/meta-data/\n", srv.URL))
	code, out, errOut := run(t, nil, "", "run", "--once", "--config", cfg)
	if code == 0 {
		t.Errorf("run --once with only refused feeds exited 0:\n%s", out)
	}
	if hits != 0 {
		t.Errorf("the internal server was reached %d times", hits)
	}
	for _, want := range []string{"refused: 127.0.0.1 is a loopback address; set fetch.allow_private_networks to poll internal feeds", "refused: 169.254.169.254 is a link-local address"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
		}
	}
	if _, out, _ := run(t, nil, "", "feeds", "--config", cfg); !strings.Contains(out, "refused: 127.0.0.1 is a loopback address") {
		t.Errorf("feeds health lacks the reason:\n%s", out)
	}
}

// TestCredentialsNeverLeave: a private feed's password, query token and
// header value reach the feed server and nowhere else — not the log, the
// CLI, the API, the digest or the stored items.
func TestCredentialsNeverLeave(t *testing.T) {
	const pass, qtok, hdr = "TOPSECRETpass", "TOPSECRETquery", "TOPSECRETheader"
	feed, err := os.ReadFile("testdata/news.rss")
	if err != nil {
		t.Fatal(err)
	}
	var authOK bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		authOK = u == "alice" && p == pass && r.URL.Query().Get("token") == qtok && r.Header.Get("X-Api-Key") == hdr
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(feed)
	}))
	t.Cleanup(srv.Close)
	feedURL := strings.Replace(srv.URL, "http://", "http://alice:"+pass+"@", 1) + "/news.rss?token=" + qtok
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf("data_dir: data\nlisten: 127.0.0.1:0\nfetch:\n  allow_private_networks: true\nfeeds:\n  - name: Private\n    url: %s\n    headers:\n      X-Api-Key: ${FEED_KEY}\n", feedURL))
	env := map[string]string{"FEED_KEY": hdr}
	var seen strings.Builder
	leak := func(where, s string) {
		t.Helper()
		seen.WriteString(s)
		for _, secret := range []string{pass, qtok, hdr} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %s:\n%s", where, secret, s)
			}
		}
	}
	code, out, errOut := run(t, env, "", "run", "--once", "--log-level", "debug", "--config", cfg)
	if code != 0 || !authOK {
		t.Fatalf("run --once: exit %d, credentials reached the server: %v\n%s%s", code, authOK, out, errOut)
	}
	leak("run --once", out+errOut)
	for _, args := range [][]string{{"feeds"}, {"feeds", "--json"}, {"search", "--json", "state:russia"}, {"digest", "--format", "json", "--from", time.Now().AddDate(0, 0, -30).Format("2006-01-02"), "--to", time.Now().AddDate(0, 0, 1).Format("2006-01-02")}} {
		_, out, errOut := run(t, env, "", append(args, "--config", cfg)...)
		leak(strings.Join(args, " "), out+errOut)
	}
	addr, log := inProcessServe(t, cfg, env)
	var res accordwatch.SearchResult
	_, body := send(t, "GET", "http://"+addr+"/api/search?q=state:russia", "", nil, "")
	leak("/api/search", body)
	json.Unmarshal([]byte(body), &res)
	if len(res.Hits) == 0 {
		t.Fatalf("no hit to inspect: %s", body)
	}
	for _, path := range []string{"/api/feeds", "/api/items/" + res.Hits[0].ID, "/items/" + res.Hits[0].ID, "/?q=state:russia", "/api/digest?format=json", "/metrics"} {
		code, body := send(t, "GET", "http://"+addr+path, "", nil, "")
		if code != 200 {
			t.Errorf("GET %s: %d", path, code)
		}
		leak(path, body)
	}
	leak("serve log", log.String())
	if !strings.Contains(seen.String(), "X-Api-Key") {
		t.Errorf("no output names the header, so the test cannot tell it was hidden rather than absent")
	}
}

// TestCheckConfigWarnsAboutAnOpenListen: a non-loopback listen without a
// token once passed in silence.
func TestCheckConfigWarnsAboutAnOpenListen(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nlisten: 0.0.0.0:8080\n")
	code, out, _ := run(t, nil, "", "check-config", cfg)
	if code != 0 || !strings.Contains(out, "warning: listen 0.0.0.0:8080 is reachable from other machines and ACCORDWATCH_API_TOKEN is not set") {
		t.Errorf("got exit %d:\n%s", code, out)
	}
	_, out, _ = run(t, map[string]string{"ACCORDWATCH_API_TOKEN": "tok"}, "", "check-config", cfg)
	if strings.Contains(out, "warning") {
		t.Errorf("warned although a token is set:\n%s", out)
	}
	cfg = writeConfig(t, dir, "data_dir: data\nlisten: 0.0.0.0:99999\n")
	if code, _, errOut := run(t, nil, "", "check-config", cfg); code == 0 || !strings.Contains(errOut, `listen: port must be a number from 0 to 65535, got "99999"`) {
		t.Errorf("listen 0.0.0.0:99999: exit %d %s", code, errOut)
	}
}
