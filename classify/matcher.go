package classify

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of a field: a maximal run of letters and digits.
type token struct {
	start, end int    // byte offsets into the field
	norm       string // lower case, common accents folded
	sent       int    // sentence number within the field
}

// tokenize splits s into word tokens. Everything that is not a letter or a
// digit separates tokens, so matches are whole-word by construction
// ("firearm" never yields "arm").
func tokenize(s string) []token {
	var toks []token
	sent := 0
	start := -1
	gapBreak := false // a sentence-ending mark was seen since the last token
	flush := func(end int) {
		if start < 0 {
			return
		}
		word := s[start:end]
		if gapBreak && len(toks) > 0 {
			prev := toks[len(toks)-1]
			r, _ := utf8.DecodeRuneInString(word)
			// "U. S." and "N. Korea" are abbreviations, not sentence ends.
			if prev.end-prev.start > 1 && (unicode.IsUpper(r) || unicode.IsDigit(r)) {
				sent++
			}
		}
		gapBreak = false
		toks = append(toks, token{start: start, end: end, norm: fold(word), sent: sent})
		start = -1
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		switch r {
		case '.', '!', '?', '\n':
			gapBreak = true
		}
	}
	flush(len(s))
	return toks
}

// fold lower-cases a word and strips the accents that occur in company and
// country names ("Telefónica", "Türkiye"), so dictionaries can be ASCII.
func fold(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf || (w[i] >= 'A' && w[i] <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return w
	}
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range strings.ToLower(w) {
		if f, ok := accentFold[r]; ok {
			b.WriteRune(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
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
	toks := tokenize(phrase)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.norm
	}
	return out
}

// rule restricts when a phrase counts as a match of its entry.
type rule struct {
	// cased holds the phrase's words as written in the dictionary when the
	// phrase is case-sensitive: each matched word must equal its cased
	// form exactly or in all capitals ("Arm"/"ARM", never "arm").
	cased     []string
	notBefore map[string]bool // rejected when the preceding word is one of these
	notAfter  map[string]bool // rejected when the following word is one of these
}

// ref ties a phrase to one dictionary entry within one layer.
type ref struct {
	layer int
	entry int
	rule  *rule
}

type phrase struct {
	words []string
	refs  []ref
}

// hit is one accepted match: tokens [start, end) of a field.
type hit struct {
	layer, entry int
	start, end   int
}

// matcher is the compiled dictionary: every phrase indexed by its first
// word. Layers are independent: within a layer matches are leftmost-longest
// and never overlap, but an entity name and a cue phrase may cover the same
// words (so "Kimsuky data breach" yields both the actor and the attack cue).
type matcher struct {
	byFirst map[string][]*phrase // candidates, longest first
	layers  int
	all     []*phrase
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
	ws := words(text)
	if len(ws) == 0 {
		return false
	}
	r := &rule{}
	if caseSensitive {
		for _, t := range tokenize(text) {
			r.cased = append(r.cased, text[t.start:t.end])
		}
	}
	if len(notBefore) > 0 {
		r.notBefore = wordSet(notBefore)
	}
	if len(notAfter) > 0 {
		r.notAfter = wordSet(notAfter)
	}
	key := strings.Join(ws, " ")
	p := b.phrases[key]
	if p == nil {
		p = &phrase{words: ws}
		b.phrases[key] = p
	}
	p.refs = append(p.refs, ref{layer: layer, entry: entry, rule: r})
	if layer+1 > b.layers {
		b.layers = layer + 1
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
	m := &matcher{byFirst: map[string][]*phrase{}, layers: b.layers}
	keys := make([]string, 0, len(b.phrases))
	for k := range b.phrases {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order
	for _, k := range keys {
		p := b.phrases[k]
		m.byFirst[p.words[0]] = append(m.byFirst[p.words[0]], p)
		m.all = append(m.all, p)
	}
	for _, ps := range m.byFirst {
		slices.SortStableFunc(ps, func(a, b *phrase) int { return len(b.words) - len(a.words) })
	}
	return m
}

// accepts reports whether r allows a match of tokens [i, j) of src.
func (r *rule) accepts(src string, toks []token, i, j int) bool {
	if r.cased != nil {
		for k, want := range r.cased {
			got := src[toks[i+k].start:toks[i+k].end]
			if got != want && got != strings.ToUpper(want) {
				return false
			}
		}
	}
	if r.notBefore != nil && i > 0 && r.notBefore[toks[i-1].norm] {
		return false
	}
	if r.notAfter != nil && j < len(toks) && r.notAfter[toks[j].norm] {
		return false
	}
	return true
}

func (p *phrase) matchesAt(toks []token, i int) bool {
	if i+len(p.words) > len(toks) {
		return false
	}
	for k, w := range p.words {
		if toks[i+k].norm != w {
			return false
		}
	}
	return true
}

// scan returns every hit in src, ordered by start token then layer.
func (m *matcher) scan(src string, toks []token) []hit {
	var hits []hit
	next := make([]int, m.layers) // first token each layer may use
	for i := range toks {
		cands := m.byFirst[toks[i].norm]
		if len(cands) == 0 {
			continue
		}
		var taken []int // layers that got a match starting at i
		for _, p := range cands {
			if !p.matchesAt(toks, i) {
				continue
			}
			j := i + len(p.words)
			for _, rf := range p.refs {
				if next[rf.layer] > i || slices.Contains(taken, rf.layer) && !sameLength(hits, rf.layer, i, j) {
					continue
				}
				if !rf.rule.accepts(src, toks, i, j) {
					continue
				}
				hits = append(hits, hit{layer: rf.layer, entry: rf.entry, start: i, end: j})
				if !slices.Contains(taken, rf.layer) {
					taken = append(taken, rf.layer)
				}
			}
		}
		for _, l := range taken {
			for k := len(hits) - 1; k >= 0 && hits[k].start == i; k-- {
				if hits[k].layer == l && hits[k].end > next[l] {
					next[l] = hits[k].end
				}
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.layer - b.layer
	})
	return hits
}

// sameLength reports whether layer already has a hit [i, j) — several
// entries of one layer may share a phrase ("Imperial Kitten").
func sameLength(hits []hit, layer, i, j int) bool {
	for k := len(hits) - 1; k >= 0 && hits[k].start == i; k-- {
		if hits[k].layer == layer {
			return hits[k].end == j
		}
	}
	return false
}
