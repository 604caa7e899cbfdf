package classify

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
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
	slow  []int32 // scratch for assignIDs
	// shouting: src is (nearly) all capitals, so case-sensitive phrases
	// cannot be told from ordinary words and do not match.
	shouting bool
	// Bitmaps over src bytes: word bytes, non-ASCII bytes.
	words, highs []uint64
	bounds       []int32 // scratch: word starts and ends
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
	// b is s, then zero bytes up to a multiple of 64 and 8 more, so that
	// classifyBlocks reads whole blocks and an 8-byte load at any word
	// start stays inside b.
	nw := (len(s) + 63) >> 6
	b := append(ts.buf[:0], s...)
	b = append(b, zeros[:nw<<6-len(s)+8]...)
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
	var carry uint64
	for k, w := range words {
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
	t := tokenizer{s: s, toks: ts.toks[:cap(ts.toks)], fold: ts.fold[:0], foldBase: len(b)}
	if anyHigh {
		t.mixedWords(bounds[:nb], highs)
	} else {
		t.wordState = asciiWords(s, bounds[:nb], t.toks, t.wordState)
	}
	toks, n := t.toks, t.n
	ts.toks = toks[:n]
	if m != nil {
		if cap(ts.slow) < n+1 {
			ts.slow = make([]int32, n+1)
		}
		m.assignIDs(ts.toks, b, t.fold, t.foldBase, ts.slow[:n+1])
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

var zeros [72]byte

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
		blk := b[k<<6 : k<<6+64]
		var w, h, nu, nl uint64
		for j := 0; j < 64; j += 8 {
			// Per byte, low+(0x80-c) has bit 7 set when low >= c (no carry
			// out of a byte: low <= 0x7f).
			x := binary.LittleEndian.Uint64(blk[j : j+8])
			low, ascii := x&^hi, ^x&hi
			up := (low + ones*(0x80-'A')) &^ (low + ones*(0x80-'Z'-1)) & ascii
			x |= up >> 2
			low |= up >> 2
			binary.LittleEndian.PutUint64(blk[j:j+8], x)
			l := (low + ones*(0x80-'a')) &^ (low + ones*(0x80-'z'-1)) & ascii
			d := (low + ones*(0x80-'0')) &^ (low + ones*(0x80-'9'-1)) & ascii
			hb := x & hi
			// Byte-wise counts: at most 8 per byte lane in a block.
			nu += up >> 7
			nl += l >> 7
			w |= ((l | d | hb) >> 7 * pack) >> 56 << (j & 63)
			h |= (hb >> 7 * pack) >> 56 << (j & 63)
		}
		words[k], highs[k] = w, h
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

// tokenizer is the state of tokenize for texts with non-ASCII bytes
// (mixedWords).
type tokenizer struct {
	s        string
	toks     []token
	fold     []byte // folded forms of non-ASCII words
	foldBase int    // offset of fold in tokens.lower
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
	tk.start, tk.end, tk.sent, tk.ns, tk.ne, tk.id = int32(start), int32(end), t.sent, int32(start), int32(end), -1
	if nonASCII {
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
// have no non-ASCII byte, as tokens. A loop without calls, so its state
// stays in registers.
func asciiWords(s string, bounds []int32, toks []token, st wordState) wordState {
	n, sent, prevEnd, prevLen := st.n, st.sent, st.prevEnd, st.prevLen
	for q := 1; q < len(bounds); q += 2 {
		start, end := int(bounds[q-1]), int(bounds[q])
		// A sentence ends at a stop followed by a capital or digit — but
		// "U. S." and "N. Korea" are abbreviations, not sentence ends.
		// Stops are never word bytes: any stop since the last word counts.
		if upperOrDigit[s[start]] != 0 && prevLen > 1 && hasStop(s[prevEnd:start]) {
			sent++
		}
		// Field by field: a composite literal is built on the stack and
		// copied with wide loads that stall on the narrow stores.
		tk := &toks[n]
		tk.start, tk.end, tk.sent, tk.ns, tk.ne, tk.id = int32(start), int32(end), sent, int32(start), int32(end), -1
		n++
		prevEnd, prevLen = end, end-start
	}
	return wordState{n, sent, prevEnd, prevLen}
}

// mixedWords is asciiWords for a text with non-ASCII bytes: the words
// holding one (found from the few set bits of highs, by binary search in
// bounds) take the exact path, the runs of words between them go to
// asciiWords.
func (t *tokenizer) mixedWords(bounds []int32, highs []uint64) {
	q := 0 // the next word to emit starts at bounds[q]
	for k, h := range highs {
		for h != 0 {
			p := int32(k<<6 + bits.TrailingZeros64(h))
			h &= h - 1
			// Non-ASCII bytes are word bytes: p is in the word starting
			// at bounds[w], w even.
			w, found := slices.BinarySearch(bounds, p)
			if !found {
				w--
			}
			if w < q { // a word already emitted
				continue
			}
			t.wordState = asciiWords(t.s, bounds[q:w], t.toks, t.wordState)
			t.exact(int(bounds[w]), int(bounds[w+1]))
			q = w + 2
		}
	}
	t.wordState = asciiWords(t.s, bounds[q:], t.toks, t.wordState)
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
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return i, nonASCII
		}
		nonASCII = true
		i += size
	}
	return i, nonASCII
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

// rule restricts when a phrase counts as a match of its entry.
type rule struct {
	// cased holds the phrase's words as written in the dictionary when the
	// phrase is case-sensitive: each matched word must equal its cased
	// form exactly or in all capitals ("Arm"/"ARM", never "arm").
	cased, upper []string
	// A match is rejected when the word before it is one of notBefore, or
	// the word after it one of notAfter: word sets while building, then
	// (build adds the words to the vocabulary) the words' ids, so the scan
	// compares ids instead of hashing strings.
	notBefore, notAfter     map[string]bool
	notBeforeID, notAfterID []int32
}

// ref ties a phrase to one dictionary entry within one layer.
type ref struct {
	layer int
	entry int
	rule  *rule // nil: always accepted
}

type phrase struct {
	words []string
	ids   []int32
	refs  []ref
}

// hit is one accepted match: tokens [start, end) of a field.
type hit struct {
	layer, entry int
	start, end   int
}

// matcher is the compiled dictionary: every distinct word has an id, and
// the phrases form a trie over word ids, so a field costs one vocabulary
// lookup per token plus one trie step per further word of a candidate,
// however many phrases share a first word ("Storm-0558", "Storm-1849", …,
// "APT28", "APT29", …). Layers are
// independent: within a layer matches are leftmost-longest and never
// overlap, but an entity name and a cue phrase may cover the same words (so
// "Kimsuky data breach" yields both the actor and the attack cue).
type matcher struct {
	// words is vocab as an open-addressing hash table for the per-token
	// look-up: one probe of a slot that holds the word's bytes settles
	// almost every word, where the map's string keys cost several cache
	// misses per token on real text.
	words []vslot
	shift uint // 64 - log2(len(words)): a hash's top bits pick the slot
	// text holds the words back to back: word id's is
	// text[textAt[id]:textAt[id+1]]. One string, not one per word, keeps
	// the garbage collector's work per cycle small.
	text   string
	textAt []int32
	// first is by word id + 1 (first[0] stands for "no id"): the trie node
	// of that one word, -1 if no phrase starts with it.
	first []int32
	nodes []trieNode
	refs  []cref // the entries of the phrases, by node (trieNode.ref)
	// etab holds the trie's edges: parent node<<32 | word id → child node.
	etab   []eslot
	emask  uint64
	layers int
	// all is every phrase (for tests; compile drops it after build), and
	// nwords and nphrases count the vocabulary and the phrases.
	all              []*phrase
	nwords, nphrases int
}

// trieNode is one node of the phrase trie: a flat record, so the scan
// touches no pointers on its way to the phrase's entries.
type trieNode struct {
	ref, nref int32 // the entries of the phrase ending here: refs[ref:ref+nref]
	depth     int32 // words from the root: the length of that phrase
	// kids has bit kidBit(id) set for the word id of every child, so most
	// dead ends are seen without probing the edge table; 0: no children.
	kids uint32
}

// kidBit is word id's bit in trieNode.kids.
func kidBit(id int32) uint32 { return 1 << (uint32(id) * 0x9e3779b9 >> 27) }

// cref is a ref in the compiled table.
type cref struct {
	layer, entry int32
	rule         *rule // nil: always accepted
}

type matcherBuilder struct {
	phrases map[string]*phrase
	layers  int
}

func newMatcherBuilder() *matcherBuilder {
	return &matcherBuilder{phrases: map[string]*phrase{}}
}

// add registers phrase for entry in layer. It returns false when the
// phrase has no word characters.
func (b *matcherBuilder) add(text string, layer, entry int, caseSensitive bool, notBefore, notAfter []string) bool {
	ts := tokenize(text)
	toks := ts.toks
	if len(toks) == 0 {
		return false
	}
	var r *rule
	if caseSensitive || len(notBefore) > 0 || len(notAfter) > 0 {
		r = &rule{}
	}
	if caseSensitive {
		for _, t := range toks {
			w := text[t.start:t.end]
			r.cased = append(r.cased, w)
			r.upper = append(r.upper, strings.ToUpper(w))
		}
	}
	if len(notBefore) > 0 {
		r.notBefore = wordSet(notBefore)
	}
	if len(notAfter) > 0 {
		r.notAfter = wordSet(notAfter)
	}
	// Phrases are keyed by their normalised words joined by spaces.
	var key string
	if len(toks) == 1 {
		key = ts.norm(0)
	} else if !asciiOnly(text) || !wordsSpaced(ts) {
		ws := make([]string, len(toks))
		for i := range toks {
			ws[i] = ts.norm(i)
		}
		key = strings.Join(ws, " ")
	} else {
		key = ts.lower[toks[0].start:toks[len(toks)-1].end]
	}
	p := b.phrases[key]
	if p == nil {
		p = &phrase{words: make([]string, len(toks))}
		for i := range toks {
			p.words[i] = ts.norm(i)
		}
		b.phrases[key] = p
	}
	p.refs = append(p.refs, ref{layer: layer, entry: entry, rule: r})
	if layer+1 > b.layers {
		b.layers = layer + 1
	}
	return true
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// wordsSpaced reports whether ts's tokens are separated by single spaces.
func wordsSpaced(ts *tokens) bool {
	for i := 1; i < len(ts.toks); i++ {
		if ts.toks[i].start != ts.toks[i-1].end+1 || ts.src[ts.toks[i-1].end] != ' ' {
			return false
		}
	}
	return true
}

func wordSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, w := range list {
		for _, x := range words(w) {
			m[x] = true
		}
	}
	return m
}

func (b *matcherBuilder) build() *matcher {
	m := &matcher{layers: b.layers}
	vocab := map[string]int32{}
	keys := make([]string, 0, len(b.phrases))
	for k := range b.phrases {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order
	m.all = make([]*phrase, 0, len(keys))
	for _, k := range keys {
		p := b.phrases[k]
		p.ids = make([]int32, len(p.words))
		for i, w := range p.words {
			id, ok := vocab[w]
			if !ok {
				id = int32(len(vocab))
				vocab[w] = id
			}
			p.ids[i] = id
		}
		p.words = nil
		m.all = append(m.all, p)
	}
	// The rules' words join the vocabulary (starting no phrase), in a
	// deterministic order.
	ruleIDs := func(set map[string]bool) []int32 {
		if set == nil {
			return nil
		}
		ws := make([]string, 0, len(set))
		for w := range set {
			ws = append(ws, w)
		}
		slices.Sort(ws)
		ids := make([]int32, len(ws))
		for i, w := range ws {
			id, ok := vocab[w]
			if !ok {
				id = int32(len(vocab))
				vocab[w] = id
			}
			ids[i] = id
		}
		return ids
	}
	for _, p := range m.all {
		for _, r := range p.refs {
			if r.rule != nil {
				r.rule.notBeforeID, r.rule.notAfterID = ruleIDs(r.rule.notBefore), ruleIDs(r.rule.notAfter)
				r.rule.notBefore, r.rule.notAfter = nil, nil
			}
		}
	}
	m.nwords, m.nphrases = len(vocab), len(m.all)
	m.buildWordTable(vocab)
	m.first = make([]int32, len(vocab)+1)
	for i := range m.first {
		m.first[i] = -1
	}
	edges := map[uint64]int32{}
	var ends []*phrase // by node
	node := func(depth int) int32 {
		m.nodes = append(m.nodes, trieNode{depth: int32(depth)})
		ends = append(ends, nil)
		return int32(len(m.nodes) - 1)
	}
	for _, p := range m.all {
		n := m.first[p.ids[0]+1]
		if n < 0 {
			n = node(1)
			m.first[p.ids[0]+1] = n
		}
		for d, id := range p.ids[1:] {
			key := uint64(n)<<32 | uint64(uint32(id))
			c, ok := edges[key]
			if !ok {
				m.nodes[n].kids |= kidBit(id)
				c = node(d + 2)
				edges[key] = c
			}
			n = c
		}
		ends[n] = p
	}
	for n, p := range ends {
		if p == nil {
			continue
		}
		m.nodes[n].ref, m.nodes[n].nref = int32(len(m.refs)), int32(len(p.refs))
		for _, r := range p.refs {
			m.refs = append(m.refs, cref{layer: int32(r.layer), entry: int32(r.entry), rule: r.rule})
		}
	}
	m.buildEdgeTable(edges)
	return m
}

// buildWordTable builds the word table, at most a quarter full, so a word
// not in the vocabulary usually meets an empty slot at once. Probes run
// forward from a word's home slot without wrapping; the table ends with an
// empty slot, so every probe sequence stops inside it.
func (m *matcher) buildWordTable(vocab map[string]int32) {
	size := 16
	for size < 4*len(vocab) {
		size *= 2
	}
	m.words, m.shift = make([]vslot, size+1), uint(64-bits.TrailingZeros(uint(size)))
	byID := make([]string, len(vocab))
	for w, id := range vocab {
		byID[id] = w
	}
	m.textAt = make([]int32, len(vocab)+1)
	var sb strings.Builder
	for id, w := range byID {
		sb.WriteString(w)
		m.textAt[id+1] = int32(sb.Len())
	}
	m.text = sb.String()
	for w, id := range vocab {
		first, last := wordKey(w)
		k := wordHash(first, last, len(w)) >> m.shift
		for m.words[k].n != 0 {
			k++
		}
		if int(k) == len(m.words)-1 {
			m.words = append(m.words, vslot{})
		}
		m.words[k] = vslot{first: first, last: last, id: id, n: int32(len(w))}
	}
}

// accepts reports whether r allows a match of tokens [i, j) of ts.
func (r *rule) accepts(ts *tokens, i, j int) bool {
	if r == nil {
		return true
	}
	if r.cased != nil && ts.shouting {
		return false
	}
	for k, want := range r.cased {
		got := ts.src[ts.toks[i+k].start:ts.toks[i+k].end]
		if got != want && got != r.upper[k] {
			return false
		}
	}
	if r.notBeforeID != nil && i > 0 && slices.Contains(r.notBeforeID, ts.toks[i-1].id) {
		return false
	}
	if r.notAfterID != nil && j < len(ts.toks) && slices.Contains(r.notAfterID, ts.toks[j].id) {
		return false
	}
	return true
}

// matchesAt reports whether p's words start at token i. Tokens must carry
// ids from lookup (scan assigns them).
func (p *phrase) matchesAt(toks []token, i int) bool {
	if i+len(p.ids) > len(toks) {
		return false
	}
	for k, id := range p.ids {
		if toks[i+k].id != id {
			return false
		}
	}
	return true
}

// lookup assigns every token its vocabulary id.
func (m *matcher) lookup(ts *tokens) {
	for i := range ts.toks {
		ts.toks[i].id = wordID(m, ts.norm(i))
	}
}

// eslot is one slot of the trie's edge table; child < 0 marks an empty slot.
type eslot struct {
	key   uint64
	child int32
}

// buildEdgeTable copies the edges into an open-addressing table: the
// walk probes it once per further word of a candidate phrase.
func (m *matcher) buildEdgeTable(edges map[uint64]int32) {
	size := 16
	for size < 2*len(edges) {
		size *= 2
	}
	m.etab, m.emask = make([]eslot, size), uint64(size-1)
	for i := range m.etab {
		m.etab[i].child = -1
	}
	for key, c := range edges {
		k := mix64(key) & m.emask
		for m.etab[k].child >= 0 {
			k = (k + 1) & m.emask
		}
		m.etab[k] = eslot{key, c}
	}
}

// mix64 is a 64-bit finaliser (splitmix64's), to spread node/word keys.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// child returns node n's child for word id.
func (m *matcher) child(n, id int32) (int32, bool) {
	key := uint64(n)<<32 | uint64(uint32(id))
	for k := mix64(key) & m.emask; ; k = (k + 1) & m.emask {
		e := &m.etab[k]
		if e.child < 0 {
			return 0, false
		}
		if e.key == key {
			return e.child, true
		}
	}
}

// vslot is one slot of the word table; n == 0 marks an empty slot. A word
// of up to 16 bytes is identified by first, last and n alone.
type vslot struct {
	first, last uint64 // see wordKey
	id          int32
	n           int32 // the word's length in bytes
}

// wordHash hashes a word from wordKey's parts and its length.
func wordHash(first, last uint64, n int) uint64 {
	const mul, mul2 = 0x9e3779b97f4a7c15, 0xff51afd7ed558ccd
	return (first ^ bits.RotateLeft64(last*mul2, 32) ^ uint64(n)) * mul
}

// wordKey returns w's first eight bytes (zero-padded, little-endian) and,
// when w is longer than eight bytes, its last eight (else 0).
func wordKey[T string | []byte](w T) (first, last uint64) {
	var a [8]byte
	copy(a[:], w)
	first = binary.LittleEndian.Uint64(a[:])
	if len(w) > 8 {
		copy(a[:], w[len(w)-8:])
		last = binary.LittleEndian.Uint64(a[:])
	}
	return first, last
}

// wordID returns w's vocabulary id, or -1.
func wordID[T string | []byte](m *matcher, w T) int32 {
	if len(w) == 0 {
		return -1
	}
	first, last := wordKey(w)
	for k := wordHash(first, last, len(w)) >> m.shift; ; k++ {
		sl := &m.words[k]
		if sl.n == 0 {
			return -1
		}
		if sl.first == first && sl.last == last && int(sl.n) == len(w) && (len(w) <= 16 || m.text[m.textAt[sl.id]:m.textAt[sl.id+1]] == string(w)) {
			return sl.id
		}
	}
}

// prefixMask[n&31] keeps the first n bytes of a little-endian word (all
// eight from n = 8 on; longer words than 16 bytes take the slow path).
var prefixMask = func() (t [32]uint64) {
	for n := range t {
		t[n] = ^uint64(0)
		if n < 8 {
			t[n] = 1<<(8*n) - 1
		}
	}
	return t
}()

// assignIDs gives the tokens their ids. b is their field lower-cased and
// padded (see tokenize); fold holds the folded forms of the non-ASCII
// words, at offset foldBase of tokens.lower. slow is scratch for at least
// len(toks)+1 token indexes.
//
// The fast path reads a word as two 8-byte loads and compares it with the
// two slots from its home on, with no branch on the outcome (a word is in
// the vocabulary about as often as not, in no order a predictor learns)
// and no call (which would spill the loop's registers): the few words it
// cannot settle — a longer probe sequence, a word longer than 16 bytes, a
// folded non-ASCII word — are listed and looked up afterwards.
func (m *matcher) assignIDs(toks []token, b, fold []byte, foldBase int, slow []int32) {
	ns := fastIDs(m.words, m.shift&63, toks, b, slow)
	for _, i := range slow[:ns] {
		tk := &toks[i]
		if int(tk.ns) != int(tk.start) {
			tk.id = wordID(m, fold[int(tk.ns)-foldBase:int(tk.ne)-foldBase])
		} else {
			tk.id = wordID(m, b[tk.start:tk.end])
		}
	}
}

// fastIDs is assignIDs's fast path, in a function of its own: without a
// call in it, the loop keeps its state in registers. It returns the
// number of tokens listed in slow.
func fastIDs(slots []vslot, shift uint, toks []token, b []byte, slow []int32) int {
	ns := 0
	for i := range toks {
		tk := &toks[i]
		start, end := int(tk.start), int(tk.end)
		n := end - start
		first := binary.LittleEndian.Uint64(b[start:]) & prefixMask[n&31]
		e8 := end - 8
		e8 &^= e8 >> 63 // max(end-8, 0) without a branch
		last := binary.LittleEndian.Uint64(b[e8:]) & uint64(int64(8-n)>>63)
		k := wordHash(first, last, n) >> shift
		s := slots[k : k+2]
		d0 := s[0].first ^ first | s[0].last ^ last | uint64(uint32(s[0].n)^uint32(n))
		d1 := s[1].first ^ first | s[1].last ^ last | uint64(uint32(s[1].n)^uint32(n))
		miss0, miss1 := (d0|-d0)>>63, (d1|-d1)>>63 // 1 unless the slot holds the word
		// A word is in one slot at most: the AND picks its id, or -1.
		tk.id = int32((uint32(s[0].id) | uint32(-miss0)) & (uint32(s[1].id) | uint32(-miss1)))
		// Both slots hold other words: the probe sequence goes on.
		busy := uint64(uint32(-s[0].n)&uint32(-s[1].n)) >> 31
		folded := (uint64(uint32(tk.ns)^uint32(start)) + 0xffffffff) >> 32 // 1 if ns != start
		slow[ns] = int32(i)
		ns += int(miss0&miss1&busy | uint64(16-n)>>63 | folded)
	}
	return ns
}

// layerState is the scan's bookkeeping for one layer.
type layerState struct {
	next     int // first token the layer may use
	takenAt  int // token where the layer's last hit started
	takenEnd int // and where it ended
}

// cand is a token where some phrase starts, with that word's trie node.
type cand struct {
	tok, node int32
}

// scanState is the per-scan scratch, reusable across scans.
type scanState struct {
	path   []int32 // trie nodes ending a phrase along the current walk
	layers []layerState
	cands  []cand
}

// scan returns every hit in src, ordered by start token then layer.
func (m *matcher) scan(ts *tokens) []hit {
	var st scanState
	m.lookup(ts)
	return m.appendHits(nil, &st, ts)
}

// appendHits is scan into reusable storage. The tokens must carry their
// ids (from tokenize with m, or lookup).
func (m *matcher) appendHits(hits []hit, st *scanState, ts *tokens) []hit {
	toks := ts.toks
	if cap(st.layers) < m.layers {
		st.layers = make([]layerState, m.layers)
	}
	ls := st.layers[:m.layers]
	for l := range ls {
		ls[l] = layerState{0, -1, -1}
	}
	// The tokens where a phrase starts, listed without a branch per token:
	// about half of the words of news text start one, in no order a
	// predictor could learn.
	if cap(st.cands) < len(toks)+1 {
		st.cands = make([]cand, len(toks)+1)
	}
	cands, nc := st.cands[:len(toks)+1], 0
	first := m.first
	for i := range toks {
		n := first[toks[i].id+1]
		cands[nc] = cand{int32(i), n}
		nc += int(uint32(^n) >> 31) // keep it when n >= 0
	}
	nodes, refs := m.nodes, m.refs
	path := st.path[:0]
	defer func() { st.path = path[:0] }()
	for _, c := range cands[:nc] {
		i, n := int(c.tok), c.node
		// Walk the trie as far as the text follows it, then try the
		// phrases found from the longest down.
		path = path[:0]
		nd := &nodes[n]
		if nd.nref > 0 {
			path = append(path, n)
		}
		for k := i + 1; k < len(toks) && nd.kids&kidBit(toks[k].id) != 0 && toks[k].id >= 0; k++ {
			ch, ok := m.child(n, toks[k].id)
			if !ok {
				break
			}
			n, nd = ch, &nodes[ch]
			if nd.nref > 0 {
				path = append(path, n)
			}
		}
		at := len(hits)
		for x := len(path) - 1; x >= 0; x-- {
			nd := &nodes[path[x]]
			j := i + int(nd.depth)
			for _, rf := range refs[nd.ref : nd.ref+nd.nref] {
				l := &ls[rf.layer]
				// A layer that already matched here accepts only further
				// entries of the same length ("Imperial Kitten" in two lists).
				if l.next > i && (l.takenAt != i || l.takenEnd != j) {
					continue
				}
				if rf.rule != nil && !rf.rule.accepts(ts, i, j) {
					continue
				}
				hits = append(hits, hit{layer: int(rf.layer), entry: int(rf.entry), start: i, end: j})
				*l = layerState{j, i, j}
			}
		}
		// Order the hits at i by layer (stable: insertion sort, few items).
		for a := at + 1; a < len(hits); a++ {
			for b := a; b > at && hits[b-1].layer > hits[b].layer; b-- {
				hits[b-1], hits[b] = hits[b], hits[b-1]
			}
		}
	}
	return hits
}
