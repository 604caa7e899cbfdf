package monitor

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
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
	"github.com/accordwatch/accordwatch/store"
)

// BenchmarkPollRound is the macro benchmark: one polling round of
// N synthetic feeds (50 items each, realistic sizes and vocabulary) from a
// local HTTP server through the real fetcher, classifier, index and store.
// Feeds live on their own virtual hosts (feed-<i>.bench.test, dialled to
// the one local server) except 5% that share one host, so the per-host
// cap is exercised; 5% are slow (300 ms), 5% fail (500), 20% do not change
// and answer 304 to the conditional request, the rest publish 5 new items
// per round. A warm-up round stores validators and items; the second round
// is the one measured.
//
//	go test -run '^$' -bench PollRound -benchtime 1x ./monitor/
func BenchmarkPollRound(b *testing.B) {
	// The daemon runs under a soft memory limit (config memory_limit_mb,
	// default 100); measure under the same one unless GOMEMLIMIT is set.
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	}
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchPollRound(b, n, "") })
	}
}

// BenchmarkPollRoundArticles is BenchmarkPollRound with half the feeds
// summary-only (a one-sentence teaser per item, the story on the item's
// page on the feed's host), measured with `article: auto` and, for
// comparison, `article: never`. Articles are fetched for new items only,
// so the warm-up round (which stands for an install already running) is
// polled with `never` in both; the measured round's new items of the
// summary-only feeds get their pages fetched and extracted. The server
// fails the benchmark if any host, feed and article requests together,
// ever has more than the per-host cap in flight.
//
//	go test -run '^$' -bench PollRoundArticles -benchtime 1x ./monitor/
func BenchmarkPollRoundArticles(b *testing.B) {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	}
	for _, n := range []int{100, 1000} {
		for _, mode := range []string{accordwatch.ArticleAuto, accordwatch.ArticleNever} {
			b.Run(fmt.Sprintf("N=%d/article=%s", n, mode), func(b *testing.B) { benchPollRound(b, n, mode) })
		}
	}
}

const (
	benchItems    = 50
	benchNewItems = 5 // per changing feed per round
	benchPerHost  = 2
	benchShared   = "shared.bench.test"
)

// benchKind is what a synthetic feed does, by its number.
func benchKind(i int) string {
	switch i % 20 {
	case 0:
		return "slow"
	case 1:
		return "failing"
	case 2, 3, 4, 5:
		return "unchanged"
	case 19:
		return "shared-host"
	}
	return "changing"
}

func benchFeedURL(i int) string {
	if benchKind(i) == "shared-host" {
		return fmt.Sprintf("http://%s/feed/%d.xml", benchShared, i)
	}
	return fmt.Sprintf("http://feed-%d.bench.test/rss.xml", i)
}

// benchServer publishes the synthetic feeds and checks the per-host cap.
// With summaryOnly, the odd-numbered feeds carry a one-sentence teaser per
// item and the server also answers the items' links with article pages
// (counted in pages), on the feed's own host.
type benchServer struct {
	round       atomic.Int32
	texts       benchTexts
	summaryOnly bool
	pages       atomic.Int32
	inHost      sync.Map // host → *atomic.Int32
	maxHost     atomic.Int32
	over        atomic.Int32 // requests that found their host above the cap
	reqs        atomic.Int32
}

func (s *benchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.reqs.Add(1)
	host := r.Host
	v, _ := s.inHost.LoadOrStore(host, new(atomic.Int32))
	in := v.(*atomic.Int32)
	n := in.Add(1)
	defer in.Add(-1)
	for {
		m := s.maxHost.Load()
		if n <= m || s.maxHost.CompareAndSwap(m, n) {
			break
		}
	}
	if n > benchPerHost {
		s.over.Add(1)
	}

	if post, ok := strings.CutPrefix(r.URL.Path, "/posts/"); ok && s.summaryOnly {
		i, err1 := benchFeedIndex(host, "")
		n, err2 := strconv.Atoi(post)
		if err1 != nil || err2 != nil {
			http.NotFound(w, r)
			return
		}
		s.pages.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		bw := bufio.NewWriterSize(w, 32<<10)
		s.texts.page(bw, i, n)
		bw.Flush()
		return
	}
	i, err := benchFeedIndex(host, r.URL.Path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	kind := benchKind(i)
	switch kind {
	case "failing":
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
		return
	case "slow":
		time.Sleep(300 * time.Millisecond)
	case "shared-host":
		time.Sleep(50 * time.Millisecond) // long enough for polls to queue on the host
	}
	gen := int(s.round.Load())
	if kind == "unchanged" {
		gen = 0
	}
	etag := fmt.Sprintf(`"%d-%d"`, i, gen)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	bw := bufio.NewWriterSize(w, 32<<10)
	s.texts.render(bw, i, gen, s.summaryOnly && i%2 == 1)
	bw.Flush()
}

func benchFeedIndex(host, path string) (int, error) {
	if host == benchShared {
		return strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/feed/"), ".xml"))
	}
	return strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(host, "feed-"), ".bench.test"))
}

// benchTexts is a pool of realistic titles and HTML descriptions; feeds
// pick from it by item number, so bodies are built by copying, not by
// generating text on every request.
type benchTexts struct {
	titles []string
	descs  []string
	// teasers are each desc's first sentence, as plain text: what a
	// summary-only feed says about the story.
	teasers []string
}

var (
	benchActors = []string{"APT28", "APT29", "Lazarus Group", "Volt Typhoon", "Sandworm", "Midnight Blizzard",
		"Charming Kitten", "Kimsuky", "Salt Typhoon", "Scattered Spider", "LockBit", "Cl0p"}
	benchSignatories = []string{"Microsoft", "Cisco", "Cloudflare", "Trend Micro", "Oracle", "VMware",
		"Juniper Networks", "Bitdefender", "GitHub", "Symantec", "Tenable", "HPE"}
	benchCompanies = []string{"Google", "Amazon", "Apple", "Ivanti", "Fortinet", "Citrix", "Palo Alto Networks"}
	benchStates    = []string{"Russia", "China", "North Korea", "Iran", "Beijing", "Moscow", "Pyongyang"}
	benchVerbs     = []string{"exploits", "targets", "breaches", "abuses", "hits", "compromises"}
	benchThings    = []string{"zero-day vulnerability", "ransomware campaign", "phishing wave", "supply-chain attack",
		"data breach", "DDoS attack", "wiper malware", "espionage operation", "credential theft"}
	benchFiller = []string{"Researchers said the intrusion began months earlier and went undetected.",
		"The company urged customers to apply the patch released on Tuesday immediately.",
		"Government officials described the operation as state-sponsored and linked it to military intelligence.",
		"CISA added the flaw to its Known Exploited Vulnerabilities catalog and set a remediation deadline.",
		"Incident responders found web shells on edge devices and lateral movement through VPN appliances.",
		"The attackers used stolen OAuth tokens to read email from senior leadership.",
		"Law enforcement agencies from several countries coordinated the takedown of the botnet infrastructure.",
		"Threat intelligence teams shared indicators of compromise with industry partners.",
		"The vulnerability, tracked as CVE-2026-21412, carries a CVSS score of 9.8.",
		"Hospitals and water utilities were among the critical infrastructure operators affected.",
		"Analysts observed the group reusing tooling from earlier campaigns against European ministries.",
		"The vendor said it had no evidence that customer data was exfiltrated."}
	benchNews = []string{"ships security fixes", "releases new detection rules", "publishes a hardening guide", "patches 57 flaws",
		"updates its bug bounty program", "announces a partnership with national CERTs", "deprecates legacy protocols"}
	benchProducts   = []string{"Exchange Server", "IOS XE", "Workers", "Database 23ai", "vCenter", "Junos OS", "GravityZone", "Copilot"}
	benchNewsTail   = []string{"admins urged to update", "details in the advisory", "what changes for customers", "rollout begins today"}
	benchNewsFiller = []string{"The release notes list fixes for privilege escalation and information disclosure issues.",
		"Administrators can deploy the update through the usual channels; no reboot is required.",
		"The guide covers multi-factor authentication, logging and network segmentation.",
		"The company said none of the issues were known to be exploited before disclosure.",
		"Customers on the long-term support branch receive the same fixes next week.",
		"Security researchers who reported the flaws were credited in the advisory."}
)

// newBenchTexts makes the pool: about a third of the stories are about
// threat actors and states, the rest ordinary vendor and patch news.
func newBenchTexts() benchTexts {
	rng := rand.New(rand.NewPCG(42, 2026))
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	var t benchTexts
	for range 257 {
		threat := rng.IntN(3) == 0
		var title string
		if threat {
			title = fmt.Sprintf("%s %s %s %s in attack attributed to %s", pick(benchActors), pick(benchVerbs),
				pick(benchSignatories), pick(benchThings), pick(benchStates))
		} else {
			title = fmt.Sprintf("%s %s for %s; %s", pick(benchSignatories), pick(benchNews), pick(benchProducts), pick(benchNewsTail))
		}
		for len(title) < 80 {
			title += " update"
		}
		t.titles = append(t.titles, title[:80])
		var d strings.Builder
		target := 1000 + rng.IntN(2000)
		for d.Len() < target {
			d.WriteString("<p>")
			if threat {
				fmt.Fprintf(&d, "<strong>%s</strong> said a %s linked to <a href=\"https://intel.example/%s\">%s</a> %s %s systems. ",
					pick(benchSignatories), pick(benchThings), strings.ReplaceAll(pick(benchActors), " ", "-"), pick(benchActors),
					pick(benchVerbs), pick(benchCompanies))
				for range 3 {
					d.WriteString(pick(benchFiller))
					d.WriteByte(' ')
				}
			} else {
				fmt.Fprintf(&d, "<strong>%s</strong> %s for <em>%s</em>. ", pick(benchSignatories), pick(benchNews), pick(benchProducts))
				for range 3 {
					d.WriteString(pick(benchNewsFiller))
					d.WriteByte(' ')
				}
			}
			d.WriteString("</p>\n")
		}
		t.descs = append(t.descs, d.String())
	}
	tag := regexp.MustCompile(`<[^>]*>`)
	for _, d := range t.descs {
		plain := tag.ReplaceAllString(d, "")
		if i := strings.Index(plain, ". "); i > 0 {
			plain = plain[:i+1]
		}
		t.teasers = append(t.teasers, plain)
	}
	return t
}

var benchEpoch = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// page writes the article page of feed i's item n: its description as
// the story, in a newsroom's navigation and footer.
func (t *benchTexts) page(w *bufio.Writer, i, n int) {
	k := (i*7919 + n*104729) % len(t.titles)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title></head><body>
<header><nav><a href="/">Home</a> <a href="/security">Security</a> <a href="/about">About</a></nav></header>
<main><article><h1>%s</h1>
%s</article></main>
<aside><h2>Most read</h2><ul><li><a href="/posts/1">One</a></li><li><a href="/posts/2">Two</a></li></ul></aside>
<footer>Copyright Security Wire %d. Sign up for our newsletter.</footer></body></html>
`, t.titles[k], t.titles[k], t.descs[k], i)
}

// render writes feed i as of generation gen: items gen*5 … gen*5+49,
// newest first; a summary-only feed gives each item's teaser instead of
// its description.
func (t *benchTexts) render(w *bufio.Writer, i, gen int, summaryOnly bool) {
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Security Wire %d</title><link>http://feed-%d.bench.test/</link><description>Security news</description>
`, i, i)
	first := gen * benchNewItems
	for n := first + benchItems - 1; n >= first; n-- {
		k := (i*7919 + n*104729) % len(t.titles)
		desc := t.descs[k]
		if summaryOnly {
			desc = t.teasers[k]
		}
		fmt.Fprintf(w, "<item><title>%s</title><link>http://feed-%d.bench.test/posts/%d</link><guid isPermaLink=\"false\">feed-%d-post-%d</guid><pubDate>%s</pubDate><description><![CDATA[%s]]></description></item>\n",
			t.titles[k], i, n, i, n, benchEpoch.Add(time.Duration(n)*time.Hour).Format(time.RFC1123Z), desc)
	}
	w.WriteString("</channel></rss>\n")
}

// timedStore and timedIndex add up where the writer's time goes.
type timedStore struct {
	*store.Store
	saveState, commit, diff atomic.Int64
	saves                   atomic.Int32
}

func (t *timedStore) SaveFeedState(st accordwatch.FeedState) error {
	defer t.add(&t.saveState, time.Now())
	t.saves.Add(1)
	return t.Store.SaveFeedState(st)
}

func (t *timedStore) CommitBatch(b store.Batch) ([]accordwatch.Alert, error) {
	defer t.add(&t.commit, time.Now())
	return t.Store.CommitBatch(b)
}

func (t *timedStore) Diff(items []accordwatch.Item) ([]store.Change, error) {
	defer t.add(&t.diff, time.Now())
	return t.Store.Diff(items)
}

func (t *timedStore) add(c *atomic.Int64, start time.Time) { c.Add(int64(time.Since(start))) }

type timedIndex struct {
	*index.Index
	add, match atomic.Int64
}

func (t *timedIndex) Add(ctx context.Context, items []accordwatch.Item) error {
	start := time.Now()
	defer func() { t.add.Add(int64(time.Since(start))) }()
	return t.Index.Add(ctx, items)
}

func (t *timedIndex) Matching(ctx context.Context, q string, ids []string) ([]string, error) {
	start := time.Now()
	defer func() { t.match.Add(int64(time.Since(start))) }()
	return t.Index.Matching(ctx, q, ids)
}

func (t *timedStore) String() string {
	return fmt.Sprintf("save state %s (%d), commit %s, diff %s", time.Duration(t.saveState.Swap(0)), t.saves.Swap(0),
		time.Duration(t.commit.Swap(0)), time.Duration(t.diff.Swap(0)))
}

func (t *timedIndex) String() string {
	return fmt.Sprintf("index add %s, rules %s", time.Duration(t.add.Swap(0)), time.Duration(t.match.Swap(0)))
}

type nopNotifier struct{ sent atomic.Int32 }

func (n *nopNotifier) Send(context.Context, accordwatch.Alert, accordwatch.Item) (string, error) {
	n.sent.Add(1)
	return "bench", nil
}

// resetPeakRSS starts a new peak-RSS measurement at the current RSS
// (Linux ≥ 4.0), so each round reports its own peak.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS: %v", err)
	}
}

// procStatus reads sizes in MB from /proc/self/status: VmHWM is the
// peak resident set since the last reset — the whole test process, server
// included, and file-backed pages (bbolt's and bleve's mmaps) included —
// RssAnon and RssFile split the current one.
func procStatus() map[string]float64 {
	out := map[string]float64{}
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, " kB")))
		out[k] = float64(kb) / 1024
	}
	return out
}

// rssSampler tracks the peak of anonymous memory (Go heap, stacks,
// runtime), which VmHWM lumps together with mapped files.
type rssSampler struct {
	stop     chan struct{}
	done     chan struct{}
	peakAnon float64
	peakFile float64
}

func startRSSSampler() *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			st := procStatus()
			s.peakAnon = max(s.peakAnon, st["RssAnon"])
			s.peakFile = max(s.peakFile, st["RssFile"])
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) finish() (anon, file float64) {
	close(s.stop)
	<-s.done
	return s.peakAnon, s.peakFile
}

type roundStats struct {
	wall                                     time.Duration
	ok, notModified, failed, items, newItems int
	alerts, sent                             int
	peakMB, peakAnonMB, peakFileMB           float64
	// pages are article pages fetched; allocMB and mallocs what the
	// round allocated (the whole process, server included).
	pages   int
	allocMB float64
	mallocs uint64
}

// tally counts one feed's report into the round; it returns an error for
// a failure other than the benchmark server's deliberate 500s.
func (s *roundStats) tally(f FeedReport) error {
	switch {
	case f.Err != nil:
		s.failed++
		if !strings.Contains(f.Err.Error(), "500") {
			return fmt.Errorf("feed %s failed unexpectedly: %w", f.Feed.URL, f.Err)
		}
	case f.NotModified:
		s.notModified++
	default:
		s.ok++
	}
	s.items += f.Fetched
	s.newItems += f.New
	s.alerts += f.Alerts
	return nil
}

// sizeOf is the size of a file or a directory tree, for the log.
func sizeOf(path string) string {
	var n int64
	filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// benchTransport sends every virtual host of the benchmark feeds to the
// one local server hs.
func benchTransport(hs *httptest.Server) *http.Transport {
	addr := hs.Listener.Addr().String()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: benchPerHost,
		IdleConnTimeout:     90 * time.Second,
	}
}

// benchPollRound runs the rounds; mode "" is the original feeds (full
// descriptions, no articles), otherwise half the feeds are summary-only
// and the measured round uses that article mode.
func benchPollRound(b *testing.B, n int, mode string) {
	srv := &benchServer{texts: newBenchTexts(), summaryOnly: mode != ""}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	transport := benchTransport(hs)
	defer transport.CloseIdleConnections()

	list := make([]accordwatch.Feed, n)
	warmList := make([]accordwatch.Feed, n)
	for i := range list {
		list[i] = accordwatch.Feed{Name: fmt.Sprintf("bench %d", i), URL: benchFeedURL(i), Article: accordwatch.ArticleNever}
		warmList[i] = list[i]
		if mode != "" {
			list[i].Article = mode
		}
	}
	cl, err := classify.New(classify.Options{})
	if err != nil {
		b.Fatal(err)
	}

	var warm, round roundStats
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		rawStore, err := store.Open(filepath.Join(dir, "accordwatch.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rawIndex, err := index.Open(filepath.Join(dir, "index"), index.Options{Resolve: cl.Resolve})
		if err != nil {
			b.Fatal(err)
		}
		st, ix := &timedStore{Store: rawStore}, &timedIndex{Index: rawIndex}
		notifier := &nopNotifier{}
		fetcher := feeds.New(feeds.Options{Client: &http.Client{Transport: transport}, Timeout: 10 * time.Second,
			Articles: article.New(article.Options{})})
		p, err := New(Options{
			Fetcher: fetcher, Articles: fetcher,
			Classifier: cl, Store: st, Index: ix, Notifier: notifier,
			Rules: []accordwatch.Rule{
				{Name: "Volt Typhoon against a signatory", Query: `actor:"volt typhoon" AND signatory:microsoft AND severity:>=90`},
				{Name: "wiper from Russia", Query: "state:russia AND attack:wiper AND severity:>=90"},
			},
			PerHost: benchPerHost,
		})
		if err != nil {
			b.Fatal(err)
		}
		srv.round.Store(0)
		runtime.GC()
		resetPeakRSS(b)
		warm = runBenchRound(b, p, warmList, notifier)
		b.Logf("N=%d warm-up: %v; %v; db %s, index %s", n, st, ix, sizeOf(filepath.Join(dir, "accordwatch.db")), sizeOf(filepath.Join(dir, "index")))
		srv.round.Store(1)
		runtime.GC()
		resetPeakRSS(b)
		pagesBefore := srv.pages.Load()
		b.StartTimer()
		round = runBenchRound(b, p, list, notifier)
		b.StopTimer()
		round.pages = int(srv.pages.Load() - pagesBefore)
		b.Logf("N=%d measured: %v; %v", n, st, ix)
		ix.Close()
		st.Close()
	}

	if over := srv.over.Load(); over > 0 {
		b.Fatalf("per-host cap exceeded %d times (max in flight on one host %d, cap %d)", over, srv.maxHost.Load(), benchPerHost)
	}
	wantFailed := 0
	for i := range n {
		if benchKind(i) == "failing" {
			wantFailed++
		}
	}
	if round.failed != wantFailed || round.ok+round.notModified+round.failed != n {
		b.Fatalf("measured round: %+v, want %d failed of %d", round, wantFailed, n)
	}
	if round.newItems == 0 {
		b.Fatal("measured round stored no new items")
	}
	if (mode == accordwatch.ArticleAuto) != (round.pages > 0) {
		b.Fatalf("article mode %q: %d article pages fetched", mode, round.pages)
	}
	secs := round.wall.Seconds()
	b.ReportMetric(float64(n)/secs, "feeds/s")
	b.ReportMetric(float64(round.items)/secs, "items/s")
	b.ReportMetric(float64(round.notModified)/float64(n), "not_modified_ratio")
	b.ReportMetric(float64(round.newItems), "new_items")
	b.ReportMetric(secs, "round_s")
	b.ReportMetric(warm.wall.Seconds(), "warmup_round_s")
	b.ReportMetric(float64(warm.newItems), "warmup_new_items")
	b.ReportMetric(float64(srv.maxHost.Load()), "max_per_host")
	b.ReportMetric(round.peakMB, "peak_rss_MB")
	b.ReportMetric(round.peakAnonMB, "peak_anon_MB")
	b.ReportMetric(warm.peakMB, "warmup_peak_rss_MB")
	b.ReportMetric(warm.peakAnonMB, "warmup_peak_anon_MB")
	b.ReportMetric(float64(round.pages), "article_fetches")
	b.ReportMetric(round.allocMB, "alloc_MB")
	b.ReportMetric(float64(round.mallocs), "allocs")
	b.Logf("N=%d article=%q: %d article pages fetched in the measured round, %.0f MB allocated (%d allocations)", n, mode, round.pages, round.allocMB, round.mallocs)
	b.Logf("N=%d warm-up: %s, %d new items, %d alerts sent, peak RSS %.0f MB (anon %.0f, files %.0f); measured: %s, %d fetched items, %d new, %d not modified, %d failed, %d alerts sent, peak RSS %.0f MB (anon %.0f, files %.0f)",
		n, warm.wall.Round(time.Millisecond), warm.newItems, warm.sent, warm.peakMB, warm.peakAnonMB, warm.peakFileMB,
		round.wall.Round(time.Millisecond), round.items, round.newItems, round.notModified, round.failed, round.sent,
		round.peakMB, round.peakAnonMB, round.peakFileMB)
}

func runBenchRound(b *testing.B, p *Pipeline, list []accordwatch.Feed, notifier *nopNotifier) roundStats {
	before := notifier.sent.Load()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	sampler := startRSSSampler()
	start := time.Now()
	rep, err := p.RunOnce(context.Background(), list)
	var s roundStats
	s.wall = time.Since(start)
	runtime.ReadMemStats(&m1)
	s.allocMB, s.mallocs = float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), m1.Mallocs-m0.Mallocs
	s.peakAnonMB, s.peakFileMB = sampler.finish()
	s.peakMB = procStatus()["VmHWM"]
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range rep.Feeds {
		if err := s.tally(f); err != nil {
			b.Fatal(err)
		}
	}
	s.sent = int(notifier.sent.Load() - before)
	return s
}
