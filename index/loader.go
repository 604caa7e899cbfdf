package index

import (
	"context"
	"maps"
	"slices"

	"github.com/accordwatch/accordwatch"
)

// Loader limits: a month is written once loaderBatch of its items are
// held, and when loaderHeld items are held in all, the fullest months are
// written until half remain.
const (
	loaderBatch = 5000
	loaderHeld  = 40_000
)

// Loader adds many items — a rebuild from the store — in large batches of
// one month each. The store hands items over in id order, which is no
// order of months: Add with 10,000 of them wrote batches of about 280 a
// month, and bleve's cost per batch (a segment built, then merged again
// and again) made indexing a third slower than batches of thousands. The
// Loader holds items back by month instead, up to a bound (about 100 MB
// of items), and Flush writes what is left.
type Loader struct {
	ix     *Index
	months map[string][]accordwatch.Item
	where  map[string]string // month of each held item, by id
	held   int
	// batch and most are loaderBatch and loaderHeld, smaller in tests.
	batch, most int
}

// NewLoader returns a Loader that adds to ix. It is not safe for
// concurrent use; Add calls made meanwhile by others are safe.
func (ix *Index) NewLoader() *Loader {
	return &Loader{ix: ix, months: make(map[string][]accordwatch.Item), where: make(map[string]string),
		batch: loaderBatch, most: loaderHeld}
}

// Add queues it, writing a batch when a month or the Loader is full. An
// item added twice is written as it was added last, as with Index.Add.
func (l *Loader) Add(ctx context.Context, it accordwatch.Item) error {
	if it.ID == "" {
		return l.ix.Add(ctx, []accordwatch.Item{it}) // Add's error names the item
	}
	if old, ok := l.where[it.ID]; ok {
		l.months[old] = slices.DeleteFunc(l.months[old], func(o accordwatch.Item) bool { return o.ID == it.ID })
		l.held--
	}
	name := partitionName(indexedTime(it))
	l.months[name] = append(l.months[name], it)
	l.where[it.ID] = name
	l.held++
	if len(l.months[name]) >= l.batch {
		return l.write(ctx, []string{name})
	}
	if l.held < l.most {
		return nil
	}
	// The fullest months, written in one Add so that they are written
	// in parallel.
	names := slices.SortedFunc(maps.Keys(l.months), func(a, b string) int {
		return len(l.months[b]) - len(l.months[a])
	})
	n, left := 0, l.held
	for left > l.most/2 {
		left -= len(l.months[names[n]])
		n++
	}
	return l.write(ctx, names[:n])
}

// Flush writes every item still held.
func (l *Loader) Flush(ctx context.Context) error {
	return l.write(ctx, slices.Collect(maps.Keys(l.months)))
}

func (l *Loader) write(ctx context.Context, names []string) error {
	var items []accordwatch.Item
	for _, name := range names {
		items = append(items, l.months[name]...)
	}
	if len(items) == 0 {
		return nil
	}
	if err := l.ix.Add(ctx, items); err != nil {
		return err
	}
	for _, name := range names {
		for _, it := range l.months[name] {
			delete(l.where, it.ID)
		}
		l.held -= len(l.months[name])
		delete(l.months, name)
	}
	return nil
}
