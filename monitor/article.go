package monitor

import (
	"context"
	"errors"
	"fmt"
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

// Article defaults.
const (
	defaultArticleThreshold = 600
	defaultArticleWait      = 15 * time.Second
)

// articles fetches the articles of a poll's new items (changes[i] ==
// store.New) that need one, at
// most PerHost at a time per host (shared with feed fetches, see
// hostSlots), all within ArticleWait. An item whose article cannot be
// used keeps its feed text with the reason in ArticleError; its page is
// never fetched again (the item is stored either way).
func (p *Pipeline) articles(ctx context.Context, feed accordwatch.Feed, items []accordwatch.Item, changes []store.Change) {
	if p.o.Articles == nil {
		return
	}
	mode := feed.ArticleMode()
	ctx, cancel := context.WithTimeout(ctx, p.o.ArticleWait)
	defer cancel()
	var wg sync.WaitGroup
	for i := range items {
		it := &items[i]
		switch {
		case changes[i] != store.New || mode == accordwatch.ArticleNever:
			continue
		case mode == accordwatch.ArticleAuto && utf8.RuneCountInString(it.Text) >= p.o.ArticleThreshold:
			continue
		case it.Link == "":
			it.ArticleError = "no link to fetch the article from"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.article(ctx, feed, it)
		}()
	}
	wg.Wait()
}

// article fetches one item's article under the per-host cap.
func (p *Pipeline) article(ctx context.Context, feed accordwatch.Feed, it *accordwatch.Item) {
	host := hostOf(it.Link, "")
	if err := p.hosts.acquire(ctx, host); err != nil {
		it.ArticleError = fmt.Sprintf("article not fetched: waited %s for a slot on %s", p.o.ArticleWait, host)
		return
	}
	defer p.hosts.release(host)
	text, err := p.o.Articles.Article(ctx, feed, it.Link)
	if err != nil {
		it.ArticleError = articleReason(err)
		p.o.Logger.Debug("article not used", "feed_url", accordwatch.RedactURL(feed.URL), "item_id", it.ID, "reason", it.ArticleError)
		return
	}
	if utf8.RuneCountInString(text) <= utf8.RuneCountInString(it.Text) {
		// The feed already says as much: a teaser page, or a feed that
		// carries the whole story after all.
		it.ArticleError = "article not used: no longer than the feed's text"
		return
	}
	it.Article = text
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

// inUse is how many slots on host are taken (tests).
func (h *hostSlots) inUse(host string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[host]
}
