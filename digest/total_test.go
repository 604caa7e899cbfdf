package digest

import (
	"context"
	"fmt"
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
