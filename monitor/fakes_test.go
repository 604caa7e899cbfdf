package monitor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/store"
	"github.com/robfig/cron/v3"
)

// The scheduler tests run inside a synctest bubble, where real files and
// sockets would stall the fake clock, so they use these in-memory parts.
// The pipeline itself is tested end to end with the real ones in
// cmd/accordwatch.

type funcFetcher func(ctx context.Context, f accordwatch.Feed) (feeds.Result, error)

func (fn funcFetcher) Fetch(ctx context.Context, f accordwatch.Feed, prev accordwatch.FeedState) (feeds.Result, error) {
	res, err := fn(ctx, f)
	res.State.URL = f.URL
	return res, err
}

type nopClassifier struct{}

func (nopClassifier) Classify(string, string, time.Time) accordwatch.Tags { return accordwatch.Tags{} }

type memStore struct {
	mu     sync.Mutex
	states map[string]accordwatch.FeedState
	items  map[string]accordwatch.Item
	alerts map[string]accordwatch.Alert
}

func newMemStore() *memStore {
	return &memStore{states: map[string]accordwatch.FeedState{}, items: map[string]accordwatch.Item{}, alerts: map[string]accordwatch.Alert{}}
}

func (m *memStore) FeedState(url string) (accordwatch.FeedState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.states[url]
	return st, ok, nil
}

func (m *memStore) SaveFeedState(st accordwatch.FeedState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[st.URL] = st
	return nil
}

func (m *memStore) Diff(items []accordwatch.Item) ([]store.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Change, len(items))
	for i, it := range items {
		if old, ok := m.items[it.ID]; !ok {
			out[i] = store.New
		} else if old.ContentHash != it.ContentHash {
			out[i] = store.Changed
		}
	}
	return out, nil
}

func (m *memStore) Commit(items []accordwatch.Item, alerts []accordwatch.Alert) ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		m.items[it.ID] = it
	}
	var added []accordwatch.Alert
	for _, a := range alerts {
		if _, ok := m.alerts[a.ID]; !ok {
			m.alerts[a.ID] = a
			added = append(added, a)
		}
	}
	return added, nil
}

func (m *memStore) Item(id string) (accordwatch.Item, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	return it, ok, nil
}

func (m *memStore) Due(now time.Time) ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []accordwatch.Alert
	for _, a := range m.alerts {
		if a.Status == accordwatch.AlertPending && !a.NextAttempt.After(now) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *memStore) UpdateAlert(a accordwatch.Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alerts[a.ID] = a
	return nil
}

type nopIndex struct{}

func (nopIndex) Add(context.Context, []accordwatch.Item) error { return nil }
func (nopIndex) Matching(_ context.Context, _ string, ids []string) ([]string, error) {
	return ids, nil
}

type countingNotifier struct {
	mu   sync.Mutex
	sent []string
	errs []error // returned in order before succeeding
}

func (n *countingNotifier) Send(_ context.Context, a accordwatch.Alert, _ accordwatch.Item) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.errs) > 0 {
		err := n.errs[0]
		n.errs = n.errs[1:]
		return "", err
	}
	n.sent = append(n.sent, a.ID)
	return "C1/1", nil
}

func mustSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handlerTransport serves requests in-process: a real feeds.Fetcher over
// it works inside a synctest bubble, where sockets would stall the clock.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// opsRecorder records ops messages; it fails while fail is set.
type opsRecorder struct {
	mu   sync.Mutex
	msgs []string
	fail bool
}

func (o *opsRecorder) NotifyOps(_ context.Context, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("slack down")
	}
	o.msgs = append(o.msgs, text)
	return nil
}

func (o *opsRecorder) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.msgs
	o.msgs = nil
	return m
}

type metricsRecorder struct {
	mu      sync.Mutex
	results []string
}

func (m *metricsRecorder) Fetched(result string, _ int64, _ int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, result)
}

// failingIndex fails any Add that contains an item whose ID is bad or
// whose title is badTitle.
type failingIndex struct {
	nopIndex
	bad, badTitle string
	adds          atomic.Int32
}

func (f *failingIndex) Add(_ context.Context, items []accordwatch.Item) error {
	f.adds.Add(1)
	for _, it := range items {
		if it.ID == f.bad || it.Title == f.badTitle && f.badTitle != "" {
			return errors.New("document rejected")
		}
	}
	return nil
}

// countingStore counts commits and the items Diff is asked about.
type countingStore struct {
	*memStore
	commits, diffed atomic.Int32
}

func (c *countingStore) Diff(items []accordwatch.Item) ([]store.Change, error) {
	c.diffed.Add(int32(len(items)))
	return c.memStore.Diff(items)
}

func (c *countingStore) Commit(items []accordwatch.Item, alerts []accordwatch.Alert) ([]accordwatch.Alert, error) {
	c.commits.Add(1)
	return c.memStore.Commit(items, alerts)
}
