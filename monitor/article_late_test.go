package monitor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/article"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// lateSite serves a feed of one summary-only item whose page is held
// until release is closed, then answered with status (200: the article).
type lateSite struct {
	srv     *httptest.Server
	release chan struct{}
	status  int
}

func newLateSite(t *testing.T, status int) *lateSite {
	s := &lateSite{release: make(chan struct{}), status: status}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<rss version="2.0"><channel><title>News</title><item><title>Logistics firm breach</title>`+
				`<link>%s/a/story</link><guid>story</guid><description>A logistics firm disclosed a breach.</description></item></channel></rss>`, s.srv.URL)
		case "/a/story":
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
			if s.status != http.StatusOK {
				http.Error(w, "gone", s.status)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, newsPage(attribution))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// lateRig is a pipeline with the real fetcher, extractor, classifier,
// bbolt store, bleve index and Slack notifier (against fakeWorkspace).
type lateRig struct {
	p     *Pipeline
	st    *store.Store
	ix    *index.Index
	slack *fakeWorkspace
}

func newLateRig(t *testing.T, wait time.Duration) *lateRig {
	t.Helper()
	dir := t.TempDir()
	cl, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{Resolve: cl.Resolve})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	slack := &fakeWorkspace{}
	n, err := notify.New(notify.Options{
		BotToken: "xoxb-test", Channel: "#" + wsChannelName, APIURL: "http://slack.invalid/api/",
		HTTPClient: &http.Client{Transport: handlerTransport{slack}}, PerChannelInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	fetcher := feeds.New(feeds.Options{AllowPrivateNetworks: true, Timeout: time.Minute, Articles: article.New(article.Options{})})
	p, err := New(Options{
		Fetcher: fetcher, Articles: fetcher, Classifier: cl, Store: st, Index: ix, Notifier: n,
		Incidents: incident.New(incident.Options{}), ArticleWait: wait,
		Rules: []accordwatch.Rule{{Name: "breaches", Query: "breach"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &lateRig{p: p, st: st, ix: ix, slack: slack}
}

// TestLateArticle: an alert waits for its article up to ArticleWait. An
// article that comes later is still stored, tagged and indexed; when the
// incident's message was already posted it is updated in place
// (chat.update) with the new tags, never posted again.
func TestLateArticle(t *testing.T) {
	const long, short = time.Minute, time.Millisecond
	tests := []struct {
		name string
		// wait is ArticleWait; the page is held until released: before
		// the poll (in time), after the poll but before the drain, or
		// after the drain.
		wait      time.Duration
		releaseAt string
		status    int
		// first says whether the first (only) post names the article's
		// tags; updated whether chat.update then added them.
		first, updated bool
		reason         string // the item's final ArticleError
	}{
		{"in time", long, "before poll", http.StatusOK, true, false, ""},
		{"after the wait, before the post", short, "before drain", http.StatusOK, true, false, ""},
		{"after the post", short, "after drain", http.StatusOK, false, true, ""},
		{"after the post, failing", short, "after drain", http.StatusNotFound, false, false, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newLateSite(t, tt.status)
			r := newLateRig(t, tt.wait)
			release := func() {
				close(site.release)
				r.p.late.Wait()
			}
			drain := func() {
				t.Helper()
				if _, err := r.p.Drain(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if tt.releaseAt == "before poll" {
				close(site.release)
			}
			rep := r.p.PollFeed(t.Context(), accordwatch.Feed{Name: "News", URL: site.srv.URL + "/feed.xml"})
			if rep.Err != nil || rep.New != 1 || rep.Alerts != 1 {
				t.Fatalf("poll: got %+v, want 1 new item, 1 alert", rep)
			}
			alerts, err := r.st.Alerts()
			if err != nil || len(alerts) != 1 {
				t.Fatalf("outbox: got %d alerts, %v; want 1", len(alerts), err)
			}
			id := alerts[0].ItemID
			if tt.releaseAt != "before poll" {
				// The poll committed without waiting for the held page.
				it, _, _ := r.st.Item(id)
				if it.Article != "" || it.ArticleError != lateReason(tt.wait) || it.Text == "" {
					t.Fatalf("after the wait: got article %q, reason %q, text %q; want none, %q and the summary",
						it.Article, it.ArticleError, it.Text, lateReason(tt.wait))
				}
			}
			if tt.releaseAt == "before drain" {
				release()
			}
			drain()
			top, _ := r.slack.messages()
			if len(top) != 1 {
				t.Fatalf("got %d posts, want 1", len(top))
			}
			if got := strings.Contains(top[0].Get("blocks"), "APT28"); got != tt.first {
				t.Errorf("first post names APT28: got %v, want %v: %s", got, tt.first, top[0].Get("blocks"))
			}
			if tt.releaseAt == "after drain" {
				release()
			}
			drain()
			top, replies := r.slack.messages()
			if len(top) != 1 || len(replies) != 0 {
				t.Errorf("got %d posts and %d replies, want the one post", len(top), len(replies))
			}
			r.slack.mu.Lock()
			updates := r.slack.updates
			r.slack.mu.Unlock()
			if got := updates > 0; got != tt.updated {
				t.Errorf("chat.update called %d times, want updated=%v", updates, tt.updated)
			}
			if tt.updated && !strings.Contains(top[0].Get("blocks"), "APT28") {
				t.Errorf("updated message lacks APT28: %s", top[0].Get("blocks"))
			}

			it, ok, err := r.st.Item(id)
			if err != nil || !ok {
				t.Fatalf("item: %v, %v", ok, err)
			}
			if it.Text != "A logistics firm disclosed a breach." {
				t.Errorf("feed text changed: %q", it.Text)
			}
			if tt.reason != "" {
				if it.Article != "" || !strings.Contains(it.ArticleError, tt.reason) {
					t.Errorf("got article %q, reason %q; want none and a reason containing %q", it.Article, it.ArticleError, tt.reason)
				}
				return
			}
			if !strings.Contains(it.Article, attribution) || it.ArticleError != "" {
				t.Errorf("got article %q, reason %q; want the page's text", it.Article, it.ArticleError)
			}
			if !slices.Contains(it.Tags.Actors, "APT28") || !slices.Contains(it.Tags.Signatories, "Microsoft") {
				t.Errorf("tags: got actors %v, signatories %v; want APT28 and Microsoft", it.Tags.Actors, it.Tags.Signatories)
			}
			hits, err := r.ix.Matching(t.Context(), "actor:apt28 AND signatory:microsoft", []string{id})
			if err != nil || len(hits) != 1 {
				t.Errorf("index: got %v, %v; want the item found by its article's tags", hits, err)
			}
		})
	}
}
