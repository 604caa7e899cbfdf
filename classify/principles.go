package classify

import "github.com/accordwatch/accordwatch"

// principles derives the accord principles an item bears on from the
// other tags, the signatories' roles and the principle cue lists, by the
// label rules of the evaluation data. A multi-story roundup takes its
// principles from the headline and the lead story (leadEnd), except
// no-offense, which any state-linked story gives.
func (d *doc) principles() {
	primary := d.tags.AttackTypes[0]
	// A report that counts attacks bears on their victims as the attacks
	// would (reportOn).
	isAttack := primary != accordwatch.AttackNone && primary != accordwatch.AttackPolicy && primary != accordwatch.AttackTakedown || d.reportOn
	_, _, business := d.leadCueAny(cueBusiness)
	var ps []accordwatch.Principle
	add := func(p accordwatch.Principle) { ps = append(ps, p) }

	// stronger-defense: a company's users or products attacked, breached,
	// patched — or the story's victims are hit by a concrete attack.
	sd := false
	for i, s := range d.tags.Signatories {
		if r := d.tags.Roles[s]; (r == "victim" || r == "vendor") && isAttack && d.inLead(i) {
			d.derived("principle:"+string(accordwatch.StrongerDefense), "signatory-"+r+":"+s)
			sd = true
			break
		}
	}
	// Victims alone count when they are a company's users or systems: not
	// when the story is about government bodies, courts, councils or
	// universities and names no company, business or product.
	_, _, public := d.leadCueAny(cuePublicVictim)
	_, _, private := d.leadCueAny(cuePrivateVictim)
	public = public && !private && len(d.tags.Signatories) == 0 && len(d.tags.Companies) == 0 && primary != accordwatch.AttackVulnerability
	if !sd && isAttack && !public && primary != accordwatch.AttackEspionage && primary != accordwatch.AttackInfluence {
		if f, c, ok := d.leadCueAny(cueVictimImpact); ok {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), f, c.start, c.end, "victims-impacted")
			sd = true
		}
	}
	// An attack whose type the text does not say (policy) still has a
	// victim: a company's systems when the headline reports one attack
	// event and the victims are not public bodies only. A takedown answers
	// an attack: the victims of the breach it punishes count the same.
	untyped := primary == accordwatch.AttackPolicy && !business && !d.headlineFramed() && d.headlineEvent() && len(d.fields[0].cues[cueCapacity]) == 0
	punished := (primary == accordwatch.AttackTakedown || d.civil && primary == accordwatch.AttackPolicy) && (d.headlineEvent() || d.concreteSecondary())
	if !sd && !public && (untyped || punished) {
		if f, c, ok := d.leadImpact(); ok {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), f, c.start, c.end, "victims-of-"+primary)
			sd = true
		} else if f, c, ok := d.leadCueAny(cuePrivateVictim); ok && primary == accordwatch.AttackPolicy {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), f, c.start, c.end, "company-attacked")
			sd = true
		}
	}
	// A company that opens the headline and adds protection for its own
	// users or products ("<firm> rolls out passkeys", "<firm> adds
	// ransomware protection to <product>") acts to protect its users.
	if !sd && !d.tags.StateLinked {
		if k, ok := d.companyProtects(); ok {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), d.fields[0], k, k+1, "company-protects-users")
			sd = true
		}
	}
	// A product's end of support or life, with its company named, is the
	// company warning its users (README: end-of-support warnings).
	if !sd && (len(d.tags.Signatories) > 0 || len(d.tags.Companies) > 0) {
		if f, c, ok := d.leadCueAny(cueEndOfSupport); ok {
			d.evidence("principle:"+string(accordwatch.StrongerDefense), f, c.start, c.end, "end-of-support")
			sd = true
		}
	}
	// A flaw in a product, or a DDoS on anything but public bodies, has a
	// product's users or a company's service on the line.
	if !sd && (primary == accordwatch.AttackVulnerability || primary == accordwatch.AttackDDoS && !public) {
		d.derived("principle:"+string(accordwatch.StrongerDefense), "product-or-service-attacked:"+primary)
		sd = true
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
		// ("…, <vendor> research finds") or when a named company or
		// organisation is the source: a vendor's research, not a news
		// story's passing "researchers say".
		if primary != accordwatch.AttackTakedown {
			if f, c, ok := d.leadCueAny(cueCapacity); ok {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "defender-guidance")
				add(accordwatch.CapacityBuilding)
			} else if t := d.fields[0]; len(t.toks) > 1 && guidanceGerunds[t.norm(0)] {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), t, 0, 1, "how-to-headline")
				add(accordwatch.CapacityBuilding)
			} else if k, ok := d.headlineWord(patchWords); ok && primary == accordwatch.AttackVulnerability {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), t, k, k+1, "patch-release")
				add(accordwatch.CapacityBuilding)
			} else if k, ok := d.newThreatHeadline(); ok {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), t, k, k+1, "new-threat-disclosed")
				add(accordwatch.CapacityBuilding)
			} else if f, c, ok := d.leadCueAny(cueCapacityResearch); ok && (f == d.fields[0] || d.leadReporter()) &&
				!(f == d.fields[0] && c.end == c.start+1 && d.sourcingMarker(c.start) && primary == accordwatch.AttackNone) {
				// A report noun that only sources a business headline
				// ("<firm> in talks to buy <firm>: report") is where the
				// news comes from, not research.
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "published-research")
				add(accordwatch.CapacityBuilding)
			}
		}
	}

	// collective-action: joint operations, coordinated advisories,
	// sanctions with partners, information sharing.
	if f, c, ok := d.leadCollective(); ok {
		d.evidence("principle:"+string(accordwatch.CollectiveAction), f, c.start, c.end, "joint-action")
		add(accordwatch.CollectiveAction)
	} else if f, start, end, ok := d.countriesActing(); ok {
		d.evidence("principle:"+string(accordwatch.CollectiveAction), f, start, end, "countries-acting-together")
		add(accordwatch.CollectiveAction)
	}
	d.tags.Principles = ps
}

// guidanceGerunds open a how-to headline ("Securing <thing> with…",
// "Protecting your <thing> from…"): the piece tells defenders what to do.
var guidanceGerunds = wordSet([]string{"securing", "ensuring", "protecting", "safeguarding", "defending", "hardening", "preventing", "mitigating", "detecting"})

// patchWords in a headline about a flaw announce the fix: patch advice.
var patchWords = wordSet([]string{"patch", "patches", "patched", "fix", "fixes", "fixed", "update", "updates"})

// threatNouns name a kind of malicious code or operation that
// researchers disclose.
var threatNouns = wordSet([]string{"malware", "ransomware", "variant", "botnet", "backdoor", "trojan", "stealer", "infostealer", "loader", "strain", "family", "rootkit", "spyware"})

// headlineWord finds the first headline word in set.
func (d *doc) headlineWord(set map[string]bool) (int, bool) {
	t := d.fields[0]
	for k := range t.toks {
		if set[t.norm(k)] {
			return k, true
		}
	}
	return 0, false
}

// protectionWords are what a company adds to protect its users.
var protectionWords = wordSet([]string{"protection", "protections", "defenses", "defences", "passkey", "passkeys", "shield"})

// addingWords put a protection in place: "<firm> adds…", "gets a new…",
// "to boost … defenses"; an award "for … protection platforms" has none.
var addingWords = wordSet([]string{"adds", "add", "added", "adding", "gets", "got", "getting", "new", "brings", "rolls", "introduces", "enables", "boost", "boosts", "strengthens", "expands", "enhances", "better", "stronger"})

// companyProtects finds a protection word, at most five words after a
// word that adds it (addingWords), in a headline that opens with a
// signatory or company name: the company is the one protecting. A headline addressed to the reader ("Modernize your defense
// with <product>") is marketing and does not open with the name.
func (d *doc) companyProtects() (int, bool) {
	t := d.fields[0]
	if len(t.ents) == 0 || t.ents[0].start != 0 {
		return 0, false
	}
	if k := d.c.kinds[t.ents[0].entry]; k != kSignatory && k != kCompany {
		return 0, false
	}
	for k := t.ents[0].end; k < len(t.toks); k++ {
		if !protectionWords[t.norm(k)] {
			continue
		}
		for j := max(t.ents[0].end, k-5); j < k; j++ {
			if addingWords[t.norm(j)] {
				return k, true
			}
		}
	}
	return 0, false
}

// newThreatHeadline finds "new" at most three words before a threat noun
// in the headline ("New <name> malware variant…", "a new botnet"): the
// disclosure of a threat someone has analysed, research that helps
// defenders.
func (d *doc) newThreatHeadline() (int, bool) {
	t := d.fields[0]
	for k := range t.toks {
		if t.norm(k) != "new" {
			continue
		}
		for j := k + 1; j < len(t.toks) && j <= k+3; j++ {
			if threatNouns[t.norm(j)] {
				return k, true
			}
		}
	}
	return 0, false
}

// notJointHeads follow "joint", "coordinated" or "collaboration" when the
// phrase names a product, a military drill or the attackers' own
// teamwork ("collaboration platforms", "joint forces", "coordinated
// attacks") rather than defenders acting together.
var notJointHeads = wordSet([]string{"platform", "platforms", "tool", "tools", "software", "suite", "apps", "forces", "drills", "exercise", "exercises", "venture", "ventures", "infrastructure", "attack", "attacks", "campaign", "campaigns"})

// leadCollective is the first collective-action cue in the headline or
// the lead story that is not followed by a notJointHeads word, nor by
// attackers as its agents ("coordinated efforts by <nationality> threat
// actors") within four words.
func (d *doc) leadCollective() (*field, hit, bool) {
	for _, f := range d.fields {
	next:
		for _, c := range f.cues[cueCollective] {
			if f != d.fields[0] && c.start >= d.lead {
				break
			}
			for k := c.end; k < len(f.toks) && k < c.end+5 && f.toks[k].sent == f.toks[c.end-1].sent; k++ {
				w := f.norm(k)
				if k == c.end && notJointHeads[w] || attackerWords[w] {
					continue next
				}
			}
			return f, c, true
		}
	}
	return nil, hit{}, false
}

// jointVerbs are what governments do together by the label rules:
// sanction, charge, seize, warn, advise.
var jointVerbs = wordSet([]string{"sanction", "sanctions", "sanctioned", "warn", "warns", "urge", "urges", "issue", "issues", "publish", "publishes", "release", "releases", "charge", "charges", "seize", "seizes", "dismantle", "dismantles", "disrupt", "disrupts", "announce", "announces"})

// countriesActing finds, in the headline or the lead story, two or more
// countries listed together ("<A>, <B> and <C>": nothing but commas and
// "and" between them) as the subject of a government action within four words after
// the list: the coordinated multi-country sanctions and advisories of the
// label rules. Rivals named side by side ("<A> and <B> trade blame") do
// not act together, so the verb is required.
func (d *doc) countriesActing() (*field, int, int, bool) {
	for _, f := range d.fields {
		n := 0
		first, last, prev := -1, -1, ""
		for _, h := range f.ents {
			if f != d.fields[0] && h.start >= d.lead {
				break
			}
			e := &d.c.entries[h.entry]
			if e.kind != kCountry {
				continue
			}
			if last >= 0 && (h.start == last || h.start == last+1 && f.norm(last) == "and") {
				if e.country != prev {
					n++
				}
			} else {
				n, first = 1, h.start
			}
			last, prev = h.end, e.country
			if n < 2 {
				continue
			}
			for k := last; k < len(f.toks) && k < last+4 && f.toks[k].sent == f.toks[last-1].sent; k++ {
				if jointVerbs[f.norm(k)] {
					return f, first, k + 1, true
				}
			}
		}
	}
	return nil, 0, 0, false
}

// leadCueAny is the first hit of cue in the headline or the lead story.
func (d *doc) leadCueAny(cue int) (*field, hit, bool) {
	for _, f := range d.fields {
		if c, ok := d.leadCue(f, cue); ok {
			return f, c, true
		}
	}
	return nil, hit{}, false
}

// inLead reports whether signatory i is named in the headline or the lead
// story (roles).
func (d *doc) inLead(i int) bool { return i >= 64 || d.sigLead&(1<<i) != 0 }

// leadReporter reports whether a named source (reporters) speaks in the
// headline or the lead story.
func (d *doc) leadReporter() bool {
	for _, r := range d.reporters() {
		if r.f == d.fields[0] || r.pos < d.lead {
			return true
		}
	}
	return false
}

// headlineEvent reports whether the headline names one attack event
// (headlineAttackEvent).
func (d *doc) headlineEvent() bool {
	_, ok := d.headlineAttackEvent()
	return ok
}

// concreteSecondary reports whether the attack types name a concrete
// attack besides the primary one (the crime a takedown answers).
func (d *doc) concreteSecondary() bool {
	for _, t := range d.tags.AttackTypes[1:] {
		if t != accordwatch.AttackPolicy && t != accordwatch.AttackNone && t != accordwatch.AttackTakedown {
			return true
		}
	}
	return false
}

// populationWords name whom an attack could reach, not that it did.
var populationWords = wordSet([]string{"users", "customers", "accounts", "protected"})

// leadImpact is the first victim-impact cue in the headline or the lead
// story that says an attack hit someone (not only "users", "customers").
func (d *doc) leadImpact() (*field, hit, bool) {
	for _, f := range d.fields {
		for _, c := range f.cues[cueVictimImpact] {
			if f != d.fields[0] && c.start >= d.lead {
				break
			}
			if !populationWords[f.norm(c.end-1)] {
				return f, c, true
			}
		}
	}
	return nil, hit{}, false
}
