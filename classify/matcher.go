package classify

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of a field: a maximal run of letters and digits. It
// holds no pointers, so token slices are cheap to reuse and to scan.
type token struct {
	start, end int   // byte offsets into the field
	sent       int   // sentence number within the field
	ns, ne     int32 // the normalised word is tokens.lower[ns:ne]
	id         int32 // the word's id in the matcher's vocabulary, -1 if none
}

// tokens is a tokenized field.
type tokens struct {
	src string
	// lower is src with ASCII letters lower-cased (same byte offsets),
	// followed by the folded forms of words with non-ASCII letters.
	lower string
	toks  []token
	buf   []byte // scratch for lower, reused
	// shouting: src is (nearly) all capitals, so case-sensitive phrases
	// cannot be told from ordinary words and do not match.
	shouting bool
	// Bitmaps over src bytes: word bytes, sentence stops, non-ASCII bytes.
	words, stops, highs []uint64
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

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
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
	ts.tokenize(s)
	return ts
}

// tokenize fills ts from s, reusing its storage. It allocates one string
// (lower) per call.
//
// Word boundaries come from bitmaps built without branches (one table
// load per byte), then runs of word bytes are found with TrailingZeros:
// a byte-by-byte loop mispredicts at the end of every word of real text.
// Runs containing non-ASCII bytes take the exact, rune-by-rune path.
func (ts *tokens) tokenize(s string) {
	ts.src = s
	// A word and its separator take at least two bytes: this capacity is
	// never exceeded.
	if want := len(s)/2 + 1; cap(ts.toks) < want {
		ts.toks = make([]token, 0, want)
	}
	b, uppers := lowerASCII(append(ts.buf[:0], s...))
	letters := 0
	nw := (len(s) + 63) / 64
	ts.words, ts.stops, ts.highs = resize(ts.words, nw), resize(ts.stops, nw), resize(ts.highs, nw)
	words, stops, highs := ts.words, ts.stops, ts.highs
	for k := range words {
		var w, st, h uint64
		blk := b[k<<6 : min(k<<6+64, len(b))]
		for j := 0; j < len(blk); j += 8 {
			var x uint64
			if j+8 <= len(blk) {
				x = binary.LittleEndian.Uint64(blk[j:])
			} else {
				var tail [8]byte
				copy(tail[:], blk[j:])
				x = binary.LittleEndian.Uint64(tail[:])
			}
			cw, cs, ch, nl := classify8(x)
			letters += nl
			w |= cw << uint(j)
			st |= cs << uint(j)
			h |= ch << uint(j)
		}
		words[k], stops[k], highs[k] = w, st, h
	}
	t := tokenizer{s: s, toks: ts.toks[:cap(ts.toks)], b: b}
	prevEnd := 0
	for pos := 0; pos < len(s); {
		start := nextBit(words, pos, false)
		if start >= len(s) {
			break
		}
		end := min(nextBit(words, start, true), len(s))
		if anyBit(stops, prevEnd, start) {
			t.gap = true
		}
		if anyBit(highs, start, end) {
			t.exact(start, end)
		} else {
			t.word(start, end, upperOrDigit[s[start]] != 0, false)
		}
		prevEnd, pos = end, end
	}
	// A field in capitals ("HACKERS HIT BANKING ARM") says nothing with
	// case: at least a few words' worth of letters, 80% of them capitals.
	ts.shouting = letters >= 12 && uppers*5 >= letters*4
	ts.lower = string(t.b)
	ts.toks, ts.buf = t.toks[:t.n], t.b
}

// classify8 classifies eight lower-cased bytes at once (SWAR): bit i of
// each result is byte i's class — a word byte (a-z, 0-9 or non-ASCII,
// checked exactly later), a sentence stop (. ! ? newline), a non-ASCII byte.
func classify8(x uint64) (word, stop, high uint64, letters int) {
	const (
		ones = 0x0101010101010101
		hi   = ones * 0x80
		lo7  = ones * 0x7f
		pack = 0x0102040810204080 // gathers bit 0 of each byte into the top byte
	)
	low := x &^ hi
	ascii := ^x & hi
	// Bit 7 of each byte: low >= a (no carry out of a byte: low <= 0x7f).
	ge := func(a uint64) uint64 { return low + ones*(0x80-a) }
	l := ge('a') &^ ge('z'+1) & ascii
	w := l | ge('0')&^ge('9'+1)&ascii
	// Bit 7 set exactly when the byte equals c.
	eq := func(c uint64) uint64 { y := x ^ ones*c; return ^((y&lo7 + lo7) | y | lo7) }
	s := (eq('.') | eq('!') | eq('?') | eq('\n')) & hi
	h := x & hi
	return ((w | h) >> 7 * pack) >> 56, (s >> 7 * pack) >> 56, (h >> 7 * pack) >> 56, bits.OnesCount64(l)
}

// byteClass: bit 0 a word byte (ASCII letter or digit, or any non-ASCII
// byte, checked exactly later), bit 1 a sentence stop, bit 2 non-ASCII.
var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = 1 | 4
		case asciiClass[c] == cLower || asciiClass[c] == cUpper:
			t[c] = 1
		case asciiClass[c] == cStop:
			t[c] = 2
		}
	}
	return t
}()

var upperOrDigit = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1
	}
	return t
}()

// nextBit returns the position of the first bit at or after pos that is
// set (or clear, when clear is true); past the end it returns 64*len(m).
func nextBit(m []uint64, pos int, clear bool) int {
	k := pos >> 6
	if k >= len(m) {
		return len(m) << 6
	}
	var flip uint64
	if clear {
		flip = ^uint64(0)
	}
	if x := (m[k] ^ flip) >> uint(pos&63); x != 0 {
		return pos + bits.TrailingZeros64(x)
	}
	for k++; k < len(m); k++ {
		if x := m[k] ^ flip; x != 0 {
			return k<<6 + bits.TrailingZeros64(x)
		}
	}
	return len(m) << 6
}

// anyBit reports whether a bit in [lo, hi) is set.
func anyBit(m []uint64, lo, hi int) bool {
	for lo < hi {
		k := lo >> 6
		x := m[k] >> uint(lo&63)
		if n := hi - lo; n < 64 {
			x &= 1<<uint(n) - 1
		}
		if x != 0 {
			return true
		}
		lo = (k + 1) << 6
	}
	return false
}

// tokenizer is the state of one tokenize call.
type tokenizer struct {
	s    string
	toks []token
	n    int
	b    []byte
	sent int
	gap  bool // a sentence-ending mark was seen since the last token
}

// word emits s[start:end]; upper: it starts with a capital or a digit.
func (t *tokenizer) word(start, end int, upper, nonASCII bool) {
	// A sentence ends at a stop followed by a capital or digit — but
	// "U. S." and "N. Korea" are abbreviations, not sentence ends.
	if t.gap && upper && t.n > 0 && t.toks[t.n-1].end-t.toks[t.n-1].start > 1 {
		t.sent++
	}
	t.gap = false
	tk := &t.toks[t.n]
	t.n++
	tk.start, tk.end, tk.sent, tk.ns, tk.ne, tk.id = start, end, t.sent, int32(start), int32(end), -1
	if nonASCII {
		tk.ns = int32(len(t.b))
		t.b = appendFold(t.b, t.s[start:end])
		tk.ne = int32(len(t.b))
	}
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

// lowerASCII lower-cases the ASCII capitals of b in place, eight bytes at
// a time, and counts them; other bytes (including UTF-8 sequences) are
// left alone.
func lowerASCII(b []byte) ([]byte, int) {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	i, n := 0, 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// Per byte (high bit clear): x+0x3f has it set from 'A', x+0x25
		// from '['. Upper = ascii && >= 'A' && < '['.
		low := x &^ high
		ge := low + ones*(0x80-'A')
		gt := low + ones*(0x80-'Z'-1)
		upper := ^x & ge &^ gt & high
		n += bits.OnesCount64(upper)
		binary.LittleEndian.PutUint64(b[i:], x|upper>>2)
	}
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
			n++
		}
	}
	return b, n
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
	notBefore    map[string]bool // rejected when the preceding word is one of these
	notAfter     map[string]bool // rejected when the following word is one of these
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
	vocab map[string]int32
	// words is vocab as a hash table for the per-token look-up: one probe
	// of a 16-byte slot usually settles it, where the map's string keys
	// cost several cache misses per token on real text.
	words   []vslot
	seed    maphash.Seed
	wordCap uint64 // len(words)-1
	nodes   []trieNode
	first   []int32          // by word id: the trie node of that one word, -1 if none
	edges   map[uint64]int32 // parent node<<32 | word id → child node (build only)
	etab    []eslot
	emask   uint64
	layers  int
	all     []*phrase
}

type trieNode struct {
	p    *phrase // the phrase ending here, nil if none
	kids bool    // some phrase continues past this node
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
	m := &matcher{vocab: map[string]int32{}, layers: b.layers}
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
			id, ok := m.vocab[w]
			if !ok {
				id = int32(len(m.vocab))
				m.vocab[w] = id
			}
			p.ids[i] = id
		}
		m.all = append(m.all, p)
	}
	m.seed = maphash.MakeSeed()
	size := 16
	for size < 2*len(m.vocab) {
		size *= 2
	}
	m.words, m.wordCap = make([]vslot, size), uint64(size-1)
	for w, id := range m.vocab {
		h := maphash.String(m.seed, w)
		k := h & m.wordCap
		for m.words[k].n != 0 {
			k = (k + 1) & m.wordCap
		}
		m.words[k] = vslot{h: h, id: id, n: uint32(len(w))}
	}
	defer m.buildEdgeTable()
	m.first = make([]int32, len(m.vocab))
	for i := range m.first {
		m.first[i] = -1
	}
	m.edges = map[uint64]int32{}
	for _, p := range m.all {
		n := m.first[p.ids[0]]
		if n < 0 {
			n = int32(len(m.nodes))
			m.nodes = append(m.nodes, trieNode{})
			m.first[p.ids[0]] = n
		}
		for _, id := range p.ids[1:] {
			m.nodes[n].kids = true
			key := uint64(n)<<32 | uint64(uint32(id))
			c, ok := m.edges[key]
			if !ok {
				c = int32(len(m.nodes))
				m.nodes = append(m.nodes, trieNode{})
				m.edges[key] = c
			}
			n = c
		}
		m.nodes[n].p = p
	}
	return m
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
	if r.notBefore != nil && i > 0 && r.notBefore[ts.norm(i-1)] {
		return false
	}
	if r.notAfter != nil && j < len(ts.toks) && r.notAfter[ts.norm(j)] {
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
		ts.toks[i].id = m.wordID(ts.norm(i))
	}
}

// eslot is one slot of the trie's edge table; child < 0 marks an empty slot.
type eslot struct {
	key   uint64
	child int32
}

// buildEdgeTable copies the edges map into an open-addressing table: the
// walk probes it once per further word of a candidate phrase.
func (m *matcher) buildEdgeTable() {
	size := 16
	for size < 2*len(m.edges) {
		size *= 2
	}
	m.etab, m.emask = make([]eslot, size), uint64(size-1)
	for i := range m.etab {
		m.etab[i].child = -1
	}
	for key, c := range m.edges {
		k := mix64(key) & m.emask
		for m.etab[k].child >= 0 {
			k = (k + 1) & m.emask
		}
		m.etab[k] = eslot{key, c}
	}
	m.edges = nil
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

// vslot is one slot of the word table; n == 0 marks an empty slot.
type vslot struct {
	h  uint64
	id int32
	n  uint32
}

// wordID returns w's vocabulary id, or -1. A word is identified by its
// length and 64-bit hash under a per-process random seed: a false match
// needs a 64-bit collision, which no input can aim for.
func (m *matcher) wordID(w string) int32 {
	h := maphash.String(m.seed, w)
	for k := h & m.wordCap; ; k = (k + 1) & m.wordCap {
		sl := &m.words[k]
		if sl.n == 0 {
			return -1
		}
		if sl.h == h && sl.n == uint32(len(w)) {
			return sl.id
		}
	}
}

// scanState is the per-scan bookkeeping, reusable across scans.
type scanState struct {
	path     []int32 // trie nodes ending a phrase along the current walk
	next     []int   // first token each layer may use
	takenAt  []int   // token where the layer's last hit started
	takenEnd []int   // and where it ended
}

func (st *scanState) reset(layers int) {
	if cap(st.next) < layers {
		st.next = make([]int, layers)
		st.takenAt = make([]int, layers)
		st.takenEnd = make([]int, layers)
	}
	st.next, st.takenAt, st.takenEnd = st.next[:layers], st.takenAt[:layers], st.takenEnd[:layers]
	for l := range st.next {
		st.next[l], st.takenAt[l], st.takenEnd[l] = 0, -1, -1
	}
}

// scan returns every hit in src, ordered by start token then layer.
func (m *matcher) scan(ts *tokens) []hit {
	var st scanState
	return m.appendHits(nil, &st, ts)
}

// appendHits is scan into reusable storage. It assigns token ids first.
func (m *matcher) appendHits(hits []hit, st *scanState, ts *tokens) []hit {
	m.lookup(ts)
	toks := ts.toks
	st.reset(m.layers)
	for i := range toks {
		id := toks[i].id
		if id < 0 {
			continue
		}
		n := m.first[id]
		if n < 0 {
			continue
		}
		// Walk the trie as far as the text follows it, then try the
		// phrases found from the longest down.
		path := st.path[:0]
		if m.nodes[n].p != nil {
			path = append(path, n)
		}
		for k := i + 1; m.nodes[n].kids && k < len(toks) && toks[k].id >= 0; k++ {
			c, ok := m.child(n, toks[k].id)
			if !ok {
				break
			}
			n = c
			if m.nodes[n].p != nil {
				path = append(path, n)
			}
		}
		st.path = path
		first := len(hits)
		for x := len(path) - 1; x >= 0; x-- {
			p := m.nodes[path[x]].p
			j := i + len(p.ids)
			for _, rf := range p.refs {
				l := rf.layer
				// A layer that already matched here accepts only further
				// entries of the same length ("Imperial Kitten" in two lists).
				if st.next[l] > i && (st.takenAt[l] != i || st.takenEnd[l] != j) {
					continue
				}
				if !rf.rule.accepts(ts, i, j) {
					continue
				}
				hits = append(hits, hit{layer: l, entry: rf.entry, start: i, end: j})
				st.next[l], st.takenAt[l], st.takenEnd[l] = j, i, j
			}
		}
		// Order the hits at i by layer (stable: insertion sort, few items).
		for a := first + 1; a < len(hits); a++ {
			for b := a; b > first && hits[b-1].layer > hits[b].layer; b-- {
				hits[b-1], hits[b] = hits[b], hits[b-1]
			}
		}
	}
	return hits
}
