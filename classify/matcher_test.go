package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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

func TestTokenize(t *testing.T) {
	tests := []struct {
		in        string
		wantNorms []string
		wantSents []int
	}{
		{"F-Secure's Telefónica", []string{"f", "secure", "s", "telefonica"}, []int{0, 0, 0, 0}},
		{"U. S. officials. Then N. Korea", []string{"u", "s", "officials", "then", "n", "korea"}, []int{0, 0, 0, 1, 1, 1}},
		{"firearm armed", []string{"firearm", "armed"}, []int{0, 0}},
		{"Trend™ Research", []string{"trend", "research"}, []int{0, 0}},
	}
	for _, tt := range tests {
		ts := tokenize(tt.in)
		var norms []string
		var sents []int
		for i, tk := range ts.toks {
			norms = append(norms, ts.norm(i))
			sents = append(sents, int(tk.sent))
			if fold(tt.in[tk.start:tk.end]) != ts.norm(i) {
				t.Errorf("%q: token at %d..%d is %q, norm %q", tt.in, tk.start, tk.end, tt.in[tk.start:tk.end], ts.norm(i))
			}
		}
		if !slices.Equal(norms, tt.wantNorms) || !slices.Equal(sents, tt.wantSents) {
			t.Errorf("tokenize(%q): got %v %v, want %v %v", tt.in, norms, sents, tt.wantNorms, tt.wantSents)
		}
	}
}

func TestClassifyBlocks(t *testing.T) {
	// Every byte value at every position of a 64-byte block, among
	// capitals, small letters, digits and separators.
	base := []byte("Ab9 .Zz-\n\xc3\xa9Q(x)AAAA aaaa 0000 ;;;; ZZZZ zzzz\tMMMM@[`{ mmmmmKk19.")
	if len(base) != 64 {
		t.Fatalf("test block is %d bytes", len(base))
	}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 64; pos++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			want := append([]byte(nil), b...)
			var wantWords, wantHighs uint64
			wantUp, wantLetters := 0, 0
			for i, x := range b {
				if x >= 'A' && x <= 'Z' {
					want[i] = x + 'a' - 'A'
					wantUp++
				}
				switch y := want[i]; {
				case y >= 'a' && y <= 'z':
					wantLetters++
					wantWords |= 1 << i
				case y >= '0' && y <= '9':
					wantWords |= 1 << i
				case y >= 0x80:
					wantWords |= 1 << i
					wantHighs |= 1 << i
				}
			}
			words, highs := make([]uint64, 1), make([]uint64, 1)
			up, letters, anyHigh := classifyBlocks(b, words, highs)
			if string(b) != string(want) || words[0] != wantWords || highs[0] != wantHighs ||
				up != wantUp || letters != wantLetters || anyHigh != (wantHighs != 0) {
				t.Fatalf("byte %#x at %d: got %q %064b %064b %d %d %v, want %q %064b %064b %d %d",
					c, pos, b, words[0], highs[0], up, letters, anyHigh, want, wantWords, wantHighs, wantUp, wantLetters)
			}
		}
	}
}

// TestAssignIDsMatchesLookup checks the tokenizer's branch-free word look-up
// against the plain one, on the real vocabulary and on near misses of it:
// words sharing a vocabulary word's first or last eight bytes, a prefix, or
// every byte but one, at every length around the 8- and 16-byte limits.
func TestAssignIDsMatchesLookup(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := c.m
	var pool []string
	for id := range m.nwords {
		w := m.text[m.textAt[id]:m.textAt[id+1]]
		pool = append(pool, w, strings.ToUpper(w), w+"x", w[:len(w)-1]+"q", "q"+w[1:])
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
		m.lookup(want)
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

// refTokenize is the plain rune-by-rune definition of tokenize.
func refTokenize(s string) (words []string, sents []int) {
	sent, start := 0, -1
	gap := false
	prevLen := 0
	flush := func(end int) {
		if start < 0 {
			return
		}
		r, _ := utf8.DecodeRuneInString(s[start:])
		if gap && len(words) > 0 && prevLen > 1 && (unicode.IsUpper(r) || unicode.IsDigit(r)) {
			sent++
		}
		gap = false
		words = append(words, fold(s[start:end]))
		sents = append(sents, sent)
		prevLen = end - start
		start = -1
	}
	for i, r := range s {
		if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if r == '.' || r == '!' || r == '?' || r == '\n' {
			gap = true
		}
	}
	flush(len(s))
	return words, sents
}

func TestTokenizeMatchesReference(t *testing.T) {
	alphabet := []string{"a", "B", "z", "Z", "0", "9", " ", ".", "!", "?", "\n", ",", "-", "é", "É", "’", "ü", "\xff", "\xc3", "Ж", "日本", "™", "_", "@", "`", "{", "[", "/", ":"}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		var sb strings.Builder
		for k := r.IntN(150); k >= 0; k-- {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		ts := tokenize(s)
		var got []string
		var gotSents []int
		for i, tk := range ts.toks {
			got = append(got, ts.norm(i))
			gotSents = append(gotSents, int(tk.sent))
			if ts.norm(i) != fold(s[tk.start:tk.end]) {
				t.Fatalf("%q: token %d..%d norm %q, want %q", s, tk.start, tk.end, ts.norm(i), fold(s[tk.start:tk.end]))
			}
		}
		want, wantSents := refTokenize(s)
		if !slices.Equal(got, want) || !slices.Equal(gotSents, wantSents) {
			t.Fatalf("%q: got %q %v, want %q %v", s, got, gotSents, want, wantSents)
		}
	}
}
