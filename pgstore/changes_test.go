package pgstore_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
)

func changeItem(id, hash string) accordwatch.Item {
	t := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return accordwatch.Item{ID: id, FeedURL: "https://f.example/rss", Title: "t " + id, ContentHash: hash, Published: t, Fetched: t}
}

func TestChangesSinceFollowsInsertsAndUpdates(t *testing.T) {
	s, _ := open(t)
	steps := []struct {
		name  string
		write []accordwatch.Item
		want  []string // IDs read after the previous step's last change
	}{
		{"nothing yet", nil, nil},
		{"two new items", []accordwatch.Item{changeItem("a", "1"), changeItem("b", "1")}, []string{"a", "b"}},
		{"an edit comes again", []accordwatch.Item{changeItem("a", "2")}, []string{"a"}},
		{"an edit and a new item", []accordwatch.Item{changeItem("c", "1"), changeItem("b", "2")}, []string{"c", "b"}},
	}
	var last int64
	for _, st := range steps {
		if len(st.write) > 0 {
			if _, err := s.CommitBatch(store.Batch{Items: st.write}); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		items, next, err := s.ChangesSince(t.Context(), last, 100)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if !slices.Equal(ids, st.want) {
			t.Errorf("%s: got %v, want %v", st.name, ids, st.want)
		}
		if len(items) > 0 && next <= last {
			t.Errorf("%s: last change %d, want above %d", st.name, next, last)
		}
		last = next
	}
	if head, err := s.LastChange(t.Context()); err != nil || head != last {
		t.Errorf("LastChange: %d, %v; want %d", head, err, last)
	}
	// Everything from the start, in pages: each item once, at its latest change.
	var all []string
	for from := int64(0); ; {
		page, next, err := s.ChangesSince(t.Context(), from, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, it := range page {
			all = append(all, it.ID)
		}
		from = next
	}
	if want := []string{"a", "c", "b"}; !slices.Equal(all, want) {
		t.Errorf("from the start: got %v, want %v", all, want)
	}
}

// TestChangesBecomeVisibleInOrder tails the change sequence while several
// writers commit at once: resuming from the last number read must never
// skip an item committed later under a smaller number.
func TestChangesBecomeVisibleInOrder(t *testing.T) {
	s, _ := open(t)
	const writers, batches, per = 4, 15, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var items []accordwatch.Item
				for i := range per {
					items = append(items, changeItem(fmt.Sprintf("w%d-%02d-%d", w, b, i), "1"))
				}
				if _, err := s.CommitBatch(store.Batch{Items: items}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	var last int64
	read := func() {
		items, next, err := s.ChangesSince(t.Context(), last, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			seen[it.ID] = true
		}
		last = next
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		read()
	}
	for {
		before := last
		read()
		if last == before {
			break
		}
	}
	if want := writers * batches * per; len(seen) != want {
		t.Errorf("the tail saw %d items, want all %d", len(seen), want)
	}
}
