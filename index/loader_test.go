package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accordwatch/accordwatch"
)

// TestLoader adds items of six months in random order through a Loader
// with small limits, so that it writes by month, by bound and at Flush;
// one item is added again with another month and title. The index must
// hold every item once, in its month, as last added.
func TestLoader(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "index"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ix.Close() }()
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	var items []accordwatch.Item
	want := map[string]uint64{}
	for i := range 400 {
		at := start.Add(time.Duration(r.IntN(182*24)) * time.Hour)
		items = append(items, accordwatch.Item{ID: fmt.Sprintf("l%03d", i), Title: "loaded item", Published: at, FeedName: "Loader Feed"})
	}
	moved := items[7]
	moved.Title = "moved item"
	moved.Published = time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)
	if partitionName(items[7].Published) == partitionName(moved.Published) {
		t.Fatal("test set-up: the moved item must change month")
	}
	l := ix.NewLoader()
	// Each item counts 512+11 bytes: months fill at 30 items or 20 KB,
	// and the Loader holds at most about 100 items.
	l.batch, l.monthBytes, l.most = 30, 20<<10, 100*523
	for i, it := range items {
		if err := l.Add(context.Background(), it); err != nil {
			t.Fatal(err)
		}
		if i == 200 {
			if err := l.Add(context.Background(), moved); err != nil {
				t.Fatal(err)
			}
		}
		if l.held > l.most {
			t.Fatalf("after %d items the Loader holds %d, above its bound %d", i+1, l.held, l.most)
		}
	}
	n, _ := ix.Count()
	if n == 0 {
		t.Error("nothing written before Flush: the limits did not apply")
	}
	// The moved item was still held when it came again, or it was
	// written twice (both in the index until the second write).
	if w := l.Written(); w != int(n) && w != int(n)+1 {
		t.Errorf("before Flush: Written %d, the index holds %d", w, n)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.held != 0 || len(l.months) != 0 || len(l.where) != 0 || len(l.bytes) != 0 {
		t.Errorf("after Flush the Loader still holds %d items", l.held)
	}
	if w := l.Written(); w < len(items) || w > len(items)+1 {
		t.Errorf("after Flush: Written %d, want the %d items added (one of them perhaps twice)", w, len(items))
	}
	items[7] = moved
	for _, it := range items {
		want[partitionName(it.Published)]++
	}
	if diff := cmp.Diff(want, partitionCounts(t, ix)); diff != "" {
		t.Errorf("items by month (-want +got):\n%s", diff)
	}
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: `"moved item"`, Facets: "feed"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := hitIDs(res); len(ids) != 1 || ids[0] != moved.ID {
		t.Errorf("the item added again: search finds %v, want [%s]", ids, moved.ID)
	}
}
