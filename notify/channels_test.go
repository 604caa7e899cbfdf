package notify

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

func TestNormChannel(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"#", ""},
		{"#accord-alerts", "#accord-alerts"},
		{"accord-alerts", "#accord-alerts"},
		{" #Accord-Alerts ", "#accord-alerts"},
		{"C0123ABC", "C0123ABC"},
		{"G0PRIVATE", "G0PRIVATE"},
		{"U024BE7LH", "U024BE7LH"}, // a user: Slack posts to the DM
		{"c0123abc", "#c0123abc"},  // lower case: a name
		{"Cat-pictures", "#cat-pictures"},
		{"#C0123ABC", "#c0123abc"}, // "#" makes it a name
	} {
		if got := normChannel(tt.in); got != tt.want {
			t.Errorf("normChannel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// workspace is a Slack Web API with a few channels: conversations.list in
// pages of two, conversations.info, chat.postMessage answering with the
// channel's ID. refuse, when set, is the error conversations.* answer
// with; status, when set, their HTTP status.
type workspace struct {
	refuse string
	status int

	mu      sync.Mutex
	lookups []url.Values // conversations.* requests, method in "method"
	posts   []url.Values
}

var workspaceChannels = []struct{ id, name string }{
	{"C0GENERAL1", "general"}, {"C0RANDOM01", "random"}, {"C0ALERTS01", "accord-alerts"}, {"G0PRIVATE1", "soc-private"},
	{"C0HIDDEN01", "hidden"},
}

func (f *workspace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, _ := strings.CutPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	idOf := func(ch string) string {
		for _, c := range workspaceChannels {
			if ch == c.id || ch == c.name || ch == "#"+c.name {
				return c.id
			}
		}
		return ""
	}
	switch method {
	case "conversations.list", "conversations.info":
		q := url.Values{"method": {method}}
		for k, v := range r.PostForm {
			q[k] = v
		}
		f.lookups = append(f.lookups, q)
		if f.status != 0 {
			w.WriteHeader(f.status)
			return
		}
		if f.refuse != "" {
			fmt.Fprintf(w, `{"ok":false,"error":%q,"needed":"channels:read,groups:read","provided":"chat:write"}`, f.refuse)
			return
		}
		if method == "conversations.info" {
			for _, c := range workspaceChannels {
				if c.id == r.PostForm.Get("channel") {
					fmt.Fprintf(w, `{"ok":true,"channel":{"id":%q,"name":%q}}`, c.id, c.name)
					return
				}
			}
			fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
			return
		}
		// Four visible channels in pages of two; "hidden" is not listed.
		start := 0
		fmt.Sscanf(r.PostForm.Get("cursor"), "page%d", &start)
		end := min(start+2, 4)
		var cs []string
		for _, c := range workspaceChannels[start:end] {
			cs = append(cs, fmt.Sprintf(`{"id":%q,"name":%q}`, c.id, c.name))
		}
		next := ""
		if end < 4 {
			next = fmt.Sprintf("page%d", end)
		}
		fmt.Fprintf(w, `{"ok":true,"channels":[%s],"response_metadata":{"next_cursor":%q}}`, strings.Join(cs, ","), next)
	case "chat.postMessage":
		id := idOf(r.PostForm.Get("channel"))
		if id == "" {
			fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
			return
		}
		f.posts = append(f.posts, r.PostForm)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1.%d"}`, id, len(f.posts))
	default:
		http.NotFound(w, r)
	}
}

func (f *workspace) lookupCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lookups)
}

func newWorkspaceBot(t *testing.T, ws *workspace, channel string, logs *bytes.Buffer) *Notifier {
	t.Helper()
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	opts := Options{BotToken: testToken, Channel: channel, APIURL: srv.URL + "/api/", HTTPClient: srv.Client(), PerChannelInterval: time.Millisecond}
	if logs != nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResolveChannelsListsOnce: the default channel, "#name", "name" and
// the ID are one key, the ID, found by paging conversations.list over
// public and private channels; an ID's readable name too. Asking again
// asks Slack nothing.
func TestResolveChannelsListsOnce(t *testing.T) {
	ws := &workspace{}
	n := newWorkspaceBot(t, ws, "#accord-alerts", nil)
	names := []string{"", "#accord-alerts", "accord-alerts", "C0ALERTS01", "soc-private", "G0PRIVATE1"}
	n.ResolveChannels(t.Context(), names)
	for _, sp := range names[:4] {
		d := n.Destination(sp)
		if d.Key != "C0ALERTS01" || d.Name != "#accord-alerts" || !d.Resolved {
			t.Errorf("%q: got %+v, want key C0ALERTS01 named #accord-alerts", sp, d)
		}
		want := []string{"C0ALERTS01", "", "#accord-alerts", "accord-alerts"}
		if !slices.Equal(d.Aliases, want) {
			t.Errorf("%q: aliases %q, want %q", sp, d.Aliases, want)
		}
	}
	if d := n.Destination("soc-private"); d.Key != "G0PRIVATE1" || d.Name != "#soc-private" {
		t.Errorf("private channel: got %+v", d)
	}
	calls := ws.lookupCount()
	if calls != 2 {
		t.Errorf("got %d conversations.* calls, want 2 pages", calls)
	}
	for _, q := range ws.lookups {
		if q.Get("method") != "conversations.list" || q.Get("types") != "public_channel,private_channel" || q.Get("exclude_archived") != "true" {
			t.Errorf("lookup %v, want conversations.list of public and private channels, archived excluded", q)
		}
	}
	n.ResolveChannels(t.Context(), names)
	if got := ws.lookupCount(); got != calls {
		t.Errorf("asking again made %d more calls, want none", got-calls)
	}
}

// TestResolveChannelsAsksInfoForUnlistedIDs: an ID the listing did not
// show gets its name from conversations.info; a name nowhere to be found
// is asked about once and left to the first post.
func TestResolveChannelsAsksInfoForUnlistedIDs(t *testing.T) {
	ws := &workspace{}
	var logs bytes.Buffer
	n := newWorkspaceBot(t, ws, "C0HIDDEN01", &logs)
	n.ResolveChannels(t.Context(), []string{"", "#nowhere"})
	if d := n.Destination(""); d.Key != "C0HIDDEN01" || d.Name != "#hidden" {
		t.Errorf("default: got %+v, want C0HIDDEN01 named #hidden", d)
	}
	if d := n.Destination("nowhere"); d.Key != "#nowhere" || d.Resolved {
		t.Errorf("unknown name: got %+v, want the unresolved name", d)
	}
	if !strings.Contains(logs.String(), "channel=#nowhere") {
		t.Errorf("the unknown channel is not logged:\n%s", logs.String())
	}
	calls := ws.lookupCount()
	n.ResolveChannels(t.Context(), []string{"", "#nowhere"})
	if ws.lookupCount() != calls {
		t.Error("a name not found was asked about again")
	}
}

// TestChannelIDLearnedFromFirstPost: a token without channels:read. The
// lookup is refused once and never tried again; the name stays a name
// (apart from the ID) until the first post to it answers with its ID,
// which from then on is its key, its alias list and its rate limiter.
func TestChannelIDLearnedFromFirstPost(t *testing.T) {
	ws := &workspace{refuse: "missing_scope"}
	var logs bytes.Buffer
	n := newWorkspaceBot(t, ws, "C0ALERTS01", &logs)
	for range 3 {
		n.ResolveChannels(t.Context(), []string{"", "#accord-alerts"})
	}
	if got := ws.lookupCount(); got != 1 {
		t.Errorf("got %d lookups, want 1: missing_scope is final", got)
	}
	if !strings.Contains(logs.String(), "missing_scope") || !strings.Contains(logs.String(), "channels:read") {
		t.Errorf("the refusal and the scope it needs are not logged:\n%s", logs.String())
	}
	if d := n.Destination("accord-alerts"); d.Key != "#accord-alerts" || d.Resolved {
		t.Errorf("before a post: got %+v, want the unresolved name", d)
	}
	if d := n.Destination(""); d.Key != "C0ALERTS01" || slices.Contains(d.Aliases, "#accord-alerts") {
		t.Errorf("before a post, the default: got %+v, want C0ALERTS01 without the name", d)
	}
	ref, err := n.Send(t.Context(), accordwatch.Alert{Rule: "r", Channel: "#accord-alerts"}, normalItem())
	if err != nil || ref != "C0ALERTS01/1.1" {
		t.Fatalf("Send: %q, %v", ref, err)
	}
	for _, sp := range []string{"", "#accord-alerts", "accord-alerts", "C0ALERTS01"} {
		d := n.Destination(sp)
		if d.Key != "C0ALERTS01" || d.Name != "#accord-alerts" || !d.Resolved || !slices.Contains(d.Aliases, "#accord-alerts") {
			t.Errorf("after the post, %q: got %+v", sp, d)
		}
	}
	if k1, k2 := n.limiterKey("#accord-alerts"), n.limiterKey("C0ALERTS01"); k1 != k2 {
		t.Errorf("limiters %q and %q, want one for the channel", k1, k2)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Error("the token reached the log")
	}
}

// TestChannelLookupRetriedAfterTransientFailure: Slack down at start is
// not final; the lookup is tried again resolveRetry later, not sooner.
func TestChannelLookupRetriedAfterTransientFailure(t *testing.T) {
	ws := &workspace{status: http.StatusServiceUnavailable}
	n := newWorkspaceBot(t, ws, "#accord-alerts", nil)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	n.now = func() time.Time { return now }
	n.ResolveChannels(t.Context(), nil)
	n.ResolveChannels(t.Context(), nil)
	if got := ws.lookupCount(); got != 1 {
		t.Fatalf("got %d lookups, want 1 until the retry time", got)
	}
	ws.mu.Lock()
	ws.status = 0
	ws.mu.Unlock()
	now = now.Add(resolveRetry)
	n.ResolveChannels(t.Context(), nil)
	if d := n.Destination(""); d.Key != "C0ALERTS01" {
		t.Errorf("after the retry: got %+v, want C0ALERTS01", d)
	}
}

// TestLearnChannelFromStoredRefs: a stored alert's spelling and Slack ref
// teach its ID, before anything is posted; the default channel's "" only
// its spelling, since the default may have changed since.
func TestLearnChannelFromStoredRefs(t *testing.T) {
	n := newWorkspaceBot(t, &workspace{refuse: "missing_scope"}, "#accord-alerts", nil)
	n.LearnChannel("", "C0OLDDEFAULT/1.1")
	n.LearnChannel("accord-alerts", "C0ALERTS01/1700000000.000100")
	n.LearnChannel("#soc", "summary:abc") // not a Slack ref
	d := n.Destination("#accord-alerts")
	if d.Key != "C0ALERTS01" || !slices.Equal(d.Aliases, []string{"C0ALERTS01", "", "#accord-alerts", "accord-alerts"}) {
		t.Errorf("got %+v, want C0ALERTS01 with every spelling", d)
	}
	if d := n.Destination("#soc"); d.Key != "#soc" || d.Resolved {
		t.Errorf("#soc: got %+v, want an unresolved name", d)
	}
}

// TestOneDestinationSinks: an incoming webhook posts where it was made,
// so every spelling is one key; the file and JSON sinks have no channel
// IDs, so spellings are one key when they normalise alike, and an ID
// stays apart.
func TestOneDestinationSinks(t *testing.T) {
	hook, err := New(Options{WebhookURL: "https://hooks.slack.invalid/services/T/B/x", Channel: "Accord-Alerts"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{"", "#accord-alerts", "accord-alerts", "C0ALERTS01", "#other"} {
		if d := hook.Destination(sp); d.Key != "#accord-alerts" || !d.Resolved {
			t.Errorf("webhook, %q: got %+v, want #accord-alerts", sp, d)
		}
	}
	if d := hook.Destination(""); len(d.Aliases) != 6 { // key, the configured spelling and the five above
		t.Errorf("webhook aliases %q, want every spelling met", d.Aliases)
	}
	file, err := New(Options{Channel: "#accord-alerts"})
	if err != nil {
		t.Fatal(err)
	}
	for sp, want := range map[string]string{"": "#accord-alerts", "accord-alerts": "#accord-alerts", "#Accord-Alerts": "#accord-alerts",
		"C0ALERTS01": "C0ALERTS01", "#other": "#other"} {
		if d := file.Destination(sp); d.Key != want || !d.Resolved {
			t.Errorf("file, %q: got %+v, want %s", sp, d, want)
		}
	}
	file.ResolveChannels(t.Context(), []string{"#x"}) // nothing to ask
	file.LearnChannel("#accord-alerts", "C0ALERTS01/1.1")
	if d := file.Destination("#accord-alerts"); d.Key != "#accord-alerts" {
		t.Errorf("file mode learned an ID: %+v", d)
	}
}
