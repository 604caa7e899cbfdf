package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

// TestIncidentLockOneHolder: one process at a time holds the incident
// lock; unlocking frees it for another; a holder whose session the
// server ends (as when its process dies) frees it too, and its unlock
// then does no harm.
func TestIncidentLockOneHolder(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	a, b := openWith(t, url, pgstore.Options{}), openWith(t, url, pgstore.Options{})
	// Its waits give up at once, so a refusal is quick; it is never
	// asked while the lock is free.
	impatient := openWith(t, url, pgstore.Options{Timeout: 50 * time.Millisecond})

	unlockA, err := a.LockIncidents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := impatient.LockIncidents(t.Context()); err == nil {
		t.Fatal("another process took the lock while A held it")
	}
	unlockA()
	unlockB, err := b.LockIncidents(t.Context())
	if err != nil {
		t.Fatalf("B after A unlocked: %v", err)
	}
	unlockB()
	// The connections given back to the pools hold nothing: A locks again.
	unlockA, err = a.LockIncidents(t.Context())
	if err != nil {
		t.Fatalf("A again: %v", err)
	}
	if err := pgstore.ExecForTest(t.Context(), url, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"); err != nil {
		t.Fatal(err)
	}
	unlockA() // its session is gone: nothing to give back
	unlockB, err = b.LockIncidents(t.Context())
	if err != nil {
		t.Fatalf("B after A's session ended: %v", err)
	}
	unlockB()
	if n, err := a.CountItems(); err != nil || n != 0 {
		t.Errorf("A's store after its lock session ended: %d items, %v; want 0, nil", n, err)
	}
}

// TestIncidentChangesSince: changed items come in change order with the
// incident each is in — the one it joined, else its own — and an edit
// comes again.
func TestIncidentChangesSince(t *testing.T) {
	s, _ := open(t)
	steps := []struct {
		name  string
		batch store.Batch
		want  string
	}{
		{"nothing yet", store.Batch{}, "[]"},
		{"a starts an incident, b joins it, c alone", store.Batch{
			Items:   []accordwatch.Item{changeItem("a", "1"), changeItem("b", "1"), changeItem("c", "1")},
			Members: []store.Member{{ItemID: "b", IncidentID: "a"}},
		}, "[a:a b:a c:c]"},
		{"an edit of b", store.Batch{Items: []accordwatch.Item{changeItem("b", "2")}}, "[b:a]"},
	}
	var last int64
	for _, st := range steps {
		if len(st.batch.Items) > 0 {
			if _, err := s.CommitBatch(st.batch); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		changes, next, err := s.IncidentChangesSince(t.Context(), last, 100)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var got []string
		for _, ch := range changes {
			got = append(got, ch.Item.ID+":"+ch.IncidentID)
		}
		if fmt.Sprint(got) != st.want && !(st.want == "[]" && len(got) == 0) {
			t.Errorf("%s: got %v, want %s", st.name, got, st.want)
		}
		if len(changes) == 0 && next != last {
			t.Errorf("%s: got last change %d with nothing read, want %d", st.name, next, last)
		}
		last = next
	}
}

// TestIncidentCommitRefusedAfterLockLost: A decides incidents under the
// lock, but its lock session ends before A commits (as when the server
// drops the connection) and B takes the lock and commits its own
// decision on the same story. A's commit then fails with
// ErrIncidentLockLost and stores nothing, so the story is not made into
// a second incident; with the lock held throughout, A's commit lands.
func TestIncidentCommitRefusedAfterLockLost(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	a, b := openWith(t, url, pgstore.Options{}), openWith(t, url, pgstore.Options{})
	decide := func(id string) store.Batch {
		return store.Batch{
			Items:     []accordwatch.Item{changeItem(id, "1")},
			Incidents: []accordwatch.Incident{{ID: "inc-" + id, LastSeen: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}},
			Members:   []store.Member{{ItemID: id, IncidentID: "inc-" + id}},
		}
	}

	// A failing check must not leave a lock's connection out of its
	// pool: Close would wait for it.
	lock := func(s *pgstore.Store) func() {
		t.Helper()
		unlock, err := s.LockIncidents(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		once := sync.OnceFunc(unlock)
		t.Cleanup(once)
		return once
	}
	unlockA := lock(a)
	if err := pgstore.ExecForTest(t.Context(), url, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"); err != nil {
		t.Fatal(err)
	}
	unlockB := lock(b)
	if _, err := b.CommitBatch(decide("b1")); err != nil {
		t.Fatalf("B's commit under the lock: %v", err)
	}
	unlockB()
	if _, err := a.CommitBatch(decide("a1")); !errors.Is(err, pgstore.ErrIncidentLockLost) {
		t.Fatalf("A's commit after losing the lock: %v; want ErrIncidentLockLost", err)
	}
	unlockA()
	if _, ok, err := a.Item("a1"); err != nil || ok {
		t.Errorf("A's refused commit stored its item: found %v, err %v", ok, err)
	}

	// Held throughout, the same commit lands; and without the lock (one
	// process, no replicas) nothing is checked.
	unlockA = lock(a)
	if _, err := a.CommitBatch(decide("a1")); err != nil {
		t.Fatalf("A's commit with the lock held: %v", err)
	}
	unlockA()
	if _, err := a.CommitBatch(decide("a2")); err != nil {
		t.Fatalf("a commit without the lock: %v", err)
	}
}
