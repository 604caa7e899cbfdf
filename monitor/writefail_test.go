package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/store"
)

// diskFull is the error a full disk gives; WriteFailed marks it as the
// disk's failure, as index.WriteError does.
type diskFull struct{ what string }

func (e diskFull) Error() string     { return e.what + ": write failed: file too large" }
func (e diskFull) WriteFailed() bool { return true }

// fullDisk says which writes fail: any touching an item of the feed
// named in items, and the feed state of the feed named in states.
type fullDisk struct {
	mu            sync.Mutex
	items, states string
}

func (d *fullDisk) set(items, states string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.items, d.states = items, states
}

func (d *fullDisk) failsItems(items []accordwatch.Item) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, it := range items {
		if d.items != "" && strings.HasPrefix(it.ID, d.items+"-") {
			return true
		}
	}
	return false
}

func (d *fullDisk) failsState(url string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.states != "" && strings.Contains(url, d.states)
}

// diskIndex records what was indexed; its writes fail on a full disk.
type diskIndex struct {
	nopIndex
	disk    *fullDisk
	mu      sync.Mutex
	indexed map[string]bool
}

func (x *diskIndex) Add(_ context.Context, items []accordwatch.Item) error {
	if x.disk.failsItems(items) {
		return fmt.Errorf("index items: %w", diskFull{"partition 2026-01"})
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, it := range items {
		x.indexed[it.ID] = true
	}
	return nil
}

// diskStore is the in-memory store whose writes fail on a full disk.
type diskStore struct {
	*memStore
	disk *fullDisk
}

func (s *diskStore) CommitBatch(b store.Batch) ([]accordwatch.Alert, error) {
	if s.disk.failsItems(b.Items) {
		return nil, fmt.Errorf("commit batch: file resize error: truncate accordwatch.db: file too large")
	}
	return s.memStore.CommitBatch(b)
}

func (s *diskStore) SaveFeedState(st accordwatch.FeedState) error {
	if s.disk.failsState(st.URL) {
		return errors.New("save feed state: file too large")
	}
	return s.memStore.SaveFeedState(st)
}

// diskRig is a pipeline over two feeds, "small" and "big", whose fetcher
// answers with validators and records the ETag each poll sent.
type diskRig struct {
	p     *Pipeline
	disk  *fullDisk
	ms    *memStore
	ix    *diskIndex
	logs  *bytes.Buffer
	feeds []accordwatch.Feed
	mu    sync.Mutex
	sent  map[string][]string // feed name → ETag sent by each poll
}

func newDiskRig(t *testing.T) *diskRig {
	t.Helper()
	r := &diskRig{disk: &fullDisk{}, ms: newMemStore(), logs: &bytes.Buffer{}, sent: map[string][]string{}}
	r.ix = &diskIndex{disk: r.disk, indexed: map[string]bool{}}
	r.feeds = []accordwatch.Feed{
		{Name: "small", URL: "https://small.example/rss"},
		// A credential in the URL, to check that no log line shows it.
		{Name: "big", URL: "https://alice:s3cret@big.example/rss?token=t0ps3cret"},
	}
	fetch := fetcherFunc(func(_ context.Context, f accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error) {
		r.mu.Lock()
		r.sent[f.Name] = append(r.sent[f.Name], prev.ETag)
		r.mu.Unlock()
		st := prev
		st.URL, st.ETag, st.LastSuccess, st.ConsecutiveFailures = f.URL, `"`+f.Name+`-v1"`, time.Now(), 0
		var items []accordwatch.Item
		for i := range 3 {
			items = append(items, accordwatch.Item{ID: fmt.Sprintf("%s-%d", f.Name, i), ContentHash: "h"})
		}
		return feeds.Result{State: st, Items: items}, nil
	})
	var err error
	r.p, err = New(Options{
		Fetcher: fetch, Classifier: nopClassifier{}, Store: &diskStore{memStore: r.ms, disk: r.disk}, Index: r.ix,
		Notifier: &countingNotifier{}, Rules: []accordwatch.Rule{{Name: "all", Query: "x"}},
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: r.logs}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type fetcherFunc func(ctx context.Context, f accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error)

func (fn fetcherFunc) Fetch(ctx context.Context, f accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error) {
	return fn(ctx, f, prev)
}

// stored reports which of the feed's three items the store holds.
func (r *diskRig) stored(feed string) int {
	r.ms.mu.Lock()
	defer r.ms.mu.Unlock()
	n := 0
	for i := range 3 {
		if _, ok := r.ms.items[fmt.Sprintf("%s-%d", feed, i)]; ok {
			n++
		}
	}
	return n
}

func (r *diskRig) state(i int) accordwatch.FeedState {
	st, _, _ := r.ms.FeedState(r.feeds[i].URL)
	return st
}

// TestFullDiskFailsThePassAndTheFeedIsRetried fills the disk for one
// feed's writes — the index's, the store's, or its state's — and checks
// that the pass ends with an error naming the failed write, that the
// feed's state does not advance past items that were not saved (old
// validators, a failure counted, no success), that the other feed is
// saved, that the log names what failed without showing the URL's
// credentials, and that the next pass, with room again, saves the feed's
// items — fetched in full, not answered by a 304.
func TestFullDiskFailsThePassAndTheFeedIsRetried(t *testing.T) {
	tests := []struct {
		name          string
		items, states string // what fails: see fullDisk
		wantErr       string
		wantSaved     int // big's items stored by the failed pass
	}{
		{"index write fails", "big", "", "index 3 items: index items: partition 2026-01: write failed: file too large", 0},
		{"store write fails", "big", "", "store 3 items: commit batch: file resize error", 0},
		{"feed state write fails", "", "big.example", "save feed state: file too large", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newDiskRig(t)
				if tt.name == "store write fails" {
					// The index has room: only the store's commit fails.
					r.ix.disk = &fullDisk{}
				}
				r.disk.set(tt.items, tt.states)
				rep, err := r.p.RunOnce(t.Context(), r.feeds)
				if err == nil || !strings.Contains(err.Error(), "1 of 2 feeds not saved") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("failed pass: got error %v, want one counting 1 of 2 feeds and naming %q", err, tt.wantErr)
				}
				if rep.Feeds[0].Err != nil || rep.Feeds[1].Err == nil {
					t.Errorf("got feed errors %v, %v; want only big's", rep.Feeds[0].Err, rep.Feeds[1].Err)
				}
				if n := r.stored("small"); n != 3 {
					t.Errorf("small feed: %d of 3 items stored, want all", n)
				}
				if n := r.stored("big"); n != tt.wantSaved {
					t.Errorf("big feed: %d of 3 items stored by the failed pass, want %d", n, tt.wantSaved)
				}
				small, big := r.state(0), r.state(1)
				if small.ETag != `"small-v1"` {
					t.Errorf("small feed: got ETag %q saved, want its validator", small.ETag)
				}
				if big.ETag != "" || big.ConsecutiveFailures > 1 || !big.LastSuccess.IsZero() {
					t.Errorf("big feed: got state %+v, want no validator and no success saved", big)
				}
				if tt.items != "" && big.ConsecutiveFailures != 1 {
					t.Errorf("big feed: got %d failures recorded, want 1", big.ConsecutiveFailures)
				}
				logs := r.logs.String()
				if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, tt.wantErr) {
					t.Errorf("got log\n%s\nwant an error line naming %q", logs, tt.wantErr)
				}
				if strings.Contains(logs, "s3cret") || strings.Contains(logs, "t0ps3cret") {
					t.Errorf("the feed URL's credentials leaked into the log:\n%s", logs)
				}

				r.disk.set("", "")
				rep, err = r.p.RunOnce(t.Context(), r.feeds)
				if err != nil {
					t.Fatalf("pass with room again: %v", err)
				}
				if rep.Feeds[1].Err != nil || r.stored("big") != 3 || r.stored("small") != 3 {
					t.Errorf("pass with room again: got big %+v, %d and %d items stored; want all of both", rep.Feeds[1], r.stored("small"), r.stored("big"))
				}
				if got := r.sent["big"]; len(got) != 2 || got[1] != "" {
					t.Errorf("big feed: polls sent ETags %q, want the retry to send none (a 304 would lose the items)", got)
				}
				if st := r.state(1); st.ETag != `"big-v1"` || st.ConsecutiveFailures != 0 {
					t.Errorf("big feed after the retry: got state %+v, want its validator and no failures", st)
				}
				for i := range 3 {
					if id := fmt.Sprintf("big-%d", i); !r.ix.indexed[id] {
						t.Errorf("item %s stored but not indexed", id)
					}
				}
			})
		})
	}
}

// TestRejectedItemsAreTheFeedsFailureNotThePass: an index error that is
// not a failed write (the index refused a document) fails that feed only.
func TestRejectedItemsAreTheFeedsFailureNotThePass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDiskRig(t)
		r.p.o.Index = &failingIndex{bad: "big-1"}
		rep, err := r.p.RunOnce(t.Context(), r.feeds)
		if err != nil {
			t.Fatalf("got pass error %v, want none: a refused document is the feed's failure", err)
		}
		if rep.Feeds[1].Err == nil || r.stored("big") != 0 {
			t.Errorf("got big %+v with %d items stored, want its failure and none stored", rep.Feeds[1], r.stored("big"))
		}
	})
}

// TestLogsNeverShowAFeedURLsCredentials drives every monitor log line
// that names a feed URL — a fetch panic, a classifier panic, a redirect,
// a bad schedule, a feed listed twice, a failed commit, a poll — with
// URLs carrying a password and a token, and checks that neither appears.
func TestLogsNeverShowAFeedURLsCredentials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &bytes.Buffer{}
		logger := slog.New(slog.NewTextHandler(&syncWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		secretURL := "https://alice:pw-s3cret@feeds.example/rss?token=tok-s3cret"
		movedURL := "https://bob:pw2-s3cret@new.example/rss?api_key=key-s3cret"
		polls := 0
		fetch := fetcherFunc(func(_ context.Context, f accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error) {
			polls++
			if polls == 1 {
				panic("fetcher bug")
			}
			st := prev
			st.URL = f.URL
			return feeds.Result{State: st, PermanentRedirect: movedURL,
				Items: []accordwatch.Item{{ID: fmt.Sprintf("i%d", polls), Title: "boom", ContentHash: "h"}}}, nil
		})
		p, err := New(Options{
			Fetcher: fetch, Classifier: panickyClassifier{}, Store: newMemStore(), Index: &failingIndex{bad: "i3"},
			Notifier: &countingNotifier{}, Logger: logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		feed := accordwatch.Feed{Name: "secret", URL: secretURL}
		if _, err := NewScheduler(p, []accordwatch.Feed{feed, feed}, logger); err != nil {
			t.Fatal(err)
		}
		p.PollFeed(t.Context(), feed) // the fetcher panics
		p.PollFeed(t.Context(), feed) // the classifier panics
		p.o.Classifier = nopClassifier{}
		feed.Schedule = "not a schedule" // accepted from --feeds without checks
		p.PollFeed(t.Context(), feed)    // the index refuses the item
		p.PollFeed(t.Context(), feed)    // moved, polled
		out := logs.String()
		for _, want := range []string{"panic while fetching feed", "panic while classifying feed", "feed moved permanently",
			"invalid feed schedule", "feed listed twice", "items not saved", "feed polled", "xxxxx"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "s3cret") {
			t.Errorf("a credential from a feed URL is in the log:\n%s", out)
		}
	})
}

type panickyClassifier struct{}

func (panickyClassifier) Classify(string, string, time.Time) accordwatch.Tags {
	panic("classifier bug")
}
