package monitor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
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
	mu        sync.Mutex
	states    map[string]accordwatch.FeedState
	items     map[string]accordwatch.Item
	alerts    map[string]accordwatch.Alert
	incidents map[string]accordwatch.Incident
	members   map[string]store.Member
	// singletons maps an item that started its own incident to its time.
	singletons map[string]time.Time
	threads    map[string]store.Thread
	silences   []accordwatch.Silence
	// pending maps an item whose article is pending to its mark, claim
	// included.
	pending map[string]store.PendingArticle
}

func newMemStore() *memStore {
	return &memStore{states: map[string]accordwatch.FeedState{}, items: map[string]accordwatch.Item{}, alerts: map[string]accordwatch.Alert{},
		incidents: map[string]accordwatch.Incident{}, members: map[string]store.Member{},
		singletons: map[string]time.Time{}, threads: map[string]store.Thread{}, pending: map[string]store.PendingArticle{}}
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

func (m *memStore) CommitBatch(b store.Batch) ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range b.Items {
		m.items[it.ID] = it
	}
	for _, inc := range b.Incidents {
		inc.ItemIDs = slices.Clone(inc.ItemIDs)
		m.incidents[inc.ID] = inc
	}
	for _, mb := range b.Members {
		m.members[mb.ItemID] = mb
	}
	for id, t := range m.singletons {
		if t.Before(b.SingletonsSince) {
			delete(m.singletons, id)
		}
	}
	for _, sg := range b.Singletons {
		if !sg.Time.Before(b.SingletonsSince) {
			m.singletons[sg.ItemID] = sg.Time
		}
	}
	for _, pa := range b.ArticlesPending {
		if old, ok := m.pending[pa.ItemID]; ok {
			pa.Since = old.Since
		}
		m.pending[pa.ItemID] = pa
	}
	for _, id := range b.ArticlesDone {
		delete(m.pending, id)
	}
	return m.add(b.Alerts), nil
}

func (m *memStore) ClaimArticles(_ context.Context, now, until time.Time, limit int) ([]store.PendingArticle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var free []store.PendingArticle
	for _, pa := range m.pending {
		if !pa.ClaimedUntil.After(now) {
			free = append(free, pa)
		}
	}
	slices.SortFunc(free, func(a, b store.PendingArticle) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ItemID, b.ItemID)
	})
	free = free[:min(len(free), max(limit, 0))]
	for i := range free {
		free[i].ClaimedUntil = until
		m.pending[free[i].ItemID] = free[i]
	}
	return free, nil
}

func (m *memStore) add(alerts []accordwatch.Alert) []accordwatch.Alert {
	var added []accordwatch.Alert
	for _, a := range alerts {
		if _, ok := m.alerts[a.ID]; !ok {
			m.alerts[a.ID] = a
			added = append(added, a)
		}
	}
	return added
}

func (m *memStore) SaveAlerts(add, update []accordwatch.Alert) ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Like the store: one transaction, so an unknown update adds nothing.
	for _, a := range update {
		if _, ok := m.alerts[a.ID]; !ok {
			return nil, fmt.Errorf("alert %s is not in the outbox", a.ID)
		}
	}
	added := m.add(add)
	for _, a := range update {
		m.alerts[a.ID] = a
	}
	return added, nil
}

// sorted lists alerts oldest first, as the store does.
func (m *memStore) sorted(keep func(accordwatch.Alert) bool) []accordwatch.Alert {
	var out []accordwatch.Alert
	for _, a := range m.alerts {
		if keep(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b accordwatch.Alert) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (m *memStore) Alerts() ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(func(accordwatch.Alert) bool { return true }), nil
}

func (m *memStore) OpenAlerts() ([]accordwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(func(a accordwatch.Alert) bool {
		return a.Status == accordwatch.AlertPending || a.Status == accordwatch.AlertOverflow
	}), nil
}

func (m *memStore) Alert(id string) (accordwatch.Alert, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.alerts[id]
	return a, ok, nil
}

func (m *memStore) Incident(id string) (accordwatch.Incident, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inc, ok := m.incidents[id]
	inc.ItemIDs = slices.Clone(inc.ItemIDs)
	return inc, ok, nil
}

func (m *memStore) RecentSingletons(since time.Time, fn func(itemID string) error) error {
	m.mu.Lock()
	var l []store.Singleton
	for id, t := range m.singletons {
		if !t.Before(since) {
			l = append(l, store.Singleton{ItemID: id, Time: t})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(l, func(a, b store.Singleton) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ItemID, b.ItemID)
	})
	for _, sg := range l {
		if err := fn(sg.ItemID); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) MemberOf(itemID string) (store.Member, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.members[itemID]
	return mb, ok, nil
}

func (m *memStore) RecentMembers(since time.Time, fn func(accordwatch.Incident, store.Member) error) error {
	m.mu.Lock()
	var incs []accordwatch.Incident
	for _, inc := range m.incidents {
		if !inc.LastSeen.Before(since) {
			incs = append(incs, inc)
		}
	}
	members := maps.Clone(m.members)
	m.mu.Unlock()
	for _, inc := range incs {
		for _, id := range inc.ItemIDs {
			mb, ok := members[id]
			if !ok {
				mb = store.Member{ItemID: id, IncidentID: inc.ID}
			}
			if err := fn(inc, mb); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memStore) Thread(channel, incidentID string) (store.Thread, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, ok := m.threads[channel+"\x00"+incidentID]
	return th, ok, nil
}

func (m *memStore) SetThread(channel, incidentID string, th store.Thread) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.threads[channel+"\x00"+incidentID] = th
	return nil
}

func (m *memStore) Silences() ([]accordwatch.Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.silences), nil
}

func (m *memStore) Item(id string) (accordwatch.Item, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	return it, ok, nil
}

func (m *memStore) UpdateAlert(a accordwatch.Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.alerts[a.ID]; !ok {
		return fmt.Errorf("alert %s is not in the outbox", a.ID)
	}
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

func (c *countingStore) CommitBatch(b store.Batch) ([]accordwatch.Alert, error) {
	c.commits.Add(1)
	return c.memStore.CommitBatch(b)
}
