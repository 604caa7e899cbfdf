package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
// than the index (an unknown sort order, a malformed After cursor). Query
// syntax errors are *ParseError instead.
var ErrBadRequest = errors.New("bad search request")

// errWouldBlock is lockFile's timeout, turned into a *lockedError by Open.
var errWouldBlock = errors.New("lock held")

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

// batchSize is how many documents go into one bleve batch: large enough to
// amortise the per-batch fsync, small enough to bound memory.
const batchSize = 500

// Layout of the index directory: a marker file naming the layout and the
// mapping version, a lock file, and one bleve index per calendar month
// (UTC, by published date) named YYYY-MM, plus "undated" for items with
// neither a published nor a fetched time.
const (
	markerFile  = "accordwatch-index.json"
	lockName    = "lock"
	layoutName  = "monthly"
	monthLayout = "2006-01"
	undatedName = "undated"
)

// marker is the content of markerFile.
type marker struct {
	Layout         string `json:"layout"`
	MappingVersion string `json:"mapping_version"`
}

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
	// OpenTimeout bounds the wait for the index's file lock; default 2s.
	// Without it a second Open would block forever.
	OpenTimeout time.Duration
}

// partition is the bleve index of one month.
type partition struct {
	name string
	// start and end bound the published dates it holds, [start, end);
	// both zero for the undated partition.
	start, end time.Time
	bi         bleve.Index
}

// newer orders partitions newest first, the undated one last.
func newer(a, b *partition) int {
	switch {
	case a.name == b.name:
		return 0
	case a.name == undatedName:
		return 1
	case b.name == undatedName:
		return -1
	case a.name > b.name:
		return -1
	}
	return 1
}

// Index is the partitioned bleve index of items. It is safe for concurrent
// use.
type Index struct {
	dir      string
	opts     Options
	rebuilt  bool
	analyzer analysis.Analyzer
	lock     *os.File
	cfg      map[string]any
	// countLimit is countLimit, lowered by tests to walk many months.
	countLimit uint64

	// writeMu makes Add calls one at a time, so that two of them cannot
	// interleave moving the same item between partitions.
	writeMu sync.Mutex

	mu    sync.RWMutex // guards parts
	parts map[string]*partition

	closeOnce sync.Once
	closeErr  error
}

// Open opens the index at dir, creating it when missing. The directory
// holds one bleve index per month of publication (see the package doc).
// If it exists but cannot be opened — corrupt, written with another
// mapping version, or the single-index layout of earlier versions — it is
// moved aside to dir+".corrupt-<unix>" and a new empty index is created.
// Rebuilt then reports true, as it does when the index did not exist, so
// the caller can reindex from the store. When another process holds the
// index, Open returns an error wrapping ErrLocked after Options.OpenTimeout.
//
// All partitions are opened at once, in parallel: each costs a few
// milliseconds, and a lazily opened one could turn out to be corrupt in
// the middle of a search.
func Open(dir string, opts Options) (*Index, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = 2 * time.Second
	}
	ix := &Index{
		dir:   dir,
		opts:  opts,
		parts: make(map[string]*partition),

		countLimit: countLimit,
		// The lock file already excludes other processes; the bbolt
		// timeout only bounds a wait that should never happen.
		cfg: map[string]any{"bolt_timeout": opts.OpenTimeout.String()},
	}
	ix.analyzer = newMapping().AnalyzerNamed(en.AnalyzerName)
	if ix.analyzer == nil {
		return nil, fmt.Errorf("open index %s: analyzer %q missing", dir, en.AnalyzerName)
	}

	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ix, ix.create()
	case err != nil:
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	case fi.IsDir() && isEmptyDir(dir):
		return ix, ix.create()
	case !fi.IsDir() || !exists(filepath.Join(dir, markerFile)):
		// Not ours, or the single index of mapping version ≤ 2. An old
		// version of the service may still have it open.
		if isLocked(filepath.Join(dir, "store", "root.bolt")) {
			return nil, &lockedError{dir: dir}
		}
		return ix, ix.replace()
	}

	if err := ix.takeLock(); err != nil {
		return nil, err
	}
	if err := checkMarker(dir); err != nil {
		ix.unlock()
		return ix, ix.replace()
	}
	err = ix.openPartitions()
	switch {
	case err == nil:
		return ix, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		ix.closeParts()
		ix.unlock()
		return nil, &lockedError{dir: dir}
	case errors.Is(err, fs.ErrPermission):
		ix.closeParts()
		ix.unlock()
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	// A corrupt partition: the caller reindexes everything from the store
	// anyway, and into an empty index that is faster than replacing.
	ix.closeParts()
	ix.unlock()
	return ix, ix.replace()
}

func (ix *Index) takeLock() error {
	f, err := lockFile(filepath.Join(ix.dir, lockName), ix.opts.OpenTimeout)
	if errors.Is(err, errWouldBlock) {
		return &lockedError{dir: ix.dir}
	}
	if err != nil {
		return fmt.Errorf("open index %s: %w", ix.dir, err)
	}
	ix.lock = f
	return nil
}

func (ix *Index) unlock() {
	if ix.lock != nil {
		_ = ix.lock.Close() // closing the file releases the flock
		ix.lock = nil
	}
}

// create makes a new, empty index directory: lock and marker.
func (ix *Index) create() error {
	if err := os.MkdirAll(ix.dir, 0o755); err != nil {
		return fmt.Errorf("create index %s: %w", ix.dir, err)
	}
	if err := ix.takeLock(); err != nil {
		return err
	}
	b, _ := json.Marshal(marker{Layout: layoutName, MappingVersion: mappingVersion})
	tmp := filepath.Join(ix.dir, markerFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		ix.unlock()
		return fmt.Errorf("create index %s: %w", ix.dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(ix.dir, markerFile)); err != nil {
		ix.unlock()
		return fmt.Errorf("create index %s: %w", ix.dir, err)
	}
	ix.rebuilt = true
	return nil
}

// replace keeps the unusable directory for inspection and starts an empty
// index in its place.
func (ix *Index) replace() error {
	now := ix.opts.Now()
	aside := ix.dir + ".corrupt-" + strconv.FormatInt(now.Unix(), 10)
	for n := 1; ; n++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = ix.dir + ".corrupt-" + strconv.FormatInt(now.Unix(), 10) + "-" + strconv.Itoa(n)
	}
	if err := os.Rename(ix.dir, aside); err != nil {
		return fmt.Errorf("move corrupt index aside: %w", err)
	}
	return ix.create()
}

func checkMarker(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, markerFile))
	if err != nil {
		return err
	}
	var m marker
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m.Layout != layoutName || m.MappingVersion != mappingVersion {
		return fmt.Errorf("layout %q version %q, want %q %q", m.Layout, m.MappingVersion, layoutName, mappingVersion)
	}
	return nil
}

// openPartitions opens every partition directory, in parallel.
func (ix *Index) openPartitions() error {
	entries, err := os.ReadDir(ix.dir)
	if err != nil {
		return fmt.Errorf("open index %s: %w", ix.dir, err)
	}
	var parts []*partition
	for _, e := range entries {
		if p, ok := newPartition(e.Name()); ok && e.IsDir() {
			parts = append(parts, p)
		}
	}
	errs := make([]error, len(parts))
	forEach(len(parts), func(i int) {
		parts[i].bi, errs[i] = openExisting(filepath.Join(ix.dir, parts[i].name), ix.cfg)
	})
	for _, p := range parts {
		if p.bi != nil {
			ix.parts[p.name] = p
		}
	}
	return errors.Join(errs...)
}

// newPartition describes the partition named name ("2026-01" or
// "undated"); ok is false for any other name.
func newPartition(name string) (*partition, bool) {
	if name == undatedName {
		return &partition{name: name}, true
	}
	t, err := time.Parse(monthLayout, name)
	if err != nil || t.Format(monthLayout) != name {
		return nil, false
	}
	return &partition{name: name, start: t, end: t.AddDate(0, 1, 0)}, true
}

// partitionName is the partition an item published at t belongs to.
func partitionName(t time.Time) string {
	if t.IsZero() {
		return undatedName
	}
	return t.UTC().Format(monthLayout)
}

// createPartition makes a new bleve index with our mapping and records
// its version. bleve returns a typed-nil Index on error, so only err is
// checked.
func createPartition(dir string, cfg map[string]any) (bleve.Index, error) {
	bi, err := bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("create index partition %s: %w", dir, err)
	}
	if err := bi.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion)); err != nil {
		_ = bi.Close()
		return nil, fmt.Errorf("create index partition %s: record mapping version: %w", dir, err)
	}
	return bi, nil
}

// openExisting opens a partition and checks its mapping version. bleve
// can panic on damaged segment files, so a panic is reported as
// corruption.
func openExisting(dir string, cfg map[string]any) (bi bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			bi, err = nil, fmt.Errorf("open index partition %s: panic: %v", dir, r)
		}
	}()
	opened, err := bleve.OpenUsing(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("open index partition %s: %w", dir, err)
	}
	v, err := opened.GetInternal([]byte(mappingVersionKey))
	if err != nil || string(v) != mappingVersion {
		_ = opened.Close()
		return nil, fmt.Errorf("open index partition %s: mapping version %q, want %q (%v)", dir, v, mappingVersion, err)
	}
	return opened, nil
}

func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Rebuilt reports whether Open created a new, empty index (none existed, or
// the old one was corrupt or of an older layout and was moved aside), so
// the caller should reindex from the store.
func (ix *Index) Rebuilt() bool { return ix.rebuilt }

// Close releases the partitions and the directory lock. Closing twice is
// safe (bleve itself panics on a second Close).
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		var errs []error
		for _, p := range ix.parts {
			if err := p.bi.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close index %s partition %s: %w", ix.dir, p.name, err))
			}
		}
		ix.parts = nil
		ix.unlock()
		ix.closeErr = errors.Join(errs...)
	})
	return ix.closeErr
}

// closeParts closes the partitions opened so far (Open's failure path).
func (ix *Index) closeParts() {
	for name, p := range ix.parts {
		_ = p.bi.Close()
		delete(ix.parts, name)
	}
}

// snapshot returns the partitions that can hold items published in
// [lo, hi] (zero = unbounded), newest first.
func (ix *Index) snapshot(lo, hi time.Time) ([]*partition, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.parts == nil {
		return nil, fmt.Errorf("index %s is closed", ix.dir)
	}
	var out []*partition
	for _, p := range ix.parts {
		if p.name == undatedName {
			if lo.IsZero() && hi.IsZero() {
				out = append(out, p)
			}
			continue
		}
		if (!lo.IsZero() && !p.end.After(lo)) || (!hi.IsZero() && p.start.After(hi)) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, newer)
	return out, nil
}

// partitionFor returns the partition called name, creating it if needed.
func (ix *Index) partitionFor(name string) (*partition, error) {
	ix.mu.RLock()
	p, ok := ix.parts[name]
	closed := ix.parts == nil
	ix.mu.RUnlock()
	if ok {
		return p, nil
	}
	if closed {
		return nil, fmt.Errorf("index %s is closed", ix.dir)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if p, ok := ix.parts[name]; ok {
		return p, nil
	}
	p, _ = newPartition(name)
	bi, err := createPartition(filepath.Join(ix.dir, name), ix.cfg)
	if err != nil {
		return nil, err
	}
	p.bi = bi
	ix.parts[name] = p
	return p, nil
}

// Count returns the number of indexed items.
func (ix *Index) Count() (uint64, error) {
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, p := range parts {
		c, err := p.bi.DocCount()
		if err != nil {
			return 0, fmt.Errorf("count index %s partition %s: %w", ix.dir, p.name, err)
		}
		n += c
	}
	return n, nil
}

// Add indexes items. Item.ID is the document id, so adding an item again
// replaces it; an item whose month of publication changed is removed from
// its old partition. Each partition's share is written in bleve batches of
// up to 500, partitions in parallel. Batches already written stay written
// when a later one fails or ctx is cancelled.
//
// Where an item already is is found by a doc-id search over the existing
// partitions rather than kept in a side table: a table would have to be
// kept consistent with the partitions across crashes, and the search
// costs a few microseconds an item (see BenchmarkAdd).
//
// Each call's items are grouped by month, so callers that add many items
// (a reindex) should pass thousands at a time: 500 items spread over 36
// months make batches of about 14 documents, and bleve's cost per batch
// dominates.
func (ix *Index) Add(ctx context.Context, items []accordwatch.Item) error {
	for i, it := range items {
		if it.ID == "" {
			return fmt.Errorf("index items: item %d (%q) has no ID", i, it.Title)
		}
	}
	if len(items) == 0 {
		return nil
	}
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()

	// The last occurrence of an id wins, as it would in one bleve batch.
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[it.ID] = i
	}
	type pending struct {
		id  string
		doc doc
	}
	groups := make(map[string][]pending)
	target := make(map[string]string, len(last))
	ids := make([]string, 0, len(last))
	for i, it := range items {
		if last[it.ID] != i {
			continue
		}
		d := newDoc(it)
		name := partitionName(d.Published)
		groups[name] = append(groups[name], pending{it.ID, d})
		target[it.ID] = name
		ids = append(ids, it.ID)
	}
	where, err := ix.locate(ctx, ids)
	if err != nil {
		return fmt.Errorf("index items: %w", err)
	}
	moved := make(map[string][]string)
	for id, cur := range where {
		if cur != target[id] {
			moved[cur] = append(moved[cur], id)
		}
	}

	names := make([]string, 0, len(groups))
	for name := range groups {
		names = append(names, name)
	}
	errs := make([]error, len(names))
	forEach(len(names), func(i int) {
		p, err := ix.partitionFor(names[i])
		if err != nil {
			errs[i] = err
			return
		}
		docs := groups[names[i]]
		for start := 0; start < len(docs); start += batchSize {
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			b := p.bi.NewBatch()
			for _, d := range docs[start:min(start+batchSize, len(docs))] {
				if err := b.Index(d.id, d.doc); err != nil {
					errs[i] = fmt.Errorf("item %s: %w", d.id, err)
					return
				}
			}
			if err := p.bi.Batch(b); err != nil {
				errs[i] = fmt.Errorf("partition %s: %w", p.name, err)
				return
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("index items: %w", err)
	}
	// Delete from the old months only once the new copies are in: a crash
	// in between leaves a duplicate that the next Add of the item removes,
	// rather than a missing item.
	for name, ids := range moved {
		ix.mu.RLock()
		p := ix.parts[name]
		ix.mu.RUnlock()
		if p == nil {
			continue
		}
		b := p.bi.NewBatch()
		for _, id := range ids {
			b.Delete(id)
		}
		if err := p.bi.Batch(b); err != nil {
			return fmt.Errorf("index items: remove moved items from %s: %w", name, err)
		}
	}
	return nil
}

// locate returns the partition holding each of ids that is indexed.
func (ix *Index) locate(ctx context.Context, ids []string) (map[string]string, error) {
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	found, err := idsInParts(ctx, parts, query.NewDocIDQuery(ids), len(ids))
	if err != nil {
		return nil, err
	}
	where := make(map[string]string)
	for i, hits := range found {
		for _, id := range hits {
			where[id] = parts[i].name
		}
	}
	return where, nil
}

// forEach runs fn(0..n-1) on up to GOMAXPROCS goroutines.
func forEach(n int, fn func(i int)) {
	workers := min(n, max(2, runtime.GOMAXPROCS(0)))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// compiler returns a compiler with the clock read once per query.
func (ix *Index) compiler() *compiler {
	return &compiler{resolve: ix.opts.Resolve, now: ix.opts.Now(), analyzer: ix.analyzer}
}

// Matching returns the ids (in their given order) whose items match q. Alert
// rules use it to run over the items of one ingest batch only. The ids'
// months are unknown, so every partition is asked (in parallel); a doc-id
// filter makes each ask a few dictionary lookups.
func (ix *Index) Matching(ctx context.Context, q string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pq, err := Parse(q)
	if err != nil {
		return nil, err
	}
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	bq := query.NewConjunctionQuery([]query.Query{query.NewDocIDQuery(ids), ix.compiler().compile(pq)})
	found, err := idsInParts(ctx, parts, bq, len(ids))
	if err != nil {
		return nil, err
	}
	hit := make(map[string]bool)
	for _, f := range found {
		for _, id := range f {
			hit[id] = true
		}
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

// searchPart runs sr on one partition, turning a bleve panic (seen on
// damaged segments) into an error so one bad query cannot take the service
// down.
func searchPart(ctx context.Context, p *partition, sr *bleve.SearchRequest) (res *bleve.SearchResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("search partition %s: panic: %v", p.name, r)
		}
	}()
	res, err = p.bi.SearchInContext(ctx, sr)
	if err != nil {
		return nil, fmt.Errorf("search partition %s: %w", p.name, err)
	}
	return res, nil
}

// sortDate orders by publication date, newest first, by the fixed-width
// published_key string: its doc values hold one term a document where the
// date field's hold 16, and its sort values need no decoding for
// SearchAfter.
func sortDate() *search.SortField {
	return &search.SortField{Field: "published_key", Desc: true, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast}
}

// idsInParts runs q (unscored, at most size hits) on every partition in
// parallel and returns each partition's matching document IDs.
func idsInParts(ctx context.Context, parts []*partition, q query.Query, size int) ([][]string, error) {
	found := make([][]string, len(parts))
	errs := make([]error, len(parts))
	forEach(len(parts), func(i int) {
		sr := bleve.NewSearchRequestOptions(q, size, 0, false)
		sr.Score = "none"
		res, err := searchPart(ctx, parts[i], sr)
		if err != nil {
			errs[i] = err
			return
		}
		for _, h := range res.Hits {
			found[i] = append(found[i], h.ID)
		}
	})
	return found, errors.Join(errs...)
}
