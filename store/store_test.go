package store

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accordwatch.db")
	s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func item(id, hash string, fetched time.Time) accordwatch.Item {
	return accordwatch.Item{ID: id, Title: "t-" + id, ContentHash: hash, Fetched: fetched,
		Tags: accordwatch.Tags{Signatories: []string{"Microsoft"}, Severity: 40}}
}

func TestDiffAndSave(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := saveItems(s, []accordwatch.Item{item("a", "h1", t0), item("b", "h1", t0)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Diff([]accordwatch.Item{item("a", "h1", t0), item("b", "h2", t0), item("c", "h1", t0)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{Unchanged, Changed, New}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: got %v, want %v", i, got[i], want[i])
		}
	}
	// An edit keeps the first-seen time.
	if err := saveItems(s, []accordwatch.Item{item("b", "h2", t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.Item("b")
	if err != nil || !ok {
		t.Fatalf("got ok=%v err=%v, want item b", ok, err)
	}
	if !b.Fetched.Equal(t0) || b.ContentHash != "h2" {
		t.Errorf("got fetched %v hash %q, want %v and h2", b.Fetched, b.ContentHash, t0)
	}
	if b.Tags.Signatories[0] != "Microsoft" {
		t.Errorf("tags not stored: %+v", b.Tags)
	}
	if n, _ := s.CountItems(); n != 2 {
		t.Errorf("got %d items, want 2", n)
	}
	if err := saveItems(s, []accordwatch.Item{{Title: "no id"}}); err == nil {
		t.Error("saving an item without ID: got nil error")
	}
}

func TestOutboxIsIdempotentAcrossRestart(t *testing.T) {
	s, path := openTemp(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	a := accordwatch.Alert{ID: "r1/a", Rule: "r1", ItemID: "a", Created: now}
	added, err := enqueue(s, []accordwatch.Alert{a, {ID: "r1/b", Rule: "r1", ItemID: "b", Created: now.Add(time.Second), NextAttempt: now.Add(time.Hour)}})
	if err != nil || len(added) != 2 {
		t.Fatalf("got %d added, err %v; want 2", len(added), err)
	}
	due, _ := dueAlerts(s, now)
	if len(due) != 1 || due[0].ID != "r1/a" || due[0].Status != accordwatch.AlertPending {
		t.Fatalf("got due %+v, want only pending r1/a", due)
	}
	a = due[0]
	a.Status, a.SentAt, a.Ref = accordwatch.AlertSent, now, "C1/1.2"
	if err := s.UpdateAlert(a); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	again, err := enqueue(s2, []accordwatch.Alert{{ID: "r1/a", Rule: "r1", ItemID: "a", Created: now}})
	if err != nil || len(again) != 0 {
		t.Fatalf("re-enqueue after restart: got %d added, err %v; want 0", len(again), err)
	}
	due, _ = dueAlerts(s2, now.Add(2*time.Hour))
	if len(due) != 1 || due[0].ID != "r1/b" {
		t.Errorf("got due %+v, want r1/b only (r1/a was sent)", due)
	}
	if err := s2.UpdateAlert(accordwatch.Alert{ID: "nope"}); err == nil {
		t.Error("updating an unknown alert: got nil error")
	}
}

func TestFeedState(t *testing.T) {
	s, _ := openTemp(t)
	if _, ok, err := s.FeedState("https://x/feed"); ok || err != nil {
		t.Fatalf("got ok=%v err=%v for an unknown feed", ok, err)
	}
	st := accordwatch.FeedState{URL: "https://x/feed", ETag: `W/"abc"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT", ConsecutiveFailures: 2, LastError: "HTTP 500"}
	if err := s.SaveFeedState(st); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.FeedState(st.URL)
	if err != nil || !ok || got.ETag != st.ETag || got.LastModified != st.LastModified || got.ConsecutiveFailures != 2 {
		t.Errorf("got %+v ok=%v err=%v, want %+v", got, ok, err, st)
	}
	all, _ := s.FeedStates()
	if len(all) != 1 {
		t.Errorf("got %d feed states, want 1", len(all))
	}
}

func TestSecondOpenFailsWithErrLocked(t *testing.T) {
	_, path := openTemp(t)
	_, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v, want ErrLocked", err)
	}
}

func TestOpenInUnwritableDirFails(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	s, err := Open(blocker, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A data dir below a regular file cannot be created.
	if _, err := Open(filepath.Join(blocker, "sub", "x.db"), Options{}); err == nil {
		t.Error("got nil error opening a store under a file")
	}
}

func TestFeedRegistry(t *testing.T) {
	s, path := openTemp(t)
	list := []accordwatch.Feed{{Name: "A", URL: "https://a.example/feed", Source: "opml", Tags: []string{"news"}}, {Name: "B", URL: "https://b.example/rss", Source: "cli"}}
	added, dups, err := s.AddFeeds(list)
	if err != nil || len(added) != 2 || len(dups) != 0 {
		t.Fatalf("got added %d dups %d err %v", len(added), len(dups), err)
	}
	added, dups, _ = s.AddFeeds([]accordwatch.Feed{{Name: "A again", URL: "https://a.example/feed"}, {URL: "https://c.example/atom"}})
	if len(added) != 1 || len(dups) != 1 || dups[0].Name != "A again" {
		t.Errorf("got added %+v dups %+v, want c added and A reported as duplicate", added, dups)
	}
	if ok, err := s.RemoveFeed("https://b.example/rss"); !ok || err != nil {
		t.Errorf("remove: ok %v err %v", ok, err)
	}
	if ok, _ := s.RemoveFeed("https://nope.example/"); ok {
		t.Error("removing an unknown feed reported ok")
	}
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.RegisteredFeeds()
	if err != nil || len(got) != 2 || got[0].URL != "https://a.example/feed" || got[0].Tags[0] != "news" || got[0].Name != "A" {
		t.Errorf("after reopen: got %+v err %v", got, err)
	}
	if _, _, err := s2.AddFeeds([]accordwatch.Feed{{Name: "no url"}}); err == nil {
		t.Error("a feed without URL was accepted")
	}
}

func TestItemsAreCompressedAndOldPlainJSONStillReads(t *testing.T) {
	s, _ := openTemp(t)
	long := accordwatch.Item{ID: "big", ContentHash: "h1", Fetched: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Text: strings.Repeat("Microsoft said Russian state hackers exploited a flaw. ", 200)}
	if err := saveItems(s, []accordwatch.Item{long}); err != nil {
		t.Fatal(err)
	}
	var rawLen int
	s.db.View(func(tx *bolt.Tx) error {
		rawLen = len(tx.Bucket(bucketItems).Get([]byte("big")))
		return nil
	})
	if rawLen == 0 || rawLen > len(long.Text)/4 {
		t.Errorf("stored %d bytes for %d bytes of text, want it compressed", rawLen, len(long.Text))
	}
	got, ok, err := s.Item("big")
	if err != nil || !ok || got.Text != long.Text {
		t.Fatalf("round trip: ok %v err %v", ok, err)
	}
	// An item written as plain JSON by an older version, with no entry in
	// the hashes bucket, still reads, diffs and keeps its first-seen time.
	old := accordwatch.Item{ID: "old", ContentHash: "h0", Fetched: time.Date(2025, 5, 5, 0, 0, 0, 0, time.UTC), Title: "legacy"}
	raw, _ := json.Marshal(old)
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketItems).Put([]byte("old"), raw) })
	if it, ok, _ := s.Item("old"); !ok || it.Title != "legacy" {
		t.Errorf("plain JSON item: got %+v", it)
	}
	ch, _ := s.Diff([]accordwatch.Item{{ID: "old", ContentHash: "h0"}, {ID: "old", ContentHash: "h9"}})
	if ch[0] != Unchanged || ch[1] != Changed {
		t.Errorf("diff on a legacy item: got %v", ch)
	}
	if err := saveItems(s, []accordwatch.Item{{ID: "old", ContentHash: "h9", Fetched: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if it, _, _ := s.Item("old"); !it.Fetched.Equal(old.Fetched) {
		t.Errorf("first-seen lost on edit of a legacy item: %v", it.Fetched)
	}
}

// saveItems, enqueue and due write and read through the transactional
// paths the pipeline uses (CommitBatch, Alerts).
func saveItems(s *Store, items []accordwatch.Item) error {
	_, err := s.CommitBatch(Batch{Items: items})
	return err
}

func enqueue(s *Store, alerts []accordwatch.Alert) ([]accordwatch.Alert, error) {
	return s.CommitBatch(Batch{Alerts: alerts})
}

// due is the pending alerts whose next attempt has come, oldest first.
func dueAlerts(s *Store, now time.Time) ([]accordwatch.Alert, error) {
	all, err := s.Alerts()
	var out []accordwatch.Alert
	for _, a := range all {
		if a.Status == accordwatch.AlertPending && !a.NextAttempt.After(now) {
			out = append(out, a)
		}
	}
	return out, err
}
