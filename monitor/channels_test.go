package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/feeds"
	"github.com/accordwatch/accordwatch/incident"
	"github.com/accordwatch/accordwatch/notify"
	"github.com/accordwatch/accordwatch/store"
)

// Channel identity through the real notifier and the real store: rules
// that name one Slack channel differently share its messages, threads and
// rate cap.

var _ ChannelResolver = (*notify.Notifier)(nil)

const (
	wsChannelID   = "C0ACCORD42"
	wsChannelName = "accord-alerts"
)

// fakeWorkspace is a Slack Web API that knows one channel by ID and name:
// conversations.list (unless noScope), chat.postMessage (answering with
// the ID, as Slack does) and chat.update (editing the recorded message).
type fakeWorkspace struct {
	noScope bool

	mu      sync.Mutex
	posts   []url.Values
	updates int
	lookups int
}

func (f *fakeWorkspace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, _ := strings.CutPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	known := func(ch string) bool { return ch == wsChannelID || ch == wsChannelName || ch == "#"+wsChannelName }
	switch method {
	case "conversations.list", "conversations.info":
		f.lookups++
		if f.noScope {
			fmt.Fprint(w, `{"ok":false,"error":"missing_scope","needed":"channels:read","provided":"chat:write"}`)
			return
		}
		if method == "conversations.info" {
			fmt.Fprintf(w, `{"ok":true,"channel":{"id":%q,"name":%q}}`, wsChannelID, wsChannelName)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"channels":[{"id":"C0OTHER001","name":"general"},{"id":%q,"name":%q}],"response_metadata":{"next_cursor":""}}`, wsChannelID, wsChannelName)
	case "chat.postMessage":
		if !known(r.PostForm.Get("channel")) {
			fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
			return
		}
		ts := fmt.Sprintf("1764000000.%06d", len(f.posts)+1)
		p := url.Values{}
		for k, v := range r.PostForm {
			p[k] = v
		}
		p.Set("ts", ts)
		f.posts = append(f.posts, p)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, wsChannelID, ts)
	case "chat.update":
		f.updates++
		for _, p := range f.posts {
			if p.Get("ts") == r.PostForm.Get("ts") {
				p.Set("blocks", r.PostForm.Get("blocks"))
			}
		}
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":"x"}`, wsChannelID, r.PostForm.Get("ts"))
	default:
		http.NotFound(w, r)
	}
}

// messages returns the top-level messages (as last edited) and the
// thread replies.
func (f *fakeWorkspace) messages() (top, replies []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.posts {
		if p.Get("thread_ts") == "" {
			top = append(top, p)
		} else {
			replies = append(replies, p)
		}
	}
	return top, replies
}

// chanRig is a pipeline with the real notifier and store.
type chanRig struct {
	t     *testing.T
	p     *Pipeline
	st    *store.Store
	slack *fakeWorkspace
	mu    sync.Mutex
	serve []accordwatch.Item
}

// newChanRig opens (or reopens) the store in dir and starts a pipeline
// posting to slack with defaultChannel as the default channel.
func newChanRig(t *testing.T, dir string, slack *fakeWorkspace, defaultChannel string, rules ...accordwatch.Rule) *chanRig {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := notify.New(notify.Options{
		BotToken: "xoxb-test", Channel: defaultChannel, APIURL: "http://slack.invalid/api/",
		HTTPClient: &http.Client{Transport: handlerTransport{slack}}, PerChannelInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &chanRig{t: t, st: st, slack: slack}
	r.p, err = New(Options{
		Fetcher: funcFetcher(func(context.Context, accordwatch.Feed) (feeds.Result, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return feeds.Result{Items: r.serve}, nil
		}),
		Classifier: nopClassifier{}, Store: st, Index: &titleIndex{}, Notifier: n,
		Incidents: incident.New(incident.Options{}), Rules: rules, MaxRetryWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pass polls feed with items and drains.
func (r *chanRig) pass(feed string, items ...accordwatch.Item) DrainReport {
	r.t.Helper()
	r.mu.Lock()
	r.serve = items
	r.mu.Unlock()
	if rep := r.p.PollFeed(r.t.Context(), accordwatch.Feed{URL: feed}); rep.Err != nil {
		r.t.Fatalf("poll %s: %v", feed, rep.Err)
	}
	rep, err := r.p.Drain(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// stateLinked and watchList are the shipped config's pair: a rule without
// a channel (the default) and a watch-list naming the channel.
func stateLinked(capN int) accordwatch.Rule {
	return accordwatch.Rule{Name: "state-linked-attack", Query: "all", RateCap: capN}
}

func watchList(channel string, capN int) accordwatch.Rule {
	return accordwatch.Rule{Name: "watch " + channel, Query: "all", Channel: channel, RateCap: capN}
}

// spellings are the default channel and the watch-list's channel, each
// way the issue lists.
var spellings = []struct{ name, defaultCh, watchCh string }{
	{"hash", "#accord-alerts", "#accord-alerts"},
	{"bare", "accord-alerts", "accord-alerts"},
	{"ID", wsChannelID, wsChannelID},
	{"mixed", wsChannelID, "#accord-alerts"},
	{"mixed other way", "accord-alerts", wsChannelID},
}

// TestChannelSpellingsAreOneKey: the default channel, "#name", "name" and
// the ID resolve to one key, the channel's ID, with every spelling as an
// alias — through conversations.list, or, for a token that may not list
// channels, from the answer to the first post.
func TestChannelSpellingsAreOneKey(t *testing.T) {
	for _, noScope := range []bool{false, true} {
		t.Run(fmt.Sprintf("noScope=%v", noScope), func(t *testing.T) {
			slack := &fakeWorkspace{noScope: noScope}
			r := newChanRig(t, t.TempDir(), slack, "#accord-alerts",
				stateLinked(0), watchList("accord-alerts", 0), watchList(wsChannelID, 0), watchList("#Accord-Alerts", 0))
			if noScope {
				// Nothing can be known before a post; the names agree with
				// each other, the ID stands apart.
				r.pass("feed", story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"))
			} else {
				r.p.resolveChannels(t.Context())
			}
			for _, sp := range []string{"", "#accord-alerts", "accord-alerts", wsChannelID, " #Accord-Alerts "} {
				d := r.p.dest(sp)
				if d.Key != wsChannelID || d.Name != "#accord-alerts" || !d.Resolved {
					t.Errorf("%q: got %+v, want key %s, name #accord-alerts, resolved", sp, d, wsChannelID)
				}
				for _, alias := range []string{"", "#accord-alerts", "accord-alerts", wsChannelID} {
					if !strings.Contains(fmt.Sprintf("%q", d.Aliases), fmt.Sprintf("%q", alias)) {
						t.Errorf("%q: aliases %q lack %q", sp, d.Aliases, alias)
					}
				}
			}
			if top, _ := slack.messages(); noScope && len(top) != 1 {
				t.Errorf("got %d messages, want 1", len(top))
			}
		})
	}
}

// TestRulesNamingOneChannelPostOnce: a rule without a channel and a
// watch-list naming the default channel, in every spelling, both match
// one story: one message, naming both rules.
func TestRulesNamingOneChannelPostOnce(t *testing.T) {
	for _, noScope := range []bool{false, true} {
		for _, sp := range spellings {
			t.Run(fmt.Sprintf("%s/noScope=%v", sp.name, noScope), func(t *testing.T) {
				slack := &fakeWorkspace{noScope: noScope}
				r := newChanRig(t, t.TempDir(), slack, sp.defaultCh, stateLinked(0), watchList(sp.watchCh, 0))
				r.pass("feed",
					story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"),
					story("b1", "Wiper hits the grid", "https://x.example/wiper"))
				top, replies := slack.messages()
				if len(top) != 2 || len(replies) != 0 {
					t.Fatalf("got %d messages and %d replies, want 2 messages (one per story)", len(top), len(replies))
				}
				want := "matched: state-linked-attack, watch " + sp.watchCh
				for _, m := range top {
					if !strings.Contains(m.Get("blocks"), want) {
						t.Errorf("message %q does not say %q:\n%s", m.Get("text"), want, m.Get("blocks"))
					}
				}
				// A second pass is quiet.
				r.pass("feed", story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"))
				if top, replies := slack.messages(); len(top) != 2 || len(replies) != 0 {
					t.Errorf("second pass: %d messages, %d replies; want still 2 and 0", len(top), len(replies))
				}
			})
		}
	}
}

// TestRateCapCountsAnIncidentOnce: two rules naming one channel with a
// cap of 2 per hour; two stories both match are two new-incident
// messages — not four, and not over the cap — and a third is held back
// for the summary.
func TestRateCapCountsAnIncidentOnce(t *testing.T) {
	slack := &fakeWorkspace{}
	r := newChanRig(t, t.TempDir(), slack, "#accord-alerts", stateLinked(2), watchList("#accord-alerts", 2))
	r.pass("feed",
		story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"),
		story("b1", "Wiper hits the grid", "https://x.example/wiper"))
	if top, _ := slack.messages(); len(top) != 2 {
		t.Fatalf("got %d messages, want 2", len(top))
	}
	all, err := r.st.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Status != accordwatch.AlertSent || strings.HasPrefix(a.Ref, "summary:") {
			t.Errorf("alert %s about %s is %s (%s), want sent on its own", a.ID, a.ItemID, a.Status, a.LastError)
		}
	}
	if got := r.p.recent(r.p.dest("").Aliases, time.Now()); got != 2 {
		t.Errorf("rate cap counts %d messages this hour, want 2", got)
	}
	r.pass("feed", story("c1", "Ransomware closes schools", "https://x.example/schools"))
	top, _ := slack.messages()
	if len(top) != 3 || !strings.Contains(top[2].Get("text"), "1 more alert held back by the rate cap on #accord-alerts") {
		t.Errorf("third story: want it held back and summarised, got %d messages, the last %q", len(top), top[len(top)-1].Get("text"))
	}
	held := 0
	all, _ = r.st.Alerts()
	for _, a := range all {
		if a.ItemID == "c1" && isIncidentKind(a.Kind) && strings.HasPrefix(a.Ref, "summary:") {
			held++
		}
	}
	if held != 1 {
		t.Errorf("third story: %d alerts held back, want 1", held)
	}
}

// legacyIncident stores what a version that keyed alerts by the
// configured spelling left behind after posting item a1: its incident
// message under "" (rules without a channel) and again under
// "#accord-alerts" (the watch-list), each with its Slack thread.
func legacyIncident(t *testing.T, dir string) (refs []string) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "accordwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	it := story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon")
	sent := time.Now().UTC().Add(-time.Hour)
	var alerts []accordwatch.Alert
	for i, ch := range []string{"", "#accord-alerts"} {
		ref := fmt.Sprintf("%s/1700000000.00000%d", wsChannelID, i+1)
		refs = append(refs, ref)
		alerts = append(alerts, accordwatch.Alert{ID: AlertID(ch, "a1"), Rule: "legacy", Channel: ch, ItemID: "a1", Created: sent,
			Status: accordwatch.AlertSent, SentAt: sent, Ref: ref, Kind: accordwatch.KindIncident, IncidentID: "a1", Sources: 1})
	}
	if _, err := st.CommitBatch(store.Batch{Items: []accordwatch.Item{it}, Singletons: []store.Singleton{{ItemID: "a1", Time: it.Published}},
		Alerts: alerts}); err != nil {
		t.Fatal(err)
	}
	for i, ch := range []string{"", "#accord-alerts"} {
		if err := st.SetThread(ch, "a1", store.Thread{Ref: refs[i], LastPosted: sent}); err != nil {
			t.Fatal(err)
		}
	}
	return refs
}

// TestThreadsKeyedByNameStillGetFollowups: after an upgrade, an incident
// whose thread was recorded under "" and "#accord-alerts" gets its next
// source as one reply in that thread, with the channel now keyed by ID —
// whether the ID comes from conversations.list or only from the stored
// refs (a token without channels:read).
func TestThreadsKeyedByNameStillGetFollowups(t *testing.T) {
	for _, sp := range spellings {
		for _, noScope := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/noScope=%v", sp.name, noScope), func(t *testing.T) {
				dir := t.TempDir()
				refs := legacyIncident(t, dir)
				slack := &fakeWorkspace{noScope: noScope}
				r := newChanRig(t, dir, slack, sp.defaultCh, stateLinked(0), watchList(sp.watchCh, 0))
				r.pass("feed-b", story("b1", "Telecoms breached by Typhoon", "https://x.example/typhoon"))
				top, replies := slack.messages()
				if len(top) != 0 || len(replies) != 1 {
					t.Fatalf("got %d messages and %d replies, want one reply in the old thread", len(top), len(replies))
				}
				if thread := wsChannelID + "/" + replies[0].Get("thread_ts"); thread != refs[0] && thread != refs[1] {
					t.Errorf("replied in %s, want one of the old threads %v", thread, refs)
				}
				if !strings.Contains(replies[0].Get("blocks"), "matched: state-linked-attack, watch "+sp.watchCh) {
					t.Errorf("the reply does not name both rules:\n%s", replies[0].Get("blocks"))
				}
				// The thread is now recorded under the ID as well.
				if th, ok, err := r.st.Thread(wsChannelID, "a1"); err != nil || !ok || th.Ref != wsChannelID+"/"+replies[0].Get("thread_ts") {
					t.Errorf("thread under the ID: got %+v %v %v", th, ok, err)
				}
				// The old items never alert again, under any spelling.
				r.pass("feed-a", story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"))
				if top, replies := slack.messages(); len(top) != 0 || len(replies) != 1 {
					t.Errorf("again: %d messages, %d replies; want 0 and 1", len(top), len(replies))
				}
			})
		}
	}
}

// TestLearnedIDsMergeBeforeTheNextPost: with a token that may not list
// channels and the channel given by ID and by name, the first post to
// the name teaches its ID; every incident is then one message, and the
// first one is edited to name the rules of the other spelling too.
func TestLearnedIDsMergeBeforeTheNextPost(t *testing.T) {
	slack := &fakeWorkspace{noScope: true}
	r := newChanRig(t, t.TempDir(), slack, wsChannelID, stateLinked(0), watchList("#accord-alerts", 0))
	r.pass("feed",
		story("a1", "Typhoon breaches telecoms", "https://x.example/typhoon"),
		story("a2", "Telecoms breached by Typhoon", "https://x.example/typhoon"),
		story("b1", "Wiper hits the grid", "https://x.example/wiper"),
		story("c1", "Ransomware closes schools", "https://x.example/schools"))
	top, replies := slack.messages()
	if len(top) != 3 || len(replies) != 1 {
		t.Fatalf("got %d messages and %d replies, want 3 (one per incident) and 1 (a2 in a1's thread)", len(top), len(replies))
	}
	for _, m := range append(top, replies...) {
		if !strings.Contains(m.Get("blocks"), "matched: state-linked-attack, watch #accord-alerts") {
			t.Errorf("%q does not name both rules:\n%s", m.Get("text"), m.Get("blocks"))
		}
	}
	if slack.lookups != 1 {
		t.Errorf("asked Slack %d times for channels, want once (missing_scope is final)", slack.lookups)
	}
	merged := 0
	all, _ := r.st.Alerts()
	for _, a := range all {
		if isMerged(a) {
			merged++
			if counts(a) {
				t.Errorf("merged alert %s counts against the rate cap", a.ID)
			}
		}
	}
	if merged != 4 {
		t.Errorf("got %d alerts merged into their twin, want 4 (3 incident messages, 1 follow-up)", merged)
	}
}
