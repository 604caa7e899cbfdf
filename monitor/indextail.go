package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/accordwatch/accordwatch"
)

// ItemChanges is a store that numbers every change of an item in one
// increasing sequence, whose numbers become visible in order. ChangesSince
// returns up to limit items changed after number after, in change order,
// and the number of the last one (after when none). It must be safe for
// concurrent use.
type ItemChanges interface {
	ChangesSince(ctx context.Context, after int64, limit int) (items []accordwatch.Item, last int64, err error)
}

// TailOptions wire an IndexTail. Zero values take the defaults.
type TailOptions struct {
	Changes ItemChanges
	Index   Index
	// From is the last change already in the index (see Save).
	From int64
	// Save records how far the index got, so a restart resumes there; nil
	// = not recorded. A failed save is logged: the next start re-adds
	// some items, which Index.Add replaces by ID.
	Save func(last int64) error
	// CatchUp is how often it looks for changes without being woken, in
	// case a wake-up was lost; default 30s.
	CatchUp time.Duration
	// Batch is how many items one read and one Add carry; default 1000.
	Batch  int
	Logger *slog.Logger
}

// IndexTail keeps a replica's local index up with the items every
// replica writes to the shared store: it reads the changes after the last
// one it indexed whenever Wake is called (on a NOTIFY) and every CatchUp,
// and adds them to the index. Items this replica wrote itself come round
// again and are added a second time, which replaces them; that costs
// less than telling them apart.
type IndexTail struct {
	o    TailOptions
	last atomic.Int64
	wake chan struct{}
}

// NewIndexTail checks the wiring and returns a tail starting after
// o.From.
func NewIndexTail(o TailOptions) (*IndexTail, error) {
	if o.Changes == nil || o.Index == nil {
		return nil, errors.New("monitor: an index tail needs the store's changes and an index")
	}
	if o.CatchUp <= 0 {
		o.CatchUp = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	t := &IndexTail{o: o, wake: make(chan struct{}, 1)}
	t.last.Store(o.From)
	return t, nil
}

// Wake makes the tail look for changes now. It never blocks; wakes
// while the tail is busy fold into one.
func (t *IndexTail) Wake() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Run indexes changes until ctx is done: first everything after From
// (the catch-up of a replica that was down, with progress logged), then
// whatever each wake or tick finds. A failed read or Add is logged and
// retried at the next wake or tick; the tail never skips a change.
func (t *IndexTail) Run(ctx context.Context) {
	tick := time.NewTicker(t.o.CatchUp)
	defer tick.Stop()
	for {
		if _, err := t.CatchUp(ctx); err != nil && ctx.Err() == nil {
			t.o.Logger.Warn("index not caught up with the database; retrying", "after_change", t.last.Load(), "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		case <-tick.C:
		}
	}
}

// CatchUp indexes every change after the last one indexed and returns
// how many items it added. Run calls it; it is exported for commands that
// want the index current once, and for tests. Not safe for concurrent
// calls.
func (t *IndexTail) CatchUp(ctx context.Context) (int, error) {
	n := 0
	start := time.Now()
	for {
		items, last, err := t.o.Changes.ChangesSince(ctx, t.last.Load(), t.o.Batch)
		if err != nil {
			return n, err
		}
		if len(items) == 0 {
			break
		}
		if err := t.o.Index.Add(ctx, items); err != nil {
			return n, fmt.Errorf("index changes %d to %d: %w", t.last.Load()+1, last, err)
		}
		t.last.Store(last)
		n += len(items)
		if t.o.Save != nil {
			if err := t.o.Save(last); err != nil {
				t.o.Logger.Warn("index position not saved; a restart re-adds some items", "change", last, "err", err)
			}
		}
		if len(items) < t.o.Batch {
			break
		}
		// A full batch means a backlog: a new replica, or one that was down.
		t.o.Logger.Info("index catching up with the database", "items", n, "change", last)
	}
	if n >= t.o.Batch {
		t.o.Logger.Info("index caught up with the database", "items", n, "change", t.last.Load(), "took", time.Since(start).Round(time.Millisecond))
	}
	return n, nil
}

// Last is the number of the last change indexed.
func (t *IndexTail) Last() int64 { return t.last.Load() }
