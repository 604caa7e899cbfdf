package monitor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
)

// feedServer is an in-process feed publisher whose answer tests change.
type feedServer struct {
	mu      sync.Mutex
	status  int
	headers map[string]string
	ttl     string
	paths   []string
	ifNone  []string
}

func (s *feedServer) set(status int, headers map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.headers = status, headers
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.URL.Path)
	s.ifNone = append(s.ifNone, r.Header.Get("If-None-Match"))
	if r.URL.Path == "/old" {
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		return
	}
	for k, v := range s.headers {
		w.Header().Set(k, v)
	}
	if s.status != http.StatusOK {
		w.WriteHeader(s.status)
		return
	}
	w.Header().Set("ETag", `"v1"`)
	if r.Header.Get("If-None-Match") == `"v1"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	ttl := ""
	if s.ttl != "" {
		ttl = "<ttl>" + s.ttl + "</ttl>"
	}
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>%s
<item><title>Microsoft patches zero-day</title><link>https://ex.example/a</link><guid>a</guid><description>x</description></item>
<item><title>APT28 phishing wave</title><link>https://ex.example/b</link><guid>b</guid><description>y</description></item>
</channel></rss>`, ttl)
}

type healthRig struct {
	srv  *feedServer
	p    *Pipeline
	ms   *memStore
	ops  *opsRecorder
	met  *metricsRecorder
	logs *bytes.Buffer
}

func newHealthRig(t *testing.T, idx Index) *healthRig {
	t.Helper()
	r := &healthRig{srv: &feedServer{status: http.StatusOK}, ms: newMemStore(), ops: &opsRecorder{}, met: &metricsRecorder{}, logs: &bytes.Buffer{}}
	if idx == nil {
		idx = nopIndex{}
	}
	f := feeds.New(feeds.Options{Client: &http.Client{Transport: handlerTransport{r.srv}}})
	var err error
	r.p, err = New(Options{
		Fetcher: f, Classifier: nopClassifier{}, Store: r.ms, Index: idx, Notifier: &countingNotifier{},
		Ops: r.ops, Metrics: r.met, UnhealthyAfter: 6 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: r.logs}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var exampleFeed = accordwatch.Feed{Name: "Example", URL: "https://ex.example/feed"}

func TestUnhealthyFeedSendsOneOpsMessageAndOneOnRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newHealthRig(t, nil)
		t0 := time.Now().UTC()
		r.srv.set(http.StatusInternalServerError, nil)
		steps := []struct {
			after    time.Duration // since the previous step
			status   int
			wantMsgs int
		}{
			{0, 500, 0},
			{3 * time.Hour, 500, 0},
			{3 * time.Hour, 500, 1}, // 6h of failures
			{time.Hour, 500, 0},     // told already
			{time.Hour, 200, 1},     // recovered
			{time.Hour, 200, 0},
			{time.Hour, 500, 0}, // a new run starts its own clock
		}
		for i, s := range steps {
			time.Sleep(s.after)
			r.srv.set(s.status, nil)
			rep := r.p.PollFeed(t.Context(), exampleFeed)
			if (rep.Err != nil) != (s.status != 200) {
				t.Fatalf("step %d: got error %v, want failure %v", i, rep.Err, s.status != 200)
			}
			st := r.ms.states[exampleFeed.URL]
			msgs := r.ops.take()
			if len(msgs) != s.wantMsgs {
				t.Fatalf("step %d: got ops messages %q, want %d", i, msgs, s.wantMsgs)
			}
			switch i {
			case 0:
				if !st.UnhealthySince.Equal(t0) {
					t.Errorf("got unhealthy since %s, want the first failure %s", st.UnhealthySince, t0)
				}
			case 2:
				want := fmt.Sprintf("Feed Example (https://ex.example/feed) has failed since 2000-01-01T00:00:00Z: HTTP 500 Internal Server Error; 3 attempts; next try %s",
					st.NextCheckAt.Format(time.RFC3339))
				if msgs[0] != want {
					t.Errorf("got message\n%q, want\n%q", msgs[0], want)
				}
				if !st.OpsNotified {
					t.Error("got OpsNotified false after the message, want true")
				}
			case 4:
				want := "Feed Example (https://ex.example/feed) recovered after 8h0m0s of failures"
				if msgs[0] != want {
					t.Errorf("got message %q, want %q", msgs[0], want)
				}
				if !st.UnhealthySince.IsZero() || st.OpsNotified {
					t.Errorf("after recovery got unhealthy since %s, notified %v; want both cleared", st.UnhealthySince, st.OpsNotified)
				}
			case 6:
				if !st.UnhealthySince.Equal(t0.Add(10 * time.Hour)) {
					t.Errorf("new run: got unhealthy since %s, want %s", st.UnhealthySince, t0.Add(10*time.Hour))
				}
			}
		}
	})
}

func TestFailedOpsMessageIsRetriedNotSpammed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newHealthRig(t, nil)
		r.srv.set(http.StatusBadGateway, nil)
		r.ops.fail = true
		poll := func(after time.Duration, status int) accordwatch.FeedState {
			time.Sleep(after)
			r.srv.set(status, nil)
			r.p.PollFeed(t.Context(), exampleFeed)
			return r.ms.states[exampleFeed.URL]
		}
		poll(0, 502)
		if st := poll(7*time.Hour, 502); st.OpsNotified {
			t.Fatal("got OpsNotified with Slack down, want false so it is retried")
		}
		r.ops.fail = false
		poll(time.Hour, 502)
		poll(time.Hour, 502)
		if got := r.ops.take(); len(got) != 1 {
			t.Fatalf("got %d unhealthy messages, want exactly 1 once Slack is back", len(got))
		}
		// The recovery message fails: the run is kept until it is told.
		r.ops.fail = true
		if st := poll(time.Hour, 200); !st.OpsNotified || st.UnhealthySince.IsZero() {
			t.Fatalf("got notified %v, since %s; want the run kept until the recovery is announced", st.OpsNotified, st.UnhealthySince)
		}
		r.ops.fail = false
		st := poll(time.Hour, 200)
		got := r.ops.take()
		if len(got) != 1 || !strings.Contains(got[0], "recovered after 11h0m0s") {
			t.Errorf("got %q, want one recovery message counting from the first failure", got)
		}
		if st.OpsNotified || !st.UnhealthySince.IsZero() {
			t.Errorf("got notified %v, since %s; want both cleared", st.OpsNotified, st.UnhealthySince)
		}
	})
}

func TestServerHintsAndGoneSetTheNextCheck(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		ttl     string
		want    time.Duration
		gone    bool
		metric  string
	}{
		{name: "Cache-Control max-age", status: 200, headers: map[string]string{"Cache-Control": "max-age=7200"}, want: 2 * time.Hour, metric: "ok"},
		{name: "RSS ttl", status: 200, ttl: "180", want: 3 * time.Hour, metric: "ok"},
		{name: "max-age beyond the maximum", status: 200, headers: map[string]string{"Cache-Control": "max-age=604800"}, want: 24 * time.Hour, metric: "ok"},
		{name: "429 Retry-After", status: 429, headers: map[string]string{"Retry-After": "5400"}, want: 90 * time.Minute, metric: "error_http"},
		{name: "410 gone waits the maximum", status: 410, want: 24 * time.Hour, gone: true, metric: "error_gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newHealthRig(t, nil)
				r.srv.set(tt.status, tt.headers)
				r.srv.ttl = tt.ttl
				rep := r.p.PollFeed(t.Context(), exampleFeed)
				st := r.ms.states[exampleFeed.URL]
				if got := st.NextCheckAt.Sub(time.Now()); got != tt.want {
					t.Errorf("got next check in %s, want %s", got, tt.want)
				}
				if !rep.NextCheckAt.Equal(st.NextCheckAt) {
					t.Errorf("report says next check %s, state %s; want the same", rep.NextCheckAt, st.NextCheckAt)
				}
				if st.Gone != tt.gone {
					t.Errorf("got gone %v, want %v", st.Gone, tt.gone)
				}
				if len(r.met.results) != 1 || r.met.results[0] != tt.metric {
					t.Errorf("got metrics %q, want one %q", r.met.results, tt.metric)
				}
			})
		})
	}
}

func TestPermanentRedirectIsFollowedAndLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newHealthRig(t, nil)
		feed := accordwatch.Feed{Name: "Moved", URL: "https://ex.example/old"}
		first := r.p.PollFeed(t.Context(), feed)
		if first.Err != nil || first.New != 2 {
			t.Fatalf("first poll: got %+v, want 2 new items", first)
		}
		if first.MovedTo != "https://ex.example/new" || r.ms.states[feed.URL].MovedTo != "https://ex.example/new" {
			t.Errorf("got moved to %q (state %q), want https://ex.example/new", first.MovedTo, r.ms.states[feed.URL].MovedTo)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "feed moved permanently; polling the new URL") ||
			!strings.Contains(logs, "old_url=https://ex.example/old") || !strings.Contains(logs, "new_url=https://ex.example/new") {
			t.Errorf("got log %q, want the move with both URLs", logs)
		}
		r.srv.mu.Lock()
		r.srv.paths = nil
		r.srv.mu.Unlock()
		r.logs.Reset()
		time.Sleep(15 * time.Minute)
		second := r.p.PollFeed(t.Context(), feed)
		if second.Err != nil || second.New != 0 {
			t.Errorf("second poll: got %+v, want no new items (the move must not duplicate them)", second)
		}
		if r.srv.paths[0] != "/new" {
			t.Errorf("second poll asked for %v, want /new directly", r.srv.paths)
		}
		if strings.Contains(r.logs.String(), "moved permanently") {
			t.Error("the move was logged again on the second poll, want once")
		}
	})
}

func TestMetricsCountEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newHealthRig(t, nil)
		r.p.PollFeed(t.Context(), exampleFeed) // 200
		time.Sleep(15 * time.Minute)
		r.p.PollFeed(t.Context(), exampleFeed) // 304
		r.srv.set(http.StatusInternalServerError, nil)
		r.p.PollFeed(t.Context(), exampleFeed)
		want := []string{"ok", "not_modified", "error_http"}
		if fmt.Sprint(r.met.results) != fmt.Sprint(want) {
			t.Errorf("got %q, want %q", r.met.results, want)
		}
	})
}

func TestItemsNotStoredKeepOldValidators(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idx := &failingIndex{badTitle: "Microsoft patches zero-day"}
		r := newHealthRig(t, idx)
		rep := r.p.PollFeed(t.Context(), exampleFeed)
		st := r.ms.states[exampleFeed.URL]
		if rep.Err == nil || st.ConsecutiveFailures != 1 || !strings.Contains(st.LastError, "could not store the items") {
			t.Fatalf("got err %v, state failures %d reason %q; want a failure saying the items were not stored", rep.Err, st.ConsecutiveFailures, st.LastError)
		}
		if st.ETag != "" {
			t.Errorf("got ETag %q saved, want none: a 304 next time would lose the items", st.ETag)
		}
		if len(r.met.results) != 1 || r.met.results[0] != "error_pipeline" {
			t.Errorf("got metrics %q, want [error_pipeline]", r.met.results)
		}
		idx.badTitle = ""
		time.Sleep(15 * time.Minute)
		rep = r.p.PollFeed(t.Context(), exampleFeed)
		if rep.Err != nil || rep.New != 2 || r.srv.ifNone[1] != "" {
			t.Errorf("retry: got %+v with If-None-Match %q, want a full fetch storing 2 new items", rep, r.srv.ifNone[1])
		}
	})
}

func TestRunOnceGroupsCommitsAndIsolatesABadFeed(t *testing.T) {
	for _, bad := range []bool{false, true} {
		t.Run(fmt.Sprintf("bad feed %v", bad), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cs := &countingStore{memStore: newMemStore()}
				idx := &failingIndex{}
				if bad {
					idx.bad = "f7-3"
				}
				p, err := New(Options{
					Fetcher: funcFetcher(func(_ context.Context, f accordwatch.Feed) (feeds.Result, error) {
						var items []accordwatch.Item
						for i := range 5 {
							items = append(items, accordwatch.Item{ID: fmt.Sprintf("%s-%d", f.Name, i), ContentHash: "h"})
						}
						return feeds.Result{Items: items}, nil
					}),
					Classifier: nopClassifier{}, Store: cs, Index: idx, Notifier: &countingNotifier{},
					Rules: []accordwatch.Rule{{Name: "all", Query: "x"}},
				})
				if err != nil {
					t.Fatal(err)
				}
				var list []accordwatch.Feed
				for i := range 20 {
					list = append(list, accordwatch.Feed{Name: fmt.Sprintf("f%d", i), URL: fmt.Sprintf("https://h%d.example/", i)})
				}
				rep, err := p.RunOnce(t.Context(), list)
				if err != nil {
					t.Fatal(err)
				}
				for i, fr := range rep.Feeds {
					wantErr := bad && i == 7
					if (fr.Err != nil) != wantErr || (!wantErr && (fr.New != 5 || fr.Alerts != 5)) {
						t.Errorf("feed %d: got %+v, want error %v and otherwise 5 new items, 5 alerts", i, fr, wantErr)
					}
				}
				if got, want := len(cs.items), 100; bad && got != 95 || !bad && got != want {
					t.Errorf("got %d items stored, want %d", got, map[bool]int{false: 100, true: 95}[bad])
				}
				if !bad && cs.commits.Load() != 1 {
					t.Errorf("got %d commits for 20 feeds, want 1 grouped commit", cs.commits.Load())
				}
				if bad && cs.memStore.states["https://h7.example/"].ConsecutiveFailures != 1 {
					t.Errorf("bad feed: got state %+v, want one failure", cs.memStore.states["https://h7.example/"])
				}
			})
		})
	}
}
