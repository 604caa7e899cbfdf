package monitor

import (
	"container/heap"
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// entry is one feed in a dispatcher.
type entry struct {
	feed accordwatch.Feed
	host string
	next time.Time
	// seq orders entries due at the same time and is RunOnce's report slot.
	seq   int
	index int // position in the heap
}

// newEntry makes a dispatcher entry; movedTo is the feed's state's.
func (p *Pipeline) newEntry(f accordwatch.Feed, movedTo string, next time.Time, seq int) *entry {
	return &entry{feed: f, host: hostOf(f.URL, movedTo), next: next, seq: seq}
}

// hostOf is the key of the per-host cap: the host the feed's requests go
// to (its new home after a permanent redirect), or "(local)" for files,
// which share one disk.
func hostOf(raw, movedTo string) string {
	if movedTo != "" {
		raw = movedTo
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "(local)"
	}
	return strings.ToLower(u.Host)
}

// entryHeap is a min-heap of entries by next check.
type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if h[i].next.Equal(h[j].next) {
		return h[i].seq < h[j].seq
	}
	return h[i].next.Before(h[j].next)
}
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// event is a poll telling the dispatcher how far it got. A poll sends
// hostFree after its fetch, slotFree once its items are handed to the
// writer (or it finished), and done with its report at the very end.
type event struct {
	e                        *entry
	hostFree, slotFree, done bool
	rep                      FeedReport
}

// dispatcher hands due feeds to a bounded set of pollers: one timer for
// the earliest next check, at most Concurrency polls holding a worker
// slot and PerHost fetches per host (Pipeline.hosts, shared with article
// fetches), and a feed is never dispatched while
// its previous poll runs (it is out of the heap until done). Parsed items
// funnel into one writer.
type dispatcher struct {
	p       *Pipeline
	queue   entryHeap
	ready   []*entry // due, waiting for a slot; in due order
	workers int
	running int
	events  chan event
	w       *writer
	// lease, when set, shares the feeds with other replicas (lease.go).
	lease *leasing
	// skip reports an entry run leaves without polling it (a one-off
	// pass's feed that a replica polls); set by run.
	skip func(*entry, FeedReport)
}

func newDispatcher(p *Pipeline, onAlerts func()) *dispatcher {
	return &dispatcher{
		p:      p,
		events: make(chan event),
		w:      newWriter(p, onAlerts),
	}
}

// run dispatches entries until stop is closed or ctx is done — or, when
// reschedule is false, until every entry ran once. onDone gets each
// finished poll's report (on the dispatcher's goroutine). run returns
// when no poll is left running and the writer has stopped.
func (d *dispatcher) run(ctx context.Context, stop <-chan struct{}, entries []*entry, reschedule bool, onDone func(*entry, FeedReport)) {
	for _, e := range entries {
		heap.Push(&d.queue, e)
	}
	d.skip = func(e *entry, rep FeedReport) {
		if onDone != nil {
			onDone(e, rep)
		}
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		d.w.run(ctx)
	}()
	defer func() {
		close(d.w.in)
		<-writerDone
		// Articles that missed their poll's wait are committed before the
		// pass ends, so the outbox drain after it sees their tags.
		d.p.late.Wait()
	}()

	var renewals <-chan time.Time
	if d.lease != nil {
		// Releases still in flight finish before run returns.
		defer d.lease.bg.Wait()
		tick := time.NewTicker(d.lease.period / 3)
		defer tick.Stop()
		renewals = tick.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	done := ctx.Done()
	stopping := false
	for {
		var wake <-chan time.Time
		if !stopping {
			now := d.p.o.Now()
			for len(d.queue) > 0 && !d.queue[0].next.After(now) {
				d.ready = append(d.ready, heap.Pop(&d.queue).(*entry))
			}
			d.start(ctx)
			if len(d.queue) > 0 {
				timer.Reset(d.queue[0].next.Sub(now))
				wake = timer.C
			}
		}
		idle := stopping || (!reschedule && len(d.queue) == 0 && len(d.ready) == 0)
		if idle && d.running == 0 {
			return
		}
		select {
		case ev := <-d.events:
			if ev.hostFree {
				d.p.hosts.release(ev.e.host)
			}
			if ev.slotFree {
				d.workers--
			}
			if ev.done {
				d.running--
				if d.lease != nil {
					d.released(ctx, ev.e, ev.rep.NextCheckAt)
				}
				if onDone != nil {
					onDone(ev.e, ev.rep)
				}
				if reschedule && !stopping {
					ev.e.next = ev.rep.NextCheckAt
					ev.e.host = hostOf(ev.e.feed.URL, ev.rep.MovedTo)
					heap.Push(&d.queue, ev.e)
				}
			}
		case <-wake:
		case <-renewals:
			d.renew(ctx)
		case <-stop:
			stopping, stop = true, nil
		case <-done:
			stopping, done = true, nil
		}
		timer.Stop()
	}
}

// start dispatches ready entries while worker slots are free, skipping
// (not blocking on) feeds whose host is at its cap. When feeds are shared
// with other replicas, only those whose lease it gets are polled; the
// slots of those it did not get go to the ready feeds behind them at
// once — nothing else would wake the dispatcher for them before the next
// renewal.
func (d *dispatcher) start(ctx context.Context) {
	for d.startSome(ctx) && len(d.ready) > 0 {
	}
}

// startSome is one round of start; it reports whether a lease was
// refused, freeing slots that ready feeds may use.
func (d *dispatcher) startSome(ctx context.Context) (refused bool) {
	kept := d.ready[:0]
	var picked []*entry
	for i, e := range d.ready {
		if d.workers+len(picked) >= d.p.o.Concurrency {
			kept = append(kept, d.ready[i:]...)
			break
		}
		// The slot is shared with article fetches (hostSlots).
		if !d.p.hosts.tryAcquire(e.host) {
			kept = append(kept, e)
			continue
		}
		picked = append(picked, e)
	}
	clear(d.ready[len(kept):])
	d.ready = kept
	if d.lease != nil {
		n := len(picked)
		picked = d.claim(ctx, picked)
		refused = len(picked) < n
	}
	for _, e := range picked {
		d.workers++
		d.running++
		go d.poll(ctx, e)
	}
	return refused
}

// poll runs one feed: fetch and prepare here, commit on the writer when
// there are new items, finish wherever the attempt ends. Every path sends
// hostFree, slotFree and done exactly once, panics included.
func (d *dispatcher) poll(ctx context.Context, e *entry) {
	hostHeld, slotHeld, handedOff := true, true, false
	defer func() {
		if r := recover(); r != nil {
			d.p.o.Logger.Error("panic while polling feed", "feed_url", accordwatch.RedactURL(e.feed.URL), "panic", r)
		}
		if handedOff {
			if slotHeld {
				d.events <- event{e: e, slotFree: true}
			}
			return
		}
		if hostHeld || slotHeld {
			d.events <- event{e: e, hostFree: hostHeld, slotFree: slotHeld, done: true,
				rep: FeedReport{Feed: e.feed, Err: errInternal, NextCheckAt: d.p.o.Now().UTC().Add(d.p.lim.maxBackoff)}}
		}
	}()
	a := d.p.fetch(ctx, e.feed)
	d.events <- event{e: e, hostFree: true}
	hostHeld = false
	d.p.prepare(ctx, a)
	if len(a.todo) > 0 && a.procErr == nil {
		a.done = func(rep FeedReport) { d.events <- event{e: e, done: true, rep: rep} }
		d.w.in <- a
		handedOff = true
		d.events <- event{e: e, slotFree: true}
		slotHeld = false
		return
	}
	rep := d.p.safeFinish(ctx, a)
	slotHeld = false
	d.events <- event{e: e, slotFree: true, done: true, rep: rep}
}

// errInternal is a poll's error when it panicked outside the guarded
// stages (which report the panic value themselves).
var errInternal = errors.New("internal error while polling; see the log")
