package main

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Channel identity, end to end: the shipped config's rules and watch-list
// over the real feed files, against a fake Slack Web API, with the alert
// channel spelled four ways (and mixed both ways, with a token that may
// and one that may not list channels). Whatever the spelling, every
// incident is one message.

// The fake workspace: one alert channel known by three spellings, among
// others that fill the first page of conversations.list.
const (
	accordID   = "C0ACCORD42"
	accordName = "accord-alerts"
)

// workspaceSlack is a fake Slack Web API that knows a workspace's
// channels: conversations.list (two pages), conversations.info,
// chat.postMessage (answering with the channel's ID, as Slack does) and
// chat.update. noScope makes conversations.* answer missing_scope, as for
// a token without channels:read.
type workspaceSlack struct {
	*httptest.Server
	noScope bool

	mu      sync.Mutex
	posts   []url.Values
	lookups int // conversations.* calls
	ts      int
}

// workspaceChannels is the workspace, in conversations.list order.
var workspaceChannels = []struct{ id, name string }{
	{"C0GENERAL1", "general"}, {"C0RANDOM01", "random"}, {"C0OPS00001", "accord-ops"},
	{"C0DIGEST01", "digest"}, {accordID, accordName},
}

func newWorkspaceSlack(t *testing.T, noScope bool) *workspaceSlack {
	t.Helper()
	f := &workspaceSlack{noScope: noScope}
	idOf := func(ch string) (string, bool) {
		for _, c := range workspaceChannels {
			if ch == c.id || ch == c.name || ch == "#"+c.name {
				return c.id, true
			}
		}
		return "", false
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, _ := strings.CutPrefix(r.URL.Path, "/api/")
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("token") != "xoxb-test-token" {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch method {
		case "conversations.list", "conversations.info":
			f.lookups++
			if f.noScope {
				fmt.Fprint(w, `{"ok":false,"error":"missing_scope","needed":"channels:read,groups:read","provided":"chat:write"}`)
				return
			}
			if method == "conversations.info" {
				for _, c := range workspaceChannels {
					if c.id == r.Form.Get("channel") {
						fmt.Fprintf(w, `{"ok":true,"channel":{"id":%q,"name":%q}}`, c.id, c.name)
						return
					}
				}
				fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
				return
			}
			if types := r.Form.Get("types"); !strings.Contains(types, "public_channel") || !strings.Contains(types, "private_channel") {
				t.Errorf("conversations.list types = %q, want public and private channels", types)
			}
			page, next := workspaceChannels[:3], "page2"
			if r.Form.Get("cursor") == "page2" {
				page, next = workspaceChannels[3:], ""
			}
			var cs []string
			for _, c := range page {
				cs = append(cs, fmt.Sprintf(`{"id":%q,"name":%q}`, c.id, c.name))
			}
			fmt.Fprintf(w, `{"ok":true,"channels":[%s],"response_metadata":{"next_cursor":%q}}`, strings.Join(cs, ","), next)
		case "chat.postMessage":
			id, ok := idOf(r.Form.Get("channel"))
			if !ok {
				fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
				return
			}
			f.ts++
			post := url.Values{}
			for k, v := range r.Form {
				post[k] = v
			}
			ts := fmt.Sprintf("1764000000.%06d", f.ts)
			post.Set("channel_id", id)
			post.Set("ts", ts)
			f.posts = append(f.posts, post)
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, id, ts)
		case "chat.update":
			// The message now reads as edited.
			id, _ := idOf(r.Form.Get("channel"))
			for _, p := range f.posts {
				if p.Get("channel_id") == id && p.Get("ts") == r.Form.Get("ts") {
					p.Set("text", r.Form.Get("text"))
					p.Set("blocks", r.Form.Get("blocks"))
				}
			}
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":"x"}`, id, r.Form.Get("ts"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Server.Close)
	return f
}

func (f *workspaceSlack) lookupCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

// topLevel returns the messages posted into the alert channel outside
// any thread, as last edited.
func (f *workspaceSlack) topLevel() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, p := range f.posts {
		if p.Get("channel_id") == accordID && p.Get("thread_ts") == "" {
			out = append(out, maps.Clone(p))
		}
	}
	return out
}

// shippedAlerting returns the rules and watch sections of the shipped
// config.yaml as YAML, with every watch-list's channel set to watchChannel.
func shippedAlerting(t *testing.T, watchChannel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatalf("read the shipped config: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	top := doc.Content[0]
	out := &yaml.Node{Kind: yaml.MappingNode}
	watched := 0
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "rules":
		case "watch":
			for _, w := range v.Content {
				for j := 0; j+1 < len(w.Content); j += 2 {
					if w.Content[j].Value == "channel" {
						w.Content[j+1].Value = watchChannel
						watched++
					}
				}
			}
		default:
			continue
		}
		out.Content = append(out.Content, k, v)
	}
	if len(out.Content) != 4 || watched == 0 {
		t.Fatalf("the shipped config has no rules or no watch-list with a channel")
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShippedConfigPostsOneMessagePerIncident replays the real feed files
// through the shipped rules and watch-list with the alert channel spelled
// "#accord-alerts", "accord-alerts", by ID, and mixed (the default channel
// one way, the watch-list another; with and without channels:read), and
// sees each incident posted once into the channel in every case — the
// same messages whatever the spelling, those both rules matched naming
// both — and a second pass (a fresh process) post nothing. Before
// channels were resolved, 9 stories made 15 messages: 6 twice.
func TestShippedConfigPostsOneMessagePerIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("seven spellings × two passes of the real feed files")
	}
	const feedDir = "../../../shared/data/feeds"
	if _, err := os.Stat(feedDir); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	cases := []struct {
		name                 string
		defaultCh, watchCh   string
		noScope, wantLookups bool
	}{
		{name: "hash name", defaultCh: "#accord-alerts", watchCh: "#accord-alerts"},
		{name: "bare name", defaultCh: "accord-alerts", watchCh: "accord-alerts"},
		{name: "ID", defaultCh: accordID, watchCh: accordID},
		{name: "mixed", defaultCh: accordID, watchCh: "#accord-alerts", wantLookups: true},
		{name: "mixed other way", defaultCh: "accord-alerts", watchCh: accordID, wantLookups: true},
		// A token without channels:read: the IDs are learned from the
		// first posts instead, before anything is posted twice.
		{name: "mixed without channels:read", defaultCh: accordID, watchCh: "#accord-alerts", noScope: true},
		{name: "mixed other way without channels:read", defaultCh: "#accord-alerts", watchCh: accordID, noScope: true},
	}
	var mu sync.Mutex
	posted := map[string][]string{} // spelling → the messages' texts, sorted
	// The spellings run side by side: each pass mostly waits out Slack's
	// one message per second per channel.
	t.Run("spellings", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				slack := newWorkspaceSlack(t, tc.noScope)
				cfg := writeConfig(t, t.TempDir(), "data_dir: data\ntimezone: UTC\n"+shippedAlerting(t, tc.watchCh))
				env := map[string]string{
					"SLACK_BOT_TOKEN": "xoxb-test-token",
					"SLACK_API_URL":   slack.URL + "/api/",
					"SLACK_CHANNEL":   tc.defaultCh,
				}
				code, out, errOut := run(t, env, "", "run", "--once", "--feeds", feedDir, "--config", cfg)
				if code != 0 {
					t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
				}
				top := slack.topLevel()
				if len(top) == 0 {
					t.Fatalf("nothing was posted into the alert channel\n%s", errOut)
				}
				seen := map[string]int{}
				for _, p := range top {
					seen[p.Get("text")]++
				}
				for text, n := range seen {
					if n > 1 {
						t.Errorf("posted %d times into the same channel: %s", n, text)
					}
				}
				both := 0
				for _, p := range top {
					// The watch-list's rule comes after the config's rules.
					if b := p.Get("blocks"); strings.Contains(b, "matched: ") && strings.Contains(b, ", watch ") {
						both++
					}
				}
				if both == 0 {
					t.Errorf("no message names all the rules that matched it (\"matched: state-linked-attack, watch …\")")
				}
				mu.Lock()
				posted[tc.name] = append(slices.Sorted(maps.Keys(seen)), fmt.Sprintf("(%d naming the config's rules and the watch-list)", both))
				mu.Unlock()
				t.Logf("%d messages, %d naming rules of the config and the watch-list", len(top), both)
				if tc.wantLookups && slack.lookupCount() == 0 {
					t.Error("the channel names were not looked up with conversations.list/info")
				}
				// A second pass over the same files posts nothing more.
				before := len(slack.topLevel())
				if code, out, errOut := run(t, env, "", "run", "--once", "--feeds", feedDir, "--config", cfg); code != 0 {
					t.Fatalf("second pass: exit %d\n%s\n%s", code, out, errOut)
				}
				if got := len(slack.topLevel()); got != before {
					t.Errorf("second pass: %d messages in all, want still %d", got, before)
				}
			})
		}
	})
	// One message per incident: the same messages whatever the spelling.
	want := posted[cases[0].name]
	for name, got := range posted {
		if !slices.Equal(got, want) {
			t.Errorf("%s: posted\n%s\nwant as with %q:\n%s", name, strings.Join(got, "\n"), cases[0].name, strings.Join(want, "\n"))
		}
	}
}
