package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// An item with a fetched article is quoted in Slack by a snippet of at
// most maxExcerpt runes — the feed's text, or the article's opening when
// the feed has none — under a headline that links to the source. The
// rest of the article never leaves the store.
func TestRenderQuotesArticleSnippetOnly(t *testing.T) {
	body := strings.Repeat("The intrusion at the port operator began with a phishing mail to a contractor. ", 10) +
		"Deep in the story: investigators tied the tooling to Lazarus Group."
	tests := []struct {
		name, text, wantSnippet string
	}{
		{"feed text", "A port operator disclosed an intrusion.", "A port operator disclosed an intrusion."},
		{"no feed text", "", "The intrusion at the port operator began with a phishing mail to a contractor."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := accordwatch.Item{Title: "Port operator breached", Link: "https://news.example/port", Text: tt.text, Article: body}
			msg := render(accordwatch.Alert{Rule: "r"}, it)
			raw, err := json.Marshal(msg.Blocks)
			if err != nil {
				t.Fatal(err)
			}
			var blocks []any
			if err := json.Unmarshal(raw, &blocks); err != nil {
				t.Fatal(err)
			}
			section := textObjects(blocks, "")[1].text
			headline, snippet, _ := strings.Cut(section, "\n")
			if headline != "<https://news.example/port|Port operator breached>" {
				t.Errorf("headline = %q, want it linked to the source", headline)
			}
			if n := utf8.RuneCountInString(snippet); n > maxExcerpt || !strings.HasPrefix(snippet, tt.wantSnippet) {
				t.Errorf("snippet = %q (%d runes), want at most %d starting %q", snippet, n, maxExcerpt, tt.wantSnippet)
			}
			if strings.Contains(string(raw), "Lazarus") || strings.Contains(msg.Text, "Lazarus") {
				t.Errorf("message quotes the article beyond a snippet: %s", raw)
			}
		})
	}
}

// The JSON webhook carries the item's tags, evidence and link, not the
// publisher's article.
func TestJSONWebhookOmitsArticle(t *testing.T) {
	recv := &fakeReceiver{}
	n := newJSON(t, recv, nil)
	it := normalItem()
	it.Article = "Deep in the story: investigators tied the tooling to Lazarus Group."
	if _, err := n.Send(t.Context(), accordwatch.Alert{ID: "a1", Rule: "r", ItemID: it.ID}, it); err != nil {
		t.Fatal(err)
	}
	ds := recv.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("got %d deliveries, want 1", len(ds))
	}
	var p struct {
		Item map[string]any `json:"item"`
	}
	if err := json.Unmarshal(ds[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Item["article"]; ok || strings.Contains(string(ds[0].body), "Lazarus") {
		t.Errorf("payload carries the article: %s", ds[0].body)
	}
	if p.Item["link"] != it.Link {
		t.Errorf("payload link = %v, want %q", p.Item["link"], it.Link)
	}
}
