package monitor

import (
	"context"
	"time"
)

// writer is the single goroutine that indexes and commits. Fetch workers
// hand it the classified new items of each feed; it groups them — up to
// GroupItems items, or GroupWait after the first — into one bleve batch
// and one store transaction, because each of those fsyncs and a thousand
// feeds committing one by one would spend the round waiting on the disk.
type writer struct {
	p        *Pipeline
	in       chan *attempt
	onAlerts func()
}

func newWriter(p *Pipeline, onAlerts func()) *writer {
	// The buffer lets a worker hand off and fetch the next feed while a
	// group commits; it is small so parsed items cannot pile up in memory.
	return &writer{p: p, in: make(chan *attempt, p.o.Concurrency), onAlerts: onAlerts}
}

// run commits groups until in is closed. ctx is the polls' context.
func (w *writer) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		a, ok := <-w.in
		if !ok {
			return
		}
		group, n := []*attempt{a}, len(a.todo)
		timer.Reset(w.p.o.GroupWait)
	collect:
		for n < w.p.o.GroupItems {
			select {
			case a, ok := <-w.in:
				if !ok {
					w.flush(ctx, group)
					return
				}
				group = append(group, a)
				n += len(a.todo)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		w.flush(ctx, group)
	}
}

func (w *writer) flush(ctx context.Context, group []*attempt) {
	added := w.p.commitGroup(ctx, group)
	for _, a := range group {
		a.done(w.p.safeFinish(ctx, a))
	}
	if added > 0 && w.onAlerts != nil {
		w.onAlerts()
	}
}
