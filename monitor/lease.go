package monitor

import (
	"container/heap"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
)

// FeedLeaser shares the polling of feeds among replicas that use one
// database: a replica polls a feed only while it holds the feed's lease,
// so two replicas never poll one feed at once, and the per-host cap holds
// across them. It must be safe for concurrent use. A failed call changed
// nothing the caller relies on: an unreleased or unrenewed lease simply
// expires after its period, and its feed goes to whichever replica claims
// it next.
type FeedLeaser interface {
	// Claim leases at most limit of the feeds in hosts (feed URL → host
	// its requests go to) that are free and due by the shared record, as
	// of now. For each feed not claimed, retry says when to ask again.
	Claim(ctx context.Context, hosts map[string]string, limit int, now time.Time) (claimed []string, retry map[string]time.Time, err error)
	// Renew extends the caller's leases on urls and returns those it lost.
	Renew(ctx context.Context, urls []string, now time.Time) (lost []string, err error)
	// Release ends the caller's lease on url and records the feed's next
	// check, so the other replicas do not poll it before then.
	Release(ctx context.Context, url string, next time.Time) error
}

// leaseCallTimeout bounds one lease query, so a database that hangs
// delays the dispatcher by seconds, not by the store's whole timeout.
const leaseCallTimeout = 10 * time.Second

// leasing is a dispatcher's share of the feeds: leases of the polls it
// runs. Without it (bbolt, one process) every due feed is polled.
type leasing struct {
	l FeedLeaser
	// period is the lease's length: renewals go every third of it, and a
	// failed claim is retried after a tenth.
	period time.Duration
	// held are the URLs of running polls whose lease this replica holds.
	// Only the dispatcher's goroutine touches it.
	held map[string]bool
	// bg counts renewals and releases in flight.
	bg sync.WaitGroup
	// once marks a one-off pass (RunOnceShared): a feed it cannot lease
	// soon is skipped rather than waited for.
	once bool
}

// ShareFeeds makes the scheduler poll only the feeds whose lease it gets
// from l, renewing leases every third of period while polling and
// releasing each with the feed's next check. Call it before Start.
func (s *Scheduler) ShareFeeds(l FeedLeaser, period time.Duration) error {
	if l == nil || period <= 0 {
		return errors.New("monitor: sharing feeds needs a leaser and a lease period")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("monitor: scheduler already started")
	}
	s.lease = &leasing{l: l, period: period, held: map[string]bool{}}
	return nil
}

// claim asks for the leases of picked, whose host slots are held, and
// returns those it got. The others give their host slot back and go back
// into the queue until their retry time.
func (d *dispatcher) claim(ctx context.Context, picked []*entry) []*entry {
	if len(picked) == 0 {
		return nil
	}
	now := d.p.o.Now()
	hosts := make(map[string]string, len(picked))
	for _, e := range picked {
		hosts[e.feed.URL] = e.host
	}
	cctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
	claimed, retry, err := d.lease.l.Claim(cctx, hosts, len(picked), now)
	cancel()
	if err != nil && ctx.Err() == nil {
		d.p.o.Logger.Warn("could not claim feeds; trying again shortly", "feeds", len(picked), "err", err)
	}
	got := picked[:0]
	for _, e := range picked {
		if err == nil && slices.Contains(claimed, e.feed.URL) {
			d.lease.held[e.feed.URL] = true
			got = append(got, e)
			continue
		}
		d.p.hosts.release(e.host)
		next := retry[e.feed.URL]
		if !next.After(now) {
			next = now.Add(d.lease.period / 10)
		}
		if d.lease.once && next.After(now.Add(d.lease.period/10)) {
			// Polled by a replica recently, or being polled: a one-off
			// pass leaves it to them rather than waiting.
			d.skip(e, FeedReport{Feed: e.feed, Shared: true, NextCheckAt: next})
			continue
		}
		e.next = next
		heap.Push(&d.queue, e)
	}
	return got
}

// released hands a finished poll's lease back, with its next check, off
// the dispatcher's goroutine. A shutdown does not stop it: the sooner the
// lease is free, the sooner another replica polls the feed.
func (d *dispatcher) released(ctx context.Context, e *entry, next time.Time) {
	if !d.lease.held[e.feed.URL] {
		return
	}
	delete(d.lease.held, e.feed.URL)
	d.lease.bg.Go(func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseCallTimeout)
		defer cancel()
		if err := d.lease.l.Release(rctx, e.feed.URL, next); err != nil {
			d.p.o.Logger.Warn("feed lease not released; it expires on its own", "feed_url", accordwatch.RedactURL(e.feed.URL), "err", err)
		}
	})
}

// renew extends the leases of the running polls, off the dispatcher's
// goroutine. A lost lease (this replica stalled past its period) cannot
// stop a poll midway; it is logged, since another replica may be polling
// the same feed.
func (d *dispatcher) renew(ctx context.Context) {
	if len(d.lease.held) == 0 {
		return
	}
	urls := make([]string, 0, len(d.lease.held))
	for u := range d.lease.held {
		urls = append(urls, u)
	}
	now := d.p.o.Now()
	d.lease.bg.Go(func() {
		rctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
		defer cancel()
		lost, err := d.lease.l.Renew(rctx, urls, now)
		if err != nil {
			if ctx.Err() == nil {
				d.p.o.Logger.Warn("feed leases not renewed", "feeds", len(urls), "err", err)
			}
			return
		}
		for _, u := range lost {
			d.p.o.Logger.Warn("feed lease lost while polling; another replica may poll the feed too", "feed_url", accordwatch.RedactURL(u))
		}
	})
}
