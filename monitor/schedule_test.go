package monitor

import (
	"context"
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

func newTestPipeline(t *testing.T, f Fetcher) *Pipeline {
	t.Helper()
	p, err := New(Options{Fetcher: f, Classifier: nopClassifier{}, Store: newMemStore(), Index: nopIndex{}, Notifier: &countingNotifier{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSchedulesRunInUTCWithCatchUpAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		calls := map[string]int{}
		p := newTestPipeline(t, funcFetcher(func(_ context.Context, f accordwatch.Feed) (feeds.Result, error) {
			mu.Lock()
			calls[f.Name]++
			mu.Unlock()
			return feeds.Result{}, nil
		}))
		list := []accordwatch.Feed{
			{Name: "fast", URL: "https://a.example/feed", Schedule: "@every 15m"},
			{Name: "hourly", URL: "https://b.example/feed", Schedule: "0 * * * *"},
		}
		s, err := NewScheduler(p, list, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2*time.Hour + time.Second)
		synctest.Wait()
		<-s.Stop().Done()
		mu.Lock()
		defer mu.Unlock()
		// One catch-up poll at start (never polled before), then the schedule.
		if calls["fast"] != 1+8 {
			t.Errorf("fast feed: got %d polls, want 9", calls["fast"])
		}
		if calls["hourly"] != 1+2 {
			t.Errorf("hourly feed: got %d polls, want 3", calls["hourly"])
		}
	})
}

func TestPanickingFeedIsRecoveredAndKeepsItsSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		p := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			calls.Add(1)
			panic("parser bug")
		}))
		s, _ := NewScheduler(p, []accordwatch.Feed{{Name: "bad", URL: "https://bad.example/", Schedule: "@every 15m"}}, nil)
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour + time.Second)
		synctest.Wait()
		<-s.Stop().Done()
		// With Recover outside SkipIfStillRunning, v3.0.1 would run it once.
		if got := calls.Load(); got != 5 {
			t.Errorf("got %d runs, want 5 (start + 4 ticks): a panic must not disable the job", got)
		}
	})
}

func TestOverlappingRunsOfAFeedAreSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, maxRunning, calls atomic.Int32
		p := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
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
		s, _ := NewScheduler(p, []accordwatch.Feed{{Name: "slow", URL: "https://slow.example/", Schedule: "@every 15m"}}, nil)
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2*time.Hour + time.Second)
		synctest.Wait()
		<-s.Stop().Done()
		if got := maxRunning.Load(); got != 1 {
			t.Errorf("got %d concurrent runs of one feed, want 1", got)
		}
		// 9 triggers in 2h; runs of 40 min leave room for only 3 or 4.
		if got := calls.Load(); got < 3 || got > 4 {
			t.Errorf("got %d runs, want 3-4 (overlaps skipped)", got)
		}
	})
}
