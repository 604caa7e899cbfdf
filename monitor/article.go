package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
)

// ArticleFetcher fetches the web page behind an item's link and returns
// the article in it as plain text (feeds.Fetcher.Article). An error means
// the item keeps its feed text; its message, or its Reason() when it has
// one, is recorded on the item. Errors never count against the feed's
// health. It must be safe for concurrent use.
type ArticleFetcher interface {
	Article(ctx context.Context, feed accordwatch.Feed, link string) (string, error)
}

// HostLeaser shares the per-host cap with the other replicas of one
// database for article fetches (feed fetches share it through their
// leases, see FeedLeaser): an article fetch holds a slot on its host,
// counted together with the feed leases on that host, for its duration.
// It must be safe for concurrent use. An error means no slot was taken;
// a slot not released expires at until.
type HostLeaser interface {
	// TryHost takes a slot on host until until if the cap leaves one
	// free as of now; ok is false when it does not. mine is how many
	// requests this process has on host by its own count (hostSlots, the
	// asking fetch included); TryHost calls it while no claim of a feed
	// lease or slot can run, and counts it instead of this process's own
	// leases and slots.
	TryHost(ctx context.Context, host string, mine func() int, now, until time.Time) (slot int64, ok bool, err error)
	// ReleaseHost gives back a slot TryHost took.
	ReleaseHost(ctx context.Context, slot int64) error
}

// Article defaults.
const (
	defaultArticleThreshold = 600
	defaultArticleWait      = 15 * time.Second
	defaultArticleClaim     = 5 * time.Minute
	defaultArticleMaxAge    = 24 * time.Hour
	defaultHostSlotPeriod   = 2 * time.Minute
)

// articleFetch is one item's article fetch. Its goroutine writes text,
// reason and retry, then closes done; nobody reads them before done is
// closed.
type articleFetch struct {
	itemID string
	done   chan struct{}
	text   string
	reason string // why the article is not used; "" when text is
	// retry says the fetch did not finish for a reason that is not the
	// page's (a shutdown, no host slot in time, the database): the item
	// stays pending and is fetched again (resume.go).
	retry bool
}

// applyTo puts the fetch's outcome on it: the article, or the reason
// there is none.
func (f *articleFetch) applyTo(it *accordwatch.Item) {
	if f.reason != "" {
		it.Article, it.ArticleError = "", f.reason
		return
	}
	it.Article, it.ArticleError = f.text, ""
}

// lateArticles are the fetches of one poll still running when
// ArticleWait ran out. Their items are committed without the article and
// marked pending in the same transaction (commitAll); once the poll's
// commit succeeded they are applied by applyLate, and cancel stops them
// when it did not. ResumeArticles builds them too, from pending marks.
type lateArticles struct {
	feed    accordwatch.Feed
	fetches []*articleFetch
	cancel  context.CancelFunc
}

// lateReason is the item's ArticleError while its article is still on
// its way; applyLate replaces it with the article or the final reason.
func lateReason(wait time.Duration) string {
	return fmt.Sprintf("article not ready after %s; the item is updated when it arrives", wait)
}

// articles fetches the articles of a poll's new items (changes[i] ==
// store.New) that need one, at most PerHost at a time per host (shared
// with feed fetches, see hostSlots), and waits for them up to
// ArticleWait: an alert about the item then usually carries the tags of
// the whole story. The fetches still running then are returned, not
// stopped: the items go on without their article (its reason says it is
// coming) and applyLate adds it after the commit. An item whose article
// cannot be used keeps its feed text with the reason in ArticleError; its
// page is never fetched again (the item is stored either way).
func (p *Pipeline) articles(ctx context.Context, feed accordwatch.Feed, items []accordwatch.Item, changes []store.Change) *lateArticles {
	if p.o.Articles == nil {
		return nil
	}
	mode := feed.ArticleMode()
	// Each fetch is bounded by the fetcher's own timeout, not by the
	// wait: a page that arrives late still completes the story.
	fctx, cancel := context.WithCancel(ctx)
	var fetches []*articleFetch
	var owners []*accordwatch.Item
	for i := range items {
		it := &items[i]
		switch {
		case changes[i] != store.New || mode == accordwatch.ArticleNever:
			continue
		case mode == accordwatch.ArticleAuto && utf8.RuneCountInString(it.Text) >= p.o.ArticleThreshold:
			continue
		case it.Link == "":
			// The feed's link was missing or not http(s) (javascript:,
			// file:, ...): the normaliser keeps only web links.
			it.ArticleError = "no http or https link to fetch the article from"
			continue
		}
		f := &articleFetch{itemID: it.ID, done: make(chan struct{})}
		fetches, owners = append(fetches, f), append(owners, it)
		link, feedText := it.Link, it.Text
		p.late.Add(1)
		go func() {
			defer p.late.Done()
			defer close(f.done)
			f.text, f.reason, f.retry = p.article(fctx, feed, link, f.itemID, feedText)
		}()
	}
	if len(fetches) == 0 {
		cancel()
		return nil
	}
	timer := time.NewTimer(p.o.ArticleWait)
	defer timer.Stop()
	expired := false
	var late []*articleFetch
	for i, f := range fetches {
		if !expired {
			select {
			case <-f.done:
			case <-timer.C:
				expired = true
			case <-ctx.Done():
				expired = true
			}
		}
		select {
		case <-f.done:
			if !f.retry {
				f.applyTo(owners[i])
				continue
			}
		default:
		}
		// Still running, or cut short (a shutdown): committed pending.
		owners[i].ArticleError = lateReason(p.o.ArticleWait)
		late = append(late, f)
	}
	if len(late) == 0 {
		cancel()
		return nil
	}
	return &lateArticles{feed: feed, fetches: late, cancel: cancel}
}

// article fetches one item's article under the per-host cap — this
// process's, and with HostSlots every replica's — and returns its text,
// or the reason it is not used, or retry when it did not finish for a
// reason that is not the page's: ctx ended, or no slot came in time.
//
// The whole of it is bounded well inside ArticleClaim, so nobody resumes
// the item while this fetch may still apply it; and the request inside
// HostSlotPeriod, so it never outlives its shared slot. Those bounds are
// timeouts like the fetcher's own: final, not retried.
func (p *Pipeline) article(ctx context.Context, feed accordwatch.Feed, link, itemID, feedText string) (text, reason string, retry bool) {
	log := p.o.Logger.With("feed_url", accordwatch.RedactURL(feed.URL), "item_id", itemID)
	host := hostOf(link, "")
	bctx, cancel := context.WithTimeout(ctx, p.o.ArticleClaim*4/5)
	defer cancel()
	if err := p.hosts.acquire(bctx, host); err != nil {
		log.Debug("article not fetched yet: no free slot", "host", host, "err", err)
		return "", "", true
	}
	defer p.hosts.release(host)
	if p.o.HostSlots != nil {
		release, err := p.sharedSlot(bctx, host)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("article not fetched yet: no slot on its host across replicas", "host", host, "err", err)
			}
			return "", "", true
		}
		defer release()
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeout(bctx, p.o.HostSlotPeriod*4/5)
		defer cancel()
	}
	text, err := p.o.Articles.Article(bctx, feed, link)
	if err != nil {
		if ctx.Err() != nil {
			log.Debug("article fetch interrupted; the item stays pending", "err", err)
			return "", "", true
		}
		reason = articleReason(err)
		log.Debug("article not used", "reason", reason)
		return "", reason, false
	}
	if utf8.RuneCountInString(text) <= utf8.RuneCountInString(feedText) {
		// The feed already says as much: a teaser page, or a feed that
		// carries the whole story after all.
		return "", "article not used: no longer than the feed's text", false
	}
	return text, "", false
}

// sharedSlot waits for a slot on host under the cap shared with the
// other replicas (HostSlots) and returns its release. Asking again every
// few hundred milliseconds is cheap next to a page fetch, and a host at
// its cap frees a slot within seconds.
func (p *Pipeline) sharedSlot(ctx context.Context, host string) (release func(), err error) {
	wait := 50 * time.Millisecond
	for {
		now := p.o.Now()
		cctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
		slot, ok, err := p.o.HostSlots.TryHost(cctx, host, func() int { return p.hosts.inUse(host) }, now, now.Add(p.o.HostSlotPeriod))
		cancel()
		if err != nil {
			return nil, err
		}
		if ok {
			return func() {
				// Released after a shutdown too: the sooner the slot is
				// free, the sooner another replica uses it.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseCallTimeout)
				defer cancel()
				if err := p.o.HostSlots.ReleaseHost(rctx, slot); err != nil {
					p.o.Logger.Warn("host slot not released; it expires on its own", "host", host, "err", err)
				}
			}, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// followLate hands an attempt's late articles to applyLate once its items
// are committed; when they were not (a failed commit, a shutdown), the
// fetches are stopped: the items are new again on the next poll.
func (p *Pipeline) followLate(ctx context.Context, a *attempt) {
	la := a.late
	if la == nil {
		return
	}
	a.late = nil
	if a.err != nil || a.procErr != nil || ctx.Err() != nil {
		la.cancel()
		return
	}
	p.late.Add(1)
	go func() {
		defer p.late.Done()
		defer la.cancel()
		p.applyLate(ctx, la)
	}()
}

// applyLate waits for the late fetches, puts each article (or the final
// reason) on its stored item, re-tags and commits those items as edits —
// an edit never posts about an incident a channel already heard of, see
// plan — clearing their pending marks in the same transaction, and then
// updates in place the incident messages already posted about items whose
// tags changed (chat.update), so the story's full tags reach Slack without
// a second message. A fetch to retry, or a shutdown, leaves its mark.
func (p *Pipeline) applyLate(ctx context.Context, la *lateArticles) {
	var items []accordwatch.Item
	var before []accordwatch.Tags
	var done []string
	for _, f := range la.fetches {
		select {
		case <-f.done:
		case <-ctx.Done():
			return
		}
		if f.retry {
			continue
		}
		it, ok, err := p.o.Store.Item(f.itemID)
		if err != nil {
			p.o.Logger.Warn("late article not applied: reading the item failed", "item_id", f.itemID, "err", err)
			continue
		}
		if !ok || it.Article != "" {
			done = append(done, f.itemID)
			continue
		}
		old := it.Tags
		f.applyTo(&it)
		if it.Article != "" {
			it.Tags = p.classify(it)
		}
		items, before = append(items, it), append(before, old)
	}
	if len(items) == 0 {
		if len(done) > 0 {
			if _, err := p.o.Store.CommitBatch(store.Batch{ArticlesDone: done}); err != nil {
				p.o.Logger.Warn("pending article marks not cleared; they are looked at again later", "items", len(done), "err", err)
			}
		}
		return
	}
	edit := &attempt{feed: la.feed, todo: items, changed: make([]bool, len(items)), articlesDone: done}
	for i := range edit.changed {
		edit.changed[i] = true
	}
	for _, it := range items {
		edit.articlesDone = append(edit.articlesDone, it.ID)
	}
	p.commitGroup(ctx, []*attempt{edit}) // logs its own failure
	if edit.procErr != nil {
		return
	}
	var incidents []string
	for i, it := range items {
		if tagKey(before[i]) == tagKey(it.Tags) {
			continue
		}
		id := it.ID
		if m, ok, err := p.o.Store.MemberOf(it.ID); err == nil && ok {
			id = m.IncidentID
		}
		if !slices.Contains(incidents, id) {
			incidents = append(incidents, id)
		}
	}
	p.refreshMessages(ctx, incidents)
}

// tagKey is what a reader sees of an item's tags, to tell whether a late
// article changed them (evidence offsets alone do not count).
func tagKey(t accordwatch.Tags) string {
	ps := make([]string, len(t.Principles))
	for i, p := range t.Principles {
		ps[i] = string(p)
	}
	return fmt.Sprint(t.Signatories, t.Companies, t.StateLinked, t.States, t.Actors, t.AttackTypes, ps, t.Severity)
}

// refreshMessages updates in place each incident message already posted
// about these incidents, on every rule's channel (a deferred update is
// retried by later drains, see updateParent). It holds drainMu, so a
// message being posted right now is updated after its post.
func (p *Pipeline) refreshMessages(ctx context.Context, incidents []string) {
	if _, ok := p.o.Notifier.(ParentUpdater); !ok || len(incidents) == 0 {
		return
	}
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	now := p.o.Now().UTC()
	var channels []string
	for _, r := range p.o.Rules {
		for _, ch := range p.dest(r.Channel).Aliases {
			if !slices.Contains(channels, ch) {
				channels = append(channels, ch)
			}
		}
	}
	refs := map[string]bool{}
	for _, id := range incidents {
		for _, ch := range channels {
			th, ok, err := p.o.Store.Thread(ch, id)
			if err != nil {
				p.o.Logger.Warn("incident message not updated: reading its thread failed", "incident_id", id, "err", err)
				continue
			}
			if !ok || th.Ref == "" || refs[th.Ref] {
				continue
			}
			refs[th.Ref] = true
			log := p.o.Logger.With(append(channelAttrs(p.dest(ch)), "incident_id", id)...)
			p.updateParent(ctx, log, parentUpdate{channel: ch, incidentID: id, ref: th.Ref}, now)
		}
	}
}

// articleReason is an article error in words: a feed fetch error's
// reason, which never quotes the URL.
func articleReason(err error) string {
	var r interface{ Reason() string }
	if errors.As(err, &r) {
		return r.Reason()
	}
	return err.Error()
}

// keepArticles copies the stored article and its reason onto changed
// items, whose feed text was edited: their page is not fetched again.
func (p *Pipeline) keepArticles(items []accordwatch.Item, changes []store.Change) error {
	for i := range items {
		if changes[i] != store.Changed {
			continue
		}
		old, ok, err := p.o.Store.Item(items[i].ID)
		if err != nil {
			return err
		}
		if ok {
			items[i].Article, items[i].ArticleError = old.Article, old.ArticleError
		}
	}
	return nil
}

// classify tags an item on its title and FullText; evidence found in the
// article says so (Field "article", Offset within the Article).
func (p *Pipeline) classify(it accordwatch.Item) accordwatch.Tags {
	tags := p.o.Classifier.Classify(it.Title, it.FullText(), it.Published)
	if it.Article == "" {
		return tags
	}
	start := len(it.Text) + len(accordwatch.ArticleSeparator)
	for i, ev := range tags.Evidence {
		if ev.Field == "text" && ev.Offset >= start {
			tags.Evidence[i].Field = "article"
			tags.Evidence[i].Offset -= start
		}
	}
	return tags
}

// hostSlots caps concurrent requests per host across feed fetches (the
// dispatcher takes a slot without waiting, and skips a feed whose host is
// full) and article fetches (which wait for a slot). Publishers see one
// budget whatever we fetch from them. Safe for concurrent use.
type hostSlots struct {
	mu    sync.Mutex
	cap   int
	n     map[string]int
	freed chan struct{} // closed and replaced on every release
}

func newHostSlots(perHost int) *hostSlots {
	return &hostSlots{cap: perHost, n: map[string]int{}, freed: make(chan struct{})}
}

// tryAcquire takes a slot on host if one is free.
func (h *hostSlots) tryAcquire(host string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[host] >= h.cap {
		return false
	}
	h.n[host]++
	return true
}

// acquire waits for a slot on host until ctx is done.
func (h *hostSlots) acquire(ctx context.Context, host string) error {
	for {
		h.mu.Lock()
		if h.n[host] < h.cap {
			h.n[host]++
			h.mu.Unlock()
			return nil
		}
		freed := h.freed
		h.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives back a slot on host.
func (h *hostSlots) release(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[host]--; h.n[host] <= 0 {
		delete(h.n, host)
	}
	close(h.freed)
	h.freed = make(chan struct{})
}

// inUse is how many slots on host are taken.
func (h *hostSlots) inUse(host string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[host]
}
