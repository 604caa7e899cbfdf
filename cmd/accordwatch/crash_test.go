package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashStories are the items of the crash feed: six unrelated stories,
// and a second source of the first (same link), which must arrive as a
// reply in the first one's thread.
var crashStories = []struct{ guid, title, link string }{
	{"c1", "Volcano observatory network defaced", "https://crash.example/volcano"},
	{"c2", "Glacier survey firm leaks passwords", "https://crash.example/glacier"},
	{"c3", "Orchard cooperative hit by wiper", "https://crash.example/orchard"},
	{"c4", "Lighthouse registry exposes records", "https://crash.example/lighthouse"},
	{"c5", "Bakery chain payment skimmer found", "https://crash.example/bakery"},
	{"c6", "Harbour pilots scheduling outage", "https://crash.example/harbour"},
	{"c7", "Observatory defacement claimed by hacktivists", "https://crash.example/volcano"},
}

func crashFeed() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Crash</title><link>https://crash.example/</link><description>d</description>`)
	for i, s := range crashStories {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>Zebracorn incident report %d.</description></item>`,
			s.title, s.link, s.guid, time.Now().UTC().Add(-time.Duration(10-i)*time.Minute).Format(time.RFC1123Z), i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// digestChannel receives the weekly digest, kept apart from the alerts.
const digestChannel = "#digest"

// crashSlack is a recordingSlack with failure modes. Down, it answers
// 503 or drops the connection; slow, it accepts a post (records it, as
// Slack would have posted it) and only answers after a delay or when the
// client is gone.
type crashSlack struct {
	*recordingSlack
	mu       sync.Mutex
	mode     string // "up", "down" or "slow"
	attempts int    // alert requests, in any mode
}

func newCrashSlack(t *testing.T) *crashSlack {
	f := &crashSlack{mode: "up"}
	f.recordingSlack = newGatedSlack(t, "C0CRASH", f.gate)
	return f
}

func (f *crashSlack) gate(w http.ResponseWriter, r *http.Request) (bool, time.Duration) {
	if r.PostForm.Get("channel") == digestChannel {
		// The weekly digest's catch-up at start is not under test.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"channel":"CDIGEST","ts":"1.0"}`)
		return true, 0
	}
	f.mu.Lock()
	f.attempts++
	mode, n := f.mode, f.attempts
	f.mu.Unlock()
	switch mode {
	case "down":
		if hj, ok := w.(http.Hijacker); ok && n%2 == 0 {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true, 0
			}
		}
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return true, 0
	case "slow":
		return false, 10 * time.Second
	}
	return false, 0
}

func (f *crashSlack) set(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

func (f *crashSlack) counts() (attempts, posts, updates int) {
	p, u := f.calls()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, len(p), len(u)
}

// tally counts the posts naming each story, and returns the thread_ts of
// each post naming it.
func (f *crashSlack) tally() (count map[string]int, threads map[string][]string, tsOf map[string][]string) {
	posts, _ := f.calls()
	count, threads, tsOf = map[string]int{}, map[string][]string{}, map[string][]string{}
	for i, p := range posts {
		body := p.Get("text") + p.Get("blocks")
		for _, s := range crashStories {
			if strings.Contains(body, s.title) {
				count[s.guid]++
				threads[s.guid] = append(threads[s.guid], p.Get("thread_ts"))
				tsOf[s.guid] = append(tsOf[s.guid], fmt.Sprintf("1764000000.%06d", i+1))
			}
		}
	}
	return count, threads, tsOf
}

// serveProc is serve running as a real process (see TestMain).
type serveProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startServe(t *testing.T, cfg string, env []string) *serveProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "ACCORDWATCH_RUN_MAIN=1", "ACCORDWATCH_ARGS=serve --config "+cfg), env...)
	sp := &serveProc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = sp.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { sp.done <- cmd.Wait() }()
	t.Cleanup(func() { sp.kill() })
	return sp
}

func (sp *serveProc) kill() {
	sp.cmd.Process.Signal(syscall.SIGKILL)
	<-sp.done
	sp.done <- nil // later kills return at once
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, sp *serveProc, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; serve log:\n%s", within, what, lastLines(sp.stderr.String(), 30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestCrashLosesNoAlert kills serve with SIGKILL at the worst moments and
// checks that, after a restart, every alert arrives — exactly once when
// the kill came while Slack was down, at most once more when it came in
// the middle of a post.
func TestCrashLosesNoAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a subprocess several times")
	}
	body := crashFeed()
	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(feedSrv.Close)

	setup := func(t *testing.T) (string, *crashSlack, []string) {
		dir := t.TempDir()
		cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
listen: 127.0.0.1:0
timezone: UTC
polling:
  min_interval: 1m
feeds:
  - name: Crash
    url: %s/crash.rss
    schedule: "@every 1m"
rules:
  - name: zebracorn
    query: zebracorn
digest:
  channel: "#digest"
`, feedSrv.URL))
		slack := newCrashSlack(t)
		env := []string{"SLACK_BOT_TOKEN=xoxb-crash-token", "SLACK_API_URL=" + slack.URL + "/api/", "SLACK_CHANNEL=#crash"}
		return cfg, slack, env
	}
	// check waits for every story and reports duplicates; the follow-up
	// must be in the thread of (one of) the first story's posts.
	check := func(t *testing.T, sp *serveProc, slack *crashSlack) int {
		waitFor(t, sp, 25*time.Second, "every alert and the parent update", func() bool {
			count, _, _ := slack.tally()
			_, _, updates := slack.counts()
			return len(count) == len(crashStories) && updates > 0
		})
		time.Sleep(1500 * time.Millisecond) // room for a late duplicate
		count, threads, tsOf := slack.tally()
		dups := 0
		for _, s := range crashStories {
			dups += count[s.guid] - 1
		}
		parents := tsOf["c1"]
		for _, th := range threads["c7"] {
			if !strings.Contains(strings.Join(parents, " "), th) || th == "" {
				t.Errorf("follow-up c7 posted with thread_ts %q, want one of c1's messages %v", th, parents)
			}
		}
		for _, s := range crashStories[:6] {
			for _, th := range threads[s.guid] {
				if th != "" {
					t.Errorf("incident %s posted in thread %q, want a new message", s.guid, th)
				}
			}
		}
		return dups
	}

	t.Run("killed while Slack is down", func(t *testing.T) {
		t.Parallel()
		cfg, slack, env := setup(t)
		slack.set("down")
		sp := startServe(t, cfg, env)
		waitFor(t, sp, 20*time.Second, "a delivery attempt", func() bool { a, _, _ := slack.counts(); return a > 0 })
		sp.kill()
		slack.set("up")
		sp2 := startServe(t, cfg, env)
		if dups := check(t, sp2, slack); dups != 0 {
			count, _, _ := slack.tally()
			t.Errorf("got %d duplicates (%v), want every alert exactly once", dups, count)
		}
		sp2.kill()
		if strings.Contains(sp.stderr.String()+sp2.stderr.String(), "xoxb-crash-token") {
			t.Error("the bot token leaked into the log")
		}
	})

	t.Run("killed while posting", func(t *testing.T) {
		t.Parallel()
		cfg, slack, env := setup(t)
		slack.set("slow")
		sp := startServe(t, cfg, env)
		waitFor(t, sp, 20*time.Second, "a post in flight", func() bool { _, p, _ := slack.counts(); return p > 0 })
		sp.kill()
		slack.set("up")
		sp2 := startServe(t, cfg, env)
		dups := check(t, sp2, slack)

		count, _, _ := slack.tally()
		t.Logf("killed mid-post: %d duplicate message(s) after the restart (at most 1 allowed); posts per story %v", dups, count)
		if dups > 1 {
			t.Errorf("got %d duplicates (%v), want at most 1", dups, count)
		}
		sp2.kill()
	})
}
