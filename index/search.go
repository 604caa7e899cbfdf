package index

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/accordwatch/accordwatch"
)

// Counting and facet limits.
const (
	// countLimit: a newest-first search counts hits month by month, newest
	// first, and stops once it has counted this many (Total is then a
	// lower bound); facets count the same hits. Counting every hit of a
	// query matching a fifth of a million items cost 300–600 ms.
	countLimit = 10_000
	// facetSize is how many values each facet reports. Each partition
	// reports all its values, so the merged counts are exact.
	facetSize = 10
	// maxFacetDays caps the "day" facet to its newest 92 days.
	maxFacetDays = 92
)

// dayFacet is the facet of hits per day (YYYY-MM-DD, in date order).
const dayFacet = "day"

// hitFields are the stored fields loaded for each hit.
func hitFields() []string {
	return []string{"title", "link", "published", "severity", "head", "display_feed",
		"display_signatory", "display_state", "display_actor", "display_attack", "display_principle"}
}

// cursor is the decoded form of SearchRequest.After / SearchResult.Next.
type cursor struct {
	// Sort is the sort order the cursor belongs to.
	Sort string `json:"s"`
	// Part and After: for newest-first, the partition of the last hit and
	// its decoded sort values (published, id) for bleve's SearchAfter.
	Part  string   `json:"p,omitempty"`
	After []string `json:"a,omitempty"`
	// From: for relevance, the offset of the next page (relevance is
	// merged across all partitions, where an offset is as cheap as a key).
	From int `json:"f,omitempty"`
	// Total and AtLeast carry the first page's count, so that a later
	// page that asks for no facets need not count again. Zero in cursors
	// made before they existed: those pages count.
	Total   uint64 `json:"t,omitempty"`
	AtLeast bool   `json:"l,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sortBy string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && c.Sort != sortBy {
		err = fmt.Errorf("cursor is for sort %q, not %q", c.Sort, sortBy)
	}
	if err == nil && c.Sort == accordwatch.SortNewest && len(c.After) != 2 {
		err = errors.New("cursor has no position")
	}
	if err == nil && c.From < 0 {
		err = errors.New("cursor has a negative offset")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: bad after cursor: %v", ErrBadRequest, err)
	}
	return &c, nil
}

// Search runs req. Size defaults to 20 and is capped at 1000. Sort is
// "newest" (the default when the query has no free text) or "relevance"
// (the default otherwise). A query syntax error is a *ParseError; a bad
// sort or After cursor wraps ErrBadRequest.
//
// Only the monthly partitions that the query's date range (published:,
// since:) can reach are searched. Newest first walks them newest to
// oldest, counting hits, until it has counted 10,000 hits (or From+Size,
// if more) — Total is then a lower bound and TotalAtLeast is set, as for
// "10,000+ results" — and fills the page from the newest months, skipping
// whole months by their counts for From. After resumes in the month of the
// previous page's last hit with bleve's SearchAfter. Relevance searches
// all reachable partitions at once and its Total is exact.
//
// Facets count the hits the walk counted before it reached 10,000: all
// hits of most queries; for one that matches much of the index, those of
// the most recent months, and in the month where the count reached
// 10,000, its first hits in index order rather than its newest. "day"
// counts hits per day (days with hits only, in date order), its newest
// 92 days. req.Facets selects them (all by default; an unknown name wraps
// ErrBadRequest): reading every counted hit's facet codes is a third to
// half of a faceted search's cost, so callers that do not show facets ask
// for none.
//
// A newest-first cursor carries the first page's Total, so a later page
// that asks for no facets counts nothing again and searches only the
// cursor's month — within it, first the hour, then the day, the week
// before the cursor — and the older months it needs to fill the page.
// The first page of a month with many hits is sought the same way, in
// the hour, day, week before the query's end (or now), so that a common
// query asked mid-month does not sort every hit of that month.
func (ix *Index) Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	started := time.Now()
	res := accordwatch.SearchResult{Query: req.Query}
	q, err := Parse(req.Query)
	if err != nil {
		return res, err
	}
	sortBy := req.Sort
	if sortBy == "" {
		sortBy = accordwatch.SortNewest
		if q.hasFreeText() {
			sortBy = accordwatch.SortRelevance
		}
	}
	if sortBy != accordwatch.SortNewest && sortBy != accordwatch.SortRelevance {
		return res, fmt.Errorf("%w: unknown sort %q (want %s or %s)", ErrBadRequest, req.Sort, accordwatch.SortNewest, accordwatch.SortRelevance)
	}
	var after *cursor
	if req.After != "" {
		if after, err = decodeCursor(req.After, sortBy); err != nil {
			return res, err
		}
	}
	facets, err := facetSelection(req.Facets)
	if err != nil {
		return res, err
	}
	size := req.Size
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	from := max(req.From, 0)

	c := ix.compiler()
	bq := c.compile(q)
	lo, hi := dateBounds(q.root, c.now)
	parts, err := ix.snapshot(lo, hi)
	if err != nil {
		return res, err
	}
	qs := partQueries(c, q, bq, parts)
	var w walked
	switch {
	case sortBy == accordwatch.SortNewest && after != nil && after.Total > 0 && len(facets) == 0:
		// A later page that shows no facets: the cursor carries the
		// first page's count, and nothing newer than the cursor's month
		// is searched.
		res.Total, res.TotalAtLeast = after.Total, after.AtLeast
	case sortBy == accordwatch.SortRelevance && len(facets) == 0:
		// Relevance counts exactly on its own; the walk would only count
		// facets.
	default:
		goal := ix.countLimit
		if sortBy == accordwatch.SortNewest && after == nil {
			goal = max(goal, uint64(from+size+1))
		}
		// The first page's hits in the newest month come with that
		// month's count and facets, in one search, when the count
		// reaches every hit of the month.
		firstPage := 0
		if sortBy == accordwatch.SortNewest && after == nil && from == 0 {
			firstPage = size
		}
		if w, err = ix.walk(ctx, parts, qs, goal, firstPage, facets); err != nil {
			return res, err
		}
		if sortBy == accordwatch.SortNewest {
			res.Total, res.TotalAtLeast = w.total, !w.complete
		}
	}
	var hits []*search.DocumentMatch
	var next *cursor
	if sortBy == accordwatch.SortNewest {
		// No hit is expected after the query's end or now: a month's
		// newest hits are sought just before the earliest of them.
		until := c.now
		if !hi.IsZero() && hi.Before(until) {
			until = hi
		}
		hits, next, err = ix.newest(ctx, parts, qs, w, size, from, after, until, hi)
		if next != nil {
			next.Total, next.AtLeast = res.Total, res.TotalAtLeast
		}
	} else {
		if after != nil {
			from = after.From
		}
		hits, next, res.Total, err = ix.relevance(ctx, parts, bq, size, from)
	}
	if err != nil {
		return res, err
	}
	if next != nil {
		res.Next = next.encode()
	}
	terms := queryTerms(q.root, ix.analyzer)
	res.Hits = make([]accordwatch.SearchHit, 0, len(hits))
	for _, h := range hits {
		hit := toHit(h)
		hit.Snippet = snippet(str(h.Fields["head"]), terms, ix.analyzer)
		res.Hits = append(res.Hits, hit)
	}
	res.Facets = w.facets()
	res.TookMS = float64(time.Since(started).Microseconds()) / 1000
	return res, nil
}

// walked is what walk learnt: the hit counts of the newest partitions and
// the facets of those counted before countLimit was reached.
type walked struct {
	counts   []uint64 // of parts[:len(counts)]
	cut      []bool   // counts[i] stopped at a limit: parts[i] has more hits
	total    uint64   // their sum
	complete bool     // every hit of every partition was counted
	faceted  []tally
	// first holds the newest partition's first page when walk was asked
	// for it.
	first *bleve.SearchResult
}

// walk counts hits partition by partition, newest first, until goal hits
// are counted, in waves of parallel counts (growing while hits are
// sparse); each count stops once it alone would reach the goal, or once
// the months before it in its wave have (see peers). Hits counted before
// countLimit also report the named facets. With firstPage > 0 the newest
// partition's first page of that many hits comes with its count when the
// count reaches every hit of it.
//
// The first wave is the newest month alone when it is well under way (see
// newestAlone): a common query often reaches the goal there, mid-month
// too, and a month counted beside it would walk up to goal hits more for
// nothing, twice the work of every such count. A query whose newest month
// falls short pays one more round for it; the next wave is then twice the
// cores, so over many months the rounds are as many as before.
func (ix *Index) walk(ctx context.Context, parts []*partition, qs []query.Query, goal uint64, firstPage int, facets []string) (walked, error) {
	w := walked{complete: true}
	cores := max(2, runtime.GOMAXPROCS(0))
	wave := cores
	if newestAlone(parts) {
		wave = 1
	}
	for i := 0; i < len(parts) && w.total < goal; {
		batch := parts[i:min(i+wave, len(parts))]
		withFacets := len(facets) > 0 && w.total < ix.countLimit
		// Facets cover the hits counted up to countLimit; the count goes
		// on to goal (an offset deep into the hits) without them.
		limit, facetLimit := goal-w.total, uint64(0)
		if withFacets {
			facetLimit = ix.countLimit - w.total
		}
		tallies := make([]tally, len(batch))
		errs := make([]error, len(batch))
		ps := &peers{limit: limit, counted: make([]atomic.Uint64, len(batch))}
		forEach(len(batch), func(j int) {
			defer func() { ps.counted[j].Store(tallies[j].count) }()
			page := 0
			if i == 0 && j == 0 {
				page = firstPage
			}
			bq := qs[i+j]
			if _, all := bq.(*query.MatchAllQuery); all && !withFacets && page == 0 {
				n, err := batch[j].bi.DocCount()
				tallies[j], errs[j] = tally{count: n, complete: true}, err
				return
			}
			progress := func(n uint64) bool { return ps.report(j, n) }
			tallies[j], errs[j] = tallyPart(ctx, batch[j], bq, limit, facets, facetLimit, page, progress)
		})
		if err := errors.Join(errs...); err != nil {
			return w, fmt.Errorf("search index %s: %w", ix.dir, err)
		}
		if i == 0 && firstPage > 0 {
			w.first = tallies[0].page
		}
		facetUntil := uint64(0)
		if withFacets {
			facetUntil = ix.countLimit
		}
		w.add(tallies, goal, facetUntil)
		i += len(batch)
		wave = max(wave, cores)
		if w.total < goal/4 {
			wave *= 2
		}
	}
	w.complete = w.complete && len(w.counts) == len(parts)
	return w, nil
}

// add takes a wave's tallies, in month order, until the goal is reached:
// a month counted beside those that reached it is left out, as it would
// be if months were counted one at a time (its count may have stopped
// early, see peers). Facets are taken while fewer than facetUntil hits
// are counted, so they stop with the month where the count reached it.
func (w *walked) add(tallies []tally, goal, facetUntil uint64) {
	for _, t := range tallies {
		if w.total >= goal {
			return
		}
		if w.total < facetUntil {
			w.faceted = append(w.faceted, t)
		}
		w.counts = append(w.counts, t.count)
		w.cut = append(w.cut, !t.complete)
		w.total += t.count
		w.complete = w.complete && t.complete
	}
}

// peers are the counts of one wave, running side by side. A month whose
// elders in the wave have counted the wave's limit between them is left
// out of the result, so its count stops as soon as they have.
type peers struct {
	limit   uint64
	counted []atomic.Uint64 // hits counted so far, by position in the wave
}

// report records that the count at position j has reached n and reports
// whether the counts before it hold the limit already.
func (ps *peers) report(j int, n uint64) (stop bool) {
	ps.counted[j].Store(n)
	var before uint64
	for k := range j {
		before += ps.counted[k].Load()
	}
	return before >= ps.limit
}

// newestAlone reports whether the newest partition holds at least a
// quarter of the items of the one before it. A month's first days hold
// too few hits to fill a count alone, so then the month before is counted
// beside it rather than after it. A partition whose size cannot be read
// is treated as small: its count will report the error.
func newestAlone(parts []*partition) bool {
	if len(parts) < 2 {
		return true
	}
	n0, err0 := parts[0].bi.DocCount()
	n1, err1 := parts[1].bi.DocCount()
	return err0 == nil && err1 == nil && 4*n0 >= n1
}

// partQueries compiles q for each of parts (see compiler.compileFor).
func partQueries(c *compiler, q *Query, full query.Query, parts []*partition) []query.Query {
	qs := make([]query.Query, len(parts))
	for i, p := range parts {
		qs[i] = c.compileFor(q, full, p)
	}
	return qs
}

// facetSelection parses SearchRequest.Facets into the names of the facets
// to count; none is an empty list.
func facetSelection(s string) ([]string, error) {
	all := append(facetFields(), dayFacet)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", accordwatch.FacetsAll:
		return all, nil
	case accordwatch.FacetsNone:
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || slices.Contains(names, name) {
			continue
		}
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("%w: unknown facet %q (want %s, %s or a comma-separated list of %s)",
				ErrBadRequest, name, accordwatch.FacetsAll, accordwatch.FacetsNone, strings.Join(all, ", "))
		}
		names = append(names, name)
	}
	return names, nil
}

// pageRequest makes sr return size hits, newest first, with the stored
// fields of a hit.
func pageRequest(sr *bleve.SearchRequest, size int) {
	sr.Size = size
	sr.SortByCustom(search.SortOrder{sortDate(), &search.SortDocID{}})
	sr.Fields = hitFields()
	sr.Score = "none"
}

// windowMin is the fewest hits counted in a month for which newest looks
// for the month's first hits in date windows (see newestIn) before it
// searches the whole month: below it the whole month is one cheap search,
// and the windows of a sparse query mostly come back short.
const windowMin = 1000

// newest fills a page newest first, partition by partition: by offset,
// skipping whole months by their counts; by cursor, resuming in the month
// of the previous page's last hit with bleve's SearchAfter. A month's own
// first hits are sought in date windows ending at until (or the month's
// end) when the walk counted many hits there; hi, when not zero, is a
// date no hit of the query is after.
func (ix *Index) newest(ctx context.Context, parts []*partition, qs []query.Query, w walked,
	size, from int, after *cursor, until, hi time.Time) ([]*search.DocumentMatch, *cursor, error) {
	var hits []*search.DocumentMatch
	skip := uint64(from)
	start := 0
	if after != nil {
		skip = 0
		// Partitions newer than the cursor's hold only earlier pages.
		cur := &partition{name: after.Part}
		for start < len(parts) && newer(parts[start], cur) < 0 {
			start++
		}
	}
	// By cursor, one hit more than the page tells whether a next page
	// exists; by offset the counts tell (walk counted past from+size).
	want := size
	if after != nil {
		want = size + 1
	}
	for i := start; i < len(parts) && len(hits) < want; i++ {
		if i < len(w.counts) {
			if w.counts[i] == 0 {
				continue
			}
			if skip >= w.counts[i] {
				skip -= w.counts[i]
				continue
			}
		}
		out := w.first
		var err error
		switch {
		case i == 0 && out != nil:
		case after != nil && parts[i].name == after.Part:
			out, err = seek(ctx, parts[i], qs[i], after.After, want-len(hits))
		case skip == 0 && i < len(w.counts) && (w.cut[i] || w.counts[i] >= windowMin):
			at := until
			if end := parts[i].end; end.Before(at) {
				at = end
			}
			out, err = newestIn(ctx, parts[i], qs[i], at, hi, want-len(hits))
		default:
			sr := bleve.NewSearchRequestOptions(qs[i], 0, int(skip), false)
			pageRequest(sr, want-len(hits))
			out, err = searchPart(ctx, parts[i], sr)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("search index %s: %w", ix.dir, err)
		}
		skip = 0
		for _, h := range out.Hits {
			h.Index = parts[i].name
		}
		hits = append(hits, out.Hits...)
	}
	more := len(hits) > size
	if after == nil {
		more = w.total > uint64(from+size) && len(hits) == size
	}
	hits = hits[:min(len(hits), size)]
	if !more || len(hits) == 0 {
		return hits, nil, nil
	}
	last := hits[len(hits)-1]
	return hits, &cursor{Sort: accordwatch.SortNewest, Part: last.Index, After: slices.Clone(last.DecodedSort)}, nil
}

// spansFor returns the spans before a cursor (or before at, the time a
// month's newest hits are sought at) that seek and newestIn try in p, in
// turn, for n hits before they search the rest of the month. The first
// holds about 4n of p's items at their average rate from the month's start
// to at, when that is shorter than an hour: an hour of a busy month holds
// hundreds of items (230 at 6M), each matched and its sort key read, for a
// page of 20 of everything. Then an hour, a day and a week, for narrower
// queries. A span too narrow costs one cheap search that finds too few.
func spansFor(p *partition, at time.Time, n int) []time.Duration {
	spans := []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
	docs, err := p.bi.DocCount()
	if err != nil || docs == 0 {
		return spans
	}
	upTo := p.end
	if at.Before(upTo) {
		upTo = at
	}
	span := upTo.Sub(p.start) / time.Duration(docs) * time.Duration(4*n)
	if span <= 0 || span >= spans[0] {
		return spans
	}
	return append([]time.Duration{span}, spans...)
}

// newestIn returns the n newest hits of bq in p. A newest-first search of
// the whole month matches every hit of it and reads each one's sort key:
// for a common query in a busy month that is tens of thousands of hits for
// a page of 20. So it first searches the hits published since an hour (a
// day, a week) before at, the time the newest hits are expected just
// before; when such a window holds n hits they are the month's newest n,
// since every hit outside it is older. at only decides how fast the page
// is found, never which hits it holds. hi, when not zero, is a date no
// hit of bq is after (the query's own end): the windows end there rather
// than at the month's end, so they do not span the later items that bq
// excludes.
func newestIn(ctx context.Context, p *partition, bq query.Query, at, hi time.Time, n int) (*bleve.SearchResult, error) {
	end, endIncl := p.end, false
	if !hi.IsZero() && hi.Before(end) {
		end, endIncl = hi, true
	}
	return searchWindows(ctx, p, bq, at, end, endIncl, nil, n)
}

// searchWindows returns the n newest hits of bq in p after the sort values
// after (nil: from the newest), looking first among the hits published
// from an hour (a day, a week) before at up to end, then in the whole
// month. The caller makes sure no hit it wants lies after end.
func searchWindows(ctx context.Context, p *partition, bq query.Query, at, end time.Time, endIncl bool, after []string, n int) (*bleve.SearchResult, error) {
	if !p.start.IsZero() {
		for _, span := range spansFor(p, at, n) {
			lo := at.Add(-span)
			if !lo.After(p.start) {
				break
			}
			dq := query.NewDateRangeInclusiveQuery(lo, end, ptr(true), ptr(endIncl))
			dq.SetField("published")
			out, err := searchPart(ctx, p, windowed(bq, dq, n, after))
			if err != nil || len(out.Hits) >= n {
				return out, err
			}
		}
	}
	return searchPart(ctx, p, windowed(bq, nil, n, after))
}

// windowed is the request for the n newest hits of bq within the date
// range dq (nil: anywhere), after the sort values after (nil: from the
// newest).
func windowed(bq query.Query, dq *query.DateRangeQuery, n int, after []string) *bleve.SearchRequest {
	q := bq
	if dq != nil {
		q = dq
		if _, all := bq.(*query.MatchAllQuery); !all {
			q = query.NewConjunctionQuery([]query.Query{bq, dq})
		}
	}
	sr := bleve.NewSearchRequestOptions(q, 0, 0, false)
	pageRequest(sr, n)
	if after != nil {
		sr.SetSearchAfter(after)
	}
	return sr
}

// seek returns the n hits of p that follow a newest-first cursor (its
// sort values: published key, id). bleve's SearchAfter alone visits every
// hit of the month and reads its sort key to compare it with the cursor;
// a date range ending at the cursor's time first narrows that to the hits
// of the hour (then the day, the week) before it. When the span holds n hits after
// the cursor they are the month's next n, because everything outside it
// is older; otherwise the whole month is searched.
func seek(ctx context.Context, p *partition, bq query.Query, after []string, n int) (*bleve.SearchResult, error) {
	at, err := keyTime(after[0])
	if err != nil {
		return searchPart(ctx, p, windowed(bq, nil, n, after))
	}
	// Inclusive at the cursor's time: items published in the same instant
	// follow it by id.
	return searchWindows(ctx, p, bq, at, at, true, after, n)
}

// relevance searches all partitions at once (bleve's index alias runs them
// in parallel and merges by score); its total is exact.
func (ix *Index) relevance(ctx context.Context, parts []*partition, bq query.Query,
	size, from int) ([]*search.DocumentMatch, *cursor, uint64, error) {
	if len(parts) == 0 {
		return nil, nil, 0, nil
	}
	bis := make([]bleve.Index, len(parts))
	for i, p := range parts {
		bis[i] = p.bi
	}
	alias := bleve.NewIndexAlias(bis...)
	sr := bleve.NewSearchRequestOptions(bq, size, from, false)
	sr.SortByCustom(search.SortOrder{&search.SortScore{Desc: true}, sortDate(), &search.SortDocID{}})
	sr.Fields = hitFields()
	out, err := searchAlias(ctx, alias, sr)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("search index %s: %w", ix.dir, err)
	}
	hits := []*search.DocumentMatch(out.Hits)
	if out.Total <= uint64(from+len(hits)) {
		return hits, nil, out.Total, nil
	}
	return hits, &cursor{Sort: accordwatch.SortRelevance, From: from + len(hits)}, out.Total, nil
}

func searchAlias(ctx context.Context, alias bleve.IndexAlias, sr *bleve.SearchRequest) (res *bleve.SearchResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return alias.SearchInContext(ctx, sr)
}

// facets merges the partitions' facet counts: each facet's top
// facetSize by count, and "day" in date order, its newest maxFacetDays
// days.
func (w walked) facets() map[string][]accordwatch.FacetCount {
	sums := make(map[string]map[string]int)
	for _, t := range w.faceted {
		for name, vcs := range t.facets {
			if sums[name] == nil {
				sums[name] = make(map[string]int)
			}
			for _, vc := range vcs {
				sums[name][vc.value] += vc.n
			}
		}
	}
	facets := make(map[string][]accordwatch.FacetCount)
	for name, vals := range sums {
		if len(vals) == 0 {
			continue
		}
		counts := make([]accordwatch.FacetCount, 0, len(vals))
		for v, n := range vals {
			counts = append(counts, accordwatch.FacetCount{Value: v, Count: n})
		}
		if name == dayFacet {
			slices.SortFunc(counts, func(a, b accordwatch.FacetCount) int { return cmp.Compare(a.Value, b.Value) })
			counts = counts[max(0, len(counts)-maxFacetDays):]
		} else {
			slices.SortFunc(counts, func(a, b accordwatch.FacetCount) int {
				return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
			})
			counts = counts[:min(len(counts), facetSize)]
		}
		facets[name] = counts
	}
	if len(facets) == 0 {
		return nil
	}
	return facets
}

// toHit converts a bleve hit with our stored fields.
func toHit(h *search.DocumentMatch) accordwatch.SearchHit {
	hit := accordwatch.SearchHit{
		ID:          h.ID,
		Score:       h.Score,
		Title:       str(h.Fields["title"]),
		Link:        str(h.Fields["link"]),
		Feed:        str(h.Fields["display_feed"]),
		Signatories: strs(h.Fields["display_signatory"]),
		States:      strs(h.Fields["display_state"]),
		Actors:      strs(h.Fields["display_actor"]),
		AttackTypes: strs(h.Fields["display_attack"]),
		Principles:  strs(h.Fields["display_principle"]),
	}
	if f, ok := h.Fields["severity"].(float64); ok {
		hit.Severity = int(f)
	}
	if t, err := time.Parse(time.RFC3339Nano, str(h.Fields["published"])); err == nil {
		hit.Published = t.UTC()
	}
	return hit
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs reads a stored multi-value field: bleve returns a single value as
// itself and several as []any.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// CountMatching returns the exact number of items matching q, counting
// every partition its date range reaches (in parallel). Search's Total
// stops at 10,000 for newest-first searches; callers that need the exact
// figure (a digest's weekly counts) ask here.
func (ix *Index) CountMatching(ctx context.Context, q string) (uint64, error) {
	pq, err := Parse(q)
	if err != nil {
		return 0, err
	}
	c := ix.compiler()
	bq := c.compile(pq)
	parts, err := ix.snapshot(dateBounds(pq.root, c.now))
	if err != nil {
		return 0, err
	}
	qs := partQueries(c, pq, bq, parts)
	counts := make([]uint64, len(parts))
	errs := make([]error, len(parts))
	forEach(len(parts), func(i int) {
		if _, all := qs[i].(*query.MatchAllQuery); all {
			counts[i], errs[i] = parts[i].bi.DocCount()
			return
		}
		t, err := tallyPart(ctx, parts[i], qs[i], math.MaxUint64, nil, 0, 0, nil)
		counts[i], errs[i] = t.count, err
	})
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("count index %s: %w", ix.dir, err)
	}
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n, nil
}
