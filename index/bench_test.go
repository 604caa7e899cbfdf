package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/accordwatch/accordwatch"
)

// syntheticItems makes n deterministic items with a realistic tag mix.
func syntheticItems(n int) []accordwatch.Item {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("attack ransomware patch vulnerability exploited phishing espionage breach " +
		"cloud firewall credentials malware botnet wiper researchers government hospital energy " +
		"supply chain outage disclosure advisory campaign intrusion servers customers data leak")
	pick := func(vals ...string) []string { return []string{vals[r.IntN(len(vals))]} }
	sentence := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	items := make([]accordwatch.Item, n)
	for i := range items {
		items[i] = accordwatch.Item{
			ID:        fmt.Sprintf("item-%06d", i),
			FeedName:  pick("The Record", "BleepingComputer", "SecurityWeek", "CISA")[0],
			Link:      fmt.Sprintf("https://example.com/news/%d", i),
			Title:     sentence(10),
			Text:      sentence(80),
			Published: testNow.Add(-time.Duration(r.IntN(90*24)) * time.Hour),
			Tags: accordwatch.Tags{
				Signatories: pick("Microsoft", "Cisco", "ESET", "Oracle", "HP Inc"),
				States:      pick("Russia", "China", "North Korea", "Iran"),
				Actors:      pick("APT28", "Sandworm", "Lazarus Group", "Volt Typhoon"),
				StateLinked: r.IntN(2) == 0,
				AttackTypes: pick("ransomware", "espionage", "phishing", "wiper"),
				Principles:  []accordwatch.Principle{accordwatch.Principles[r.IntN(4)]},
				Severity:    r.IntN(101),
			},
		}
	}
	return items
}

// openSynthetic opens a new index holding syntheticItems(n), closed when
// b ends.
func openSynthetic(b *testing.B, n int) *Index {
	b.Helper()
	ix, err := Open(filepath.Join(b.TempDir(), "index"), testOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ix.Close() })
	if err := ix.Add(context.Background(), syntheticItems(n)); err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkAdd10k indexes 10 000 items of three months in one Add (a batch
// a month) into a new index.
func BenchmarkAdd10k(b *testing.B) {
	items := syntheticItems(10_000)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		ix, err := Open(filepath.Join(b.TempDir(), fmt.Sprint("index", i)), testOptions())
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.Add(ctx, items); err != nil {
			b.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSearchFielded searches 10 000 items with tag, range and text
// clauses, sorted newest first with facets.
func BenchmarkSearchFielded(b *testing.B) {
	ix := openSynthetic(b, 10_000)
	ctx := context.Background()
	for _, q := range []string{
		"state:russia signatory:microsoft since:30d",
		"ransomware AND NOT state:china severity:>=70",
		`"supply chain" (actor:apt28 OR actor:sandworm)`,
	} {
		b.Run(q, func(b *testing.B) {
			req := accordwatch.SearchRequest{Query: q}
			var total uint64
			for b.Loop() {
				res, err := ix.Search(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			if total == 0 {
				b.Fatalf("%s: no hits", q)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	q := "state:russia AND signatory:microsoft AND NOT attack:ddos since:30d (\"supply chain\" OR severity:[40 TO 80])"
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeepPage reads page 200 (size 20, newest first) of 10 000
// items spread over three months, by offset and by cursor.
func BenchmarkDeepPage(b *testing.B) {
	ix := openSynthetic(b, 10_000)
	ctx := context.Background()
	req := accordwatch.SearchRequest{Sort: accordwatch.SortNewest, Size: 20}
	for range 199 {
		res, err := ix.Search(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		req.After = res.Next
	}
	b.Run("From", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.Search(ctx, accordwatch.SearchRequest{Sort: accordwatch.SortNewest, Size: 20, From: 199 * 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("After", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.Search(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMatching runs an alert rule over a poll's 50 new ids.
func BenchmarkMatching(b *testing.B) {
	ix, err := Open(filepath.Join(b.TempDir(), "index"), testOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	items := syntheticItems(10_000)
	if err := ix.Add(ctx, items); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = items[i*97].ID
	}
	for b.Loop() {
		if _, err := ix.Matching(ctx, "state:russia ransomware", ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPhraseCount counts the hits of a phrase whose words are common
// and mostly apart (so most documents holding both words are checked and
// rejected) in 10 000 items, with the unscored phrase searcher and with
// bleve's; both must count the same hits.
func BenchmarkPhraseCount(b *testing.B) {
	ix := openSynthetic(b, 10_000)
	ctx := context.Background()
	parts, err := ix.snapshot(time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	bleves := func(text, field string) query.Query {
		q := query.NewMatchPhraseQuery(text)
		q.SetField(field)
		return q
	}
	ours := func(text, field string) query.Query { return newPhraseQuery(text, field) }
	counts := make(map[string]uint64)
	for _, bc := range []struct {
		name   string
		phrase func(text, field string) query.Query
	}{{"unscored", ours}, {"bleve", bleves}} {
		bq := query.NewDisjunctionQuery([]query.Query{bc.phrase("supply chain", "title"), bc.phrase("supply chain", "text")})
		b.Run(bc.name, func(b *testing.B) {
			var n uint64
			for b.Loop() {
				n = 0
				for _, p := range parts {
					t, err := tallyPart(ctx, p, bq, math.MaxUint64, nil, 0, 0, nil)
					if err != nil {
						b.Fatal(err)
					}
					n += t.count
				}
			}
			counts[bc.name] = n
			b.ReportMetric(float64(n), "hits")
		})
	}
	if counts["unscored"] != counts["bleve"] || counts["bleve"] == 0 {
		b.Fatalf("counted %v: want the same hits, more than none", counts)
	}
}
