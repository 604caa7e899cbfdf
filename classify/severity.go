package classify

import (
	"strconv"

	"github.com/accordwatch/accordwatch"
)

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

var typeSeverity = map[string]int{
	accordwatch.AttackRansomware: 15, accordwatch.AttackWiper: 20, accordwatch.AttackSupplyChain: 15,
	accordwatch.AttackDataBreach: 10, accordwatch.AttackEspionage: 10, accordwatch.AttackDDoS: 10,
	accordwatch.AttackVulnerability: 10, accordwatch.AttackPhishing: 5, accordwatch.AttackFraud: 5,
	accordwatch.AttackInfluence: 5,
}

// severity adds up the severity factors (attack type, state link,
// signatory involvement, critical infrastructure, active exploitation,
// scale), each with its evidence, capped at 100.
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
