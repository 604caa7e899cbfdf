package store

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

var weekAt = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// claim calls ClaimDigest and fails the test on an error.
func claim(t *testing.T, s *Store, week string, now time.Time, force bool) (claimed, interrupted bool, sentAt time.Time) {
	t.Helper()
	claimed, interrupted, sentAt, err := s.ClaimDigest(week, now, force)
	if err != nil {
		t.Fatalf("ClaimDigest(%s, force=%v): %v", week, force, err)
	}
	return claimed, interrupted, sentAt
}

func TestDigestClaimConfirmRelease(t *testing.T) {
	s, _ := openTemp(t)
	if _, ok, err := s.DigestSent("2026-W47"); err != nil || ok {
		t.Fatalf("DigestSent before any claim: got ok=%v err=%v, want false, nil", ok, err)
	}
	if ok, interrupted, _ := claim(t, s, "2026-W47", weekAt, false); !ok || interrupted {
		t.Fatalf("first claim: got claimed=%v interrupted=%v, want true, false", ok, interrupted)
	}
	if _, ok, _ := s.DigestSent("2026-W47"); ok {
		t.Errorf("a claimed week reads as sent before it is confirmed")
	}
	if err := s.ConfirmDigest("2026-W47", weekAt); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.DigestSent("2026-W47"); err != nil || !ok || !at.Equal(weekAt) {
		t.Fatalf("DigestSent: got %v, %v, %v, want %v, true, nil", at, ok, err, weekAt)
	}

	// Sent: refused without force, with when.
	ok, _, sentAt := claim(t, s, "2026-W47", weekAt.Add(time.Hour), false)
	if ok || !sentAt.Equal(weekAt) {
		t.Fatalf("claim of a sent week: got claimed=%v sentAt=%v, want false, %v", ok, sentAt, weekAt)
	}
	// Forced, and the forced post fails: the week is sent as before.
	ok, _, sentAt = claim(t, s, "2026-W47", weekAt.Add(time.Hour), true)
	if !ok || !sentAt.Equal(weekAt) {
		t.Fatalf("forced claim: got claimed=%v sentAt=%v, want true, %v", ok, sentAt, weekAt)
	}
	if err := s.ReleaseDigest("2026-W47"); err != nil {
		t.Fatal(err)
	}
	if at, ok, _ := s.DigestSent("2026-W47"); !ok || !at.Equal(weekAt) {
		t.Errorf("after a released forced claim: got %v, %v, want sent at %v", at, ok, weekAt)
	}
	// Forced and confirmed: the new time.
	claim(t, s, "2026-W47", weekAt.Add(2*time.Hour), true)
	if err := s.ConfirmDigest("2026-W47", weekAt.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if at, _, _ := s.DigestSent("2026-W47"); !at.Equal(weekAt.Add(2 * time.Hour)) {
		t.Errorf("after a forced post: sent at %v, want %v", at, weekAt.Add(2*time.Hour))
	}
	// Releasing a confirmed week keeps it.
	if err := s.ReleaseDigest("2026-W47"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.DigestSent("2026-W47"); !ok {
		t.Errorf("ReleaseDigest dropped a confirmed week")
	}

	// A failed first post leaves no record: the week can be claimed again.
	claim(t, s, "2026-W48", weekAt, false)
	if err := s.ReleaseDigest("2026-W48"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := claim(t, s, "2026-W48", weekAt, false); !ok {
		t.Errorf("claim after release: got false, want true")
	}
	if _, _, _, err := s.ClaimDigest("", weekAt, false); err == nil {
		t.Errorf("ClaimDigest(\"\"): got nil error, want one")
	}
}

// TestClaimDigestIsAtomic: of many claims at once, one wins; the others
// are told the week is being posted.
func TestClaimDigestIsAtomic(t *testing.T) {
	s, _ := openTemp(t)
	const n = 16
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	for range n {
		wg.Go(func() {
			ok, _, _, err := s.ClaimDigest("2026-W47", time.Now(), false)
			if err != nil && !strings.Contains(err.Error(), "is being posted since") {
				t.Errorf("losing claim: got %v, want \"is being posted since\"", err)
			}
			wins <- ok
		})
	}
	wg.Wait()
	close(wins)
	got := 0
	for w := range wins {
		if w {
			got++
		}
	}
	if got != 1 {
		t.Errorf("concurrent ClaimDigest: got %d winners, want 1", got)
	}
	// force overrides a claim in flight (the person asked for a post).
	if ok, _, _ := claim(t, s, "2026-W47", time.Now(), true); !ok {
		t.Errorf("forced claim over one in flight: got false, want true")
	}
}

// TestClaimDigestTakesOverAnInterruptedPost: a claim left by a process
// that died between claim and confirm is taken over and reported, so the
// week is posted again (at least once) rather than never.
func TestClaimDigestTakesOverAnInterruptedPost(t *testing.T) {
	s, _ := openTemp(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDigests)
		if err != nil {
			return err
		}
		return writeDigest(b, "2026-W47", accordwatch.DigestRecord{State: accordwatch.DigestPosting, Session: "a process gone", ClaimedAt: weekAt})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.DigestSent("2026-W47"); ok {
		t.Errorf("an interrupted claim reads as sent")
	}
	ok, interrupted, _ := claim(t, s, "2026-W47", weekAt.Add(time.Minute), false)
	if !ok || !interrupted {
		t.Errorf("claim over an interrupted one: got claimed=%v interrupted=%v, want true, true", ok, interrupted)
	}
}

// TestDigestSentReadsOldRecords: stores written before claims hold the
// sent time alone; those weeks stay sent.
func TestDigestSentReadsOldRecords(t *testing.T) {
	s, _ := openTemp(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDigests)
		if err != nil {
			return err
		}
		return b.Put([]byte("2026-W47"), []byte(weekAt.Format(time.RFC3339Nano)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.DigestSent("2026-W47"); err != nil || !ok || !at.Equal(weekAt) {
		t.Errorf("DigestSent of an old record: got %v, %v, %v, want %v, true, nil", at, ok, err, weekAt)
	}
	if ok, _, sentAt := claim(t, s, "2026-W47", weekAt, false); ok || !sentAt.Equal(weekAt) {
		t.Errorf("claim of an old record: got claimed=%v sentAt=%v, want false, %v", ok, sentAt, weekAt)
	}
}

func TestDigestSentSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	claim(t, s, "2026-W47", weekAt, false)
	if err := s.ConfirmDigest("2026-W47", weekAt); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok, err := s2.DigestSent("2026-W47"); err != nil || !ok {
		t.Errorf("after reopen: got ok=%v err=%v, want true, nil", ok, err)
	}
}
