package classify

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

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
// "<Group> data breach" yields both the actor and the attack keyword).
type matcher struct {
	// words is vocab as an open-addressing hash table for the per-token
	// look-up: one probe of a slot that holds the word's bytes settles
	// almost every word, where the map's string keys cost several cache
	// misses per token on real text.
	words []vslot
	shift uint // 64 - log2(size) (see buildWordTable): a hash's top bits pick the slot
	// long maps the words longer than 16 bytes, which the table leaves out.
	long map[string]int32
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
	// extra are words the rules test by id (ruleSets): they join the
	// vocabulary, starting no phrase.
	extra []string
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
	extra := slices.Sorted(slices.Values(b.extra))
	for _, w := range extra {
		if _, ok := vocab[w]; !ok {
			vocab[w] = int32(len(vocab))
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
		// In layer order (stable, as the hits at a token are ordered), so
		// that one phrase's hits need no sorting.
		slices.SortStableFunc(m.refs[m.nodes[n].ref:], func(a, b cref) int { return cmp.Compare(a.layer, b.layer) })
	}
	m.buildEdgeTable(edges)
	return m
}

// buildWordTable builds the word table, at most a quarter full, so a word
// not in the vocabulary usually meets an empty slot at once. Words of up to
// 16 bytes are placed by linear probing; probes run forward from a word's
// home slot without wrapping, and the table ends with an empty slot, so
// every probe sequence stops inside it. Longer words are rare in text and
// go to a map.
func (m *matcher) buildWordTable(vocab map[string]int32) {
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
	m.long = map[string]int32{}
	size := 16
	for size < 4*len(vocab) {
		size *= 2
	}
	m.words, m.shift = make([]vslot, size+1), uint(64-bits.TrailingZeros(uint(size)))
	for k := range m.words {
		m.words[k] = vslot{id: unsettled, miss: -1}
	}
	m.words[0].miss = unsettled
	for id, w := range byID {
		if len(w) > 16 {
			m.long[w] = int32(id)
			continue
		}
		lo, hi := wordKey(w)
		home := wordHash(lo, hi) >> m.shift
		k := home
		for m.words[k].lo != 0 {
			k++
		}
		if k > home+1 {
			m.words[home].miss = unsettled
		}
		if int(k) == len(m.words)-1 {
			m.words = append(m.words, vslot{id: unsettled, miss: -1})
		}
		m.words[k].lo, m.words[k].hi, m.words[k].id = lo, hi, int32(id)
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

// vslot is one slot of the word table, for a word of up to 16 bytes, which
// lo and hi identify; lo == 0 marks an empty slot.
//
// The tokenizer looks a word of up to 16 bytes up in two slots, its home
// and the next, and takes the id of the one that holds it or else the
// home's miss: -1, or unsettled when a word with this home lies further on
// (then assignIDs probes on). A longer word is read as lo = hi = 0, which
// has home 0 and matches only empty slots: their id and slot 0's miss are
// unsettled, so it is always looked up in the map of long words.
type vslot struct {
	lo, hi   uint64 // see wordKey
	id, miss int32
}

// wordHash hashes a word from wordKey's parts.
func wordHash(lo, hi uint64) uint64 {
	const mul, mul2 = 0x9e3779b97f4a7c15, 0xff51afd7ed558ccd
	return (lo ^ bits.RotateLeft64(hi*mul2, 32)) * mul
}

// wordKey returns w's bytes 0-7 and 8-15 as little-endian words, padded
// with zeros. Words have no zero byte, so for a word of up to 16 bytes
// they say which word it is.
func wordKey[T string | []byte](w T) (lo, hi uint64) {
	var a [16]byte
	copy(a[:], w)
	return binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
}

// wordID returns w's vocabulary id, or -1.
func wordID[T string | []byte](m *matcher, w T) int32 {
	if len(w) == 0 {
		return -1
	}
	if len(w) > 16 {
		if id, ok := m.long[string(w)]; ok {
			return id
		}
		return -1
	}
	lo, hi := wordKey(w)
	for k := wordHash(lo, hi) >> m.shift; ; k++ {
		sl := &m.words[k]
		if sl.lo == 0 {
			return -1
		}
		if sl.lo == lo && sl.hi == hi {
			return sl.id
		}
	}
}

// keyMask[min(n, 17)] keeps a word's first n bytes of the 16 read as lo
// and hi; a longer word is read as lo = hi = 0 (see vslot).
var keyMask = func() (t [18][2]uint64) {
	for n := range 17 {
		for i := range n {
			t[n][i/8] |= 0xff << (8 * (i % 8))
		}
	}
	return t
}()

// unsettled is the id fastIDs gives a word it cannot look up.
const unsettled = -2

// assignIDs gives the tokens their ids. b is their field lower-cased and
// padded (see tokenize); fold holds the folded forms of the non-ASCII
// words, whose tokens are listed in folded, at offset foldBase of
// tokens.lower.
//
// The fast path settles almost every word without a branch; the words it
// leaves unsettled (see vslot) and the folded words are looked up after.
func (m *matcher) assignIDs(toks []token, b, fold []byte, foldBase int, folded []int32) {
	fastIDs(m.words, m.shift, toks, b)
	for i := range toks {
		if tk := &toks[i]; tk.id == unsettled {
			tk.id = wordID(m, b[tk.start:tk.end])
		}
	}
	for _, i := range folded {
		tk := &toks[i]
		tk.id = wordID(m, fold[int(tk.ns)-foldBase:int(tk.ne)-foldBase])
	}
}

// fastIDs gives every token its id (see vslot): the id of the slot that
// holds it, from its home on, or the home's miss. Loads first, so that
// the selects compile to conditional moves: a word is in the vocabulary
// about as often as not, in no order a branch predictor learns. A loop of
// its own, with few live values, so that they stay in registers (in
// asciiWords they did not). b must hold 16 bytes from every token's start.
func fastIDs(slots []vslot, shift uint, toks []token, b []byte) {
	for i := range toks {
		tk := &toks[i]
		start := int(tk.start)
		w := (*[16]byte)(b[start:])
		mask := &keyMask[min(int(tk.end)-start, 17)]
		lo := binary.LittleEndian.Uint64(w[:8]) & mask[0]
		hi := binary.LittleEndian.Uint64(w[8:]) & mask[1]
		sl := (*[2]vslot)(slots[wordHash(lo, hi)>>(shift&63):])
		id, id0, id1 := sl[0].miss, sl[0].id, sl[1].id
		if (sl[1].lo^lo)|(sl[1].hi^hi) == 0 {
			id = id1
		}
		if (sl[0].lo^lo)|(sl[0].hi^hi) == 0 {
			id = id0
		}
		tk.id = id
	}
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
	// More than half of them only start longer phrases, which the next
	// word does not continue (its bit is not in the node's kids): drop
	// those, again without a branch, rather than walk them below with a
	// mispredicted one. (A pass of its own: in the loop above, the node's
	// load would hold up every next candidate's slot.)
	kept := 0
	for _, c := range cands[:nc] {
		nd := &nodes[c.node]
		next := toks[min(int(c.tok)+1, len(toks)-1)].id // the last word has none: any id will do
		use := uint32(nd.nref) | nd.kids&kidBit(next)   // not 0: entries, or a way on
		cands[kept] = c
		kept += int((use | -use) >> 31)
	}
	nc = kept
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
		// Order the hits at i by layer (stable: insertion sort, few items)
		// when phrases of several lengths matched.
		for a := at + 1; len(path) > 1 && a < len(hits); a++ {
			for b := a; b > at && hits[b-1].layer > hits[b].layer; b-- {
				hits[b-1], hits[b] = hits[b], hits[b-1]
			}
		}
	}
	return hits
}
