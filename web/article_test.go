package web

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
)

// The item page shows where each match came from — title, summary or the
// fetched article with its paragraph — and quotes the article only in a
// few words around each match.
func TestItemPageArticleEvidence(t *testing.T) {
	lead := strings.Repeat("The port operator said its cargo systems were back online by the weekend. ", 4)
	third := "Investigators at Microsoft tied the intrusion to Lazarus Group, the company said."
	article := lead + "\n\n" + lead + "\n\n" + third + " " + lead
	off := strings.Index(article, "Lazarus Group")
	withArticle := accordwatch.Item{
		ID: "port", Title: "Port operator restores systems", Link: "https://news.example/port",
		Text: "A port operator restored its systems.", Article: article,
		Tags: accordwatch.Tags{Actors: []string{"Lazarus Group"}, Evidence: []accordwatch.Evidence{
			ev("actor:Lazarus Group", "article", "Lazarus Group", off, "actor-name"),
			ev("attack:data-breach", "text", "restored", 17, "attack-keyword"),
			// An offset that no longer points at its match is shown bare.
			ev("signatory:Microsoft", "article", "Microsoft", 3, "signatory-name"),
		}},
	}
	failed := accordwatch.Item{ID: "paywalled", Title: "Story", Link: "https://news.example/p", Text: "A story.",
		ArticleError: "not an article: the page has too little article text (paywall, consent or index page?)"}
	ix, _ := newPageIndex(t)
	srv := httptest.NewServer(Handler(Options{Searcher: ix, Items: mapItemStore{"port": withArticle, "paywalled": failed}, Version: "test"}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, path        string
		contains, missing []string
	}{
		{
			name: "article evidence in context", path: "/items/port",
			contains: []string{
				`<q class="context">…` + lastWords(article[:off], articleContext) + ` <mark>Lazarus Group</mark>, the company said. The port operator said its cargo systems were back online by…</q>`,
				`<td>article@` + strconv.Itoa(off) + ` (paragraph 3)</td>`,
				`<td>restored</td><td>summary@17</td>`,
				`<td>Microsoft</td><td>article@3</td>`,
				`The article on the source page (` + strconv.Itoa(len(article)) + ` characters) was read for tags and search.`,
				`<a href="https://news.example/port" rel="noopener noreferrer nofollow">read it at the source</a>`,
			},
			// The first paragraph is far from any match: never quoted.
			missing: []string{lead},
		},
		{
			name: "article not used", path: "/items/paywalled",
			contains: []string{"<h2>Article</h2>", "Not used: not an article: the page has too little article text (paywall, consent or index page?)."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, nil, "GET", srv.URL+tt.path, nil, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("page lacks %q", c)
				}
			}
			for _, c := range tt.missing {
				if strings.Contains(body, c) {
					t.Errorf("page quotes %q", c)
				}
			}
			assertInert(t, body)
		})
	}
}

// lastWords is the last n runes of s, whitespace collapsed.
func lastWords(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	return string(r[len(r)-n:])
}
