package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/google/go-cmp/cmp"

	"github.com/accordwatch/accordwatch"
)

// TestPhraseSearcherMatchesBleve checks the unscored phrase searcher
// against bleve's own phrase search on texts made to trip it: stop words
// inside phrases (gaps), words repeated in a phrase and in a text, stems
// shared by different words, and phrases combined with other clauses
// (which move it by Advance).
func TestPhraseSearcherMatchesBleve(t *testing.T) {
	words := []string{"attack", "attacks", "attacked", "denial", "of", "the", "service", "remote", "code", "execution",
		"supply", "chain", "a", "zero", "day", "data", "breach", "and", "botnet", "patch"}
	rng := rand.New(rand.NewPCG(7, 15))
	sentence := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(ws, " ")
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []accordwatch.Item
	for i := range 800 {
		items = append(items, accordwatch.Item{
			ID:        fmt.Sprintf("p%04d", i),
			Title:     sentence(3 + rng.IntN(6)),
			Text:      sentence(5 + rng.IntN(40)),
			FeedName:  "CISA",
			Published: start.Add(time.Duration(i) * 90 * time.Minute),
			Tags:      accordwatch.Tags{States: []string{[]string{"Russia", "China", "Iran"}[i%3]}},
		})
	}
	ix := openWith(t, items)
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	phrases := []string{"denial of service", "remote code execution", "attack attack", "the attack", "attacks of the",
		"data and breach", "supply chain", "zero day patch", "patch", "of the", "a botnet a", "code code code"}
	for range 40 {
		phrases = append(phrases, sentence(2+rng.IntN(3)))
	}
	state := query.NewTermQuery("russia")
	state.SetField("state")
	ids := func(t *testing.T, p *partition, q query.Query, score string) []string {
		t.Helper()
		sr := bleve.NewSearchRequestOptions(q, 1000, 0, false)
		sr.Score = score
		sr.SortBy([]string{"_id"})
		res, err := searchPart(context.Background(), p, sr)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, 0, len(res.Hits))
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	hits := 0
	for _, ph := range phrases {
		for _, field := range []string{"title", "text"} {
			theirs := query.NewMatchPhraseQuery(ph)
			theirs.SetField(field)
			ours := newPhraseQuery(ph, field)
			for _, p := range parts {
				want := ids(t, p, theirs, "")
				hits += len(want)
				if diff := cmp.Diff(want, ids(t, p, ours, "none")); diff != "" {
					t.Errorf("%q in %s, %s (-bleve +ours):\n%s", ph, field, p.name, diff)
				}
				if got := ids(t, p, ours, ""); !slices.Equal(got, want) {
					t.Errorf("%q in %s, %s: scored search differs from bleve's", ph, field, p.name)
				}
				both := ids(t, p, query.NewConjunctionQuery([]query.Query{state, ours}), "none")
				if diff := cmp.Diff(ids(t, p, query.NewConjunctionQuery([]query.Query{state, theirs}), ""), both); diff != "" {
					t.Errorf("%q in %s AND state:russia, %s (-bleve +ours):\n%s", ph, field, p.name, diff)
				}
			}
		}
	}
	if hits < 500 {
		t.Errorf("the phrases matched %d times in all, too few to tell", hits)
	}
}
