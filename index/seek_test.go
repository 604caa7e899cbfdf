package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/google/go-cmp/cmp"

	"github.com/accordwatch/accordwatch"
)

func TestFacetSelection(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	all := []string{"actor", "attack", "day", "feed", "principle", "signatory", "state"}
	for _, sort := range []string{accordwatch.SortNewest, accordwatch.SortRelevance} {
		ref, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "microsoft", Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			facets string
			want   []string
		}{
			{"", all},
			{"all", all},
			{" ALL ", all},
			{"none", nil},
			{"state,day", []string{"day", "state"}},
			{"state, state ,actor", []string{"actor", "state"}},
			{",", nil},
		} {
			t.Run(sort+" "+tc.facets, func(t *testing.T) {
				res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "microsoft", Sort: sort, Facets: tc.facets})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for name := range res.Facets {
					got = append(got, name)
				}
				slices.Sort(got)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("facets counted (-want +got):\n%s", diff)
				}
				for _, name := range got {
					if diff := cmp.Diff(ref.Facets[name], res.Facets[name]); diff != "" {
						t.Errorf("facet %s differs from the all-facets search (-all +selected):\n%s", name, diff)
					}
				}
				if diff := cmp.Diff(hitIDs(ref), hitIDs(res)); diff != "" {
					t.Errorf("hits differ from the all-facets search (-all +selected):\n%s", diff)
				}
				if res.Total != ref.Total || res.TotalAtLeast != ref.TotalAtLeast {
					t.Errorf("got Total %d (at least %v), want %d (at least %v) as with all facets",
						res.Total, res.TotalAtLeast, ref.Total, ref.TotalAtLeast)
				}
			})
		}
	}
	for _, bad := range []string{"nope", "state,nope", "all,state", "display_state"} {
		if _, err := ix.Search(ctx, accordwatch.SearchRequest{Facets: bad}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Facets %q: got error %v, want ErrBadRequest", bad, err)
		}
	}
}

// denseItems makes n items four hours apart, ending on 2026-03-02, with
// every third item sharing its predecessor's instant, so that a seek
// window's bounds fall exactly on published times, cursors sit on ties,
// and pages cross month boundaries. Items divisible by 5 say "firewall".
func denseItems(n int) []accordwatch.Item {
	end := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	items := make([]accordwatch.Item, n)
	for i := range items {
		at := end.Add(-time.Duration(i) * 4 * time.Hour)
		if i%3 == 1 {
			at = items[i-1].Published
		}
		word := "patch"
		if i%5 == 0 {
			word = "firewall"
		}
		items[i] = accordwatch.Item{
			ID:        fmt.Sprintf("d%04d", i),
			Title:     fmt.Sprintf("%s notice %d", word, i),
			Text:      "a " + word + " story",
			FeedName:  "CISA",
			Published: at,
			Tags:      accordwatch.Tags{States: []string{[]string{"Russia", "China"}[i%2]}},
		}
	}
	return items
}

func openDense(t *testing.T, n int) (*Index, []accordwatch.Item) {
	t.Helper()
	items := denseItems(n)
	return openWith(t, items), items
}

// partsQuery returns every partition of ix and q compiled for them.
func partsQuery(t *testing.T, ix *Index, q string) ([]*partition, query.Query) {
	t.Helper()
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pq, err := Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	return parts, ix.compiler().compile(pq)
}

// openWith opens an index in a temp dir holding items.
func openWith(t *testing.T, items []accordwatch.Item) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), "index"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := ix.Add(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestCursorPagesWithoutFacets reads every page by cursor without facets
// (the seeking path: the count comes from the cursor, months newer than
// the cursor are skipped, the cursor's month is searched in a date window
// first) and compares each page with the same page reached by offset.
func TestCursorPagesWithoutFacets(t *testing.T) {
	ix, items := openDense(t, 400) // ~67 days: four monthly partitions
	ctx := context.Background()
	queries := map[string][]string{
		"":                          newestOrder(items, nil),
		"firewall":                  newestOrder(items, func(it accordwatch.Item) bool { return strings.HasPrefix(it.Title, "firewall") }),
		"state:china AND NOT patch": nil, // filled from the one-page answer
	}
	for _, limit := range []uint64{countLimit, 50} {
		ix.countLimit = limit
		for q, want := range queries {
			one, err := ix.Search(ctx, accordwatch.SearchRequest{Query: q, Sort: accordwatch.SortNewest, Size: MaxSize})
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = hitIDs(one)
			}
			if diff := cmp.Diff(want, hitIDs(one)); diff != "" {
				t.Fatalf("%q one page (-want +got):\n%s", q, diff)
			}
			for _, size := range []int{1, 5, 6, 20, 130} {
				t.Run(fmt.Sprintf("%q size %d limit %d", q, size, limit), func(t *testing.T) {
					req := accordwatch.SearchRequest{Query: q, Sort: accordwatch.SortNewest, Size: size, Facets: accordwatch.FacetsNone}
					var first accordwatch.SearchResult
					var got []string
					for page := 0; ; page++ {
						if page > len(want)+1 {
							t.Fatal("Next never ran out")
						}
						res, err := ix.Search(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if res.Facets != nil {
							t.Fatalf("page %d: got facets %v, asked for none", page, res.Facets)
						}
						byOffset, err := ix.Search(ctx, accordwatch.SearchRequest{Query: q, Sort: accordwatch.SortNewest, Size: size, From: page * size})
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(hitIDs(byOffset), hitIDs(res)); diff != "" {
							t.Fatalf("page %d by cursor differs from the page by offset (-offset +cursor):\n%s", page, diff)
						}
						if page == 0 {
							first = res
						} else if res.Total != first.Total || res.TotalAtLeast != first.TotalAtLeast {
							t.Fatalf("page %d: got Total %d (at least %v), want the first page's %d (at least %v)",
								page, res.Total, res.TotalAtLeast, first.Total, first.TotalAtLeast)
						}
						got = append(got, hitIDs(res)...)
						if res.Next == "" {
							break
						}
						req.After = res.Next
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("all pages by cursor (-one page +pages):\n%s", diff)
					}
					checkTotal(t, first, len(want), limit, size)
				})
			}
		}
	}
}

// monthQueries are the queries that the window tests ask of every month
// of openDense(t, 400): everything, a term, a field.
var monthQueries = []string{"", "firewall", "state:russia"}

// forEachMonth calls fn with each of monthQueries, compiled, and each month
// of a dense index with its hits of the query, sorted newest first by bleve
// over the whole month.
func forEachMonth(t *testing.T, fn func(q string, p *partition, bq query.Query, all *bleve.SearchResult)) {
	t.Helper()
	forEachMonthOf(t, denseItems(400), fn)
}

// forEachMonthOf is forEachMonth over an index of items.
func forEachMonthOf(t *testing.T, items []accordwatch.Item, fn func(q string, p *partition, bq query.Query, all *bleve.SearchResult)) {
	t.Helper()
	ix := openWith(t, items)
	ctx := context.Background()
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c := ix.compiler()
	for _, q := range monthQueries {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		bq := c.compile(pq)
		for _, p := range parts {
			sr := bleve.NewSearchRequestOptions(bq, 0, 0, false)
			pageRequest(sr, MaxSize)
			all, err := searchPart(ctx, p, sr)
			if err != nil {
				t.Fatal(err)
			}
			fn(q, p, bq, all)
		}
	}
}

// TestSeekMatchesSearchAfter checks seek, which narrows the cursor's month
// to a date window before it, against bleve's SearchAfter over the whole
// month, from every position in every month and for page sizes the
// windows can and cannot fill.
func TestSeekMatchesSearchAfter(t *testing.T) {
	seen := make(map[string]int)
	forEachMonth(t, func(q string, p *partition, bq query.Query, all *bleve.SearchResult) {
		seen[q] += len(all.Hits)
		seekAfterEach(t, q, p, bq, all, []int{1, 7, 40, 300})
	})
	for _, q := range monthQueries {
		if seen[q] < 50 {
			t.Errorf("%q: %d hits in all, want enough to exercise the windows", q, seen[q])
		}
	}
}

// seekAfterEach checks seek from every hit of all (p's hits of bq, newest
// first) against the hits that follow it there, for each page size of ns.
func seekAfterEach(t *testing.T, q string, p *partition, bq query.Query, all *bleve.SearchResult, ns []int) {
	t.Helper()
	for i, h := range all.Hits {
		for _, n := range ns {
			want := ids(all.Hits[i+1 : min(len(all.Hits), i+1+n)])
			out, err := seek(context.Background(), p, bq, h.DecodedSort, n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, ids(out.Hits)); diff != "" {
				t.Fatalf("%q in %s after hit %d (%v), %d hits (-SearchAfter +seek):\n%s", q, p.name, i, h.DecodedSort, n, diff)
			}
		}
	}
}

// TestSizedWindowsMatchSearchAfter checks seek in a month busy enough
// that its first window, sized from the month's items, is minutes long:
// 600 items 20 s apart, so a page of 1, 7 or 20 is sought first among the
// items of the last 80 s, 9 or 27 minutes.
func TestSizedWindowsMatchSearchAfter(t *testing.T) {
	items := denseItems(600)
	end := time.Date(2026, 3, 1, 3, 20, 0, 0, time.UTC) // the month's first 200 minutes
	for i := range items {
		items[i].Published = end.Add(-time.Duration(i) * 20 * time.Second)
	}
	sized := 0
	forEachMonthOf(t, items, func(q string, p *partition, bq query.Query, all *bleve.SearchResult) {
		ns := []int{1, 7, 20}
		for _, n := range ns {
			if spans := spansFor(p, end, n); spans[0] < time.Hour {
				sized++
			}
		}
		seekAfterEach(t, q, p, bq, all, ns)
	})
	if sized == 0 {
		t.Error("no month had a window shorter than an hour: the test does not exercise them")
	}
}

// TestNewestInMatchesWholeMonth checks newestIn, which looks for a month's
// newest hits in date windows first, against bleve's sorted search of the
// whole month, with the windows ending at every hit's time, at the month's
// bounds and beyond them, and for page sizes the windows can and cannot
// fill: where the windows end decides only how fast the page is found.
func TestNewestInMatchesWholeMonth(t *testing.T) {
	ctx := context.Background()
	windowed := make(map[string]int) // answers that a window filled
	forEachMonth(t, func(q string, p *partition, bq query.Query, all *bleve.SearchResult) {
		ats := []time.Time{p.start.Add(-time.Hour), p.start, p.end, p.end.Add(48 * time.Hour)}
		for i, h := range all.Hits {
			at, err := keyTime(h.DecodedSort[0])
			if err != nil {
				t.Fatal(err)
			}
			ats = append(ats, at)
			if i%4 == 0 {
				ats = append(ats, at.Add(-time.Nanosecond), at.Add(30*time.Minute))
			}
		}
		for _, at := range ats {
			for _, n := range []int{1, 7, 40, 300} {
				want := ids(all.Hits[:min(len(all.Hits), n)])
				out, err := newestIn(ctx, p, bq, at, time.Time{}, n)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, ids(out.Hits)); diff != "" {
					t.Fatalf("%q in %s, windows ending %v, %d hits (-whole month +newestIn):\n%s", q, p.name, at, n, diff)
				}
				if out.Total < all.Total {
					windowed[q]++
				}
			}
		}
	})
	for _, q := range monthQueries {
		if windowed[q] < 100 {
			t.Errorf("%q: a window held the page %d times, want enough to exercise them", q, windowed[q])
		}
	}
}

func ids(hits []*search.DocumentMatch) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

// TestOneWordCompilesToTerms: a one-word clause must reach bleve as term
// queries, which its unscored searches answer from posting bitmaps; a
// one-word match query would become a conjunction of one and walk
// postings doc by doc. Several tokens and phrases stay match queries.
func TestOneWordCompilesToTerms(t *testing.T) {
	c := &compiler{now: testNow, analyzer: newMapping().AnalyzerNamed(en.AnalyzerName)}
	for _, tc := range []struct {
		q        string
		wantTerm string // "" = not term queries
	}{
		{"Hospitals", "hospit"},
		{"title:hospitals", "hospit"},
		{"CVE-2024-3400", ""},
		{`"supply chain"`, ""},
	} {
		pq, err := Parse(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var leaves []query.Query
		switch bq := c.compile(pq).(type) {
		case *query.DisjunctionQuery:
			leaves = bq.Disjuncts
		default:
			leaves = []query.Query{bq}
		}
		for _, l := range leaves {
			tq, isTerm := l.(*query.TermQuery)
			if isTerm != (tc.wantTerm != "") || (isTerm && tq.Term != tc.wantTerm) {
				t.Errorf("%q compiles to %T %+v, want a term query on %q", tc.q, l, l, tc.wantTerm)
			}
		}
	}
}
