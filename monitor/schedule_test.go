package monitor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr bool
	}{
		{"@every 15m", false},
		{"*/5 * * * *", false},
		{"0 9 * * MON", false},
		{"@hourly", false},
		{"", true},
		{"every 15 minutes", true},
		{"CRON_TZ=UTC", true}, // panics robfig/cron v3.0.1's parser
		{"TZ=Europe/Paris 0 9 * * *", true},
		{"0 8 30 2 *", true}, // February 30th never comes
		{"0 0 * * 7", true},
		{"* * * * * *", true}, // no seconds field
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			err := ValidateSchedule(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Errorf("ValidateSchedule(%q) = %v, want error %v", tt.spec, err, tt.wantErr)
			}
		})
	}
}

func newTestPipeline(t *testing.T, f Fetcher) (*Pipeline, *memStore) {
	t.Helper()
	ms := newMemStore()
	p, err := New(Options{Fetcher: f, Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: &countingNotifier{}})
	if err != nil {
		t.Fatal(err)
	}
	return p, ms
}

// pollLog records when each feed was polled.
type pollLog struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

func (l *pollLog) fetcher(delay time.Duration, err error) funcFetcher {
	return func(_ context.Context, f accordwatch.Feed) (feeds.Result, error) {
		l.mu.Lock()
		if l.times == nil {
			l.times = map[string][]time.Time{}
		}
		l.times[f.Name] = append(l.times[f.Name], time.Now())
		l.mu.Unlock()
		time.Sleep(delay)
		return feeds.Result{}, err
	}
}

func (l *pollLog) get(name string) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.times[name]...)
}

// runScheduler starts a scheduler over list, lets the fake clock run for
// d and stops it.
func runScheduler(t *testing.T, p *Pipeline, list []accordwatch.Feed, d time.Duration) *Scheduler {
	t.Helper()
	s, err := NewScheduler(p, list, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	synctest.Wait()
	<-s.Stop().Done()
	return s
}

func TestFeedsFollowTheirSchedulesWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log pollLog
		p, ms := newTestPipeline(t, log.fetcher(0, nil))
		start := time.Now()
		list := []accordwatch.Feed{
			{Name: "fast", URL: "https://a.example/feed", Schedule: "@every 15m"},
			{Name: "hourly", URL: "https://b.example/feed", Schedule: "0 * * * *"},
			{Name: "default", URL: "https://c.example/feed"},
			{Name: "off", URL: "https://d.example/feed", Disabled: true},
		}
		runScheduler(t, p, list, 2*time.Hour+10*time.Minute)

		fast := log.get("fast")
		if len(fast) < 8 || len(fast) > 9 {
			t.Fatalf("fast feed: got %d polls in 2h10m, want 8-9", len(fast))
		}
		// Never polled: due at start, spread over the first seconds.
		if first := fast[0].Sub(start); first < 0 || first >= startSpread {
			t.Errorf("fast feed: first poll after %s, want within %s of the start", first, startSpread)
		}
		for i := 1; i < len(fast); i++ {
			if gap := fast[i].Sub(fast[i-1]); gap < 15*time.Minute || gap >= 15*time.Minute+90*time.Second {
				t.Errorf("fast feed: gap %d is %s, want 15m plus at most 90s", i, gap)
			}
		}
		// The hourly feed runs at the top of the hour plus under 6 minutes.
		hourly := log.get("hourly")
		if len(hourly) != 3 {
			t.Fatalf("hourly feed: got %d polls, want 3 (start, 01:00, 02:00)", len(hourly))
		}
		for i, at := range hourly[1:] {
			if at.Minute() >= 6 || at.Hour() != start.Add(time.Duration(i+1)*time.Hour).Hour() {
				t.Errorf("hourly feed: poll %d at %s, want the top of hour %d plus jitter", i+1, at.Format(time.TimeOnly), i+1)
			}
		}
		if got := len(log.get("default")); got < 8 || got > 9 {
			t.Errorf("feed without a schedule: got %d polls, want 8-9 on the default @every 15m", got)
		}
		if got := len(log.get("off")); got != 0 {
			t.Errorf("disabled feed: got %d polls, want 0", got)
		}
		// The next check is saved after every attempt.
		st := ms.states["https://a.example/feed"]
		if want := fast[len(fast)-1].Add(15 * time.Minute); st.NextCheckAt.Before(want) || st.NextCheckAt.After(want.Add(90*time.Second)) {
			t.Errorf("saved next check %s, want 15m-16m30s after the last poll at %s", st.NextCheckAt, fast[len(fast)-1])
		}
	})
}

func TestRestartNeitherBurstsNorSkips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log pollLog
		p, ms := newTestPipeline(t, log.fetcher(0, nil))
		now := time.Now()
		ms.states["https://later.example/"] = accordwatch.FeedState{URL: "https://later.example/",
			LastAttempt: now.Add(-5 * time.Minute), NextCheckAt: now.Add(10 * time.Minute)}
		ms.states["https://overdue.example/"] = accordwatch.FeedState{URL: "https://overdue.example/",
			LastAttempt: now.Add(-time.Hour), NextCheckAt: now.Add(-45 * time.Minute)}
		ms.states["https://far.example/"] = accordwatch.FeedState{URL: "https://far.example/",
			LastAttempt: now, NextCheckAt: now.Add(30 * 24 * time.Hour)} // a stale clock
		list := []accordwatch.Feed{
			{Name: "later", URL: "https://later.example/", Schedule: "@every 15m"},
			{Name: "overdue", URL: "https://overdue.example/", Schedule: "@every 15m"},
			{Name: "new", URL: "https://new.example/", Schedule: "@every 15m"},
			{Name: "far", URL: "https://far.example/", Schedule: "@every 15m"},
		}
		s, err := NewScheduler(p, list, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(9 * time.Minute)
		synctest.Wait()
		if got := len(log.get("later")); got != 0 {
			t.Errorf("feed due in 10m: got %d polls after 9m, want 0 (no burst at start)", got)
		}
		for _, name := range []string{"overdue", "new"} {
			if got := len(log.get(name)); got != 1 {
				t.Errorf("%s feed: got %d polls after 9m, want 1 (caught up at start)", name, got)
			}
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := log.get("later"); len(got) != 1 || !got[0].Equal(now.Add(10*time.Minute)) {
			t.Errorf("feed due in 10m: got polls %v, want one at its stored next check %s", got, now.Add(10*time.Minute))
		}
		<-s.Stop().Done()

		// A second scheduler over the same store resumes, it does not restart.
		restart := time.Now()
		s2, _ := NewScheduler(p, list, nil)
		if err := s2.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		<-s2.Stop().Done()
		for _, name := range []string{"later", "overdue", "new"} {
			for _, at := range log.get(name) {
				if !at.Before(restart) {
					t.Errorf("%s feed: polled at %s right after the restart, want its saved next check", name, at.Sub(restart))
				}
			}
		}
		// A next check beyond the longest interval is pulled in to it.
		if got := len(log.get("far")); got != 0 {
			t.Errorf("far feed: got %d polls, want 0 yet", got)
		}
	})
}

func TestFarNextCheckIsCappedAtMaxInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log pollLog
		p, ms := newTestPipeline(t, log.fetcher(0, nil))
		now := time.Now()
		ms.states["https://far.example/"] = accordwatch.FeedState{URL: "https://far.example/",
			LastAttempt: now, NextCheckAt: now.Add(30 * 24 * time.Hour)}
		runScheduler(t, p, []accordwatch.Feed{{Name: "far", URL: "https://far.example/"}}, 24*time.Hour+time.Second)
		if got := log.get("far"); len(got) != 1 || !got[0].Equal(now.Add(24*time.Hour)) {
			t.Errorf("got polls %v, want one at start + MaxInterval (24h)", got)
		}
	})
}

func TestPanickingFeedIsRecoveredAndKeepsPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		p, ms := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			calls.Add(1)
			panic("parser bug")
		}))
		runScheduler(t, p, []accordwatch.Feed{{Name: "bad", URL: "https://bad.example/", Schedule: "@every 15m"}}, 4*time.Hour)
		// Backoff from 15m: polls at ~0, 15m, 45m, 1h45m, 3h45m.
		if got := calls.Load(); got != 5 {
			t.Errorf("got %d polls in 4h, want 5: a panic must neither stop the feed nor skip the backoff", got)
		}
		st := ms.states["https://bad.example/"]
		if st.ConsecutiveFailures != 5 || !strings.Contains(st.LastError, "parser bug") {
			t.Errorf("got state %d failures, reason %q; want 5 failures naming the panic", st.ConsecutiveFailures, st.LastError)
		}
	})
}

func TestSlowFeedNeverOverlapsItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, maxRunning, calls atomic.Int32
		p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			calls.Add(1)
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(40 * time.Minute) // a slow feed
			running.Add(-1)
			return feeds.Result{}, nil
		}))
		runScheduler(t, p, []accordwatch.Feed{{Name: "slow", URL: "https://slow.example/", Schedule: "@every 15m"}}, 2*time.Hour+time.Second)
		if got := maxRunning.Load(); got != 1 {
			t.Errorf("got %d concurrent runs of one feed, want 1", got)
		}
		// Each run takes 40m and the next is due 15m after it ends.
		if got := calls.Load(); got != 3 {
			t.Errorf("got %d runs, want 3", got)
		}
	})
}

// capFetcher tracks fetches in flight, overall and per host.
type capFetcher struct {
	mu                sync.Mutex
	inflight, maxAll  int
	hosts, maxPerHost map[string]int
	polled            map[string]int
}

func (c *capFetcher) Fetch(_ context.Context, f accordwatch.Feed, _ accordwatch.FeedState) (feeds.Result, error) {
	h := hostOf(f.URL, "")
	c.mu.Lock()
	c.inflight++
	c.hosts[h]++
	c.polled[f.URL]++
	c.maxAll = max(c.maxAll, c.inflight)
	c.maxPerHost[h] = max(c.maxPerHost[h], c.hosts[h])
	c.mu.Unlock()
	time.Sleep(time.Minute)
	c.mu.Lock()
	c.inflight--
	c.hosts[h]--
	c.mu.Unlock()
	return feeds.Result{State: accordwatch.FeedState{URL: f.URL}}, nil
}

func TestConcurrencyAndPerHostCaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &capFetcher{hosts: map[string]int{}, maxPerHost: map[string]int{}, polled: map[string]int{}}
		p, err := New(Options{Fetcher: c, Classifier: nopClassifier{}, Store: newMemStore(), Index: nopIndex{},
			Notifier: &countingNotifier{}, Concurrency: 4, PerHost: 2})
		if err != nil {
			t.Fatal(err)
		}
		var list []accordwatch.Feed
		for i := range 12 { // one busy host first, so a naive queue would stall on it
			list = append(list, accordwatch.Feed{URL: fmt.Sprintf("https://big.example/feed/%d", i)})
		}
		for i := range 6 {
			list = append(list, accordwatch.Feed{URL: fmt.Sprintf("https://host%d.example/feed", i)})
		}
		list = append(list, accordwatch.Feed{URL: "/srv/a.xml"}, accordwatch.Feed{URL: "/srv/b.xml"}, accordwatch.Feed{URL: "/srv/c.xml"})
		start := time.Now()
		rep, err := p.RunOnce(t.Context(), list)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Feeds) != len(list) {
			t.Fatalf("got %d reports, want %d", len(rep.Feeds), len(list))
		}
		for i, r := range rep.Feeds {
			if r.Feed.URL != list[i].URL || r.Err != nil {
				t.Errorf("report %d: got %s (err %v), want %s in list order", i, r.Feed.URL, r.Err, list[i].URL)
			}
			if c.polled[list[i].URL] != 1 {
				t.Errorf("%s: polled %d times, want 1", list[i].URL, c.polled[list[i].URL])
			}
		}
		if c.maxAll != 4 {
			t.Errorf("got %d fetches at once, want the cap of 4 used and never exceeded", c.maxAll)
		}
		for h, n := range c.maxPerHost {
			if n > 2 {
				t.Errorf("host %s: got %d fetches at once, want at most 2", h, n)
			}
		}
		// 21 one-minute fetches: 12 on big.example need 6 minutes at 2 at a
		// time, the others fill the remaining 2 slots alongside.
		if took := time.Since(start); took > 7*time.Minute {
			t.Errorf("round took %s, want about 6m: other hosts must not wait behind a capped one", took)
		}
	})
}

func TestPeriodicJobPanicIsRecoveredAndKeepsItsSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{}, nil
		}))
		s, _ := NewScheduler(p, nil, nil)
		var calls atomic.Int32
		if err := s.AddJob("@every 15m", "digest", func(context.Context) {
			calls.Add(1)
			panic("template bug")
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour + time.Second)
		synctest.Wait()
		<-s.Stop().Done()
		// With Recover outside SkipIfStillRunning, v3.0.1 would run it once.
		if got := calls.Load(); got != 4 {
			t.Errorf("got %d runs, want 4: a panic must not disable the job", got)
		}
	})
}

func TestOverlappingPeriodicRunsAreSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{}, nil
		}))
		s, _ := NewScheduler(p, nil, nil)
		var running, maxRunning, calls atomic.Int32
		s.AddJob("@every 15m", "slow", func(context.Context) {
			calls.Add(1)
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(40 * time.Minute)
			running.Add(-1)
		})
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2*time.Hour + time.Second)
		synctest.Wait()
		<-s.Stop().Done()
		if got := maxRunning.Load(); got != 1 {
			t.Errorf("got %d concurrent runs, want 1", got)
		}
		// 8 triggers in 2h; runs of 40 min leave room for only 3.
		if got := calls.Load(); got != 3 {
			t.Errorf("got %d runs, want 3 (overlaps skipped)", got)
		}
	})
}

func TestNewAlertsAreDeliveredWithoutWaitingForTheTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &countingNotifier{}
		ms := newMemStore()
		p, err := New(Options{
			Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
				return feeds.Result{Items: []accordwatch.Item{{ID: "i1", ContentHash: "h"}}}, nil
			}),
			Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: n,
			Rules: []accordwatch.Rule{{Name: "all", Query: "x"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		runScheduler(t, p, []accordwatch.Feed{{URL: "https://a.example/"}}, 20*time.Minute)
		a := ms.alerts[AlertID("", "i1")]
		polled := ms.states["https://a.example/"].LastAttempt
		if a.Status != accordwatch.AlertSent {
			t.Fatalf("got alert status %q, want sent", a.Status)
		}
		if lag := a.SentAt.Sub(polled); lag > time.Second {
			t.Errorf("alert sent %s after the poll, want right away, not at the next 30 s drain", lag)
		}
		if len(n.sent) != 1 {
			t.Errorf("got %d sends, want 1", len(n.sent))
		}
	})
}

func TestStopBeforeStart(t *testing.T) {
	p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
		return feeds.Result{}, nil
	}))
	s, _ := NewScheduler(p, nil, nil)
	select {
	case <-s.Stop().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Stop of a never-started scheduler did not finish")
	}
}

func TestInvalidFeedScheduleIsRefused(t *testing.T) {
	p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
		return feeds.Result{}, nil
	}))
	_, err := NewScheduler(p, []accordwatch.Feed{{Name: "x", URL: "https://x.example/", Schedule: "every day"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `feed "x"`) {
		t.Errorf("got %v, want an error naming the feed", err)
	}
}
