package classify

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	cueStart, cueEnd []uint32
	entAt            []int32 // 1 + index in ents of the first hit starting at a token; 0 if none
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

// seen counts the mentions of one company or signatory (companies).
type seen struct {
	k    kind
	name string
	n    int
}

// roleFound is the nearest role cue found for one signatory (roles).
type roleFound struct {
	role       int // index in rolePriority
	dist       int
	f          *field
	start, end int
}

func (d *doc) reset(c *Classifier, published time.Time) {
	d.c, d.published = c, published
	d.mentions, d.sigs, d.reps, d.repsDone = d.mentions[:0], d.sigs[:0], d.reps[:0], false
	d.defs, d.defsDone = d.defs[:0], false
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
	f.name = name
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

// --- cue helpers ---
//
// Hits of one cue list never overlap and are ordered by start, so their
// ends are ordered too: every look-up is a binary search.

// searchHits returns the index of the first hit of hs (ordered by start,
// and so by end when they do not overlap) that starts — or, with byEnd,
// ends — at or after token k. A plain loop: the rules call it often, and
// slices.BinarySearchFunc's comparison closure is not inlined.
func searchHits(hs []hit, k int, byEnd bool) int {
	lo, hi := 0, len(hs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		v := hs[mid].start
		if byEnd {
			v = hs[mid].end
		}
		if v < k {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// hitStarting returns the hit of cue starting at token k (which must exist).
func (f *field) hitStarting(cue, k int) hit {
	hs := f.cues[cue]
	i := searchHits(hs, k, false)
	return hs[i]
}

// hitEnding returns the hit of cue ending at token end (exclusive; it must exist).
func (f *field) hitEnding(cue, end int) hit {
	hs := f.cues[cue]
	i := searchHits(hs, end, true)
	return hs[i]
}

// cueBefore finds the nearest cue hit ending at most gap tokens before
// pos, in the same sentence.
func (f *field) cueBefore(cue, pos, gap int) (hit, bool) {
	if pos >= len(f.toks) || pos < 0 {
		return hit{}, false
	}
	bit := uint32(1) << cue
	for k := pos - 1; k >= 0 && k >= pos-1-gap; k-- {
		if f.cueEnd[k]&bit != 0 {
			h := f.hitEnding(cue, k+1)
			return h, f.toks[h.start].sent == f.toks[pos].sent
		}
	}
	return hit{}, false
}

// cueAfter finds the nearest cue hit starting at most gap tokens after pos
// (pos is the first token after the subject), in sentence sent.
func (f *field) cueAfter(cue, pos, gap int, sent int32) (hit, bool) {
	bit := uint32(1) << cue
	for k := max(pos, 0); k < len(f.toks) && k <= pos+gap; k++ {
		if f.cueStart[k]&bit != 0 {
			return f.hitStarting(cue, k), f.toks[k].sent == sent
		}
	}
	return hit{}, false
}

// cueWithin finds a cue hit within dist tokens of [start, end) in sentence sent.
func (f *field) cueWithin(cue, start, end, dist int, sent int32) (hit, bool) {
	bit := uint32(1) << cue
	for k := start - 1; k >= 0 && k >= start-1-dist; k-- {
		if f.cueEnd[k]&bit != 0 {
			h := f.hitEnding(cue, k+1)
			if f.toks[h.start].sent == sent {
				return h, true
			}
			break
		}
	}
	return f.cueAfter(cue, end, dist, sent)
}

// cueInSentence finds the first cue hit in sentence sent.
func (f *field) cueInSentence(cue int, sent int32) (hit, bool) {
	hs := f.cues[cue]
	i, _ := slices.BinarySearchFunc(hs, sent, func(h hit, s int32) int { return int(f.toks[h.start].sent - s) })
	if i < len(hs) && f.toks[hs[i].start].sent == sent {
		return hs[i], true
	}
	return hit{}, false
}

func (f *field) negated(sent int32) bool {
	_, ok := f.cueInSentence(cueNegation, sent)
	return ok
}

// --- companies and signatories ---

// outlet reports whether entity hit h names the publisher rather than a
// subject: a title suffix after a separator ("… - LinkedIn", "… | Cisco
// Blogs") or a feed trailer ("The post … appeared first on Microsoft
// Security Blog").
func (f *field) outlet(h hit) bool {
	if _, ok := f.cueBefore(cueOutletBefore, h.start, 0); ok {
		return true
	}
	if f.name != "title" || h.start == 0 {
		return false
	}
	// The suffix runs to the end of the title (trailing words such as
	// "Blog" or "News" may follow the name).
	if len(f.toks)-h.end > 2 {
		return false
	}
	gap := f.src[f.toks[h.start-1].end:f.toks[h.start].start]
	return strings.Contains(gap, " - ") || strings.Contains(gap, " | ") || strings.Contains(gap, " – ") || strings.Contains(gap, " — ")
}

// acronymDef is an acronym the item spells out: "Azure Resource Manager
// (ARM)"; tok is the acronym's token in field f.
type acronymDef struct {
	f   *field
	tok int
}

// findAcronyms lists, once per item, every "(ACR)" preceded by words whose
// initials spell ACR.
func (d *doc) findAcronyms() []acronymDef {
	if d.defsDone {
		return d.defs
	}
	d.defsDone = true
	out := d.defs[:0]
	for _, g := range d.fields {
		// Parentheses are rare: find them, then the token inside.
		for from := 0; ; {
			p := strings.IndexByte(g.src[from:], '(')
			if p < 0 {
				break
			}
			from += p + 1
			k, found := slices.BinarySearchFunc(g.toks, from, func(t token, pos int) int { return int(t.start) - pos })
			if !found {
				continue
			}
			t := g.toks[k]
			n := int(t.end - t.start)
			if n < 2 || n > 6 || k < n || int(t.end) >= len(g.src) || g.src[t.end] != ')' || !allUpper(g.src[t.start:t.end]) {
				continue
			}
			spelled := true
			for i := range n {
				if g.src[g.toks[k-n+i].start]|0x20 != g.src[int(t.start)+i]|0x20 {
					spelled = false
					break
				}
			}
			if spelled {
				out = append(out, acronymDef{g, k})
			}
		}
	}
	d.defs = out
	return out
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// redefined reports whether the item defines the acronym matched by h as
// something else: "Azure Resource Manager (ARM)" makes every "ARM" of
// the item that, not the company Arm — but "Hewlett Packard Enterprise
// (HPE)" defines HPE as itself.
func (d *doc) redefined(f *field, h hit) bool {
	if h.end-h.start != 1 {
		return false
	}
	acr := f.src[f.toks[h.start].start:f.toks[h.start].end]
	if len(acr) < 2 || len(acr) > 6 || !allUpper(acr) {
		return false
	}
	for _, def := range d.findAcronyms() {
		g, k := def.f, def.tok
		if g.src[g.toks[k].start:g.toks[k].end] != acr {
			continue
		}
		if !slices.ContainsFunc(g.ents, func(e hit) bool { return e.start < k && e.end > k-len(acr) && e.entry == h.entry }) {
			return true
		}
	}
	return false
}

func (d *doc) companies() {
	// Evidence is kept for the first three mentions of each name.
	counts := d.scratch.counts[:0]
	defer func() { d.scratch.counts = counts[:0] }()
	for _, f := range d.fields {
		for _, h := range f.ents {
			if k := d.c.kinds[h.entry]; k != kSignatory && k != kCompany {
				continue
			}
			e := &d.c.entries[h.entry]
			if e.kind == kSignatory && !d.published.IsZero() && d.published.Before(e.joined) {
				continue
			}
			if f.outlet(h) || d.redefined(f, h) {
				continue
			}
			i := slices.IndexFunc(counts, func(s seen) bool { return s.k == e.kind && s.name == e.name })
			if i < 0 {
				i = len(counts)
				counts = append(counts, seen{k: e.kind, name: e.name})
				if e.kind == kSignatory {
					d.tags.Signatories = append(d.tags.Signatories, e.name)
				} else {
					d.tags.Companies = append(d.tags.Companies, e.name)
				}
			}
			if counts[i].n < 3 {
				if e.kind == kSignatory {
					d.evidence(e.tag, f, h.start, h.end, "dictionary:signatory")
				} else {
					d.evidence(e.tag, f, h.start, h.end, "dictionary:company")
				}
			}
			counts[i].n++
		}
	}
}

// --- actors ---

// actorMention is one actor found in a field.
type actorMention struct {
	f          *field
	start, end int
	name       string
	country    string
	rule       string
	tag        string // "actor:"+name when known in advance, else ""
}

// familyStop are words that precede "Typhoon", "Blizzard"... in weather
// news and never start an actor name.
var familyStop = wordSet([]string{"the", "a", "an", "this", "that", "super", "tropical", "winter", "snow", "heavy", "massive", "major", "deadly", "severe", "huge", "great", "big", "powerful", "strong", "violent", "christmas", "desert", "dust", "sand", "ice", "freak", "new", "another", "latest", "and", "or", "of", "eurofighter", "sleet", "rain"})

func (d *doc) actorMentions() []actorMention {
	out := d.mentions[:0]
	for _, f := range d.fields {
		for _, h := range f.ents {
			if k := d.c.kinds[h.entry]; k != kActor && k != kFamily {
				continue
			}
			e := &d.c.entries[h.entry]
			switch e.kind {
			case kActor:
				out = append(out, actorMention{f, h.start, h.end, e.name, e.country, "dictionary:actor", e.tag})
			case kFamily:
				// "<Word> Typhoon": the word before must be capitalised.
				i := h.start - 1
				if i < 0 || f.covered[i] || f.toks[i].sent != f.toks[h.start].sent || familyStop[f.norm(i)] {
					continue
				}
				w := f.src[f.toks[i].start:f.toks[i].end]
				r, _ := utf8.DecodeRuneInString(w)
				if !unicode.IsUpper(r) || f.toks[i].end+1 != f.toks[h.start].start {
					continue
				}
				name := titleWord(f.norm(i)) + " " + e.name
				out = append(out, actorMention{f, i, h.end, name, e.country, e.famRule, ""})
			}
		}
		out = clusterMentions(out, f)
	}
	return out
}

// clusterMentions finds vendor cluster names by token shape: UNC1234,
// TA505, UAT-9686, Storm-1849, DEV-0586, APT99.
func clusterMentions(out []actorMention, f *field) []actorMention {
	toks, lower := f.toks, f.lower
	for i := range toks {
		t := &toks[i]
		// Every shape has a digit at the end of this word or the start of
		// the next: a cheap, rarely true test first.
		endDigit := lower[t.ne-1]-'0' < 10
		if !endDigit && (i+1 == len(toks) || lower[toks[i+1].ns]-'0' >= 10) {
			continue
		}
		if f.covered[i] || t.ne-t.ns < 3 {
			continue
		}
		switch f.lower[t.ns] {
		case 'u', 't', 'a', 'd', 's':
		default:
			continue
		}
		norm := f.norm(i)
		if last := norm[len(norm)-1]; last >= '0' && last <= '9' {
			for _, p := range [...]string{"unc", "ta", "apt", "uat", "tag"} {
				rest, ok := strings.CutPrefix(norm, p)
				// TA0001–TA0043 are MITRE ATT&CK tactic IDs, not Proofpoint's
				// TA-numbered actors (TA453, TA505, TA4557).
				if p == "ta" && strings.HasPrefix(rest, "00") {
					continue
				}
				if ok && len(rest) >= 2 && digits(rest) {
					// A copy: norm views the field's scratch (tokenize),
					// and has small letters (its prefix) for ToUpper to change.
					out = append(out, actorMention{f, i, i + 1, strings.ToUpper(norm), "", "shape:cluster", ""})
				}
			}
			continue
		}
		if i+1 < len(f.toks) && !f.covered[i+1] && f.toks[i+1].sent == t.sent && f.toks[i+1].start-t.end <= 1 {
			n := f.norm(i + 1)
			switch {
			case (norm == "storm" || norm == "dev") && len(n) == 4 && digits(n):
				out = append(out, actorMention{f, i, i + 2, titleWord(norm) + "-" + n, "", "shape:cluster", ""})
			case (norm == "uat" || norm == "unc" || norm == "tag") && len(n) >= 2 && digits(n):
				out = append(out, actorMention{f, i, i + 2, strings.ToUpper(norm) + "-" + n, "", "shape:cluster", ""})
			}
		}
	}
	return out
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (d *doc) actors() {
	for _, m := range d.mentions {
		if !slices.Contains(d.tags.Actors, m.name) {
			d.tags.Actors = append(d.tags.Actors, m.name)
			tag := m.tag
			if tag == "" {
				tag = "actor:" + m.name
			}
			d.evidence(tag, m.f, m.start, m.end, m.rule)
		}
	}
}

// --- attribution ---

type signal struct {
	state      string
	strength   string
	f          *field
	start, end int
	rule       string
}

var strengthRank = map[string]int{accordwatch.StrengthSuspected: 1, accordwatch.StrengthLinked: 2, accordwatch.StrengthAttributed: 3}

// suffixStrength: "<Country>-linked", "-backed", ...; "-based" is a
// location and deliberately absent.
var suffixStrength = map[string]string{
	"linked": accordwatch.StrengthLinked, "tied": accordwatch.StrengthLinked, "nexus": accordwatch.StrengthLinked,
	"affiliated": accordwatch.StrengthLinked, "connected": accordwatch.StrengthLinked,
	"backed": accordwatch.StrengthAttributed, "sponsored": accordwatch.StrengthAttributed,
	"aligned": accordwatch.StrengthAttributed, "directed": accordwatch.StrengthAttributed, "funded": accordwatch.StrengthAttributed,
}

// victimBefore marks a country named as the target ("attacks on Ukraine").
var victimBefore = wordSet([]string{"on", "against", "targeting", "targeted", "targets", "target", "at", "hit", "hitting", "attacking", "attacked", "into", "inside", "within", "across", "monitoring", "toward", "towards", "breached", "infiltrated", "infiltrating"})

// Verbs that make a country (or capital) the actor: "Russia launches...".
var stateVerbs = wordSet([]string{"launches", "launched", "launch", "launching", "steals", "stole", "stealing", "steal", "hacked", "hacks", "hack", "using", "uses", "used", "targets", "targeted", "targeting", "infiltrated", "infiltrates", "infiltrating", "spied", "spies", "spying", "attacked", "breached", "compromised", "behind", "exploits", "exploited", "exploiting", "deploys", "deployed", "deploying", "conducted", "conducts", "waged", "wages", "orchestrated", "hijacked"})

// stateSuspected: "Russia is suspected of", and a state denying or
// denouncing an accusation, which reports the accusation ("North Korea
// has denounced the 'cyber threat theory'", "China denies hacking").
var stateSuspected = wordSet([]string{"suspected", "accused", "blamed", "denies", "denied", "deny", "denounced", "denounces", "rejects", "rejected", "dismissed", "dismisses"})
var stateFillers = wordSet([]string{"is", "are", "was", "were", "has", "have", "had", "been", "being", "reportedly", "allegedly", "likely", "also", "again", "now", "still", "continues", "continue", "continued", "to", "apparently", "actively", "quietly", "itself"})

func (d *doc) attribution() {
	// A state-linked group that is itself the victim of a leak or hack
	// ("Kimsuky data breach") makes its nationality cues describe a victim.
	mentions := d.mentions
	leakVictim := false
	for _, m := range mentions {
		if _, ok := m.f.cueAfter(cueLeakVictim, m.end, 2, m.f.toks[m.start].sent); ok && m.country != "" {
			leakVictim = true
		}
	}
	sigs := d.sigs[:0]
	for _, f := range d.fields {
		sigs = d.stateSignals(sigs, f, leakVictim)
		sigs = d.explicitSignals(sigs, f)
	}
	defer func() { d.sigs = sigs[:0] }()
	if !leakVictim {
		for _, m := range mentions {
			if m.country != "" {
				sigs = append(sigs, signal{m.country, accordwatch.StrengthAttributed, m.f, m.start, m.end, "actor-on-record"})
			}
		}
	}
	// Drop signals in sentences that deny or leave attribution open.
	kept := sigs[:0]
	for _, s := range sigs {
		if !s.f.negated(s.f.toks[s.start].sent) {
			kept = append(kept, s)
		}
	}
	sigs = kept
	if len(sigs) == 0 {
		return
	}
	// Order: title first, then by position, then as found. Sorting an
	// index keeps the swaps cheap.
	order := d.order[:0]
	for i := range sigs {
		order = append(order, int32(i))
	}
	d.order = order
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &sigs[a], &sigs[b]
		if x.f != y.f {
			if x.f == d.fields[0] {
				return -1
			}
			return 1
		}
		if x.start != y.start {
			return x.start - y.start
		}
		return int(a - b)
	})
	d.tags.StateLinked = true
	first := sigs[order[0]]
	d.evidence("state_linked:true", first.f, first.start, first.end, first.rule)
	reporters := d.reporters()
	// Evidence per state is capped: a long text repeating "Chinese hackers"
	// explains nothing more with its tenth repetition.
	const maxEvidence = 3
	var evCount [8]int
	unnamed := -1
	for _, o := range order {
		s := &sigs[o]
		i := slices.IndexFunc(d.tags.Attribution, func(a accordwatch.Attribution) bool { return a.State == s.state })
		if i >= 0 {
			a := &d.tags.Attribution[i]
			if strengthRank[s.strength] > strengthRank[a.Strength] {
				a.Strength = s.strength
			}
			if a.By == "" {
				a.By = byFor(reporters, s)
			}
			if (s.rule != first.rule || s.state != "") && (i >= len(evCount) || evCount[i] < maxEvidence) {
				d.evidence(d.c.stateTag(s.state), s.f, s.start, s.end, s.rule)
				if i < len(evCount) {
					evCount[i]++
				}
			}
			continue
		}
		if s.state == "" {
			unnamed = len(d.tags.Attribution)
		}
		if n := len(d.tags.Attribution); n < len(evCount) {
			evCount[n] = 1
		}
		d.tags.Attribution = append(d.tags.Attribution, accordwatch.Attribution{State: s.state, Strength: s.strength, By: byFor(reporters, s)})
		if s.state != "" {
			d.tags.States = append(d.tags.States, s.state)
		}
		d.evidence(d.c.stateTag(s.state), s.f, s.start, s.end, s.rule)
	}
	// An unnamed state adds nothing once a named one is known.
	if unnamed >= 0 && len(d.tags.States) > 0 {
		d.tags.Attribution = slices.Delete(d.tags.Attribution, unnamed, unnamed+1)
	}
}

func (c *Classifier) stateTag(state string) string {
	if state == "" {
		return "state_linked:true"
	}
	if t, ok := c.stateTags[state]; ok {
		return t
	}
	return "state:" + state
}

// stateSignals applies the country, demonym, capital and agency rules.
func (d *doc) stateSignals(out []signal, f *field, leakVictim bool) []signal {
	for _, h := range f.ents {
		if k := d.c.kinds[h.entry]; k < kCountry || k > kAgency {
			continue
		}
		e := &d.c.entries[h.entry]
		if !e.attributable {
			continue
		}
		i, j := h.start, h.end
		sent := f.toks[i].sent
		prev := func(k int) string {
			if i-k < 0 || f.toks[i-k].sent != sent {
				return ""
			}
			return f.norm(i - k)
		}
		if prev(1) == "pro" { // "pro-Russian hacktivists" are not the state
			continue
		}
		if victimBefore[prev(1)] || (victimBefore[prev(2)] && (prev(1) == "the" || prev(1) == "a")) {
			continue
		}
		add := func(strength string, end int, rule string) {
			out = append(out, signal{e.country, strength, f, i, end, rule})
		}
		if e.kind == kAgency {
			add(accordwatch.StrengthAttributed, j, "state-agency")
			continue
		}
		// "<Country>-linked", "Kremlin-backed", "Russian-linked".
		if j < len(f.toks) && f.toks[j].sent == sent && f.toks[j].start-f.toks[j-1].end <= 1 {
			if st, ok := suffixStrength[f.norm(j)]; ok {
				_, crim := f.cueAfter(cueCriminal, j+1, 2, sent)
				_, person := f.cueAfter(cueIndividual, j+1, 0, sent) // "Kremlin-connected oligarch"
				if !crim && !person {
					add(st, j+1, "state-suffix")
				}
				continue
			}
		}
		// "linked to Russia", "on behalf of Kremlin-backed", "thought to be Russia's".
		gap := 1
		if p := prev(1); p == "the" || p == "a" || p == "an" {
			gap = 2
		}
		// "a suspected Russian hacker", "the accused Chinese national": the
		// cue is about one person, not a state.
		if _, person := f.cueAfter(cueIndividual, j, 0, sent); person && e.kind == kDemonym {
			if _, st := f.cueAfter(cueNatState, j, 0, sent); !st {
				continue
			}
		}
		if c, ok := f.cueBefore(cueAttribAttributed, i, gap-1); ok {
			out = append(out, signal{e.country, accordwatch.StrengthAttributed, f, c.start, j, "state-attributed-to"})
			continue
		}
		if c, ok := f.cueBefore(cueAttribLinked, i, gap-1); ok {
			out = append(out, signal{e.country, accordwatch.StrengthLinked, f, c.start, j, "state-linked-to"})
			continue
		}
		if c, ok := f.cueBefore(cueAttribSuspected, i, gap-1); ok {
			out = append(out, signal{e.country, accordwatch.StrengthSuspected, f, c.start, j, "state-suspected"})
			continue
		}
		if e.kind == kCountry || e.kind == kCapital {
			if s, ok := d.stateAsActor(f, e, i, j, sent); ok {
				out = append(out, s)
				continue
			}
		}
		if (e.kind == kDemonym || e.kind == kCapital) && !leakVictim {
			window := 3
			if e.kind == kCapital {
				window = 0
			}
			if s, ok := d.nationality(f, e, i, j, sent, window); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// stateAsActor: "Russia reportedly launches...", "Russia is suspected of",
// "North Korea's cyber operations", "China's Ink Dragon".
func (d *doc) stateAsActor(f *field, e *centry, i, j int, sent int32) (signal, bool) {
	for k := j; k < len(f.toks) && k <= j+3 && f.toks[k].sent == sent; k++ {
		w := f.norm(k)
		switch {
		case stateVerbs[w]:
			return signal{e.country, accordwatch.StrengthAttributed, f, i, k + 1, "state-as-actor"}, true
		case stateSuspected[w]:
			return signal{e.country, accordwatch.StrengthSuspected, f, i, k + 1, "state-suspected"}, true
		case w == "s" && k == j:
			for _, cue := range [...]int{cueNatState, cueNatIntrusion} {
				if c, ok := f.cueAfter(cue, k+1, 2, sent); ok {
					return signal{e.country, accordwatch.StrengthAttributed, f, i, c.end, "state-possessive"}, true
				}
			}
			for _, h := range f.entsAt(k + 1) {
				if d.c.kinds[h.entry] == kActor {
					return signal{e.country, accordwatch.StrengthAttributed, f, i, h.end, "state-possessive"}, true
				}
			}
			return signal{}, false
		case stateFillers[w]:
			continue
		default:
			return signal{}, false
		}
	}
	return signal{}, false
}

// nationality: "Chinese state-backed hackers", "Chinese hacking campaign",
// "Russian link suspected" — unless the sentence is about crime or one
// person ("a Russian citizen").
func (d *doc) nationality(f *field, e *centry, i, j int, sent int32, window int) (signal, bool) {
	if ind, ok := f.cueAfter(cueIndividual, j, 0, sent); ok {
		longer := false
		for _, cue := range [...]int{cueNatState, cueNatIntrusion} {
			if c, ok := f.cueAfter(cue, j, 0, sent); ok && c.end > ind.end {
				longer = true
			}
		}
		if !longer {
			return signal{}, false
		}
	}
	if _, crim := f.cueWithin(cueCriminal, i, j, 8, sent); crim {
		return signal{}, false
	}
	for _, r := range [...]struct {
		cue            int
		strength, rule string
	}{
		{cueNatState, accordwatch.StrengthAttributed, "nationality-state"},
		{cueNatIntrusion, accordwatch.StrengthLinked, "nationality-intrusion"},
		{cueNatLink, accordwatch.StrengthSuspected, "nationality-link"},
	} {
		if c, ok := f.cueAfter(r.cue, j, window, sent); ok {
			return signal{e.country, r.strength, f, i, c.end, r.rule}, true
		}
	}
	for _, k := range [...]int{j, j + 1} {
		for _, h := range f.entsAt(k) {
			if d.c.kinds[h.entry] == kActor {
				return signal{e.country, accordwatch.StrengthAttributed, f, i, h.end, "nationality-actor"}, true
			}
		}
	}
	return signal{}, false
}

// explicitSignals: "state-sponsored", "nation-state", "government-backed",
// with the country named just before when there is one.
func (d *doc) explicitSignals(out []signal, f *field) []signal {
	for _, c := range f.cues[cueStateExplicit] {
		sent := f.toks[c.start].sent
		if _, generic := f.cueBefore(cueGenericBefore, c.start, 1); generic {
			continue
		}
		state, start := "", c.start
		// The nearest state name ending at most 4 tokens before the cue.
		k := searchHits(f.ents, c.start, false)
		for k--; k >= 0 && f.ents[k].start >= c.start-12; k-- {
			h := f.ents[k]
			if k := d.c.kinds[h.entry]; k < kCountry || k > kCapital {
				continue
			}
			e := &d.c.entries[h.entry]
			if !e.attributable {
				continue
			}
			if h.end <= c.start && c.start-h.end <= 4 && f.toks[h.start].sent == sent {
				state, start = e.country, h.start
				break
			}
		}
		out = append(out, signal{state, accordwatch.StrengthAttributed, f, start, c.end, "state-explicit"})
	}
	return out
}

// reporter is an organisation or country that the text presents as the
// source of a finding ("Microsoft said", "according to Mandiant").
type reporter struct {
	name string
	f    *field
	sent int32
	pos  int
}

// reporters finds them once per item (into pooled storage).
func (d *doc) reporters() []reporter {
	if d.repsDone {
		return d.reps
	}
	d.repsDone = true
	out := d.reps[:0]
	defer func() { d.reps = out }()
	for _, f := range d.fields {
		for _, h := range f.ents {
			k := d.c.kinds[h.entry]
			if k != kSignatory && k != kCompany && k != kOrg && k != kCountry && k != kDemonym {
				continue
			}
			e := &d.c.entries[h.entry]
			if (k == kCountry || k == kDemonym) && e.attributable {
				continue
			}
			sent := f.toks[h.start].sent
			_, after := f.cueAfter(cueReportVerb, h.end, 2, sent)
			_, before := f.cueBefore(cueAccordingTo, h.start, 1)
			if after || before {
				out = append(out, reporter{e.name, f, sent, h.start})
			}
		}
	}
	return out
}

func byFor(reps []reporter, s *signal) string {
	sent := s.f.toks[s.start].sent
	for _, r := range reps {
		if r.f == s.f && r.sent == sent && r.name != s.state {
			return r.name
		}
	}
	for _, r := range reps {
		if r.name != s.state {
			return r.name
		}
	}
	return ""
}

// --- roles ---

// rolePriority orders the role cue lists: at equal distance the first wins.
var rolePriority = [...]struct {
	role string
	cue  int
}{{"vendor", cueRoleVendor}, {"victim", cueRoleVictim}, {"responder", cueRoleResponder}, {"reporter", cueRoleReporter}}

// roleDist is how far (in tokens) a role cue may stand from the name.
const roleDist = 6

func (d *doc) roles() {
	if len(d.tags.Signatories) == 0 {
		return
	}
	d.tags.Roles = make(map[string]string, len(d.tags.Signatories))
	found := d.scratch.found[:0]
	for range d.tags.Signatories {
		found = append(found, roleFound{role: -1, dist: roleDist + 1})
	}
	d.scratch.found = found
	tags := make([]*[len(rolePriority)]string, 0, 8)
	for range d.tags.Signatories {
		tags = append(tags, nil)
	}
	for _, f := range d.fields {
		for _, h := range f.ents {
			if d.c.kinds[h.entry] != kSignatory {
				continue
			}
			e := &d.c.entries[h.entry]
			si := slices.Index(d.tags.Signatories, e.name)
			if si < 0 {
				continue
			}
			tags[si] = e.roleTags
			sent := f.toks[h.start].sent
			for r, rp := range rolePriority {
				if c, ok := f.cueBefore(rp.cue, h.start, roleDist); ok && h.start-c.end < found[si].dist {
					found[si] = roleFound{r, h.start - c.end, f, c.start, c.end}
				}
				if c, ok := f.cueAfter(rp.cue, h.end, roleDist, sent); ok && c.start-h.end < found[si].dist {
					found[si] = roleFound{r, c.start - h.end, f, c.start, c.end}
				}
			}
		}
	}
	for i, s := range d.tags.Signatories {
		b := found[i]
		if b.f == nil {
			d.tags.Roles[s] = "reporter"
			d.derived(roleTag(tags[i], s, roleReporter), "role-default")
			continue
		}
		role := rolePriority[b.role].role
		d.tags.Roles[s] = role
		d.evidence(roleTag(tags[i], s, b.role), b.f, b.start, b.end, roleRules[b.role])
	}
}

// roleTag is "role:<signatory>:<role>", from the entry's strings when known.
func roleTag(tags *[len(rolePriority)]string, s string, r int) string {
	if tags != nil {
		return tags[r]
	}
	return "role:" + s + ":" + rolePriority[r].role
}

// roleReporter is the index of "reporter" in rolePriority.
var roleReporter = slices.IndexFunc(rolePriority[:], func(rp struct {
	role string
	cue  int
}) bool {
	return rp.role == "reporter"
})

// roleRules are the rules of role evidence, by rolePriority index.
var roleRules = func() (t [len(rolePriority)]string) {
	for i, rp := range rolePriority {
		t[i] = "role-" + rp.role
	}
	return t
}()

// --- attack types ---

func (d *doc) attackTypes() {
	const n = len(attackTypes)
	var score [n]int
	var firstAt [n]int // order of first appearance, title first
	type where struct {
		f          *field
		start, end int
	}
	var firstHit [n]where
	var titleScore [n]int
	for i := range firstAt {
		firstAt[i] = -1
	}
	order, titleTakedown := 0, 0
	for _, f := range d.fields {
		mult := 1
		if f.name == "title" {
			mult = 2
		}
		for _, h := range f.attacks {
			e := &d.c.entries[h.entry]
			score[e.typ] += e.weight * mult
			if mult == 2 {
				titleScore[e.typ] += e.weight
			}
			if f.name == "title" && e.name == accordwatch.AttackTakedown {
				titleTakedown++
			}
			if firstAt[e.typ] < 0 {
				firstAt[e.typ] = order
				firstHit[e.typ] = where{f, h.start, h.end}
				order++
			}
		}
	}
	// An explicit "not caused by a cyber attack" settles it.
	for _, f := range d.fields {
		if c, ok := firstCue(f, cueNotAttack); ok {
			d.tags.AttackTypes = []string{accordwatch.AttackNone}
			d.evidence("attack:"+accordwatch.AttackNone, f, c.start, c.end, "not-attack")
			return
		}
	}
	esp := slices.Index(attackTypes[:], accordwatch.AttackEspionage)
	// State-linked intrusions without another type are espionage.
	if d.tags.StateLinked && score[esp] == 0 {
		for _, f := range d.fields {
			if c, ok := firstCue(f, cueNatIntrusion); ok {
				score[esp] += 2
				if firstAt[esp] < 0 {
					firstAt[esp] = order
					firstHit[esp] = where{f, c.start, c.end}
					order++
				}
				break
			}
		}
	}
	// Arrests, charges, sanctions and seizures in the headline are the
	// event, whatever the attack they answer.
	takedown := slices.Index(attackTypes[:], accordwatch.AttackTakedown)
	if titleTakedown > 0 {
		score[takedown] += 100
	}
	types := make([]int, 0, n)
	for t := range score {
		if firstAt[t] >= 0 {
			types = append(types, t)
		}
	}
	slices.SortFunc(types, func(a, b int) int {
		if score[a] != score[b] {
			return score[b] - score[a]
		}
		return firstAt[a] - firstAt[b]
	})
	policy := slices.Index(attackTypes[:], accordwatch.AttackPolicy)
	none := slices.Index(attackTypes[:], accordwatch.AttackNone)
	concrete := func(t int) bool { return t != policy && t != none && t != takedown }
	var ruleFor [n]string
	// State-linked activity that the item frames as a report or warning
	// ("report", "warns", "cyber threat") or leaves untyped ("launched a
	// cyber attack", "targets ... with custom malware") is espionage —
	// unless the headline names another concrete type ("zero-day").
	if d.tags.StateLinked && (len(types) == 0 || types[0] == policy) {
		pick, rule := -1, ""
		for _, t := range types {
			if concrete(t) && titleScore[t] > 0 {
				pick, rule = t, "state-linked-headline-type"
				break
			}
		}
		if pick < 0 && score[esp] > 0 {
			pick, rule = esp, "state-linked-espionage"
		}
		if pick < 0 {
			for _, f := range d.fields {
				if c, ok := firstCue(f, cueAttackGeneric); ok {
					if firstAt[esp] < 0 {
						firstAt[esp] = order
						firstHit[esp] = where{f, c.start, c.end}
						order++
					}
					pick, rule = esp, "state-linked-activity"
					break
				}
			}
		}
		if pick >= 0 {
			types = slices.Insert(slices.DeleteFunc(types, func(t int) bool { return t == pick }), 0, pick)
			ruleFor[pick] = rule
		}
	}
	if len(types) == 0 {
		for _, f := range d.fields {
			if c, ok := firstCue(f, cueAttackGeneric); ok {
				d.tags.AttackTypes = []string{accordwatch.AttackPolicy}
				d.evidence("attack:"+accordwatch.AttackPolicy, f, c.start, c.end, "attack-unspecified")
				return
			}
		}
		d.tags.AttackTypes = []string{accordwatch.AttackNone}
		d.derived("attack:"+accordwatch.AttackNone, "no-attack-keywords")
		return
	}
	primary := types[0]
	chosen := []int{primary}
	for _, t := range types[1:] {
		if len(chosen) == 3 || score[t] < 3 {
			break
		}
		name, pname := attackTypes[t], attackTypes[primary]
		if name == accordwatch.AttackNone || pname == accordwatch.AttackNone && (name == accordwatch.AttackPolicy || name == accordwatch.AttackTakedown) {
			continue
		}
		chosen = append(chosen, t)
	}
	d.tags.AttackTypes = make([]string, len(chosen))
	for i, t := range chosen {
		name := attackTypes[t]
		d.tags.AttackTypes[i] = name
		w := firstHit[t]
		rule := "keyword:" + name + "(score " + strconv.Itoa(score[t]) + ")"
		if t == takedown && titleTakedown > 0 {
			rule = "takedown-headline"
		}
		if r := ruleFor[t]; r != "" && i == 0 {
			rule = r + "(score " + strconv.Itoa(score[t]) + ")"
		}
		d.evidence(attackTags[t], w.f, w.start, w.end, rule)
	}
}

func firstCue(f *field, cue int) (hit, bool) {
	if hs := f.cues[cue]; len(hs) > 0 {
		return hs[0], true
	}
	return hit{}, false
}

func (d *doc) anyCue(cue int) (*field, hit, bool) {
	for _, f := range d.fields {
		if c, ok := firstCue(f, cue); ok {
			return f, c, true
		}
	}
	return nil, hit{}, false
}

// --- principles ---

func (d *doc) principles() {
	primary := d.tags.AttackTypes[0]
	isAttack := primary != accordwatch.AttackNone && primary != accordwatch.AttackPolicy && primary != accordwatch.AttackTakedown
	_, _, business := d.anyCue(cueBusiness)
	var ps []accordwatch.Principle
	add := func(p accordwatch.Principle) { ps = append(ps, p) }

	// stronger-defense: a company's users or products attacked, breached,
	// patched — or the story's victims are hit by a concrete attack.
	sd := false
	for _, s := range d.tags.Signatories {
		if r := d.tags.Roles[s]; (r == "victim" || r == "vendor") && isAttack {
			d.derived("principle:"+string(accordwatch.StrongerDefense), "signatory-"+r+":"+s)
			sd = true
			break
		}
	}
	// Victims alone count when they are a company's users or systems: not
	// when the story is about government bodies, courts, councils or
	// universities and names no company, business or product.
	_, _, public := d.anyCue(cuePublicVictim)
	_, _, private := d.anyCue(cuePrivateVictim)
	public = public && !private && len(d.tags.Signatories) == 0 && len(d.tags.Companies) == 0 && primary != accordwatch.AttackVulnerability
	if !sd && isAttack && !public && primary != accordwatch.AttackEspionage && primary != accordwatch.AttackInfluence {
		if f, c, ok := d.anyCue(cueVictimImpact); ok {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), f, c.start, c.end, "victims-impacted")
			sd = true
		}
	}
	if sd {
		add(accordwatch.StrongerDefense)
	}

	// no-offense: every state-linked item, and tools that aid state attacks.
	if d.tags.StateLinked {
		d.derived("principle:"+string(accordwatch.NoOffense), "state-linked")
		add(accordwatch.NoOffense)
	} else if f, c, ok := d.anyCue(cueSpyware); ok {
		d.evidence("principle:"+string(accordwatch.NoOffense), f, c.start, c.end, "offensive-tooling")
		add(accordwatch.NoOffense)
	}

	// capacity-building: research, advisories, guidance, patches — not
	// funding rounds or product marketing.
	if !business || isAttack {
		// Guidance, advisories, tooling count on their own; research words
		// ("researchers", "detected", "a report") only in the headline
		// ("…, Permiso Research Finds") or when a named company or
		// organisation is the source: a vendor's research, not a news
		// story's passing "researchers say".
		if primary != accordwatch.AttackTakedown {
			if f, c, ok := d.anyCue(cueCapacity); ok {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "defender-guidance")
				add(accordwatch.CapacityBuilding)
			} else if f, c, ok := d.anyCue(cueCapacityResearch); ok && (f == d.fields[0] || len(d.reporters()) > 0) {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "published-research")
				add(accordwatch.CapacityBuilding)
			}
		}
	}

	// collective-action: joint operations, coordinated advisories,
	// sanctions with partners, information sharing.
	if f, c, ok := d.anyCue(cueCollective); ok {
		d.evidence("principle:"+string(accordwatch.CollectiveAction), f, c.start, c.end, "joint-action")
		add(accordwatch.CollectiveAction)
	}
	d.tags.Principles = ps
}

// --- severity ---

// severityTags are "severity:+<n>" for the factors' sizes.
var severityTags = func() (t [101]string) {
	for n := range t {
		t[n] = "severity:+" + strconv.Itoa(n)
	}
	return t
}()

func severityTag(n int) string {
	if n >= 0 && n < len(severityTags) {
		return severityTags[n]
	}
	return "severity:+" + strconv.Itoa(n)
}

// attackTags are "attack:<type>", by index in attackTypes.
var attackTags = func() (t [len(attackTypes)]string) {
	for i, a := range attackTypes {
		t[i] = "attack:" + a
	}
	return t
}()

var typeSeverity = map[string]int{
	accordwatch.AttackRansomware: 15, accordwatch.AttackWiper: 20, accordwatch.AttackSupplyChain: 15,
	accordwatch.AttackDataBreach: 10, accordwatch.AttackEspionage: 10, accordwatch.AttackDDoS: 10,
	accordwatch.AttackVulnerability: 10, accordwatch.AttackPhishing: 5, accordwatch.AttackFraud: 5,
	accordwatch.AttackInfluence: 5,
}

func (d *doc) severity() {
	primary := d.tags.AttackTypes[0]
	if primary == accordwatch.AttackNone {
		d.derived("severity:0", "not-an-attack")
		return
	}
	total := 0
	factor := func(n int, f *field, c hit, rule string) {
		total += n
		tag := severityTag(n)
		if f == nil {
			d.derived(tag, rule)
			return
		}
		d.evidence(tag, f, c.start, c.end, rule)
	}
	if n := typeSeverity[primary]; n > 0 {
		factor(n, nil, hit{}, "attack-type:"+primary)
	}
	if d.tags.StateLinked {
		factor(30, nil, hit{}, "state-linked")
	}
	if len(d.tags.Signatories) > 0 {
		n := 10
		for _, r := range d.tags.Roles {
			if r == "victim" || r == "vendor" {
				n = 20
			}
		}
		factor(n, nil, hit{}, "signatory-involved")
	}
	for _, x := range [...]struct {
		cue  int
		n    int
		rule string
	}{{cueCriticalInfra, 15, "critical-infrastructure"}, {cueExploited, 20, "actively-exploited"}, {cueScale, 10, "scale"}} {
		if f, c, ok := d.anyCue(x.cue); ok {
			factor(x.n, f, c, x.rule)
		}
	}
	if total == 0 {
		d.derived("severity:0", "no-factors")
	}
	// The factors always sum to the score: past 100 a named cap says so.
	if total > 100 {
		d.derived("severity:-"+strconv.Itoa(total-100), "cap-at-100")
		total = 100
	}
	d.tags.Severity = total
}
