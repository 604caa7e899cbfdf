package monitor

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/pgstore"
)

var (
	_ IncidentSync = (*pgstore.Store)(nil)
	_ AlertHistory = (*pgstore.Store)(nil)
)

// syncReplica is one replica of a shared database with everything its own
// but the database and Slack: store connection, index, clusterer,
// notifier and outbox locks.
type syncReplica struct {
	p  *Pipeline
	st *pgstore.Store
}

func newSyncReplica(t *testing.T, dbURL accordwatch.Secret, slackURL string, fetch funcFetcher, rules ...accordwatch.Rule) *syncReplica {
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
	locks := st.DrainLocks()
	t.Cleanup(func() { locks.Close() })
	p, err := New(Options{
		Fetcher: fetch, Classifier: nopClassifier{}, Store: st, Index: &titleIndex{}, Notifier: n,
		Rules: rules, Channels: locks, Incidents: incident.New(incident.Options{}), IncidentSync: st, CapHistory: st,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &syncReplica{p: p, st: st}
}

// rendezvous holds each fetch until n fetches have arrived, so that
// several replicas commit what they fetched as nearly together as they
// can, with no sleep.
type rendezvous struct {
	mu      sync.Mutex
	arrived int
	n       int
	all     chan struct{}
}

func newRendezvous(n int) *rendezvous { return &rendezvous{n: n, all: make(chan struct{})} }

func (r *rendezvous) wait(ctx context.Context) error {
	r.mu.Lock()
	r.arrived++
	if r.arrived == r.n {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestReplicasMakeOneIncidentOfOneStory: two replicas of one database
// each fetch one report of the same story, from different feeds, at the
// same time or one after the other. There is one incident holding both
// reports, and Slack gets one incident message and one reply in its
// thread — not two incident messages.
func TestReplicasMakeOneIncidentOfOneStory(t *testing.T) {
	reports := []accordwatch.Item{
		story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"),
		story("b1", "Telecoms breached by Typhoon", "https://x.example/typhoon"),
	}
	for _, together := range []bool{true, false} {
		name := map[bool]string{true: "at the same time", false: "one after the other"}[together]
		t.Run(name, func(t *testing.T) {
			dbURL := accordwatch.Secret(pgtest.Database(t))
			slack := &fakeWorkspace{}
			srv := httptest.NewServer(slack)
			defer srv.Close()
			meet := newRendezvous(2)
			replicas := make([]*syncReplica, 2)
			for i := range replicas {
				it := reports[i]
				replicas[i] = newSyncReplica(t, dbURL, srv.URL, func(ctx context.Context, _ accordwatch.Feed) (feeds.Result, error) {
					if together {
						if err := meet.wait(ctx); err != nil {
							return feeds.Result{}, err
						}
					}
					return feeds.Result{Items: []accordwatch.Item{it}}, nil
				}, ruleAll)
			}
			poll := func(r *syncReplica, feed string) {
				if rep := r.p.PollFeed(t.Context(), accordwatch.Feed{URL: feed}); rep.Err != nil || rep.Alerts != 1 {
					t.Errorf("poll %s: %d alerts, err %v; want 1 alert", feed, rep.Alerts, rep.Err)
				}
			}
			feedsOf := []string{"https://a.example/feed", "https://b.example/feed"}
			if together {
				var wg sync.WaitGroup
				for i, r := range replicas {
					wg.Go(func() { poll(r, feedsOf[i]) })
				}
				wg.Wait()
			} else {
				for i, r := range replicas {
					poll(r, feedsOf[i])
				}
			}
			if t.Failed() {
				t.FailNow()
			}

			var incidentID string
			for _, it := range reports {
				id, joined, err := replicas[0].st.IncidentOf(it.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !joined {
					id = it.ID
				}
				if incidentID == "" {
					incidentID = id
				} else if id != incidentID {
					t.Fatalf("got reports in incidents %s and %s, want one incident", incidentID, id)
				}
			}
			inc, ok, err := replicas[1].st.Incident(incidentID)
			if err != nil || !ok {
				t.Fatalf("incident %s: found %v, err %v", incidentID, ok, err)
			}
			if got := slices.Sorted(slices.Values(inc.ItemIDs)); !slices.Equal(got, []string{"a1", "b1"}) {
				t.Errorf("got incident items %v, want [a1 b1]", got)
			}

			// Both drain at once; whichever holds the channel posts the
			// incident message, then the follow-up in its thread.
			var wg sync.WaitGroup
			for _, r := range replicas {
				wg.Go(func() {
					if _, err := r.p.Drain(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			top, replies := slack.messages()
			if len(top) != 1 || len(replies) != 1 {
				t.Fatalf("got %d top-level messages and %d thread replies, want 1 and 1", len(top), len(replies))
			}
			if got, want := replies[0].Get("thread_ts"), top[0].Get("ts"); got != want {
				t.Errorf("got the reply in thread %s, want it in the incident message's thread %s", got, want)
			}
		})
	}
}

// TestRateCapCountsEveryReplica: a rule capped at one new incident an
// hour, two replicas each finding an unrelated story at the same time:
// one incident message is queued and the other is held for the summary,
// as one process would have done.
func TestRateCapCountsEveryReplica(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	slack := &fakeWorkspace{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	capped := accordwatch.Rule{Name: "capped", Query: "all", RateCap: 1}
	reports := []accordwatch.Item{
		story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"),
		story("b1", "Wiper hits the grid", "https://y.example/wiper"),
	}
	meet := newRendezvous(2)
	var wg sync.WaitGroup
	var st *pgstore.Store
	for i, it := range reports {
		r := newSyncReplica(t, dbURL, srv.URL, func(ctx context.Context, _ accordwatch.Feed) (feeds.Result, error) {
			if err := meet.wait(ctx); err != nil {
				return feeds.Result{}, err
			}
			return feeds.Result{Items: []accordwatch.Item{it}}, nil
		}, capped)
		st = r.st
		wg.Go(func() {
			if rep := r.p.PollFeed(t.Context(), accordwatch.Feed{URL: fmt.Sprintf("https://f%d.example/feed", i)}); rep.Err != nil || rep.Alerts != 1 {
				t.Errorf("poll %d: %d alerts, err %v; want 1 alert", i, rep.Alerts, rep.Err)
			}
		})
	}
	wg.Wait()
	all, err := st.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, a := range all {
		got[a.Status]++
	}
	want := map[string]int{accordwatch.AlertPending: 1, accordwatch.AlertOverflow: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got outbox statuses %v, want %v", got, want)
	}
}

// TestReplicaNotKnowingTheChannelIDThreadsItsReport: replica A learned the
// channel's ID from a post and keys the incident's message by it; B,
// which has posted nothing yet, keys its later report of the same story
// by the channel's name. Delivered, B's report goes in the thread of A's
// message instead of being merged into it as if it were the same
// message.
func TestReplicaNotKnowingTheChannelIDThreadsItsReport(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	slack := &fakeWorkspace{noScope: true} // IDs are learned from posts only
	srv := httptest.NewServer(slack)
	defer srv.Close()
	serve := func(it accordwatch.Item) funcFetcher {
		return func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: []accordwatch.Item{it}}, nil
		}
	}
	a := newSyncReplica(t, dbURL, srv.URL, func(_ context.Context, f accordwatch.Feed) (feeds.Result, error) {
		if f.URL == "https://warmup.example/feed" {
			return feeds.Result{Items: []accordwatch.Item{story("x1", "Wiper hits the grid", "https://y.example/wiper")}}, nil
		}
		return feeds.Result{Items: []accordwatch.Item{story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon")}}, nil
	}, ruleAll)
	b := newSyncReplica(t, dbURL, srv.URL, serve(story("b1", "Telecoms breached by Typhoon", "https://x.example/typhoon")), ruleAll)
	steps := []struct {
		r     *syncReplica
		feed  string
		drain bool
	}{
		{r: a, feed: "https://warmup.example/feed", drain: true}, // A learns the ID
		{r: a, feed: "https://a.example/feed"},
		{r: b, feed: "https://b.example/feed"},
	}
	for _, st := range steps {
		if rep := st.r.p.PollFeed(t.Context(), accordwatch.Feed{URL: st.feed}); rep.Err != nil || rep.Alerts != 1 {
			t.Fatalf("poll %s: %d alerts, err %v; want 1 alert", st.feed, rep.Alerts, rep.Err)
		}
		if st.drain {
			if _, err := st.r.p.Drain(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.p.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	top, replies := slack.messages()
	if len(top) != 2 || len(replies) != 1 {
		t.Fatalf("got %d top-level messages and %d thread replies, want 2 (the warm-up and the story) and 1", len(top), len(replies))
	}
	if got, want := replies[0].Get("thread_ts"), top[1].Get("ts"); got != want {
		t.Errorf("got the reply in thread %s, want it in the story's thread %s", got, want)
	}
}
