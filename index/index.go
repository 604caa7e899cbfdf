package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	// Only the error value: bleve's scorch engine keeps its root in a bbolt
	// file and returns bbolt's lock timeout unwrapped.
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/accordwatch/accordwatch"
)

// ErrLocked means another process (or another Open in this one) holds the
// index directory.
var ErrLocked = errors.New("index is in use by another process")

// ErrBadRequest is wrapped by Search errors caused by the request rather
// than the index (an unknown sort order). Query syntax errors are
// *ParseError instead.
var ErrBadRequest = errors.New("bad search request")

// lockedError names the directory; errors.Is(err, ErrLocked) holds.
type lockedError struct{ dir string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("index %s is in use by another process", e.dir)
}

func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// Paging limits for Search.
const (
	DefaultSize = 20
	MaxSize     = 1000
)

// batchSize is how many items go into one bleve batch: large enough to
// amortise the per-batch fsync, small enough to bound memory.
const batchSize = 500

// Options configures an Index.
type Options struct {
	// Resolve maps a user-typed value of a tag field (signatory, company,
	// actor, state, attack, principle) to its canonical value through
	// aliases, e.g. ("actor","fancy bear")→"APT28", ("state","dprk")→"North
	// Korea". nil = identity. ok=false = unknown value: it is searched as
	// typed (lower-cased).
	Resolve func(field, value string) (string, bool)
	// Now is the clock for relative dates (since:7d); default time.Now.
	Now func() time.Time
	// OpenTimeout bounds the wait for the index's file lock (bleve's
	// bolt_timeout); default 2s. Without it a second Open blocks forever.
	OpenTimeout time.Duration
}

// Index is the bleve index of items. It is safe for concurrent use.
type Index struct {
	dir      string
	bi       bleve.Index
	opts     Options
	rebuilt  bool
	analyzer analysis.Analyzer

	closeOnce sync.Once
	closeErr  error
}

// Open opens the index at dir, creating it (with the explicit mapping) when
// missing. If the directory exists but cannot be opened as an index
// (corrupt, or written with an older mapping), it is moved aside to
// dir+".corrupt-<unix>" and a new empty index is created. Rebuilt then
// reports true, as it does when the index did not exist, so the caller
// can reindex from the store. When another process holds the index, Open
// returns an error wrapping ErrLocked after Options.OpenTimeout.
func Open(dir string, opts Options) (*Index, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = 2 * time.Second
	}
	ix := &Index{dir: dir, opts: opts}
	cfg := map[string]any{"bolt_timeout": opts.OpenTimeout.String()}

	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ix.bi, err = create(dir, cfg)
		ix.rebuilt = true
	case err != nil:
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	case fi.IsDir() && isEmptyDir(dir):
		ix.bi, err = create(dir, cfg)
		ix.rebuilt = true
	default:
		ix.bi, err = openExisting(dir, cfg)
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &lockedError{dir: dir}
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("open index %s: %w", dir, err)
		}
		if err != nil {
			ix.bi, err = moveAsideAndCreate(dir, cfg, opts.Now())
			ix.rebuilt = true
		}
	}
	if err != nil {
		return nil, err
	}
	ix.analyzer = ix.bi.Mapping().AnalyzerNamed(en.AnalyzerName)
	if ix.analyzer == nil {
		_ = ix.bi.Close()
		return nil, fmt.Errorf("open index %s: analyzer %q missing", dir, en.AnalyzerName)
	}
	return ix, nil
}

// create makes a new index with our mapping and records its version.
// bleve returns a typed-nil Index on error, so only err is checked.
func create(dir string, cfg map[string]any) (bleve.Index, error) {
	bi, err := bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("create index %s: %w", dir, err)
	}
	if err := bi.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion)); err != nil {
		_ = bi.Close()
		return nil, fmt.Errorf("create index %s: record mapping version: %w", dir, err)
	}
	return bi, nil
}

// openExisting opens dir and checks its mapping version. bleve can panic
// on damaged segment files, so a panic is reported as corruption.
func openExisting(dir string, cfg map[string]any) (bi bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			bi, err = nil, fmt.Errorf("open index %s: panic: %v", dir, r)
		}
	}()
	opened, err := bleve.OpenUsing(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	v, err := opened.GetInternal([]byte(mappingVersionKey))
	if err != nil || string(v) != mappingVersion {
		_ = opened.Close()
		return nil, fmt.Errorf("open index %s: mapping version %q, want %q (%v)", dir, v, mappingVersion, err)
	}
	return opened, nil
}

// moveAsideAndCreate keeps the broken directory for inspection and starts
// an empty index in its place.
func moveAsideAndCreate(dir string, cfg map[string]any, now time.Time) (bleve.Index, error) {
	aside := dir + ".corrupt-" + strconv.FormatInt(now.Unix(), 10)
	for n := 1; ; n++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = dir + ".corrupt-" + strconv.FormatInt(now.Unix(), 10) + "-" + strconv.Itoa(n)
	}
	if err := os.Rename(dir, aside); err != nil {
		return nil, fmt.Errorf("move corrupt index aside: %w", err)
	}
	return create(dir, cfg)
}

func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// Rebuilt reports whether Open created a new, empty index (none existed, or
// the old one was corrupt and was moved aside), so the caller should
// reindex from the store.
func (ix *Index) Rebuilt() bool { return ix.rebuilt }

// Close releases the index and its file lock. Closing twice is safe (bleve
// itself panics on a second Close).
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		if err := ix.bi.Close(); err != nil {
			ix.closeErr = fmt.Errorf("close index %s: %w", ix.dir, err)
		}
	})
	return ix.closeErr
}

// Count returns the number of indexed items.
func (ix *Index) Count() (uint64, error) {
	n, err := ix.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count index %s: %w", ix.dir, err)
	}
	return n, nil
}

// Add indexes items, in bleve batches of up to 500. Item.ID is the
// document id, so adding an item again replaces it. Batches already
// written stay written when a later one fails or ctx is cancelled.
func (ix *Index) Add(ctx context.Context, items []accordwatch.Item) error {
	for i, it := range items {
		if it.ID == "" {
			return fmt.Errorf("index items: item %d (%q) has no ID", i, it.Title)
		}
	}
	for start := 0; start < len(items); start += batchSize {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("index items: %w", err)
		}
		end := min(start+batchSize, len(items))
		b := ix.bi.NewBatch()
		for _, it := range items[start:end] {
			if err := b.Index(it.ID, newDoc(it)); err != nil {
				return fmt.Errorf("index item %s: %w", it.ID, err)
			}
		}
		if err := ix.bi.Batch(b); err != nil {
			return fmt.Errorf("index items %d-%d: %w", start, end-1, err)
		}
	}
	return nil
}

// compiler returns a compiler with the clock read once per query.
func (ix *Index) compiler() *compiler {
	return &compiler{resolve: ix.opts.Resolve, now: ix.opts.Now(), analyzer: ix.analyzer}
}

// hitFields are the stored fields loaded for each hit.
func hitFields() []string {
	return []string{"title", "link", "published", "severity", "display_feed",
		"display_signatory", "display_state", "display_actor", "display_attack", "display_principle"}
}

// Search runs req. Size defaults to 20 and is capped at 1000. Sort is
// "newest" (the default when the query has no free text) or "relevance"
// (the default otherwise). A query syntax error is a *ParseError.
func (ix *Index) Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
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
	newest := sortDate()
	var order search.SortOrder
	switch sortBy {
	case accordwatch.SortNewest:
		order = search.SortOrder{newest, &search.SortDocID{}}
	case accordwatch.SortRelevance:
		order = search.SortOrder{&search.SortScore{Desc: true}, newest, &search.SortDocID{}}
	default:
		return res, fmt.Errorf("%w: unknown sort %q (want %s or %s)", ErrBadRequest, req.Sort, accordwatch.SortNewest, accordwatch.SortRelevance)
	}
	size := req.Size
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	from := max(req.From, 0)

	sr := bleve.NewSearchRequestOptions(ix.compiler().compile(q), size, from, false)
	sr.SortByCustom(order)
	sr.Fields = hitFields()
	sr.Highlight = bleve.NewHighlightWithStyle(highlighterName)
	sr.Highlight.AddField("text")
	for _, f := range facetFields() {
		sr.AddFacet(f, bleve.NewFacetRequest("display_"+f, 10))
	}
	out, err := ix.search(ctx, sr)
	if err != nil {
		return res, err
	}
	res.Total = out.Total
	res.TookMS = float64(out.Took.Microseconds()) / 1000
	res.Hits = make([]accordwatch.SearchHit, 0, len(out.Hits))
	for _, h := range out.Hits {
		res.Hits = append(res.Hits, toHit(h))
	}
	for _, f := range facetFields() {
		fr, ok := out.Facets[f]
		if !ok || fr.Terms == nil {
			continue
		}
		var counts []accordwatch.FacetCount
		for _, t := range fr.Terms.Terms() {
			counts = append(counts, accordwatch.FacetCount{Value: t.Term, Count: t.Count})
		}
		if len(counts) > 0 {
			if res.Facets == nil {
				res.Facets = make(map[string][]accordwatch.FacetCount)
			}
			res.Facets[f] = counts
		}
	}
	return res, nil
}

// sortDate orders by publication date, newest first. Typed as a date so
// that the hits' sort values decode (needed for SearchAfter paging).
func sortDate() *search.SortField {
	return &search.SortField{Field: "published", Desc: true, Type: search.SortFieldAsDate, Missing: search.SortFieldMissingLast}
}

// Matching returns the ids (in their given order) whose items match q. Alert
// rules use it to run over the items of one ingest batch only.
func (ix *Index) Matching(ctx context.Context, q string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pq, err := Parse(q)
	if err != nil {
		return nil, err
	}
	bq := query.NewConjunctionQuery([]query.Query{query.NewDocIDQuery(ids), ix.compiler().compile(pq)})
	sr := bleve.NewSearchRequestOptions(bq, len(ids), 0, false)
	sr.Score = "none"
	out, err := ix.search(ctx, sr)
	if err != nil {
		return nil, err
	}
	hit := make(map[string]bool, len(out.Hits))
	for _, h := range out.Hits {
		hit[h.ID] = true
	}
	var matched []string
	for _, id := range ids {
		if hit[id] {
			matched = append(matched, id)
			delete(hit, id) // a duplicated id is reported once
		}
	}
	return matched, nil
}

// search runs sr, turning a bleve panic (seen on damaged segments) into an
// error so one bad query cannot take the service down.
func (ix *Index) search(ctx context.Context, sr *bleve.SearchRequest) (res *bleve.SearchResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("search index %s: panic: %v", ix.dir, r)
		}
	}()
	res, err = ix.bi.SearchInContext(ctx, sr)
	if err != nil {
		return nil, fmt.Errorf("search index %s: %w", ix.dir, err)
	}
	return res, nil
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
	if frags := h.Fragments["text"]; len(frags) > 0 {
		hit.Snippet = frags[0]
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
