package monitor

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

var _ FeedLeaser = (*pgstore.Leases)(nil)

// sharedFetcher is one set of feed servers that several replicas poll: it
// counts the fetches of each feed and the most fetches of one host at
// once, over all replicas.
type sharedFetcher struct {
	mu      sync.Mutex
	fetches map[string]int
	by      map[string]string // feed → replica that fetched it last
	now     map[string]int    // host → fetches running
	most    map[string]int
	// hold, when set, blocks every fetch until it is closed.
	hold chan struct{}
}

func newSharedFetcher() *sharedFetcher {
	return &sharedFetcher{fetches: map[string]int{}, by: map[string]string{}, now: map[string]int{}, most: map[string]int{}}
}

func (s *sharedFetcher) as(replica string) funcFetcher {
	return func(ctx context.Context, f accordwatch.Feed) (feeds.Result, error) {
		u, _ := url.Parse(f.URL)
		s.mu.Lock()
		s.fetches[f.URL]++
		s.by[f.URL] = replica
		s.now[u.Host]++
		s.most[u.Host] = max(s.most[u.Host], s.now[u.Host])
		s.mu.Unlock()
		if s.hold != nil {
			select {
			case <-s.hold:
			case <-ctx.Done():
			}
		}
		s.mu.Lock()
		s.now[u.Host]--
		s.mu.Unlock()
		return feeds.Result{}, nil
	}
}

// replicaRig is one replica: its own store connection, pipeline and lease
// handle on the shared database.
type replicaRig struct {
	p     *Pipeline
	lease FeedLeaser
}

func newReplica(t *testing.T, dbURL accordwatch.Secret, name string, f Fetcher, lo pgstore.LeaseOptions) *replicaRig {
	t.Helper()
	st, err := pgstore.Open(t.Context(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := New(Options{Fetcher: f, Classifier: nopClassifier{}, Store: st, Index: nopIndex{}, Notifier: &countingNotifier{},
		Concurrency: 4, PerHost: 2})
	if err != nil {
		t.Fatal(err)
	}
	lo.Owner = name
	l, err := st.Leases(lo)
	if err != nil {
		t.Fatal(err)
	}
	return &replicaRig{p: p, lease: l}
}

// dispatch runs the replica's dispatcher over list, every feed due now,
// until stop is closed; polled gets each finished feed's URL. The
// returned channel is closed when the dispatcher has returned.
func (r *replicaRig) dispatch(ctx context.Context, list []accordwatch.Feed, period time.Duration, stop <-chan struct{}, polled func(string)) <-chan struct{} {
	var entries []*entry
	for i, f := range list {
		entries = append(entries, r.p.newEntry(f, "", time.Time{}, i))
	}
	d := newDispatcher(r.p, nil)
	d.lease = &leasing{l: r.lease, period: period, held: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run(ctx, stop, entries, true, func(e *entry, _ FeedReport) { polled(e.feed.URL) })
	}()
	return done
}

func feedList(hosts, perHost int) []accordwatch.Feed {
	var list []accordwatch.Feed
	for h := range hosts {
		for i := range perHost {
			list = append(list, accordwatch.Feed{Name: fmt.Sprintf("h%d-%d", h, i), URL: fmt.Sprintf("https://host%d.example/feed/%d", h, i)})
		}
	}
	return list
}

// TestTwoReplicasPollEachFeedOnceARound runs two replicas' dispatchers
// over the same feeds, all due at once, on one database: every feed is
// fetched exactly once in the round, and no host ever sees more fetches
// at once than the cap, counted over both replicas.
func TestTwoReplicasPollEachFeedOnceARound(t *testing.T) {
	list := feedList(5, 6)
	tests := []struct {
		name    string
		perHost int // across replicas; each replica alone allows 2
	}{
		{"cap of one per host", 1},
		{"cap of two per host", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbURL := accordwatch.Secret(pgtest.Database(t))
			f := newSharedFetcher()
			stop := make(chan struct{})
			var mu sync.Mutex
			seen := map[string]bool{}
			all := make(chan struct{})
			polled := func(u string) {
				mu.Lock()
				defer mu.Unlock()
				seen[u] = true
				if len(seen) == len(list) {
					close(all)
				}
			}
			var done []<-chan struct{}
			for _, name := range []string{"A", "B"} {
				r := newReplica(t, dbURL, name, f.as(name), pgstore.LeaseOptions{Period: time.Minute, PerHost: tt.perHost, Retry: 10 * time.Millisecond})
				done = append(done, r.dispatch(t.Context(), list, time.Minute, stop, polled))
			}
			<-all
			close(stop)
			for _, d := range done {
				<-d
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, feed := range list {
				if n := f.fetches[feed.URL]; n != 1 {
					t.Errorf("%s: fetched %d times in the round, want 1", feed.Name, n)
				}
			}
			per := map[string]int{}
			for _, r := range f.by {
				per[r]++
			}
			t.Logf("feeds polled per replica: %v", per)
			for h, n := range f.most {
				if n > tt.perHost {
					t.Errorf("%s: %d fetches at once over both replicas, want at most %d", h, n, tt.perHost)
				}
			}
		})
	}
}

// TestDeadReplicasFeedsGoToAnotherAfterTheLease has replica A claim every
// feed and die (it never renews nor releases): replica B polls none of
// them before A's leases expire, and all of them after.
func TestDeadReplicasFeedsGoToAnotherAfterTheLease(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	list := feedList(3, 2)
	const period = 300 * time.Millisecond
	f := newSharedFetcher()
	a := newReplica(t, dbURL, "A", f.as("A"), pgstore.LeaseOptions{Period: period, PerHost: 2})
	hosts := map[string]string{}
	for _, feed := range list {
		hosts[feed.URL] = hostOf(feed.URL, "")
	}
	claimedAt := time.Now()
	got, _, err := a.lease.Claim(t.Context(), hosts, len(list), claimedAt)
	if err != nil || len(got) != len(list) {
		t.Fatalf("A claimed %d of %d feeds (%v), want all", len(got), len(list), err)
	}

	b := newReplica(t, dbURL, "B", f.as("B"), pgstore.LeaseOptions{Period: period, PerHost: 2})
	var mu sync.Mutex
	var first time.Time
	seen := map[string]bool{}
	all := make(chan struct{})
	stop := make(chan struct{})
	done := b.dispatch(t.Context(), list, period, stop, func(u string) {
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = time.Now()
		}
		seen[u] = true
		if len(seen) == len(list) {
			close(all)
		}
	})
	<-all
	close(stop)
	<-done
	if expiry := claimedAt.Add(period); first.Before(expiry) {
		t.Errorf("B polled a feed %s before A's lease expired", expiry.Sub(first))
	}
	for _, feed := range list {
		if n, by := f.fetches[feed.URL], f.by[feed.URL]; n != 1 || by != "B" {
			t.Errorf("%s: fetched %d times, last by %q; want once, by B", feed.Name, n, by)
		}
	}
}

// renewRecorder remembers the latest time a renewal succeeded for.
type renewRecorder struct {
	FeedLeaser
	mu      sync.Mutex
	latest  time.Time
	renewed chan struct{}
}

func (r *renewRecorder) Renew(ctx context.Context, urls []string, now time.Time) ([]string, error) {
	lost, err := r.FeedLeaser.Renew(ctx, urls, now)
	if err == nil && len(lost) == 0 {
		r.mu.Lock()
		if now.After(r.latest) {
			r.latest = now
		}
		r.mu.Unlock()
		select {
		case r.renewed <- struct{}{}:
		default:
		}
	}
	return lost, err
}

func (r *renewRecorder) renewedAt(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.latest.Before(t)
}

// TestLongPollKeepsItsLeaseByRenewing holds replica A's fetch while its
// clock moves five lease periods on: its renewals keep replica B from
// claiming the feed, which the first lease alone would not have.
func TestLongPollKeepsItsLeaseByRenewing(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	list := feedList(1, 1)
	const period = time.Minute
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	f := newSharedFetcher()
	f.hold = make(chan struct{})
	started := make(chan struct{})
	fetch := f.as("A")
	a := newReplica(t, dbURL, "A", funcFetcher(func(ctx context.Context, feed accordwatch.Feed) (feeds.Result, error) {
		close(started)
		return fetch(ctx, feed)
	}), pgstore.LeaseOptions{Period: period})
	a.p.o.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	rec := &renewRecorder{FeedLeaser: a.lease, renewed: make(chan struct{}, 1)}
	a.lease = rec
	stop := make(chan struct{})
	polled := make(chan struct{}, 1)
	// Renewals every 30ms of real time; lease times follow A's clock.
	done := a.dispatch(t.Context(), list, 90*time.Millisecond, stop, func(string) { polled <- struct{}{} })
	<-started
	later := t0.Add(5 * period)
	clock.Store(later.UnixNano())
	for !rec.renewedAt(later) {
		<-rec.renewed
	}
	b := newReplica(t, dbURL, "B", f.as("B"), pgstore.LeaseOptions{Period: period})
	got, _, err := b.lease.Claim(t.Context(), map[string]string{list[0].URL: hostOf(list[0].URL, "")}, 1, later.Add(period/2))
	if err != nil || len(got) != 0 {
		t.Errorf("B claimed %v (err %v) while A was polling and renewing; want nothing", got, err)
	}
	close(f.hold)
	<-polled
	close(stop)
	<-done
}

// TestRunOnceSharedLeavesReplicasFeeds: a one-off pass beside a replica
// polls only the feeds it can lease — not one the replica is polling,
// nor one it polled recently — and releases what it polled with its next
// check, so a second pass leaves that one too.
func TestRunOnceSharedLeavesReplicasFeeds(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	f := newSharedFetcher()
	a := newReplica(t, dbURL, "a", f.as("a"), pgstore.LeaseOptions{})
	b := newReplica(t, dbURL, "b", f.as("b"), pgstore.LeaseOptions{})
	busy, recent, free := "https://busy.example/feed", "https://recent.example/feed", "https://free.example/feed"
	list := []accordwatch.Feed{{URL: busy}, {URL: recent}, {URL: free}}
	now := time.Now()
	claimed, _, err := a.lease.Claim(t.Context(), map[string]string{busy: "busy.example", recent: "recent.example"}, 2, now)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("A's claim: %v, %v; want both feeds", claimed, err)
	}
	if err := a.lease.Release(t.Context(), recent, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	passes := []struct {
		name   string
		before func()
		polled []string
	}{
		{name: "busy and recent are A's", polled: []string{free}},
		{name: "A finished busy; free was just polled", before: func() {
			if err := a.lease.Release(t.Context(), busy, now); err != nil {
				t.Fatal(err)
			}
		}, polled: []string{busy}},
	}
	for _, ps := range passes {
		if ps.before != nil {
			ps.before()
		}
		rep, err := b.p.RunOnceShared(t.Context(), list, b.lease, time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", ps.name, err)
		}
		for _, fr := range rep.Feeds {
			want := slices.Contains(ps.polled, fr.Feed.URL)
			if fr.Err != nil || fr.Shared == want {
				t.Errorf("%s: %s: shared %v, err %v; want polled %v", ps.name, fr.Feed.URL, fr.Shared, fr.Err, want)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[string]int{free: 1, busy: 1}
	if fmt.Sprint(f.fetches) != fmt.Sprint(want) {
		t.Errorf("got fetches %v, want %v", f.fetches, want)
	}
}
