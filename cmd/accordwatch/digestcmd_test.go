package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/store"
)

// digestItems: three items in 2026-W47 (Brussels), one the week before.
func digestItems() []accordwatch.Item {
	mk := func(id, title string, pub time.Time, sev int, states ...string) accordwatch.Item {
		return accordwatch.Item{ID: id, FeedName: "Test Feed", FeedURL: "https://feeds.example.org/x", Link: "https://news.example.org/" + id,
			Title: title, Text: title, Published: pub, Fetched: pub,
			Tags: accordwatch.Tags{Signatories: []string{"Microsoft"}, States: states, AttackTypes: []string{"espionage"},
				Principles: []accordwatch.Principle{accordwatch.NoOffense}, Severity: sev}}
	}
	return []accordwatch.Item{
		mk("a", "APT28 targets ministries", time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC), 80, "Russia"),
		mk("b", "<script>alert(1)</script> & <!channel>", time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC), 40),
		mk("c", "Volt Typhoon in utilities", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 90, "China"),
		mk("d", "Earlier story", time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC), 50),
	}
}

// digestDataDir writes a config and an index with digestItems; it returns
// the config path and the data dir.
func digestDataDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\ntimezone: Europe/Brussels\n")
	data := filepath.Join(dir, "data")
	ix, err := index.Open(filepath.Join(data, indexDir), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), digestItems()); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg, data
}

// runDigest runs `accordwatch digest args...`, adding the command to the
// root when the lead has not wired it in yet.
func runDigest(t *testing.T, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	root := newRoot(e)
	if c, _, err := root.Find([]string{"digest"}); err != nil || c == root {
		root.AddCommand(digestCmd(e))
	}
	root.SetArgs(append([]string{"digest"}, args...))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(t.Context())
	return stdout.String(), stderr.String(), err
}

func TestDigestCommandWithoutDaemon(t *testing.T) {
	cfg, _ := digestDataDir(t)
	out, _, err := runDigest(t, nil, "--config", cfg, "--week", "2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Tech Accord weekly digest · 2026-W47", "**3 incidents** this week, up 2 (+200%) from 1 before",
		`\<script\>alert(1)\</script\>`} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runDigest(t, nil, "--config", cfg, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Title string              `json:"title"`
		Total struct{ Count int } `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Title != "2026-11-01 – 2026-11-30" || rep.Total.Count != 4 {
		t.Errorf("json: got %q with %d, want November with 4", rep.Title, rep.Total.Count)
	}

	file := filepath.Join(t.TempDir(), "w47.html")
	out, _, err = runDigest(t, nil, "--config", cfg, "--week", "2026-W47", "--format", "html", "--out", file)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(file)
	if out != "" || !strings.Contains(string(page), `<svg id="chart-principle"`) {
		t.Errorf("--out: stdout %q, file %d bytes without the chart", out, len(page))
	}

	out, _, err = runDigest(t, nil, "--config", cfg, "--week", "2026-W47", "--format", "slack")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	if err := json.Unmarshal([]byte(out), &msgs); err != nil || len(msgs) != 1 {
		t.Errorf("slack: got %d messages (%v), want 1:\n%s", len(msgs), err, out)
	}
}

func TestDigestCommandBadInput(t *testing.T) {
	cfg, _ := digestDataDir(t)
	for _, args := range [][]string{
		{"--format", "pdf"},
		{"--week", "2026-W99"},
		{"--from", "2026-11-30", "--to", "2026-11-01"},
		{"--week", "2026-W47", "--from", "2026-11-01"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, _, err := runDigest(t, nil, append([]string{"--config", cfg}, args...)...); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

// TestDigestCommandThroughDaemon: while serve holds the index, the
// command asks its /api/digest.
func TestDigestCommandThroughDaemon(t *testing.T) {
	cfgPath, data := digestDataDir(t)
	ix, err := index.Open(filepath.Join(data, indexDir), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	cfg, err := config.Load(cfgPath, config.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	h := digestHandler(cfg, ix, nil, "tok", slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	raw, _ := json.Marshal(owner{PID: os.Getpid(), Command: "serve", Listen: strings.TrimPrefix(srv.URL, "http://"), Started: time.Now()})
	if err := os.WriteFile(filepath.Join(data, ownerFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}

	out, _, err := runDigest(t, map[string]string{"ACCORDWATCH_API_TOKEN": "tok"}, "--config", cfgPath, "--week", "2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "**3 incidents** this week") {
		t.Errorf("markdown through the API:\n%s", out)
	}
	if len(asked) != 1 || asked[0] != "/api/digest?format=json&week=2026-W47" {
		t.Errorf("API calls: got %v, want one GET /api/digest?format=json&week=2026-W47", asked)
	}
	if _, _, err := runDigest(t, nil, "--config", cfgPath, "--week", "2026-W47"); err == nil || !strings.Contains(err.Error(), "bearer token") {
		t.Errorf("without the token: got %v, want the API's 401", err)
	}

	// The handler itself: HTML with its CSP, and a 400 for a bad week.
	for _, c := range []struct {
		query string
		code  int
		ctype string
	}{
		{"?week=2026-W47&format=html", 200, "text/html; charset=utf-8"},
		{"?week=2026-W47&format=md", 200, "text/markdown; charset=utf-8"},
		{"?week=nope", 400, "application/json; charset=utf-8"},
		{"?format=pdf", 400, "application/json; charset=utf-8"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/digest"+c.query, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: got %d %s, want %d %s: %s", c.query, resp.StatusCode, resp.Header.Get("Content-Type"), c.code, c.ctype, body)
		}
		if c.ctype == "text/html; charset=utf-8" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("html without CSP")
		}
	}
}

func TestDigestCommandPostIsRecorded(t *testing.T) {
	cfg, data := digestDataDir(t)
	var mu sync.Mutex
	posts := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer hook.Close()
	env := map[string]string{"SLACK_WEBHOOK_URL": hook.URL + "/services/T/B/x"}
	// A store must exist for the post to be recorded.
	st, err := store.Open(filepath.Join(data, storeFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	if _, _, err := runDigest(t, env, "--config", cfg, "--week", "2026-W47", "--post"); err != nil {
		t.Fatal(err)
	}
	_, _, err = runDigest(t, env, "--config", cfg, "--week", "2026-W47", "--post")
	if err == nil || !strings.Contains(err.Error(), "week 2026-W47 was already posted at ") || !strings.HasSuffix(err.Error(), "; use --force to post it again") {
		t.Errorf("second --post: got %v, want already posted, use --force", err)
	}
	if _, _, err := runDigest(t, env, "--config", cfg, "--week", "2026-W47", "--post", "--force"); err != nil {
		t.Fatal(err)
	}
	if posts != 2 {
		t.Errorf("webhook posts: got %d, want 2", posts)
	}
	st, err = store.Open(filepath.Join(data, storeFile), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok, _ := st.DigestSent("2026-W47"); !ok {
		t.Errorf("the post was not recorded")
	}
}

// TestDigestPostThroughRunningServe: while serve owns the store, `digest
// --post` asks it to post (with the API token), Slack's one 429 is waited
// out, and the week is recorded where the daemon's schedule looks: a
// second --post is refused with a non-zero exit, --force posts again, and
// once serve is gone the week is still known as posted.
func TestDigestPostThroughRunningServe(t *testing.T) {
	_, data := digestDataDir(t)
	dir := filepath.Dir(data)
	cfg := writeConfig(t, dir, "data_dir: data\ntimezone: Europe/Brussels\nlisten: 127.0.0.1:0\nfeeds:\n  - url: "+dir+"/none.xml\n")
	slack := newFakeSlack(t) // answers the first post 429, Retry-After: 1
	env := map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": slack.URL + "/api/", "SLACK_CHANNEL": "#accord-alerts",
		"ACCORDWATCH_API_TOKEN": "tok",
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var serveErr bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, &serveErr, func(k string) string { return env[k] })
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if o, ok := readOwner(data); ok && o.Listen != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	code, out, errOut := run(t, env, "", "digest", "--config", cfg, "--week", "2026-W47", "--post")
	if code != 0 {
		t.Fatalf("--post through serve: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "**3 incidents** this week") || !strings.Contains(errOut, "digest 2026-W47 posted by the running daemon (C0ALERTS/") {
		t.Errorf("--post through serve: stdout\n%s\nstderr %q", out, errOut)
	}
	if posts := slack.snapshot(); len(posts) != 1 || slack.limited != 1 {
		t.Fatalf("Slack: got %d posts after %d rate limits, want the digest once after one", len(posts), slack.limited)
	}

	code, _, errOut = run(t, env, "", "digest", "--config", cfg, "--week", "2026-W47", "--post")
	if code == 0 || !strings.Contains(errOut, "week 2026-W47 was already posted at ") || !strings.Contains(errOut, "; use --force to post it again") {
		t.Errorf("second --post: exit %d, %q; want non-zero, already posted, use --force", code, errOut)
	}
	if code, _, errOut = run(t, nil, "", "digest", "--config", cfg, "--week", "2026-W47", "--post", "--force"); code == 0 || !strings.Contains(errOut, "bearer token") {
		t.Errorf("--post without the API token: exit %d, %q; want the API's 401", code, errOut)
	}
	if code, _, errOut = run(t, env, "", "digest", "--config", cfg, "--week", "2026-W47", "--post", "--force"); code != 0 || !strings.Contains(errOut, "it had been posted at") {
		t.Errorf("--post --force: exit %d, %q", code, errOut)
	}
	if posts := slack.snapshot(); len(posts) != 2 {
		t.Errorf("Slack: got %d posts, want 2 (the first and the forced one)", len(posts))
	}

	stop()
	for _, line := range strings.Split(serveErr.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "digest") {
			t.Errorf("serve logged a digest error: %s", line)
		}
	}
	// Serve is gone: the store, which its schedule reads, has the week.
	code, _, errOut = run(t, env, "", "digest", "--config", cfg, "--week", "2026-W47", "--post")
	if code == 0 || !strings.Contains(errOut, "week 2026-W47 was already posted at ") {
		t.Errorf("--post after serve stopped: exit %d, %q; want already posted", code, errOut)
	}
	if posts := slack.snapshot(); len(posts) != 2 {
		t.Errorf("Slack: got %d posts, want still 2", len(posts))
	}
}
