package classify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// field is one scanned field of an item.
type field struct {
	name    string // "title" or "text"
	src     string
	toks    []token
	ents    []hit            // entity layer
	attacks []hit            // attack keyword layer
	cues    map[string][]hit // by cue name
	covered []bool           // tokens inside an entity hit
}

// doc is the working state of one Classify call.
type doc struct {
	c         *Classifier
	fields    []*field
	published time.Time
	tags      accordwatch.Tags
}

func (c *Classifier) scanField(name, src string) *field {
	f := &field{name: name, src: src, toks: tokenize(src), cues: map[string][]hit{}}
	f.covered = make([]bool, len(f.toks))
	for _, h := range c.m.scan(src, f.toks) {
		switch {
		case h.layer == layerEntity:
			f.ents = append(f.ents, h)
			for k := h.start; k < h.end; k++ {
				f.covered[k] = true
			}
		case h.layer == layerAttack:
			f.attacks = append(f.attacks, h)
		default:
			name := c.entries[h.entry].name
			f.cues[name] = append(f.cues[name], h)
		}
	}
	return f
}

// Classify tags one item. published decides signatory membership: a
// signatory counts only from its join date; a zero time counts them all.
func (c *Classifier) Classify(title, text string, published time.Time) accordwatch.Tags {
	d := &doc{c: c, published: published}
	d.fields = []*field{c.scanField("title", title), c.scanField("text", text)}
	d.companies()
	d.actors()
	d.attribution()
	d.roles()
	d.attackTypes()
	d.principles()
	d.severity()
	t := &d.tags
	for _, s := range []*[]string{&t.Signatories, &t.Companies, &t.States, &t.Actors, &t.AttackTypes} {
		if *s == nil {
			*s = []string{}
		}
	}
	if t.Principles == nil {
		t.Principles = []accordwatch.Principle{}
	}
	if t.Evidence == nil {
		t.Evidence = []accordwatch.Evidence{}
	}
	return *t
}

// --- evidence helpers ---

func (f *field) text(start, end int) string { return f.src[f.toks[start].start:f.toks[end-1].end] }

func (d *doc) evidence(tag string, f *field, start, end int, rule string) {
	d.tags.Evidence = append(d.tags.Evidence, accordwatch.Evidence{
		Tag: tag, Field: f.name, Match: f.text(start, end), Offset: f.toks[start].start, Rule: rule,
	})
}

func (d *doc) derived(tag, rule string) {
	d.tags.Evidence = append(d.tags.Evidence, accordwatch.Evidence{Tag: tag, Field: "tags", Offset: -1, Rule: rule})
}

// --- cue helpers ---

// cueBefore finds a cue hit ending at most gap tokens before pos, in the
// same sentence.
func (f *field) cueBefore(name string, pos, gap int) (hit, bool) {
	if pos >= len(f.toks) || pos < 0 {
		return hit{}, false
	}
	for _, h := range f.cues[name] {
		if h.end <= pos && pos-h.end <= gap && f.toks[h.start].sent == f.toks[pos].sent {
			return h, true
		}
	}
	return hit{}, false
}

// cueAfter finds a cue hit starting at most gap tokens after pos (pos is
// the first token after the subject), in sentence sent.
func (f *field) cueAfter(name string, pos, gap, sent int) (hit, bool) {
	for _, h := range f.cues[name] {
		if h.start >= pos && h.start-pos <= gap && f.toks[h.start].sent == sent {
			return h, true
		}
	}
	return hit{}, false
}

// cueWithin finds a cue hit within dist tokens of [start, end) in sentence sent.
func (f *field) cueWithin(name string, start, end, dist, sent int) (hit, bool) {
	for _, h := range f.cues[name] {
		if f.toks[h.start].sent != sent {
			continue
		}
		if (h.end <= start && start-h.end <= dist) || (h.start >= end && h.start-end <= dist) {
			return h, true
		}
	}
	return hit{}, false
}

func (f *field) negated(sent int) bool {
	for _, h := range f.cues["negation"] {
		if f.toks[h.start].sent == sent {
			return true
		}
	}
	return false
}

// --- companies and signatories ---

func (d *doc) companies() {
	seen := map[string]int{}
	for _, f := range d.fields {
		for _, h := range f.ents {
			e := d.c.entries[h.entry]
			switch e.kind {
			case kSignatory:
				if !d.published.IsZero() && d.published.Before(e.joined) {
					continue
				}
				tag := "signatory:" + e.name
				if seen[tag] == 0 {
					d.tags.Signatories = append(d.tags.Signatories, e.name)
				}
				if seen[tag] < 3 {
					d.evidence(tag, f, h.start, h.end, "dictionary:signatory")
				}
				seen[tag]++
			case kCompany:
				tag := "company:" + e.name
				if seen[tag] == 0 {
					d.tags.Companies = append(d.tags.Companies, e.name)
				}
				if seen[tag] < 3 {
					d.evidence(tag, f, h.start, h.end, "dictionary:company")
				}
				seen[tag]++
			}
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
}

// familyStop are words that precede "Typhoon", "Blizzard"... in weather
// news and never start an actor name.
var familyStop = wordSet([]string{"the", "a", "an", "this", "that", "super", "tropical", "winter", "snow", "heavy", "massive", "major", "deadly", "severe", "huge", "great", "big", "powerful", "strong", "violent", "christmas", "desert", "dust", "sand", "ice", "freak", "new", "another", "latest", "and", "or", "of", "eurofighter", "sleet", "rain"})

func (d *doc) actorMentions() []actorMention {
	var out []actorMention
	for _, f := range d.fields {
		for _, h := range f.ents {
			e := d.c.entries[h.entry]
			switch e.kind {
			case kActor:
				out = append(out, actorMention{f, h.start, h.end, e.name, e.country, "dictionary:actor"})
			case kFamily:
				// "<Word> Typhoon": the word before must be capitalised.
				i := h.start - 1
				if i < 0 || f.covered[i] || f.toks[i].sent != f.toks[h.start].sent || familyStop[f.toks[i].norm] {
					continue
				}
				w := f.src[f.toks[i].start:f.toks[i].end]
				r, _ := utf8.DecodeRuneInString(w)
				if !unicode.IsUpper(r) || f.toks[i].end+1 != f.toks[h.start].start {
					continue
				}
				name := titleWord(f.toks[i].norm) + " " + e.name
				out = append(out, actorMention{f, i, h.end, name, e.country, "family:" + strings.ToLower(e.name)})
			}
		}
		out = append(out, clusterMentions(f)...)
	}
	return out
}

// clusterMentions finds vendor cluster names by token shape: UNC1234,
// TA505, UAT-9686, Storm-1849, DEV-0586, APT99.
func clusterMentions(f *field) []actorMention {
	var out []actorMention
	for i, t := range f.toks {
		if f.covered[i] {
			continue
		}
		for _, p := range []string{"unc", "ta", "apt", "uat", "tag"} {
			rest, ok := strings.CutPrefix(t.norm, p)
			// TA0001–TA0043 are MITRE ATT&CK tactic IDs, not Proofpoint's
			// TA-numbered actors (TA453, TA505, TA4557).
			if p == "ta" && strings.HasPrefix(rest, "00") {
				continue
			}
			if ok && len(rest) >= 2 && digits(rest) {
				out = append(out, actorMention{f, i, i + 1, strings.ToUpper(t.norm), "", "shape:cluster"})
			}
		}
		if i+1 < len(f.toks) && !f.covered[i+1] && f.toks[i+1].sent == t.sent && f.toks[i+1].start-t.end <= 1 {
			n := f.toks[i+1].norm
			switch {
			case (t.norm == "storm" || t.norm == "dev") && len(n) == 4 && digits(n):
				out = append(out, actorMention{f, i, i + 2, titleWord(t.norm) + "-" + n, "", "shape:cluster"})
			case (t.norm == "uat" || t.norm == "unc" || t.norm == "tag") && len(n) >= 2 && digits(n):
				out = append(out, actorMention{f, i, i + 2, strings.ToUpper(t.norm) + "-" + n, "", "shape:cluster"})
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
	seen := map[string]bool{}
	for _, m := range d.actorMentions() {
		tag := "actor:" + m.name
		if !seen[tag] {
			seen[tag] = true
			d.tags.Actors = append(d.tags.Actors, m.name)
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
var stateSuspected = wordSet([]string{"suspected", "accused", "blamed"})
var stateFillers = wordSet([]string{"is", "are", "was", "were", "has", "have", "had", "been", "being", "reportedly", "allegedly", "likely", "also", "again", "now", "still", "continues", "continue", "continued", "to", "apparently", "actively", "quietly", "itself"})

func (d *doc) attribution() {
	// A state-linked group that is itself the victim of a leak or hack
	// ("Kimsuky data breach") makes its nationality cues describe a victim.
	mentions := d.actorMentions()
	leakVictim := false
	for _, m := range mentions {
		if _, ok := m.f.cueAfter("leak-victim", m.end, 2, m.f.toks[m.start].sent); ok && m.country != "" {
			leakVictim = true
		}
	}
	var sigs []signal
	for _, f := range d.fields {
		sigs = append(sigs, d.stateSignals(f, leakVictim)...)
		sigs = append(sigs, d.explicitSignals(f)...)
	}
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
	slices.SortStableFunc(sigs, func(a, b signal) int {
		if a.f != b.f {
			if a.f.name == "title" {
				return -1
			}
			return 1
		}
		return a.start - b.start
	})
	d.tags.StateLinked = true
	first := sigs[0]
	d.evidence("state_linked:true", first.f, first.start, first.end, first.rule)
	reporters := d.reporters()
	best := map[string]int{}
	for _, s := range sigs {
		tag := "state:" + s.state
		if s.state == "" {
			tag = "state_linked:true"
		}
		if i, ok := best[s.state]; ok {
			a := &d.tags.Attribution[i]
			if strengthRank[s.strength] > strengthRank[a.Strength] {
				a.Strength = s.strength
			}
			if a.By == "" {
				a.By = byFor(reporters, s)
			}
			if s.rule != sigs[0].rule || tag != "state_linked:true" {
				d.evidence(tag, s.f, s.start, s.end, s.rule)
			}
			continue
		}
		best[s.state] = len(d.tags.Attribution)
		d.tags.Attribution = append(d.tags.Attribution, accordwatch.Attribution{State: s.state, Strength: s.strength, By: byFor(reporters, s)})
		if s.state != "" {
			d.tags.States = append(d.tags.States, s.state)
		}
		d.evidence(tag, s.f, s.start, s.end, s.rule)
	}
	// An unnamed state adds nothing once a named one is known.
	if i, ok := best[""]; ok && len(d.tags.States) > 0 {
		d.tags.Attribution = slices.Delete(d.tags.Attribution, i, i+1)
	}
}

// stateSignals applies the country, demonym, capital and agency rules.
func (d *doc) stateSignals(f *field, leakVictim bool) []signal {
	var out []signal
	for _, h := range f.ents {
		e := d.c.entries[h.entry]
		if e.kind < kCountry || e.kind > kAgency || !e.attributable {
			continue
		}
		i, j := h.start, h.end
		sent := f.toks[i].sent
		prev := func(k int) string {
			if i-k < 0 || f.toks[i-k].sent != sent {
				return ""
			}
			return f.toks[i-k].norm
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
			if st, ok := suffixStrength[f.toks[j].norm]; ok {
				if _, crim := f.cueAfter("criminal", j+1, 2, sent); !crim {
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
		if c, ok := f.cueBefore("attrib-attributed", i, gap-1); ok {
			out = append(out, signal{e.country, accordwatch.StrengthAttributed, f, c.start, j, "state-attributed-to"})
			continue
		}
		if c, ok := f.cueBefore("attrib-linked", i, gap-1); ok {
			out = append(out, signal{e.country, accordwatch.StrengthLinked, f, c.start, j, "state-linked-to"})
			continue
		}
		if c, ok := f.cueBefore("attrib-suspected", i, gap-1); ok {
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
func (d *doc) stateAsActor(f *field, e centry, i, j, sent int) (signal, bool) {
	for k := j; k < len(f.toks) && k <= j+3 && f.toks[k].sent == sent; k++ {
		w := f.toks[k].norm
		switch {
		case stateVerbs[w]:
			return signal{e.country, accordwatch.StrengthAttributed, f, i, k + 1, "state-as-actor"}, true
		case stateSuspected[w]:
			return signal{e.country, accordwatch.StrengthSuspected, f, i, k + 1, "state-suspected"}, true
		case w == "s" && k == j:
			for _, name := range []string{"nat-state", "nat-intrusion"} {
				if c, ok := f.cueAfter(name, k+1, 2, sent); ok {
					return signal{e.country, accordwatch.StrengthAttributed, f, i, c.end, "state-possessive"}, true
				}
			}
			for _, h := range f.ents {
				if h.start == k+1 && d.c.entries[h.entry].kind == kActor {
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
func (d *doc) nationality(f *field, e centry, i, j, sent, window int) (signal, bool) {
	if ind, ok := f.cueAfter("individual", j, 0, sent); ok {
		longer := false
		for _, name := range []string{"nat-state", "nat-intrusion"} {
			if c, ok := f.cueAfter(name, j, 0, sent); ok && c.end > ind.end {
				longer = true
			}
		}
		if !longer {
			return signal{}, false
		}
	}
	if _, crim := f.cueWithin("criminal", i, j, 8, sent); crim {
		return signal{}, false
	}
	for _, r := range []struct{ cue, strength, rule string }{
		{"nat-state", accordwatch.StrengthAttributed, "nationality-state"},
		{"nat-intrusion", accordwatch.StrengthLinked, "nationality-intrusion"},
		{"nat-link", accordwatch.StrengthSuspected, "nationality-link"},
	} {
		if c, ok := f.cueAfter(r.cue, j, window, sent); ok {
			return signal{e.country, r.strength, f, i, c.end, r.rule}, true
		}
	}
	for _, h := range f.ents {
		if h.start >= j && h.start-j <= 1 && d.c.entries[h.entry].kind == kActor {
			return signal{e.country, accordwatch.StrengthAttributed, f, i, h.end, "nationality-actor"}, true
		}
	}
	return signal{}, false
}

// explicitSignals: "state-sponsored", "nation-state", "government-backed",
// with the country named just before when there is one.
func (d *doc) explicitSignals(f *field) []signal {
	var out []signal
	for _, c := range f.cues["state-explicit"] {
		sent := f.toks[c.start].sent
		if _, generic := f.cueBefore("generic-before", c.start, 1); generic {
			continue
		}
		state, start := "", c.start
		for _, h := range f.ents {
			e := d.c.entries[h.entry]
			if e.kind < kCountry || e.kind > kCapital || !e.attributable {
				continue
			}
			if h.end <= c.start && c.start-h.end <= 4 && f.toks[h.start].sent == sent {
				state, start = e.country, h.start
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
	sent int
	pos  int
}

func (d *doc) reporters() []reporter {
	var out []reporter
	for _, f := range d.fields {
		for _, h := range f.ents {
			e := d.c.entries[h.entry]
			ok := e.kind == kSignatory || e.kind == kCompany || e.kind == kOrg ||
				((e.kind == kCountry || e.kind == kDemonym) && !e.attributable)
			if !ok {
				continue
			}
			sent := f.toks[h.start].sent
			_, after := f.cueAfter("report-verb", h.end, 2, sent)
			_, before := f.cueBefore("according-to", h.start, 1)
			if after || before {
				out = append(out, reporter{e.name, f, sent, h.start})
			}
		}
	}
	return out
}

func byFor(reps []reporter, s signal) string {
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

var rolePriority = []string{"vendor", "victim", "responder", "reporter"}

func (d *doc) roles() {
	if len(d.tags.Signatories) == 0 {
		return
	}
	d.tags.Roles = map[string]string{}
	type best struct {
		role       string
		dist       int
		f          *field
		start, end int
	}
	found := map[string]best{}
	for _, f := range d.fields {
		for _, h := range f.ents {
			e := d.c.entries[h.entry]
			if e.kind != kSignatory || !slices.Contains(d.tags.Signatories, e.name) {
				continue
			}
			sent := f.toks[h.start].sent
			for _, role := range rolePriority {
				for _, c := range f.cues["role-"+role] {
					if f.toks[c.start].sent != sent {
						continue
					}
					dist := -1
					switch {
					case c.start >= h.end && c.start-h.end <= 6:
						dist = c.start - h.end
					case c.end <= h.start && h.start-c.end <= 6:
						dist = h.start - c.end
					}
					if dist < 0 {
						continue
					}
					if b, ok := found[e.name]; !ok || dist < b.dist {
						found[e.name] = best{role, dist, f, c.start, c.end}
					}
				}
			}
		}
	}
	for _, s := range d.tags.Signatories {
		b, ok := found[s]
		if !ok {
			d.tags.Roles[s] = "reporter"
			d.derived("role:"+s+":reporter", "role-default")
			continue
		}
		d.tags.Roles[s] = b.role
		d.evidence("role:"+s+":"+b.role, b.f, b.start, b.end, "role-"+b.role)
	}
}

// --- attack types ---

func (d *doc) attackTypes() {
	score := map[string]int{}
	firstAt := map[string]int{} // order of first appearance, title first
	type where struct {
		f          *field
		start, end int
	}
	firstHit := map[string]where{}
	order, titleTakedown := 0, 0
	for _, f := range d.fields {
		mult := 1
		if f.name == "title" {
			mult = 2
		}
		for _, h := range f.attacks {
			e := d.c.entries[h.entry]
			score[e.name] += e.weight * mult
			if f.name == "title" && e.name == accordwatch.AttackTakedown {
				titleTakedown++
			}
			if _, ok := firstAt[e.name]; !ok {
				firstAt[e.name] = order
				firstHit[e.name] = where{f, h.start, h.end}
				order++
			}
		}
	}
	// An explicit "not caused by a cyber attack" settles it.
	for _, f := range d.fields {
		if c, ok := firstCue(f, "not-attack"); ok {
			d.tags.AttackTypes = []string{accordwatch.AttackNone}
			d.evidence("attack:"+accordwatch.AttackNone, f, c.start, c.end, "not-attack")
			return
		}
	}
	// State-linked intrusions without another type are espionage.
	if d.tags.StateLinked && score[accordwatch.AttackEspionage] == 0 {
		for _, f := range d.fields {
			if c, ok := firstCue(f, "nat-intrusion"); ok {
				score[accordwatch.AttackEspionage] += 2
				if _, seen := firstHit[accordwatch.AttackEspionage]; !seen {
					firstAt[accordwatch.AttackEspionage] = order
					firstHit[accordwatch.AttackEspionage] = where{f, c.start, c.end}
					order++
				}
				break
			}
		}
	}
	// Arrests, charges, sanctions and seizures in the headline are the
	// event, whatever the attack they answer.
	if titleTakedown > 0 {
		score[accordwatch.AttackTakedown] += 100
	}
	types := make([]string, 0, len(score))
	for t := range score {
		types = append(types, t)
	}
	slices.SortFunc(types, func(a, b string) int {
		if score[a] != score[b] {
			return score[b] - score[a]
		}
		return firstAt[a] - firstAt[b]
	})
	if len(types) == 0 {
		for _, f := range d.fields {
			if c, ok := firstCue(f, "attack-generic"); ok {
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
	d.tags.AttackTypes = []string{primary}
	for _, t := range types[1:] {
		if len(d.tags.AttackTypes) == 3 || score[t] < 3 {
			break
		}
		if t == accordwatch.AttackNone || primary == accordwatch.AttackNone && (t == accordwatch.AttackPolicy || t == accordwatch.AttackTakedown) {
			continue
		}
		d.tags.AttackTypes = append(d.tags.AttackTypes, t)
	}
	for _, t := range d.tags.AttackTypes {
		w := firstHit[t]
		rule := "keyword:" + t + "(score " + strconv.Itoa(score[t]) + ")"
		if t == accordwatch.AttackTakedown && titleTakedown > 0 {
			rule = "takedown-headline"
		}
		d.evidence("attack:"+t, w.f, w.start, w.end, rule)
	}
}

func firstCue(f *field, name string) (hit, bool) {
	if hs := f.cues[name]; len(hs) > 0 {
		return hs[0], true
	}
	return hit{}, false
}

func (d *doc) anyCue(name string) (*field, hit, bool) {
	for _, f := range d.fields {
		if c, ok := firstCue(f, name); ok {
			return f, c, true
		}
	}
	return nil, hit{}, false
}

// --- principles ---

func (d *doc) principles() {
	primary := d.tags.AttackTypes[0]
	isAttack := primary != accordwatch.AttackNone && primary != accordwatch.AttackPolicy && primary != accordwatch.AttackTakedown
	_, _, business := d.anyCue("business")
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
	if !sd && isAttack && primary != accordwatch.AttackEspionage && primary != accordwatch.AttackInfluence {
		if f, c, ok := d.anyCue("victim-impact"); ok {
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
	} else if f, c, ok := d.anyCue("spyware"); ok {
		d.evidence("principle:"+string(accordwatch.NoOffense), f, c.start, c.end, "offensive-tooling")
		add(accordwatch.NoOffense)
	}

	// capacity-building: research, advisories, guidance, patches — not
	// funding rounds or product marketing.
	if !business || isAttack {
		if f, c, ok := d.anyCue("capacity"); ok && primary != accordwatch.AttackTakedown {
			d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "defender-knowledge")
			add(accordwatch.CapacityBuilding)
		}
	}

	// collective-action: joint operations, coordinated advisories,
	// sanctions with partners, information sharing.
	if f, c, ok := d.anyCue("collective"); ok {
		d.evidence("principle:"+string(accordwatch.CollectiveAction), f, c.start, c.end, "joint-action")
		add(accordwatch.CollectiveAction)
	}
	d.tags.Principles = ps
}

// --- severity ---

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
		tag := fmt.Sprintf("severity:+%d", n)
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
	for _, x := range []struct {
		cue  string
		n    int
		rule string
	}{{"critical-infra", 15, "critical-infrastructure"}, {"exploited", 20, "actively-exploited"}, {"scale", 10, "scale"}} {
		if f, c, ok := d.anyCue(x.cue); ok {
			factor(x.n, f, c, x.rule)
		}
	}
	if total == 0 {
		d.derived("severity:0", "no-factors")
	}
	d.tags.Severity = min(total, 100)
}
