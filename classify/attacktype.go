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
// double) and picks up to three, the primary first, with the overrides for
// an explicit non-attack, a takedown headline and state-linked activity.
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
	// A sentence saying the event was not an attack settles it.
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
	// ("report", "warns", "cyber threat") or leaves untyped (an unspecified
	// "cyber attack" or "malware") is espionage — unless the headline names
	// another concrete type ("zero-day").
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

// attackTags are "attack:<type>", by index in attackTypes.
var attackTags = func() (t [len(attackTypes)]string) {
	for i, a := range attackTypes {
		t[i] = "attack:" + a
	}
	return t
}()
