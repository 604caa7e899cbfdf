package digest

import (
	"context"
	"path/filepath"
	"time"

	"fmt"
	"github.com/accordwatch/accordwatch/store"
	"strconv"
	"testing"

	"github.com/accordwatch/accordwatch"
)

// cappedSearcher behaves like the index past its counting cut-off: Total is
// a lower bound and only the cursor tells how many there really are.
type cappedSearcher struct{ n int }

func (c cappedSearcher) Search(_ context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	start := 0
	if req.After != "" {
		start, _ = strconv.Atoi(req.After)
	}
	end := min(start+req.Size, c.n)
	res := accordwatch.SearchResult{Total: 3, TotalAtLeast: true}
	for i := start; i < end; i++ {
		res.Hits = append(res.Hits, accordwatch.SearchHit{ID: fmt.Sprint(i)})
	}
	if end < c.n {
		res.Next = strconv.Itoa(end)
	}
	return res, nil
}

// countingSearcher can count exactly, as the index does.
type countingSearcher struct{ cappedSearcher }

func (countingSearcher) CountMatching(context.Context, string) (uint64, error) { return 2500, nil }

func TestExactCountAsksTheIndexWhenItCan(t *testing.T) {
	b := &builder{s: countingSearcher{cappedSearcher{n: 0}}} // paging would find nothing
	if n, err := b.total(context.Background(), "x"); err != nil || n != 2500 {
		t.Errorf("total: got %d, %v; want 2500 from CountMatching", n, err)
	}
}

func TestCountsAreExactPastTheIndexCutOff(t *testing.T) {
	b := &builder{s: cappedSearcher{n: 2500}}
	n, err := b.total(context.Background(), "x")
	if err != nil || n != 2500 {
		t.Errorf("total: got %d, %v; want 2500", n, err)
	}
	hits, total, err := b.all(context.Background(), "x", 100000)
	if err != nil || len(hits) != 2500 || total != 2500 {
		t.Errorf("all: got %d hits, total %d, %v; want 2500", len(hits), total, err)
	}
}

func TestRunnerSkipsAWeekNotMonitoredFromItsStart(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // Wednesday of W48: W47 is due
	for _, tt := range []struct {
		since    time.Time
		wantSent bool
	}{
		{time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), false}, // started mid-W47
		{time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), true},  // watched all of W47
	} {
		r, err := NewRunner(RunnerOptions{Since: tt.since, Searcher: cappedSearcher{}, Store: st, Dir: t.TempDir(), Build: Options{Location: time.UTC}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RunDue(context.Background(), now); err != nil {
			t.Fatal(err)
		}
		if _, sent, _ := st.DigestSent("2026-W47"); sent != tt.wantSent {
			t.Errorf("monitoring since %s: sent %v, want %v", tt.since.Format(time.DateOnly), sent, tt.wantSent)
		}
	}
}
