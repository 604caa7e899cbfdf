package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/web"
)

// TestAPIAsksWhatTheIndexAnswers: every request of every query set, sent
// through the daemon's real HTTP handler (token required), gets the hits,
// total and cursor the index gives directly, so -api times the same work.
func TestAPIAsksWhatTheIndexAnswers(t *testing.T) {
	const n = 2000
	ctx := context.Background()
	ix := generatedIndex(t, n)
	srv := httptest.NewServer(web.Handler(web.Options{Searcher: ix, Token: "s3cret"}))
	defer srv.Close()

	if _, err := newAPISearcher("ftp://x", ""); err == nil {
		t.Error("an ftp:// base URL was accepted")
	}
	anon, err := newAPISearcher(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Search(ctx, accordwatch.SearchRequest{Query: "state:russia"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the token: %v, want a 401 error", err)
	}
	api, err := newAPISearcher(srv.URL, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	for _, set := range querySets(benchEnd) {
		for _, req := range set.reqs {
			req.After = "" // cursors: checked below on pages 1 and 2
			want, err := ix.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := api.Search(ctx, req)
			if err != nil {
				t.Fatalf("%s %q: %v", set.name, req.Query, err)
			}
			if got.Total != want.Total || got.TotalAtLeast != want.TotalAtLeast || got.Next != want.Next ||
				!slices.Equal(hitIDs(got), hitIDs(want)) || len(got.Facets) != len(want.Facets) {
				t.Errorf("%s %q: API total %d %v, %d facets, hits %v; index %d %v, %d facets, hits %v", set.name, req.Query,
					got.Total, got.TotalAtLeast, len(got.Facets), hitIDs(got), want.Total, want.TotalAtLeast, len(want.Facets), hitIDs(want))
			}
			asked++
		}
	}
	if asked < 20 {
		t.Fatalf("only %d requests compared", asked)
	}
	viaAPI, err := cursorAt(ctx, api.Search, accordwatch.SearchRequest{Size: 20, Facets: accordwatch.FacetsNone}, 2)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := cursorAt(ctx, ix.Search, accordwatch.SearchRequest{Size: 20, Facets: accordwatch.FacetsNone}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if viaAPI == "" || viaAPI != direct {
		t.Errorf("cursor after two pages: API %q, index %q", viaAPI, direct)
	}
}

// TestAbsoluteDates: the daemon's clock is today's, so since:30d goes as
// the range it means at the items' end, and the sets given are untouched.
func TestAbsoluteDates(t *testing.T) {
	sets := querySets(benchEnd)
	abs := absoluteDates(sets, benchEnd)
	var rewritten int
	for i := range sets {
		for j, req := range sets[i].reqs {
			got := abs[i].reqs[j].Query
			if strings.Contains(got, "since:") {
				t.Errorf("%q still has since:", got)
			}
			if strings.Contains(req.Query, "since:30d") {
				rewritten++
				if want := strings.Replace(req.Query, "since:30d", "published:[2026-01-30 TO 2026-03-01]", 1); got != want {
					t.Errorf("%q became %q, want %q", req.Query, got, want)
				}
			}
		}
	}
	if rewritten == 0 {
		t.Fatal("no query set uses since:30d; the test checks nothing")
	}
}

// TestUpToFindsNothingLater: -at asks every query set as on an earlier
// day, so no hit may be newer than that day, and the newest hits of
// everything must be from that day, not -end.
func TestUpToFindsNothingLater(t *testing.T) {
	ctx := context.Background()
	ix := generatedIndex(t, 3000)
	at := benchEnd.AddDate(0, 0, -14)
	limit := at.Truncate(24 * time.Hour).Add(24 * time.Hour)
	hits := 0
	for _, set := range upTo(querySets(at), at) {
		for _, req := range set.reqs {
			if !strings.HasSuffix(req.Query, "published:<="+at.Format(time.DateOnly)) {
				t.Fatalf("%s: query %q is not limited to %s", set.name, req.Query, at.Format(time.DateOnly))
			}
			res, err := ix.Search(ctx, req)
			if err != nil {
				t.Fatalf("%s %q: %v", set.name, req.Query, err)
			}
			for _, h := range res.Hits {
				if !h.Published.Before(limit) {
					t.Fatalf("%s %q: hit %s published %v, after the day asked on", set.name, req.Query, h.ID, h.Published)
				}
			}
			hits += len(res.Hits)
			if req.Query == "published:<="+at.Format(time.DateOnly) && req.From == 0 && len(res.Hits) > 0 {
				if newest := res.Hits[0].Published; newest.Before(limit.Add(-24 * time.Hour)) {
					t.Errorf("everything asked on %s: newest hit %v, want one from that day", at.Format(time.DateOnly), newest)
				}
			}
		}
	}
	if hits < 100 {
		t.Errorf("the limited sets found %d hits in all, too few to tell", hits)
	}
}
