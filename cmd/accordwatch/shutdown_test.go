package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	bolt "go.etcd.io/bbolt"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
)

// The shutdown lines serve logs, in the order it must log them (see
// shutdown). lineSocketClosed comes after lineJobsStopped when Socket
// Mode is on.
const (
	lineShuttingDown  = "shutting down"
	lineStopAccepting = "stopped accepting API requests; those in flight finished"
	lineJobsStopped   = "jobs stopped"
	lineSocketClosed  = "Socket Mode closed"
	lineWriterDrained = "writer drained"
	lineIndexClosed   = "index closed"
	lineStoreClosed   = "store closed"
	lineStopped       = "stopped cleanly"
)

// blockingFeed is a feed server whose answer never comes: a poll of it
// runs until the client gives up, which the test sees.
type blockingFeed struct {
	*httptest.Server
	polling   chan struct{} // closed when the first request arrives
	abandoned chan struct{} // closed when the client gave up on it
}

func newBlockingFeed(t *testing.T) *blockingFeed {
	f := &blockingFeed{polling: make(chan struct{}), abandoned: make(chan struct{})}
	var arrived, gone sync.Once
	stop := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Do(func() { close(f.polling) })
		select {
		case <-r.Context().Done():
			gone.Do(func() { close(f.abandoned) })
		case <-stop: // the test is over
		}
	}))
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(stop) }) // before Close, which waits for handlers
	return f
}

// shutdownSlack is a fake Slack: chat.postMessage (only the digest posts
// here: no rule alerts) is held until the client gives up;
// apps.connections.open points Socket Mode at a local websocket, which
// says hello and then only listens; any other method answers ok.
type shutdownSlack struct {
	*httptest.Server
	posting, postAbandoned chan struct{}
	wsOpen, wsClosed       chan struct{}
}

func newShutdownSlack(t *testing.T) *shutdownSlack {
	f := &shutdownSlack{posting: make(chan struct{}), postAbandoned: make(chan struct{}), wsOpen: make(chan struct{}), wsClosed: make(chan struct{})}
	var posting, abandoned, opened, closed sync.Once
	stop := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws":
			// slack-go sends Origin https://api.slack.com.
			up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1}`)); err != nil {
				return
			}
			opened.Do(func() { close(f.wsOpen) })
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					closed.Do(func() { close(f.wsClosed) })
					return
				}
			}
		case "/api/apps.connections.open":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/ws"}`, r.Host)
		case "/api/chat.postMessage":
			// Read the body: only then does the server notice the client
			// going away.
			io.Copy(io.Discard, r.Body)
			posting.Do(func() { close(f.posting) })
			select {
			case <-r.Context().Done():
				abandoned.Do(func() { close(f.postAbandoned) })
			case <-stop: // the test is over
			}
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(stop) }) // before Close, which waits for handlers
	return f
}

// shutdownSetup is a serve config and environment.
type shutdownSetup struct {
	cfg, dataDir string
	env          map[string]string
	// feedURL is the blocking feed's, if any.
	feedURL string
}

// busyWith says what serve is to be busy with.
type busyWith struct {
	// feed, when set, is serve's one feed: a poll that never ends.
	feed *blockingFeed
	// slack, when set, is the Slack serve talks to.
	slack *shutdownSlack
	// digest makes last week's digest due at start: the store is
	// backdated, so that week is one it watched.
	digest bool
	// socketMode turns Socket Mode on.
	socketMode bool
}

func newShutdownSetup(t *testing.T, b busyWith) shutdownSetup {
	t.Helper()
	feed, slack := b.feed, b.slack
	dir := t.TempDir()
	body := "data_dir: data\nlisten: 127.0.0.1:0\ntimezone: UTC\n" +
		"fetch:\n  allow_private_networks: true # the test's servers are on loopback\n" +
		"digest:\n  schedule: \"0 0 * * MON\"\n  channel: \"#digest\"\n"
	s := shutdownSetup{dataDir: filepath.Join(dir, "data"), env: map[string]string{}}
	if feed != nil {
		url := feed.URL + "/slow.rss"
		s.feedURL = url
		body += fmt.Sprintf("feeds:\n  - name: Slow\n    url: %s\n", url)
		// Due in a moment: a feed never polled would start at a jittered
		// time up to 10 s after the start.
		st, err := store.Open(filepath.Join(s.dataDir, storeFile), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SaveFeedState(accordwatch.FeedState{URL: url, NextCheckAt: time.Now().Add(2 * time.Second).UTC()}); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	s.cfg = writeConfig(t, dir, body)
	if slack != nil {
		s.env["SLACK_BOT_TOKEN"] = "xoxb-shutdown-test"
		s.env["SLACK_API_URL"] = slack.URL + "/api/"
		s.env["SLACK_CHANNEL"] = "#alerts"
	}
	if b.digest {
		backdateStore(t, s.dataDir)
	}
	if b.socketMode {
		s.env["SLACK_APP_TOKEN"] = "xapp-1-shutdown-test"
	}
	return s
}

func (s shutdownSetup) environ() []string {
	var out []string
	for k, v := range s.env {
		out = append(out, k+"="+v)
	}
	return out
}

// backdateStore creates the store with a creation time a month ago, so
// serve's catch-up finds last week's digest due. (A new store would skip
// a week it did not watch from its start.)
func backdateStore(t *testing.T, dataDir string) {
	t.Helper()
	path := filepath.Join(dataDir, storeFile)
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created, _ := time.Now().AddDate(0, -1, 0).UTC().MarshalText()
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("created"), created) }); err != nil {
		t.Fatal(err)
	}
}

// checkShutdownLog checks that log has each of want as a message, in
// that order, and no error line.
func checkShutdownLog(t *testing.T, log string, want ...string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	at := -1
	for _, msg := range want {
		i := slices.IndexFunc(lines[at+1:], func(l string) bool { return strings.Contains(l, fmt.Sprintf("msg=%q", msg)) })
		if i < 0 {
			t.Errorf("no %q after line %d of the log; want %q in this order:\n%s", msg, at+1, want, log)
			return
		}
		at += 1 + i
	}
	for _, l := range lines {
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("error line in the log: %s", l)
		}
	}
}

// checkFeedStateKept checks that the poll cut off by the shutdown was not
// recorded as the feed's failure, which would postpone its next poll.
func checkFeedStateKept(t *testing.T, s shutdownSetup) {
	t.Helper()
	st, err := store.Open(filepath.Join(s.dataDir, storeFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, _, err := st.FeedState(s.feedURL)
	if err != nil {
		t.Fatal(err)
	}
	if fs.ConsecutiveFailures != 0 || fs.LastError != "" {
		t.Errorf("the cancelled poll was recorded as a failure: %d failure(s), %q; want the state left as it was", fs.ConsecutiveFailures, fs.LastError)
	}
}

// waitClosed waits for ch to be closed, up to a hang guard.
func waitClosed(t *testing.T, ch <-chan struct{}, what string, log func() string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s; log:\n%s", what, lastLines(log(), 30))
	}
}

// TestSIGTERMStopsServeInOrder sends SIGTERM to serve (a real process)
// while it is busy and checks that it exits 0 after the ordered teardown:
// during a poll that would never end (the poll is cancelled, not waited
// out), during the catch-up digest's post (cancelled, not waited out),
// and with Socket Mode connected (the connection is closed before the
// index).
func TestSIGTERMStopsServeInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a subprocess")
	}
	all := []string{lineShuttingDown, lineStopAccepting, lineJobsStopped, lineWriterDrained, lineIndexClosed, lineStoreClosed, lineStopped}
	tests := []struct {
		name string
		// start sets up the fakes and returns the setup, what to wait for
		// before the signal and what must have happened after it.
		start func(t *testing.T) (s shutdownSetup, busy, after map[string]<-chan struct{})
		want  []string
	}{
		{
			name: "during a poll",
			start: func(t *testing.T) (shutdownSetup, map[string]<-chan struct{}, map[string]<-chan struct{}) {
				feed := newBlockingFeed(t)
				return newShutdownSetup(t, busyWith{feed: feed}),
					map[string]<-chan struct{}{"the poll": feed.polling},
					map[string]<-chan struct{}{"the poll cancelled": feed.abandoned}
			},
			want: all,
		},
		{
			name: "during the digest post",
			start: func(t *testing.T) (shutdownSetup, map[string]<-chan struct{}, map[string]<-chan struct{}) {
				slack := newShutdownSlack(t)
				return newShutdownSetup(t, busyWith{slack: slack, digest: true}),
					map[string]<-chan struct{}{"the digest post": slack.posting},
					map[string]<-chan struct{}{"the digest post cancelled": slack.postAbandoned}
			},
			want: all,
		},
		{
			name: "with Socket Mode connected",
			start: func(t *testing.T) (shutdownSetup, map[string]<-chan struct{}, map[string]<-chan struct{}) {
				slack := newShutdownSlack(t)
				return newShutdownSetup(t, busyWith{slack: slack, socketMode: true}),
					map[string]<-chan struct{}{"the Socket Mode connection": slack.wsOpen},
					map[string]<-chan struct{}{"the Socket Mode connection closed": slack.wsClosed}
			},
			want: []string{lineShuttingDown, lineStopAccepting, lineJobsStopped, lineSocketClosed, lineWriterDrained, lineIndexClosed, lineStoreClosed, lineStopped},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, busy, after := tt.start(t)
			sp := startServe(t, s.cfg, s.environ())
			for what, ch := range busy {
				waitClosed(t, ch, what, sp.stderr.String)
			}
			if err := sp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-sp.done:
				sp.done <- err // for the cleanup's kill
				if err != nil {
					t.Errorf("serve exited with %v after SIGTERM, want 0; log:\n%s", err, sp.stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("serve still running 30s after SIGTERM; log:\n%s", lastLines(sp.stderr.String(), 30))
			}
			for what, ch := range after {
				waitClosed(t, ch, what, sp.stderr.String)
			}
			checkShutdownLog(t, sp.stderr.String(), tt.want...)
			if s.feedURL != "" {
				checkFeedStateKept(t, s)
			}
			if _, err := os.Stat(filepath.Join(s.dataDir, ownerFile)); !os.IsNotExist(err) {
				t.Errorf("owner file still there after shutdown (stat: %v)", err)
			}
		})
	}
}

// TestServeShutdownLeavesNoGoroutine runs serve in this process with a
// poll, the digest post and a Socket Mode connection all in progress,
// cancels its context and checks that Main returns 0 after the ordered
// teardown and that every goroutine it started is gone.
func TestServeShutdownLeavesNoGoroutine(t *testing.T) {
	before := goroutineIDs()
	feed := newBlockingFeed(t)
	slack := newShutdownSlack(t)
	s := newShutdownSetup(t, busyWith{feed: feed, slack: slack, digest: true, socketMode: true})

	var log lockedBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--config", s.cfg}, strings.NewReader(""), &bytes.Buffer{}, &log, func(k string) string { return s.env[k] })
	}()
	waitClosed(t, feed.polling, "the poll", log.String)
	waitClosed(t, slack.posting, "the digest post", log.String)
	waitClosed(t, slack.wsOpen, "the Socket Mode connection", log.String)

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after cancel, want 0; log:\n%s", code, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30s after cancel; log:\n%s", lastLines(log.String(), 30))
	}
	checkShutdownLog(t, log.String(), lineShuttingDown, lineStopAccepting, lineJobsStopped, lineSocketClosed, lineWriterDrained, lineIndexClosed, lineStoreClosed, lineStopped)
	for what, ch := range map[string]chan struct{}{"the poll cancelled": feed.abandoned, "the digest post cancelled": slack.postAbandoned, "the Socket Mode connection closed": slack.wsClosed} {
		waitClosed(t, ch, what, log.String)
	}
	checkFeedStateKept(t, s)

	// The fakes are the test's: close them, then whatever goroutine is
	// new since the start is serve's.
	feed.Close()
	slack.Close()
	var left []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		left = newGoroutines(before)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutine(s) left after serve returned:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeExitsNonZeroWhenTheAPIServerDies closes serve's listener from
// under its HTTP server: serve must say why and exit non-zero, after the
// same ordered teardown, leaving the data dir free.
func TestServeExitsNonZeroWhenTheAPIServerDies(t *testing.T) {
	s := newShutdownSetup(t, busyWith{})
	lns := make(chan net.Listener, 1)
	ctx := context.WithValue(t.Context(), listenHookKey{}, func(ln net.Listener) { lns <- ln })
	var log lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--config", s.cfg}, strings.NewReader(""), &bytes.Buffer{}, &log, func(k string) string { return s.env[k] })
	}()
	var ln net.Listener
	select {
	case ln = <-lns:
	case code := <-done:
		t.Fatalf("serve exited %d before listening; log:\n%s", code, log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve never handed its listener to the hook; log:\n%s", log.String())
	}
	// Kill the server once it serves: the daemon is up when the scheduler
	// has started.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), `msg="scheduler started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ln.Close()

	select {
	case code := <-done:
		if code == 0 {
			t.Errorf("serve exited 0 after its API server died, want non-zero; log:\n%s", log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30s after its API server died; log:\n%s", lastLines(log.String(), 30))
	}
	out := log.String()
	if !regexp.MustCompile(`accordwatch: API server stopped: .*use of closed network connection`).MatchString(out) {
		t.Errorf("no reason for the exit; log:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	at := -1
	for _, msg := range []string{"API server stopped; shutting down", lineJobsStopped, lineWriterDrained, lineIndexClosed, lineStoreClosed, "stopped"} {
		i := slices.IndexFunc(lines[at+1:], func(l string) bool {
			return strings.Contains(l, fmt.Sprintf("msg=%q", msg)) || strings.Contains(l, "msg="+msg+" ")
		})
		if i < 0 {
			t.Fatalf("no %q after line %d of the log:\n%s", msg, at+1, out)
		}
		at += 1 + i
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, ownerFile)); !os.IsNotExist(err) {
		t.Errorf("owner file still there after shutdown (stat: %v)", err)
	}
}

// goroutineIDs returns the IDs of the goroutines running now.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

// newGoroutines returns the stacks of the goroutines not in before,
// leaving out the caller's.
func newGoroutines(before map[string]bool) []string {
	var out []string
	for i, g := range goroutineStacks() {
		if i == 0 || before[goroutineID(g)] {
			continue // the first one is the caller
		}
		out = append(out, g)
	}
	return out
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineID is the N of a stack's "goroutine N [state]:" header.
func goroutineID(stack string) string {
	f := strings.Fields(stack)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// TestShutdownCutsOffRequestsPastTheGrace: a request still running when
// the HTTP grace is over has its connection closed, and the teardown
// says so and fails — serve then exits non-zero — after closing the rest.
func TestShutdownCutsOffRequestsPastTheGrace(t *testing.T) {
	inFlight := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-r.Context().Done() // never answers on its own
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	sd := newShutdown(slog.New(slog.NewTextHandler(&log, nil)), &app{})
	sd.httpGrace = 100 * time.Millisecond
	sd.ln = ln
	sd.serve(srv, ln)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	waitClosed(t, inFlight, "the request", log.String)

	err = sd.close(nil)
	if err == nil || !strings.Contains(err.Error(), "stop the API server: context deadline exceeded") {
		t.Errorf("close() = %v, want the Shutdown error", err)
	}
	if err := <-answered; err == nil {
		t.Error("the request cut off by the shutdown got an answer, want its connection closed")
	}
	lines := strings.Split(log.String(), "\n")
	cut := slices.IndexFunc(lines, func(l string) bool {
		return strings.Contains(l, "level=ERROR") && strings.Contains(l, `msg="API requests still running; closing their connections"`)
	})
	closed := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, fmt.Sprintf("msg=%q", lineStoreClosed)) })
	if cut < 0 || closed < cut {
		t.Errorf("want the cut-off logged as an error, then the store closed; log:\n%s", log.String())
	}
}

// TestShutdownGoesOnWithoutStuckJobs: a job that ignores cancellation
// holds the teardown up only for the jobs' grace, is named in a warning,
// and does not fail the exit.
func TestShutdownGoesOnWithoutStuckJobs(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	jobs, cancel := context.WithCancel(t.Context())
	var log lockedBuffer
	sd := newShutdown(slog.New(slog.NewTextHandler(&log, nil)), &app{})
	sd.jobsGrace = 100 * time.Millisecond
	sd.cancelJobs = cancel
	sd.tasks = []*task{
		goTask("polite", func() { <-jobs.Done() }),
		goTask("stuck", func() { <-release }),
	}
	if err := sd.close(nil); err != nil {
		t.Errorf("close() = %v, want nil: a stuck job is a warning", err)
	}
	checkShutdownLog(t, log.String(), "jobs still running; going on without them", lineIndexClosed, lineStoreClosed, lineStopped)
	if !regexp.MustCompile(`level=WARN msg="jobs still running; going on without them" after=100ms jobs=\[stuck\]`).MatchString(log.String()) {
		t.Errorf("want a warning naming only the stuck job; log:\n%s", log.String())
	}
}
