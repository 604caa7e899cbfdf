package classify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed dict/*.json
var embedded embed.FS

// Dictionary is the format of the embedded dictionaries and of user
// dictionary files (JSON, or YAML with the same keys). Every section is
// optional; entries are merged by canonical name, later files winning.
type Dictionary struct {
	Signatories []Entry `json:"signatories,omitempty" yaml:"signatories,omitempty"`
	Companies   []Entry `json:"companies,omitempty" yaml:"companies,omitempty"`
	// Orgs are agencies and research outfits that attribute attacks
	// ("CISA", "Genians"); they are never tags themselves.
	Orgs   []Entry `json:"orgs,omitempty" yaml:"orgs,omitempty"`
	Actors []Entry `json:"actors,omitempty" yaml:"actors,omitempty"`
	// Families are naming schemes whose last word carries the country
	// ("<Word> Typhoon" is China).
	Families []Entry `json:"families,omitempty" yaml:"families,omitempty"`
	States   []Entry `json:"states,omitempty" yaml:"states,omitempty"`
	// Cues are named word lists used by the attribution, role, principle
	// and severity rules.
	Cues []Entry `json:"cues,omitempty" yaml:"cues,omitempty"`
	// Attacks are keyword lists per attack type, with a weight.
	Attacks []Entry `json:"attacks,omitempty" yaml:"attacks,omitempty"`
}

// Entry is one dictionary entry. Which fields matter depends on the section.
type Entry struct {
	Name string `json:"name" yaml:"name"`
	// Joined is a signatory's join date (YYYY-MM-DD).
	Joined string `json:"joined,omitempty" yaml:"joined,omitempty"`
	// Country is an actor's or family's attributed state.
	Country string `json:"country,omitempty" yaml:"country,omitempty"`
	// Kind is an actor's kind: apt, ransomware, crime, hacktivist, cluster.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Match lists the phrases that name the entry (case-insensitive).
	Match []string `json:"match,omitempty" yaml:"match,omitempty"`
	// CaseSensitive lists phrases that match only as written or in all
	// capitals ("Arm", "ARM"). A phrase not in any other list is a name.
	CaseSensitive []string `json:"case_sensitive,omitempty" yaml:"case_sensitive,omitempty"`
	// NotBefore and NotAfter reject a match preceded or followed by one of
	// these words ("blockchain Oracle", "RSA Conference").
	NotBefore []string `json:"not_before,omitempty" yaml:"not_before,omitempty"`
	NotAfter  []string `json:"not_after,omitempty" yaml:"not_after,omitempty"`
	// States only: demonyms, capitals (and seats or leaders of power) and
	// state agencies.
	Demonyms []string `json:"demonyms,omitempty" yaml:"demonyms,omitempty"`
	Capitals []string `json:"capitals,omitempty" yaml:"capitals,omitempty"`
	Agencies []string `json:"agencies,omitempty" yaml:"agencies,omitempty"`
	// Attributable is false for states that the rules never name as the
	// attacker (they appear as victims and accusers); default true.
	Attributable *bool `json:"attributable,omitempty" yaml:"attributable,omitempty"`
	// Weight is an attack keyword list's weight.
	Weight int `json:"weight,omitempty" yaml:"weight,omitempty"`
}

// loadEmbedded reads every embedded dictionary in name order.
func loadEmbedded() (Dictionary, error) {
	var d Dictionary
	ents, err := embedded.ReadDir("dict")
	if err != nil {
		return d, fmt.Errorf("read embedded dictionaries: %w", err)
	}
	for _, e := range ents {
		data, err := embedded.ReadFile("dict/" + e.Name())
		if err != nil {
			return d, fmt.Errorf("read embedded dictionary %s: %w", e.Name(), err)
		}
		var part Dictionary
		if err := decodeJSON(data, &part); err != nil {
			return d, fmt.Errorf("embedded dictionary %s: %w", e.Name(), err)
		}
		d.merge(part)
	}
	return d, nil
}

// loadFile reads a user dictionary; the extension picks JSON or YAML.
func loadFile(path string) (Dictionary, error) {
	var d Dictionary
	data, err := os.ReadFile(path)
	if err != nil {
		return d, fmt.Errorf("read dictionary: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		err = decodeJSON(data, &d)
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&d)
	default:
		return d, fmt.Errorf("dictionary %s: unknown extension, want .json, .yaml or .yml", path)
	}
	if err != nil {
		return d, fmt.Errorf("dictionary %s: %w", path, err)
	}
	return d, nil
}

func decodeJSON(data []byte, d *Dictionary) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(d)
}

// merge adds o's entries to d; an entry whose name (case-insensitive)
// already exists in the same section replaces it.
func (d *Dictionary) merge(o Dictionary) {
	d.Signatories = mergeEntries(d.Signatories, o.Signatories)
	d.Companies = mergeEntries(d.Companies, o.Companies)
	d.Orgs = mergeEntries(d.Orgs, o.Orgs)
	d.Actors = mergeEntries(d.Actors, o.Actors)
	d.Families = mergeEntries(d.Families, o.Families)
	d.States = mergeEntries(d.States, o.States)
	d.Cues = mergeEntries(d.Cues, o.Cues)
	d.Attacks = mergeEntries(d.Attacks, o.Attacks)
}

func mergeEntries(base, over []Entry) []Entry {
	for _, e := range over {
		replaced := false
		for i := range base {
			if strings.EqualFold(base[i].Name, e.Name) {
				base[i] = e
				replaced = true
				break
			}
		}
		if !replaced {
			base = append(base, e)
		}
	}
	return base
}
