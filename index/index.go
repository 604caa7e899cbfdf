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

// ErrClosed is wrapped by every call made after Close.
var ErrClosed = errors.New("index closed")

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

// batchSize is how many documents go into one bleve batch: each batch is
// a segment that bleve builds, writes and later merges again, so a
// rebuild wants them large (see Loader); a batch of 5,000 holds some tens
// of MB while it is built.
const batchSize = loaderBatch

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
	bi         *gated
}

// gated is a partition's bleve index behind a gate that searches share
// and a write holds alone. The gate exists because of how bleve fails: a
// batch is put into the live snapshot before it is written to disk, and
// when the write fails (disk full, EFBIG, EIO) bleve closes the batch's
// segment but leaves it in the snapshot. Every later read of that segment
// — a search, the doc-id lookup of the next Add, bleve's own merge — then
// panics on a nil map inside zapx, on a goroutine bleve started, where no
// recover of ours can catch it. So no search may run while a batch is in
// flight, and a partition whose write failed is closed and reopened from
// disk (see Index.reopen) before the gate opens again. Searches of other
// months are not held up.
//
// The embedded index is never replaced: a reopened partition gets a new
// gated value, and next leads the searches that still hold the old one
// to it. Writes go through Index.writeTo only, never the embedded
// index's own Batch, Index or Delete.
type gated struct {
	engine
	gate sync.RWMutex
	// next is the reopened partition's index, once this one was closed
	// after a failed write; guarded by gate.
	next *gated
	// facets numbers the partition's facet values (facetcodes.go).
	facets *facetDict
}

// engine names the embedded bleve.Index: embedded under its own name the
// field would hide the interface's Index method.
type engine = bleve.Index

func newGated(bi bleve.Index, facets *facetDict) *gated {
	return &gated{engine: bi, facets: facets}
}

// current is g, or the index that replaced it; it returns with the
// returned index's gate held for reading.
func (g *gated) current() *gated {
	for {
		g.gate.RLock()
		if g.next == nil {
			return g
		}
		next := g.next
		g.gate.RUnlock()
		g = next
	}
}

// SearchInContext is bleve's, inside the gate. Index aliases (relevance
// search over several months) call it too.
func (g *gated) SearchInContext(ctx context.Context, req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	c := g.current()
	defer c.gate.RUnlock()
	return c.engine.SearchInContext(ctx, req)
}

// Search is SearchInContext without a deadline.
func (g *gated) Search(req *bleve.SearchRequest) (*bleve.SearchResult, error) {
	return g.SearchInContext(context.Background(), req)
}

// DocCount is bleve's, of the current index.
func (g *gated) DocCount() (uint64, error) {
	c := g.current()
	defer c.gate.RUnlock()
	return c.engine.DocCount()
}

// batch runs one bleve batch; the caller holds the gate alone. bleve can
// panic on a segment left closed by an earlier failure; the panic is
// returned as the write's error.
func (g *gated) batch(b *bleve.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in bleve: %v", r)
		}
	}()
	return g.engine.Batch(b)
}

// WriteError is Add's error when the index could not be written — a
// full, read-only or failing disk — rather than refusing the items. The
// partition is left holding what it held on disk before the write (see
// Add), so its items are exactly those of earlier successful writes.
type WriteError struct {
	// Partition is the month (YYYY-MM, or "undated") that failed.
	Partition string
	Err       error
}

func (e *WriteError) Error() string {
	return "partition " + e.Partition + ": index write failed: " + e.Err.Error()
}

func (e *WriteError) Unwrap() error { return e.Err }

// WriteFailed reports true: the failure is the disk's, not the items'.
// Callers test for it with a one-method interface, so that they need not
// import this package.
func (e *WriteError) WriteFailed() bool { return true }

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
	// boltTimeout is bleve's "bolt_timeout" setting; see config.
	boltTimeout string
	// countLimit is countLimit, lowered by tests to walk many months.
	countLimit uint64

	// writeMu makes Add calls one at a time, so that two of them cannot
	// interleave moving the same item between partitions.
	writeMu sync.Mutex

	mu    sync.RWMutex          // guards parts and broken
	parts map[string]*partition // nil once closed
	// broken holds the partitions that could not be reopened after a
	// failed write, by name, with the reason. Add and Search refuse to use
	// the index until a restart: Open finds them corrupt and the caller
	// rebuilds from the store.
	broken map[string]error

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
		boltTimeout: opts.OpenTimeout.String(),
	}
	ix.analyzer = newMapping().AnalyzerNamed(analyzerName)
	if ix.analyzer == nil {
		return nil, fmt.Errorf("open index %s: analyzer %q missing", dir, analyzerName)
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

// config is a new bleve config for one partition. Each bleve call gets
// its own: bleve writes the partition's path and create flags into the
// map it is given, and a shared map would send the next open of another
// partition to the last created one's files.
func (ix *Index) config() map[string]any {
	return map[string]any{"bolt_timeout": ix.boltTimeout}
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
	opened := make([]*gated, len(parts))
	errs := make([]error, len(parts))
	forEach(len(parts), func(i int) {
		opened[i], errs[i] = openExisting(filepath.Join(ix.dir, parts[i].name), ix.config())
	})
	for i, p := range parts {
		if errs[i] == nil {
			p.bi = opened[i]
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
// checked. A partition that could not be made whole (the disk filled up
// while creating it) is removed again: left behind without its mapping
// version, it would make the next Open take the whole index for corrupt.
// A directory that already exists is never touched.
func createPartition(dir string, cfg map[string]any) (bi bleve.Index, err error) {
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create index partition %s: already exists or unreadable (%v)", dir, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("create index partition %s: panic in bleve: %v", dir, r)
		}
		if err != nil {
			if bi != nil {
				_ = bi.Close()
			}
			bi = nil
			_ = os.RemoveAll(dir)
		}
	}()
	bi, err = bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("create index partition %s: %w", dir, err)
	}
	if err := bi.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion)); err != nil {
		return bi, fmt.Errorf("create index partition %s: record mapping version: %w", dir, err)
	}
	return bi, nil
}

// openExisting opens a partition and checks its mapping version. bleve
// can panic on damaged segment files, so a panic is reported as
// corruption.
func openExisting(dir string, cfg map[string]any) (g *gated, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("open index partition %s: panic: %v", dir, r)
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
	facets, err := loadFacetDict(opened)
	if err != nil {
		_ = opened.Close()
		return nil, fmt.Errorf("open index partition %s: %w", dir, err)
	}
	return newGated(opened, facets), nil
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

// Close releases the partitions and the directory lock. It waits for an
// Add in progress; afterwards Add, Search and Count return an error
// wrapping ErrClosed. Closing twice is safe (bleve itself panics on a
// second Close).
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		// writeMu first: an Add between two batches must not find its
		// partitions closed under it, nor create one after this.
		ix.writeMu.Lock()
		defer ix.writeMu.Unlock()
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

// usableLocked is nil when the index can be used: it is open and no
// partition was lost to a failed write. ix.mu must be held.
func (ix *Index) usableLocked() error {
	if ix.parts == nil {
		return fmt.Errorf("index %s: %w", ix.dir, ErrClosed)
	}
	for name, err := range ix.broken {
		return &WriteError{Partition: name, Err: fmt.Errorf("unusable since a failed write; restart to rebuild the index from the store: %w", err)}
	}
	return nil
}

// snapshot returns the partitions that can hold items published in
// [lo, hi] (zero = unbounded), newest first.
func (ix *Index) snapshot(lo, hi time.Time) ([]*partition, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if err := ix.usableLocked(); err != nil {
		return nil, err
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
	err := ix.usableLocked()
	ix.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if ok {
		return p, nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// Again under the write lock: Close or a failed write may have come
	// in between, and a partition made now would outlive the index.
	if err := ix.usableLocked(); err != nil {
		return nil, err
	}
	if p, ok := ix.parts[name]; ok {
		return p, nil
	}
	p, _ = newPartition(name)
	bi, err := createPartition(filepath.Join(ix.dir, name), ix.config())
	if err != nil {
		return nil, &WriteError{Partition: name, Err: err}
	}
	p.bi = newGated(bi, newFacetDict())
	ix.parts[name] = p
	return p, nil
}

// writeTo writes one batch, filled by fill, to p. A fill error is about
// the documents and leaves p untouched. A failed write returns a
// *WriteError: bleve's in-memory view of p may then hold documents that
// never reached the disk, in a segment bleve has already closed, so p is
// reopened from disk before any search may look at it again — the index
// then holds exactly what it would hold after a restart.
//
// fill numbers the documents' facet values through codes; the values new
// to p are written in the same batch and become visible with it.
func (ix *Index) writeTo(p *partition, fill func(b *bleve.Batch, codes *facetBatch) error) error {
	codes := p.bi.facets.begin()
	b, err := newBatch(p, func(b *bleve.Batch) error { return fill(b, codes) })
	if err != nil {
		return err
	}
	codes.store(b)
	p.bi.gate.Lock()
	defer p.bi.gate.Unlock()
	err = p.bi.batch(b)
	if err == nil {
		codes.commit()
		return nil
	}
	if rerr := ix.reopen(p); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return &WriteError{Partition: p.name, Err: err}
}

// newBatch makes p's next batch, turning a panic of bleve's document
// mapping into an error.
func newBatch(p *partition, fill func(b *bleve.Batch) error) (b *bleve.Batch, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("partition %s: panic in bleve: %v", p.name, r)
		}
	}()
	b = p.bi.NewBatch()
	if err := fill(b); err != nil {
		return nil, fmt.Errorf("partition %s: %w", p.name, err)
	}
	return b, nil
}

// reopen replaces p with a fresh open of its directory, discarding what
// bleve kept in memory only. The caller holds writeMu and p's gate, so
// neither a write nor a search touches p meanwhile; searches that were
// waiting for the gate then go to the new index, never to the closed
// segment. If p cannot be opened again it is marked broken: the index
// then refuses Add and Search with a clear error until a restart, whose
// Open finds the partition corrupt so that the caller rebuilds the index
// from the store.
func (ix *Index) reopen(p *partition) error {
	func() {
		defer func() { _ = recover() }() // closing a poisoned index must not take the process down
		_ = p.bi.engine.Close()
	}()
	g, err := openExisting(filepath.Join(ix.dir, p.name), ix.config())
	ix.mu.Lock() // parts is not nil: Close waits for writeMu
	defer ix.mu.Unlock()
	if err != nil {
		delete(ix.parts, p.name)
		if ix.broken == nil {
			ix.broken = make(map[string]error)
		}
		ix.broken[p.name] = err
		return fmt.Errorf("reopen partition %s: %w", p.name, err)
	}
	np := *p
	np.bi = g
	p.bi.next = np.bi
	ix.parts[p.name] = &np
	return nil
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
// up to 5,000, partitions in parallel. Batches already written stay written
// when a later one fails or ctx is cancelled.
//
// A batch that could not be written (the disk is full or failing) makes
// Add return a *WriteError; that batch's documents are not in the index,
// neither on disk nor in what searches see, and adding them again once
// the disk has room is all a caller need do. After Close, Add returns an
// error wrapping ErrClosed.
//
// Where an item already is is found by a doc-id search over the existing
// partitions rather than kept in a side table: a table would have to be
// kept consistent with the partitions across crashes, and the search
// costs a few microseconds an item (see BenchmarkAdd).
//
// Each call's items are grouped by month, so callers that add many items
// (a reindex) should use a Loader: 500 items spread over 36 months make
// batches of about 14 documents, and bleve's cost per batch dominates.
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
	ix.mu.RLock()
	err := ix.usableLocked()
	ix.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("index items: %w", err)
	}

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
			err := ix.writeTo(p, func(b *bleve.Batch, codes *facetBatch) error {
				for _, d := range docs[start:min(start+batchSize, len(docs))] {
					d.doc.Facets = codes.encode(&d.doc)
					if err := b.Index(d.id, d.doc); err != nil {
						return fmt.Errorf("item %s: %w", d.id, err)
					}
				}
				return nil
			})
			if err != nil {
				errs[i] = err
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
		err := ix.writeTo(p, func(b *bleve.Batch, _ *facetBatch) error {
			for _, id := range ids {
				b.Delete(id)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("index items: remove moved items: %w", err)
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
