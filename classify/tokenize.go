package classify

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// token is one word of a field: a maximal run of letters and digits. It
// holds no pointers and takes 24 bytes, so the tokens of a 5 KB text stay
// in the L1 cache through the passes over them.
type token struct {
	start, end int32 // byte offsets into the field
	sent       int32 // sentence number within the field
	ns, ne     int32 // the normalised word is tokens.lower[ns:ne]
	id         int32 // the word's id in the matcher's vocabulary, -1 if none
}

// maxTokenize bounds what one tokenize call reads, so that byte offsets
// fit the int32 fields of token, folded words (which folding may make
// half as long again) included. Classify clips fields far below this.
const maxTokenize = 1 << 29

// tokens is a tokenized field.
type tokens struct {
	src string
	// lower is src with ASCII letters lower-cased (same byte offsets), then
	// zero padding, then the folded forms of words with non-ASCII letters.
	lower string
	toks  []token
	buf   []byte  // scratch for lower, reused
	fold  []byte  // scratch for the folded words, reused
	slow  []int32 // scratch: the tokens of the non-ASCII words
	// shouting: src is (nearly) all capitals, so case-sensitive phrases
	// cannot be told from ordinary words and do not match.
	shouting bool
	// Bitmaps over src bytes: word bytes, non-ASCII bytes.
	words, highs []uint64
	bounds       []int32 // scratch: word starts and ends
	blockBounds  []int32 // scratch: the index in bounds of each block's first boundary
}

// norm is token k lower-cased, with common accents folded.
func (ts *tokens) norm(k int) string { return ts.lower[ts.toks[k].ns:ts.toks[k].ne] }

// Byte classes for the ASCII fast path of the tokenizer.
const (
	cSep   = iota // separates words
	cLower        // lower-case letter or digit
	cUpper        // upper-case letter
	cStop         // separates words and may end a sentence
)

var asciiClass = func() (t [256]uint8) {
	for b := 0; b < utf8.RuneSelf; b++ {
		switch {
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9':
			t[b] = cLower
		case b >= 'A' && b <= 'Z':
			t[b] = cUpper
		case b == '.', b == '!', b == '?', b == '\n':
			t[b] = cStop
		}
	}
	return t
}()

// tokenize splits s into word tokens. Everything that is not a letter or a
// digit separates tokens, so matches are whole-word by construction
// ("firearm" never yields "arm"). Invalid UTF-8 bytes separate words.
func tokenize(s string) *tokens {
	ts := &tokens{}
	ts.tokenize(s, nil, false)
	return ts
}

// tokenize fills ts from s, reusing its storage, and gives every token its
// id in m's vocabulary when m is not nil.
//
// With view, lower is a view of ts's scratch buffer, not a copy: it and
// every string sliced from it (norm) are valid only until ts is tokenized
// again, so they must not outlive the Classify call (the tagger only
// compares them or builds new strings from them; tags hold no view).
// Without view, lower is a fresh string that may be kept.
//
// Tight passes, each with few live variables, no calls in the common case
// and few unpredictable branches: classifyBlocks lower-cases and
// classifies the bytes eight at a time (SWAR) into a 64-bit word mask per
// 64 bytes; the words start and end at the set bits of mask^(mask<<1),
// found with TrailingZeros (a byte-by-byte loop mispredicts at the end of
// every word of real text); asciiWords emits the tokens; assignIDs looks
// every word up. Words with non-ASCII bytes take the exact, rune-by-rune
// path.
func (ts *tokens) tokenize(s string, m *matcher, view bool) {
	if len(s) > maxTokenize {
		s = s[:maxTokenize]
	}
	ts.src, ts.lower = s, "" // no view of buf outlives its reuse below
	// A word and its separator take at least two bytes: this capacity is
	// never exceeded.
	if want := len(s)/2 + 1; cap(ts.toks) < want {
		ts.toks = make([]token, want)
	}
	// b is s, then zero bytes up to a multiple of 64 and 16 more, so that
	// classifyBlocks reads whole blocks and a 16-byte load at any word
	// start stays inside b.
	nw := (len(s) + 63) >> 6
	b := append(ts.buf[:0], s...)
	b = append(b, zeros[:nw<<6-len(s)+16]...)
	if cap(ts.words) < nw {
		ts.words, ts.highs = make([]uint64, nw), make([]uint64, nw)
	}
	words, highs := ts.words[:nw], ts.highs[:nw]
	uppers, letters, anyHigh := classifyBlocks(b, words, highs)
	// A field in capitals ("HACKERS HIT BANKING ARM") says nothing with
	// case: at least a few words' worth of letters, 80% of them capitals.
	ts.shouting = letters >= 12 && uppers*5 >= letters*4

	// Word boundaries: the bits of tr alternate between a word's first
	// byte and the byte after its last.
	if want := len(s) + 2; cap(ts.bounds) < want {
		ts.bounds = make([]int32, want)
	}
	bounds, nb := ts.bounds[:cap(ts.bounds)], 0
	if cap(ts.blockBounds) < nw {
		ts.blockBounds = make([]int32, nw)
	}
	blockBounds := ts.blockBounds[:nw]
	var carry uint64
	for k, w := range words {
		blockBounds[k] = int32(nb)
		tr := w ^ (w<<1 | carry)
		carry = w >> 63
		for tr != 0 {
			bounds[nb] = int32(k<<6 + bits.TrailingZeros64(tr))
			nb++
			tr &= tr - 1
		}
	}
	if nb&1 != 0 { // a word runs to the end of a block-aligned s
		bounds[nb] = int32(len(s))
		nb++
	}
	if cap(ts.slow) < cap(ts.toks) {
		ts.slow = make([]int32, cap(ts.toks))
	}
	t := tokenizer{s: s, toks: ts.toks[:cap(ts.toks)], fold: ts.fold[:0], foldBase: len(b), slow: ts.slow}
	if anyHigh {
		t.mixedWords(bounds[:nb], words, highs, blockBounds)
	} else {
		t.asciiWords(bounds[:nb])
	}
	toks, n := t.toks, t.n
	ts.toks = toks[:n]
	if m != nil {
		m.assignIDs(ts.toks, b, t.fold, t.foldBase, ts.slow[:t.nslow])
	} else {
		for i := range ts.toks {
			ts.toks[i].id = -1
		}
	}
	if len(t.fold) > 0 {
		b = append(b, t.fold...)
	}
	if view {
		ts.lower = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		ts.lower = string(b)
	}
	ts.buf, ts.fold = b[:0], t.fold[:0]
}

var zeros [80]byte

// classifyBlocks lower-cases the ASCII capitals of b in place and sets, for
// every 64 bytes k of b, bit i of words[k] when byte i is a word byte (an
// ASCII letter or digit, or any non-ASCII byte: checked exactly later) and
// of highs[k] when it is non-ASCII. It counts the ASCII capitals and
// letters, and reports whether there is a non-ASCII byte. b must hold
// 64*len(words) bytes.
func classifyBlocks(b []byte, words, highs []uint64) (uppers, letters int, anyHigh bool) {
	const (
		ones = 0x0101010101010101
		hi   = ones * 0x80
		pack = 0x0102040810204080 // gathers bit 0 of each byte into the top byte
	)
	var highOr uint64
	for k := range words {
		blk := (*[64]byte)(b[k<<6:])
		// The chunks' bits go to bytes of wb and hb, not into shifted
		// accumulators: fewer values live across the loop, which the
		// compiler would otherwise keep on the stack.
		var wb, hb [8]byte
		var nu, nl uint64
		for j := range 8 {
			// Per byte, low+(0x80-c) has bit 7 set when low >= c (no carry
			// out of a byte: low <= 0x7f).
			c := (*[8]byte)(blk[j*8:])
			x := binary.LittleEndian.Uint64(c[:])
			low, ascii := x&^hi, ^x&hi
			// A letter of either case is one with bit 5 (0x20) set; a
			// capital has it clear (low<<2 moves it to bit 7).
			lc := low | ones*0x20
			l := (lc + ones*(0x80-'a')) &^ (lc + ones*(0x80-'z'-1)) & ascii
			up := l &^ (low << 2)
			x |= up >> 2
			binary.LittleEndian.PutUint64(c[:], x)
			d := (low + ones*(0x80-'0')) &^ (low + ones*(0x80-'9'-1)) & ascii
			high := x & hi
			// Byte-wise counts: at most 8 per byte lane in a block.
			nu += up >> 7
			nl += l >> 7
			wb[j] = byte(((l | d | high) >> 7 * pack) >> 56)
			hb[j] = byte((high >> 7 * pack) >> 56)
		}
		h := binary.LittleEndian.Uint64(hb[:])
		words[k], highs[k] = binary.LittleEndian.Uint64(wb[:]), h
		highOr |= h
		uppers += int(nu * ones >> 56)
		letters += int(nl * ones >> 56)
	}
	return uppers, letters, highOr != 0
}

var upperOrDigit = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1
	}
	return t
}()

// isStop is 1 for the bytes that may end a sentence (cStop).
var isStop = func() (t [256]uint8) {
	for c := range t {
		if asciiClass[c] == cStop {
			t[c] = 1
		}
	}
	return t
}()

// tokenizer is the state of tokenize for texts with non-ASCII bytes
// (mixedWords).
type tokenizer struct {
	s        string
	toks     []token
	fold     []byte  // folded forms of non-ASCII words
	foldBase int     // offset of fold in tokens.lower
	slow     []int32 // the tokens of the non-ASCII words: slow[:nslow]
	nslow    int
	wordState
}

// word emits s[start:end]; upper: it starts with a capital or a digit;
// nonASCII: it has non-ASCII letters (and is normalised by folding).
func (t *tokenizer) word(start, end int, upper, nonASCII bool) {
	// See asciiWords.
	if upper && t.prevLen > 1 && hasStop(t.s[t.prevEnd:start]) {
		t.sent++
	}
	t.prevEnd, t.prevLen = end, end-start
	tk := &t.toks[t.n]
	t.n++
	// Field by field, see asciiWords.
	tk.start, tk.end, tk.sent, tk.ns, tk.ne = int32(start), int32(end), t.sent, int32(start), int32(end)
	if nonASCII {
		t.slow[t.nslow] = int32(t.n - 1)
		t.nslow++
		from := len(t.fold)
		t.fold = appendFold(t.fold, t.s[start:end])
		tk.ns, tk.ne = int32(t.foldBase+from), int32(t.foldBase+len(t.fold))
	}
}

// wordState is what emitting a word needs to know of the words before.
type wordState struct {
	n       int   // tokens so far
	sent    int32 // current sentence
	prevEnd int   // end of the last token
	prevLen int   // its length in bytes
}

// asciiWords emits the words at bounds (each word's start and end), which
// have no non-ASCII byte, as tokens (without ids: tokenize sets them all).
// A loop without calls, so its state stays in registers.
func (t *tokenizer) asciiWords(bounds []int32) {
	s, toks := t.s, t.toks
	n, sent, prevEnd, prevLen := t.n, t.sent, t.prevEnd, t.prevLen
	for q := 1; q < len(bounds); q += 2 {
		start, end := int(bounds[q-1]), int(bounds[q])
		// A sentence ends at a stop followed by a capital or digit — but
		// spaced initials ("U. S.") are abbreviations, not sentence ends.
		// Stops are never word bytes: any stop since the last word counts.
		// Most gaps are one or two bytes (" ", ". ", ", "): those are
		// checked without a branch, which would mispredict at capitals.
		if gap := start - prevEnd; uint(gap-1) < 2 {
			long := uint8((1 - prevLen) >> 63) // 1 if prevLen > 1
			stop := isStop[s[start-1]] | isStop[s[start-gap]]
			sent += int32(upperOrDigit[s[start]] & long & stop)
		} else if upperOrDigit[s[start]] != 0 && prevLen > 1 && hasStop(s[prevEnd:start]) {
			sent++
		}
		// Field by field: a composite literal is built on the stack and
		// copied with wide loads that stall on the narrow stores.
		tk := &toks[n]
		tk.start, tk.end, tk.sent, tk.ns, tk.ne = int32(start), int32(end), sent, int32(start), int32(end)
		n++
		prevEnd, prevLen = end, end-start
	}
	t.wordState = wordState{n, sent, prevEnd, prevLen}
}

// mixedWords is asciiWords for a text with non-ASCII bytes: the words
// holding one (found from the few set bits of highs) take the exact path,
// the runs of words between them go to asciiWords. blockBounds[k] is the
// index in bounds of the first boundary in block k of words.
func (t *tokenizer) mixedWords(bounds []int32, words, highs []uint64, blockBounds []int32) {
	q := 0 // the next word to emit starts at bounds[q]
	for k, h := range highs {
		for h != 0 {
			p := int32(k<<6 + bits.TrailingZeros64(h))
			h &= h - 1
			// A character's further bytes, or another in a word already
			// emitted: nothing to do.
			if q >= len(bounds) || p < bounds[q] {
				continue
			}
			// Non-ASCII bytes are word bytes: p is in the word starting
			// at bounds[w], w even, the last boundary up to p. Counting the
			// boundaries of p's block up to p finds it without a search.
			var prev uint64
			if k > 0 {
				prev = words[k-1] >> 63
			}
			tr := words[k] ^ (words[k]<<1 | prev) // see tokenize
			w := int(blockBounds[k]) + bits.OnesCount64(tr&(2<<(p&63)-1)) - 1
			t.asciiWords(bounds[q:w])
			t.exact(int(bounds[w]), int(bounds[w+1]))
			q = w + 2
		}
	}
	t.asciiWords(bounds[q:])
}

func hasStop(gap string) bool {
	for i := 0; i < len(gap); i++ {
		if asciiClass[gap[i]] == cStop {
			return true
		}
	}
	return false
}

// exact splits s[lo:hi] (ASCII letters and digits and non-ASCII bytes)
// into words rune by rune: letters and digits of any script are word
// characters, other runes and invalid bytes separate words.
func (t *tokenizer) exact(lo, hi int) {
	s := t.s[:hi]
	for i := lo; i < hi; {
		c := s[i]
		upper := false
		if c < utf8.RuneSelf {
			upper = upperOrDigit[c] != 0
		} else if punct(s, i) {
			i += 3
			continue
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				i += size
				continue
			}
			upper = unicode.IsUpper(r) || unicode.IsDigit(r)
		}
		end, nonASCII := wordEnd(s, i)
		t.word(i, end, upper, nonASCII)
		i = end
	}
}

// wordEnd returns the end of the word starting at i, and whether it has
// non-ASCII letters.
func wordEnd(s string, i int) (end int, nonASCII bool) {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if cl := asciiClass[c]; cl != cLower && cl != cUpper {
				return i, nonASCII
			}
			i++
			continue
		}
		if punct(s, i) {
			return i, nonASCII
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return i, nonASCII
		}
		nonASCII = true
		i += size
	}
	return i, nonASCII
}

// punct reports whether s[i:] starts with a character of U+2000–U+203F:
// spaces, dashes, quotes, bullets, no letter or digit. They are most of the
// non-ASCII characters of English news ("company’s", "“…” — "), and are
// told apart here without decoding and searching Unicode's tables.
func punct(s string, i int) bool {
	return i+2 < len(s) && s[i] == 0xe2 && s[i+1] == 0x80 && s[i+2]&0xc0 == 0x80
}

// fold lower-cases a word and strips the accents that occur in company and
// country names ("Telefónica", "Türkiye"), so dictionaries can be ASCII.
func fold(w string) string { return string(appendFold(nil, w)) }

func appendFold(b []byte, w string) []byte {
	for _, r := range w {
		if r < utf8.RuneSelf {
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
			continue
		}
		r = unicode.ToLower(r)
		if f, ok := accentFold[r]; ok {
			r = f
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

var accentFold = map[rune]rune{
	'á': 'a', 'à': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i', 'ı': 'i',
	'ó': 'o', 'ò': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o', 'ø': 'o',
	'ú': 'u', 'ù': 'u', 'û': 'u', 'ü': 'u',
	'ñ': 'n', 'ç': 'c', 'ş': 's', 'ğ': 'g', 'ý': 'y', 'ž': 'z', 'š': 's', 'č': 'c',
}

// words returns the normalised tokens of a dictionary phrase.
func words(phrase string) []string {
	ts := tokenize(phrase)
	out := make([]string, len(ts.toks))
	for i := range ts.toks {
		out[i] = ts.norm(i)
	}
	return out
}
