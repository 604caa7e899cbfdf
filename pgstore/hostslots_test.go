package pgstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

// TestHostSlotsShareTheCapWithFeedLeases walks two replicas through
// article slots on one host on a fake clock: a slot is counted with the
// other replica's feed leases and slots and the asking replica's own
// count, a feed claim counts the slots, a released slot is free at once
// and a dead replica's slot expires.
func TestHostSlotsShareTheCapWithFeedLeases(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a := replica(t, url, pgstore.LeaseOptions{Owner: "a", PerHost: 2})
	b := replica(t, url, pgstore.LeaseOptions{Owner: "b", PerHost: 2})
	ctx := t.Context()
	const host = "news.example"
	mine := func(n int) func() int { return func() int { return n } }
	try := func(l *pgstore.Leases, n int, now time.Time) (int64, bool) {
		t.Helper()
		slot, ok, err := l.TryHost(ctx, host, mine(n), now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return slot, ok
	}

	// a polls one feed of the host.
	got, _, err := a.Claim(ctx, map[string]string{"https://news.example/feed": host}, 1, t0)
	if err != nil || len(got) != 1 {
		t.Fatalf("a's claim: %v %v", got, err)
	}
	// b's first article fetch fits beside a's lease; a second does not.
	s1, ok := try(b, 1, t0)
	if !ok {
		t.Fatal("b's first slot refused: a's lease and b's one fetch make 2, the cap")
	}
	if _, ok := try(b, 2, t0); ok {
		t.Error("b's second slot granted: a's lease and b's two fetches make 3")
	}
	// a counts its own requests itself, not its lease: with one request
	// (this fetch) beside b's slot it fits, with two it does not.
	if _, ok := try(a, 2, t0); ok {
		t.Error("a's slot granted with a's two requests beside b's slot")
	}
	s2, ok := try(a, 1, t0)
	if !ok {
		t.Fatal("a's slot refused with one request of its own beside b's slot")
	}
	// A feed claim counts the slots: a's lease and two slots fill the host.
	got, _, err = b.Claim(ctx, map[string]string{"https://news.example/other": host}, 1, t0)
	if err != nil || len(got) != 0 {
		t.Errorf("b claimed %v (err %v) beside a's lease and two slots, want nothing", got, err)
	}
	if err := b.ReleaseHost(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseHost(ctx, s2); err != nil {
		t.Fatal(err)
	}
	got, _, err = b.Claim(ctx, map[string]string{"https://news.example/other": host}, 1, t0)
	if err != nil || !slices.Equal(got, []string{"https://news.example/other"}) {
		t.Errorf("after the releases b claimed %v (err %v), want the feed", got, err)
	}
	// b fetching its feed, its article and a's lease would be three;
	// once the leases expire, a slot taken by a replica that then died
	// expires too.
	if _, ok := try(b, 2, t0); ok {
		t.Error("b's slot granted beside a's lease with two requests of its own")
	}
	later := t0.Add(2 * time.Minute) // the leases' default period is 60s
	if _, ok := try(b, 1, later); !ok {
		t.Fatal("slot refused after the leases expired")
	}
	if _, ok := try(a, 2, later); ok {
		t.Error("slot granted beside b's live slot with two requests of a's own")
	}
	if _, ok := try(a, 2, later.Add(2*time.Minute)); !ok {
		t.Error("b's unreleased slot did not expire")
	}
}
