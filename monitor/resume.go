package monitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/accordwatch/accordwatch"
)

// A resume claims pending articles resumeBatch at a time and at most
// resumeMax per call, so a start after a long outage neither floods the
// publishers nor holds claims it cannot finish within ArticleClaim; the
// rest wait for the next call.
const (
	resumeBatch = 64
	resumeMax   = 1024
)

// ResumeReport is what one ResumeArticles did.
type ResumeReport struct {
	// Claimed pending articles; of those, Fetched were asked for again
	// and Dropped were given up without a fetch (older than
	// ArticleMaxAge, their feed now says never, no link).
	Claimed, Fetched, Dropped int
}

// ResumeArticles fetches the articles that were still on their way when
// their items were committed (see store.Batch.ArticlesPending) and whose
// fetch never finished — the process stopped, crashed or was killed in
// between — or whose claim ran out. It claims them oldest first, in
// bounded batches, and fetches them as a poll does: the pool (at most
// Concurrency at once), the per-host caps, the fetcher's guard and
// timeouts; each article (or the final reason) is then put on its item
// and the mark cleared in one commit, and a posted incident message is
// updated, as for a late article. A mark older than ArticleMaxAge is
// dropped, with a log line and that reason on the item. list gives each
// item's feed settings (User-Agent, headers, article mode); an item whose
// feed is not in it is fetched with the defaults.
//
// On a database shared by replicas, a claim holds off the others until
// ArticleClaim has passed, so each pending article is fetched by one of
// them. Safe to call concurrently with polls.
func (p *Pipeline) ResumeArticles(ctx context.Context, list []accordwatch.Feed) (ResumeReport, error) {
	var rep ResumeReport
	if p.o.Articles == nil {
		return rep, nil
	}
	byURL := make(map[string]accordwatch.Feed, len(list))
	for _, f := range list {
		byURL[accordwatch.RedactURL(f.URL)] = f
	}
	for rep.Claimed < resumeMax {
		limit := min(resumeBatch, resumeMax-rep.Claimed)
		now := p.o.Now().UTC()
		claimed, err := p.o.Store.ClaimArticles(ctx, now, now.Add(p.o.ArticleClaim), limit)
		if err != nil {
			return rep, fmt.Errorf("resume articles: %w", err)
		}
		rep.Claimed += len(claimed)
		groups := map[string]*lateArticles{}
		var order []string
		var wg sync.WaitGroup
		sem := make(chan struct{}, p.o.Concurrency)
		for _, c := range claimed {
			it, ok, err := p.o.Store.Item(c.ItemID)
			if err != nil {
				// Its claim runs out and a later resume tries again.
				p.o.Logger.Warn("pending article not resumed: reading the item failed", "item_id", c.ItemID, "err", err)
				continue
			}
			feed, known := byURL[it.FeedURL]
			if !known {
				feed = accordwatch.Feed{URL: it.FeedURL}
			}
			f := &articleFetch{itemID: c.ItemID, done: make(chan struct{})}
			la := groups[it.FeedURL]
			if la == nil {
				la = &lateArticles{feed: feed}
				groups[it.FeedURL] = la
				order = append(order, it.FeedURL)
			}
			la.fetches = append(la.fetches, f)
			if !ok || it.Article != "" {
				// Nothing to fetch: applyLate only clears the mark.
				close(f.done)
				rep.Dropped++
				continue
			}
			if reason := p.dropReason(it, feed, c.Since, now); reason != "" {
				p.o.Logger.Info("pending article dropped", "feed_url", it.FeedURL, "item_id", it.ID,
					"pending_since", c.Since, "reason", reason)
				f.reason = reason
				close(f.done)
				rep.Dropped++
				continue
			}
			rep.Fetched++
			wg.Go(func() {
				defer close(f.done)
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					f.retry = true
					return
				}
				defer func() { <-sem }()
				f.text, f.reason, f.retry = p.article(ctx, feed, it.Link, it.ID, it.Text)
			})
		}
		for _, u := range order {
			p.applyLate(ctx, groups[u])
		}
		wg.Wait()
		if ctx.Err() != nil || len(claimed) < limit {
			break
		}
	}
	if rep.Claimed > 0 {
		p.o.Logger.Info("resumed pending articles", "claimed", rep.Claimed, "fetched", rep.Fetched, "dropped", rep.Dropped)
	}
	return rep, ctx.Err()
}

// dropReason is why a pending article is given up without a fetch, or ""
// to fetch it.
func (p *Pipeline) dropReason(it accordwatch.Item, feed accordwatch.Feed, since, now time.Time) string {
	switch {
	case now.Sub(since) > p.o.ArticleMaxAge:
		return fmt.Sprintf("article not fetched: still pending after %s", p.o.ArticleMaxAge)
	case feed.ArticleMode() == accordwatch.ArticleNever:
		return "article not fetched: the feed's article setting is now never"
	case it.Link == "":
		return "no http or https link to fetch the article from"
	}
	return ""
}
