package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// followupItem is a second report of normalItem's story.
func followupItem() accordwatch.Item {
	return accordwatch.Item{
		ID:        "it-followup",
		FeedName:  "Other <Wire> & Co",
		Link:      "https://other.example/apt28?x=1&y=2",
		Title:     "APT28 <!channel> hit Exchange & more",
		Published: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC),
		Tags: accordwatch.Tags{
			Signatories: []string{"Microsoft"},
			Roles:       map[string]string{"Microsoft": "reporter"},
			States:      []string{"Russia"},
			Actors:      []string{"APT28"},
			AttackTypes: []string{accordwatch.AttackEspionage},
			Severity:    64,
		},
	}
}

// blocksOf decodes the blocks form field of a recorded call.
func blocksOf(t *testing.T, form url.Values) []any {
	t.Helper()
	var blocks []any
	if err := json.Unmarshal([]byte(form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("blocks are not JSON: %v\n%s", err, form.Get("blocks"))
	}
	return blocks
}

// TestSendKindsBot posts each message kind to the fake Web API and pins
// the form fields that make it a thread reply (or not) and its blocks.
func TestSendKindsBot(t *testing.T) {
	tests := []struct {
		name        string
		alert       accordwatch.Alert
		item        accordwatch.Item
		wantChannel string
		wantForm    map[string]string // "" = must be absent
		wantText    string            // prefix of the fallback text
		header      bool
	}{
		{
			name:        "incident",
			alert:       accordwatch.Alert{ID: "a1", Kind: accordwatch.KindIncident, Rule: "state-linked-signatory", Sources: 3},
			item:        normalItem(),
			wantChannel: "#alerts",
			wantForm:    map[string]string{"thread_ts": "", "reply_broadcast": ""},
			wantText:    "🔴 87 · Microsoft",
			header:      true,
		},
		{
			name: "followup_thread",
			alert: accordwatch.Alert{ID: "a2", Kind: accordwatch.KindFollowup, Rule: "state-linked-signatory", Channel: "#ignored",
				IncidentID: "inc1", ThreadRef: "C0PARENT/1700000000.000001", Sources: 2},
			item:        followupItem(),
			wantChannel: "C0PARENT",
			wantForm:    map[string]string{"thread_ts": "1700000000.000001", "reply_broadcast": ""},
			wantText:    "Also reported by Other &lt;Wire&gt; &amp; Co: APT28 &lt;!channel&gt; hit Exchange &amp; more",
		},
		{
			name: "followup_broadcast",
			alert: accordwatch.Alert{ID: "a3", Kind: accordwatch.KindFollowup, Rule: "state-linked-signatory",
				IncidentID: "inc1", ThreadRef: "C0PARENT/1700000000.000001", Broadcast: true, Sources: 4},
			item:        followupItem(),
			wantChannel: "C0PARENT",
			wantForm:    map[string]string{"thread_ts": "1700000000.000001", "reply_broadcast": "true"},
			wantText:    "Also reported by ",
		},
		{
			name: "followup_no_thread_ref",
			alert: accordwatch.Alert{ID: "a4", Kind: accordwatch.KindFollowup, Rule: "r", Channel: "C9",
				IncidentID: "inc1", ThreadRef: ""},
			item:        followupItem(),
			wantChannel: "C9",
			wantForm:    map[string]string{"thread_ts": "", "reply_broadcast": ""},
			wantText:    "Follow-up: Also reported by ",
		},
		{
			name:        "summary",
			alert:       summaryAlert(3),
			wantChannel: "#alerts",
			wantForm:    map[string]string{"thread_ts": ""},
			wantText:    "3 more alerts held back by the rate cap on #alerts in the last hour:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSlack{token: testToken}
			n := newBot(t, fake, nil)
			ref, err := n.Send(t.Context(), tt.alert, tt.item)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if want := "C1/" + okTS; ref != want {
				t.Errorf("ref = %q, want %q (the new message's)", ref, want)
			}
			calls := fake.Calls()
			if len(calls) != 1 || calls[0].Method != "chat.postMessage" {
				t.Fatalf("calls = %+v, want one chat.postMessage", calls)
			}
			form := calls[0].Form
			if got := form.Get("channel"); got != tt.wantChannel {
				t.Errorf("channel = %q, want %q", got, tt.wantChannel)
			}
			for k, want := range tt.wantForm {
				if want == "" {
					if form.Has(k) {
						t.Errorf("form has %s=%q, want it unset", k, form.Get(k))
					}
				} else if got := form.Get(k); got != want {
					t.Errorf("form %s = %q, want %q", k, got, want)
				}
			}
			if got := form.Get("text"); !strings.HasPrefix(got, tt.wantText) {
				t.Errorf("text = %q, want prefix %q", got, tt.wantText)
			}
			blocks := blocksOf(t, form)
			checkMessage(t, form.Get("text"), blocks, tt.header)
			if tt.name == "incident" {
				// a.Sources > 1 shows in the context line.
				objs := textObjects(blocks, "")
				if last := objs[len(objs)-1].text; !strings.HasSuffix(last, "· 3 sources") {
					t.Errorf("context = %q, want it to end with the source count", last)
				}
				return // pinned by normal.golden
			}
			golden(t, filepath.Join("testdata", tt.name+".golden"), map[string]any{
				"channel":         form.Get("channel"),
				"thread_ts":       form.Get("thread_ts"),
				"reply_broadcast": form.Get("reply_broadcast"),
				"text":            form.Get("text"),
				"blocks":          blocks,
			})
		})
	}
}

func summaryAlert(n int) accordwatch.Alert {
	a := accordwatch.Alert{ID: "sum1", Kind: accordwatch.KindSummary, Rule: "state-linked-signatory"}
	for i := range n {
		a.Summary = append(a.Summary, accordwatch.SummaryEntry{
			Title:    fmt.Sprintf("Story %d <!here> & more", i),
			Link:     fmt.Sprintf("https://news.example/%d?a=1&b=2", i),
			Severity: 90 - 30*(i%3),
			Rule:     "state-linked-signatory",
		})
	}
	return a
}

func TestSendEmptySummaryPostsNothing(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	ref, err := n.Send(t.Context(), accordwatch.Alert{Kind: accordwatch.KindSummary}, accordwatch.Item{})
	if err != nil || ref != "" {
		t.Errorf("Send = %q, %v; want \"\", nil", ref, err)
	}
	if got := len(fake.Calls()); got != 0 {
		t.Errorf("server saw %d calls, want 0", got)
	}
}

// TestRenderSummaryLimits: many or huge entries stay within Block Kit
// limits and the message says how many were left out.
func TestRenderSummaryLimits(t *testing.T) {
	huge := summaryAlert(0)
	for i := range 30 {
		huge.Summary = append(huge.Summary, accordwatch.SummaryEntry{
			Title: strings.Repeat("<!channel> & ", 200) + fmt.Sprint(i), Link: "https://x.example/" + strings.Repeat("a", 1400),
			Severity: 50, Rule: strings.Repeat("r&", 300),
		})
	}
	tests := []struct {
		name      string
		alert     accordwatch.Alert
		wantShown int // entry lines
	}{
		{"one", summaryAlert(1), 1},
		{"forty fit", summaryAlert(40), 40},
		{"many", summaryAlert(500), -1},
		{"huge entries", huge, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := renderSummary(tt.alert, "C123")
			raw, _ := json.Marshal(msg.Blocks)
			var blocks []any
			if err := json.Unmarshal(raw, &blocks); err != nil {
				t.Fatal(err)
			}
			checkMessage(t, msg.Text, blocks, false)
			if total := utf8.RuneCount(raw); total > 13000 {
				t.Errorf("blocks JSON is %d runes, want ≤ 13000 (msg_blocks_too_long)", total)
			}
			shown := 0
			for _, o := range textObjects(blocks, "")[1:] {
				if !strings.HasPrefix(o.text, "… and ") {
					shown += strings.Count(o.text, "\n") + 1
				}
			}
			objs := textObjects(blocks, "")
			last := objs[len(objs)-1].text
			n := len(tt.alert.Summary)
			if shown < n {
				if want := fmt.Sprintf("… and %d more", n-shown); last != want {
					t.Errorf("last text = %q, want %q", last, want)
				}
			} else if strings.HasPrefix(last, "… and") {
				t.Errorf("last text = %q, want no overflow note when all %d fit", last, n)
			}
			if tt.wantShown >= 0 && shown != tt.wantShown {
				t.Errorf("shown %d entries, want %d", shown, tt.wantShown)
			}
			if shown == 0 {
				t.Error("showed no entries, want at least one")
			}
			wantLead := fmt.Sprintf("%d more alert", n)
			if !strings.HasPrefix(msg.Text, wantLead) || !strings.Contains(msg.Text, "on #C123 in the last hour") {
				t.Errorf("text = %q, want %q… on #C123", msg.Text, wantLead)
			}
		})
	}
}

// TestUpdateParent checks chat.update goes to the parent's channel and ts
// with the re-rendered incident showing the new source count.
func TestUpdateParent(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	a := accordwatch.Alert{ID: "a1", Kind: accordwatch.KindFollowup, Rule: "state-linked-signatory", Sources: 1}
	if err := n.UpdateParent(t.Context(), "C0PARENT/1700000000.000001", a, normalItem(), 5); err != nil {
		t.Fatalf("UpdateParent: %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Method != "chat.update" {
		t.Fatalf("calls = %+v, want one chat.update", calls)
	}
	form := calls[0].Form
	for k, want := range map[string]string{"channel": "C0PARENT", "ts": "1700000000.000001", "token": testToken} {
		if got := form.Get(k); got != want {
			t.Errorf("form %s = %q, want %q", k, got, want)
		}
	}
	blocks := blocksOf(t, form)
	checkBlocks(t, form.Get("text"), blocks)
	objs := textObjects(blocks, "")
	if last := objs[len(objs)-1].text; !strings.HasSuffix(last, "· 5 sources") {
		t.Errorf("context = %q, want it to end with \"· 5 sources\"", last)
	}
	golden(t, filepath.Join("testdata", "update.golden"), map[string]any{
		"channel": form.Get("channel"),
		"ts":      form.Get("ts"),
		"text":    form.Get("text"),
		"blocks":  blocks,
	})
}

func TestUpdateParentErrors(t *testing.T) {
	tests := []struct {
		name           string
		ref            string
		respond        func(http.ResponseWriter, url.Values)
		wantCalls      int
		wantCode       string
		wantPermanent  bool
		wantRetryAfter time.Duration
	}{
		{"429 with Retry-After", "C1/1.2", func(w http.ResponseWriter, _ url.Values) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 1, "rate_limited", false, 7 * time.Second},
		{"message_not_found", "C1/1.2", func(w http.ResponseWriter, _ url.Values) {
			fmt.Fprint(w, `{"ok":false,"error":"message_not_found"}`)
		}, 1, "message_not_found", true, 0},
		{"cant_update_message", "C1/1.2", func(w http.ResponseWriter, _ url.Values) {
			fmt.Fprint(w, `{"ok":false,"error":"cant_update_message"}`)
		}, 1, "cant_update_message", true, 0},
		{"500", "C1/1.2", func(w http.ResponseWriter, _ url.Values) {
			w.WriteHeader(http.StatusInternalServerError)
		}, 1, "http_500", false, 0},
		{"empty ref", "", nil, 0, "bad_ref", true, 0},
		{"ref without ts", "C1/", nil, 0, "bad_ref", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSlack{token: testToken, respondUpdate: tt.respond}
			n := newBot(t, fake, nil)
			err := n.UpdateParent(t.Context(), tt.ref, accordwatch.Alert{Rule: "r"}, normalItem(), 2)
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want *SendError", err)
			}
			if se.Code != tt.wantCode || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got {Code:%q Permanent:%v RetryAfter:%v}, want {Code:%q Permanent:%v RetryAfter:%v}",
					se.Code, se.Permanent, se.RetryAfter, tt.wantCode, tt.wantPermanent, tt.wantRetryAfter)
			}
			if got := len(fake.Calls()); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d (no hidden retries)", got, tt.wantCalls)
			}
		})
	}
}

// TestWebhookModeDegrades: without a bot token a follow-up is its own
// message starting "Follow-up:", and UpdateParent does nothing; neither
// is an error.
func TestWebhookModeDegrades(t *testing.T) {
	fake := &fakeHook{}
	n := newHook(t, fake, nil)
	a := accordwatch.Alert{ID: "f1", Kind: accordwatch.KindFollowup, Rule: "r", ThreadRef: "C1/1.2", Broadcast: true, Sources: 2}
	ref, err := n.Send(t.Context(), a, followupItem())
	if err != nil || ref != "" {
		t.Fatalf("Send = %q, %v; want \"\", nil", ref, err)
	}
	if err := n.UpdateParent(t.Context(), "C1/1.2", a, normalItem(), 3); err != nil {
		t.Errorf("UpdateParent = %v, want nil (no-op)", err)
	}
	if _, err := n.Send(t.Context(), summaryAlert(2), accordwatch.Item{}); err != nil {
		t.Fatalf("Send summary: %v", err)
	}
	bodies := fake.Bodies()
	if len(bodies) != 2 {
		t.Fatalf("webhook saw %d posts, want 2 (follow-up, summary; no update)", len(bodies))
	}
	var msg struct {
		Text     string `json:"text"`
		Blocks   []any  `json:"blocks"`
		ThreadTS string `json:"thread_ts"`
	}
	if err := json.Unmarshal(bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "Follow-up: Also reported by Other &lt;Wire&gt; &amp; Co:") || msg.ThreadTS != "" {
		t.Errorf("follow-up text = %q thread_ts = %q, want a \"Follow-up:\" message outside any thread", msg.Text, msg.ThreadTS)
	}
	checkMessage(t, msg.Text, msg.Blocks, false)
	golden(t, filepath.Join("testdata", "followup_webhook.golden"), map[string]any{"text": msg.Text, "blocks": msg.Blocks})

	if err := json.Unmarshal(bodies[1], &msg); err != nil {
		t.Fatal(err)
	}
	// One webhook is one channel; without a default channel it is unnamed.
	if want := "2 more alerts held back by the rate cap on this channel in the last hour:"; msg.Text != want {
		t.Errorf("summary text = %q, want %q", msg.Text, want)
	}
}

// TestFileModeKinds: follow-ups and summaries are records of their kind.
func TestFileModeKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	n, err := New(Options{AlertsFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Send(t.Context(), accordwatch.Alert{Kind: accordwatch.KindFollowup, Rule: "r", IncidentID: "inc1", ThreadRef: "C/1", Sources: 2}, followupItem()); err != nil {
		t.Fatalf("Send follow-up: %v", err)
	}
	if err := n.UpdateParent(t.Context(), "C/1", accordwatch.Alert{}, normalItem(), 2); err != nil {
		t.Errorf("UpdateParent = %v, want nil", err)
	}
	if _, err := n.Send(t.Context(), summaryAlert(2), accordwatch.Item{}); err != nil {
		t.Fatalf("Send summary: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), raw)
	}
	var f, s fileRecord
	if err := json.Unmarshal([]byte(lines[0]), &f); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &s); err != nil {
		t.Fatal(err)
	}
	if f.Kind != accordwatch.KindFollowup || f.IncidentID != "inc1" || f.Sources != 2 || f.ItemID != "it-followup" {
		t.Errorf("follow-up record = %+v", f)
	}
	if s.Kind != accordwatch.KindSummary || len(s.Summary) != 2 {
		t.Errorf("summary record kind=%q entries=%d, want summary with 2", s.Kind, len(s.Summary))
	}
}

func TestPrincipleWhy(t *testing.T) {
	tags := func(ev ...accordwatch.Evidence) accordwatch.Tags { return accordwatch.Tags{Evidence: ev} }
	tests := []struct {
		name string
		tags accordwatch.Tags
		p    accordwatch.Principle
		want string
	}{
		{"no evidence", tags(), accordwatch.NoOffense, ""},
		{"other principle only", tags(accordwatch.Evidence{Tag: "principle:no-offense", Rule: "state-linked"}), accordwatch.StrongerDefense, ""},
		{"derived", tags(accordwatch.Evidence{Tag: "principle:no-offense", Field: "tags", Rule: "state-linked"}), accordwatch.NoOffense, "state-linked activity"},
		{"victim", tags(accordwatch.Evidence{Tag: "principle:stronger-defense", Field: "tags", Rule: "signatory-victim:Cisco"}), accordwatch.StrongerDefense, "Cisco was targeted"},
		{"vendor", tags(accordwatch.Evidence{Tag: "principle:stronger-defense", Field: "tags", Rule: "signatory-vendor:HPE"}), accordwatch.StrongerDefense, "HPE products are affected"},
		{"with match", tags(accordwatch.Evidence{Tag: "principle:collective-action", Field: "text", Match: "joint\n  advisory", Rule: "joint-action"}), accordwatch.CollectiveAction, "joint action with partners (“joint advisory”)"},
		{"unknown rule falls back to its name", tags(accordwatch.Evidence{Tag: "principle:capacity-building", Field: "tags", Rule: "new-rule"}), accordwatch.CapacityBuilding, "new-rule"},
		{"long match cut", tags(accordwatch.Evidence{Tag: "principle:no-offense", Field: "title", Match: strings.Repeat("x", 100), Rule: "offensive-tooling"}), accordwatch.NoOffense,
			"offensive tooling or spyware (“" + strings.Repeat("x", maxWhyMatch-1) + "…”)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := principleWhy(tt.tags, tt.p); got != tt.want {
				t.Errorf("principleWhy = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNewLogsCapabilities: each mode says once, at start, what it cannot do.
func TestNewLogsCapabilities(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"bot", Options{BotToken: "xoxb-1", Channel: "#a"}, []string{"slack bot mode"}},
		{"webhook", Options{WebhookURL: "https://hooks.example/x"}, []string{"level=WARN", "threads and updates need SLACK_BOT_TOKEN; follow-ups are posted as separate messages"}},
		{"json", Options{JSONWebhookURL: "https://recv.example/x", JSONWebhookSecret: "s"}, []string{"json webhook only"}},
		{"json unsigned", Options{JSONWebhookURL: "https://recv.example/x"}, []string{"deliveries are unsigned"}},
		{"file", Options{}, []string{"threads and updates need SLACK_BOT_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := tt.opts
			opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			if _, err := New(opts); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log = %q, want it to contain %q", logs.String(), w)
				}
			}
		})
	}
}
