package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// incidentStory is one item of the incident end-to-end test: invented
// reports, the companies fictional.
type incidentStory struct {
	feed, guid, title, text string
}

// Three outlets report one ransomware outage in their own words; one
// outlet reports two unrelated events at another company.
var incidentStories = []incidentStory{
	{"outlet-a", "a1", "Fabrikam confirms ransomware attack took 1,200 pharmacies offline",
		"The drugstore chain Fabrikam said a ransomware attack on its ordering servers shut prescription systems at about 1,200 pharmacies."},
	{"outlet-b", "b1", "Ransomware hits Fabrikam pharmacy chain, 1.2K stores offline",
		"Pharmacies run by Fabrikam could not fill prescriptions after ransomware encrypted the ordering servers."},
	{"outlet-c", "c1", "Fabrikam says 1,200 drugstores still offline after ransomware attack",
		"Fabrikam's pharmacies remain unable to process prescriptions after ransomware hit the chain's ordering systems."},
	{"outlet-d", "d1", "Northwind recalls 40,000 home routers over hidden backdoor",
		"Northwind told customers to unplug 40,000 routers after researchers found an undocumented admin account."},
	{"outlet-d", "d2", "Northwind names new chief executive after record quarter",
		"Northwind's board appointed a new chief executive as quarterly sales climbed."},
}

// incidentFeeds serves one RSS feed per outlet, items a few minutes old.
func incidentFeeds(t *testing.T) *httptest.Server {
	t.Helper()
	now := time.Now().UTC()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feed := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".rss")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>d</description>`, feed, feed)
		n := 0
		for i, s := range incidentStories {
			if s.feed != feed {
				continue
			}
			n++
			fmt.Fprintf(&b, `<item><title>%s</title><link>https://%s.example/news/%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
				html.EscapeString(s.title), feed, s.guid, s.guid, now.Add(-time.Duration(30-5*i)*time.Minute).Format(time.RFC1123Z), html.EscapeString(s.text))
		}
		if n == 0 {
			http.NotFound(w, r)
			return
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, b.String())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// incidentConfig is the config head of the incident tests: a data
// directory and the four outlets of incidentFeeds served at url.
func incidentConfig(url string) string {
	return fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
feeds:
  - name: Outlet A
    url: %[1]s/outlet-a.rss
  - name: Outlet B
    url: %[1]s/outlet-b.rss
  - name: Outlet C
    url: %[1]s/outlet-c.rss
  - name: Outlet D
    url: %[1]s/outlet-d.rss
`, url)
}

// TestIncidentsOverSlack runs the whole binary: three reworded reports
// of one event from three feeds arrive as one Slack message with two
// replies in its thread, and two different events about one company as
// two messages.
func TestIncidentsOverSlack(t *testing.T) {
	feeds := incidentFeeds(t)
	slack := newRecordingSlack(t, "C0INCIDENT", 0)
	cfg := writeConfig(t, t.TempDir(), incidentConfig(feeds.URL)+`rules:
  - name: everything
    query: severity:>=0
    rate_cap: 20
`)
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": slack.URL + "/api/", "SLACK_CHANNEL": "#incidents"}
	if code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}

	posts, _ := slack.calls()
	mentions := func(p url.Values, s incidentStory) bool {
		body := html.UnescapeString(p.Get("text") + p.Get("blocks"))
		return strings.Contains(body, s.title)
	}
	var parents []string // ts of top-level messages naming a Fabrikam report
	fabrikamReplies := map[string]string{}
	northwind := map[string]int{}
	for i, p := range posts {
		ts := fmt.Sprintf("1764000000.%06d", i+1)
		for _, s := range incidentStories {
			if !mentions(p, s) {
				continue
			}
			switch {
			case strings.HasPrefix(s.guid, "d"):
				if p.Get("thread_ts") != "" {
					t.Errorf("%q was posted as a reply in thread %s, want its own message", s.title, p.Get("thread_ts"))
				}
				northwind[s.guid]++
			case p.Get("thread_ts") == "":
				parents = append(parents, ts)
			default:
				fabrikamReplies[s.guid] = p.Get("thread_ts")
			}
		}
	}
	var all []string
	for _, p := range posts {
		all = append(all, fmt.Sprintf("thread_ts=%q %s", p.Get("thread_ts"), p.Get("text")))
	}
	dump := strings.Join(all, "\n")
	t.Logf("posts:\n%s", dump)
	if len(parents) != 1 {
		t.Fatalf("one event from three feeds: got %d top-level messages, want 1:\n%s", len(parents), dump)
	}
	if len(fabrikamReplies) != 2 {
		t.Errorf("follow-ups: got %d reports as thread replies, want 2:\n%s", len(fabrikamReplies), dump)
	}
	for guid, thread := range fabrikamReplies {
		if thread != parents[0] {
			t.Errorf("report %s replied in thread %q, want the incident's message %s", guid, thread, parents[0])
		}
	}
	if northwind["d1"] != 1 || northwind["d2"] != 1 {
		t.Errorf("two events about one company: got %v messages, want one each:\n%s", northwind, dump)
	}
	if len(posts) != 5 {
		t.Errorf("got %d posts, want 5 (3 messages, 2 replies):\n%s", len(posts), dump)
	}
	// Each follow-up says why it joined.
	incidentsCLI(t, env, cfg, 3)
}
