package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// titleIndex is an in-memory Index: the query "all" matches every item,
// any other query the items whose title contains it.
type titleIndex struct {
	mu     sync.Mutex
	titles map[string]string
}

func (x *titleIndex) Add(_ context.Context, items []accordwatch.Item) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.titles == nil {
		x.titles = map[string]string{}
	}
	for _, it := range items {
		x.titles[it.ID] = strings.ToLower(it.Title)
	}
	return nil
}

func (x *titleIndex) Matching(_ context.Context, q string, ids []string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for _, id := range ids {
		if q == "all" || strings.Contains(x.titles[id], strings.ToLower(q)) {
			out = append(out, id)
		}
	}
	return out, nil
}

// post is one message the recorder accepted.
type post struct {
	id, kind, item, thread, ref string
	broadcast                   bool
	summary                     []accordwatch.SummaryEntry
}

type parentUpd struct {
	ref, item string
	sources   int
}

// slackRecorder is a Notifier and ParentUpdater that records what it
// accepted; errors queued per item ID (sends) or in order (updates) are
// returned first.
type slackRecorder struct {
	mu         sync.Mutex
	posts      []post
	updates    []parentUpd
	sendErrs   map[string][]error
	updateErrs []error
	updateTry  int
}

func (s *slackRecorder) Send(_ context.Context, a accordwatch.Alert, item accordwatch.Item) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs := s.sendErrs[item.ID]; len(errs) > 0 {
		s.sendErrs[item.ID] = errs[1:]
		return "", errs[0]
	}
	ref := fmt.Sprintf("C/%d", len(s.posts)+1)
	s.posts = append(s.posts, post{id: a.ID, kind: kindOf(a), item: item.ID, thread: a.ThreadRef, ref: ref, broadcast: a.Broadcast, summary: a.Summary})
	return ref, nil
}

func (s *slackRecorder) UpdateParent(_ context.Context, ref string, a accordwatch.Alert, item accordwatch.Item, sources int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateTry++
	if len(s.updateErrs) > 0 {
		err := s.updateErrs[0]
		s.updateErrs = s.updateErrs[1:]
		return err
	}
	s.updates = append(s.updates, parentUpd{ref: ref, item: item.ID, sources: sources})
	return nil
}

func (s *slackRecorder) take() ([]post, []parentUpd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u := s.posts, s.updates
	s.posts, s.updates = nil, nil
	return p, u
}

// rig is a pipeline over in-memory parts whose feeds serve what poll
// hands them.
type rig struct {
	t     *testing.T
	p     *Pipeline
	ms    *memStore
	slack *slackRecorder
	mu    sync.Mutex
	serve []accordwatch.Item
}

func newRig(t *testing.T, ms *memStore, rules ...accordwatch.Rule) *rig {
	t.Helper()
	if ms == nil {
		ms = newMemStore()
	}
	r := &rig{t: t, ms: ms, slack: &slackRecorder{sendErrs: map[string][]error{}}}
	p, err := New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return feeds.Result{Items: r.serve}, nil
		}),
		Classifier: nopClassifier{}, Store: ms, Index: &titleIndex{}, Notifier: r.slack,
		Incidents: incident.New(incident.Options{}), Rules: rules, MaxRetryWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	return r
}

// poll serves items on feed and polls it.
func (r *rig) poll(feed string, items ...accordwatch.Item) FeedReport {
	r.t.Helper()
	r.mu.Lock()
	r.serve = items
	r.mu.Unlock()
	rep := r.p.PollFeed(r.t.Context(), accordwatch.Feed{URL: feed})
	if rep.Err != nil {
		r.t.Fatalf("poll %s: %v", feed, rep.Err)
	}
	return rep
}

func (r *rig) drain() DrainReport {
	r.t.Helper()
	rep, err := r.p.Drain(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// story is an item published now; items with the same link are one
// incident.
func story(id, title, link string) accordwatch.Item {
	return accordwatch.Item{ID: id, Title: title, Link: link, ContentHash: title + link, Published: time.Now().UTC(), Fetched: time.Now().UTC()}
}

var ruleAll = accordwatch.Rule{Name: "all", Query: "all"}

func TestIncidentMessageThenThreadedFollowupAndParentUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		r.poll("feed-a", story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"))
		r.drain()
		posts, ups := r.slack.take()
		if len(posts) != 1 || posts[0].kind != accordwatch.KindIncident || posts[0].item != "a1" || len(ups) != 0 {
			t.Fatalf("first drain: got posts %+v updates %+v, want one incident message about a1", posts, ups)
		}
		parentRef := posts[0].ref

		time.Sleep(10 * time.Minute)
		r.poll("feed-b", story("b1", "Telecoms breached by Typhoon", "https://x.example/typhoon"))
		r.drain()
		posts, ups = r.slack.take()
		if len(posts) != 1 {
			t.Fatalf("second source: got %d posts %+v, want 1 follow-up", len(posts), posts)
		}
		if p := posts[0]; p.kind != accordwatch.KindFollowup || p.thread != parentRef || p.item != "b1" || p.broadcast {
			t.Errorf("got %+v, want an unbroadcast follow-up about b1 in thread %s", p, parentRef)
		}
		want := []parentUpd{{ref: parentRef, item: "a1", sources: 2}}
		if fmt.Sprint(ups) != fmt.Sprint(want) {
			t.Errorf("got parent updates %+v, want %+v", ups, want)
		}
		inc := r.ms.incidents["a1"]
		if fmt.Sprint(inc.ItemIDs) != "[a1 b1]" {
			t.Errorf("got incident items %v, want [a1 b1]", inc.ItemIDs)
		}

		// Nothing more, however often it drains or polls the same items.
		r.poll("feed-b", story("b1", "Telecoms breached by Typhoon", "https://x.example/typhoon"))
		r.drain()
		if posts, ups := r.slack.take(); len(posts)+len(ups) != 0 {
			t.Errorf("repeat: got posts %+v updates %+v, want none", posts, ups)
		}
	})
}

func TestTwoSourcesInOneBatchAreIncidentAndFollowup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		// The follow-up's alert ID may sort before its parent's; the drain
		// still posts the parent first and threads the follow-up under it.
		r.poll("feed", story("z1", "Wiper hits grid", "https://x.example/wiper"), story("a2", "Grid wiper", "https://x.example/wiper"))
		r.drain()
		posts, ups := r.slack.take()
		if len(posts) != 2 {
			t.Fatalf("got %d posts %+v, want 2", len(posts), posts)
		}
		if posts[0].kind != accordwatch.KindIncident || posts[0].item != "z1" {
			t.Errorf("first post %+v, want the incident message about z1", posts[0])
		}
		if posts[1].kind != accordwatch.KindFollowup || posts[1].thread != posts[0].ref {
			t.Errorf("second post %+v, want a follow-up in thread %s", posts[1], posts[0].ref)
		}
		if len(ups) != 1 || ups[0].sources != 2 {
			t.Errorf("got updates %+v, want one with 2 sources", ups)
		}
	})
}

func TestEditsNeverReAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		r.poll("feed", story("a1", "Ransomware at port", "https://x.example/port"), story("b1", "Port ransomware attack", "https://x.example/port"))
		r.drain()
		if posts, _ := r.slack.take(); len(posts) != 2 {
			t.Fatalf("got %d posts, want 2", len(posts))
		}
		rep := r.poll("feed", story("a1", "Ransomware at port (updated)", "https://x.example/port"), story("b1", "Port ransomware attack: update", "https://x.example/port"))
		if rep.Changed != 2 || rep.Alerts != 0 {
			t.Errorf("edit: got %d changed, %d alerts; want 2 changed, 0 alerts", rep.Changed, rep.Alerts)
		}
		r.drain()
		if posts, ups := r.slack.take(); len(posts)+len(ups) != 0 {
			t.Errorf("edit: got posts %+v updates %+v, want none", posts, ups)
		}
		if got := len(r.ms.incidents["a1"].ItemIDs); got != 2 {
			t.Errorf("edit: incident has %d items, want still 2", got)
		}
	})
}

func TestSilenceRecordsAndExpiryLiftsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := newMemStore()
		now := time.Now().UTC()
		ms.silences = []accordwatch.Silence{{ID: "s1", Query: "exercise", Reason: "planned drill", Created: now, Expires: now.Add(time.Hour)}}
		r := newRig(t, ms, ruleAll)
		r.poll("feed", story("d1", "CERT exercise underway", "https://x.example/d1"), story("n1", "Real breach", "https://x.example/n1"))
		r.drain()
		posts, _ := r.slack.take()
		if len(posts) != 1 || posts[0].item != "n1" {
			t.Fatalf("got posts %+v, want only n1", posts)
		}
		a := ms.alerts[AlertID("", "d1")]
		if a.Status != accordwatch.AlertSilenced || !strings.Contains(a.LastError, "s1") || !strings.Contains(a.LastError, "planned drill") {
			t.Errorf("got %+v, want silenced naming s1 and its reason", a)
		}

		time.Sleep(2 * time.Hour)
		r.poll("feed", story("d2", "Second exercise announced", "https://x.example/d2"))
		r.drain()
		posts, _ = r.slack.take()
		if len(posts) != 1 || posts[0].item != "d2" {
			t.Errorf("after expiry: got posts %+v, want d2 sent", posts)
		}
		if got := ms.alerts[AlertID("", "d1")].Status; got != accordwatch.AlertSilenced {
			t.Errorf("old silenced alert became %q; silenced alerts are never sent", got)
		}
	})
}

func TestRateCapOverflowBecomesOneSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, accordwatch.Rule{Name: "capped", Query: "all", Channel: "#soc", RateCap: 3})
		var burst []accordwatch.Item
		for i := range 10 {
			burst = append(burst, story(fmt.Sprintf("i%02d", i), fmt.Sprintf("Unrelated story number %d about topic%d", i, i), fmt.Sprintf("https://x.example/%d", i)))
		}
		if rep := r.poll("feed", burst...); rep.Alerts != 10 {
			t.Fatalf("got %d alerts recorded, want 10 (3 to send, 7 held)", rep.Alerts)
		}
		rep := r.drain()
		posts, _ := r.slack.take()
		var incidents, summaries int
		for _, p := range posts {
			switch p.kind {
			case accordwatch.KindIncident:
				incidents++
			case accordwatch.KindSummary:
				summaries++
				if len(p.summary) != 7 {
					t.Errorf("summary lists %d alerts, want 7", len(p.summary))
				}
				for _, e := range p.summary {
					if e.Title == "" || e.Link == "" || e.Rule != "capped" {
						t.Errorf("summary entry %+v lacks title, link or rule", e)
					}
				}
			}
		}
		if incidents != 3 || summaries != 1 || rep.Summaries != 1 {
			t.Errorf("got %d incident messages and %d summaries (report %+v), want 3 and 1", incidents, summaries, rep)
		}
		for id, a := range r.ms.alerts {
			if a.Status == accordwatch.AlertOverflow || a.Status == accordwatch.AlertPending {
				t.Errorf("alert %s left %s", id, a.Status)
			}
		}
		r.drain()
		if posts, _ := r.slack.take(); len(posts) != 0 {
			t.Errorf("second drain posted %+v, want nothing", posts)
		}

		// Within the hour, the cap still holds; a second summary waits
		// for SummaryEvery.
		time.Sleep(time.Minute)
		r.poll("feed", story("late", "Another unrelated story", "https://x.example/late"))
		r.drain()
		if posts, _ := r.slack.take(); len(posts) != 0 {
			t.Errorf("within the hour: got %+v, want nothing yet", posts)
		}
		time.Sleep(5 * time.Minute)
		r.drain()
		posts, _ = r.slack.take()
		if len(posts) != 1 || posts[0].kind != accordwatch.KindSummary || len(posts[0].summary) != 1 {
			t.Errorf("after SummaryEvery: got %+v, want one summary of 1", posts)
		}
	})
}

func TestFollowupIsBroadcastAfterRepeatInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, accordwatch.Rule{Name: "r", Query: "all", RepeatInterval: time.Hour})
		link := "https://x.example/story"
		steps := []struct {
			after         time.Duration
			id            string
			wantBroadcast bool
		}{
			{0, "s1", false}, // the incident message itself
			{10 * time.Minute, "s2", false},
			{2 * time.Hour, "s3", true},
			{10 * time.Minute, "s4", false}, // the broadcast reset the clock
			{61 * time.Minute, "s5", true},
		}
		for i, s := range steps {
			time.Sleep(s.after)
			r.poll(fmt.Sprintf("feed-%d", i), story(s.id, "Same story told again "+s.id, link))
			r.drain()
			posts, _ := r.slack.take()
			if len(posts) != 1 {
				t.Fatalf("%s: got %d posts, want 1", s.id, len(posts))
			}
			if posts[0].broadcast != s.wantBroadcast {
				t.Errorf("%s: got broadcast %v, want %v", s.id, posts[0].broadcast, s.wantBroadcast)
			}
		}
	})
}

func TestFollowupOfFailedParentBecomesIncidentMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		link := "https://x.example/p"
		r.slack.sendErrs["p1"] = []error{&notify.SendError{Permanent: true, Code: "msg_blocks_too_long"}}
		r.poll("feed-1", story("p1", "Story", link))
		if rep := r.drain(); rep.Failed != 1 {
			t.Fatalf("got %+v, want the parent failed", rep)
		}
		r.poll("feed-2", story("p2", "Story again", link))
		r.drain()
		posts, ups := r.slack.take()
		if len(posts) != 1 || posts[0].kind != accordwatch.KindIncident || posts[0].thread != "" {
			t.Fatalf("got %+v, want p2 posted as an incident message", posts)
		}
		if len(ups) != 0 {
			t.Errorf("got updates %+v, want none for a new incident message", ups)
		}
		// The next source threads under p2's message and updates it.
		r.poll("feed-3", story("p3", "Story once more", link))
		r.drain()
		posts2, ups := r.slack.take()
		if len(posts2) != 1 || posts2[0].kind != accordwatch.KindFollowup || posts2[0].thread != posts[0].ref {
			t.Errorf("got %+v, want a follow-up in thread %s", posts2, posts[0].ref)
		}
		if len(ups) != 1 || ups[0].item != "p2" || ups[0].sources != 3 {
			t.Errorf("got updates %+v, want p2's message updated with 3 sources", ups)
		}
	})
}

func TestFollowupWaitsForPendingParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		link := "https://x.example/w"
		r.slack.sendErrs["w1"] = []error{&notify.SendError{Code: "transport"}}
		r.poll("feed-1", story("w1", "Story", link))
		r.drain() // parent deferred with backoff
		r.poll("feed-2", story("w2", "Story again", link))
		rep := r.drain()
		if posts, _ := r.slack.take(); len(posts) != 0 || rep.Deferred != 1 {
			t.Fatalf("got posts %+v, report %+v; want nothing sent and the follow-up deferred", posts, rep)
		}
		time.Sleep(time.Minute)
		r.drain()
		posts, _ := r.slack.take()
		if len(posts) != 2 || posts[0].item != "w1" || posts[1].thread != posts[0].ref {
			t.Errorf("got %+v, want the parent then the follow-up in its thread", posts)
		}
	})
}

func TestRateLimitedParentUpdateIsRetriedWithoutRepostingFollowup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		link := "https://x.example/u"
		r.poll("feed-1", story("u1", "Story", link))
		r.drain()
		r.slack.updateErrs = []error{&notify.SendError{RetryAfter: 20 * time.Second, Code: "rate_limited"}}
		r.poll("feed-2", story("u2", "Story again", link))
		r.drain()
		posts, ups := r.slack.take()
		if len(posts) != 2 || len(ups) != 0 {
			t.Fatalf("got posts %+v updates %+v, want 2 posts and the update deferred", posts, ups)
		}
		time.Sleep(10 * time.Second)
		r.drain()
		if posts, ups := r.slack.take(); len(posts)+len(ups) != 0 {
			t.Errorf("before Retry-After: got posts %+v updates %+v, want none", posts, ups)
		}
		time.Sleep(11 * time.Second)
		r.drain()
		posts, ups = r.slack.take()
		if len(posts) != 0 {
			t.Errorf("got %+v re-posted, want the follow-up posted once", posts)
		}
		if len(ups) != 1 || ups[0].sources != 2 {
			t.Errorf("got updates %+v, want one retry with 2 sources", ups)
		}
	})
}

func TestRestartRebuildsIncidentsAndRateCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := newMemStore()
		rule := accordwatch.Rule{Name: "r", Query: "all", RateCap: 2}
		r := newRig(t, ms, rule)
		r.poll("feed-1", story("a", "Lazarus steals crypto", "https://x.example/a"), story("b", "Sandworm hits grid", "https://x.example/b"))
		r.drain()
		if posts, _ := r.slack.take(); len(posts) != 2 {
			t.Fatalf("got %d posts, want 2", len(posts))
		}
		// A new process: same store, fresh clusterer and counters.
		r2 := newRig(t, ms, rule)
		r2.poll("feed-2", story("a2", "Crypto heist by Lazarus", "https://x.example/a"), story("c", "Volt Typhoon in routers", "https://x.example/c"))
		r2.drain()
		posts, _ := r2.slack.take()
		var kinds []string
		for _, p := range posts {
			kinds = append(kinds, p.kind+":"+p.item)
		}
		// a2 joins a's incident (a follow-up, not capped); c is the third
		// new incident within the hour, over the cap of 2: summarised
		// (summaries go out before follow-ups).
		if got, want := strings.Join(kinds, " "), "summary:c followup:a2"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// The real parts satisfy what the pipeline needs.
var (
	_ Store         = (*store.Store)(nil)
	_ Notifier      = (*notify.Notifier)(nil)
	_ ParentUpdater = (*notify.Notifier)(nil)
)

func TestSchedulerRetriesWhenDueNotAtTheTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := newMemStore()
		start := time.Now().UTC()
		// Left pending by a previous process, due now.
		ms.items["old"] = story("old", "Left over", "https://x.example/old")
		ms.alerts["left"] = accordwatch.Alert{ID: "left", ItemID: "old", Created: start, Status: accordwatch.AlertPending, NextAttempt: start}
		n := &slackRecorder{sendErrs: map[string][]error{"new": {&notify.SendError{Code: "http_503"}}}}
		p, err := New(Options{
			Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
				return feeds.Result{Items: []accordwatch.Item{story("new", "Fresh story", "https://x.example/new")}}, nil
			}),
			Classifier: nopClassifier{}, Store: ms, Index: &titleIndex{}, Notifier: n, Rules: []accordwatch.Rule{ruleAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		runScheduler(t, p, []accordwatch.Feed{{URL: "https://a.example/", Schedule: "@every 1h"}}, 20*time.Second)
		left, fresh := ms.alerts["left"], ms.alerts[AlertID("", "new")]
		if left.Status != accordwatch.AlertSent || left.SentAt.Sub(start) > time.Second {
			t.Errorf("left-over alert: got %s at +%s, want sent at start", left.Status, left.SentAt.Sub(start))
		}
		// The first attempt failed (503): the retry comes after the 5 s
		// backoff, well before the 30 s tick.
		if fresh.Status != accordwatch.AlertSent || fresh.Attempts != 2 {
			t.Fatalf("new alert: got %s after %d attempts, want sent on the 2nd", fresh.Status, fresh.Attempts)
		}
		polled := ms.states["https://a.example/"].LastAttempt
		if lag := fresh.SentAt.Sub(polled); lag < 5*time.Second || lag > 6*time.Second {
			t.Errorf("retried %s after the poll, want after the 5 s backoff, not at the tick", lag)
		}
	})
}

func TestDrainReportsWhenDeferredWorkIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, ruleAll)
		link := "https://x.example/n"
		r.poll("feed-1", story("n1", "Story", link))
		r.drain()
		r.slack.updateErrs = []error{&notify.SendError{RetryAfter: 20 * time.Second, Code: "rate_limited"}}
		r.poll("feed-2", story("n2", "Story again", link))
		start := time.Now()
		if rep := r.drain(); !rep.Next.Equal(start.Add(20 * time.Second)) {
			t.Errorf("got next %v, want the parent update's retry at +20s", rep.Next.Sub(start))
		}
		r.slack.sendErrs["n3"] = []error{&notify.SendError{Code: "transport"}}
		r.poll("feed-3", story("n3", "Different tale entirely", "https://x.example/other"))
		if rep := r.drain(); !rep.Next.Equal(start.Add(5 * time.Second)) {
			t.Errorf("got next %v, want the failed alert's backoff at +5s", rep.Next.Sub(start))
		}
	})
}

func TestIncidentsThreadAcrossRestarts(t *testing.T) {
	// legacy writes what older versions stored for item a: an incident
	// record for every item and a member record with its signature.
	legacy := func(t *testing.T, ms *memStore) {
		a := story("a", "Lazarus steals crypto", "https://x.example/a")
		raw, err := json.Marshal(incident.SignatureOf(a))
		if err != nil {
			t.Fatal(err)
		}
		inc := accordwatch.Incident{ID: "a", Title: a.Title, Link: a.Link, FirstSeen: a.Published, LastSeen: a.Published, ItemIDs: []string{"a"}, Sources: 1}
		_, err = ms.CommitBatch(store.Batch{Items: []accordwatch.Item{a}, Incidents: []accordwatch.Incident{inc},
			Members: []store.Member{{ItemID: "a", IncidentID: "a", Signature: raw}}})
		if err != nil {
			t.Fatal(err)
		}
		// The older version's message for a is in its thread.
		if err := ms.SetThread("", "a", store.Thread{Ref: "C1/1.0", LastPosted: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// seed fills the store before the processes below run.
		seed func(t *testing.T, ms *memStore)
		// polls are one process each: its items, then the posts it makes.
		polls [][]accordwatch.Item
		want  []string
	}{
		{
			name: "singleton, then two restarts",
			seed: func(*testing.T, *memStore) {},
			polls: [][]accordwatch.Item{
				{story("a", "Lazarus steals crypto", "https://x.example/a")},
				{story("a2", "Crypto heist by Lazarus", "https://x.example/a")},
				{story("a3", "Lazarus crypto theft: more details", "https://x.example/a")},
			},
			want: []string{"incident:a", "followup:a2", "followup:a3"},
		},
		{
			name: "records of an older version",
			seed: legacy,
			polls: [][]accordwatch.Item{
				{story("a2", "Crypto heist by Lazarus", "https://x.example/a")},
				{story("a3", "Lazarus crypto theft: more details", "https://x.example/a")},
			},
			want: []string{"followup:a2", "followup:a3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ms := newMemStore()
				tt.seed(t, ms)
				var got []string
				for i, items := range tt.polls {
					r := newRig(t, ms, ruleAll)
					r.poll(fmt.Sprintf("feed-%d", i), items...)
					r.drain()
					posts, _ := r.slack.take()
					for _, p := range posts {
						got = append(got, p.kind+":"+p.item)
					}
				}
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestSingletonIncidentsAreImplicit(t *testing.T) {
	ms := newMemStore()
	r := newRig(t, ms)
	r.poll("feed-1", story("a", "Lazarus steals crypto", "https://x.example/a"), story("b", "Sandworm hits grid", "https://x.example/b"))
	r.poll("feed-2", story("a2", "Crypto heist by Lazarus", "https://x.example/a"))
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var incs, members, singles []string
	for id := range ms.incidents {
		incs = append(incs, id)
	}
	for id, m := range ms.members {
		members = append(members, id+">"+m.IncidentID)
	}
	for id := range ms.singletons {
		singles = append(singles, id)
	}
	slices.Sort(singles)
	// Only a, joined by a2, is written; a2 records which incident it
	// joined; the singletons a and b are listed for the next restart.
	if got, want := fmt.Sprint(incs, members, singles), "[a] [a2>a] [a b]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
