package main

import (
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// articleStory is a summary-only feed item and the page behind it. The
// sentences are invented for this test.
type articleStory struct {
	guid, title, summary string
	page                 string // the HTML behind the link
}

// filler is a newsroom paragraph that names nobody.
const filler = "The insurer said its claims portal was taken offline on Tuesday while investigators worked through the weekend, " +
	"and that policyholders would be contacted by post once the review of the affected systems had finished. "

// articleStories: the first item's summary names nobody; its page names
// a signatory (Microsoft), a state actor (Lazarus Group) and a town
// (Wexcombe) in paragraph three only. The second's page is a paywall.
var articleStories = []articleStory{
	{"claims", "Insurer takes claims portal offline after intrusion",
		"An insurer shut its claims portal after finding intruders in its network.",
		newsroomPage("Insurer takes claims portal offline after intrusion",
			"Microsoft's threat intelligence team attributed the intrusion to Lazarus Group, the North Korean state-sponsored hacking unit, "+
				"after tracing the stolen files to a staging server last seen in a campaign against a logistics firm near Wexcombe.")},
	{"paywalled", "Regional carrier reviews network after outage",
		"A regional carrier is reviewing its network after an outage.",
		`<!doctype html><html><head><title>Subscribe</title></head><body><h1>Regional carrier reviews network after outage</h1>` +
			`<p>Subscribe to continue reading.</p><p>Already a subscriber? Sign in.</p></body></html>`},
}

func newsroomPage(title, third string) string {
	return `<!doctype html><html><head><meta charset="utf-8"><title>` + html.EscapeString(title) + `</title></head><body>
<header><nav><a href="/">Home</a> <a href="/security">Security</a> <a href="/about">About us</a></nav></header>
<main><article><h1>` + html.EscapeString(title) + `</h1>
<p>` + strings.Repeat(filler, 2) + `</p>
<p>` + strings.Repeat(filler, 2) + `</p>
<p>` + html.EscapeString(third) + ` ` + filler + `</p>
</article></main>
<footer>Sign up for our newsletter. Copyright News Example.</footer></body></html>`
}

// articleSite serves the feed and the pages, counting page requests.
type articleSite struct {
	*httptest.Server
	mu    sync.Mutex
	pages map[string]int
}

func newArticleSite(t *testing.T) *articleSite {
	t.Helper()
	s := &articleSite{pages: map[string]int{}}
	now := time.Now().UTC()
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/news.rss" {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Newsroom</title><link>` + s.URL + `/</link><description>d</description>`)
			for i, st := range articleStories {
				fmt.Fprintf(&b, `<item><title>%s</title><link>%s/story/%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
					html.EscapeString(st.title), s.URL, st.guid, st.guid, now.Add(-time.Duration(10+i)*time.Minute).Format(time.RFC1123Z), html.EscapeString(st.summary))
			}
			b.WriteString(`</channel></rss>`)
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, b.String())
			return
		}
		guid, ok := strings.CutPrefix(r.URL.Path, "/story/")
		i := slices.IndexFunc(articleStories, func(st articleStory) bool { return st.guid == guid })
		if !ok || i < 0 {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.pages[guid]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleStories[i].page)
	}))
	t.Cleanup(s.Server.Close)
	return s
}

// TestArticlesEndToEnd runs the whole binary over a feed of summary-only
// items: the article behind the first names a signatory and a state
// actor in its body only. The item is tagged with both, found by a word
// of the body, and alerted once with those tags; the paywalled one keeps
// its summary and the reason. A second pass fetches no page and posts
// nothing.
func TestArticlesEndToEnd(t *testing.T) {
	site := newArticleSite(t)
	slack := newRecordingSlack(t, "C0ARTICLE", 0)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feed and pages are on loopback
feeds:
  - name: Newsroom
    url: %s/news.rss
rules:
  - name: state actor against a signatory
    query: 'actor:"lazarus group" AND signatory:microsoft'
  - name: everything else
    query: severity:>=0
`, site.URL))
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": slack.URL + "/api/", "SLACK_CHANNEL": "#articles"}
	for pass := 1; pass <= 2; pass++ {
		if code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg); code != 0 {
			t.Fatalf("pass %d: exit %d\n%s%s", pass, code, out, errOut)
		}
	}

	site.mu.Lock()
	fetched := maps.Clone(site.pages)
	site.mu.Unlock()
	if fetched["claims"] != 1 || fetched["paywalled"] != 1 {
		t.Errorf("page requests over two passes: got %v, want each page once", fetched)
	}

	posts, updates := slack.calls()
	var claims []url.Values
	for _, p := range posts {
		if strings.Contains(html.UnescapeString(p.Get("blocks")), articleStories[0].title) {
			claims = append(claims, p)
		}
	}
	if len(claims) != 1 || len(updates) != 0 {
		t.Fatalf("got %d messages about the story and %d updates over two passes, want one message and no update", len(claims), len(updates))
	}
	blocks := html.UnescapeString(claims[0].Get("blocks"))
	for _, want := range []string{"Microsoft", "Lazarus Group", "state actor against a signatory"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("the message lacks %q: %s", want, blocks)
		}
	}
	// Slack quotes a snippet, never the body: the town is in paragraph three.
	if strings.Contains(blocks, "Wexcombe") {
		t.Errorf("the message quotes the article's body: %s", blocks)
	}

	res := searchJSON(t, env, "--config", cfg, "wexcombe")
	if len(res.Hits) != 1 || res.Hits[0].Title != articleStories[0].title {
		t.Fatalf("search for a word of the body: got %+v, want the story", res.Hits)
	}
	hit := res.Hits[0]
	if !slices.Contains(hit.Signatories, "Microsoft") || !slices.Contains(hit.Actors, "Lazarus Group") {
		t.Errorf("tags: got signatories %v, actors %v; want Microsoft and Lazarus Group", hit.Signatories, hit.Actors)
	}
	if res := searchJSON(t, env, "--config", cfg, `actor:"lazarus group" AND signatory:microsoft`); len(res.Hits) != 1 {
		t.Errorf("tag search: got %d hits, want 1", len(res.Hits))
	}

	// The digest names the story with its tags and links to the source,
	// quoting nothing of the article.
	from, to := time.Now().AddDate(0, 0, -2).Format("2006-01-02"), time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	for _, format := range []string{"md", "slack"} {
		code, out, errOut := run(t, env, "", "digest", "--config", cfg, "--format", format, "--from", from, "--to", to)
		if code != 0 {
			t.Fatalf("digest --format %s: exit %d: %s", format, code, errOut)
		}
		out = html.UnescapeString(out)
		if !strings.Contains(out, site.URL+"/story/claims") || !strings.Contains(out, "Lazarus Group") {
			t.Errorf("digest --format %s: want the story linked to its source with its tags:\n%s", format, out)
		}
		if strings.Contains(out, "Wexcombe") || strings.Contains(out, "staging server") {
			t.Errorf("digest --format %s quotes the article:\n%s", format, out)
		}
	}

	// The paywalled item is kept with its summary and the reason.
	if res := searchJSON(t, env, "--config", cfg, "carrier"); len(res.Hits) != 1 {
		t.Fatalf("paywalled item: got %d hits, want 1", len(res.Hits))
	}
	if res := searchJSON(t, env, "--config", cfg, "subscriber"); len(res.Hits) != 0 {
		t.Errorf("a paywall's words are indexed: got %d hits, want 0", len(res.Hits))
	}
}
