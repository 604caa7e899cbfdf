package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accordwatch/accordwatch"
)

// spreadItems makes n items published over five months (Nov 2025 – Mar
// 2026), every third pair sharing a timestamp so that the id tie-breaker
// is exercised across pages. Even items say "ransomware".
func spreadItems(n int) []accordwatch.Item {
	start := time.Date(2025, 11, 2, 6, 0, 0, 0, time.UTC)
	step := (125 * 24 * time.Hour) / time.Duration(n)
	items := make([]accordwatch.Item, n)
	for i := range items {
		at := start.Add(time.Duration(i) * step)
		if i%3 == 1 {
			at = items[i-1].Published // a tie with the previous item
		}
		word := "patch"
		if i%2 == 0 {
			word = "ransomware"
		}
		items[i] = accordwatch.Item{
			ID:        fmt.Sprintf("s%03d", i),
			Title:     fmt.Sprintf("%s item %d", word, i),
			Text:      strings.Repeat("news about a "+word+" event ", 1+i%4),
			FeedName:  []string{"The Record", "CISA"}[i%2],
			Published: at,
			Tags:      accordwatch.Tags{Severity: i % 100, Signatories: []string{[]string{"Microsoft", "ESET", "Cisco"}[i%3]}},
		}
	}
	return items
}

func openSpread(t *testing.T, n int) (*Index, []accordwatch.Item) {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), "index"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	items := spreadItems(n)
	// Added in reverse, in two calls, so insertion order is not date order.
	rev := slices.Clone(items)
	slices.Reverse(rev)
	if err := ix.Add(context.Background(), rev[:n/2]); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), rev[n/2:]); err != nil {
		t.Fatal(err)
	}
	return ix, items
}

// newestOrder is the expected newest-first order: date descending, then
// id ascending.
func newestOrder(items []accordwatch.Item, keep func(accordwatch.Item) bool) []string {
	var sel []accordwatch.Item
	for _, it := range items {
		if keep == nil || keep(it) {
			sel = append(sel, it)
		}
	}
	slices.SortFunc(sel, func(a, b accordwatch.Item) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	ids := make([]string, len(sel))
	for i, it := range sel {
		ids[i] = it.ID
	}
	return ids
}

func TestPartitionsByMonth(t *testing.T) {
	ix, items := openSpread(t, 90)
	dir := ix.dir
	var got []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
		}
	}
	want := []string{"2025-11", "2025-12", "2026-01", "2026-02", "2026-03"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("partition directories (-want +got):\n%s", diff)
	}
	if n, err := ix.Count(); err != nil || n != 90 {
		t.Errorf("Count = %d, %v; want 90 (summed over partitions)", n, err)
	}
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(newestOrder(items, nil), hitIDs(res)); diff != "" {
		t.Errorf("newest first across partitions (-want +got):\n%s", diff)
	}
	if res.Total != 90 {
		t.Errorf("got Total %d, want 90", res.Total)
	}
	if res.Next != "" {
		t.Errorf("got Next %q on the only page, want none", res.Next)
	}

	// Past the count limit, newest first counts only the newest months.
	ix.countLimit = 7
	res, err = ix.Search(context.Background(), accordwatch.SearchRequest{Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TotalAtLeast || res.Total < 7 || res.Total >= 90 {
		t.Errorf("count limit 7: got Total %d (at least: %v), want a lower bound in [7, 90)", res.Total, res.TotalAtLeast)
	}
	for q, want := range map[string]uint64{"": 90, "ransomware": 45, "ransomware published:<2026-01-01": 0} {
		n, err := ix.CountMatching(context.Background(), q)
		if q == "ransomware published:<2026-01-01" {
			want = uint64(len(newestOrder(items, func(it accordwatch.Item) bool {
				return strings.HasPrefix(it.Title, "ransomware") && it.Published.Before(day("2026-01-01", 0))
			})))
		}
		if err != nil || n != want {
			t.Errorf("CountMatching(%q) = %d, %v; want exactly %d past the count limit", q, n, err, want)
		}
	}
	if _, err := ix.CountMatching(context.Background(), "state:"); err == nil {
		t.Error("CountMatching of a bad query: got nil error")
	}
	res, err = ix.Search(context.Background(), accordwatch.SearchRequest{Size: 5, Sort: accordwatch.SortRelevance})
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalAtLeast || res.Total != 90 {
		t.Errorf("relevance: got Total %d (at least: %v), want exactly 90", res.Total, res.TotalAtLeast)
	}
}

func TestPagingMatchesOnePage(t *testing.T) {
	ix, items := openSpread(t, 90)
	isRansomware := func(it accordwatch.Item) bool { return strings.HasPrefix(it.Title, "ransomware") }
	queries := []struct {
		q, sort string
		want    []string // nil: the one-page result is the reference
	}{
		{"", accordwatch.SortNewest, newestOrder(items, nil)},
		{"ransomware", accordwatch.SortNewest, newestOrder(items, isRansomware)},
		{"signatory:eset published:[2025-12-15 TO 2026-02-10]", accordwatch.SortNewest, nil},
		{"ransomware", accordwatch.SortRelevance, nil},
	}
	for _, limit := range []uint64{countLimit, 7} {
		ix.countLimit = limit
		for _, qq := range queries {
			testPaging(t, ix, limit, qq.q, qq.sort, qq.want)
		}
	}
}

// testPaging reads q's hits in pages of several sizes, by From and by
// After, and compares them with one page of all hits (or with want).
func testPaging(t *testing.T, ix *Index, limit uint64, q, sort string, want []string) {
	ctx := context.Background()
	qq := struct{ q, sort string }{q, sort}
	{
		all, err := ix.Search(ctx, accordwatch.SearchRequest{Query: qq.q, Sort: qq.sort, Size: MaxSize})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = hitIDs(all)
		} else if diff := cmp.Diff(want, hitIDs(all)); diff != "" {
			t.Fatalf("%q one page (-want +got):\n%s", qq.q, diff)
		}
		if len(want) < 10 {
			t.Fatalf("%q: only %d hits, the paging test needs more", qq.q, len(want))
		}
		for _, size := range []int{1, 2, 3, 4, 7, 10, 11, len(want), len(want) + 1} {
			t.Run(fmt.Sprintf("%s %q size %d count limit %d", qq.sort, qq.q, size, limit), func(t *testing.T) {
				var byFrom, byAfter []string
				for from := 0; from < len(want)+size; from += size {
					res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: qq.q, Sort: qq.sort, Size: size, From: from})
					if err != nil {
						t.Fatal(err)
					}
					checkTotal(t, res, len(want), limit, from+size)
					byFrom = append(byFrom, hitIDs(res)...)
				}
				req := accordwatch.SearchRequest{Query: qq.q, Sort: qq.sort, Size: size}
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatal("Next never ran out")
					}
					res, err := ix.Search(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					byAfter = append(byAfter, hitIDs(res)...)
					if res.Next == "" {
						if len(res.Hits) == 0 && len(byAfter) > 0 {
							t.Error("got an empty last page: Next was set on a page with nothing after it")
						}
						break
					}
					if len(res.Hits) != size {
						t.Errorf("page %d: got %d hits and a Next cursor, want a full page of %d", pages, len(res.Hits), size)
					}
					req.After = res.Next
					req.From = 1_000_000 // ignored when After is set
				}
				if diff := cmp.Diff(want, byFrom); diff != "" {
					t.Errorf("pages by From (-one page +pages):\n%s", diff)
				}
				if diff := cmp.Diff(want, byAfter); diff != "" {
					t.Errorf("pages by After (-one page +pages):\n%s", diff)
				}
			})
		}
	}
}

// checkTotal checks Total: exact, or (newest first, past the count limit)
// a lower bound of at least limit and of the hits up to the page's end.
func checkTotal(t *testing.T, res accordwatch.SearchResult, n int, limit uint64, end int) {
	t.Helper()
	if !res.TotalAtLeast {
		if res.Total != uint64(n) {
			t.Fatalf("got exact Total %d, want %d", res.Total, n)
		}
		return
	}
	if uint64(n) <= limit && n <= end {
		t.Fatalf("got Total %d as a lower bound, want exact %d (below the limit %d)", res.Total, n, limit)
	}
	if res.Total > uint64(n) || res.Total < min(limit, uint64(n)) || res.Total < uint64(min(end, n)) {
		t.Fatalf("got Total at least %d, want between %d and %d", res.Total, max(min(limit, uint64(n)), uint64(min(end, n))), n)
	}
}

func TestBadCursor(t *testing.T) {
	ix, _ := openSpread(t, 30)
	ctx := context.Background()
	res, err := ix.Search(ctx, accordwatch.SearchRequest{Sort: accordwatch.SortNewest, Size: 5})
	if err != nil || res.Next == "" {
		t.Fatalf("first page: Next %q, err %v; want a cursor", res.Next, err)
	}
	for name, req := range map[string]accordwatch.SearchRequest{
		"garbage":         {After: "!!not base64"},
		"not json":        {After: "bm90IGpzb24"},
		"other sort":      {Query: "ransomware", Sort: accordwatch.SortRelevance, After: res.Next},
		"no position":     {Sort: accordwatch.SortNewest, After: cursor{Sort: accordwatch.SortNewest}.encode()},
		"negative offset": {Query: "x", Sort: accordwatch.SortRelevance, After: cursor{Sort: accordwatch.SortRelevance, From: -3}.encode()},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ix.Search(ctx, req); !errors.Is(err, ErrBadRequest) {
				t.Errorf("got error %v, want ErrBadRequest", err)
			}
		})
	}
}

// partitionCounts returns the number of documents in each partition.
func partitionCounts(t *testing.T, ix *Index) map[string]uint64 {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[string]uint64)
	for name, p := range ix.parts {
		n, err := p.bi.DocCount()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			out[name] = n
		}
	}
	return out
}

func TestAddMovesChangedMonth(t *testing.T) {
	ix, _ := openTestIndex(t) // 3 items in 2026-01, 5 in 2026-02, 2 in 2026-03
	ctx := context.Background()
	moved := testItems()[0] // a1, 2026-01-10
	moved.Published = day("2026-03-02", 20)
	if err := ix.Add(ctx, []accordwatch.Item{moved}); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"2026-01": 2, "2026-02": 5, "2026-03": 3}
	if diff := cmp.Diff(want, partitionCounts(t, ix)); diff != "" {
		t.Errorf("documents per partition after the move (-want +got):\n%s", diff)
	}
	if n, _ := ix.Count(); n != 10 {
		t.Errorf("Count = %d, want 10 (moved, not copied)", n)
	}
	res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "signatory:microsoft", Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a1", "a10", "a7"}, hitIDs(res)); diff != "" {
		t.Errorf("newest Microsoft items (-want +got):\n%s", diff)
	}
	res, err = ix.Search(ctx, accordwatch.SearchRequest{Query: "published:[2026-01-01 TO 2026-01-31]"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a2", "a3"}, sorted(hitIDs(res))); diff != "" {
		t.Errorf("January after the move (-want +got):\n%s", diff)
	}

	// Within one call the last copy of an id wins, even across months.
	early, late := testItems()[1], testItems()[1] // a2, 2026-01-15
	early.Published = day("2025-12-01", 0)
	late.Published = day("2026-02-28", 0)
	if err := ix.Add(ctx, []accordwatch.Item{early, late}); err != nil {
		t.Fatal(err)
	}
	want = map[string]uint64{"2026-01": 1, "2026-02": 6, "2026-03": 3}
	if diff := cmp.Diff(want, partitionCounts(t, ix)); diff != "" {
		t.Errorf("documents per partition after a doubled id (-want +got):\n%s", diff)
	}
}

func TestUndated(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	if err := ix.Add(ctx, []accordwatch.Item{{ID: "u1", Title: "undated ransomware note"}}); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "", Size: 20})
	if err != nil {
		t.Fatal(err)
	}
	if ids := hitIDs(res); len(ids) != 11 || ids[10] != "u1" {
		t.Errorf("got %v, want 11 hits with the undated u1 last", ids)
	}
	res, err = ix.Search(ctx, accordwatch.SearchRequest{Query: "ransomware since:3650d", Sort: accordwatch.SortNewest})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a5", "a2"}, hitIDs(res)); diff != "" {
		t.Errorf("a dated query (-want +got):\n%s", diff)
	}
}

func TestFacetsAcrossPartitions(t *testing.T) {
	ix, items := openSpread(t, 90)
	ctx := context.Background()
	q := "published:[2026-01-25 TO 2026-02-05]"
	res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: q, Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := day("2026-01-25", 0), day("2026-02-06", 0)
	days := map[string]int{}
	sigs := map[string]int{}
	n := 0
	for _, it := range items {
		if !it.Published.Before(lo) && it.Published.Before(hi) {
			days[it.Published.Format(time.DateOnly)]++
			sigs[it.Tags.Signatories[0]]++
			n++
		}
	}
	if res.Total != uint64(n) {
		t.Errorf("got Total %d, want %d", res.Total, n)
	}
	var wantDays, wantSigs []accordwatch.FacetCount
	for d, c := range days {
		wantDays = append(wantDays, fc(d, c))
	}
	slices.SortFunc(wantDays, func(a, b accordwatch.FacetCount) int { return strings.Compare(a.Value, b.Value) })
	for s, c := range sigs {
		wantSigs = append(wantSigs, fc(s, c))
	}
	if diff := cmp.Diff(wantDays, res.Facets["day"]); diff != "" {
		t.Errorf("day facet over two partitions (-want +got):\n%s", diff)
	}
	norm := cmpopts.SortSlices(func(a, b accordwatch.FacetCount) bool { return a.Value < b.Value })
	if diff := cmp.Diff(wantSigs, res.Facets["signatory"], norm); diff != "" {
		t.Errorf("signatory facet over two partitions (-want +got):\n%s", diff)
	}
}

// TestFacetsStopWithTheMonthThatReachesTheLimit: when the newest month
// reaches the count limit, the months counted after it to fill the first
// page add to neither the facets nor their days.
func TestFacetsStopWithTheMonthThatReachesTheLimit(t *testing.T) {
	ix, items := openDense(t, 400) // March holds 12 items, February 168
	ix.countLimit = 5
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "feed:cisa", Sort: accordwatch.SortNewest})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TotalAtLeast || res.Total < 5 {
		t.Fatalf("total %d (at least %v), want at least the limit, 5", res.Total, res.TotalAtLeast)
	}
	if got := res.Facets["feed"]; len(got) != 1 || got[0].Count != 5 {
		t.Errorf("feed facet %v, want the limit's 5 hits", got)
	}
	march := items[0].Published.Format("2006-01")
	for _, d := range res.Facets["day"] {
		if !strings.HasPrefix(d.Value, march) {
			t.Errorf("day facet has %s, outside the newest month %s", d.Value, march)
		}
	}
}

// TestCountStopsInTheNewestMonth: months are counted newest first until
// the goal, and a month counted beside one that reached it is left out,
// so a newest month that holds the hits a query needs counted makes the
// total. The newest month is counted alone when it holds at least a
// quarter of the items of the month before, and beside that month when
// it holds fewer; the totals tell the two apart.
func TestCountStopsInTheNewestMonth(t *testing.T) {
	ctx := context.Background()
	items := denseItems(50) // March holds 12 items, February 38
	ix := openWith(t, items)
	want := newestOrder(items, nil)[:3] // every item is from CISA
	total := func(limit uint64, facets string) uint64 {
		t.Helper()
		ix.countLimit = limit
		res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "feed:cisa", Sort: accordwatch.SortNewest, Size: 3, Facets: facets})
		if err != nil {
			t.Fatal(err)
		}
		if !res.TotalAtLeast {
			t.Errorf("limit %d: total %d is exact, want at least", limit, res.Total)
		}
		if diff := cmp.Diff(want, hitIDs(res)); diff != "" {
			t.Errorf("limit %d, facets %q: first page (-want +got):\n%s", limit, facets, diff)
		}
		return res.Total
	}
	for _, facets := range []string{"", "all"} {
		if got := total(5, facets); got != 5 {
			t.Errorf("facets %q: total %d, want 5, counted in March alone", facets, got)
		}
	}
	// March alone, then February counted for the 8 hits it lacks.
	if got := total(20, ""); got != 20 {
		t.Errorf("limit 20: total %d, want 20: March's 12, then 8 of February", got)
	}
	// With 200 items February holds 168, more than four times March's 12:
	// the two are counted side by side, each to the limit.
	if err := ix.Add(ctx, denseItems(200)[50:]); err != nil {
		t.Fatal(err)
	}
	if got := total(20, ""); got != 32 {
		t.Errorf("a newest month of few items, limit 20: total %d, want 32: March's 12 and 20 of February", got)
	}
	// Side by side, February is left out when March reaches the limit.
	if got := total(5, "all"); got != 5 {
		t.Errorf("a newest month of few items, limit 5: total %d, want March's 5 alone", got)
	}
}

// TestWaveStopsAtTheGoal: of months counted side by side, those after
// the goal was reached are left out, whatever their counts, and facets
// stop with the month that reached the facet limit.
func TestWaveStopsAtTheGoal(t *testing.T) {
	w := walked{complete: true}
	w.add([]tally{{count: 3, complete: true}, {count: 4, complete: true}, {count: 2, complete: false}, {count: 7, complete: true}}, 8, 5)
	if w.total != 9 || w.complete || !slices.Equal(w.counts, []uint64{3, 4, 2}) || !slices.Equal(w.cut, []bool{false, false, true}) {
		t.Errorf("total %d (complete %v), counts %v, cut %v; want 9 from 3, 4 and a cut 2", w.total, w.complete, w.counts, w.cut)
	}
	if len(w.faceted) != 2 {
		t.Errorf("%d months faceted, want the 2 that reached the facet limit", len(w.faceted))
	}
	w.add([]tally{{count: 1, complete: true}}, 8, 5)
	if w.total != 9 || len(w.counts) != 3 {
		t.Errorf("a later wave added to a reached goal: total %d, counts %v", w.total, w.counts)
	}
}

// TestCountStopsWhenToldSo: a count told its progress from its first hit
// on stops, cut, when told to, and reports peers' progress in order.
func TestCountStopsWhenToldSo(t *testing.T) {
	ctx := context.Background()
	items := make([]accordwatch.Item, 600)
	for i := range items {
		items[i] = accordwatch.Item{ID: fmt.Sprintf("s%03d", i), Title: "notice", FeedName: "CISA",
			Published: day("2026-02-01", 0).Add(time.Duration(i) * time.Minute)}
	}
	parts, bq := partsQuery(t, openWith(t, items), "feed:cisa")
	var told []uint64
	full, err := tallyPart(ctx, parts[0], bq, math.MaxUint64, nil, 0, 0, func(n uint64) bool { told = append(told, n); return false })
	if err != nil {
		t.Fatal(err)
	}
	if full.count != 600 || !full.complete || !slices.Equal(told, []uint64{0, 256, 512}) {
		t.Errorf("count %d (complete %v), told %v; want all 600, told at 0, 256, 512", full.count, full.complete, told)
	}
	cut, err := tallyPart(ctx, parts[0], bq, math.MaxUint64, nil, 0, 0, func(n uint64) bool { return n >= 256 })
	if err != nil {
		t.Fatal(err)
	}
	if cut.count != 256 || cut.complete {
		t.Errorf("stopped at 256: count %d (complete %v), want 256, cut", cut.count, cut.complete)
	}

	ps := &peers{limit: 10, counted: make([]atomic.Uint64, 3)}
	for _, step := range []struct {
		j    int
		n    uint64
		stop bool
	}{
		{0, 9, false}, // the first of a wave never stops
		{2, 0, false}, // 9 before it
		{1, 1, false}, // 9 before it
		{2, 5, true},  // 10 before it
		{1, 4, false},
	} {
		if got := ps.report(step.j, step.n); got != step.stop {
			t.Errorf("peer %d at %d: stop %v, want %v", step.j, step.n, got, step.stop)
		}
	}
}

func TestDayFacetCap(t *testing.T) {
	var w walked
	var want []accordwatch.FacetCount
	for d := day("2025-01-01", 0); d.Year() == 2025; d = d.AddDate(0, 0, 1) {
		name := d.Format(time.DateOnly)
		w.faceted = append(w.faceted, tally{facets: map[string][]valueCount{dayFacet: {{name, 1}}}})
		if d.After(day("2025-09-30", 0)) {
			want = append(want, fc(name, 1))
		}
	}
	if diff := cmp.Diff(want, w.facets()[dayFacet]); diff != "" {
		t.Errorf("a year of days: want the newest %d (-want +got):\n%s", maxFacetDays, diff)
	}
}

func TestDateBounds(t *testing.T) {
	tests := []struct {
		q      string
		lo, hi string // RFC 3339, "" = open
	}{
		{"ransomware", "", ""},
		{"since:7d", "2026-02-24T12:00:00Z", ""},
		{"published:[2026-01-01 TO 2026-02-01]", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z"},
		{"published:<2026-01-15 state:russia", "", "2026-01-15T00:00:00Z"},
		{"since:7d published:<2026-03-01", "2026-02-24T12:00:00Z", "2026-03-01T00:00:00Z"},
		{"since:7d OR published:2025-05-05", "2025-05-05T00:00:00Z", ""},
		{"since:7d OR ransomware", "", ""},
		{"NOT since:7d", "", ""},
		{"(since:7d OR since:14d) wiper", "2026-02-17T12:00:00Z", ""},
		{"published:[2026-01-01 TO 2026-01-31] OR published:[2025-06-01 TO 2025-06-02]", "2025-06-01T00:00:00Z", "2026-02-01T00:00:00Z"},
	}
	format := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := dateBounds(q.root, testNow)
			if format(lo) != tt.lo || format(hi) != tt.hi {
				t.Errorf("got [%s, %s], want [%s, %s]", format(lo), format(hi), tt.lo, tt.hi)
			}
		})
	}
}

// TestCompileForLeavesOutCoveringRanges: in a partition, a top-level date
// clause that all of the partition's dates satisfy is left out of its
// query, and any other clause, or one under OR or NOT, stays.
func TestCompileForLeavesOutCoveringRanges(t *testing.T) {
	feb := &partition{name: "2026-02", start: day("2026-02-01", 0), end: day("2026-03-01", 0)}
	undated := &partition{name: "undated"}
	c := &compiler{resolve: testResolve, now: testNow, analyzer: newMapping().AnalyzerNamed(en.AnalyzerName)}
	tests := []struct {
		q, inFeb string // inFeb: the query Feb's compiles as; "*" is everything
	}{
		{"state:russia since:30d", "state:russia since:30d"}, // since 2026-02-01T12:00
		{"state:russia since:31d", "state:russia"},
		{"(state:russia since:31d) (wiper published:<2026-03-01)", "state:russia wiper"},
		{"(state:russia since:31d) OR wiper", "(state:russia since:31d) OR wiper"},
		{"since:60d", "*"},
		{"published:[2026-01-15 TO 2026-03-01]", "*"},
		{"published:>=2026-02-01 ransomware", "ransomware"},
		{"published:>2026-02-01 ransomware", "published:>2026-02-01 ransomware"},
		{"published:<2026-03-01 severity:>=50", "severity:>=50"},
		{"published:<2026-02-28 severity:>=50", "published:<2026-02-28 severity:>=50"},
		{"published:<=2026-02-28 severity:>=50", "severity:>=50"},
		{"published:[* TO *] wiper", "wiper"},
		{"ransomware OR published:>=2026-01-01", "ransomware OR published:>=2026-01-01"},
		{"ransomware NOT published:>=2026-01-01", "ransomware NOT published:>=2026-01-01"},
		{"severity:>=50 state:russia", "severity:>=50 state:russia"},
	}
	asJSON := func(t *testing.T, q string) string {
		t.Helper()
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c.compile(pq))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			full := c.compile(q)
			got, err := json.Marshal(c.compileFor(q, full, feb))
			if err != nil {
				t.Fatal(err)
			}
			want := asJSON(t, strings.TrimPrefix(tt.inFeb, "*")) // the empty query is everything
			if string(got) != want {
				t.Errorf("in %s:\n got %s\nwant %s", feb.name, got, want)
			}
			if got := c.compileFor(q, full, undated); got != full {
				t.Errorf("undated: the query changed")
			}
		})
	}
}

// TestDateClausesAcrossPartitions: searches and counts whose date clauses
// cover some months whole and cut others find what a scan of the items
// finds.
func TestDateClausesAcrossPartitions(t *testing.T) {
	ix, items := openDense(t, 400) // 2025-12-26 to 2026-03-02
	ctx := context.Background()
	since := func(d time.Duration) func(accordwatch.Item) bool {
		return func(it accordwatch.Item) bool { return !it.Published.Before(testNow.Add(-d)) }
	}
	tests := []struct {
		q    string
		keep func(accordwatch.Item) bool
	}{
		{"since:40d", since(40 * 24 * time.Hour)},
		{"(since:40d state:russia) published:<2026-03-01", func(it accordwatch.Item) bool {
			return since(40*24*time.Hour)(it) && it.Tags.States[0] == "Russia" && it.Published.Before(day("2026-03-01", 0))
		}},
		{"since:40d state:russia", func(it accordwatch.Item) bool {
			return since(40*24*time.Hour)(it) && it.Tags.States[0] == "Russia"
		}},
		{"published:[2026-01-01 TO 2026-02-10] firewall", func(it accordwatch.Item) bool {
			return !it.Published.Before(day("2026-01-01", 0)) && it.Published.Before(day("2026-02-11", 0)) &&
				strings.HasPrefix(it.Title, "firewall")
		}},
		{"published:>=2026-01-01", func(it accordwatch.Item) bool { return !it.Published.Before(day("2026-01-01", 0)) }},
		{"published:<2026-03-01 NOT firewall", func(it accordwatch.Item) bool {
			return it.Published.Before(day("2026-03-01", 0)) && !strings.HasPrefix(it.Title, "firewall")
		}},
	}
	for _, tt := range tests {
		want := newestOrder(items, tt.keep)
		// A count cut at 5 makes the first page come from date windows.
		ix.countLimit = 5
		for _, size := range []int{1, 7} {
			page, err := ix.Search(ctx, accordwatch.SearchRequest{Query: tt.q, Sort: accordwatch.SortNewest, Size: size, Facets: accordwatch.FacetsNone})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[:min(size, len(want))], hitIDs(page)); diff != "" {
				t.Errorf("%q, count cut at 5, first page of %d (-scan +search):\n%s", tt.q, size, diff)
			}
		}
		ix.countLimit = countLimit
		for _, facets := range []string{accordwatch.FacetsAll, accordwatch.FacetsNone} {
			res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: tt.q, Sort: accordwatch.SortNewest, Size: MaxSize, Facets: facets})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, hitIDs(res)); diff != "" {
				t.Errorf("%q facets %s (-scan +search):\n%s", tt.q, facets, diff)
			}
			if res.Total != uint64(len(want)) || res.TotalAtLeast {
				t.Errorf("%q facets %s: total %d (at least %v), want %d", tt.q, facets, res.Total, res.TotalAtLeast, len(want))
			}
		}
		n, err := ix.CountMatching(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if n != uint64(len(want)) {
			t.Errorf("%q: CountMatching %d, want %d", tt.q, n, len(want))
		}
	}
}

func TestOpenLockedEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	// No partition exists yet, so no bbolt lock: the directory lock must
	// still keep a second Open out.
	if ix2, err := Open(dir, testOptions()); !errors.Is(err, ErrLocked) {
		if err == nil {
			ix2.Close()
		}
		t.Fatalf("second Open of an empty index: got %v, want ErrLocked", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix3, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	ix3.Close()
}

func TestOpenCorruptPartition(t *testing.T) {
	ix, dir := openTestIndex(t)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Damage February only.
	feb := filepath.Join(dir, "2026-02", "store")
	entries, err := os.ReadDir(feb)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		writeFile(t, filepath.Join(feb, e.Name()), strings.Repeat("garbage!", 100))
	}
	ix2, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer ix2.Close()
	if !ix2.Rebuilt() {
		t.Error("got Rebuilt false, want true")
	}
	aside := dir + ".corrupt-" + strconv.FormatInt(testNow.Unix(), 10)
	if _, err := os.Stat(filepath.Join(aside, "2026-02")); err != nil {
		t.Errorf("damaged index not moved aside to %s: %v", aside, err)
	}
	if n, err := ix2.Count(); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

func TestOpenMigratesSingleIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	// The layout of mapping version 2: one bleve index in dir itself.
	bi, err := bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bi.SetInternal([]byte(mappingVersionKey), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := bi.Index("old", newDoc(testItems()[0])); err != nil {
		t.Fatal(err)
	}
	// While the old version still runs, Open must not move it away.
	if _, err := Open(dir, testOptions()); !errors.Is(err, ErrLocked) {
		t.Errorf("Open while the old index is open: got %v, want ErrLocked", err)
	}
	if err := bi.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !ix.Rebuilt() {
		t.Error("got Rebuilt false, want true so the caller reindexes")
	}
	aside := dir + ".corrupt-" + strconv.FormatInt(testNow.Unix(), 10)
	if _, err := os.Stat(filepath.Join(aside, "index_meta.json")); err != nil {
		t.Errorf("old index not moved aside: %v", err)
	}
	if err := ix.Add(context.Background(), testItems()); err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.Count(); n != 10 {
		t.Errorf("Count after reindex = %d, want 10", n)
	}
}

func TestOpenOtherVersion(t *testing.T) {
	ix, dir := openTestIndex(t)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, markerFile), `{"layout":"monthly","mapping_version":"99"}`)
	ix2, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if !ix2.Rebuilt() {
		t.Error("another mapping version: got Rebuilt false, want true")
	}
	if n, _ := ix2.Count(); n != 0 {
		t.Errorf("Count = %d, want 0", n)
	}
}

func TestSnippetUnit(t *testing.T) {
	ix, _ := openTestIndex(t)
	a := ix.analyzer
	long := strings.Repeat("filler words here ", 20) + "the attackers deployed ransomware on servers " + strings.Repeat("tail text ", 30)
	tests := []struct {
		name, text, q string
		want          []string // substrings
		not           []string
	}{
		{"match far in", long, "ransomware", []string{"… ", "deployed " + accordwatch.HighlightStart + "ransomware" + accordwatch.HighlightEnd + " on", " …"}, nil},
		{"stemmed", "Two hospitals were hit.", "hospital", []string{accordwatch.HighlightStart + "hospitals" + accordwatch.HighlightEnd}, nil},
		{"no free text", "Short text.", "state:russia", []string{"Short text."}, []string{accordwatch.HighlightStart, "…"}},
		{"negated word not marked", "ransomware and wiper", "wiper -ransomware", []string{accordwatch.HighlightStart + "wiper"}, []string{accordwatch.HighlightStart + "ransomware"}},
		{"multibyte", strings.Repeat("é", 300) + " ransomware", "ransomware", []string{accordwatch.HighlightStart + "ransomware"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := snippet(tt.text, queryTerms(q.root, a), a)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("got %q, want no %q", got, w)
				}
			}
			if !utf8Valid(got) {
				t.Errorf("got invalid UTF-8 %q", got)
			}
			if len(got) > snippetSize+40 {
				t.Errorf("got %d bytes, want about %d", len(got), snippetSize)
			}
		})
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
