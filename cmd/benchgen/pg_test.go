package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var benchEnd = time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)

// TestQuerySetsAskBothSystems: every set that PostgreSQL runs has one SQL
// question per accordwatch request, and the sets the targets apply to
// count facets exactly when their name says so.
func TestQuerySetsAskBothSystems(t *testing.T) {
	for _, set := range querySets(benchEnd) {
		if len(set.pg) != len(set.reqs) {
			t.Errorf("%s: %d SQL questions for %d requests", set.name, len(set.pg), len(set.reqs))
		}
		for _, req := range set.reqs {
			withFacets := strings.Contains(set.name, "with facets")
			if asked := req.Facets != accordwatch.FacetsNone; asked != withFacets {
				t.Errorf("%s: request %q asks facets %q", set.name, req.Query, req.Facets)
			}
		}
	}
}

// TestPostgresAnswersMatchTheIndex loads the same generated items into
// PostgreSQL and into an index, and checks that the SQL of the fielded
// and deep-paging sets finds what accordwatch's queries find: the side by
// side compares the same questions.
func TestPostgresAnswersMatchTheIndex(t *testing.T) {
	const n = 3000
	url := pgtest.Database(t)
	ctx := context.Background()
	if _, err := pgLoad(ctx, url+"&timezone=UTC", newGenerator(1, benchEnd, 3), n, benchEnd, 3, io.Discard); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url+"&timezone=UTC")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	ix := generatedIndex(t, n)

	sets := querySets(benchEnd)
	for _, set := range sets {
		if set.pgKind != pgPage && set.pgKind != pgFacets {
			continue
		}
		isFielded := strings.HasPrefix(set.name, "(c)")
		for i, req := range set.reqs {
			res, err := ix.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgAsk(ctx, conn, set.pgKind, set.pg[i], nil)
			if err != nil {
				t.Fatalf("%s %q: %v", set.name, req.Query, err)
			}
			if !isFielded {
				continue // stemmers differ a little between bleve and PostgreSQL
			}
			if want := strconv.FormatUint(res.Total, 10); got != want {
				t.Errorf("%s %q: PostgreSQL counts %s, the index %s", set.name, req.Query, got, want)
			}
		}
	}
	// The newest 20 by keyset after the 40th are the index's third page.
	pgCur, err := pgCursorAt(ctx, conn, pgQuery{where: "true"}, 40)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(ctx, accordwatch.SearchRequest{Size: 20, From: 40, Facets: accordwatch.FacetsNone})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT id FROM items WHERE (published, id) < ($1, $2) ORDER BY published DESC, id DESC LIMIT 20", pgCur...)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// Items sharing a second may order differently by id (PostgreSQL
	// walks ids descending, the index ascending): compare as sets.
	if fmt.Sprint(sortedCopy(ids)) != fmt.Sprint(sortedCopy(hitIDs(res))) {
		t.Errorf("page 3: PostgreSQL %v, index %v", ids, hitIDs(res))
	}
}

func hitIDs(res accordwatch.SearchResult) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// generatedIndex builds an index of n generated items (seed 1, ending at
// benchEnd) in a temp dir, as benchgen -index does, and opens it.
func generatedIndex(t *testing.T, n int) *index.Index {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "index")
	if _, err := build(context.Background(), newGenerator(1, benchEnd, 3), dir, n, benchEnd, io.Discard); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir, index.Options{Now: func() time.Time { return benchEnd }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	return ix
}
