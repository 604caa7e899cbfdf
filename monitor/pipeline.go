package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// Fetcher polls one feed. It always returns the feed's updated state,
// also on error (see feeds.Fetcher).
type Fetcher interface {
	Fetch(ctx context.Context, feed accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error)
}

// Classifier tags an item; it must be safe for concurrent use.
type Classifier interface {
	Classify(title, text string, published time.Time) accordwatch.Tags
}

// Store is the source of truth. Commit must save items and alerts
// atomically and skip alert IDs already present.
type Store interface {
	FeedState(url string) (accordwatch.FeedState, bool, error)
	SaveFeedState(accordwatch.FeedState) error
	Diff([]accordwatch.Item) ([]store.Change, error)
	Commit(items []accordwatch.Item, alerts []accordwatch.Alert) ([]accordwatch.Alert, error)
	Item(id string) (accordwatch.Item, bool, error)
	Due(now time.Time) ([]accordwatch.Alert, error)
	UpdateAlert(accordwatch.Alert) error
}

// Index is the derived search index; Add replaces documents by ID.
type Index interface {
	Add(ctx context.Context, items []accordwatch.Item) error
	Matching(ctx context.Context, query string, ids []string) ([]string, error)
}

// Notifier delivers one alert with one attempt; failures are
// *notify.SendError saying whether and when to retry.
type Notifier interface {
	Send(ctx context.Context, a accordwatch.Alert, item accordwatch.Item) (ref string, err error)
}

// Options wire a Pipeline.
type Options struct {
	Fetcher    Fetcher
	Classifier Classifier
	Store      Store
	Index      Index
	Notifier   Notifier
	Rules      []accordwatch.Rule
	// Concurrency bounds feeds fetched at once; default 8.
	Concurrency int
	// MaxRetryWait is the longest Retry-After a drain waits out in place;
	// longer ones leave the alert pending for a later drain. Default 30s.
	MaxRetryWait time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Pipeline is one fetch-to-outbox pass over feeds, plus outbox delivery.
type Pipeline struct {
	o Options
	// drainMu serialises deliveries: two drains racing over the same
	// pending alert would post it twice.
	drainMu sync.Mutex
}

// New checks the wiring and returns a Pipeline.
func New(o Options) (*Pipeline, error) {
	if o.Fetcher == nil || o.Classifier == nil || o.Store == nil || o.Index == nil || o.Notifier == nil {
		return nil, errors.New("monitor: fetcher, classifier, store, index and notifier are all required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.MaxRetryWait == 0 {
		o.MaxRetryWait = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{o: o}, nil
}

// FeedReport is what one poll of one feed did.
type FeedReport struct {
	Feed        accordwatch.Feed
	Title       string
	Fetched     int
	New         int
	Changed     int
	Alerts      int
	NotModified bool
	// Err is why the feed failed; other feeds are unaffected.
	Err error
}

// PollFeed fetches one feed and carries its new and changed items through
// classify, index and the alert rules into the store. Index, rules and
// commit run in that order and are each idempotent, so a crash before the
// commit simply redoes the work on the next poll; after it, nothing is
// redone and nothing re-alerts.
func (p *Pipeline) PollFeed(ctx context.Context, feed accordwatch.Feed) FeedReport {
	rep := FeedReport{Feed: feed}
	log := p.o.Logger.With("feed", feed.Name, "feed_url", feed.URL)
	prev, _, err := p.o.Store.FeedState(feed.URL)
	if err != nil {
		rep.Err = err
		return rep
	}
	prev.URL = feed.URL
	res, ferr := p.o.Fetcher.Fetch(ctx, feed, prev)
	res.State.URL = feed.URL
	rep.Title = res.State.Title
	if err := p.o.Store.SaveFeedState(res.State); err != nil {
		log.Error("save feed state", "err", err)
	}
	if ferr != nil {
		rep.Err = ferr
		log.Warn("feed failed", "reason", res.State.LastError, "failures", res.State.ConsecutiveFailures)
		return rep
	}
	rep.NotModified = res.NotModified
	rep.Fetched = len(res.Items)
	if len(res.Items) == 0 {
		return rep
	}
	changes, err := p.o.Store.Diff(res.Items)
	if err != nil {
		rep.Err = err
		return rep
	}
	var todo []accordwatch.Item
	for i, it := range res.Items {
		switch changes[i] {
		case store.New:
			rep.New++
		case store.Changed:
			rep.Changed++
		default:
			continue
		}
		it.Tags = p.o.Classifier.Classify(it.Title, it.Text, it.Published)
		todo = append(todo, it)
	}
	if len(todo) == 0 {
		return rep
	}
	if err := p.o.Index.Add(ctx, todo); err != nil {
		rep.Err = fmt.Errorf("index %d items: %w", len(todo), err)
		return rep
	}
	alerts, err := p.match(ctx, todo)
	if err != nil {
		rep.Err = err
		return rep
	}
	added, err := p.o.Store.Commit(todo, alerts)
	if err != nil {
		rep.Err = err
		return rep
	}
	rep.Alerts = len(added)
	log.Info("feed polled", "fetched", rep.Fetched, "new", rep.New, "changed", rep.Changed, "alerts", rep.Alerts)
	return rep
}

// match runs every rule over just these items and makes one alert per
// item and channel, naming every rule that fired: one story matching
// three rules is one message, not three. A changed item keeps its alert
// ID, which the outbox skips: edits never re-alert.
func (p *Pipeline) match(ctx context.Context, items []accordwatch.Item) ([]accordwatch.Alert, error) {
	if len(p.o.Rules) == 0 {
		return nil, nil
	}
	ids := make([]string, len(items))
	byID := make(map[string]accordwatch.Item, len(items))
	for i, it := range items {
		ids[i] = it.ID
		byID[it.ID] = it
	}
	now := p.o.Now().UTC()
	var out []accordwatch.Alert
	pos := map[string]int{} // alert ID → index in out
	for _, r := range p.o.Rules {
		hits, err := p.o.Index.Matching(ctx, r.Query, ids)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		for _, id := range hits {
			if byID[id].Tags.Severity < r.MinSeverity {
				continue
			}
			aid := AlertID(r.Channel, id)
			if i, ok := pos[aid]; ok {
				out[i].Rule += ", " + r.Name
				continue
			}
			pos[aid] = len(out)
			out = append(out, accordwatch.Alert{
				ID: aid, Rule: r.Name, Channel: r.Channel, ItemID: id,
				Created: now, Status: accordwatch.AlertPending, NextAttempt: now,
			})
		}
	}
	return out, nil
}

// AlertID is stable for a destination channel ("" = the default) and an
// item.
func AlertID(channel, itemID string) string {
	h := sha256.Sum256([]byte(channel + "\x00" + itemID))
	return hex.EncodeToString(h[:12])
}

// DrainReport counts one drain's outcomes.
type DrainReport struct {
	Sent, Failed, Deferred int
}

// Drain delivers due alerts from the outbox, oldest first. An alert is
// marked sent only after the notifier accepted it. A 429 is waited out in
// place when short, otherwise the alert stays pending with its next
// attempt time; permanent errors fail the alert once, loudly, without
// retrying; transient errors back off exponentially.
func (p *Pipeline) Drain(ctx context.Context) (DrainReport, error) {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	var rep DrainReport
	due, err := p.o.Store.Due(p.o.Now())
	if err != nil {
		return rep, err
	}
	for i := 0; i < len(due); i++ {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		a := due[i]
		item, ok, err := p.o.Store.Item(a.ItemID)
		if err != nil {
			return rep, err
		}
		if !ok {
			// Cannot happen through Commit; fail it rather than retry forever.
			a.Status, a.LastError = accordwatch.AlertFailed, "item not in store"
			rep.Failed++
			if err := p.o.Store.UpdateAlert(a); err != nil {
				return rep, err
			}
			continue
		}
		ref, sendErr := p.o.Notifier.Send(ctx, a, item)
		a.Attempts++
		now := p.o.Now().UTC()
		log := p.o.Logger.With("rule", a.Rule, "item_id", a.ItemID, "alert_id", a.ID)
		var se *notify.SendError
		switch {
		case sendErr == nil:
			a.Status, a.SentAt, a.Ref, a.LastError = accordwatch.AlertSent, now, ref, ""
			rep.Sent++
		case errors.As(sendErr, &se) && se.Permanent:
			a.Status, a.LastError = accordwatch.AlertFailed, sendErr.Error()
			rep.Failed++
			log.Error("alert failed permanently; fix the Slack settings, it will not be retried", "err", sendErr)
		case errors.As(sendErr, &se) && se.RetryAfter > 0:
			a.LastError = sendErr.Error()
			if se.RetryAfter <= p.o.MaxRetryWait {
				log.Info("rate limited; waiting as asked", "retry_after", se.RetryAfter)
				if err := p.o.Store.UpdateAlert(a); err != nil {
					return rep, err
				}
				if err := sleep(ctx, se.RetryAfter); err != nil {
					return rep, err
				}
				due[i] = a
				i-- // same alert again
				continue
			}
			a.NextAttempt = now.Add(se.RetryAfter)
			rep.Deferred++
			log.Warn("rate limited; alert stays in the outbox", "retry_after", se.RetryAfter)
		default:
			a.LastError = sendErr.Error()
			a.NextAttempt = now.Add(backoff(a.Attempts))
			rep.Deferred++
			log.Warn("alert delivery failed; will retry", "err", sendErr, "next_attempt", a.NextAttempt)
		}
		if err := p.o.Store.UpdateAlert(a); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// backoff is 15s doubling per attempt, capped at one hour.
func backoff(attempts int) time.Duration {
	d := 15 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PassReport is one full pass.
type PassReport struct {
	Feeds []FeedReport
	Drain DrainReport
}

// RunOnce polls every feed (at most Concurrency at a time; one failing
// feed never stops the others) and then drains the outbox.
func (p *Pipeline) RunOnce(ctx context.Context, list []accordwatch.Feed) (PassReport, error) {
	rep := PassReport{Feeds: make([]FeedReport, len(list))}
	sem := make(chan struct{}, p.o.Concurrency)
	var wg sync.WaitGroup
	for i, f := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				rep.Feeds[i] = FeedReport{Feed: f, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			rep.Feeds[i] = p.safePoll(ctx, f)
		}()
	}
	wg.Wait()
	d, err := p.Drain(ctx)
	rep.Drain = d
	return rep, err
}

// safePoll turns a panic in one feed's processing into that feed's error.
func (p *Pipeline) safePoll(ctx context.Context, f accordwatch.Feed) (rep FeedReport) {
	defer func() {
		if r := recover(); r != nil {
			p.o.Logger.Error("panic while polling feed", "feed_url", f.URL, "panic", r)
			rep = FeedReport{Feed: f, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	return p.PollFeed(ctx, f)
}
