package pgstore_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

// replica opens its own store on url, as a second process would, and
// returns its lease handle.
func replica(t *testing.T, url accordwatch.Secret, o pgstore.LeaseOptions) *pgstore.Leases {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := s.Leases(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLeasesShareFeedsAndExpire walks two replicas through one sequence
// of claims, renewals and releases on a fake clock: a feed has one holder
// at a time, the per-host cap counts both replicas, a released feed waits
// for its next check, and a replica that stops renewing loses its feeds
// to the other once the period has passed.
func TestLeasesShareFeedsAndExpire(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	const period = time.Minute
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	reps := map[string]*pgstore.Leases{}
	for _, name := range []string{"A", "B"} {
		reps[name] = replica(t, url, pgstore.LeaseOptions{Owner: name, Period: period, PerHost: 1, Retry: time.Second})
	}
	feeds := map[string]string{
		"https://a.example/1": "a.example",
		"https://a.example/2": "a.example",
		"https://b.example/1": "b.example",
	}
	type step struct {
		name     string
		who, op  string // op: claim, renew, release
		at       time.Duration
		urls     []string  // renew, release: these; claim: all feeds
		next     time.Time // release
		want     []string  // claim: claimed; renew: lost
		wantWait map[string]time.Time
	}
	steps := []step{
		{name: "A claims one feed per host", who: "A", op: "claim", at: 0,
			want:     []string{"https://a.example/1", "https://b.example/1"},
			wantWait: map[string]time.Time{"https://a.example/2": t0.Add(time.Second)}},
		{name: "B gets nothing while A holds them", who: "B", op: "claim", at: time.Second,
			want: nil,
			wantWait: map[string]time.Time{
				"https://a.example/1": t0.Add(period), "https://b.example/1": t0.Add(period),
				"https://a.example/2": t0.Add(2 * time.Second)}},
		{name: "A releases a.example/1 with its next check", who: "A", op: "release", at: 2 * time.Second,
			urls: []string{"https://a.example/1"}, next: t0.Add(10 * time.Minute)},
		{name: "B takes the host's free slot, not the polled feed", who: "B", op: "claim", at: 3 * time.Second,
			want: []string{"https://a.example/2"},
			wantWait: map[string]time.Time{
				"https://a.example/1": t0.Add(10 * time.Minute), "https://b.example/1": t0.Add(period)}},
		{name: "B polled a.example/2 and releases it", who: "B", op: "release", at: 4 * time.Second,
			urls: []string{"https://a.example/2"}, next: t0.Add(10 * time.Minute)},
		{name: "A renews b.example/1", who: "A", op: "renew", at: period / 2,
			urls: []string{"https://b.example/1"}, want: nil},
		{name: "the renewal keeps B out past the first period", who: "B", op: "claim", at: period + time.Second,
			want: nil,
			wantWait: map[string]time.Time{
				"https://a.example/1": t0.Add(10 * time.Minute), "https://a.example/2": t0.Add(10 * time.Minute),
				"https://b.example/1": t0.Add(period / 2).Add(period)}},
		{name: "A stops renewing; B takes the feed after expiry", who: "B", op: "claim", at: period/2 + period,
			want: []string{"https://b.example/1"},
			wantWait: map[string]time.Time{
				"https://a.example/1": t0.Add(10 * time.Minute), "https://a.example/2": t0.Add(10 * time.Minute)}},
		{name: "A's late renewal finds the lease lost", who: "A", op: "renew", at: 2 * period,
			urls: []string{"https://b.example/1"}, want: []string{"https://b.example/1"}},
		{name: "A's late release leaves B's lease alone", who: "A", op: "release", at: 2 * period,
			urls: []string{"https://b.example/1"}, next: t0},
		{name: "so A still cannot claim it", who: "A", op: "claim", at: 2*period + time.Second,
			want: nil,
			wantWait: map[string]time.Time{
				"https://a.example/1": t0.Add(10 * time.Minute),
				"https://a.example/2": t0.Add(10 * time.Minute),
				"https://b.example/1": t0.Add(period/2 + 2*period)}},
	}
	for _, s := range steps {
		l, now := reps[s.who], t0.Add(s.at)
		switch s.op {
		case "claim":
			got, wait, err := l.Claim(t.Context(), feeds, len(feeds), now)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if !slices.Equal(got, s.want) {
				t.Errorf("%s: claimed %v, want %v", s.name, got, s.want)
			}
			for u, w := range s.wantWait {
				if !wait[u].Equal(w) {
					t.Errorf("%s: retry %s at %s, want %s", s.name, u, wait[u].Sub(t0), w.Sub(t0))
				}
			}
			if len(wait) != len(s.wantWait) {
				t.Errorf("%s: retry times for %d feeds, want %d: %v", s.name, len(wait), len(s.wantWait), wait)
			}
		case "renew":
			lost, err := l.Renew(t.Context(), s.urls, now)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if !slices.Equal(lost, s.want) {
				t.Errorf("%s: lost %v, want %v", s.name, lost, s.want)
			}
		case "release":
			for _, u := range s.urls {
				if err := l.Release(t.Context(), u, s.next); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
			}
		}
	}
}

// TestPerHostCapHoldsUnderConcurrentClaims has several replicas claim the
// feeds of one host at the same moment: together they never hold more
// than the cap.
func TestPerHostCapHoldsUnderConcurrentClaims(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	feeds := map[string]string{}
	for i := range 20 {
		feeds[fmt.Sprintf("https://big.example/%d", i)] = "big.example"
	}
	var ls []*pgstore.Leases
	for i := range 4 {
		ls = append(ls, replica(t, url, pgstore.LeaseOptions{Owner: fmt.Sprintf("r%d", i), PerHost: 2}))
	}
	var mu sync.Mutex
	holders := map[string]int{}
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			got, _, err := l.Claim(t.Context(), feeds, len(feeds), now)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, u := range got {
				holders[u]++
			}
		})
	}
	wg.Wait()
	if len(holders) != 2 {
		t.Errorf("got %d feeds of one host leased at once across replicas, want the cap of 2: %v", len(holders), holders)
	}
	for u, n := range holders {
		if n != 1 {
			t.Errorf("%s: leased by %d replicas, want 1", u, n)
		}
	}
}
