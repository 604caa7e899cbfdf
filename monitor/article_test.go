package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	"golang.org/x/text/encoding/charmap"
)

// newsPage is an article whose only attribution is in paragraph three.
func newsPage(third string) string {
	para := strings.Repeat("The company said the intrusion was detected by its security team and contained within hours, and that customers had been told. ", 3)
	return `<!doctype html><html><head><title>Breach at a logistics firm</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Breach at a logistics firm</h1><p>` + para + `</p><p>` + para + `</p><p>` + third + ` ` + para + `</p></article>
<footer>Copyright Example News</footer></body></html>`
}

const attribution = "Microsoft said the intrusion was the work of APT28, a unit of Russia's GRU military intelligence agency."

// articleSite serves a feed of summary-only items and their pages, and
// counts the requests for each path.
type articleSite struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func (s *articleSite) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func newArticleSite(t *testing.T) *articleSite {
	s := &articleSite{hits: map[string]int{}}
	long := strings.Repeat("A long summary that already tells the whole story in the feed itself. ", 12)
	items := []struct{ id, summary string }{
		{"short", "A logistics firm disclosed a breach."},
		{"long", long},
		{"missing", "A page that is gone."},
		{"slow", "A page that never finishes."},
		{"huge", "A page far over the size cap."},
		{"paywall", "A page behind a paywall."},
		{"pdf", "A report behind the link."},
		{"image", "A picture behind the link."},
		{"bomb", "A page of nested elements."},
		{"latin1", "A page in a legacy charset."},
		{"script", "A link that is not a web address."},
	}
	// private.xml is for a guarded fetcher only (TestArticlePrivateAddress):
	// an unguarded one would follow its redirect onto the network.
	private := []struct{ id, summary string }{{"private", "A link that redirects inside."}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/feed.xml", "/never.xml", "/private.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>`)
			list := items
			if r.URL.Path == "/private.xml" {
				list = private
			}
			for _, it := range list {
				link := s.srv.URL + "/a/" + it.id
				if it.id == "script" {
					link = "javascript:alert(1)"
				}
				fmt.Fprintf(&b, `<item><title>Story %s</title><link>%s</link><guid>%s</guid><description>%s</description></item>`,
					it.id, link, it.id, it.summary)
			}
			b.WriteString(`</channel></rss>`)
			w.Write([]byte(b.String()))
		case "/a/short", "/a/long":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(newsPage(attribution)))
		case "/a/slow":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body><p>"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "/a/huge":
			// 50 MB streamed in chunks, until the client stops reading.
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body><p>"))
			chunk := []byte(strings.Repeat("word ", 1<<13))
			for n := 0; n < 50<<20; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/a/pdf":
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.7\n"))
		case "/a/image":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
		case "/a/bomb":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(strings.Repeat("<div><span>", 50_000) + "deep"))
		case "/a/latin1":
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			page, _ := charmap.ISO8859_1.NewEncoder().String(newsPage("Die Spur führt nach Zürich, sagte Microsoft."))
			w.Write([]byte(page))
		case "/a/private":
			// Where the guarded article fetcher must not go.
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/a/paywall":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html><body><h1>Story</h1><p>Subscribe to continue reading.</p></body></html>`))
		default:
			http.NotFound(w, r)
		}
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func articlePipeline(t *testing.T, ms *memStore) *Pipeline {
	t.Helper()
	cl, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fetcher := feeds.New(feeds.Options{AllowPrivateNetworks: true, Timeout: time.Second, MaxBytes: 1 << 20,
		Articles: article.New(article.Options{})})
	p, err := New(Options{Fetcher: fetcher, Articles: fetcher, Classifier: cl, Store: ms, Index: nopIndex{},
		Notifier: &countingNotifier{}, ArticleWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestArticleFetchedForSummaryOnlyItems(t *testing.T) {
	site := newArticleSite(t)
	ms := newMemStore()
	p := articlePipeline(t, ms)
	feed := accordwatch.Feed{Name: "News", URL: site.srv.URL + "/feed.xml"}

	rep := p.PollFeed(t.Context(), feed)
	if rep.Err != nil || rep.New != 11 {
		t.Fatalf("poll: got %+v, want 11 new items and no error", rep)
	}
	byGUID := map[string]accordwatch.Item{}
	for _, it := range ms.items {
		byGUID[it.GUID] = it
	}

	t.Run("auto with a short summary fetches and tags the article", func(t *testing.T) {
		it := byGUID["short"]
		if !strings.Contains(it.Article, attribution) || it.ArticleError != "" {
			t.Fatalf("got article %q, error %q; want the page's text", it.Article, it.ArticleError)
		}
		if it.Text != "A logistics firm disclosed a breach." {
			t.Errorf("feed text changed: %q", it.Text)
		}
		if !slices.Contains(it.Tags.Actors, "APT28") || !slices.Contains(it.Tags.States, "Russia") {
			t.Errorf("tags: got actors %v states %v, want APT28 and Russia from paragraph three", it.Tags.Actors, it.Tags.States)
		}
		found := false
		for _, ev := range it.Tags.Evidence {
			if ev.Tag == "actor:APT28" && ev.Field == "article" {
				found = true
				if got := it.Article[ev.Offset : ev.Offset+len(ev.Match)]; got != ev.Match {
					t.Errorf("evidence offset %d points at %q, want %q", ev.Offset, got, ev.Match)
				}
			}
		}
		if !found {
			t.Errorf("no actor:APT28 evidence from the article: %+v", it.Tags.Evidence)
		}
	})
	t.Run("a legacy charset is decoded", func(t *testing.T) {
		it := byGUID["latin1"]
		if !strings.Contains(it.Article, "Die Spur führt nach Zürich, sagte Microsoft.") || it.ArticleError != "" {
			t.Errorf("got article %q, error %q; want the decoded page", it.Article, it.ArticleError)
		}
	})
	t.Run("auto with a long summary does not fetch", func(t *testing.T) {
		if n := site.count("/a/long"); n != 0 {
			t.Errorf("got %d fetches, want 0", n)
		}
		if it := byGUID["long"]; it.Article != "" || it.ArticleError != "" {
			t.Errorf("got article %q, error %q; want neither", it.Article, it.ArticleError)
		}
	})
	for guid, reason := range map[string]string{
		"missing": "HTTP 404 Not Found",
		"slow":    "timeout",
		"huge":    "response larger than 1 MiB",
		"paywall": "not an article",
		"pdf":     "not a web page (application/pdf)",
		"image":   "not a web page (image/png)",
		"bomb":    "page structure over a limit",
		"script":  "no http or https link",
	} {
		t.Run("failed article keeps the summary: "+guid, func(t *testing.T) {
			it := byGUID[guid]
			if it.Article != "" || !strings.Contains(it.ArticleError, reason) {
				t.Errorf("got article %q, error %q; want none and a reason containing %q", it.Article, it.ArticleError, reason)
			}
			if it.Text == "" || it.Title == "" {
				t.Errorf("item lost its feed text: %+v", it)
			}
		})
	}
	t.Run("the feed stays healthy", func(t *testing.T) {
		st, _, _ := ms.FeedState(feed.URL)
		if st.ConsecutiveFailures != 0 || st.LastError != "" || !st.Healthy() {
			t.Errorf("got state %+v, want healthy", st)
		}
	})
	t.Run("a second poll fetches no page again", func(t *testing.T) {
		before := map[string]int{}
		for _, g := range []string{"short", "missing", "slow", "huge", "paywall", "pdf", "image", "bomb", "latin1"} {
			before[g] = site.count("/a/" + g)
			if before[g] != 1 {
				t.Errorf("%s: got %d fetches on the first poll, want 1", g, before[g])
			}
		}
		if rep := p.PollFeed(t.Context(), feed); rep.Err != nil || rep.New != 0 {
			t.Fatalf("second poll: got %+v", rep)
		}
		for g, n := range before {
			if got := site.count("/a/" + g); got != n {
				t.Errorf("%s: got %d fetches after the second poll, want %d", g, got, n)
			}
		}
	})
}

func TestArticleNeverAndLocalFeedsDoNotFetch(t *testing.T) {
	site := newArticleSite(t)
	ms := newMemStore()
	p := articlePipeline(t, ms)
	rep := p.PollFeed(t.Context(), accordwatch.Feed{URL: site.srv.URL + "/never.xml", Article: accordwatch.ArticleNever})
	if rep.Err != nil || rep.New != 11 {
		t.Fatalf("poll: got %+v", rep)
	}
	for path, n := range site.hits {
		if strings.HasPrefix(path, "/a/") && n > 0 {
			t.Errorf("never: %s fetched %d times", path, n)
		}
	}
	if got := (accordwatch.Feed{URL: "/srv/archive/feeds"}).ArticleMode(); got != accordwatch.ArticleNever {
		t.Errorf("local feed: got article mode %q, want never", got)
	}
}

// Article fetches share the per-host cap with feed fetches: with PerHost
// 2, a feed of many summary-only items never has more than 2 requests in
// flight to its host.
func TestArticleFetchesRespectPerHostCap(t *testing.T) {
	var inFlight, peak atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if r.URL.Path == "/feed.xml" {
			var b strings.Builder
			b.WriteString(`<rss version="2.0"><channel><title>N</title>`)
			for i := range 12 {
				fmt.Fprintf(&b, `<item><title>S%d</title><link>%s/a/%d</link><guid>g%d</guid><description>short</description></item>`, i, srv.URL, i, i)
			}
			b.WriteString(`</channel></rss>`)
			w.Write([]byte(b.String()))
			return
		}
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(newsPage("Nothing to see.")))
	}))
	defer srv.Close()
	ms := newMemStore()
	p := articlePipeline(t, ms)
	rep, err := p.RunOnce(t.Context(), []accordwatch.Feed{{URL: srv.URL + "/feed.xml"}, {URL: srv.URL + "/feed.xml?b"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Feeds {
		if r.Err != nil || r.New != 12 {
			t.Fatalf("got %+v, want 12 new items", r)
		}
	}
	if got := peak.Load(); got > 2 {
		t.Errorf("got %d requests in flight to one host, want at most 2 (PerHost)", got)
	}
	withArticle := 0
	for _, it := range ms.items {
		if it.Article != "" {
			withArticle++
		}
	}
	if withArticle != 24 {
		t.Errorf("got %d items with an article, want 24", withArticle)
	}
}

func TestHostSlots(t *testing.T) {
	h := newHostSlots(2)
	if !h.tryAcquire("a") || !h.tryAcquire("a") || h.tryAcquire("a") {
		t.Fatal("tryAcquire: want two slots on a, then none")
	}
	if !h.tryAcquire("b") {
		t.Fatal("tryAcquire: hosts must not share slots")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.acquire(ctx, "a"); err == nil {
		t.Fatal("acquire on a full host: got nil, want the context's error")
	}
	done := make(chan error)
	go func() { done <- h.acquire(context.Background(), "a") }()
	h.release("a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := h.inUse("a"); got != 2 {
		t.Errorf("in use: got %d, want 2", got)
	}
}

// With private networks not allowed (the default), an article link that
// leads to an internal address is refused at dial time: the item records
// the refusal, keeps its summary, and the feed stays healthy.
func TestArticlePrivateAddress(t *testing.T) {
	site := newArticleSite(t)
	ms := newMemStore()
	cl, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The feed itself is on loopback, so its fetcher must allow that; the
	// article fetcher is the default, guarded one.
	feedFetcher := feeds.New(feeds.Options{AllowPrivateNetworks: true, Timeout: time.Second})
	guarded := feeds.New(feeds.Options{Timeout: time.Second, Articles: article.New(article.Options{})})
	p, err := New(Options{Fetcher: feedFetcher, Articles: guarded, Classifier: cl, Store: ms, Index: nopIndex{},
		Notifier: &countingNotifier{}})
	if err != nil {
		t.Fatal(err)
	}
	feed := accordwatch.Feed{URL: site.srv.URL + "/private.xml"}
	if rep := p.PollFeed(t.Context(), feed); rep.Err != nil || rep.New != 1 {
		t.Fatalf("poll: got %+v, want 1 new item", rep)
	}
	for _, it := range ms.items {
		if it.Article != "" || !strings.HasPrefix(it.ArticleError, "refused: 127.0.0.1 is a loopback address") {
			t.Errorf("got article %q, error %q; want a refusal", it.Article, it.ArticleError)
		}
		if it.Text != "A link that redirects inside." {
			t.Errorf("item lost its summary: %q", it.Text)
		}
	}
	if n := site.count("/a/private"); n != 0 {
		t.Errorf("got %d requests for the page, want none", n)
	}
	if st, _, _ := ms.FeedState(feed.URL); !st.Healthy() || st.LastError != "" {
		t.Errorf("feed state: got %+v, want healthy", st)
	}
}
