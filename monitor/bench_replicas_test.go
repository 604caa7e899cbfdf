package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

// BenchmarkReplicaRound is BenchmarkPollRound's steady-state round on
// PostgreSQL, shared by one, two or three replicas in this process: each
// has its own store connection pool, pipeline and bleve index, and polls
// only the feeds it leases (the per-host cap of 2 counted across them;
// the server fails the benchmark if it is ever exceeded). The replicas
// share the machine's cores, so the figures show the cost of sharing, not
// the gain of more machines.
//
//	go test -run '^$' -bench ReplicaRound -benchtime 1x ./monitor/
func BenchmarkReplicaRound(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, r := range []int{1, 2, 3} {
			b.Run(fmt.Sprintf("N=%d/replicas=%d", n, r), func(b *testing.B) { benchReplicaRound(b, n, r) })
		}
	}
}

// benchReplica is one replica of BenchmarkReplicaRound.
type benchReplica struct {
	p     *Pipeline
	lease FeedLeaser
	st    *pgstore.Store
	ix    *index.Index
}

func benchReplicaRound(b *testing.B, n, replicas int) {
	srv := &benchServer{texts: newBenchTexts()}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	transport := benchTransport(hs)
	defer transport.CloseIdleConnections()
	list := make([]accordwatch.Feed, n)
	for i := range list {
		list[i] = accordwatch.Feed{Name: fmt.Sprintf("bench %d", i), URL: benchFeedURL(i), Article: accordwatch.ArticleNever}
	}
	cl, err := classify.New(classify.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var warm, round roundStats
	for range b.N {
		b.StopTimer()
		dbURL := accordwatch.Secret(pgtest.Database(b))
		// The measured round runs a day later on the replicas' clock, when
		// every feed is due again whatever its schedule or backoff.
		var offset atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		var reps []*benchReplica
		for i := range replicas {
			st, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ix, err := index.Open(filepath.Join(b.TempDir(), "index"), index.Options{Resolve: cl.Resolve})
			if err != nil {
				b.Fatal(err)
			}
			fetcher := feeds.New(feeds.Options{Client: &http.Client{Transport: transport}, Timeout: 10 * time.Second})
			p, err := New(Options{
				Fetcher: fetcher, Classifier: cl, Store: st, Index: ix, Notifier: &nopNotifier{},
				Rules: []accordwatch.Rule{
					{Name: "Volt Typhoon against a signatory", Query: `actor:"volt typhoon" AND signatory:microsoft AND severity:>=90`},
					{Name: "wiper from Russia", Query: "state:russia AND attack:wiper AND severity:>=90"},
				},
				PerHost: benchPerHost, Now: now,
			})
			if err != nil {
				b.Fatal(err)
			}
			l, err := st.Leases(pgstore.LeaseOptions{Owner: fmt.Sprintf("bench-%d", i), PerHost: benchPerHost, Retry: 100 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			reps = append(reps, &benchReplica{p: p, lease: l, st: st, ix: ix})
		}
		srv.round.Store(0)
		warm = leasedRound(b, reps, list)
		offset.Store(int64(25 * time.Hour))
		srv.round.Store(1)
		b.StartTimer()
		round = leasedRound(b, reps, list)
		b.StopTimer()
		for _, r := range reps {
			r.ix.Close()
			r.st.Close()
		}
	}
	if over := srv.over.Load(); over > 0 {
		b.Fatalf("per-host cap exceeded %d times across replicas (max in flight on one host %d, cap %d)", over, srv.maxHost.Load(), benchPerHost)
	}
	secs := round.wall.Seconds()
	b.ReportMetric(float64(n)/secs, "feeds/s")
	b.ReportMetric(float64(round.newItems)/secs, "new_items/s")
	b.ReportMetric(secs, "round_s")
	b.ReportMetric(warm.wall.Seconds(), "warmup_round_s")
	b.ReportMetric(float64(warm.newItems)/warm.wall.Seconds(), "warmup_new_items/s")
	b.ReportMetric(float64(srv.maxHost.Load()), "max_per_host")
	b.Logf("N=%d replicas=%d warm-up: %s, %d new items; measured: %s, %d fetched, %d new, %d not modified, %d failed",
		n, replicas, warm.wall.Round(time.Millisecond), warm.newItems, round.wall.Round(time.Millisecond),
		round.items, round.newItems, round.notModified, round.failed)
}

// leasedRound runs every replica's dispatcher, each feed due now, until
// every feed has been polled once, and fails if one is polled twice.
func leasedRound(b *testing.B, reps []*benchReplica, list []accordwatch.Feed) roundStats {
	var mu sync.Mutex
	var s roundStats
	polled := map[string]int{}
	all := make(chan struct{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range reps {
		entries := make([]*entry, len(list))
		for i, f := range list {
			entries[i] = r.p.newEntry(f, "", time.Time{}, i)
		}
		d := newDispatcher(r.p, nil)
		d.lease = &leasing{l: r.lease, period: time.Minute, held: map[string]bool{}}
		wg.Go(func() {
			d.run(context.Background(), stop, entries, true, func(e *entry, rep FeedReport) {
				mu.Lock()
				defer mu.Unlock()
				polled[e.feed.URL]++
				if err := s.tally(rep); err != nil {
					b.Error(err)
				}
				if len(polled) == len(list) && s.ok+s.notModified+s.failed == len(list) {
					close(all)
				}
			})
		})
	}
	<-all
	s.wall = time.Since(start)
	close(stop)
	wg.Wait()
	for u, k := range polled {
		if k != 1 {
			b.Fatalf("%s polled %d times in one round, want once", u, k)
		}
	}
	return s
}

// lagIndex is a real index that tells (when someone listens) that an
// Add has finished.
type lagIndex struct {
	*index.Index
	added chan time.Time
}

func (x *lagIndex) Add(ctx context.Context, items []accordwatch.Item) error {
	err := x.Index.Add(ctx, items)
	select {
	case x.added <- time.Now():
	default:
	}
	return err
}

// BenchmarkIndexTailLag measures how long an item written on one replica
// takes to be searchable on another: replica A commits 10 new items, and
// the time runs until replica B's tail — woken by the database's
// notification, its periodic catch-up an hour away — has added them to
// its bleve index.
//
//	go test -run '^$' -bench IndexTailLag ./monitor/
func BenchmarkIndexTailLag(b *testing.B) {
	dbURL := accordwatch.Secret(pgtest.Database(b))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stA, err := pgstore.Open(ctx, dbURL, pgstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer stA.Close()
	stB, err := pgstore.Open(ctx, dbURL, pgstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer stB.Close()
	rawIx, err := index.Open(filepath.Join(b.TempDir(), "index"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer rawIx.Close()
	ix := &lagIndex{Index: rawIx, added: make(chan time.Time, 1)}
	tail, err := NewIndexTail(TailOptions{Changes: stB, Index: ix, CatchUp: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	listening := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { tail.Run(ctx) })
	wg.Go(func() {
		stB.Listen(ctx, pgstore.ItemsChanged, func() { once.Do(func() { close(listening) }); tail.Wake() }, nil)
	})
	<-listening
	lags := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		var items []accordwatch.Item
		for j := range 10 {
			id := fmt.Sprintf("lag-%d-%d", i, j)
			at := time.Now().UTC()
			items = append(items, accordwatch.Item{ID: id, FeedURL: "https://a.example/rss", Title: "Replica lag probe " + id,
				Text: "A short text about a wiper attack attributed to a state actor.", ContentHash: id, Published: at, Fetched: at})
		}
		if _, err := stA.CommitBatch(store.Batch{Items: items}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		head, err := stA.LastChange(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// The tail moves its position just after Add tells; a short poll
		// catches that.
		deadline := time.Now().Add(time.Minute)
		for tail.Last() < head {
			select {
			case <-ix.added:
			case <-time.After(time.Millisecond):
			}
			if time.Now().After(deadline) {
				b.Fatal("replica B never indexed the items")
			}
		}
		lags = append(lags, time.Since(committed))
	}
	b.StopTimer()
	slices.Sort(lags)
	pct := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))]) / 1e6 }
	b.ReportMetric(pct(0.5), "lag_p50_ms")
	b.ReportMetric(pct(0.99), "lag_p99_ms")
}

// BenchmarkAlertLatencyReplicas is BenchmarkAlertLatency (100 feeds, one
// matching item each, each rule its own channel; parse → post received)
// with the store in PostgreSQL and one, two or three replicas sharing it
// in this process: feeds by lease, channels by lock, each replica woken by
// the database when another queues an alert. The fake Slack's per-channel
// 429 spacing is shared, so pacing broken across replicas would show as
// 429s.
//
//	go test -run '^$' -bench AlertLatencyReplicas -benchtime 1x ./monitor/
func BenchmarkAlertLatencyReplicas(b *testing.B) {
	for _, r := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", r), func(b *testing.B) { benchAlertLatencyReplicas(b, r) })
	}
}

func benchAlertLatencyReplicas(b *testing.B, replicas int) {
	const n = 100
	for range b.N {
		items, rules := alertWorkload(n)
		feedSrv := httptest.NewServer(benchFeeds(items))
		sl := &benchSlack{last: map[string]time.Time{}, arrived: map[string]time.Time{}}
		slackSrv := httptest.NewServer(sl)
		clock := &parseClock{f: feeds.New(feeds.Options{AllowPrivateNetworks: true}), parsed: map[string]time.Time{}}
		var list []accordwatch.Feed
		for i := range items {
			list = append(list, accordwatch.Feed{Name: fmt.Sprint(i), URL: fmt.Sprintf("%s/f/%d.rss", feedSrv.URL, i)})
		}
		dbURL := accordwatch.Secret(pgtest.Database(b))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var scheds []*Scheduler
		var closers []func()
		for i := range replicas {
			st, err := pgstore.Open(ctx, dbURL, pgstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ix, err := index.Open(filepath.Join(b.TempDir(), "index"), index.Options{})
			if err != nil {
				b.Fatal(err)
			}
			closers = append(closers, func() { ix.Close(); st.Close() })
			nt, err := notify.New(notify.Options{BotToken: "xoxb-bench", Channel: "#default", APIURL: slackSrv.URL + "/api/"})
			if err != nil {
				b.Fatal(err)
			}
			p, err := New(Options{
				Fetcher: clock, Classifier: nopClassifier{}, Store: st, Index: ix, Notifier: nt,
				Incidents: incident.New(incident.Options{}), Rules: rules, Channels: st.DrainLocks(),
			})
			if err != nil {
				b.Fatal(err)
			}
			s, err := NewScheduler(p, list, nil)
			if err != nil {
				b.Fatal(err)
			}
			l, err := st.Leases(pgstore.LeaseOptions{Owner: fmt.Sprint("bench-", i)})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.ShareFeeds(l, l.Period()); err != nil {
				b.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				b.Fatal(err)
			}
			wg.Go(func() { st.Listen(ctx, pgstore.AlertsQueued, s.DrainNow, nil) })
			scheds = append(scheds, s)
		}
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			if _, _, got, _ := sl.snapshot(); got == n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, s := range scheds {
			<-s.Stop().Done()
		}
		cancel()
		wg.Wait()
		for _, c := range closers {
			c()
		}
		feedSrv.Close()
		slackSrv.Close()
		sl.mu.Lock()
		clock.mu.Lock()
		var lat []time.Duration
		for m, at := range sl.arrived {
			lat = append(lat, at.Sub(clock.parsed[m]))
		}
		posts, limited := sl.posts, sl.limited
		clock.mu.Unlock()
		sl.mu.Unlock()
		if len(lat) != n || posts != n {
			b.Fatalf("got %d of %d alerts delivered in %d posts", len(lat), n, posts)
		}
		slices.Sort(lat)
		b.ReportMetric(float64(percentile(lat, 0.50).Milliseconds()), "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.95).Milliseconds()), "p95-ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
		b.ReportMetric(float64(limited), "429s")
	}
}
