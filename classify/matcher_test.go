package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// bruteForce is the reference: for each layer independently, walk the
// tokens left to right and at each free position take the longest phrase
// (trying every phrase in the dictionary) that some entry of that layer
// accepts.
func bruteForce(m *matcher, ts *tokens) []hit {
	m.lookup(ts)
	toks := ts.toks
	var hits []hit
	for layer := 0; layer < m.layers; layer++ {
		for i := 0; i < len(toks); {
			var best *phrase
			for _, p := range m.all {
				if !p.matchesAt(toks, i) || (best != nil && len(p.ids) <= len(best.ids)) {
					continue
				}
				for _, r := range p.refs {
					if r.layer == layer && r.rule.accepts(ts, i, i+len(p.ids)) {
						best = p
						break
					}
				}
			}
			if best == nil {
				i++
				continue
			}
			for _, r := range best.refs {
				if r.layer == layer && r.rule.accepts(ts, i, i+len(best.ids)) {
					hits = append(hits, hit{layer: layer, entry: r.entry, start: i, end: i + len(best.ids)})
				}
			}
			i += len(best.ids)
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.layer != b.layer {
			return a.layer - b.layer
		}
		return a.entry - b.entry
	})
	return hits
}

func testMatcher() *matcher {
	b := newMatcherBuilder()
	// layer 0: entities; the nested names are the point.
	b.add("Lazarus", 0, 0, false, nil, nil)
	b.add("Lazarus Group", 0, 1, false, nil, nil)
	b.add("Palo Alto", 0, 2, false, nil, nil)
	b.add("Palo Alto Networks", 0, 3, false, nil, nil)
	b.add("Trend", 0, 4, false, nil, nil)
	b.add("Trend Micro", 0, 5, false, nil, nil)
	b.add("Trend Micro Research", 0, 6, false, nil, []string{"blog"})
	b.add("Micro", 0, 7, false, nil, nil)
	b.add("Arm", 0, 8, true, []string{"banking"}, nil)
	b.add("Group", 0, 9, false, nil, nil)
	b.add("Group", 0, 10, false, nil, nil) // two entries share a phrase
	// layer 1: cues overlapping the entities.
	b.add("group research", 1, 11, false, nil, nil)
	b.add("networks", 1, 12, false, nil, nil)
	b.add("micro research", 1, 13, false, nil, nil)
	return b.build()
}

func TestMatcherMatchesBruteForce(t *testing.T) {
	m := testMatcher()
	fixed := []string{
		"Lazarus Group and Lazarus",
		"Palo Alto Networks, based in Palo Alto",
		"Trend Micro Research blog says Trend Micro Research found a trend",
		"ARM arm Arm banking Arm",
		"group research Group Research lazarus group research",
		"Palo Alto Palo Alto Networks Networks",
	}
	for _, s := range fixed {
		ts := tokenize(s)
		got, want := m.scan(ts), bruteForce(m, ts)
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", s, got, want)
		}
	}
	vocab := []string{"Lazarus", "lazarus", "Group", "group", "Palo", "Alto", "Networks", "Trend", "trend", "Micro", "micro", "Research", "research", "blog", "Arm", "arm", "ARM", "banking", "the", "and", "-", ".", ","}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 5000; n++ {
		var sb strings.Builder
		for k := r.IntN(14); k >= 0; k-- {
			sb.WriteString(vocab[r.IntN(len(vocab))])
			sb.WriteByte(" -"[r.IntN(2)])
		}
		s := sb.String()
		ts := tokenize(s)
		got, want := m.scan(ts), bruteForce(m, ts)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", s, got, want)
		}
	}
}

func TestMatcherLongestWins(t *testing.T) {
	m := testMatcher()
	tests := []struct {
		text string
		want []int // entries of layer 0, in order
	}{
		{"Lazarus Group struck", []int{1}},
		{"Lazarus struck", []int{0}},
		{"Palo Alto Networks in Palo Alto", []int{3, 2}},
		{"Trend Micro and the trend", []int{5, 4}},
		{"Trend Micro Research blog", []int{5}}, // the longest is vetoed by its rule, the next longest wins
		{"a Group", []int{9, 10}},
		{"firearm, armed, arm, banking Arm, ARM", []int{8}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []int
			for _, h := range m.scan(tokenize(tt.text)) {
				if h.layer == 0 {
					got = append(got, h.entry)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got entries %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAssignIDsMatchesLookup checks the tokenizer's branch-free word look-up
// against a map of the vocabulary, on the real vocabulary and on near
// misses of it: words sharing a vocabulary word's first or last eight
// bytes, its first 16, a prefix, or every byte but one, at every length
// around the 8- and 16-byte limits.
func TestAssignIDsMatchesLookup(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := c.m
	var pool []string
	vocab := map[string]int32{} // the reference: a plain map
	for id := range m.nwords {
		w := m.text[m.textAt[id]:m.textAt[id+1]]
		vocab[w] = int32(id)
		pool = append(pool, w, strings.ToUpper(w), w+"x", w[:len(w)-1]+"q", "q"+w[1:], w[:min(len(w), 16)])
		if len(w) > 2 {
			mid := string(rune('z' - w[len(w)/2]%2)) // another letter
			pool = append(pool, w[:len(w)/2]+mid+w[len(w)/2+1:], w[:len(w)-1])
		}
	}
	for n := 1; n <= 40; n++ {
		pool = append(pool, strings.Repeat("a", n), strings.Repeat("ab", n)[:n], "Telefónica"[:min(n, 10)], "états"+strings.Repeat("e", n))
	}
	r := rand.New(rand.NewPCG(5, 6))
	seps := []string{" ", ". ", ", ", "-", "\n", " ’", "’s ", " (", ") "}
	for round := 0; round < 300; round++ {
		var sb strings.Builder
		for k := r.IntN(300); k >= 0; k-- {
			sb.WriteString(pool[r.IntN(len(pool))])
			sb.WriteString(seps[r.IntN(len(seps))])
		}
		s := sb.String()
		var got tokens
		got.tokenize(s, m, true)
		want := tokenize(s)
		for i := range want.toks {
			id, ok := vocab[want.norm(i)]
			if !ok {
				id = -1
			}
			want.toks[i].id = id
		}
		if len(got.toks) != len(want.toks) {
			t.Fatalf("%q: %d tokens, want %d", s, len(got.toks), len(want.toks))
		}
		for i := range got.toks {
			if got.toks[i] != want.toks[i] || got.norm(i) != want.norm(i) {
				t.Fatalf("%q: token %d (%q) is %+v, want %+v", s, i, want.norm(i), got.toks[i], want.toks[i])
			}
		}
	}
}

// TestMatcherMatchesBruteForceRealDictionary runs the reference against
// the compiled embedded dictionaries on dev-set text and on runs of their
// own phrases.
func TestMatcherMatchesBruteForceRealDictionary(t *testing.T) {
	d, err := loadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	c, err := compile(d) // keeps the phrases, which New drops
	if err != nil {
		t.Fatal(err)
	}
	m := c.m
	texts := newsItems(t, 1500)
	if len(texts) > 4 {
		texts = texts[:4]
	}
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n < 6; n++ {
		var sb strings.Builder
		for k := 0; k < 60; k++ {
			p := m.all[r.IntN(len(m.all))]
			for j, id := range p.ids {
				if j > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(m.text[m.textAt[id]:m.textAt[id+1]])
			}
			sb.WriteString([]string{" ", ". The ", " and ", ", "}[r.IntN(4)])
		}
		texts = append(texts, sb.String())
	}
	for _, s := range texts {
		var ts tokens
		ts.tokenize(s, m, false)
		var st scanState
		got := m.appendHits(nil, &st, &ts)
		want := bruteForce(m, &ts)
		if !slices.Equal(got, want) {
			t.Errorf("%.80q…: got %d hits, want %d", s, len(got), len(want))
		}
	}
}

// BenchmarkScanField measures the two halves of scanning a field on the
// news items of BenchmarkClassify: tokenizing with word ids, and matching
// the tokens. Run it with -cpu 1.
func BenchmarkScanField(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := c.m
	items := realNewsItems(b, 5000)
	if len(items) == 0 {
		b.Skip("no news archives")
	}
	b.Run("tokenize", func(b *testing.B) {
		var ts tokens
		i := 0
		for b.Loop() {
			ts.tokenize(items[i%len(items)].Text, m, true)
			i++
		}
	})
	b.Run("match", func(b *testing.B) {
		all := make([]tokens, len(items))
		for i := range items {
			all[i].tokenize(items[i].Text, m, false)
		}
		var st scanState
		var hits []hit
		i := 0
		for b.Loop() {
			hits = m.appendHits(hits[:0], &st, &all[i%len(all)])
			i++
		}
	})
}
