package classify

import (
	"slices"
	"strconv"
	"strings"

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
	order, titleTakedown, titleTyped := 0, 0, 0
	// Attack words after a how-to cue of the headline ("Protect your
	// family from scams", "How to spot phishing") name what the guidance
	// guards against, not an attack of the headline's own.
	guardFrom := len(d.fields[0].toks)
	if c, ok := firstCue(d.fields[0], cueHowTo); ok {
		guardFrom = c.start
	}
	marker := -1 // a headline report noun that sources the news
	// A multi-story roundup takes the type of its first story.
	lead := d.lead
	for fi, f := range d.fields {
		// The headline counts double, except over a roundup, where it is
		// a pun on the stories and the lead story decides.
		mult := 1
		if f.name == "title" && lead == len(d.fields[1].toks) {
			mult = 2
		}
		for _, h := range f.attacks {
			if fi == 1 && h.start >= lead {
				break
			}
			e := &d.c.entries[h.entry]
			if e.typ != policyType && (negated(f, h.start) || defensiveHead(f, h.end) || protected(f, h.start)) ||
				e.typ == dataBreachType && exposedTo(f, h) || e.typ == supplyChainType && supplierHit(f, h) {
				continue
			}
			if fi == 0 && e.typ == policyType && h.end == h.start+1 && reportNouns[f.norm(h.start)] && d.sourcingMarker(h.start) {
				// "…: report", "…, report says": where the news comes
				// from, not a report about attacks.
				marker = h.start
				continue
			}
			typ := e.typ
			if typ == fraudType {
				typ = stolenWhat(f, h, typ)
			}
			w := e.weight
			if typ == ransomwareType && h.end < len(f.toks) && f.toks[h.end].sent == f.toks[h.start].sent && attackerWords[f.norm(h.end)] {
				// "Ransomware gang/hackers…" says who, not what happened:
				// a theft or leak they claim is the event.
				w--
			}
			score[typ] += w * mult
			if mult == 2 {
				titleScore[typ] += e.weight
				if typ != policyType && typ != noneType && h.start < guardFrom {
					titleTyped++
				}
			}
			if f.name == "title" && e.name == accordwatch.AttackTakedown {
				titleTakedown++
			}
			if firstAt[typ] < 0 {
				firstAt[typ] = order
				firstHit[typ] = where{f, h.start, h.end}
				order++
			}
		}
	}
	// Police, prosecutors or Europol shutting down, disrupting or raiding
	// something is a takedown; the same verbs without such an agent are
	// an outage or an attack ("the attack disrupted flights").
	for fi, f := range d.fields {
		for _, c := range f.cues[cueAgentAction] {
			if fi == 1 && c.start >= lead {
				break
			}
			if _, ok := f.cueBefore(cueLawAgent, c.start, 3); !ok {
				continue
			}
			if fi == 0 {
				titleTakedown++
			}
			score[takedownType] += 4
			if firstAt[takedownType] < 0 {
				firstAt[takedownType] = order
				firstHit[takedownType] = where{f, c.start, c.end}
				order++
			}
		}
	}
	// A sentence saying the event was not an attack settles it.
	for _, f := range d.fields {
		if c, ok := firstCue(f, cueNotAttack); ok {
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackNone)
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
	policy := slices.Index(attackTypes[:], accordwatch.AttackPolicy)
	var ruleFor [n]string
	// A civil suit, class action or settlement in the headline is the
	// news about a breach's victim (its liability, like a fine): policy,
	// unless the headline names the attackers it is brought against.
	if c, ok := d.headlineCivilAction(); ok {
		score[policy] += 100
		if firstAt[policy] < 0 {
			firstAt[policy] = order
			order++
		}
		firstHit[policy] = where{d.fields[0], c.start, c.end}
		ruleFor[policy] = "civil-action-headline"
		d.civil = true
		if titleTakedown > 0 {
			score[takedown] -= 100
		}
	}
	// One policy word in the text alone ("compliance", "strategy") is
	// vocabulary, not a report, a rule or a warning: it types nothing.
	if score[policy] > 0 && score[policy] <= 2 && titleScore[policy] == 0 && ruleFor[policy] == "" {
		firstAt[policy] = -1
	}
	// A how-to headline that names no attack of its own is guidance that
	// reports no incident, whatever threats its text goes on to describe.
	if titleTyped == 0 && titleTakedown == 0 && !d.tags.StateLinked && len(d.tags.Actors) == 0 && d.howToHeadline() {
		if _, event := d.headlineAttackEvent(); !event {
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackNone)
			c, ok := firstCue(d.fields[0], cueHowTo)
			if !ok {
				c = hit{start: 0, end: 1} // the guidance gerund
			}
			d.evidence("attack:"+accordwatch.AttackNone, d.fields[0], c.start, c.end, "how-to-headline")
			return
		}
	}
	types := make([]int, 0, n)
	for t := range score {
		if firstAt[t] >= 0 {
			types = append(types, t)
		}
	}
	// By score, then by first appearance: firstAt is distinct, so the
	// order is total and an insertion sort of the dozen types gives what
	// any sort would, without a comparison function call per step.
	for i := 1; i < len(types); i++ {
		t := types[i]
		j := i
		for ; j > 0 && (score[types[j-1]] < score[t] || score[types[j-1]] == score[t] && firstAt[types[j-1]] > firstAt[t]); j-- {
			types[j] = types[j-1]
		}
		types[j] = t
	}
	none := slices.Index(attackTypes[:], accordwatch.AttackNone)
	concrete := func(t int) bool { return t != policy && t != none && t != takedown }
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
		d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackEspionage)
		d.derived("attack:"+accordwatch.AttackEspionage, "state-linked-group")
		return
	}
	if len(types) == 0 {
		if t := d.fields[1]; d.lead < len(t.toks) && len(t.attacks) > 0 {
			// A roundup of attack news whose lead story has no attack
			// word is news about security: policy.
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackPolicy)
			d.derived("attack:"+accordwatch.AttackPolicy, "roundup-lead")
			return
		}
		if k, ok := d.headlineReport(); ok {
			// "…, <firm> research finds": a report is the news.
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackPolicy)
			d.evidence("attack:"+accordwatch.AttackPolicy, d.fields[0], k, k+1, "report-headline")
			return
		}
		if f, c, ok := d.untypedAttack(); ok {
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackPolicy)
			d.evidence("attack:"+accordwatch.AttackPolicy, f, c.start, c.end, "attack-unspecified")
			return
		}
		if k, ok := d.headlineOutlook(); ok {
			d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackPolicy)
			d.evidence("attack:"+accordwatch.AttackPolicy, d.fields[0], k, k+1, "threat-outlook")
			return
		}
		d.tags.AttackTypes = append(d.tags.AttackTypes[:0], accordwatch.AttackNone)
		d.derived("attack:"+accordwatch.AttackNone, "no-attack-keywords")
		return
	}
	// Business words ("sales", "announces") do not make an item about an
	// attack a non-attack: "sales slump after cyber attack", "<firm>
	// announces it was hit by a ransomware attack". The attack's type is
	// the best concrete one found, else policy (untyped).
	if types[0] == none {
		c, ok := d.headlineAttackEvent()
		f := d.fields[0]
		if !ok && d.tags.StateLinked {
			// An attack pinned on a state names its event in the lead
			// as well: "<outage> blamed on <Country>" over "the
			// intrusion at the plant".
			f, c, ok = d.untypedAttack()
		}
		if ok {
			pick := policy
			for _, t := range types {
				if concrete(t) && score[t] >= 3 {
					pick = t
					break
				}
			}
			if firstAt[pick] < 0 {
				firstAt[pick] = order
				firstHit[pick] = where{f, c.start, c.end}
				order++
			}
			types = slices.Insert(slices.DeleteFunc(types, func(t int) bool { return t == pick }), 0, pick)
			ruleFor[pick] = "attack-event-in-headline"
			if f != d.fields[0] {
				ruleFor[pick] = "state-attack-event-in-lead"
			}
		}
	}
	primary := types[0]
	// A report or survey that counts attacks is a report about events, not
	// an event: "<share> of firms hit by <type>: survey", "<type> attacks
	// surge, report finds". A named actor, a state or a takedown keeps the
	// type of the event.
	if marker >= 0 && concrete(primary) && len(d.tags.Actors) == 0 && !d.tags.StateLinked {
		if k, ok := d.trendWord(); ok {
			t := d.fields[0]
			if firstAt[policy] < 0 {
				firstAt[policy] = order
				order++
			}
			firstHit[policy] = where{t, marker, marker + 1}
			types = slices.Insert(slices.DeleteFunc(types, func(t int) bool { return t == policy }), 0, policy)
			score[policy] = max(score[policy], score[primary])
			ruleFor[policy] = "report-about-attacks(" + t.norm(k) + ")"
			d.reportOn = true
			primary = policy
		}
	}
	// A breach that came through a third party (its vendor, provider or
	// integration) is a supply-chain attack on the company named: the
	// route is the type. A "supplier" alone may be the victim itself.
	if primary == dataBreachType && score[supplyChainType] > 0 && d.thirdPartyRoute() {
		types = slices.Insert(slices.DeleteFunc(types, func(t int) bool { return t == supplyChainType }), 0, supplyChainType)
		ruleFor[supplyChainType] = "breach-via-third-party"
		primary = supplyChainType
	}
	var chosenBuf [3]int
	chosen := append(chosenBuf[:0], primary)
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
	for i, t := range chosen {
		name := attackTypes[t]
		d.tags.AttackTypes = append(d.tags.AttackTypes, name)
		w := firstHit[t]
		rule := keywordRule(t, score[t])
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
	// A headline that ends in a full stop is a podcast or newsletter
	// episode's title, not a news headline: its sentences may run longer.
	perSent := 10
	if src := strings.TrimSpace(t.src); strings.HasSuffix(src, ".") && !strings.HasSuffix(src, "..") {
		perSent = 13
	}
	if sents < 4 || n > perSent*sents {
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

// eventWords end a generic attack cue that names one event ("after a
// cyber attack", "hacked"), unlike plural or generic words ("cyberattacks",
// "hacking", "malware").
var eventWords = wordSet([]string{"attack", "cyberattack", "hack", "hacked", "breach", "intrusion", "compromise", "compromised"})

// headlineAttackEvent finds a generic attack word in the headline that
// names one event, not a threat to defend against ("protect against an
// attack").
func (d *doc) headlineAttackEvent() (hit, bool) {
	t := d.fields[0]
	for _, c := range t.cues[cueAttackGeneric] {
		if !eventWords[t.norm(c.end-1)] || termHead(t, c.end) {
			continue
		}
		if guardedAgainst(t, c.start, 2) {
			continue
		}
		return c, true
	}
	return hit{}, false
}

// headlineCivilAction finds a civil suit, class action, settlement or
// compensation over an attack in a headline that names no attackers.
func (d *doc) headlineCivilAction() (hit, bool) {
	t := d.fields[0]
	c, ok := firstCue(t, cueCivilAction)
	if !ok {
		return hit{}, false
	}
	for k := range t.toks {
		if attackerWords[t.norm(k)] {
			return hit{}, false
		}
	}
	// Only a suit over an attack suffered — a breach, a hack, ransomware:
	// lawsuits about anything else, or against a botnet or a theft's
	// authors, are not the victim's liability.
	if len(t.cues[cueAttackGeneric]) > 0 {
		return c, true
	}
	for _, h := range t.attacks {
		if typ := d.c.entries[h.entry].typ; typ == dataBreachType || typ == ransomwareType {
			return c, true
		}
	}
	return hit{}, false
}

// outlookWords make a headline a threat assessment or a forecast:
// "<sector> faces rising threats", "security predictions for 2026".
var outlookWords = wordSet([]string{"threat", "threats", "risk", "risks", "danger", "dangers", "predictions", "forecast", "outlook", "trends"})

// headlineOutlook finds an outlook word in a headline with no business
// cue in the headline or the lead story ("market trends" are business).
func (d *doc) headlineOutlook() (int, bool) {
	if _, _, business := d.leadCueAny(cueBusiness); business {
		return 0, false
	}
	t := d.fields[0]
	for k := range t.toks {
		if !outlookWords[t.norm(k)] || k > 0 && t.norm(k-1) == "bomb" {
			continue
		}
		if k+1 < len(t.toks) && threatCompounds[t.norm(k+1)] {
			continue // "threat actor", "risk management"
		}
		return k, true
	}
	return 0, false
}

// threatCompounds follow "threat" or "risk" in names of actors, trades
// and teams, which are no outlook.
var threatCompounds = wordSet([]string{"actor", "actors", "group", "groups", "intelligence", "intel", "hunting", "hunter", "hunters", "detection", "management", "analyst", "analysts", "research", "researchers", "vector", "vectors"})

// howToHeadline reports whether the headline offers guidance: a how-to
// cue ("how to", "tips", "here's how") or a guidance gerund first
// ("Securing…").
func (d *doc) howToHeadline() bool {
	t := d.fields[0]
	return len(t.cues[cueHowTo]) > 0 || len(t.toks) > 1 && guidanceGerunds[t.norm(0)]
}

// untypedAttack finds an attack of unsaid type: a generic attack word in
// the headline, or one in the lead story that names one event ("after a
// cyber attack on…") rather than attacks in general ("the volume of
// cyberattacks", "protect against an attack"), which product and guidance
// pieces use as background.
func (d *doc) untypedAttack() (*field, hit, bool) {
	t := d.fields[0]
	for _, c := range t.cues[cueAttackGeneric] {
		if !termHead(t, c.end) && !protected(t, c.start) && !hobbyGerund(t, c) {
			return t, c, true
		}
	}
	f := d.fields[1]
	for _, c := range f.cues[cueAttackGeneric] {
		if c.start >= d.lead {
			break
		}
		if !eventWords[f.norm(c.end-1)] || termHead(f, c.end) {
			continue
		}
		if guardedAgainst(f, c.start, 2) {
			continue
		}
		return f, c, true
	}
	return nil, hit{}, false
}

// objectStarts are the words that make a headline's first "hacking" a
// verb with an object ("Hacking a smart lock", "Hacking your sleep") —
// how-to, hobby or figurative hacking — rather than a noun ("Hacking
// group…", "Hacking campaign…").
var objectStarts = wordSet([]string{"a", "an", "the", "your", "my", "our", "their", "this", "on", "into", "together"})

// hobbyGerund reports whether generic attack hit c is a headline's opening
// "hacking" with an object (objectStarts): the piece does something to a
// device or an idea; it reports no attack.
func hobbyGerund(t *field, c hit) bool {
	return c.start == 0 && c.end == 1 && t.norm(0) == "hacking" && len(t.toks) > 1 && objectStarts[t.norm(1)]
}

// negated reports whether a negation word (the negation-word cue list:
// "no data breach was found", "without any sign of a leak") stands at
// most four words before token k in its sentence. A company that denies a
// reported breach is still news about that breach, so "denies" is not one
// of them; a wider window reaches across clauses ("demands $5M not to
// leak the stolen data").
func negated(f *field, k int) bool {
	_, ok := f.cueBefore(cueNegWord, k, 3)
	return ok
}

// dataNouns and loginNouns are what a theft can take besides money.
var (
	dataNouns  = wordSet([]string{"data", "pictures", "photos", "images", "records", "information", "details", "files", "documents", "emails", "secrets", "source"})
	loginNouns = wordSet([]string{"logins", "login", "credentials", "passwords", "password", "cookies", "tokens"})
)

// stolenWhat retypes a theft verb of the fraud list by what was taken,
// named at most six words on: data is a data breach, logins are phishing
// ("steal <firm> logins"), anything else stays typ (money, crypto).
func stolenWhat(f *field, h hit, typ int) int {
	if !strings.HasPrefix(f.norm(h.end-1), "ste") && !strings.HasPrefix(f.norm(h.end-1), "stol") {
		return typ
	}
	for k := h.end; k < len(f.toks) && k < h.end+6 && f.toks[k].sent == f.toks[h.end-1].sent; k++ {
		switch w := f.norm(k); {
		case dataNouns[w]:
			return dataBreachType
		case loginNouns[w]:
			return phishingType
		}
	}
	return typ
}

// exposedTo reports whether hit h is "expose(s/d)" with "to" at most three
// words on: "exposes users to attacks" is a risk, not a leak.
func exposedTo(f *field, h hit) bool {
	if !strings.HasPrefix(f.norm(h.end-1), "expos") {
		return false
	}
	for k := h.end; k < len(f.toks) && k < h.end+3 && f.toks[k].sent == f.toks[h.end-1].sent; k++ {
		if f.norm(k) == "to" {
			return true
		}
	}
	return false
}

// protected reports whether a protect verb (the protect-verb cue list:
// "protects chats from phishing", "prevent breaches", "combat scams")
// stands at most five words before token k in its sentence: what follows
// is a threat to guard against, not an attack that happened. Verbs that
// report one foiled attack ("blocks", "thwarts", "stops") are not in it.
func protected(f *field, k int) bool {
	_, ok := f.cueBefore(cueProtectVerb, k, 4)
	return ok
}

// guardedAgainst reports whether the attack words at token k are a threat
// named as a risk or something to guard against: a generic-before cue at
// most gap words before ("risk of", "defend against") or a protect verb
// (protected).
func guardedAgainst(f *field, k, gap int) bool {
	_, ok := f.cueBefore(cueGenericBefore, k, gap)
	return ok || protected(f, k)
}

// defensiveHead reports whether token k, the word after an attack keyword
// in its sentence, starts a defence noun (the defence-noun cue list:
// "phishing simulations", "ransomware protection", "vulnerability
// triage", "spy chief"): the phrase names a defence, a product or an
// office, not an attack that happened.
func defensiveHead(f *field, k int) bool {
	return k < len(f.toks) && f.toks[k].sent == f.toks[k-1].sent && f.cueStart[k]&(1<<cueDefenceNoun) != 0
}

// termHead reports whether token k, the word after a generic attack cue
// in its sentence, makes it a term of art (the term-head cue list:
// "attack surface", "attack vector", "attack lifecycle") or a defence
// noun: neither names an attack.
func termHead(f *field, k int) bool {
	return k < len(f.toks) && f.toks[k].sent == f.toks[k-1].sent && f.cueStart[k]&(1<<cueTermHead|1<<cueDefenceNoun) != 0
}

// Indexes in attackTypes that the rules single out.
var (
	policyType      = slices.Index(attackTypes[:], accordwatch.AttackPolicy)
	noneType        = slices.Index(attackTypes[:], accordwatch.AttackNone)
	dataBreachType  = slices.Index(attackTypes[:], accordwatch.AttackDataBreach)
	ransomwareType  = slices.Index(attackTypes[:], accordwatch.AttackRansomware)
	supplyChainType = slices.Index(attackTypes[:], accordwatch.AttackSupplyChain)
	fraudType       = slices.Index(attackTypes[:], accordwatch.AttackFraud)
	phishingType    = slices.Index(attackTypes[:], accordwatch.AttackPhishing)
	takedownType    = slices.Index(attackTypes[:], accordwatch.AttackTakedown)
)

// victimVerbs follow a subject that suffered or reports an attack.
var victimVerbs = wordSet([]string{"suffers", "suffered", "hit", "hits", "attacked", "breached", "targeted", "struck", "confirms", "confirmed", "says", "reports", "discloses"})

// supplierHit reports whether supply-chain hit h is a supplier that is
// itself the victim ("<firm> supplier suffers breach", "suppliers hit by
// the attack"): the attack on it has its own type; no supply chain
// carried it.
func supplierHit(f *field, h hit) bool {
	if w := f.norm(h.end - 1); w != "supplier" && w != "suppliers" {
		return false
	}
	for k := h.end; k < len(f.toks) && k <= h.end+1 && f.toks[k].sent == f.toks[h.end-1].sent; k++ {
		if victimVerbs[f.norm(k)] {
			return true
		}
	}
	return false
}

// thirdPartyRoute reports whether a supply-chain keyword of the headline
// or the lead story names a third party or a supply chain (not only a
// "supplier", which may be the victim).
func (d *doc) thirdPartyRoute() bool {
	for _, f := range d.fields {
		for _, h := range f.attacks {
			if f != d.fields[0] && h.start >= d.lead {
				break
			}
			if d.c.entries[h.entry].typ != supplyChainType {
				continue
			}
			if w := f.norm(h.start); w == "third" || w == "supply" || strings.HasPrefix(w, "third-") || strings.HasPrefix(w, "supply-") {
				return true
			}
		}
	}
	return false
}

// reportNouns name a publication about events.
var reportNouns = wordSet([]string{"report", "survey", "study", "research", "rankings", "poll", "index"})

// sourceVerbs follow a report noun that sources a headline: "…, report says".
var sourceVerbs = wordSet([]string{"says", "said", "finds", "found", "shows", "reveals", "warns", "suggests"})

// sourcingMarker reports whether headline word k, a report noun, stands
// apart as the source of the news: first and followed by a colon
// ("Report: …"), or within the last three words after a colon, dash, bar
// or comma, optionally followed by a verb of saying ("…: <Vendor> report",
// "…, new study finds").
func (d *doc) sourcingMarker(k int) bool {
	t := d.fields[0]
	n := len(t.toks)
	if k == 0 && n > 1 {
		return strings.ContainsRune(t.src[t.toks[0].end:t.toks[1].start], ':')
	}
	end := n
	if k == n-2 && sourceVerbs[t.norm(n-1)] {
		end = n - 1
	}
	if k != end-1 {
		return false
	}
	for j := k; j > 0 && j >= k-3; j-- {
		if strings.ContainsAny(t.src[t.toks[j-1].end:t.toks[j].start], ":|,–—") ||
			strings.Contains(t.src[t.toks[j-1].end:t.toks[j].start], " - ") {
			return true
		}
	}
	return false
}

// securityWords make a headline about security rather than business.
var securityWords = wordSet([]string{"threat", "threats", "risk", "risks", "security", "cybersecurity", "cyber", "attack", "attacks", "hackers", "breaches", "incidents"})

// headlineReport finds a report noun that sources a headline about
// security (sourcingMarker); one that sources business news ("<firm> in
// talks to buy <firm>: report") is not a report about threats.
func (d *doc) headlineReport() (int, bool) {
	t := d.fields[0]
	at, security := -1, false
	for k := range t.toks {
		if at < 0 && reportNouns[t.norm(k)] && d.sourcingMarker(k) {
			at = k
		}
		security = security || securityWords[t.norm(k)]
	}
	return at, at >= 0 && security
}

// trendWords say that a headline counts or ranks attacks rather than
// reporting one.
var trendWords = wordSet([]string{"surge", "surged", "surges", "rise", "rises", "rose", "rising", "increase", "increased", "jump", "jumps", "jumped", "doubled", "top", "tops", "leads", "most", "half", "majority", "percent", "riskiest"})

// trendWord finds the first trend word in the headline, or a number
// followed by a percent sign.
func (d *doc) trendWord() (int, bool) {
	t := d.fields[0]
	for k := range t.toks {
		if trendWords[t.norm(k)] {
			return k, true
		}
		if e := t.toks[k].end; int(e) < len(t.src) && t.src[e] == '%' {
			return k, true
		}
	}
	return 0, false
}

// attackTags are "attack:<type>", by index in attackTypes.
var attackTags = func() (t [len(attackTypes)]string) {
	for i, a := range attackTypes {
		t[i] = "attack:" + a
	}
	return t
}()

// keywordRules are the evidence rules "keyword:<type>(score <n>)" of the
// common scores, by type and score, built once rather than per item.
var keywordRules = func() (r [len(attackTypes)][64]string) {
	for t, a := range attackTypes {
		for n := range r[t] {
			r[t][n] = "keyword:" + a + "(score " + strconv.Itoa(n) + ")"
		}
	}
	return r
}()

// keywordRule is the evidence rule of attack type t with score n.
func keywordRule(t, n int) string {
	if n >= 0 && n < len(keywordRules[t]) {
		return keywordRules[t][n]
	}
	return "keyword:" + attackTypes[t] + "(score " + strconv.Itoa(n) + ")"
}
