package accordwatch

import "time"

// IncidentMerge records why a report joined an incident: the score its
// clusterer gave it against the incident's most similar report, the
// threshold it had to reach, and the shared specifics behind the score,
// so that a wrong merge can be understood after the fact.
type IncidentMerge struct {
	// ItemID and Title are the report that joined; At is its time.
	ItemID string    `json:"item_id"`
	Title  string    `json:"title,omitempty"`
	At     time.Time `json:"at"`
	// Link is set when the report shares the incident's canonical link,
	// which decides alone (Score is then 1).
	Link bool `json:"link,omitempty"`
	// Score reached Threshold; Cosine is the similarity of headline and
	// lead terms behind it.
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Cosine    float64 `json:"cosine,omitempty"`
	// Shared are the shared terms that weighed most, with their share of
	// the cosine; Numbers, CVE and Attack are the shared specifics that
	// are not terms. Subject is the rare name both headlines carry when
	// it earned a bonus with the shared attack type.
	Shared  []MergeTerm `json:"shared,omitempty"`
	Numbers []string    `json:"numbers,omitempty"`
	CVE     string      `json:"cve,omitempty"`
	Attack  string      `json:"attack,omitempty"`
	Subject string      `json:"subject,omitempty"`
	// Specifics counts the shared specifics (a merge needs two).
	Specifics int `json:"specifics,omitempty"`
	// Bonus and Penalty are what the score gained and lost besides the
	// cosine; Reason is the clusterer's one-line account of all of it.
	Bonus   float64 `json:"bonus,omitempty"`
	Penalty float64 `json:"penalty,omitempty"`
	Reason  string  `json:"reason"`
}

// MergeTerm is one shared term and its share of a merge's cosine.
type MergeTerm struct {
	Term   string  `json:"term"`
	Weight float64 `json:"weight"`
}

// MaxIncidentMerges bounds the merge records an incident keeps: the first
// half (how the story formed) and the latest ones. A story with hundreds
// of reports must not grow its record without bound.
const MaxIncidentMerges = 16

// AddMerge records a merge, dropping the oldest of the latest records
// once MaxIncidentMerges are kept.
func (i *Incident) AddMerge(m IncidentMerge) {
	if len(i.Merges) >= MaxIncidentMerges {
		keep := MaxIncidentMerges / 2
		i.Merges = append(i.Merges[:keep], i.Merges[keep+1:]...)
	}
	i.Merges = append(i.Merges, m)
}

// IncidentDetail is an incident with the reports it holds, as the API
// and `accordwatch incidents show` present it.
type IncidentDetail struct {
	Incident Incident `json:"incident"`
	// Items are the stored reports among Incident.ItemIDs, in its order.
	Items []IncidentItem `json:"items"`
}

// IncidentItem is one report of an incident.
type IncidentItem struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Link      string    `json:"link,omitempty"`
	Feed      string    `json:"feed,omitempty"`
	Published time.Time `json:"published"`
}
