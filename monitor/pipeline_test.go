package monitor

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/notify"
)

func pipelineWith(t *testing.T, n *countingNotifier, items ...accordwatch.Item) (*Pipeline, *memStore) {
	t.Helper()
	ms := newMemStore()
	p, err := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: items}, nil
		}),
		Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: n,
		Rules:        []accordwatch.Rule{{Name: "all", Query: "anything"}},
		MaxRetryWait: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, ms
}

func TestDrainOutcomes(t *testing.T) {
	tests := []struct {
		name                           string
		errs                           []error
		wantSent, wantFailed, wantDefd int
		wantStatus                     string
	}{
		{"accepted", nil, 1, 0, 0, accordwatch.AlertSent},
		{"short 429 is waited out", []error{&notify.SendError{RetryAfter: 3 * time.Second, Code: "rate_limited"}}, 1, 0, 0, accordwatch.AlertSent},
		{"long 429 defers", []error{&notify.SendError{RetryAfter: time.Minute, Code: "rate_limited"}}, 0, 0, 1, accordwatch.AlertPending},
		{"permanent fails once", []error{&notify.SendError{Permanent: true, Code: "channel_not_found"}}, 0, 1, 0, accordwatch.AlertFailed},
		{"transient backs off", []error{errors.New("connection reset")}, 0, 0, 1, accordwatch.AlertPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := &countingNotifier{errs: tt.errs}
				p, ms := pipelineWith(t, n, accordwatch.Item{ID: "i1", ContentHash: "h"})
				if rep := p.PollFeed(t.Context(), accordwatch.Feed{URL: "u"}); rep.Err != nil || rep.Alerts != 1 {
					t.Fatalf("poll: got %+v, want 1 alert", rep)
				}
				start := time.Now()
				rep, err := p.Drain(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if rep.Sent != tt.wantSent || rep.Failed != tt.wantFailed || rep.Deferred != tt.wantDefd {
					t.Errorf("got %+v, want sent %d failed %d deferred %d", rep, tt.wantSent, tt.wantFailed, tt.wantDefd)
				}
				a := ms.alerts[AlertID("", "i1")]
				if a.Status != tt.wantStatus {
					t.Errorf("got status %q, want %q", a.Status, tt.wantStatus)
				}
				if tt.name == "short 429 is waited out" && time.Since(start) < 3*time.Second {
					t.Errorf("retried after %v, before Retry-After", time.Since(start))
				}
				if a.Status == accordwatch.AlertPending && !a.NextAttempt.After(start) {
					t.Errorf("deferred alert has next attempt %v, want after %v", a.NextAttempt, start)
				}
				// A second drain right away must not resend or retry early.
				again, _ := p.Drain(t.Context())
				if again.Sent+again.Failed+again.Deferred != 0 {
					t.Errorf("second drain touched alerts: %+v", again)
				}
			})
		})
	}
}

func TestSecondPollAlertsNothing(t *testing.T) {
	n := &countingNotifier{}
	p, _ := pipelineWith(t, n, accordwatch.Item{ID: "i1", ContentHash: "h"}, accordwatch.Item{ID: "i2", ContentHash: "h"})
	for pass := 0; pass < 2; pass++ {
		if _, err := p.RunOnce(t.Context(), []accordwatch.Feed{{URL: "u"}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.sent) != 2 {
		t.Errorf("got %d alerts sent over two passes, want 2", len(n.sent))
	}
}

func TestEditedItemDoesNotReAlert(t *testing.T) {
	n := &countingNotifier{}
	ms := newMemStore()
	version := "v1"
	p, _ := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: []accordwatch.Item{{ID: "i1", ContentHash: version}}}, nil
		}),
		Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: n,
		Rules: []accordwatch.Rule{{Name: "all", Query: "x"}},
	})
	p.RunOnce(t.Context(), []accordwatch.Feed{{URL: "u"}})
	version = "v2"
	rep, _ := p.RunOnce(t.Context(), []accordwatch.Feed{{URL: "u"}})
	if rep.Feeds[0].Changed != 1 {
		t.Errorf("got %+v, want the item seen as changed", rep.Feeds[0])
	}
	if len(n.sent) != 1 {
		t.Errorf("got %d alerts, want 1: an edit must not re-alert", len(n.sent))
	}
}

func TestOneFailingFeedDoesNotStopOthers(t *testing.T) {
	n := &countingNotifier{}
	p, err := New(Options{
		Fetcher: funcFetcher(func(_ context.Context, f accordwatch.Feed) (feeds.Result, error) {
			switch f.URL {
			case "bad":
				return feeds.Result{}, errors.New("HTTP 500")
			case "panics":
				panic("boom")
			}
			return feeds.Result{Items: []accordwatch.Item{{ID: f.URL + "-1", ContentHash: "h"}}}, nil
		}),
		Classifier: nopClassifier{}, Store: newMemStore(), Index: nopIndex{}, Notifier: n,
		Rules: []accordwatch.Rule{{Name: "all", Query: "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.RunOnce(t.Context(), []accordwatch.Feed{{URL: "good1"}, {URL: "bad"}, {URL: "panics"}, {URL: "good2"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true, false} {
		if got := rep.Feeds[i].Err != nil; got != want {
			t.Errorf("feed %s: got error %v, want error %v", rep.Feeds[i].Feed.URL, rep.Feeds[i].Err, want)
		}
	}
	if rep.Drain.Sent != 2 {
		t.Errorf("got %d alerts sent, want 2 from the good feeds", rep.Drain.Sent)
	}
}

func TestOneAlertPerItemAndChannel(t *testing.T) {
	n := &countingNotifier{}
	ms := newMemStore()
	p, err := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: []accordwatch.Item{{ID: "i1", ContentHash: "h"}}}, nil
		}),
		Classifier: nopClassifier{}, Store: ms, Index: nopIndex{}, Notifier: n,
		Rules: []accordwatch.Rule{
			{Name: "state-linked", Query: "x"},
			{Name: "signatory", Query: "y"},
			{Name: "policy-team", Query: "z", Channel: "#policy"},
			{Name: "too-severe", Query: "z", MinSeverity: 90},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := p.PollFeed(t.Context(), accordwatch.Feed{URL: "u"})
	if rep.Alerts != 2 {
		t.Fatalf("got %d alerts, want 2 (default channel and #policy)", rep.Alerts)
	}
	if got := ms.alerts[AlertID("", "i1")].Rule; got != "state-linked, signatory" {
		t.Errorf("default-channel alert names rules %q, want %q", got, "state-linked, signatory")
	}
	if got := ms.alerts[AlertID("#policy", "i1")]; got.Rule != "policy-team" || got.Channel != "#policy" {
		t.Errorf("got %+v, want the #policy alert from policy-team", got)
	}
}

func TestKnownItemsAreNotReadBackFromTheStore(t *testing.T) {
	cs := &countingStore{memStore: newMemStore()}
	version := "v1"
	p, err := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			return feeds.Result{Items: []accordwatch.Item{{ID: "i1", ContentHash: "h"}, {ID: "i2", ContentHash: version}}}, nil
		}),
		Classifier: nopClassifier{}, Store: cs, Index: nopIndex{}, Notifier: &countingNotifier{},
	})
	if err != nil {
		t.Fatal(err)
	}
	feed := accordwatch.Feed{URL: "u"}
	steps := []struct {
		version             string
		wantDiffed, wantNew int32
		wantChanged         int
	}{
		{"v1", 2, 2, 0}, // first poll: everything is asked about
		{"v1", 0, 0, 0}, // same items: the store is not asked
		{"v2", 1, 0, 1}, // one edited item: only it is asked about
	}
	for i, s := range steps {
		version = s.version
		cs.diffed.Store(0)
		rep := p.PollFeed(t.Context(), feed)
		if got := cs.diffed.Load(); got != s.wantDiffed {
			t.Errorf("step %d: got %d items diffed, want %d", i, got, s.wantDiffed)
		}
		if rep.New != int(s.wantNew) || rep.Changed != s.wantChanged {
			t.Errorf("step %d: got %d new, %d changed; want %d, %d", i, rep.New, rep.Changed, s.wantNew, s.wantChanged)
		}
	}
}
