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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// run calls Main like a shell would and returns its exit code and output.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

// feedServer serves the RSS and Atom fixtures.
func feedServer(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]string{"/news.rss": "application/rss+xml", "/research.atom": "application/atom+xml"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join("testdata", filepath.Base(r.URL.Path)))
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("ETag", `"`+r.URL.Path+`-v1"`)
		if r.Header.Get("If-None-Match") == `"`+r.URL.Path+`-v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeSlack speaks chat.postMessage like Slack's Web API: form-encoded,
// token in the body, and one 429 with Retry-After before anything is
// accepted.
type fakeSlack struct {
	*httptest.Server
	mu       sync.Mutex
	posts    []url.Values
	limited  int
	limitNow bool
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{limitNow: true}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat.postMessage" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("token") != "xoxb-test-token" {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.limitNow {
			f.limitNow = false
			f.limited++
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
			return
		}
		f.posts = append(f.posts, r.PostForm)
		fmt.Fprintf(w, `{"ok":true,"channel":"C0ALERTS","ts":"1764000000.%06d"}`, len(f.posts))
	}))
	t.Cleanup(f.Server.Close)
	return f
}

func (f *fakeSlack) snapshot() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.posts...)
}

func writeConfig(t *testing.T, dir string, body string) string {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func searchJSON(t *testing.T, env map[string]string, args ...string) accordwatch.SearchResult {
	t.Helper()
	code, out, errOut := run(t, env, "", append([]string{"search", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("search %v: exit %d: %s", args, code, errOut)
	}
	var res accordwatch.SearchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("search output is not JSON: %v\n%s", err, out)
	}
	return res
}

func titles(res accordwatch.SearchResult) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Title)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	feedsSrv := feedServer(t)
	slack := newFakeSlack(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
timezone: UTC
feeds:
  - name: Test Newsroom
    url: %[1]s/news.rss
  - name: Test Research
    url: %[1]s/research.atom
  - name: Gone
    url: %[1]s/missing.xml
rules:
  - name: state-linked
    query: state_linked:true
`, feedsSrv.URL))
	env := map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test-token",
		"SLACK_API_URL":   slack.URL + "/api/",
		"SLACK_CHANNEL":   "#accord-alerts",
	}

	code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg)
	if code != 0 {
		t.Fatalf("first pass: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Gone") || !strings.Contains(out, "404") {
		t.Errorf("the failing feed is not reported with its reason:\n%s", out)
	}
	if strings.Contains(errOut, "xoxb-test-token") || strings.Contains(out, "xoxb-test-token") {
		t.Error("the bot token leaked into the output")
	}

	// Exactly the three state-linked items are alerted, after one 429.
	posts := slack.snapshot()
	if slack.limited != 1 {
		t.Errorf("got %d rate-limited calls, want 1", slack.limited)
	}
	wantAlerts := []string{"APT28", "Cisco devices hijacked", "Lazarus Group"}
	if len(posts) != len(wantAlerts) {
		var got []string
		for _, p := range posts {
			got = append(got, p.Get("text"))
		}
		t.Fatalf("got %d alerts, want %d:\n%s", len(posts), len(wantAlerts), strings.Join(got, "\n"))
	}
	all := ""
	for _, p := range posts {
		if p.Get("channel") != "#accord-alerts" {
			t.Errorf("posted to %q, want #accord-alerts", p.Get("channel"))
		}
		all += p.Get("text") + "\n" + p.Get("blocks") + "\n"
	}
	for _, w := range wantAlerts {
		if !strings.Contains(all, w) {
			t.Errorf("no alert mentions %q", w)
		}
	}
	for _, bad := range []string{"<!channel>", "<@U024BE7LH>", "<https://evil.example", "<script"} {
		if strings.Contains(all, bad) {
			t.Errorf("hostile text %q reached Slack unescaped", bad)
		}
	}
	if !strings.Contains(all, "&lt;!channel&gt;") {
		t.Error("the hostile title was not escaped as &lt;!channel&gt;")
	}
	if strings.Contains(all, "utm_source") {
		t.Error("tracking parameters were not stripped from the link")
	}

	// Feed health a user can act on: the broken feed first, with its reason.
	code, out, _ = run(t, nil, "", "feeds", "--config", cfg)
	if code != 0 || !strings.Contains(out, "FAILING x1") || !strings.Contains(out, "404") || !strings.Contains(out, "3 feeds, 1 failing") {
		t.Errorf("feeds: exit %d\n%s", code, out)
	}
	if lines := strings.Split(out, "\n"); len(lines) < 2 || !strings.HasPrefix(lines[1], "Gone") {
		t.Errorf("the failing feed is not listed first:\n%s", out)
	}
	code, out, _ = run(t, nil, "", "feeds", "--json", "--config", cfg)
	var fl struct {
		Feeds []accordwatch.FeedHealth `json:"feeds"`
	}
	if err := json.Unmarshal([]byte(out), &fl); code != 0 || err != nil || len(fl.Feeds) != 3 {
		t.Errorf("feeds --json: exit %d err %v\n%s", code, err, out)
	}

	// Stored and searchable by field, with aliases resolved.
	env2 := map[string]string{}
	if got := titles(searchJSON(t, env2, "--config", cfg, "signatory:microsoft")); len(got) != 1 || !strings.Contains(got[0], "APT28") {
		t.Errorf("signatory:microsoft: got %q, want the APT28 item", got)
	}
	if got := titles(searchJSON(t, env2, "--config", cfg, "state:russia")); len(got) != 1 {
		t.Errorf("state:russia: got %q, want 1 item", got)
	}
	if got := titles(searchJSON(t, env2, "--config", cfg, "state:dprk")); len(got) != 1 || !strings.Contains(got[0], "Lazarus") {
		t.Errorf("state:dprk: got %q, want the Lazarus item", got)
	}
	if got := titles(searchJSON(t, env2, "--config", cfg, `actor:"fancy bear"`)); len(got) != 1 {
		t.Errorf(`actor:"fancy bear": got %q, want the APT28 item`, got)
	}
	if got := titles(searchJSON(t, env2, "--config", cfg, "signatory:oracle AND NOT state_linked:true")); len(got) != 1 {
		t.Errorf("signatory:oracle AND NOT state_linked:true: got %q, want 1", got)
	}
	code, out, _ = run(t, env2, "", "search", "--config", cfg, "state:russia")
	if code != 0 || !strings.Contains(out, "APT28") || !strings.Contains(out, "https://news.example/2026/11/apt28-microsoft") {
		t.Errorf("table output lacks the item and its canonical link:\n%s", out)
	}

	// A second pass and a restart (a fresh process on the same data dir)
	// post nothing.
	for _, pass := range []string{"second pass", "restart"} {
		code, out, errOut = run(t, env, "", "run", "--once", "--config", cfg)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", pass, code, out, errOut)
		}
		if got := len(slack.snapshot()); got != len(wantAlerts) {
			t.Errorf("%s: got %d alerts in all, want still %d", pass, got, len(wantAlerts))
		}
		// The validators were stored and sent back: the server said 304.
		if strings.Count(out, "not modified") != 2 {
			t.Errorf("%s: want both feeds answered 304:\n%s", pass, out)
		}
	}

	// The index is derived: lose it, and the next start rebuilds it from
	// the store (and says so) although no feed has anything new.
	if err := os.RemoveAll(filepath.Join(dir, "data", "index")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, env, "", "run", "--once", "--config", cfg)
	if code != 0 || !strings.Contains(errOut, "rebuilding it from the store") {
		t.Errorf("after losing the index: exit %d, log:\n%s", code, errOut)
	}
	if got := searchJSON(t, env2, "--config", cfg, "state_linked:true"); got.Total != 3 {
		t.Errorf("after rebuild: got %d state-linked items, want 3", got.Total)
	}
	if got := len(slack.snapshot()); got != len(wantAlerts) {
		t.Errorf("rebuilding the index re-alerted: %d posts, want %d", got, len(wantAlerts))
	}

	// reindex rebuilds it on demand; its last progress line counts items
	// written to the index, all of those read from the store.
	code, out, errOut = run(t, env, "", "reindex", "--config", cfg)
	m := regexp.MustCompile(`reindexed (\d+)/(\d+) items \((\d+) read\)\s*$`).FindStringSubmatch(errOut)
	if code != 0 || m == nil || m[1] != m[2] || m[1] != m[3] || m[1] == "0" || !strings.Contains(out, "reindexed "+m[1]+" items into ") {
		t.Errorf("reindex: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := searchJSON(t, env2, "--config", cfg, "state_linked:true"); got.Total != 3 {
		t.Errorf("after reindex: got %d state-linked items, want 3", got.Total)
	}
}

func TestBadQueryNamesTheColumn(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\n")
	code, _, errOut := run(t, nil, "", "search", "--config", cfg, "state:russia AND (")
	if code == 0 || !strings.Contains(errOut, "column") {
		t.Errorf("got exit %d, stderr %q; want a non-zero exit naming the column", code, errOut)
	}
}

func TestBadConfigIsReportedWithFileLineField(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\nfeeds:\n  - name: x\n    url: ftp://nope\n    interval: 5m\n")
	code, _, errOut := run(t, nil, "", "check-config", cfg)
	if code == 0 {
		t.Fatal("check-config accepted a bad config")
	}
	for _, want := range []string{cfg + ":4: feeds[0].url: must be an http(s) URL", cfg + ":5: feeds[0].interval: unknown field"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, _, errOut = run(t, nil, "", "run", "--once", "--config", filepath.Join(dir, "missing.yaml"))
	if code == 0 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing config: got exit %d, stderr %q", code, errOut)
	}
}

func TestCheckConfigAcceptsShippedConfig(t *testing.T) {
	code, out, errOut := run(t, nil, "", "check-config", "../../config.yaml")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("got exit %d\n%s%s", code, out, errOut)
	}
}

func TestUnwritableDataDir(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, []byte("x"), 0o600)
	cfg := writeConfig(t, dir, "data_dir: file/data\nfeeds:\n  - url: https://example.com/feed\n")
	code, _, errOut := run(t, nil, "", "run", "--once", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "data dir") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("got exit %d, stderr %q; want one line naming the data dir", code, errOut)
	}
}

func TestClassifyContract(t *testing.T) {
	in := `{"id":"a","title":"Microsoft links Fancy Bear to attack","text":"Russia's GRU hackers targeted Microsoft customers.","published":"2026-11-01"}
not json
{"id":"b","title":"Bake a pie","text":"Apples and flour."}
`
	code, out, errOut := run(t, nil, in, "classify", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if !strings.Contains(errOut, "line 2:") {
		t.Errorf("stderr %q does not name line 2", errOut)
	}
	if code == 0 {
		t.Error("exit 0 despite a malformed line")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d output lines, want 2:\n%s", len(lines), out)
	}
	var a, b map[string]any
	json.Unmarshal([]byte(lines[0]), &a)
	json.Unmarshal([]byte(lines[1]), &b)
	if a["id"] != "a" || b["id"] != "b" {
		t.Errorf("ids out of order: %v, %v", a["id"], b["id"])
	}
	for _, k := range []string{"id", "signatories", "companies", "state_linked", "states", "actors", "attack_types", "principles", "severity", "evidence"} {
		if _, ok := a[k]; !ok {
			t.Errorf("output lacks %q", k)
		}
	}
	if a["state_linked"] != true || fmt.Sprint(a["states"]) != "[Russia]" || fmt.Sprint(a["signatories"]) != "[Microsoft]" {
		t.Errorf("item a: got %v", lines[0])
	}
	if b["state_linked"] != false || fmt.Sprint(b["signatories"]) != "[]" {
		t.Errorf("item b: got %v", lines[1])
	}
}

func TestReplayRealFeedFiles(t *testing.T) {
	const dir = "../../../shared/data/feeds"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	cfg := writeConfig(t, t.TempDir(), "data_dir: data\n")
	code, out, errOut := run(t, nil, "", "run", "--once", "--feeds", dir, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "FAILED") {
		t.Errorf("a real feed file failed:\n%s", out)
	}
	entries, _ := os.ReadDir(dir)
	files := 0
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".xml") {
			files++
		}
	}
	if got := strings.Count(out, " ok "); got < files {
		t.Errorf("got %d feeds ok, want %d:\n%s", got, files, out)
	}
	if res := searchJSON(t, nil, "--config", cfg, "signatory:microsoft"); res.Total == 0 {
		t.Error("no Microsoft items found in the replayed feeds")
	}
	if res := searchJSON(t, nil, "--config", cfg, "ransomware"); res.Total == 0 {
		t.Error("no ransomware items found in the replayed feeds")
	}
}

func TestServeAnswersSearchAndShutsDownCleanly(t *testing.T) {
	feedsSrv := feedServer(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf("data_dir: data\nlisten: 127.0.0.1:0\nfetch:\n  allow_private_networks: true\nfeeds:\n  - name: News\n    url: %s/news.rss\n", feedsSrv.URL))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var serveErr bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &serveErr, func(string) string { return "" })
	}()
	dataDir := filepath.Join(dir, "data")
	var o owner
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		if o, ok = readOwner(dataDir); ok && o.Listen != "" && !strings.HasSuffix(o.Listen, ":0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", serveErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + o.Listen + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// The catch-up poll runs at start; wait until the item is searchable
	// through the CLI, which must go through serve's API (serve holds the
	// lock, so opening the index directly would fail).
	for {
		res := searchJSON(t, nil, "--config", cfg, "state:russia")
		if res.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item never became searchable through serve; log:\n%s", serveErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, out, errOut := run(t, nil, "", "run", "--once", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, fmt.Sprintf("in use by pid %d", os.Getpid())) {
		t.Errorf("second owner: got exit %d, stderr %q; want the pid that holds the data dir", code, errOut)
	}
	resp, err = http.Get("http://" + o.Listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metricsBody), `accordwatch_feed_fetches_total{result="ok"}`) {
		t.Errorf("/metrics lacks fetch counters:\n%.500s", metricsBody)
	}
	code, out, _ = run(t, nil, "", "feeds", "--config", cfg)
	if code != 0 || !strings.Contains(out, "News") || !strings.Contains(out, " ok ") {
		t.Errorf("feeds through serve: exit %d\n%s", code, out)
	}
	resp, err = http.Get("http://" + o.Listen + "/api/search?q=" + url.QueryEscape("state:russia AND ("))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad query over HTTP: got %v %v, want 400", resp.Status, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, serveErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, ok := readOwner(dataDir); ok {
		t.Error("owner file left behind after a clean shutdown")
	}
}

func TestEvalCommand(t *testing.T) {
	const gold = "../../../shared/data/eval/dev.jsonl"
	if _, err := os.Stat(gold); err != nil {
		t.Skipf("dev set not available: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "none.yaml")
	code, out, errOut := run(t, nil, "", "eval", "--gold", gold, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"92 items", "signatories", "states", "state_linked", "principles", "attack type accuracy", "Misses"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = run(t, nil, "", "eval", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "--gold") {
		t.Errorf("eval without --gold: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"id\":\"a\"}\nnot json\n"), 0o600)
	code, _, errOut = run(t, nil, "", "eval", "--gold", bad, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "line 2") {
		t.Errorf("malformed gold: exit %d, %q; want line 2 named", code, errOut)
	}
}

func TestClassifyExplain(t *testing.T) {
	in := `{"id":"x1","title":"Chinese state-sponsored hackers exploit Cisco zero-day","text":"Salt Typhoon targeted telecom providers."}` + "\n"
	code, out, errOut := run(t, nil, in, "classify", "--explain", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"x1", "signatory:Cisco", `"Cisco"`, "title@", "state:China", "RULE", "severity"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}
}

func TestDictImportTakesEffectWithoutRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "data_dir: data\n")
	misp := filepath.Join(dir, "threat-actor.json")
	os.WriteFile(misp, []byte(`{"values":[{"value":"Glasswing Mantis","meta":{"country":"CN","synonyms":["GLASSWING"]}},{"value":"APT28","meta":{"country":"RU","synonyms":["Pawn Storm Reloaded"]}}]}`), 0o600)
	code, out, errOut := run(t, nil, "", "dict", "import", "--misp", misp, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "read 2 actors") || !strings.Contains(out, "1 new") || !strings.Contains(out, filepath.Join("data", "dictionaries", "misp-actors.json")) {
		t.Errorf("unexpected report:\n%s", out)
	}
	in := `{"id":"n1","title":"Glasswing Mantis breaches telecom networks","text":"Pawn Storm Reloaded was also active."}` + "\n"
	code, out, errOut = run(t, nil, in, "classify", "--config", cfg)
	if code != 0 {
		t.Fatalf("classify: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"Glasswing Mantis"`) || !strings.Contains(out, `"APT28"`) || !strings.Contains(out, `"China"`) {
		t.Errorf("imported actors not used:\n%s", out)
	}
	code, _, errOut = run(t, nil, "", "dict", "import", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "exactly one of") {
		t.Errorf("no source: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	code, _, errOut = run(t, nil, "", "dict", "import", "--attack", bad, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "bad.json") {
		t.Errorf("malformed dataset: exit %d, %q", code, errOut)
	}
}

func TestDictImportRealDatasets(t *testing.T) {
	const ta = "../../../shared/data/threat-actors/"
	if _, err := os.Stat(ta); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	cfg := writeConfig(t, t.TempDir(), "data_dir: data\n")
	for _, src := range []struct{ flag, file string }{{"--misp", "misp-threat-actor.json"}, {"--attack", "attack-groups.json"}, {"--microsoft", "microsoft-threat-actor-naming.json"}} {
		code, out, errOut := run(t, nil, "", "dict", "import", src.flag, ta+src.file, "--config", cfg)
		if code != 0 || !strings.Contains(out, "wrote") {
			t.Errorf("%s: exit %d\n%s%s", src.flag, code, out, errOut)
		}
	}
	// The embedded dictionaries were generated from these very files, so a
	// re-import adds (almost) nothing.
	code, out, _ := run(t, nil, "", "dict", "import", "--misp", ta+"misp-threat-actor.json", "--config", cfg)
	if code != 0 || !strings.Contains(out, " 0 new") {
		t.Errorf("re-importing the generator's own source found new actors:\n%s", out)
	}
}
