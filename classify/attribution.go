package classify

import (
	"slices"
	"strings"

	"github.com/accordwatch/accordwatch"
)

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

// accuseVerbs put the state after them in the dock: "<Country> accuses
// <State> of…" (accuser) — and, before "of" or a be-verb, the subject
// ("<State> accused of…", "<State> was blamed").
var accuseVerbs = wordSet([]string{"accuse", "accuses", "accused", "accusing", "blame", "blames", "blamed", "blaming"})
var passiveAfterAccuse = wordSet([]string{"of", "for", "in", "over", "by"})

// agentFor before "for <State>": "spying for Beijing".
var agentFor = wordSet([]string{"spying", "spied", "spy", "spies", "hacking", "hacked", "hackers", "working", "worked", "works"})

// officialNouns: people who act for a state ("<nationality> officials").
var officialNouns = wordSet([]string{"officials", "authorities", "agents", "operatives", "diplomats"})
var speechVerbs = wordSet([]string{"said", "says", "claimed", "claims", "accused", "accuses", "warned", "warns", "alleged", "alleges", "stated", "announced", "reported"})
var beWords = wordSet([]string{"is", "are", "was", "were", "been", "being"})

// passiveAttrib after a be-verb attributes to the subject: "<nationality>
// officials are believed to…", "… were suspected of…".
var passiveAttrib = wordSet([]string{"believed", "suspected", "accused", "alleged", "thought", "blamed"})

// beVerb reports whether a be-verb stands between tokens from and to.
func beVerb(f *field, from, to int) bool {
	for k := from; k < to; k++ {
		if f.is(k, setBeWords) {
			return true
		}
	}
	return false
}

// accuser reports whether the state ending at token j is the subject of
// an accusation ("<Country> accuses…", "<Country>'s agency has accused
// …"): an accuse verb in active voice within six tokens, in sentence sent.
func accuser(f *field, j int, sent int32) bool {
	for k := j; k < len(f.toks) && k <= j+6 && f.toks[k].sent == sent; k++ {
		if !f.is(k, setAccuseVerbs) {
			continue
		}
		return !beVerb(f, j, k) && k+1 < len(f.toks) && !f.is(k+1, setPassiveAfterAccuse)
	}
	return false
}

// stateOwned after "<State> state-": an institution of the state, not
// an attacker ("Russian state-run media").
var stateOwned = wordSet([]string{"run", "owned", "media", "television", "tv", "news", "broadcaster", "controlled"})

// locationBefore: "<attack> in <Country> linked to…" is a place; a
// country suffix written with a space needs a subject, not a place.
var locationBefore = wordSet([]string{"in", "from", "of", "at", "to", "for", "with"})

// stateNouns directly after a country make it the actor: "<Country>
// hackers", "<Country>'s spies", "<Country> hacking scandal".
var stateNouns = wordSet([]string{"hackers", "hacking", "spies", "spying", "espionage", "apt", "apts", "cyberspies"})

// notActorNoun after an explicit cue makes it describe a thing:
// "government-backed loan", "nation-state resources".
var notActorNoun = wordSet([]string{"loan", "loans", "bank", "banks", "bonds", "guarantee", "scheme", "media", "resources", "capabilities", "capability", "level", "grade", "funding"})

// victimBefore marks a country named as the target ("attacks on Ukraine").
var victimBefore = wordSet([]string{"on", "against", "targeting", "targeted", "targets", "target", "at", "hit", "hitting", "attacking", "attacked", "into", "inside", "within", "across", "monitoring", "toward", "towards", "breached", "infiltrated", "infiltrating"})

// Verbs that make a country (or capital) the actor: "<Country> launches…".
var stateVerbs = wordSet([]string{"launches", "launched", "launch", "launching", "steals", "stole", "stealing", "steal", "hacked", "hacks", "hack", "hacking", "using", "uses", "used", "targets", "targeted", "targeting", "infiltrated", "infiltrates", "infiltrating", "spied", "spies", "spying", "attacked", "breached", "compromised", "behind", "exploits", "exploited", "exploiting", "deploys", "deployed", "deploying", "conducted", "conducts", "waged", "wages", "orchestrated", "hijacked"})

// stateSuspected: "<Country> is suspected of", and a state denying or
// denouncing an accusation, which reports the accusation ("<Country>
// denies hacking", "<Country> has dismissed the claims").
var stateSuspected = wordSet([]string{"suspected", "accused", "blamed", "denies", "denied", "deny", "denounced", "denounces", "rejects", "rejected", "dismissed", "dismisses"})
var stateFillers = wordSet([]string{"is", "are", "was", "were", "has", "have", "had", "been", "being", "reportedly", "allegedly", "likely", "also", "again", "now", "still", "continues", "continue", "continued", "to", "apparently", "actively", "quietly", "itself"})

// attribution decides state_linked, the states and how strongly (and by
// whom) each is named: from explicit wording, a state in a linking phrase
// or as the actor, a nationality with an espionage or intrusion cue, and
// actors on record — unless the sentence denies or leaves it open.
func (d *doc) attribution() {
	// A state-linked group that is itself the victim of a leak or hack
	// ("<Group> data breach") makes its nationality cues describe a victim.
	mentions := d.mentions
	leakVictim := false
	for _, m := range mentions {
		if c, ok := m.f.cueAfter(cueLeakVictim, m.end, 2, m.f.toks[m.start].sent); ok && m.country != "" && !(activeVerb(m.f, c) && (c.start == m.end || m.f.norm(m.end) != "and")) {
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
	// Drop signals in sentences that deny or leave attribution open, and
	// a survey's fears: "executives fear Chinese cyber attacks, survey
	// finds" reports an opinion, not an attack pinned on a state.
	survey := d.surveyHeadline()
	kept := sigs[:0]
	for _, s := range sigs {
		if s.f.negated(s.f.toks[s.start].sent) || survey && strings.HasPrefix(s.rule, "nationality") && fearBefore(s.f, s.start) {
			continue
		}
		kept = append(kept, s)
	}
	sigs = kept
	if len(sigs) == 0 {
		return
	}
	// Is a group (hackers, a named actor, an APT) the agent, or only a
	// country accused, suspected or named as the doer? attackTypes reads it.
	// Only the lead story of a roundup counts (leadEnd).
	for _, s := range sigs {
		if s.rule != "state-as-actor" && s.rule != "state-suspected" && s.rule != "state-accused" && (s.f == d.fields[0] || s.start < d.lead) {
			d.stateByGroup = true
			break
		}
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

// passiveAfter are the words after "exposed", "leaked" or "breached" that
// keep it a passive, so its subject the victim: "<Group> exposed in a
// leak", "<Group> breached by rivals".
var passiveAfter = wordSet([]string{"in", "by", "after", "as", "online", "on", "via", "from", "and", "amid", "following", "over"})

// activeVerb reports whether the leak cue c is an active verb with an
// object ("<Group> breached <victims>"): then the group is the attacker.
func activeVerb(f *field, c hit) bool {
	if c.end-c.start != 1 || c.end >= len(f.toks) || f.toks[c.end].sent != f.toks[c.start].sent {
		return false
	}
	switch f.norm(c.start) {
	case "exposed", "leaked", "breached":
		return !passiveAfter[f.norm(c.end)]
	}
	return false
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
		i, j := h.start, h.end
		sent := f.toks[i].sent
		prev := func(k int) string {
			if i-k < 0 || f.toks[i-k].sent != sent {
				return ""
			}
			return f.norm(i - k)
		}
		// prevIs is prev(k) in set s.
		prevIs := func(k int, s ruleSet) bool {
			return i-k >= 0 && f.toks[i-k].sent == sent && f.is(i-k, s)
		}
		// "<Accuser> accuses <State> of…": the accused is named as the
		// actor, whichever state it is; the accuser is not.
		if p1 := prev(1); prevIs(1, setAccuseVerbs) || (p1 == "the" || p1 == "a") && prevIs(2, setAccuseVerbs) {
			if j < len(f.toks) && f.toks[j].sent == sent && (f.norm(j) == "of" || f.norm(j) == "for") {
				out = append(out, signal{e.country, accordwatch.StrengthSuspected, f, i, j + 1, "state-accused"})
				continue
			}
		}
		if !e.attributable {
			continue
		}
		// "spying for <Capital>", "hacking on behalf of" is a cue list;
		// "working for <Country>" too.
		if prev(1) == "for" && prevIs(2, setAgentFor) {
			out = append(out, signal{e.country, accordwatch.StrengthAttributed, f, i - 2, j, "state-agent-for"})
			continue
		}
		if prev(1) == "pro" { // "pro-Russian hacktivists" are not the state
			continue
		}
		// "blamed on <Country>", "on behalf of <Country>": the "on" ends an
		// attribution, not a target.
		_, attribOn := f.cueBefore(cueAttribSuspected, i, 0)
		if !attribOn {
			_, attribOn = f.cueBefore(cueAttribAttributed, i, 0)
		}
		if !attribOn && (prevIs(1, setVictimBefore) || (prevIs(2, setVictimBefore) && (prev(1) == "the" || prev(1) == "a"))) || accuser(f, j, sent) {
			continue
		}
		add := func(strength string, end int, rule string) {
			out = append(out, signal{e.country, strength, f, i, end, rule})
		}
		if e.kind == kAgency {
			// An agency speaking ("the ministry said…") reports, it does not attack.
			if k := j; k < len(f.toks) && f.toks[k].sent == sent && (f.is(k, setSpeechVerbs) || k+1 < len(f.toks) && f.norm(k) == "has" && f.is(k+1, setSpeechVerbs)) {
				continue
			}
			add(accordwatch.StrengthAttributed, j, "state-agency")
			continue
		}
		// "<State> state-run media", "state-owned": an institution, not an attacker.
		if j+1 < len(f.toks) && f.norm(j) == "state" && f.is(j+1, setStateOwned) {
			continue
		}
		// "<Country>-linked", "Kremlin-backed", "Russian-linked".
		if j < len(f.toks) && f.toks[j].sent == sent && (f.toks[j].start == f.toks[j-1].end+1 && f.src[f.toks[j-1].end] == '-' || f.toks[j].start-f.toks[j-1].end <= 1 && !prevIs(1, setLocationBefore)) {
			// "<vendor> linked the attacks to <Country>-based actors": a
			// location suffix, but the sentence attributes the attacks to
			// actors there.
			if f.norm(j) == "based" && j+1 < len(f.toks) && f.toks[j+1].sent == sent && f.is(j+1, setActorNouns) && d.attributedInSentence(f, i, sent) {
				if _, crim := f.cueWithin(cueCriminal, i, j+2, 8, sent); !crim {
					add(accordwatch.StrengthLinked, j+2, "state-based-actors-linked")
				}
				continue
			}
			if st, ok := suffixStrength[f.norm(j)]; ok {
				_, crim := f.cueAfter(cueCriminal, j+1, 2, sent)
				_, person := f.cueAfter(cueIndividual, j+1, 0, sent) // "Kremlin-connected oligarch"
				if !crim && !person {
					add(st, j+1, "state-suffix")
				}
				continue
			}
		}
		// "linked to <Country>", "on behalf of <Capital>-backed", "believed to be <Country>'s".
		gap := 1
		if p := prev(1); p == "the" || p == "a" || p == "an" {
			gap = 2
		}
		// "a suspected <nationality> hacker", "the accused <nationality>
		// national": the cue is about one person, not a state.
		if ind, person := f.cueAfter(cueIndividual, j, 0, sent); person && e.kind == kDemonym {
			// "<nationality> officials are believed to have hacked…".
			if k := ind.end; k+1 < len(f.toks) && f.toks[k+1].sent == sent && f.is(ind.start, setOfficialNouns) && f.is(k, setBeWords) && f.is(k+1, setPassiveAttrib) {
				out = append(out, signal{e.country, accordwatch.StrengthSuspected, f, i, k + 2, "nationality-suspected"})
				continue
			}
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

// stateAsActor: "<Country> reportedly launches…", "<Country> is suspected
// of", "<Country>'s cyber operations", "<Country>'s <Group>".
func (d *doc) stateAsActor(f *field, e *centry, i, j int, sent int32) (signal, bool) {
	if e.kind == kCountry {
		// A country's name used as an adjective before the people who act
		// for it: "DPRK IT workers", "PRC cyber actors" — not before
		// events ("<Country> cyberattack" may name the victim), nor with
		// crime or a theft of money near.
		end := -1
		if c, ok := f.cueAfter(cueNatState, j, 0, sent); ok {
			end = c.end
		} else if c, ok := f.cueAfter(cueNatIntrusion, j, 0, sent); ok && f.is(c.end-1, setActorNouns) {
			end = c.end
		}
		if end > 0 {
			if _, crim := f.cueWithin(cueCriminal, i, end, 8, sent); !crim && (e.stateTheft || !d.moneyTheftNear(f, i, end, sent)) {
				return signal{e.country, accordwatch.StrengthAttributed, f, i, end, "state-as-actor"}, true
			}
		}
	}
	for k := j; k < len(f.toks) && k <= j+3 && f.toks[k].sent == sent; k++ {
		w := f.norm(k)
		switch {
		case f.is(k, setStateVerbs):
			return signal{e.country, accordwatch.StrengthAttributed, f, i, k + 1, "state-as-actor"}, true
		case f.is(k, setStateSuspected):
			// "<Country> accused <Country> of…" is the accuser speaking;
			// "<Country> accused of…", "<Country> is blamed" the accused.
			if f.is(k, setAccuseVerbs) && k+1 < len(f.toks) && f.toks[k+1].sent == sent && !f.is(k+1, setPassiveAfterAccuse) && !beVerb(f, j, k) {
				return signal{}, false
			}
			return signal{e.country, accordwatch.StrengthSuspected, f, i, k + 1, "state-suspected"}, true
		case w == "s" && k == j && k+1 < len(f.toks) && f.is(k+1, setStateNouns):
			// "<Country>'s hackers", "<Country>'s spies".
			return signal{e.country, accordwatch.StrengthAttributed, f, i, k + 2, "state-possessive"}, true
		case k == j && f.is(k, setStateNouns):
			// "<Country> hackers", "<Country> hacking scandal".
			return signal{e.country, accordwatch.StrengthAttributed, f, i, k + 1, "state-as-actor"}, true
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
		case f.is(k, setStateFillers):
			continue
		default:
			return signal{}, false
		}
	}
	return signal{}, false
}

// nationality: "<nationality> state-backed hackers", "<nationality>
// hacking campaign", "<nationality> link suspected" — unless the sentence
// is about crime or one person ("a <nationality> citizen").
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
	if _, crim := f.cueWithin(cueCriminal, i, j, 8, sent); crim || !e.stateTheft && d.moneyTheftNear(f, i, j, sent) {
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
			if c.start > 0 && f.norm(c.start-1) == "counter" { // "counter-espionage" defends
				return signal{}, false
			}
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

// actorNouns are the people or groups an attack is pinned on;
// attackerWords (attack type, principles) add the criminal ones, which
// attribution leaves out because they veto a state.
var (
	actorNounList = []string{"actors", "actor", "hackers", "hacker", "group", "groups", "attackers", "operators", "operatives"}
	actorNouns    = wordSet(actorNounList)
	attackerWords = wordSet(append(slices.Clip(actorNounList), "gang", "scammers", "cybercriminals", "criminals"))
)

// attributedInSentence reports whether the sentence has an attribution
// cue or verb before token i: "linked … to", "tied … to", "blamed on",
// "attributed to", "links", "attributes".
func (d *doc) attributedInSentence(f *field, i int, sent int32) bool {
	for k := i - 1; k >= 0 && f.toks[k].sent == sent; k-- {
		if attribVerbs[f.norm(k)] {
			return true
		}
	}
	for _, cue := range [...]int{cueAttribLinked, cueAttribAttributed, cueAttribSuspected} {
		if _, ok := f.cueWithin(cue, i, i, 12, sent); ok {
			return true
		}
	}
	return false
}

// attribVerbs pin attacks on someone when an object comes between:
// "linked the attacks to", "tied the campaign to".
var attribVerbs = wordSet([]string{"links", "linked", "linking", "ties", "tied", "attributes", "attributed", "blames", "blamed", "traced"})

// surveyWords mark a headline that reports a survey or poll.
var surveyWords = wordSet([]string{"survey", "surveys", "surveyed", "poll", "polled", "respondents"})

// fearWords say that what follows is feared or expected, not reported.
var fearWords = wordSet([]string{"fear", "fears", "feared", "worry", "worried", "worries", "expect", "expects", "expected"})

// surveyHeadline reports whether the headline reports a survey or poll.
func (d *doc) surveyHeadline() bool {
	t := d.fields[0]
	for k := range t.toks {
		if surveyWords[t.norm(k)] {
			return true
		}
	}
	return false
}

// fearBefore reports whether a fear word stands at most three words
// before token k in its sentence.
func fearBefore(f *field, k int) bool {
	for j := k - 1; j >= 0 && j >= k-3 && f.toks[j].sent == f.toks[k].sent; j-- {
		if fearWords[f.norm(j)] {
			return true
		}
	}
	return false
}

// moneyTheftNear reports whether a theft of money or crypto (an attack
// keyword typed fraud after stolenWhat) stands within eight words of
// tokens i..j in the sentence: "a <nationality> hacking group steals
// crypto" is crime, a criminal cue by the label rules — except for a
// state whose own units steal (centry.stateTheft).
func (d *doc) moneyTheftNear(f *field, i, j int, sent int32) bool {
	for _, h := range f.attacks {
		if h.end <= i-8 || f.toks[h.start].sent != sent {
			continue
		}
		if h.start >= j+8 {
			break
		}
		if e := &d.c.entries[h.entry]; e.typ == fraudType && stolenWhat(f, h, e.typ) == fraudType {
			return true
		}
	}
	return false
}

// explicitSignals: "state-sponsored", "nation-state", "government-backed",
// with the country named just before when there is one.
func (d *doc) explicitSignals(out []signal, f *field) []signal {
	for _, c := range f.cues[cueStateExplicit] {
		sent := f.toks[c.start].sent
		if guardedAgainst(f, c.start, 1) {
			continue
		}
		if d.explicitGeneric(f, c, sent) {
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

// explicitGeneric reports whether the explicit cue c names no actor: it
// modifies a thing ("a government-backed loan", "nation-state resources"),
// it is paired with crime as a kind of threat ("cybercriminals and
// nation-state groups"), or it is asked about ("whether the attack was
// state-sponsored").
func (d *doc) explicitGeneric(f *field, c hit, sent int32) bool {
	if c.end < len(f.toks) && f.toks[c.end].sent == sent && notActorNoun[f.norm(c.end)] {
		return true
	}
	for k := c.start - 1; k >= 0 && k >= c.start-3 && f.toks[k].sent == sent; k-- {
		if w := f.norm(k); w == "and" || w == "or" {
			if _, crim := f.cueBefore(cueCriminal, k, 1); crim {
				return true
			}
		}
	}
	if k := c.end; k+1 < len(f.toks) && f.toks[k+1].sent == sent && (f.norm(k) == "and" || f.norm(k) == "or") {
		if _, crim := f.cueAfter(cueCriminal, k+1, 1, sent); crim {
			return true
		}
	}
	for k := c.start - 1; k >= 0 && k >= c.start-12 && f.toks[k].sent == sent; k-- {
		if w := f.norm(k); w == "whether" || w == "if" {
			return true
		}
	}
	return false
}

// reporter is an organisation or country that the text presents as the
// source of a finding ("<Vendor> said", "according to <vendor>").
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
