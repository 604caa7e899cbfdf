package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

var _ ItemChanges = (*pgstore.Store)(nil)

// watchedIndex is a titleIndex that tells each Add.
type watchedIndex struct {
	titleIndex
	added chan int
}

func (x *watchedIndex) Add(ctx context.Context, items []accordwatch.Item) error {
	err := x.titleIndex.Add(ctx, items)
	x.added <- len(items)
	return err
}

func (x *watchedIndex) has(ids ...string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		if _, ok := x.titles[id]; !ok {
			return false
		}
	}
	return true
}

func openPG(t *testing.T, dbURL accordwatch.Secret) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(t.Context(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestItemWrittenOnOneReplicaIsIndexedOnAnother: replica A polls a feed;
// replica B's tail, woken by the database's notification (its periodic
// catch-up is an hour away), adds A's items to B's own index.
func TestItemWrittenOnOneReplicaIsIndexedOnAnother(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	stA, stB := openPG(t, dbURL), openPG(t, dbURL)
	items := stories("x", 3)
	a, err := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: items}, nil
		}),
		Classifier: nopClassifier{}, Store: stA, Index: &titleIndex{}, Notifier: &countingNotifier{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ixB := &watchedIndex{added: make(chan int, 16)}
	var mu sync.Mutex
	var saved int64
	tail, err := NewIndexTail(TailOptions{Changes: stB, Index: ixB, CatchUp: time.Hour,
		Save: func(n int64) error { mu.Lock(); saved = n; mu.Unlock(); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	listening := make(chan struct{})
	var once sync.Once
	wg.Go(func() { tail.Run(ctx) })
	wg.Go(func() {
		stB.Listen(ctx, pgstore.ItemsChanged, func() {
			once.Do(func() { close(listening) })
			tail.Wake()
		}, func(err error) { t.Log(err) })
	})
	<-listening
	if rep := a.PollFeed(t.Context(), accordwatch.Feed{URL: "https://a.example/feed"}); rep.Err != nil || rep.New != len(items) {
		t.Fatalf("poll on A: %d new, %v", rep.New, rep.Err)
	}
	ids := []string{items[0].ID, items[1].ID, items[2].ID}
	for !ixB.has(ids...) {
		select {
		case <-ixB.added:
		case <-time.After(30 * time.Second):
			t.Fatal("B's index never got A's items")
		}
	}
	// The tail saves its position after the index has the items: wait
	// for the save rather than race it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := saved
		mu.Unlock()
		last := tail.Last()
		if got != 0 && got == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saved position %d, want the tail's last change %d", got, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNewReplicaBuildsItsIndexFromTheDatabase: a replica with an empty
// index catches up from the first change, in batches; one that restarts
// from its saved position adds nothing again.
func TestNewReplicaBuildsItsIndexFromTheDatabase(t *testing.T) {
	dbURL := accordwatch.Secret(pgtest.Database(t))
	st := openPG(t, dbURL)
	var all []accordwatch.Item
	for b := range 5 {
		batch := stories(fmt.Sprintf("b%d", b), 5)
		if _, err := st.CommitBatch(store.Batch{Items: batch}); err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
	}
	tests := []struct {
		name string
		from func(last int64) int64
		want int
	}{
		{"new replica", func(int64) int64 { return 0 }, len(all)},
		{"restart at its saved position", func(last int64) int64 { return last }, 0},
	}
	var last int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := &watchedIndex{added: make(chan int, 64)}
			tail, err := NewIndexTail(TailOptions{Changes: st, Index: ix, Batch: 7, From: tt.from(last)})
			if err != nil {
				t.Fatal(err)
			}
			n, err := tail.CatchUp(t.Context())
			if err != nil || n != tt.want {
				t.Fatalf("caught up %d items (%v), want %d", n, err, tt.want)
			}
			if tt.want > 0 {
				var ids []string
				for _, it := range all {
					ids = append(ids, it.ID)
				}
				if !ix.has(ids...) {
					t.Error("the index lacks items after catching up")
				}
			}
			last = tail.Last()
		})
	}
}
