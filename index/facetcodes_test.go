package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accordwatch/accordwatch"
)

func TestCodeRoundTrip(t *testing.T) {
	var b []byte
	vals := []uint32{0, 1, 126, 127, 128, 129, 16128, 16129, 16256, 1 << 20, math.MaxUint32 - 1, math.MaxUint32}
	for _, v := range vals {
		b = appendCode(b, v)
	}
	if bytes.IndexByte(b, 0xff) >= 0 {
		t.Fatalf("codes hold bleve's doc-value separator 0xff: %q", b)
	}
	rest := b
	for _, want := range vals {
		got, tail, ok := readCode(rest)
		if !ok || got != want {
			t.Fatalf("read %d (ok %v), want %d", got, ok, want)
		}
		rest = tail
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes left over", len(rest))
	}
	for _, bad := range []string{"", "\x80", "\x80\x80\x80\x80\x80\x80\x01", "\xfe\xfe\xfe\xfe\x7f", "\xff"} {
		if _, _, ok := readCode([]byte(bad)); ok {
			t.Errorf("readCode(%q) ok, want a refusal", bad)
		}
	}
}

// TestFacetTermRoundTrip encodes documents with none to many values a
// field and reads back each value's code and the day.
func TestFacetTermRoundTrip(t *testing.T) {
	many := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	fb := newFacetDict().begin()
	for _, n := range []int{0, 1, 2, 3, 4, 200} {
		d := doc{
			DisplaySignatory: many("sig", n), DisplayState: many("state", n%3), DisplayActor: many("actor", n/2),
			DisplayAttack: many("attack", 3), DisplayPrinciple: many("p", 1), DisplayFeed: "Feed",
			Published: time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC), PublishedKey: "k",
		}
		term := fb.encode(&d)
		if strings.IndexByte(term, 0xff) >= 0 {
			t.Fatalf("%d values: term holds 0xff", n)
		}
		var got [numFacetFields + 1][]string
		ok := decodeFacets([]byte(term), func(f int, c uint32) {
			if f == numFacetFields {
				got[f] = append(got[f], strconv.Itoa(int(c)))
				return
			}
			got[f] = append(got[f], fb.added[f][c])
		})
		want := [numFacetFields + 1][]string{d.DisplaySignatory, d.DisplayState, d.DisplayActor, d.DisplayAttack,
			d.DisplayPrinciple, {"Feed"}, {"27"}}
		if !ok || !cmp.Equal(got, want, cmpopts.EquateEmpty()) {
			t.Errorf("%d values (ok %v): read back %v, want %v", n, ok, got, want)
		}
		if n == 1 && len(term) > 12 {
			t.Errorf("a document with one value a field takes %d bytes, want a dozen at most", len(term))
		}
	}
	for _, bad := range []string{"", "\x01", "\x01\x00\x00", "\x00\x00\x00x"} {
		if decodeFacets([]byte(bad), func(int, uint32) {}) {
			t.Errorf("decodeFacets(%q) ok, want a refusal", bad)
		}
	}
}

// mapGetter is a bleve internal store of fixed contents.
type mapGetter map[string]string

func (m mapGetter) GetInternal(key []byte) ([]byte, error) {
	v, ok := m[string(key)]
	if !ok {
		return nil, nil
	}
	return []byte(v), nil
}

func TestLoadFacetDictDamaged(t *testing.T) {
	// A good block: one signatory "ESET", no other values.
	good := "\x01\x04ESET\x00\x00\x00\x00\x00"
	tests := []struct {
		name  string
		store mapGetter
		ok    bool
	}{
		{"empty", mapGetter{}, true},
		{"one block", mapGetter{facetBlocksKey: "1", facetBlockKey + "0": good}, true},
		{"bad count", mapGetter{facetBlocksKey: "x"}, false},
		{"negative count", mapGetter{facetBlocksKey: "-1"}, false},
		{"huge count", mapGetter{facetBlocksKey: strconv.Itoa(maxFacetBlocks + 1)}, false},
		{"missing block", mapGetter{facetBlocksKey: "2", facetBlockKey + "0": good}, false},
		{"truncated block", mapGetter{facetBlocksKey: "1", facetBlockKey + "0": good[:5]}, false},
		{"value longer than block", mapGetter{facetBlocksKey: "1", facetBlockKey + "0": "\x01\x7fESET"}, false},
		{"count longer than block", mapGetter{facetBlocksKey: "1", facetBlockKey + "0": "\xff\xff\x03"}, false},
		{"trailing bytes", mapGetter{facetBlocksKey: "1", facetBlockKey + "0": good + "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := loadFacetDict(tt.store)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err == nil && tt.name == "one block" && (len(d.vals[0]) != 1 || d.vals[0][0] != "ESET" || d.codes[0]["ESET"] != 0) {
				t.Errorf("loaded %v, want signatory ESET as code 0", d.vals)
			}
		})
	}
}

// TestFacetCodesSurviveReopen adds items in three calls with a close and
// an open between them: new values after a reopen must get new codes,
// and the old codes must still name their old values.
func TestFacetCodesSurviveReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	at := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	item := func(id, feed string, sigs ...string) accordwatch.Item {
		return accordwatch.Item{ID: id, Title: "breach " + id, FeedName: feed, Published: at,
			Tags: accordwatch.Tags{Signatories: sigs, AttackTypes: []string{"ransomware"}}}
	}
	rounds := [][]accordwatch.Item{
		{item("a", "Feed One", "Microsoft"), item("b", "Feed Two", "ESET", "Cisco")},
		{item("c", "Feed Three", "Cisco", "Google"), item("d", "Feed One", "Microsoft")},
		// Replaces b: its old values are no longer counted.
		{item("b", "Feed Four", "Google")},
	}
	for _, items := range rounds {
		ix, err := Open(dir, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Add(context.Background(), items); err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ix.Close() }()
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "breach", Sort: accordwatch.SortNewest})
	if err != nil {
		t.Fatal(err)
	}
	// By count, then value; ESET and Feed Two left with the old b.
	want := map[string][]accordwatch.FacetCount{
		"signatory": {fc("Google", 2), fc("Microsoft", 2), fc("Cisco", 1)},
		"feed":      {fc("Feed One", 2), fc("Feed Four", 1), fc("Feed Three", 1)},
		"attack":    {fc("ransomware", 4)},
		"day":       {fc("2026-01-10", 4)},
	}
	if diff := cmp.Diff(want, res.Facets); diff != "" {
		t.Errorf("facets after three rounds with reopens (-want +got):\n%s", diff)
	}
}

func TestTallyStopsAtLimit(t *testing.T) {
	ix, items := openSpread(t, 120)
	parts, bq := partsQuery(t, ix, "ransomware")
	var all uint64
	for _, p := range parts {
		full, err := tallyPart(context.Background(), p, bq, math.MaxUint64, []string{"feed"}, math.MaxUint64, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !full.complete {
			t.Errorf("%s: a count without a limit is not complete", p.name)
		}
		all += full.count
		if full.count < 3 {
			continue
		}
		cut, err := tallyPart(context.Background(), p, bq, full.count-1, []string{"feed"}, 1, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cut.complete || cut.count != full.count-1 {
			t.Errorf("%s: limit %d counted %d (complete %v), want the limit, incomplete", p.name, full.count-1, cut.count, cut.complete)
		}
		n := 0
		for _, vc := range cut.facets["feed"] {
			n += vc.n
		}
		if n != 1 {
			t.Errorf("%s: facets counted %d hits, want the facet limit 1", p.name, n)
		}
		exact, err := tallyPart(context.Background(), p, bq, full.count, nil, 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !exact.complete || exact.count != full.count {
			t.Errorf("%s: a limit equal to the hits counted %d (complete %v), want %d, complete", p.name, exact.count, exact.complete, full.count)
		}
	}
	if want := uint64(len(items) / 2); all != want {
		t.Errorf("counted %d ransomware items, want %d", all, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tallyPart(ctx, parts[0], bq, math.MaxUint64, nil, 0, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled count: err = %v, want context.Canceled", err)
	}
}

// TestTallyPage checks the first page that a count keeps against bleve's
// own sorted search, partition by partition, for several page sizes:
// spreadItems has pairs published in the same instant, so ties are
// ordered by id. A count cut at its limit has no page: its newest hits
// may lie beyond the cut.
func TestTallyPage(t *testing.T) {
	ix, _ := openSpread(t, 300)
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, qs := range []string{"ransomware", "patch OR ransomware", `"news about"`, ""} {
		q, err := Parse(qs)
		if err != nil {
			t.Fatal(err)
		}
		bq := ix.compiler().compile(q)
		for _, p := range parts {
			for _, size := range []int{1, 2, 3, 7, 40, 1000} {
				sr := bleve.NewSearchRequestOptions(bq, 0, 0, false)
				pageRequest(sr, size)
				want, err := searchPart(context.Background(), p, sr)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tallyPart(context.Background(), p, bq, math.MaxUint64, nil, 0, size, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !got.complete || got.count != want.Total {
					t.Errorf("%q %s size %d: counted %d (complete %v), want every hit, %d", qs, p.name, size, got.count, got.complete, want.Total)
				}
				if want.Total > 1 {
					cut, err := tallyPart(context.Background(), p, bq, want.Total-1, nil, 0, size, nil)
					if err != nil {
						t.Fatal(err)
					}
					if cut.complete || cut.page != nil {
						t.Errorf("%q %s size %d: a count cut at %d of %d hits returned complete %v, page %v; want no page",
							qs, p.name, size, want.Total-1, want.Total, cut.complete, cut.page)
					}
				}
				ids := func(res *bleve.SearchResult) (out []string) {
					for _, h := range res.Hits {
						out = append(out, h.ID+"@"+strings.Join(h.DecodedSort, ","))
					}
					return out
				}
				if diff := cmp.Diff(ids(want), ids(got.page)); diff != "" {
					t.Errorf("%q %s size %d: page (-bleve +tally):\n%s", qs, p.name, size, diff)
				}
			}
		}
	}
}

func TestTimeKey(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), // clamped
		time.Unix(0, math.MinInt64).UTC(),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(0, 0).UTC(),
		time.Unix(0, 1).UTC(),
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 0, 1, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC),
		time.Unix(0, math.MaxInt64).UTC(),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), // clamped
	}
	var prev string
	for i, at := range times {
		k := timeKey(at)
		if len(k) != timeKeyLen {
			t.Errorf("%v: key %q is %d long", at, k, len(k))
		}
		if i > 0 && k < prev {
			t.Errorf("%v: key %q sorts before the earlier time's %q", at, k, prev)
		}
		back, err := keyTime(k)
		clamped := i == 0 || i == len(times)-1
		if err != nil || (!clamped && !back.Equal(at)) {
			t.Errorf("%v: key %q reads back as %v (%v)", at, k, back, err)
		}
		prev = k
	}
	for _, bad := range []string{"", "0000000000000x", "000000000000w", "000000000000"} {
		if _, err := keyTime(bad); err == nil {
			t.Errorf("keyTime(%q) accepted", bad)
		}
	}
}
