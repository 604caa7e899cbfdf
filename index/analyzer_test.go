package index

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// tokensDiff describes the first difference between two token streams.
func tokensDiff(got, want analysis.TokenStream) string {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) {
			return fmt.Sprintf("%d tokens, want %d", len(got), len(want))
		}
		g, w := got[i], want[i]
		if string(g.Term) != string(w.Term) || g.Start != w.Start || g.End != w.End || g.Position != w.Position || g.Type != w.Type {
			return fmt.Sprintf("token %d: %q [%d,%d) pos %d type %d, want %q [%d,%d) pos %d type %d",
				i, g.Term, g.Start, g.End, g.Position, g.Type, w.Term, w.Start, w.End, w.Position, w.Type)
		}
	}
	return ""
}

// TestTokenizerMatchesUnicode checks the fast word splitter against
// bleve's unicode tokenizer, token by token (term, offsets, position,
// type): on written edge cases, on random strings over the characters
// the ASCII rules treat specially, and on every line of the news files
// in the shared data (real text, with curly quotes, accents and CJK).
func TestTokenizerMatchesUnicode(t *testing.T) {
	ours, theirs := wordTokenizer{}, unicode.NewUnicodeTokenizer()
	check := func(what, s string) bool {
		t.Helper()
		if d := tokensDiff(ours.Tokenize([]byte(s)), theirs.Tokenize([]byte(s))); d != "" {
			t.Errorf("%s %q: %s", what, s, d)
			return false
		}
		return true
	}
	for _, s := range []string{
		"", " ", "a", "_", "__", "a_b", "_a", "1_", "don't", "U.S. troops", "e.g. this", "3.14 and 1,000,000;2",
		"a:b c:1 1:a", "v1.2.3", "x.1", "1.x", "end.", "'quoted'", "a''b", "a..b", "1,,2", "CVE-2024-3400",
		"mid\u00adword", "naïve café", "zero\u200bwidth", "“curly” quotes ’s", "日本語のテキスト", "emoji 👍🏽 ok",
		"tab\tnew\nline\r\ncr", "a\vb\fc", "https://example.com/a_b?c=1&d=2.5", "user@example.org",
	} {
		check("case", s)
	}

	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09_.:',; -\"!\t")
	fails := 0
	for range 100_000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if !check("random", string(b)) {
			if fails++; fails > 10 {
				t.Fatal("too many differences")
			}
		}
	}

	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "news", "*"))
	if len(files) == 0 {
		t.Skip("no ../shared/data/news files")
	}
	lines := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			lines++
			if !check(filepath.Base(f), line) {
				if fails++; fails > 10 {
					t.Fatal("too many differences")
				}
			}
		}
	}
	t.Logf("%d lines of news matched", lines)
}

// TestAnalyzerMatchesEnglish checks the whole analyzer against bleve's
// "en" on the news files: the same terms in the same places, so that
// stems from the cache are the stemmer's.
func TestAnalyzerMatchesEnglish(t *testing.T) {
	cache := registry.NewCache()
	ours, err := cache.AnalyzerNamed(analyzerName)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := cache.AnalyzerNamed("en")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "news", "*"))
	if len(files) == 0 {
		t.Skip("no ../shared/data/news files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Twice: the second pass reads stems from the cache.
		for pass := range 2 {
			for line := range strings.SplitSeq(string(b), "\n") {
				if d := tokensDiff(ours.Analyze([]byte(line)), theirs.Analyze([]byte(line))); d != "" {
					t.Fatalf("%s pass %d %q: %s", filepath.Base(f), pass, line, d)
				}
			}
		}
	}
}
