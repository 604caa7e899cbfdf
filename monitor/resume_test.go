package monitor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/article"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

var _ HostLeaser = (*pgstore.Leases)(nil)

// heldSite serves feeds of summary-only items; with hold set, each page
// waits for release (or the request's end). It counts page requests
// started, pages served whole, and the most requests of any kind in
// flight at once.
type heldSite struct {
	*httptest.Server
	release        chan struct{}
	hold           bool
	pageDelay      time.Duration
	items          int
	started        atomic.Int32
	served         atomic.Int32
	inFlight, peak atomic.Int32
	mu             sync.Mutex
	perPage        map[string]int
}

func newHeldSite(t *testing.T, items int, hold bool) *heldSite {
	s := &heldSite{release: make(chan struct{}), hold: hold, items: items, perPage: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		if name, ok := strings.CutPrefix(r.URL.Path, "/feed/"); ok {
			var b strings.Builder
			b.WriteString(`<rss version="2.0"><channel><title>News</title>`)
			for i := range s.items {
				fmt.Fprintf(&b, `<item><title>Logistics firm breach %s-%d</title><link>%s/a/%s/%d</link><guid>%s-%d</guid>`+
					`<description>A logistics firm disclosed a breach.</description></item>`, name, i, s.URL, name, i, name, i)
			}
			b.WriteString(`</channel></rss>`)
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, b.String())
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/a/") {
			http.NotFound(w, r)
			return
		}
		s.started.Add(1)
		if s.hold {
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		}
		if s.pageDelay > 0 {
			time.Sleep(s.pageDelay)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, newsPage(attribution))
		s.served.Add(1)
		s.mu.Lock()
		s.perPage[r.URL.Path]++
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *heldSite) feed(name string) accordwatch.Feed {
	return accordwatch.Feed{Name: name, URL: s.URL + "/feed/" + name}
}

// waitFor polls cond for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func articleFetcher() *feeds.Fetcher {
	return feeds.New(feeds.Options{AllowPrivateNetworks: true, Timeout: 30 * time.Second, MaxBytes: 1 << 20,
		Articles: article.New(article.Options{})})
}

// lifeRig is a pipeline over a bbolt store and a bleve index in dir, as
// one life of the daemon has them.
type lifeRig struct {
	p  *Pipeline
	st *store.Store
	ix *index.Index
}

func openLifeRig(t *testing.T, dir string, o Options) *lifeRig {
	t.Helper()
	cl, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Resolve: cl.Resolve})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	f := articleFetcher()
	o.Fetcher, o.Articles, o.Classifier, o.Store, o.Index, o.Notifier = f, f, cl, st, ix, &countingNotifier{}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &lifeRig{p: p, st: st, ix: ix}
	t.Cleanup(r.close)
	return r
}

func (r *lifeRig) close() {
	r.ix.Close()
	r.st.Close()
}

// stopMidArticle polls feed with its page held and then stops, as a
// SIGTERM would, before the page arrives: the item is committed without
// its article. It returns the item's ID.
func stopMidArticle(t *testing.T, p *Pipeline, site *heldSite, feed accordwatch.Feed) string {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	rep := p.PollFeed(ctx, feed)
	if rep.Err != nil || rep.New != 1 {
		t.Fatalf("poll: got %+v, want 1 new item", rep)
	}
	waitFor(t, "the page request", func() bool { return site.started.Load() == 1 })
	stop()
	p.late.Wait()
	it, ok, err := p.o.Store.Item(feedItemID(t, p, feed))
	if err != nil || !ok || it.Article != "" || it.ArticleError != lateReason(p.o.ArticleWait) {
		t.Fatalf("after the stop: got %+v %v %v; want the item without its article, pending", it, ok, err)
	}
	return it.ID
}

// feedItemID is the ID of the one item the feed's first poll stored.
func feedItemID(t *testing.T, p *Pipeline, feed accordwatch.Feed) string {
	t.Helper()
	res, err := p.o.Fetcher.Fetch(t.Context(), feed, accordwatch.FeedState{})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("fetch %s: %d items, %v", feed.URL, len(res.Items), err)
	}
	return res.Items[0].ID
}

// checkArticle says the item carries the page's article and its tags.
func checkArticle(t *testing.T, it accordwatch.Item) {
	t.Helper()
	if !strings.Contains(it.Article, attribution) || it.ArticleError != "" {
		t.Errorf("got article %q, reason %q; want the page's text", it.Article, it.ArticleError)
	}
	if !slices.Contains(it.Tags.Actors, "APT28") {
		t.Errorf("tags: got actors %v, want APT28 from the article", it.Tags.Actors)
	}
}

// TestPendingArticleResumedAfterRestart: a poll commits a summary-only
// item while its page is still loading, and the process stops. The next
// start — serve's scheduler or run --once — fetches the page once and
// completes the item: article, tags, index. Without the pending mark the
// item would keep its summary forever.
func TestPendingArticleResumedAfterRestart(t *testing.T) {
	for _, mode := range []string{"serve", "run --once"} {
		t.Run(mode, func(t *testing.T) {
			site := newHeldSite(t, 1, true)
			feed := site.feed("news")
			dir := t.TempDir()
			first := openLifeRig(t, dir, Options{ArticleWait: 10 * time.Millisecond})
			id := stopMidArticle(t, first.p, site, feed)
			first.close()

			close(site.release)
			r := openLifeRig(t, dir, Options{ArticleWait: 10 * time.Millisecond})
			switch mode {
			case "serve":
				s, err := NewScheduler(r.p, []accordwatch.Feed{feed}, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if err := s.Start(ctx); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the resumed article", func() bool {
					it, _, _ := r.st.Item(id)
					return it.Article != ""
				})
				<-s.Stop().Done()
			case "run --once":
				rep, err := r.p.RunOnce(t.Context(), []accordwatch.Feed{feed})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Resumed.Claimed != 1 || rep.Resumed.Fetched != 1 {
					t.Errorf("resumed: got %+v, want 1 claimed and fetched", rep.Resumed)
				}
			}
			if got := site.served.Load(); got != 1 {
				t.Errorf("page served %d times, want once", got)
			}
			it, _, _ := r.st.Item(id)
			checkArticle(t, it)
			hits, err := r.ix.Matching(t.Context(), "actor:apt28", []string{id})
			if err != nil || len(hits) != 1 {
				t.Errorf("index: got %v, %v; want the item found by its article's tags", hits, err)
			}
			// The mark went with the article: nothing is left to resume.
			rep, err := r.p.ResumeArticles(t.Context(), []accordwatch.Feed{feed})
			if err != nil || rep.Claimed != 0 {
				t.Errorf("a second resume: got %+v, %v; want nothing claimed", rep, err)
			}
		})
	}
}

// TestStalePendingArticleIsDropped: a mark older than ArticleMaxAge is
// given up with a log line and the reason on the item; the page is not
// asked for again.
func TestStalePendingArticleIsDropped(t *testing.T) {
	site := newHeldSite(t, 1, true)
	defer close(site.release)
	feed := site.feed("news")
	ms := newMemStore()
	f := articleFetcher()
	opts := Options{Fetcher: f, Articles: f, Classifier: nopClassifier{}, Store: ms, Index: nopIndex{},
		Notifier: &countingNotifier{}, ArticleWait: 10 * time.Millisecond}
	first, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	id := stopMidArticle(t, first, site, feed)

	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	opts.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.ResumeArticles(t.Context(), []accordwatch.Feed{feed})
	if err != nil || rep.Claimed != 1 || rep.Dropped != 1 || rep.Fetched != 0 {
		t.Fatalf("resume: got %+v, %v; want 1 claimed and dropped", rep, err)
	}
	if got := site.started.Load(); got != 1 {
		t.Errorf("page asked for %d times, want only the first life's", got)
	}
	it, _, _ := ms.Item(id)
	if it.Article != "" || !strings.Contains(it.ArticleError, "still pending after 24h") {
		t.Errorf("item: got article %q, reason %q; want none and the reason", it.Article, it.ArticleError)
	}
	if !strings.Contains(logs.String(), "pending article dropped") || !strings.Contains(logs.String(), id) {
		t.Errorf("log lacks the drop of %s:\n%s", id, logs.String())
	}
	if len(ms.pending) != 0 {
		t.Errorf("marks left: %v", ms.pending)
	}
}

// pgReplica is a replica for the article tests: its own connection to the
// shared database, lease handle and pipeline with the real fetcher.
func pgReplica(t *testing.T, dbURL accordwatch.Secret, name string, o Options, lo pgstore.LeaseOptions) (*Pipeline, *pgstore.Store, *pgstore.Leases) {
	t.Helper()
	st, err := pgstore.Open(t.Context(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lo.Owner = name
	l, err := st.Leases(lo)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := articleFetcher()
	o.Fetcher, o.Articles, o.Classifier, o.Store, o.Index, o.Notifier = f, f, cl, st, nopIndex{}, &countingNotifier{}
	o.HostSlots = l
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p, st, l
}

// TestReplicasResumePendingArticleOnce: a replica commits an item while
// its page loads and dies. No replica takes the article while the dead
// one's claim lasts; after it, two replicas resuming at once fetch the
// page once between them.
func TestReplicasResumePendingArticleOnce(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	site := newHeldSite(t, 1, true)
	feed := site.feed("news")
	o := Options{ArticleWait: 10 * time.Millisecond}
	dead, st, _ := pgReplica(t, dbURL, "dead", o, pgstore.LeaseOptions{})
	id := stopMidArticle(t, dead, site, feed)
	st.Close()

	list := []accordwatch.Feed{feed}
	early, _, _ := pgReplica(t, dbURL, "early", o, pgstore.LeaseOptions{})
	if rep, err := early.ResumeArticles(t.Context(), list); err != nil || rep.Claimed != 0 {
		t.Fatalf("resume within the dead replica's claim: got %+v, %v; want nothing", rep, err)
	}
	close(site.release)
	o.Now = func() time.Time { return time.Now().Add(defaultArticleClaim + time.Minute) }
	var reps [2]ResumeReport
	var errs [2]error
	var pipes [2]*Pipeline
	for i := range pipes {
		pipes[i], _, _ = pgReplica(t, dbURL, fmt.Sprint("r", i), o, pgstore.LeaseOptions{})
	}
	var wg sync.WaitGroup
	for i, p := range pipes {
		wg.Go(func() { reps[i], errs[i] = p.ResumeArticles(t.Context(), list) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if got := reps[0].Fetched + reps[1].Fetched; got != 1 {
		t.Errorf("fetched by the replicas: %+v, %+v; want 1 in all", reps[0], reps[1])
	}
	if got := site.served.Load(); got != 1 {
		t.Errorf("page served %d times, want once", got)
	}
	it, _, _ := pipes[0].o.Store.Item(id)
	checkArticle(t, it)
}

// TestTwoReplicasKeepTheHostCapForArticles: two replicas poll summary-only
// feeds of one host at once, each allowed PerHost 2 by itself. Counted
// over both, feed and article requests to the host never exceed 2 — each
// replica's own cap alone would allow 4 — and every article still
// arrives, once.
func TestTwoReplicasKeepTheHostCapForArticles(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	site := newHeldSite(t, 5, false)
	site.pageDelay = 40 * time.Millisecond
	var list []accordwatch.Feed
	for i := range 4 {
		list = append(list, site.feed(fmt.Sprint("f", i)))
	}
	o := Options{ArticleWait: time.Minute, PerHost: 2, Concurrency: 1}
	lo := pgstore.LeaseOptions{PerHost: 2, Retry: 50 * time.Millisecond}
	var pipes [2]*Pipeline
	var leases [2]*pgstore.Leases
	for i := range pipes {
		pipes[i], _, leases[i] = pgReplica(t, dbURL, fmt.Sprint("r", i), o, lo)
	}
	var wg sync.WaitGroup
	var reps [2]PassReport
	var errs [2]error
	for i, p := range pipes {
		wg.Go(func() { reps[i], errs[i] = p.RunOnceShared(t.Context(), list, leases[i], time.Minute) })
	}
	wg.Wait()
	polled := 0
	for i, rep := range reps {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, f := range rep.Feeds {
			if f.Err != nil {
				t.Errorf("replica %d, %s: %v", i, f.Feed.Name, f.Err)
			}
			polled += f.New
		}
	}
	if polled != 20 {
		t.Fatalf("got %d new items over both replicas, want 20", polled)
	}
	if got := site.peak.Load(); got > 2 {
		t.Errorf("got %d requests to the host at once over both replicas, want at most 2", got)
	}
	site.mu.Lock()
	defer site.mu.Unlock()
	if len(site.perPage) != 20 {
		t.Errorf("got %d pages served, want 20", len(site.perPage))
	}
	for page, n := range site.perPage {
		if n != 1 {
			t.Errorf("%s served %d times, want once", page, n)
		}
	}
}
