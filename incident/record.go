package incident

import (
	"math"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Threshold is the score a report needs to join an incident by
// similarity.
func (c *Clusterer) Threshold() float64 { return c.threshold }

// Record turns the explanation of a merge into the record the incident
// keeps: which report joined (itemID, title, at its time t), at which
// threshold, and why.
func (e Explanation) Record(itemID, title string, t time.Time, threshold float64) accordwatch.IncidentMerge {
	m := accordwatch.IncidentMerge{
		ItemID: itemID, Title: title, At: t, Link: e.Link,
		Score: round3(e.Score), Threshold: threshold, Cosine: round3(e.Cosine),
		Numbers: e.Numbers, CVE: e.CVE, Attack: e.Attack, Subject: e.Subject, Specifics: e.Anchors,
		Penalty: round3(e.NameConflict + e.TimePenalty), Reason: e.String(),
	}
	if e.CVE != "" {
		m.Bonus += cveBonus
	}
	if e.Subject != "" {
		m.Bonus += subjectBonus
	}
	for _, s := range e.Shared {
		m.Shared = append(m.Shared, accordwatch.MergeTerm{Term: s.Term, Weight: round3(s.Weight)})
	}
	return m
}

// round3 keeps three decimals: the record is read by people, and stored
// once per merge.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
