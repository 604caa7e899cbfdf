package dictimport

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch/classify"
)

func TestImportActorsLayersOverBase(t *testing.T) {
	base, err := classify.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	misp := `{"values":[
 {"value":"APT28","meta":{"country":"RU","synonyms":["Fancy Bear","Pawn Storm Reloaded"]}},
 {"value":"Glasswing Mantis","meta":{"country":"CN","synonyms":["GLASSWING","Moscow","TA4999"]}},
 {"value":"Nobody Special","meta":{"synonyms":["the"]}}
]}`
	fresh, err := ActorsFromMISP(strings.NewReader(misp))
	if err != nil {
		t.Fatal(err)
	}
	dict, st := ImportActors(base, fresh)
	byName := map[string]classify.Entry{}
	for _, e := range dict.Actors {
		byName[e.Name] = e
	}
	apt28, ok := byName["APT28"]
	if !ok {
		t.Fatalf("APT28 gained an alias but is not in the import: %+v", dict.Actors)
	}
	if !slices.Contains(slices.Concat(apt28.Match, apt28.CaseSensitive), "Pawn Storm Reloaded") {
		t.Errorf("APT28 lacks the new alias: %+v", apt28)
	}
	var baseAPT28 classify.Entry
	for _, e := range base.Actors {
		if e.Name == "APT28" {
			baseAPT28 = e
		}
	}
	if apt28.Country != baseAPT28.Country || apt28.Kind != baseAPT28.Kind || len(apt28.Match)+len(apt28.CaseSensitive) <= len(baseAPT28.Match)+len(baseAPT28.CaseSensitive) {
		t.Errorf("the base entry's fields and aliases must survive: got %+v, base %+v", apt28, baseAPT28)
	}
	gm, ok := byName["Glasswing Mantis"]
	if !ok || gm.Country != "China" {
		t.Fatalf("new actor: got %+v", gm)
	}
	for _, a := range slices.Concat(gm.Match, gm.CaseSensitive) {
		if a == "Moscow" || a == "TA4999" {
			t.Errorf("alias %q should have been dropped (a capital; a cluster ID)", a)
		}
	}
	if _, ok := byName["Nobody Special"]; ok && st.New > 1 {
		// "the" is unusable; the name itself may stay.
		for _, a := range byName["Nobody Special"].Match {
			if a == "the" {
				t.Error("common word kept as an alias")
			}
		}
	}
	if st.Read != 3 || st.New < 1 || st.Extended < 1 || st.AliasesDropped < 2 {
		t.Errorf("stats %+v", st)
	}

	// The import loads as a user dictionary and takes effect.
	raw, err := json.Marshal(dict)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "imported.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(classify.Options{ExtraDictionaries: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	tags := c.Classify("Glasswing Mantis hits telecoms", "", time.Time{})
	if !slices.Contains(tags.Actors, "Glasswing Mantis") || !slices.Contains(tags.States, "China") {
		t.Errorf("imported actor not used: %+v", tags)
	}
	tags = c.Classify("Pawn Storm Reloaded targets ministries", "", time.Time{})
	if !slices.Contains(tags.Actors, "APT28") {
		t.Errorf("new alias not resolved to APT28: %+v", tags.Actors)
	}
}
