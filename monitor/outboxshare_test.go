package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/pgstore"
)

var _ ChannelLocks = (*pgstore.DrainLocks)(nil)

// drainReplica is one replica delivering from a shared outbox: its own
// store connection, notifier and destination locks.
type drainReplica struct {
	p     *Pipeline
	locks *pgstore.DrainLocks
	mu    sync.Mutex
	serve []accordwatch.Item
}

func newDrainReplica(t *testing.T, dbURL accordwatch.Secret, slackURL string, opts ...func(*Options, *pgstore.Store)) *drainReplica {
	t.Helper()
	st, err := pgstore.Open(t.Context(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := notify.New(notify.Options{BotToken: "xoxb-test", Channel: "#" + wsChannelName, APIURL: slackURL + "/api/",
		PerChannelInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &drainReplica{locks: st.DrainLocks()}
	t.Cleanup(func() { r.locks.Close() })
	o := Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return feeds.Result{Items: r.serve}, nil
		}),
		Classifier: nopClassifier{}, Store: st, Index: &titleIndex{}, Notifier: n,
		Rules: []accordwatch.Rule{{Name: "everything", Query: "all"}}, Channels: r.locks,
	}
	for _, f := range opts {
		f(&o, st)
	}
	r.p, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// poll has the replica find items on one of its feeds and queue their
// alerts.
func (r *drainReplica) poll(t *testing.T, feed string, items []accordwatch.Item) {
	t.Helper()
	r.mu.Lock()
	r.serve = items
	r.mu.Unlock()
	if rep := r.p.PollFeed(t.Context(), accordwatch.Feed{URL: feed}); rep.Err != nil || rep.Alerts != len(items) {
		t.Fatalf("poll %s: %d alerts, err %v; want %d", feed, rep.Alerts, rep.Err, len(items))
	}
}

func stories(prefix string, n int) []accordwatch.Item {
	var out []accordwatch.Item
	for i := range n {
		id := fmt.Sprintf("%s-%02d", prefix, i)
		out = append(out, story(id, fmt.Sprintf("Story %s about unrelated event number %d", prefix, i), "https://news.example/"+id))
	}
	return out
}

// TestSharedOutboxPostsEachAlertOnce has two replicas queue alerts in one
// outbox and drain it at the same time, several times over, against one
// fake Slack: every alert is posted exactly once, whichever replica
// queued it.
func TestSharedOutboxPostsEachAlertOnce(t *testing.T) {
	tests := []struct {
		name   string
		a, b   int // alerts queued by each replica
		drains int // concurrent drains per replica
	}{
		{"one replica queues", 20, 0, 3},
		{"both queue", 12, 12, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbURL := accordwatch.Secret(pgtest.Database(t))
			slack := &fakeWorkspace{}
			srv := httptest.NewServer(slack)
			defer srv.Close()
			a, b := newDrainReplica(t, dbURL, srv.URL), newDrainReplica(t, dbURL, srv.URL)
			if tt.a > 0 {
				a.poll(t, "https://a.example/feed", stories("a", tt.a))
			}
			if tt.b > 0 {
				b.poll(t, "https://b.example/feed", stories("b", tt.b))
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			sent := 0
			for i := range 2 * tt.drains {
				r := []*drainReplica{a, b}[i%2]
				wg.Go(func() {
					rep, err := r.p.Drain(t.Context())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					sent += rep.Sent
					mu.Unlock()
				})
			}
			wg.Wait()
			top, _ := slack.messages()
			perItem := map[string]int{}
			for _, m := range top {
				perItem[m.Get("text")]++
			}
			if len(top) != tt.a+tt.b || sent != tt.a+tt.b {
				t.Errorf("got %d messages posted (%d counted sent), want %d, one per alert", len(top), sent, tt.a+tt.b)
			}
			for text, n := range perItem {
				if n != 1 {
					t.Errorf("message %q posted %d times, want once", text, n)
				}
			}
		})
	}
}

// TestDeadDrainersChannelsGoToAnother: while replica A holds the channel,
// B's drains deliver nothing of it; once A is gone (its lock connection
// closed, as when its process dies), B delivers what A left.
func TestDeadDrainersChannelsGoToAnother(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	slack := &fakeWorkspace{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	a, b := newDrainReplica(t, dbURL, srv.URL), newDrainReplica(t, dbURL, srv.URL)
	steps := []struct {
		name       string
		queue      func()
		drain      *drainReplica
		close      *drainReplica
		wantSent   int
		wantPosted int
	}{
		{name: "A takes the channel", queue: func() { a.poll(t, "https://a.example/feed", stories("a", 3)) }, drain: a, wantSent: 3, wantPosted: 3},
		{name: "B queues, A holds the channel", queue: func() { b.poll(t, "https://b.example/feed", stories("b", 2)) }, drain: b, wantSent: 0, wantPosted: 3},
		{name: "A dies; B delivers", close: a, drain: b, wantSent: 2, wantPosted: 5},
		{name: "nothing twice", drain: b, wantSent: 0, wantPosted: 5},
	}
	for _, s := range steps {
		if s.queue != nil {
			s.queue()
		}
		if s.close != nil {
			s.close.locks.Close()
		}
		rep, err := s.drain.p.Drain(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		top, _ := slack.messages()
		if rep.Sent != s.wantSent || len(top) != s.wantPosted {
			t.Errorf("%s: sent %d, %d posted in all; want %d and %d", s.name, rep.Sent, len(top), s.wantSent, s.wantPosted)
		}
	}
}

// gatedWorkspace holds the first chat.postMessage until release is
// closed, and says when it arrived.
type gatedWorkspace struct {
	*fakeWorkspace
	once    sync.Once
	arrived chan struct{}
	release chan struct{}
}

func (g *gatedWorkspace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
		g.once.Do(func() {
			close(g.arrived)
			<-g.release
		})
	}
	g.fakeWorkspace.ServeHTTP(w, r)
}

// TestClaimCoversALockThatChangesHandsMidPost: replica A is posting an
// alert when its lock connection goes (the server frees its channel lock);
// replica B takes the channel but leaves the alert A is posting alone, so
// it is posted once.
func TestClaimCoversALockThatChangesHandsMidPost(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	slack := &gatedWorkspace{fakeWorkspace: &fakeWorkspace{}, arrived: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	a, b := newDrainReplica(t, dbURL, srv.URL), newDrainReplica(t, dbURL, srv.URL)
	a.poll(t, "https://a.example/feed", stories("a", 1))
	aDone := make(chan DrainReport, 1)
	go func() {
		rep, err := a.p.Drain(t.Context())
		if err != nil {
			t.Error(err)
		}
		aDone <- rep
	}()
	<-slack.arrived
	a.locks.Close()
	repB, err := b.p.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	close(slack.release)
	repA := <-aDone
	top, _ := slack.messages()
	if repA.Sent != 1 || repB.Sent != 0 || len(top) != 1 {
		t.Errorf("A sent %d, B sent %d, %d messages posted; want 1, 0 and 1", repA.Sent, repB.Sent, len(top))
	}
}

// TestTakenOverChannelWaitsForTheLastSummary: replica A summarises a
// rate-capped channel and dies; B, which took the channel over, has more
// capped alerts for it but sends no second summary within SummaryEvery,
// because it reads A's summary from the shared outbox (B started before
// A summarised, so its own memory of summaries is empty).
func TestTakenOverChannelWaitsForTheLastSummary(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	slack := &fakeWorkspace{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	capped := func(o *Options, st *pgstore.Store) {
		o.Rules = []accordwatch.Rule{{Name: "capped", Query: "all", RateCap: 2}}
		o.IncidentSync, o.CapHistory = st, st
	}
	a, b := newDrainReplica(t, dbURL, srv.URL, capped), newDrainReplica(t, dbURL, srv.URL, capped)
	summaries := func() int {
		n := 0
		top, _ := slack.messages()
		for _, m := range top {
			if strings.Contains(m.Get("text"), "rate cap") || strings.Contains(m.Get("blocks"), "rate cap") {
				n++
			}
		}
		return n
	}
	a.poll(t, "https://a.example/feed", stories("a", 5))
	if rep, err := a.p.Drain(t.Context()); err != nil || rep.Sent != 3 || rep.Summaries != 1 {
		t.Fatalf("A's drain: %+v, %v; want 2 alerts and 1 summary sent", rep, err)
	}
	if n := summaries(); n != 1 {
		t.Fatalf("after A's drain: %d summaries posted, want 1", n)
	}
	b.poll(t, "https://b.example/feed", stories("b", 3))
	a.locks.Close() // A dies
	rep, err := b.p.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summaries != 0 || summaries() != 1 {
		t.Errorf("B's drain within SummaryEvery of A's summary: %d summarised, %d summaries posted in all; want 0 and 1", rep.Summaries, summaries())
	}
}
