package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

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
	alphabet := []string{"a", "B", "z", "Z", "0", "9", " ", ".", "!", "?", "\n", ",", "-", "é", "É", "’", "—", "“", "\xe2\x80", "\xe2\x80\xc3", "ü", "\xff", "\xc3", "Ж", "日本", "™", "_", "@", "`", "{", "[", "/", ":"}
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
