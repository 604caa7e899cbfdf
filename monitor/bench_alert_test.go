package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// The alerting benchmark: from "feed parsed" to chat.postMessage
// received by Slack, through the real fetcher, store, index, clusterer,
// outbox and notifier (the classifier is a no-op: it is measured on its
// own). Slack is a local fake that answers 429 whenever two posts to one
// channel arrive less than a second apart (minus 50 ms for scheduling
// jitter between two requests).
//
//	go test -run '^$' -bench 'Alert(Latency|Burst)' -benchtime 1x ./monitor/

// benchSlack is the fake Slack Web API.
type benchSlack struct {
	mu       sync.Mutex
	last     map[string]time.Time
	arrived  map[string]time.Time // first accepted post naming each item marker
	posts    int
	limited  int
	lastPost time.Time
}

var benchMarker = regexp.MustCompile(`bmk\d{4}`)

func (s *benchSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/api/chat.postMessage" && r.URL.Path != "/api/chat.update" {
		http.NotFound(w, r) // no channel lookups: IDs come from the posts
		return
	}
	if r.URL.Path == "/api/chat.update" {
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
		return
	}
	now := time.Now()
	ch := r.PostForm.Get("channel")
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.last[ch]; ok && now.Sub(last) < time.Second-50*time.Millisecond {
		s.limited++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
		return
	}
	s.last[ch] = now
	s.posts++
	s.lastPost = now
	if m := benchMarker.FindString(r.PostForm.Get("text")); m != "" {
		if _, ok := s.arrived[m]; !ok {
			s.arrived[m] = now
		}
	}
	fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1764000000.%06d"}`, ch, s.posts)
}

func (s *benchSlack) snapshot() (posts, limited, arrived int, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts, s.limited, len(s.arrived), s.lastPost
}

// parseClock wraps the real fetcher and notes when each item marker was
// parsed: the start of the measured path.
type parseClock struct {
	f      *feeds.Fetcher
	mu     sync.Mutex
	parsed map[string]time.Time
}

func (c *parseClock) Fetch(ctx context.Context, feed accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error) {
	res, err := c.f.Fetch(ctx, feed, prev)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range res.Items {
		if m := benchMarker.FindString(it.Title); m != "" {
			if _, ok := c.parsed[m]; !ok {
				c.parsed[m] = now
			}
		}
	}
	return res, err
}

// benchItems serves feeds: path /f/<i>.rss → items[i].
func benchFeeds(items [][]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/f/%d.rss", &i); err != nil || i >= len(items) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>b</title><link>https://bench.example/</link><description>d</description>`)
		for _, it := range items[i] {
			fmt.Fprint(w, it)
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
}

// benchItem is one RSS item whose title words are all its own, so no two
// items are near-duplicates.
func benchItem(n int, keyword string) string {
	return fmt.Sprintf(`<item><title>bmk%04d quartz%d lantern%d meadow%d</title><link>https://bench.example/%d</link><guid isPermaLink="false">g%d</guid><pubDate>%s</pubDate><description>Report about %s number %d.</description></item>`,
		n, n, n, n, n, n, time.Now().UTC().Format(time.RFC1123Z), keyword, n)
}

type alertRig struct {
	p     *Pipeline
	st    *store.Store
	ix    *index.Index
	slack *benchSlack
	clock *parseClock
	list  []accordwatch.Feed
}

func newAlertRig(b *testing.B, items [][]string, rules []accordwatch.Rule) *alertRig {
	b.Helper()
	dir := b.TempDir()
	feedSrv := httptest.NewServer(benchFeeds(items))
	b.Cleanup(feedSrv.Close)
	sl := &benchSlack{last: map[string]time.Time{}, arrived: map[string]time.Time{}}
	slackSrv := httptest.NewServer(sl)
	b.Cleanup(slackSrv.Close)
	st, err := store.Open(filepath.Join(dir, "s.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	n, err := notify.New(notify.Options{BotToken: "xoxb-bench", Channel: "#default", APIURL: slackSrv.URL + "/api/"})
	if err != nil {
		b.Fatal(err)
	}
	clock := &parseClock{f: feeds.New(feeds.Options{AllowPrivateNetworks: true}), parsed: map[string]time.Time{}}
	p, err := New(Options{
		Fetcher: clock, Classifier: nopClassifier{}, Store: st, Index: ix, Notifier: n,
		Incidents: incident.New(incident.Options{}), Rules: rules,
	})
	if err != nil {
		b.Fatal(err)
	}
	var list []accordwatch.Feed
	for i := range items {
		list = append(list, accordwatch.Feed{Name: fmt.Sprint(i), URL: fmt.Sprintf("%s/f/%d.rss", feedSrv.URL, i)})
	}
	return &alertRig{p: p, st: st, ix: ix, slack: sl, clock: clock, list: list}
}

// run starts the scheduler and stops it once done holds (or after limit).
func (r *alertRig) run(b *testing.B, limit time.Duration, done func() bool) {
	b.Helper()
	s, err := NewScheduler(r.p, r.list, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	<-s.Stop().Done()
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// alertWorkload is n feeds with one new item each, matching the rule of
// its own channel.
func alertWorkload(n int) (items [][]string, rules []accordwatch.Rule) {
	items = make([][]string, n)
	for i := range n {
		items[i] = []string{benchItem(i, fmt.Sprintf("chanword%d", i))}
		rules = append(rules, accordwatch.Rule{Name: fmt.Sprint("r", i), Query: fmt.Sprintf("chanword%d", i), Channel: fmt.Sprintf("#bench-%d", i)})
	}
	return items, rules
}

// BenchmarkAlertLatency: 100 feeds, each with one new item matching the
// rule of its own channel, first polled over the scheduler's start spread
// (≤10 s); per item, the time from its feed parsed to its post received.
func BenchmarkAlertLatency(b *testing.B) {
	const n = 100
	for range b.N {
		items, rules := alertWorkload(n)
		r := newAlertRig(b, items, rules)
		r.run(b, 60*time.Second, func() bool { _, _, got, _ := r.slack.snapshot(); return got == n })
		r.slack.mu.Lock()
		r.clock.mu.Lock()
		var lat []time.Duration
		for m, at := range r.slack.arrived {
			lat = append(lat, at.Sub(r.clock.parsed[m]))
		}
		limited := r.slack.limited
		r.clock.mu.Unlock()
		r.slack.mu.Unlock()
		if len(lat) != n {
			b.Fatalf("got %d of %d alerts delivered", len(lat), n)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(percentile(lat, 0.50).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.95).Milliseconds()), "p95-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
		b.ReportMetric(float64(limited), "429s")
	}
}

// BenchmarkAlertBurst: one feed brings 100 unrelated matching items for
// one channel whose rule caps new incidents at 20 per hour: 20 incident
// messages and one summary of the other 80, spaced 1/s, without a 429.
func BenchmarkAlertBurst(b *testing.B) {
	const n, rateCap = 100, 20
	for range b.N {
		var feed []string
		for i := range n {
			feed = append(feed, benchItem(i, "burstword"))
		}
		r := newAlertRig(b, [][]string{feed}, []accordwatch.Rule{{Name: "burst", Query: "burstword", Channel: "#burst", RateCap: rateCap}})
		r.run(b, 60*time.Second, func() bool { posts, _, _, _ := r.slack.snapshot(); return posts >= rateCap+1 })
		time.Sleep(1500 * time.Millisecond) // anything extra would show now
		posts, limited, _, last := r.slack.snapshot()
		var first time.Time
		r.clock.mu.Lock()
		for _, t := range r.clock.parsed {
			if first.IsZero() || t.Before(first) {
				first = t
			}
		}
		r.clock.mu.Unlock()
		all, err := r.st.Alerts()
		if err != nil {
			b.Fatal(err)
		}
		summarised := 0
		for _, a := range all {
			if a.Kind == accordwatch.KindSummary {
				summarised += len(a.Summary)
			}
		}
		if posts != rateCap+1 || limited != 0 || summarised != n-rateCap {
			b.Errorf("got %d posts, %d 429s, %d summarised; want %d posts, 0 429s, %d summarised", posts, limited, summarised, rateCap+1, n-rateCap)
		}
		b.ReportMetric(float64(posts), "posts")
		b.ReportMetric(float64(summarised), "summarised")
		b.ReportMetric(float64(limited), "429s")
		b.ReportMetric(last.Sub(first).Seconds(), "total-s")
	}
}
