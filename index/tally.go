package index

import (
	"context"
	"fmt"

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
}

type valueCount struct {
	value string
	n     int
}

// tallyPart counts the hits of bq in p, stopping after limit, and the
// values of the named facets among the first facetLimit of them. It runs bleve's searcher itself,
// unscored, rather than a bleve search: a search counts every hit of the
// partition where a count needs only limit, and it reads facets from one
// doc value field per facet where the codes are one field (facetcodes.go).
func tallyPart(ctx context.Context, p *partition, bq query.Query, limit uint64, facets []string, facetLimit uint64) (t tally, err error) {
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
	var dvr index.DocValueReader
	if faceted {
		if dvr, err = r.DocValueReader([]string{facetsField}); err != nil {
			return t, fmt.Errorf("search partition %s: %w", p.name, err)
		}
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
	visit := func(_ string, term []byte) {
		rest := term
		for f := range numFacetFields {
			n, tail, ok := readCode(rest)
			if !ok {
				return
			}
			rest = tail
			for range n {
				c, tail, ok := readCode(rest)
				if !ok {
					return
				}
				rest = tail
				add(f, c)
			}
		}
		if day, _, ok := readCode(rest); ok && day > 0 {
			add(numFacetFields, day)
		}
	}

	sctx := &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0),
		IndexReader:       r,
	}
	t.complete = true
	for {
		if t.count&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return t, fmt.Errorf("search partition %s: %w", p.name, err)
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
		if dvr != nil && t.count <= facetLimit {
			if err := dvr.VisitDocValues(dm.IndexInternalID, visit); err != nil {
				return t, fmt.Errorf("search partition %s: %w", p.name, err)
			}
		}
		sctx.DocumentMatchPool.Put(dm)
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
