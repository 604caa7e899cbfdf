package monitor

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

// TestMain stops the throwaway PostgreSQL cluster the contract's
// "postgres" case starts (see internal/pgtest).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The Store contract: what the pipeline relies on from any store. Every
// implementation — the bbolt store, the PostgreSQL store (against a
// throwaway cluster; skipped with the reason when none can be started) and
// each fake the tests use —
// runs the same suite, so a fake cannot drift into behaviour the real
// store does not have (an earlier fake inserted on UpdateAlert where the
// store refuses, and kept a Due method nothing called).

var (
	_ Store = (*store.Store)(nil)
	_ Store = (*pgstore.Store)(nil)
	_ Store = (*memStore)(nil)
	_ Store = (*countingStore)(nil)
	_ Store = (*diskStore)(nil)
	_ Store = (*timedStore)(nil)
)

func TestStoreContract(t *testing.T) {
	bolt := func(t *testing.T) *store.Store {
		st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	impls := map[string]func(t *testing.T) Store{
		"bbolt": func(t *testing.T) Store { return bolt(t) },
		"postgres": func(t *testing.T) Store {
			st, err := pgstore.Open(t.Context(), accordwatch.Secret(pgtest.Database(t)), pgstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"memStore":      func(*testing.T) Store { return newMemStore() },
		"countingStore": func(*testing.T) Store { return &countingStore{memStore: newMemStore()} },
		// The fault-injecting store behaves like any other while its disk has room.
		"diskStore":  func(*testing.T) Store { return &diskStore{memStore: newMemStore(), disk: &fullDisk{}} },
		"timedStore": func(t *testing.T) Store { return &timedStore{Store: bolt(t)} },
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) { storeContract(t, open) })
	}
}

func storeContract(t *testing.T, open func(t *testing.T) Store) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	item := func(id, hash string, at time.Time) accordwatch.Item {
		return accordwatch.Item{ID: id, FeedURL: "https://f.example/rss", Title: "t " + id, ContentHash: hash, Published: at, Fetched: at}
	}
	alert := func(id string, at time.Time, status string) accordwatch.Alert {
		return accordwatch.Alert{ID: id, Rule: "r", Channel: "C1", ItemID: "i1", Created: at, Status: status}
	}

	t.Run("feed state", func(t *testing.T) {
		s := open(t)
		if _, ok, err := s.FeedState("https://f.example/rss"); ok || err != nil {
			t.Fatalf("unknown feed: ok %v err %v", ok, err)
		}
		want := accordwatch.FeedState{URL: "https://f.example/rss", ETag: `W/"x"`, ConsecutiveFailures: 2, NextCheckAt: t0}
		if err := s.SaveFeedState(want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.FeedState(want.URL)
		if !ok || err != nil || got.ETag != want.ETag || got.ConsecutiveFailures != 2 || !got.NextCheckAt.Equal(t0) {
			t.Errorf("got %+v %v %v, want %+v", got, ok, err, want)
		}
	})

	t.Run("diff and commit", func(t *testing.T) {
		s := open(t)
		a, b := item("a", "h1", t0), item("b", "h1", t0)
		ch, err := s.Diff([]accordwatch.Item{a, b})
		if err != nil || !slices.Equal(ch, []store.Change{store.New, store.New}) {
			t.Fatalf("fresh diff: %v %v", ch, err)
		}
		added, err := s.CommitBatch(store.Batch{Items: []accordwatch.Item{a}, Alerts: []accordwatch.Alert{alert("x1", t0, accordwatch.AlertPending)}})
		if err != nil || len(added) != 1 {
			t.Fatalf("commit: %v %v", added, err)
		}
		a2 := a
		a2.ContentHash = "h2"
		ch, _ = s.Diff([]accordwatch.Item{a, a2, b})
		if !slices.Equal(ch, []store.Change{store.Unchanged, store.Changed, store.New}) {
			t.Errorf("diff after commit: got %v", ch)
		}
		if got, ok, err := s.Item("a"); !ok || err != nil || got.Title != a.Title {
			t.Errorf("Item(a): %+v %v %v", got, ok, err)
		}
		if _, ok, err := s.Item("nope"); ok || err != nil {
			t.Errorf("Item(nope): ok %v err %v", ok, err)
		}
		// An alert ID already in the outbox is skipped, not replaced.
		dup := alert("x1", t0.Add(time.Hour), accordwatch.AlertSent)
		added, err = s.CommitBatch(store.Batch{Alerts: []accordwatch.Alert{dup, alert("x2", t0, accordwatch.AlertPending)}})
		if err != nil || len(added) != 1 || added[0].ID != "x2" {
			t.Errorf("second commit: added %v, err %v; want only x2", added, err)
		}
		if got, _, _ := s.Alert("x1"); got.Status != accordwatch.AlertPending {
			t.Errorf("x1 was replaced: %+v", got)
		}
	})

	t.Run("outbox", func(t *testing.T) {
		s := open(t)
		_, err := s.SaveAlerts([]accordwatch.Alert{
			alert("late", t0.Add(2*time.Hour), accordwatch.AlertPending),
			alert("early", t0, accordwatch.AlertOverflow),
			alert("done", t0.Add(time.Hour), accordwatch.AlertSent),
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := func(l []accordwatch.Alert, err error) []string {
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range l {
				out = append(out, a.ID)
			}
			return out
		}
		if got := ids(s.Alerts()); !slices.Equal(got, []string{"early", "done", "late"}) {
			t.Errorf("Alerts: got %v, want oldest first", got)
		}
		if got := ids(s.OpenAlerts()); !slices.Equal(got, []string{"early", "late"}) {
			t.Errorf("OpenAlerts: got %v, want pending and overflow only", got)
		}
		upd := alert("late", t0.Add(2*time.Hour), accordwatch.AlertSent)
		if err := s.UpdateAlert(upd); err != nil {
			t.Fatal(err)
		}
		if got, ok, _ := s.Alert("late"); !ok || got.Status != accordwatch.AlertSent {
			t.Errorf("after UpdateAlert: %+v", got)
		}
		// Updating an alert that is not in the outbox is an error, never an insert.
		if err := s.UpdateAlert(alert("ghost", t0, accordwatch.AlertSent)); err == nil {
			t.Error("UpdateAlert of an unknown alert succeeded")
		}
		if _, ok, _ := s.Alert("ghost"); ok {
			t.Error("UpdateAlert inserted an unknown alert")
		}
		if _, err := s.SaveAlerts(nil, []accordwatch.Alert{alert("ghost2", t0, accordwatch.AlertSent)}); err == nil {
			t.Error("SaveAlerts updating an unknown alert succeeded")
		}
		if _, ok, _ := s.Alert("ghost2"); ok {
			t.Error("SaveAlerts inserted an alert given as an update")
		}
	})

	t.Run("incidents, members, singletons, threads", func(t *testing.T) {
		s := open(t)
		inc := accordwatch.Incident{ID: "inc1", ItemIDs: []string{"a", "b"}, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
		old := accordwatch.Incident{ID: "inc0", ItemIDs: []string{"z"}, FirstSeen: t0.Add(-100 * time.Hour), LastSeen: t0.Add(-99 * time.Hour)}
		_, err := s.CommitBatch(store.Batch{
			Items:      []accordwatch.Item{item("a", "h", t0), item("b", "h", t0), item("s1", "h", t0), item("z", "h", t0)},
			Incidents:  []accordwatch.Incident{inc, old},
			Members:    []store.Member{{ItemID: "a", IncidentID: "inc1"}, {ItemID: "b", IncidentID: "inc1"}, {ItemID: "z", IncidentID: "inc0"}},
			Singletons: []store.Singleton{{ItemID: "s1", Time: t0}, {ItemID: "s0", Time: t0.Add(-50 * time.Hour)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Incident("inc1"); !ok || err != nil || !slices.Equal(got.ItemIDs, inc.ItemIDs) {
			t.Errorf("Incident: %+v %v %v", got, ok, err)
		}
		if mb, ok, _ := s.MemberOf("b"); !ok || mb.IncidentID != "inc1" {
			t.Errorf("MemberOf(b): %+v %v", mb, ok)
		}
		var members []string
		if err := s.RecentMembers(t0.Add(-time.Hour), func(i accordwatch.Incident, m store.Member) error {
			members = append(members, i.ID+"/"+m.ItemID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(members)
		if !slices.Equal(members, []string{"inc1/a", "inc1/b"}) {
			t.Errorf("RecentMembers: got %v, want inc1's only", members)
		}
		var singles []string
		if err := s.RecentSingletons(t0.Add(-time.Hour), func(id string) error { singles = append(singles, id); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(singles, []string{"s1"}) {
			t.Errorf("RecentSingletons: got %v, want [s1]", singles)
		}
		if _, ok, err := s.Thread("C1", "inc1"); ok || err != nil {
			t.Errorf("Thread before SetThread: ok %v err %v", ok, err)
		}
		th := store.Thread{Ref: "C1/1764.0001", LastPosted: t0}
		if err := s.SetThread("C1", "inc1", th); err != nil {
			t.Fatal(err)
		}
		if got, ok, _ := s.Thread("C1", "inc1"); !ok || got.Ref != th.Ref || !got.LastPosted.Equal(t0) {
			t.Errorf("Thread: got %+v %v", got, ok)
		}
		if _, ok, _ := s.Thread("C2", "inc1"); ok {
			t.Error("a thread in C1 shows in C2")
		}
		if l, err := s.Silences(); err != nil || len(l) != 0 {
			t.Errorf("Silences on a fresh store: %v %v", l, err)
		}
	})

	t.Run("pending articles", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		mark := func(id string, since, claimed time.Time) store.PendingArticle {
			return store.PendingArticle{ItemID: id, Since: since, ClaimedUntil: claimed}
		}
		commit := func(b store.Batch) {
			t.Helper()
			if _, err := s.CommitBatch(b); err != nil {
				t.Fatal(err)
			}
		}
		claim := func(now time.Time, limit int) []string {
			t.Helper()
			l, err := s.ClaimArticles(ctx, now, now.Add(time.Minute), limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, pa := range l {
				out = append(out, pa.ItemID)
				if !pa.ClaimedUntil.Equal(now.Add(time.Minute)) {
					t.Errorf("%s: claimed until %v, want %v", pa.ItemID, pa.ClaimedUntil, now.Add(time.Minute))
				}
			}
			return out
		}
		if got := claim(t0, 10); len(got) != 0 {
			t.Fatalf("fresh store: claimed %v", got)
		}
		// a is marked with its item and held by the fetch that marked it.
		commit(store.Batch{Items: []accordwatch.Item{item("a", "h", t0)}, ArticlesPending: []store.PendingArticle{mark("a", t0, t0.Add(5*time.Minute))}})
		commit(store.Batch{ArticlesPending: []store.PendingArticle{
			mark("c", t0.Add(-time.Hour), time.Time{}), mark("b", t0.Add(-time.Hour), time.Time{}), mark("d", t0.Add(-2*time.Hour), time.Time{})}})
		if got := claim(t0, 2); !slices.Equal(got, []string{"d", "b"}) {
			t.Errorf("first claim: got %v, want [d b] (oldest first, ties by ID; a is held)", got)
		}
		if got := claim(t0, 10); !slices.Equal(got, []string{"c"}) {
			t.Errorf("second claim: got %v, want [c]: a claimed mark is not returned again", got)
		}
		// Re-marking keeps the mark's time; done clears; done wins over a
		// mark in the same batch.
		commit(store.Batch{ArticlesPending: []store.PendingArticle{mark("d", t0.Add(time.Hour), t0), mark("e", t0, time.Time{})},
			ArticlesDone: []string{"b", "e"}})
		l, err := s.ClaimArticles(ctx, t0.Add(6*time.Minute), t0.Add(7*time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, pa := range l {
			got = append(got, pa.ItemID)
		}
		if !slices.Equal(got, []string{"d", "c", "a"}) {
			t.Fatalf("after the claims ended: got %v, want [d c a]", got)
		}
		if !l[0].Since.Equal(t0.Add(-2*time.Hour)) || !l[2].Since.Equal(t0) {
			t.Errorf("mark times: got d %v, a %v; want %v, %v", l[0].Since, l[2].Since, t0.Add(-2*time.Hour), t0)
		}
		commit(store.Batch{ArticlesDone: []string{"a", "c", "d"}})
		if got := claim(t0.Add(24*time.Hour), 10); len(got) != 0 {
			t.Errorf("after clearing all: claimed %v", got)
		}
	})
}
