package index

import (
	"context"
	"maps"
	"slices"

	"github.com/accordwatch/accordwatch"
)

// Loader limits: a month is written once loaderBatch of its items, or
// loaderMonthBytes of their text, are held; when loaderHeld bytes of text
// are held in all, the fullest months are written until half remain.
// Text is counted because items with fetched articles are ten times the
// size of those without.
const (
	loaderBatch      = 5000
	loaderMonthBytes = 24 << 20
	loaderHeld       = 96 << 20
)

// heldSize is what an item counts against the Loader's bounds: its text
// and a guess at the rest.
func heldSize(it accordwatch.Item) int {
	return len(it.Title) + len(it.Text) + len(it.Article) + 512
}

// Loader adds many items — a rebuild from the store — in large batches of
// one month each. The store hands items over in id order, which is no
// order of months: Add with 10,000 of them wrote batches of about 280 a
// month, and bleve's cost per batch (a segment built, then merged again
// and again) made indexing a third slower than batches of thousands. The
// Loader holds items back by month instead, up to a bound (about 100 MB
// of text), and Flush writes what is left.
type Loader struct {
	ix     *Index
	months map[string][]accordwatch.Item
	bytes  map[string]int    // heldSize of each month's items
	where  map[string]string // month of each held item, by id
	held   int               // heldSize of all
	// written counts the items written so far; an item added again
	// after it was written counts twice.
	written int
	// The limits, smaller in tests.
	batch, monthBytes, most int
}

// NewLoader returns a Loader that adds to ix. It is not safe for
// concurrent use; Add calls made meanwhile by others are safe.
func (ix *Index) NewLoader() *Loader {
	return &Loader{ix: ix, months: make(map[string][]accordwatch.Item), bytes: make(map[string]int),
		where: make(map[string]string), batch: loaderBatch, monthBytes: loaderMonthBytes, most: loaderHeld}
}

// Add queues it, writing a batch when a month or the Loader is full. An
// item added twice is written as it was added last, as with Index.Add.
func (l *Loader) Add(ctx context.Context, it accordwatch.Item) error {
	if it.ID == "" {
		return l.ix.Add(ctx, []accordwatch.Item{it}) // Add's error names the item
	}
	if old, ok := l.where[it.ID]; ok {
		l.months[old] = slices.DeleteFunc(l.months[old], func(o accordwatch.Item) bool {
			if o.ID == it.ID {
				l.bytes[old] -= heldSize(o)
				l.held -= heldSize(o)
				return true
			}
			return false
		})
	}
	name := partitionName(indexedTime(it))
	l.months[name] = append(l.months[name], it)
	l.where[it.ID] = name
	l.bytes[name] += heldSize(it)
	l.held += heldSize(it)
	if len(l.months[name]) >= l.batch || l.bytes[name] >= l.monthBytes {
		return l.write(ctx, []string{name})
	}
	if l.held < l.most {
		return nil
	}
	// The fullest months, written in one Add so that they are written
	// in parallel.
	names := slices.SortedFunc(maps.Keys(l.months), func(a, b string) int {
		return l.bytes[b] - l.bytes[a]
	})
	n, left := 0, l.held
	for left > l.most/2 {
		left -= l.bytes[names[n]]
		n++
	}
	return l.write(ctx, names[:n])
}

// Written is how many items the Loader has written to the index so far:
// progress to report, where the count of items added includes those held.
func (l *Loader) Written() int { return l.written }

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
	l.written += len(items)
	for _, name := range names {
		for _, it := range l.months[name] {
			delete(l.where, it.ID)
		}
		l.held -= l.bytes[name]
		delete(l.months, name)
		delete(l.bytes, name)
	}
	return nil
}
