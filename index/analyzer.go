package index

import (
	"bytes"
	"hash/maphash"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/go-porterstemmer"
	"github.com/blevesearch/segment"
)

// analyzerName is the analyzer of title, text and free-text queries:
// bleve's "en" analyzer (unicode words, English possessives, lower case,
// English stop words, Porter stems) made cheaper where it spent the
// indexing time: word splitting took 15 % of it and stemming 9 %
// (BENCHMARKS.md, issue 15). Its tokens are those of "en", byte for byte
// (TestTokenizerMatchesUnicode checks it on every news file in the shared
// data), so an index built with either answers the same.
const analyzerName = "accordwatch_en"

const (
	tokenizerName = "accordwatch_words"
	stemmerName   = "accordwatch_porter"
)

// bleve finds analysers by name in its process-wide registry, which is
// filled in init functions; ours are stateless constructors like its own.
func init() {
	must(registry.RegisterTokenizer(tokenizerName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return wordTokenizer{}, nil
	}))
	must(registry.RegisterTokenFilter(stemmerName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return newCachedStemmer(), nil
	}))
	must(registry.RegisterAnalyzer(analyzerName, func(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(tokenizerName)
		if err != nil {
			return nil, err
		}
		var filters []analysis.TokenFilter
		for _, name := range []string{en.PossessiveName, lowercase.Name, en.StopName, stemmerName} {
			f, err := cache.TokenFilterNamed(name)
			if err != nil {
				return nil, err
			}
			filters = append(filters, f)
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
	}))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// wordTokenizer splits text into words by the Unicode word-boundary rules
// (UAX #29) as bleve's unicode tokenizer does. Words never span ASCII
// white space, so the text is cut there; a run of plain ASCII is split by
// the rules' ASCII cases here, and any other run by the segment library,
// as before.
type wordTokenizer struct{}

// Character classes of the word-boundary rules, for ASCII.
const (
	cOther     = iota
	cLetter    // ALetter
	cDigit     // Numeric
	cMidLetter // ':'
	cMidNumLet // '.' and '\'' (MidNumLet, Single_Quote)
	cMidNum    // ',' and ';'
	cExtend    // '_' (ExtendNumLet)
	cSpace     // white space: always a boundary
)

var asciiClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = cLetter, cLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t[':'] = cMidLetter
	t['.'], t['\''] = cMidNumLet, cMidNumLet
	t[','], t[';'] = cMidNum, cMidNum
	t['_'] = cExtend
	for _, c := range " \t\n\r\v\f" {
		t[c] = cSpace
	}
	return t
}()

func (wordTokenizer) Tokenize(input []byte) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(input)/6+1)
	pos := 1
	for i := 0; i < len(input); {
		if input[i] < 0x80 && asciiClass[input[i]] == cSpace {
			i++
			continue
		}
		// A run up to the next ASCII white space.
		end, ascii := i, true
		for end < len(input) && (input[end] >= 0x80 || asciiClass[input[end]] != cSpace) {
			ascii = ascii && input[end] < 0x80
			end++
		}
		if ascii {
			out, pos = asciiWords(out, input, i, end, pos)
		} else {
			out, pos = unicodeWords(out, input, i, end, pos)
		}
		i = end
	}
	return out
}

// asciiWords appends the words of input[start:end], plain ASCII without
// white space.
func asciiWords(out analysis.TokenStream, input []byte, start, end, pos int) (analysis.TokenStream, int) {
	class := func(i int) uint8 {
		if i >= end {
			return cOther
		}
		return asciiClass[input[i]]
	}
	for i := start; i < end; {
		c := class(i)
		if c != cLetter && c != cDigit && c != cExtend {
			i++
			continue
		}
		from, letters, digits := i, c == cLetter, c == cDigit
		last := c
		i++
	word:
		for i < end {
			switch d := class(i); {
			case d == cLetter || d == cDigit || d == cExtend:
				letters = letters || d == cLetter
				digits = digits || d == cDigit
				last = d
				i++
			case (d == cMidLetter || d == cMidNumLet) && last == cLetter && class(i+1) == cLetter:
				i += 2 // WB6, WB7: letter (mid) letter
			case (d == cMidNum || d == cMidNumLet) && last == cDigit && class(i+1) == cDigit:
				i += 2 // WB11, WB12: digit (mid) digit
			default:
				break word
			}
		}
		typ := analysis.AlphaNumeric // underscores alone are a word too
		if digits && !letters {
			typ = analysis.Numeric
		}
		out = append(out, &analysis.Token{Term: input[from:i], Start: from, End: i, Position: pos, Type: typ})
		pos++
	}
	return out, pos
}

// unicodeWords appends the words of input[start:end] as bleve's unicode
// tokenizer finds them.
func unicodeWords(out analysis.TokenStream, input []byte, start, end, pos int) (analysis.TokenStream, int) {
	seg := segment.NewWordSegmenterDirect(input[start:end])
	at := start
	for seg.Segment() {
		b := seg.Bytes()
		if t := seg.Type(); t != segment.None {
			typ := analysis.AlphaNumeric
			switch t {
			case segment.Ideo, segment.Kana:
				typ = analysis.Ideographic
			case segment.Number:
				typ = analysis.Numeric
			}
			out = append(out, &analysis.Token{Term: b, Start: at, End: at + len(b), Position: pos, Type: typ})
			pos++
		}
		at += len(b)
	}
	return out, pos
}

// cachedStemmer is bleve's Porter stemmer with a cache of recent stems:
// news repeats a small vocabulary, and stemming a word costs a rune
// conversion and several suffix scans. The cache is a fixed array of
// immutable entries swapped atomically, so that analysis workers share it
// without a lock; a collision only costs a stem.
type cachedStemmer struct {
	seed  maphash.Seed
	slots [1 << 14]atomic.Pointer[stemEntry]
}

type stemEntry struct{ term, stem []byte }

func newCachedStemmer() *cachedStemmer { return &cachedStemmer{seed: maphash.MakeSeed()} }

func (s *cachedStemmer) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, tok := range input {
		if !tok.KeyWord {
			tok.Term = s.stem(tok.Term)
		}
	}
	return input
}

// stem returns term's stem; callers must not modify it (it is shared).
func (s *cachedStemmer) stem(term []byte) []byte {
	slot := &s.slots[maphash.Bytes(s.seed, term)&(uint64(len(s.slots))-1)]
	if e := slot.Load(); e != nil && bytes.Equal(e.term, term) {
		return e.stem
	}
	stem := analysis.BuildTermFromRunes(porterstemmer.StemWithoutLowerCasing(bytes.Runes(term)))
	slot.Store(&stemEntry{term: bytes.Clone(term), stem: stem})
	return stem
}
