package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKilledServeResumesItsArticle kills serve with SIGKILL while the
// article behind a new summary-only item is being fetched — after the
// item was committed (and alerted with its summary's tags) and before the
// page arrived. The next serve fetches the page again at start, puts the
// article on the item and updates the incident's message in place with
// the tags the article adds; nothing is posted twice.
func TestKilledServeResumesItsArticle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a subprocess twice")
	}
	st := articleStories[0] // its page names Microsoft and Lazarus Group in paragraph three
	var mu sync.Mutex
	requests := 0
	hold := make(chan struct{}) // the first page request waits here until the kill
	arrived := make(chan struct{}, 1)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/news.rss" {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Newsroom</title><link>http://%s/</link><description>d</description>`+
				`<item><title>%s</title><link>http://%s/story/%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item></channel></rss>`,
				r.Host, html.EscapeString(st.title), r.Host, st.guid, st.guid, time.Now().UTC().Add(-10*time.Minute).Format(time.RFC1123Z), html.EscapeString(st.summary))
			return
		}
		if r.URL.Path != "/story/"+st.guid {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		requests++
		first := requests == 1
		mu.Unlock()
		if first {
			arrived <- struct{}{}
			select {
			case <-hold:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, st.page)
	}))
	t.Cleanup(site.Close)
	t.Cleanup(func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	})
	slack := newRecordingSlack(t, "C0ARTICLE", 0)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feed and page are on loopback
  article_wait: 1s
listen: 127.0.0.1:0
polling:
  min_interval: 1h
feeds:
  - name: Newsroom
    url: %s/news.rss
rules:
  - name: everything
    query: severity:>=0
`, site.URL))
	env := []string{"SLACK_BOT_TOKEN=xoxb-test-token", "SLACK_API_URL=" + slack.URL + "/api/", "SLACK_CHANNEL=#articles"}

	first := startServe(t, cfg, env)
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("the article page was never requested; serve log:\n%s", lastLines(first.stderr.String(), 30))
	}
	// The item is committed pending once article_wait has run out, and
	// its alert goes out with the summary's tags.
	waitFor(t, first, 20*time.Second, "the item's first message", func() bool {
		posts, _ := slack.calls()
		return len(posts) == 1
	})
	// Room for serve to record the post as sent: a kill in the middle of
	// a post may repeat that post (TestCrashLosesNoAlert), which is not
	// what this test is about.
	time.Sleep(2 * time.Second)
	first.kill()
	close(hold)

	second := startServe(t, cfg, env)
	waitFor(t, second, 30*time.Second, "the resumed article's message update", func() bool {
		_, updates := slack.calls()
		for _, u := range updates {
			if strings.Contains(u.Get("blocks"), "Lazarus Group") {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond) // room for a late duplicate
	second.kill()
	posts, _ := slack.calls()
	if len(posts) != 1 {
		t.Errorf("got %d messages posted, want 1 (the resumed article updates it)", len(posts))
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 2 {
		t.Errorf("the page was requested %d times, want 2 (cut off by the kill, then resumed)", requests)
	}
}
