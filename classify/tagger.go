package classify

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// Bounds on the work per item: only the first maxTitleBytes of a title and
// maxTextBytes of a text are scanned (cut back to a word boundary), so a
// megabyte-sized feed entry costs no more than a long article. Evidence
// offsets still point into the caller's strings, which the scanned parts
// are prefixes of.
const (
	maxTitleBytes = 2 << 10
	maxTextBytes  = 64 << 10
)

// field is one scanned field of an item.
type field struct {
	name string // "title" or "text"
	tokens
	ents    []hit          // entity layer
	attacks []hit          // attack keyword layer
	cues    [numCues][]hit // by cue id, each ordered by start
	covered []bool         // tokens inside an entity hit
	// cueStart and cueEnd have bit 1<<cue set at the tokens where a hit of
	// that cue list starts and where one ends (its last token), so the
	// rules probe a few tokens instead of searching hit lists.
	cueStart, cueEnd []uint64
	entAt            []int32  // 1 + index in ents of the first hit starting at a token; 0 if none
	wordSets         []uint64 // the Classifier's (see is)
}

// is reports whether token k is a word of ruleSets[s]: its id's bit, so
// no hashing (the sets' words are in the vocabulary).
func (f *field) is(k int, s ruleSet) bool {
	return f.wordSets[f.toks[k].id+1]>>s&1 != 0
}

// doc is the working state of one Classify call. Docs are pooled by the
// Classifier: everything but tags is scratch reused by the next call, and
// tags never points into scratch (its strings are dictionary names or
// substrings of the caller's title and text).
type doc struct {
	c         *Classifier
	fields    [2]*field
	published time.Time
	mentions  []actorMention
	sigs      []signal
	order     []int32
	reps      []reporter
	repsDone  bool
	defs      []acronymDef
	defsDone  bool
	tags      accordwatch.Tags
	// stateByGroup: some attribution names a group, hackers or an agency
	// as the agent, not only a country accused or suspected (attribution).
	stateByGroup bool
	// civil: the headline is a civil suit or settlement over an attack
	// (attackTypes), typed policy but with the attack's victims.
	civil bool
	// reportOn: the headline is a report or survey that counts attacks of
	// a concrete type (attackTypes), typed policy; its principles read
	// the companies and products it names as that type's victims.
	reportOn bool
	// lead is the token of the text where its lead story ends (leadEnd).
	lead int
	// sigLead has bit i set when signatory i is named in the headline or
	// the lead story (roles); a roundup's principles read only those.
	sigLead uint64

	store [2]field
	hits  []hit
	st    scanState
	// Scratch behind tags while the item is worked on; finish copies the
	// result out, so the item allocates its output and little else.
	scratch struct {
		sigs, comps, states, actors, attacks []string
		principles                           []accordwatch.Principle
		attribution                          []accordwatch.Attribution
		evidence                             []accordwatch.Evidence
		counts                               []seen
		found                                []roleFound
	}
}

func (d *doc) reset(c *Classifier, published time.Time) {
	d.c, d.published = c, published
	d.mentions, d.sigs, d.reps, d.repsDone = d.mentions[:0], d.sigs[:0], d.reps[:0], false
	d.defs, d.defsDone = d.defs[:0], false
	d.stateByGroup = false
	d.civil = false
	d.reportOn = false
	s := &d.scratch
	d.tags = accordwatch.Tags{
		Signatories: s.sigs[:0], Companies: s.comps[:0], States: s.states[:0], Actors: s.actors[:0],
		AttackTypes: s.attacks[:0], Principles: s.principles[:0], Attribution: s.attribution[:0],
		Evidence: s.evidence[:0],
	}
}

// finish returns the tags, copied out of the scratch they were built in
// (which it keeps for the next item): one allocation for all the string
// lists, one each for principles, attribution and evidence.
func (d *doc) finish() accordwatch.Tags {
	t := d.tags
	s := &d.scratch
	s.sigs, s.comps, s.states, s.actors = t.Signatories[:0], t.Companies[:0], t.States[:0], t.Actors[:0]
	s.attacks, s.principles, s.attribution, s.evidence = t.AttackTypes[:0], t.Principles[:0], t.Attribution[:0], t.Evidence[:0]
	lists := [...]*[]string{&t.Signatories, &t.Companies, &t.States, &t.Actors, &t.AttackTypes}
	n := 0
	for _, l := range lists {
		n += len(*l)
	}
	all := make([]string, n)
	for _, l := range lists {
		k := copy(all, *l)
		*l, all = all[:k:k], all[k:] // capped: an append by the caller reallocates
	}
	t.Principles = slices.Clone(t.Principles)
	if t.Principles == nil {
		t.Principles = []accordwatch.Principle{}
	}
	if len(t.Attribution) > 0 {
		t.Attribution = slices.Clone(t.Attribution)
	} else {
		t.Attribution = nil
	}
	ev := t.Evidence
	t.Evidence = append(make([]accordwatch.Evidence, 0, len(ev)), ev...)
	// The scratch must not keep the caller's text alive.
	clear(ev)
	d.tags = accordwatch.Tags{}
	return t
}

// clip returns the prefix of s of at most n bytes, cut before a word that
// straddles the limit (or at a rune boundary when there is no space).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > n-64 && cut > 0 && s[cut] != ' ' && s[cut] != '\n' {
		cut--
	}
	if cut <= n-64 || cut == 0 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return s[:cut]
}

// scanField tokenizes and matches src into d.store[i], reusing its storage.
func (d *doc) scanField(i int, name, src string) *field {
	f := &d.store[i]
	f.name, f.wordSets = name, d.c.wordSets
	f.tokenize(src, d.c.m, true)
	d.hits = d.c.m.appendHits(d.hits[:0], &d.st, &f.tokens)
	f.covered = resize(f.covered, len(f.toks))
	f.entAt = resize(f.entAt, len(f.toks))
	f.cueStart = resize(f.cueStart, len(f.toks))
	f.cueEnd = resize(f.cueEnd, len(f.toks))
	f.ents, f.attacks = f.ents[:0], f.attacks[:0]
	for k := range f.cues {
		f.cues[k] = f.cues[k][:0]
	}
	for _, h := range d.hits {
		switch {
		case h.layer == layerEntity:
			if f.entAt[h.start] == 0 {
				f.entAt[h.start] = int32(len(f.ents) + 1)
			}
			f.ents = append(f.ents, h)
			for k := h.start; k < h.end; k++ {
				f.covered[k] = true
			}
		case h.layer == layerAttack:
			f.attacks = append(f.attacks, h)
		case h.layer-firstCueLayer < numCues:
			id := h.layer - firstCueLayer
			f.cues[id] = append(f.cues[id], h)
			f.cueStart[h.start] |= 1 << id
			f.cueEnd[h.end-1] |= 1 << id
		}
	}
	return f
}

// resize returns s with length n and every element zero, reusing its array.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// entsAt returns the entity hits starting at token k.
func (f *field) entsAt(k int) []hit {
	if k < 0 || k >= len(f.entAt) || f.entAt[k] == 0 {
		return nil
	}
	i := int(f.entAt[k]) - 1
	j := i + 1
	for j < len(f.ents) && f.ents[j].start == k {
		j++
	}
	return f.ents[i:j]
}

// Classify tags one item. published decides signatory membership: a
// signatory counts only from its join date; a zero time counts them all.
// Only the first 2 KiB of title and 64 KiB of text are read (see
// maxTextBytes). It never panics, whatever the input bytes.
func (c *Classifier) Classify(title, text string, published time.Time) accordwatch.Tags {
	d := c.docs.Get().(*doc)
	defer c.docs.Put(d)
	d.reset(c, published)
	d.fields = [2]*field{d.scanField(0, "title", clip(title, maxTitleBytes)), d.scanField(1, "text", clip(text, maxTextBytes))}
	d.lead = d.leadEnd()
	d.companies()
	d.mentions = d.actorMentions()
	d.actors()
	d.attribution()
	d.roles()
	d.attackTypes()
	d.principles()
	d.severity()
	return d.finish()
}

// --- evidence helpers ---

func (f *field) text(start, end int) string { return f.src[f.toks[start].start:f.toks[end-1].end] }

func (d *doc) evidence(tag string, f *field, start, end int, rule string) {
	d.tags.Evidence = append(d.tags.Evidence, accordwatch.Evidence{
		Tag: tag, Field: f.name, Match: f.text(start, end), Offset: int(f.toks[start].start), Rule: rule,
	})
}

func (d *doc) derived(tag, rule string) {
	d.tags.Evidence = append(d.tags.Evidence, accordwatch.Evidence{Tag: tag, Field: "tags", Offset: -1, Rule: rule})
}
