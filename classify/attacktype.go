package classify

import (
	"slices"
	"strconv"

	"github.com/accordwatch/accordwatch"
)

// attackTypes is the fixed vocabulary, in the order used to break ties.
var attackTypes = [...]string{
	accordwatch.AttackRansomware, accordwatch.AttackWiper, accordwatch.AttackSupplyChain,
	accordwatch.AttackDDoS, accordwatch.AttackEspionage, accordwatch.AttackDataBreach,
	accordwatch.AttackVulnerability, accordwatch.AttackPhishing, accordwatch.AttackInfluence,
	accordwatch.AttackFraud, accordwatch.AttackTakedown, accordwatch.AttackPolicy, accordwatch.AttackNone,
}

// attackTypes ranks the attack types by their keywords (the title counts
// double; in a roundup only the headline and the lead story count, see
// leadEnd) and picks up to three, the primary first, with the overrides
// for an explicit non-attack, a takedown headline and state-linked activity.
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
	// A multi-story roundup takes the type of its first story.
	lead := d.lead
	for fi, f := range d.fields {
		mult := 1
		if f.name == "title" {
			mult = 2
		}
		for _, h := range f.attacks {
			if fi == 1 && h.start >= lead {
				break
			}
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
	// A sentence saying the event was not an attack settles it.
	for _, f := range d.fields {
		if c, ok := firstCue(f, cueNotAttack); ok {
			d.tags.AttackTypes = []string{accordwatch.AttackNone}
			d.evidence("attack:"+accordwatch.AttackNone, f, c.start, c.end, "not-attack")
			return
		}
	}
	esp := slices.Index(attackTypes[:], accordwatch.AttackEspionage)
	// A headline that reports what someone said, warned or accused frames
	// a statement about attacks, not the attack itself.
	framed := d.headlineFramed()
	// State-linked intrusions by a group without another type are espionage.
	if d.stateByGroup && !framed && score[esp] == 0 {
		for _, f := range d.fields {
			if c, ok := d.leadCue(f, cueNatIntrusion); ok {
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
	// State-linked activity whose keywords say only "report" or "cyber
	// threat" takes a concrete type the headline names ("zero-day"); else
	// it is espionage when the text has espionage words, or when a group
	// (not only a country accused or suspected) does an untyped "cyber
	// attack" in a headline that is not a statement (headlineFramed).
	// A warning or accusation about state attacks stays policy.
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
		if pick < 0 && d.stateByGroup && !framed {
			for _, f := range d.fields {
				if c, ok := d.leadCue(f, cueAttackGeneric); ok {
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
	if len(types) == 0 && d.stateByGroup {
		// A state-linked group in the lead story, and no other type.
		d.tags.AttackTypes = []string{accordwatch.AttackEspionage}
		d.derived("attack:"+accordwatch.AttackEspionage, "state-linked-group")
		return
	}
	if len(types) == 0 {
		if t := d.fields[1]; d.lead < len(t.toks) && len(t.attacks) > 0 {
			// A roundup of attack news whose lead story has no attack
			// word is news about security: policy.
			d.tags.AttackTypes = []string{accordwatch.AttackPolicy}
			d.derived("attack:"+accordwatch.AttackPolicy, "roundup-lead")
			return
		}
		for _, f := range d.fields {
			if c, ok := d.leadCue(f, cueAttackGeneric); ok {
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

// leadEnd is the token where the text's lead story ends: the whole text,
// except in a multi-story roundup (a short headline over a text of at
// least four sentences averaging at most ten words, one story each), where
// it is the first sentence — and the next one when the first is a stub
// of fewer than five words.
func (d *doc) leadEnd() int {
	t, f := d.fields[0], d.fields[1]
	n := len(f.toks)
	if n == 0 || len(t.toks) > 10 {
		return n
	}
	sents := int(f.toks[n-1].sent) + 1
	if sents < 4 || n > 10*sents {
		return n
	}
	k := 0
	for s := int32(0); k < n; s++ {
		for k < n && f.toks[k].sent == s {
			k++
		}
		if k >= 5 {
			break
		}
	}
	return k
}

// leadCue is the first hit of cue in f within the lead story (leadEnd).
func (d *doc) leadCue(f *field, cue int) (hit, bool) {
	c, ok := firstCue(f, cue)
	return c, ok && (f == d.fields[0] || c.start < d.lead)
}

// framingVerbs report a statement: "<attack>, <official> warns",
// "<Country> accuses <Country> of…", "<Agency> says…".
var framingVerbs = wordSet([]string{"warns", "warned", "warning", "says", "said", "accuses", "accused", "blames", "blamed", "alleges", "claims", "fears", "assessment", "report", "poses"})

// headlineFramed reports whether the headline is a statement about attacks:
// it has a framing verb.
func (d *doc) headlineFramed() bool {
	f := d.fields[0]
	for k := range f.toks {
		if framingVerbs[f.norm(k)] {
			return true
		}
	}
	return false
}

// attackTags are "attack:<type>", by index in attackTypes.
var attackTags = func() (t [len(attackTypes)]string) {
	for i, a := range attackTypes {
		t[i] = "attack:" + a
	}
	return t
}()
