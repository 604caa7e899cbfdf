package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch/digest"
)

const digestHTML = "https://accord.example.org/api/digest?week=2026-W47&format=html"

// fixtureDigest is the digest package's fixture week, built there from a
// real index and pinned by its JSON golden file.
func fixtureDigest(t *testing.T) *digest.Report {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "digest", "testdata", "week.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var r digest.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// asAny turns messages into the generic JSON Slack receives.
func asAny(t *testing.T, msgs []message) []map[string]any {
	t.Helper()
	raw, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDigestBlocksGolden(t *testing.T) {
	r := fixtureDigest(t)
	msgs := renderDigest(r, digestHTML)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1 for the fixture week", len(msgs))
	}
	generic := asAny(t, msgs)
	for i, m := range generic {
		blocks, _ := m["Blocks"].([]any)
		checkMessage(t, m["Text"].(string), blocks, i == 0)
	}
	all := plainJSON(generic)
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;",
		"Tech Accord weekly digest · 2026-W47",
		"<https://accord.example.org/api/digest?week=2026-W47&amp;format=html|Open the full digest>",
		"*Saved search · Wipers* — ",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("blocks do not contain %q", want)
		}
	}
	if strings.Contains(all, "javascript:") {
		t.Errorf("blocks contain a javascript: link")
	}
	golden(t, filepath.Join("testdata", "digest.golden"), generic)
}

// plainJSON encodes v without HTML escaping, as the golden files are.
func plainJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}

func TestDigestEmptyWeek(t *testing.T) {
	r := &digest.Report{Week: "2026-W47", Title: "2026-W47", Location: "UTC"}
	msgs := renderDigest(r, "")
	if len(msgs) != 1 || len(msgs[0].Blocks) != 3 {
		t.Fatalf("got %d messages / %d blocks, want 1 message of header, line, context", len(msgs), len(msgs[0].Blocks))
	}
	raw, _ := json.Marshal(msgs)
	if !strings.Contains(string(raw), "No incidents matched this week") {
		t.Errorf("no friendly line: %s", raw)
	}
}

// bigDigest has more saved sections than one message can hold.
func bigDigest(t *testing.T) *digest.Report {
	r := fixtureDigest(t)
	sec := r.Sections[1]
	r.Sections = nil
	for i := range 60 {
		s := sec
		s.Name = fmt.Sprintf("Section %d <!here>", i+1)
		r.Sections = append(r.Sections, s)
	}
	return r
}

func TestDigestSplitsLongDigests(t *testing.T) {
	msgs := renderDigest(bigDigest(t), digestHTML)
	if len(msgs) < 2 {
		t.Fatalf("got %d messages, want the digest continued in a second one", len(msgs))
	}
	total := 0
	for i, m := range asAny(t, msgs) {
		blocks, _ := m["Blocks"].([]any)
		checkMessage(t, m["Text"].(string), blocks, i == 0)
		total += len(blocks)
	}
	// Every section made it, in order.
	raw := plainJSON(msgs)
	last := -1
	for i := range 60 {
		at := strings.Index(raw, fmt.Sprintf("Section %d &lt;!here&gt;*", i+1))
		if at < 0 || at < last {
			t.Errorf("section %d missing or out of order", i+1)
		}
		last = at
	}
}

func TestSendDigestBotThreadsContinuations(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	ref, err := n.SendDigest(context.Background(), "#digest", bigDigest(t), digestHTML)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "C1/"+okTS {
		t.Errorf("ref: got %q, want C1/%s", ref, okTS)
	}
	posts := fake.Posts()
	if len(posts) < 2 {
		t.Fatalf("got %d posts, want a first message and thread replies", len(posts))
	}
	if posts[0].Get("channel") != "#digest" || posts[0].Get("thread_ts") != "" {
		t.Errorf("first post: channel %q thread_ts %q, want #digest and none", posts[0].Get("channel"), posts[0].Get("thread_ts"))
	}
	for i, p := range posts[1:] {
		if p.Get("thread_ts") != okTS || p.Get("channel") != "C1" {
			t.Errorf("reply %d: channel %q thread_ts %q, want C1 and %s", i+1, p.Get("channel"), p.Get("thread_ts"), okTS)
		}
	}
}

func TestSendDigestBotDefaultChannelAndError(t *testing.T) {
	fake := &fakeSlack{token: testToken}
	n := newBot(t, fake, nil)
	if _, err := n.SendDigest(context.Background(), "", fixtureDigest(t), ""); err != nil {
		t.Fatal(err)
	}
	if got := fake.Posts()[0].Get("channel"); got != "#alerts" {
		t.Errorf("channel: got %q, want the default #alerts", got)
	}
	bad := newBot(t, &fakeSlack{token: "other"}, nil)
	_, err := bad.SendDigest(context.Background(), "#digest", fixtureDigest(t), "")
	var se *SendError
	if !errors.As(err, &se) || se.Code != "invalid_auth" || !se.Permanent {
		t.Errorf("got %v, want a permanent invalid_auth SendError", err)
	}
}

func TestSendDigestWebhookPostsWithoutThreads(t *testing.T) {
	fake := &fakeHook{}
	n := newHook(t, fake, nil)
	ref, err := n.SendDigest(context.Background(), "#ignored", bigDigest(t), digestHTML)
	if err != nil || ref != "" {
		t.Fatalf("got %q, %v, want \"\", nil", ref, err)
	}
	bodies := fake.Bodies()
	if len(bodies) != len(renderDigest(bigDigest(t), digestHTML)) {
		t.Errorf("got %d webhook posts, want one per message", len(bodies))
	}
	for _, b := range bodies {
		if strings.Contains(string(b), "thread_ts") {
			t.Errorf("webhook body has a thread: %s", b)
		}
	}
}

func TestSendDigestFileModeLogs(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ref, err := n.SendDigest(context.Background(), "", fixtureDigest(t), ""); err != nil || ref != "" {
		t.Errorf("got %q, %v, want \"\", nil", ref, err)
	}
}

func TestDigestPayload(t *testing.T) {
	raw, err := DigestPayload(fixtureDigest(t), digestHTML)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0].Blocks) == 0 || !strings.HasPrefix(msgs[0].Text, "Tech Accord weekly digest · 2026-W47: 8 incidents") {
		t.Errorf("payload: got %s", raw)
	}
}
