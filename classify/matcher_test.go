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
				if !p.matchesAt(toks, i) || (best != nil && len(p.words) <= len(best.words)) {
					continue
				}
				for _, r := range p.refs {
					if r.layer == layer && r.rule.accepts(ts, i, i+len(p.words)) {
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
				if r.layer == layer && r.rule.accepts(ts, i, i+len(best.words)) {
					hits = append(hits, hit{layer: layer, entry: r.entry, start: i, end: i + len(best.words)})
				}
			}
			i += len(best.words)
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
			sents = append(sents, tk.sent)
			if fold(tt.in[tk.start:tk.end]) != ts.norm(i) {
				t.Errorf("%q: token at %d..%d is %q, norm %q", tt.in, tk.start, tk.end, tt.in[tk.start:tk.end], ts.norm(i))
			}
		}
		if !slices.Equal(norms, tt.wantNorms) || !slices.Equal(sents, tt.wantSents) {
			t.Errorf("tokenize(%q): got %v %v, want %v %v", tt.in, norms, sents, tt.wantNorms, tt.wantSents)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	// Every byte value, at every position of an 8-byte word and in the tail.
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 11; pos++ {
			b := []byte("xxxxxxxxxxx")
			b[pos] = byte(c)
			want := string(b)
			if c >= 'A' && c <= 'Z' {
				want = want[:pos] + string(rune(c+'a'-'A')) + want[pos+1:]
			}
			if got, _ := lowerASCII(b); string(got) != want {
				t.Fatalf("byte %#x at %d: got %q, want %q", c, pos, got, want)
			}
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
			gotSents = append(gotSents, tk.sent)
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
