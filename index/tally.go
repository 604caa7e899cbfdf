package index

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// tally is what one partition's count found: its hits up to a limit and
// the facet values of the hits counted.
type tally struct {
	count uint64
	// complete: count is every hit of the partition, not a limit reached.
	complete bool
	// facets holds, by facet name, the values of the counted hits.
	facets map[string][]valueCount
	// page is the partition's first page, newest first, when asked for.
	page *bleve.SearchResult
}

type valueCount struct {
	value string
	n     int
}

// tallyPart counts the hits of bq in p, stopping after limit, and the
// values of the named facets among the first facetLimit of them. With
// page > 0 it also returns the newest page hits, as bleve's search sorted
// by pageRequest would, when it counted every hit (t.complete): it keeps
// the hits with the newest published keys while it counts, and asks bleve
// for those few by id, so that the month's hits are matched once, not
// twice. A count cut at the limit has no page: its newest hits need not
// be among those counted, and counting on would walk every hit of a busy
// month (newestIn finds that page). It runs bleve's searcher itself,
// unscored, rather than a bleve search: a search counts every hit of the
// partition where a count needs only limit, and it reads facets from one
// doc value field per facet where the codes are one field (facetcodes.go).
// A non-nil progress is told the count every 256 hits, from 0, and stops
// it (cut, like a limit) when it returns true.
func tallyPart(ctx context.Context, p *partition, bq query.Query, limit uint64, facets []string, facetLimit uint64, page int, progress func(counted uint64) (stop bool)) (t tally, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = tally{}, fmt.Errorf("search partition %s: panic: %v", p.name, r)
		}
	}()
	g := p.bi.current()
	defer g.gate.RUnlock()
	ix, err := g.engine.Advanced()
	if err != nil {
		return t, fmt.Errorf("search partition %s: %w", p.name, err)
	}
	r, err := ix.Reader()
	if err != nil {
		return t, fmt.Errorf("search partition %s: %w", p.name, err)
	}
	defer func() { _ = r.Close() }()
	s, err := bq.Searcher(ctx, r, g.engine.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		return t, fmt.Errorf("search partition %s: %w", p.name, err)
	}
	defer func() { _ = s.Close() }()

	var want [numFacetFields + 1]bool // the last is the day
	var counts [numFacetFields + 1][]int32
	var seen [numFacetFields + 1][]uint32 // codes with a count, in order met
	faceted := false
	for _, name := range facets {
		if f := facetIndex(name); f >= 0 {
			want[f], faceted = true, true
		}
	}
	var dvFields []string
	if faceted {
		dvFields = append(dvFields, facetsField)
	}
	var newest *topHits
	if page > 0 {
		dvFields = append(dvFields, "published_key")
		newest = &topHits{n: page}
	}
	var dvr index.DocValueReader
	if len(dvFields) > 0 {
		if dvr, err = r.DocValueReader(dvFields); err != nil {
			return t, fmt.Errorf("search partition %s: %w", p.name, err)
		}
	}
	if faceted {
		for f := range numFacetFields {
			if want[f] {
				counts[f] = make([]int32, len(g.facets.vals[f]))
			}
		}
		counts[numFacetFields] = make([]int32, 32)
	}
	add := func(f int, c uint32) {
		if !want[f] || int(c) >= len(counts[f]) {
			return // a code newer than this reader's dictionary cannot be; skip it rather than fail
		}
		if counts[f][c] == 0 {
			seen[f] = append(seen[f], c)
		}
		counts[f][c]++
	}
	var key []byte
	visitFacets := true
	visit := func(field string, term []byte) {
		if field != facetsField {
			key = term
			return
		}
		if !visitFacets {
			return
		}
		decodeFacets(term, add)
	}

	sctx := &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0),
		IndexReader:       r,
	}
	t.complete = true
	for {
		if t.count&255 == 0 {
			if err := ctx.Err(); err != nil {
				return t, fmt.Errorf("search partition %s: %w", p.name, err)
			}
			if progress != nil && progress(t.count) {
				t.complete = false
				break
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return t, fmt.Errorf("search partition %s: %w", p.name, err)
		}
		if dm == nil {
			break
		}
		if t.count == limit {
			t.complete = false // one more hit than the limit: there are more
			break
		}
		t.count++
		visitFacets = faceted && t.count <= facetLimit
		if visitFacets || newest != nil {
			key = nil
			if err := dvr.VisitDocValues(dm.IndexInternalID, visit); err != nil {
				return t, fmt.Errorf("search partition %s: %w", p.name, err)
			}
			if newest != nil {
				newest.add(key, dm.IndexInternalID)
			}
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	if newest != nil && t.complete {
		if t.page, err = newest.search(ctx, g, r); err != nil {
			return t, fmt.Errorf("search partition %s: %w", p.name, err)
		}
	}
	if !faceted {
		return t, nil
	}
	t.facets = make(map[string][]valueCount)
	for f := range want {
		if !want[f] {
			continue
		}
		vcs := make([]valueCount, 0, len(seen[f]))
		for _, c := range seen[f] {
			v := ""
			if f == numFacetFields {
				v = dayName(p, c)
			} else {
				v = g.facets.vals[f][c]
			}
			if v != "" {
				vcs = append(vcs, valueCount{v, int(counts[f][c])})
			}
		}
		t.facets[facetName(f)] = vcs
	}
	return t, nil
}

// facetIndex is the position of a facet in the codes (the day last), or
// -1 for an unknown name.
func facetIndex(name string) int {
	if name == dayFacet {
		return numFacetFields
	}
	for i, f := range facetFields() {
		if f == name {
			return i
		}
	}
	return -1
}

func facetName(f int) string {
	if f == numFacetFields {
		return dayFacet
	}
	return facetFields()[f]
}

// topHits keeps the hits with the newest published keys: at least n of
// them, and every hit that ties with the n-th, so that the id order
// between ties can be left to bleve.
type topHits struct {
	n    int
	hits []topHit
	min  string // the n-th newest key once n hits were kept
}

type topHit struct {
	key string
	id  index.IndexInternalID
}

func (t *topHits) add(key []byte, id index.IndexInternalID) {
	if len(t.hits) >= t.n && string(key) < t.min {
		return
	}
	t.hits = append(t.hits, topHit{string(key), slices.Clone(id)})
	if len(t.hits) >= 4*t.n+16 {
		t.prune()
	}
}

// prune drops the hits older than the n-th newest.
func (t *topHits) prune() {
	if len(t.hits) < t.n {
		return
	}
	slices.SortFunc(t.hits, func(a, b topHit) int { return strings.Compare(b.key, a.key) })
	t.min = t.hits[t.n-1].key
	cut := t.n
	for cut < len(t.hits) && t.hits[cut].key == t.min {
		cut++
	}
	t.hits = t.hits[:cut]
}

// search returns the page: the kept hits, looked up by id and sorted by
// bleve as pageRequest sorts. The caller holds g's gate.
func (t *topHits) search(ctx context.Context, g *gated, r index.IndexReader) (*bleve.SearchResult, error) {
	t.prune()
	ids := make([]string, 0, len(t.hits))
	for _, h := range t.hits {
		id, err := r.ExternalID(h.id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	sr := bleve.NewSearchRequestOptions(query.NewDocIDQuery(ids), 0, 0, false)
	pageRequest(sr, t.n)
	return g.engine.SearchInContext(ctx, sr)
}
