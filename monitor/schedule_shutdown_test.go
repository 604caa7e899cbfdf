package monitor

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
)

// TestStopSaysWhatStillRuns stops a scheduler whose periodic job ignores
// cancellation: Drained closes once the cancelled polls are back, while
// Stop's context waits for the job, and Running names it meanwhile.
func TestStopSaysWhatStillRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		polling := make(chan struct{}, 1)
		p, _ := newTestPipeline(t, funcFetcher(func(ctx context.Context, _ accordwatch.Feed) (feeds.Result, error) {
			select {
			case polling <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return feeds.Result{}, ctx.Err()
		}))
		s, err := NewScheduler(p, []accordwatch.Feed{{Name: "slow", URL: "https://slow.example/feed", Schedule: "@every 1h"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		jobRunning := make(chan struct{})
		if err := s.AddJob("@every 1m", "stuck", func(context.Context) {
			close(jobRunning)
			<-release // ignores cancellation
		}); err != nil {
			t.Fatal(err)
		}
		if got := s.Running(); len(got) != 0 {
			t.Errorf("before Start: Running() = %v, want nothing", got)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		<-polling
		<-jobRunning
		synctest.Wait()

		cancel()
		stopped := s.Stop()
		synctest.Wait()
		select {
		case <-s.Drained():
		default:
			t.Fatal("Drained not closed after the cancelled poll returned")
		}
		if stopped.Err() != nil {
			t.Fatal("Stop's context done while a job still runs")
		}
		if got, want := s.Running(), []string{"job stuck"}; !slices.Equal(got, want) {
			t.Errorf("Running() = %v, want %v", got, want)
		}

		close(release)
		synctest.Wait()
		if stopped.Err() == nil {
			t.Error("Stop's context not done after the job returned")
		}
		if got := s.Running(); len(got) != 0 {
			t.Errorf("after the job returned: Running() = %v, want nothing", got)
		}
	})
}

// TestDrainedBeforeStart: a scheduler that never started has nothing to
// drain.
func TestDrainedBeforeStart(t *testing.T) {
	p, _ := newTestPipeline(t, funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
		return feeds.Result{}, nil
	}))
	s, err := NewScheduler(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Drained():
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Drained of a never-started scheduler is not closed")
	}
}

// TestCancelledPollLeavesTheFeedStateAlone cancels a pass while a feed is
// being fetched: a shutdown is not the feed's failure, so its stored
// state — failures, validators, next check — stays as it was (the next
// start polls it when it was due), and nothing is logged above debug.
func TestCancelledPollLeavesTheFeedStateAlone(t *testing.T) {
	fetching := make(chan struct{})
	ms := newMemStore()
	var logs bytes.Buffer
	p, err := New(Options{
		Fetcher: funcFetcher(func(ctx context.Context, _ accordwatch.Feed) (feeds.Result, error) {
			close(fetching)
			<-ctx.Done()
			return feeds.Result{}, &feeds.FetchError{Kind: "network", Err: ctx.Err()}
		}),
		Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: &countingNotifier{},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	feed := accordwatch.Feed{Name: "news", URL: "https://news.example/feed"}
	prev := accordwatch.FeedState{URL: feed.URL, ETag: `"v1"`, ConsecutiveFailures: 0,
		LastAttempt: time.Now().Add(-time.Hour).UTC(), NextCheckAt: time.Now().Add(-time.Minute).UTC()}
	ms.SaveFeedState(prev)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan PassReport, 1)
	go func() {
		rep, _ := p.RunOnce(ctx, []accordwatch.Feed{feed})
		done <- rep
	}()
	<-fetching
	cancel()
	rep := <-done

	if len(rep.Feeds) != 1 || rep.Feeds[0].Err == nil {
		t.Errorf("report %+v, want the feed reported as not polled", rep.Feeds)
	}
	if got, _, _ := ms.FeedState(feed.URL); !reflect.DeepEqual(got, prev) {
		t.Errorf("feed state after a cancelled poll:\ngot  %+v\nwant %+v (unchanged)", got, prev)
	}
	if strings.TrimSpace(logs.String()) != "" {
		t.Errorf("want nothing logged above debug, got:\n%s", logs.String())
	}
}
