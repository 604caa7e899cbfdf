package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch/internal/pgtest"
)

// chaosFeeds and chaosStories size the chaos test: a few dozen feeds of
// one story each (Slack is paced at one message a second per channel,
// so each story costs a second of the test).
const chaosFeeds, chaosStories = 30, 1

var chaosPlaces = []string{"Volcano observatory", "Glacier survey", "Orchard cooperative", "Lighthouse registry", "Bakery chain",
	"Harbour pilots", "Tram depot", "Beekeepers guild", "Ferry operator", "Quarry consortium", "Planetarium", "Textile mill",
	"Ski resort", "Dairy collective", "Opera house"}

var chaosEvents = []string{"network defaced", "leaks passwords", "hit by wiper", "exposes records", "payment skimmer found",
	"scheduling outage", "ransom note received", "mail server hijacked"}

// chaosTitle is story s of feed f: no two titles are the same, though
// stories sharing a place may group into one incident; a story reaches
// Slack as a message or as a reply in its incident's thread, and the
// test counts either.
func chaosTitle(f, s int) string {
	i := f*chaosStories + s
	return fmt.Sprintf("%s %s, case %c%c", chaosPlaces[i%len(chaosPlaces)], chaosEvents[(i/len(chaosPlaces))%len(chaosEvents)], 'A'+i/26, 'a'+i%26)
}

// chaosTally counts the messages (top level or in a thread) naming each
// story.
func chaosTally(f *recordingSlack) (perStory map[string]int, posts int) {
	all, _ := f.calls()
	perStory = map[string]int{}
	for _, p := range all {
		body := p.Get("text") + p.Get("blocks")
		for fi := range chaosFeeds {
			for s := range chaosStories {
				if title := chaosTitle(fi, s); strings.Contains(body, title) {
					perStory[title]++
				}
			}
		}
	}
	return perStory, len(all)
}

// TestChaosThreeReplicasOneKilled runs three serve processes on one
// database over a few dozen feeds of one host (the per-host cap of 2,
// shared by all three, makes the round last), kills one with SIGKILL in
// the middle of the round and lets the other two finish: every story
// reaches Slack, at most one of them twice (a post in flight at the
// kill), and both survivors find every story in their own index.
func TestChaosThreeReplicasOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three serve processes")
	}
	dbURL := pgtest.Database(t)
	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fi int
		if _, err := fmt.Sscanf(r.URL.Path, "/f/%d.rss", &fi); err != nil || fi < 0 || fi >= chaosFeeds {
			http.NotFound(w, r)
			return
		}
		// A slow publisher on one host (two fetches at once across the
		// replicas): the round lasts about 12 s and outlives the kill.
		select {
		case <-time.After(800 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Chaos %d</title><link>https://chaos.example/%d</link><description>d</description>`, fi, fi)
		for s := range chaosStories {
			fmt.Fprintf(&b, `<item><title>%s</title><link>https://chaos.example/%d/%d</link><guid isPermaLink="false">chaos-%d-%d</guid><pubDate>%s</pubDate><description>Zebracorn report %d.</description></item>`,
				chaosTitle(fi, s), fi, s, fi, s, time.Now().UTC().Add(-time.Duration(s+1)*time.Minute).Format(time.RFC1123Z), fi*chaosStories+s)
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, b.String())
	}))
	t.Cleanup(feedSrv.Close)
	slack := newRecordingSlack(t, "C0CHAOS", 50*time.Millisecond) // answers after a moment: posts are in flight at the kill
	env := []string{envDatabaseURL + "=" + dbURL, "SLACK_BOT_TOKEN=xoxb-chaos-token", "SLACK_API_URL=" + slack.URL + "/api/", "SLACK_CHANNEL=#chaos"}

	var feedList strings.Builder
	for fi := range chaosFeeds {
		fmt.Fprintf(&feedList, "  - name: Chaos %d\n    url: %s/f/%d.rss\n", fi, feedSrv.URL, fi)
	}
	var cfgs []string
	var procs []*serveProc
	for range 3 {
		dir := t.TempDir()
		cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: data
fetch:
  allow_private_networks: true # the test's feeds are on loopback
listen: 127.0.0.1:0
timezone: UTC
polling:
  lease_period: 2s
feeds:
%srules:
  - name: zebracorn
    query: zebracorn
`, feedList.String()))
		cfgs = append(cfgs, cfg)
		procs = append(procs, startServe(t, cfg, env))
	}
	total := chaosFeeds * chaosStories
	waitFor(t, procs[0], 60*time.Second, "the round to be well under way", func() bool {
		_, posts := chaosTally(slack)
		return posts >= 5
	})
	procs[0].kill()
	_, atKill := chaosTally(slack)
	killed := time.Now()
	t.Logf("killed replica 0 after %d of %d stories were posted", atKill, total)

	survivor := procs[1]
	waitFor(t, survivor, 90*time.Second, "every story in Slack", func() bool {
		per, _ := chaosTally(slack)
		return len(per) == total
	})
	t.Logf("every story in Slack %s after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond) // room for a late duplicate
	per, posts := chaosTally(slack)
	dups := posts - len(per)
	for title, n := range per {
		if n > 1 {
			t.Logf("posted %d times: %s", n, title)
		}
	}
	if dups > 1 {
		t.Errorf("got %d duplicate messages, want at most 1 (a post in flight at the kill)", dups)
	}
	for i, cfg := range cfgs[1:] {
		waitFor(t, procs[i+1], 30*time.Second, fmt.Sprintf("survivor %d to find every story", i+1), func() bool {
			return searchJSON(t, nil, "--config", cfg, "zebracorn").Total == uint64(total)
		})
	}
	t.Logf("both survivors find every story %s after the kill", time.Since(killed).Round(time.Millisecond))
	for i, p := range procs {
		t.Logf("replica %d polled %d feeds", i, strings.Count(p.stderr.String(), `msg="feed polled"`))
	}
	for i, p := range procs {
		if log := p.stderr.String(); strings.Contains(log, "xoxb-chaos-token") || strings.Contains(log, dbURL) {
			t.Errorf("replica %d logged a secret", i)
		}
	}
}
