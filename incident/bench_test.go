package incident

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// synthetic makes signatures that look like the real ones to the
// clusterer: headline and lead terms drawn from the term table in
// proportion to how often news uses them (so "breach" is everywhere and
// most names are rare), one or two names of the story's own, a number
// now and then, a CVE now and then, spread over the window.
type synthetic struct {
	rng   *rand.Rand
	terms []string // the table's terms, each repeated by its document frequency
}

func newSynthetic(seed uint64) *synthetic {
	s := &synthetic{rng: rand.New(rand.NewPCG(seed, seed+1))}
	ts := stats()
	keys := make([]string, 0, len(ts.df))
	for t := range ts.df {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	for _, t := range keys {
		for range ts.df[t] {
			s.terms = append(s.terms, t)
		}
	}
	return s
}

func (s *synthetic) words(n int) []string {
	out := make([]string, 0, n)
	for range n {
		if t := s.terms[s.rng.IntN(len(s.terms))]; !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (s *synthetic) signature(story int, at time.Time) Signature {
	name := fmt.Sprintf("story%dx", story)
	sig := Signature{
		Terms: append([]string{name}, s.words(7)...),
		Lead:  s.words(22),
		Names: []string{name},
		Time:  at,
	}
	if s.rng.IntN(4) == 0 {
		sig.Terms = append(sig.Terms, formatNumber(float64(10+s.rng.IntN(100_000))))
	}
	if s.rng.IntN(20) == 0 {
		sig.CVEs = []string{fmt.Sprintf("cve-2031-%05d", s.rng.IntN(30_000))}
	}
	if s.rng.IntN(2) == 0 {
		sig.Attacks = []string{[]string{"data-breach", "ransomware", "vulnerability", "ddos"}[s.rng.IntN(4)]}
	}
	return sig
}

// benchClusterer holds live incidents of one or two reports each, spread
// evenly over the default window, and queries: reports of stories it
// holds (a third), and of new stories.
func benchClusterer(b testing.TB, live int) (*Clusterer, []Signature) {
	b.Helper()
	s := newSynthetic(1)
	c := New(Options{})
	step := DefaultWindow / time.Duration(live)
	for i := range live {
		at := t0.Add(time.Duration(i) * step)
		c.Add(fmt.Sprintf("inc-%d", i), s.signature(i, at))
		if i%4 == 0 {
			c.Add(fmt.Sprintf("inc-%d", i), s.signature(i, at.Add(time.Hour)))
		}
	}
	return c, benchQueries(s, live, t0.Add(DefaultWindow))
}

func benchQueries(s *synthetic, stories int, at time.Time) []Signature {
	queries := make([]Signature, 512)
	for i := range queries {
		story := stories + i
		if i%3 == 0 {
			story = stories - 1 - s.rng.IntN(stories/240+1) // a story of the last half day
		}
		queries[i] = s.signature(story, at)
	}
	return queries
}

// BenchmarkMatch is the per-item cost of finding an item's incident.
//
//   - stored=1M: a year of a million items went through the clusterer
//     in time order, pruned hourly as the monitor prunes it, so it holds
//     the last 120 hours: about 14,000 live incidents.
//   - live=14000: the same live set without the history.
//   - live=200000: a stress case, 200,000 items in one window (a
//     million items every 25 days).
func BenchmarkMatch(b *testing.B) {
	b.Run("stored=1M", func(b *testing.B) {
		const stored = 1_000_000
		s := newSynthetic(1)
		c := New(Options{})
		step := 365 * 24 * time.Hour / stored
		var at time.Time
		lastPrune := t0
		for i := range stored {
			at = t0.Add(time.Duration(i) * step)
			c.Add(fmt.Sprintf("inc-%d", i), s.signature(i, at))
			if at.Sub(lastPrune) >= time.Hour {
				c.Prune(at)
				lastPrune = at
			}
		}
		b.Logf("%d items stored, %d incidents live", stored, c.Len())
		benchMatch(b, c, benchQueries(s, stored, at))
	})
	for _, live := range []int{14_000, 200_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			c, queries := benchClusterer(b, live)
			benchMatch(b, c, queries)
		})
	}
}

func benchMatch(b *testing.B, c *Clusterer, queries []Signature) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Match(queries[i%len(queries)])
	}
}

// BenchmarkAssign is Match and Add under the write lock, as the monitor's
// writer does per new item.
func BenchmarkAssign(b *testing.B) {
	c, queries := benchClusterer(b, 14_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := queries[i%len(queries)]
		q.Time = q.Time.Add(time.Duration(i) * time.Millisecond)
		c.Assign(q, fmt.Sprintf("new-%d", i))
	}
}

// BenchmarkSignatureOf is the text work per item: normalising headline
// and lead, names, CVEs, roundup markers.
func BenchmarkSignatureOf(b *testing.B) {
	it := accordwatch.Item{
		Link:      "https://news.example/2031/02/fabrikam-pharmacies",
		Title:     "Fabrikam confirms ransomware attack took 1,200 pharmacies offline | Example News",
		Text:      strings.Repeat("The drugstore chain Fabrikam said a ransomware attack on its ordering servers shut prescription systems at about 1,200 pharmacies. ", 8),
		Published: t0,
		Tags:      accordwatch.Tags{Companies: []string{"Fabrikam"}, AttackTypes: []string{"ransomware"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		SignatureOf(it)
	}
}
