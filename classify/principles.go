package classify

import "github.com/accordwatch/accordwatch"

// principles derives the accord principles an item bears on from the
// other tags, the signatories' roles and the principle cue lists.
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
			if f, c, ok := d.anyCue(cueCapacity); ok {
				d.evidence("principle:"+string(accordwatch.CapacityBuilding), f, c.start, c.end, "defender-guidance")
				add(accordwatch.CapacityBuilding)
			} else if f, c, ok := d.anyCue(cueCapacityResearch); ok && (f == d.fields[0] || len(d.reporters()) > 0) &&
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
	if f, c, ok := d.anyCue(cueCollective); ok {
		d.evidence("principle:"+string(accordwatch.CollectiveAction), f, c.start, c.end, "joint-action")
		add(accordwatch.CollectiveAction)
	}
	d.tags.Principles = ps
}
