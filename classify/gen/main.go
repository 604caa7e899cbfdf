// Command gen writes the generated dictionaries of package classify
// (dict/actors.gen.json, dict/signatories.gen.json) from the shared
// reference data and the curated inputs kept beside this file. Run it with
// `go generate ./classify/`; the output is sorted and byte-stable, so a
// second run changes nothing. See README.md for sources and licences.
package main

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/accordwatch/accordwatch/classify"
	"github.com/accordwatch/accordwatch/classify/dictimport"
)

// options says where the inputs are and where the output goes.
type options struct {
	Data    string // ../shared/data
	Curated string // classify/gen
	Dict    string // classify/dict: states.json and companies.json are read, *.gen.json written
}

func main() {
	root, err := moduleRoot()
	if err != nil {
		log.Fatal(err)
	}
	var o options
	flag.StringVar(&o.Data, "data", filepath.Join(root, "..", "shared", "data"), "shared reference data folder")
	flag.StringVar(&o.Curated, "curated", filepath.Join(root, "classify", "gen"), "folder of curated-*.json")
	flag.StringVar(&o.Dict, "dict", filepath.Join(root, "classify", "dict"), "dictionary folder to write into")
	flag.Parse()
	files, stats, err := generate(o)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(filepath.Join(o.Dict, name), files[name], 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Print(stats)
}

// moduleRoot walks up from the working directory to go.mod, so the
// defaults hold whether run by go generate (in classify/) or by hand.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// curatedActors is gen/curated-actors.json: hand-kept actors and
// families (the dictionary format) plus aliases no dataset may add.
type curatedActors struct {
	Actors   []classify.Entry `json:"actors"`
	Families []classify.Entry `json:"families"`
	// DropAliases are dataset aliases that misfire in news ("Akira" the
	// name, not the gang); curated entries may still list them.
	DropAliases []string `json:"drop_aliases"`
}

// generate returns the files to write, by name, and a summary line.
func generate(o options) (map[string][]byte, string, error) {
	var cur curatedActors
	if err := readJSON(filepath.Join(o.Curated, "curated-actors.json"), &cur); err != nil {
		return nil, "", err
	}
	var curSig classify.Dictionary
	if err := readJSON(filepath.Join(o.Curated, "curated-signatories.json"), &curSig); err != nil {
		return nil, "", err
	}
	var states, companies classify.Dictionary
	if err := readJSON(filepath.Join(o.Dict, "states.json"), &states); err != nil {
		return nil, "", err
	}
	if err := readJSON(filepath.Join(o.Dict, "companies.json"), &companies); err != nil {
		return nil, "", err
	}
	sigs, err := signatories(filepath.Join(o.Data, "accord"), curSig.Signatories)
	if err != nil {
		return nil, "", err
	}

	ta := filepath.Join(o.Data, "threat-actors")
	attack, err := readActors(filepath.Join(ta, "attack-groups.json"), dictimport.ActorsFromATTACK)
	if err != nil {
		return nil, "", err
	}
	misp, err := readActors(filepath.Join(ta, "misp-threat-actor.json"), dictimport.ActorsFromMISP)
	if err != nil {
		return nil, "", err
	}
	ms, err := readActors(filepath.Join(ta, "microsoft-threat-actor-naming.json"), dictimport.ActorsFromMicrosoft)
	if err != nil {
		return nil, "", err
	}

	// Dataset aliases that are another section's phrase (a state, its
	// agency, a company) or on the curated drop list never become actors.
	reserved := map[string]bool{}
	for _, a := range cur.DropAliases {
		reserved[key(a)] = true
	}
	for _, d := range []classify.Dictionary{states, companies, {Signatories: sigs}} {
		for _, sec := range [][]classify.Entry{d.Signatories, d.Companies, d.Orgs, d.States} {
			for _, e := range sec {
				for _, l := range [][]string{{e.Name}, e.Match, e.CaseSensitive, e.Demonyms, e.Capitals, e.Agencies} {
					for _, p := range l {
						reserved[key(p)] = true
					}
				}
			}
		}
	}
	for _, f := range cur.Families {
		for _, m := range f.Match {
			reserved[key(m)] = true // a bare "Typhoon" is a family, not an actor
		}
	}
	known := map[string]bool{}
	for _, s := range states.States {
		known[s.Name] = true
	}
	var dropped, cleared int
	clean := func(set []classify.Entry) []classify.Entry {
		out := set[:0]
		for _, e := range set {
			drop := func(a string) bool {
				if reserved[key(a)] {
					dropped++
					return true
				}
				return false
			}
			e.Match = slices.DeleteFunc(e.Match, drop)
			e.CaseSensitive = slices.DeleteFunc(e.CaseSensitive, drop)
			if e.Country != "" && !known[e.Country] {
				// The tagger can only attribute to states it knows.
				e.Country = ""
				cleared++
			}
			if len(e.Match)+len(e.CaseSensitive) > 0 {
				out = append(out, e)
			}
		}
		return out
	}
	attack, misp, ms = clean(attack), clean(misp), clean(ms)

	merged := dictimport.MergeActors(cur.Actors, attack, misp, ms)
	// Curated entries are authoritative for everything but aliases, even
	// where they leave a field empty (a hacktivist crew has no country
	// even if a dataset says where it is based).
	byName := map[string]classify.Entry{}
	for _, e := range cur.Actors {
		byName[e.Name] = e
	}
	aliases, pruned := 0, 0
	for i, e := range merged {
		c, isCurated := byName[e.Name]
		if isCurated {
			e.Kind, e.Country = c.Kind, c.Country
			e.NotBefore, e.NotAfter = c.NotBefore, c.NotAfter
		}
		// A vendor cluster ID that the tagger recognises by its shape
		// (TA4557, UNC3524, Storm-0538) stays its own tag: vendors say such
		// clusters overlap a group, not that they are it. Curated entries
		// may still list one.
		curatedAlias := map[string]bool{}
		for _, a := range slices.Concat(c.Match, c.CaseSensitive) {
			curatedAlias[a] = true
		}
		e.Match = slices.DeleteFunc(e.Match, func(a string) bool {
			if classify.IsClusterID(a) && key(a) != key(e.Name) && !curatedAlias[a] {
				pruned++
				return true
			}
			return false
		})
		merged[i] = e
		aliases += len(e.Match) + len(e.CaseSensitive)
	}
	families := slices.Clone(cur.Families)
	slices.SortFunc(families, func(a, b classify.Entry) int { return cmp.Compare(a.Name, b.Name) })

	actorsJSON, err := encode([]section{{"actors", merged}, {"families", families}})
	if err != nil {
		return nil, "", err
	}
	sigJSON, err := encode([]section{{"signatories", sigs}})
	if err != nil {
		return nil, "", err
	}
	stats := fmt.Sprintf("actors: %d (ATT&CK %d, MISP %d, Microsoft %d, curated %d) with %d aliases; %d dataset aliases reserved by other sections or the drop list; %d cluster IDs left to the shape rule; %d countries outside states.json cleared; signatories: %d",
		len(merged), len(attack), len(misp), len(ms), len(cur.Actors), aliases, dropped, pruned, cleared, len(sigs))
	return map[string][]byte{
		"actors.gen.json":        actorsJSON,
		"actors.gen.json.NOTICE": []byte(actorsNotice),
		"signatories.gen.json":   sigJSON,
	}, stats, nil
}

// actorsNotice travels with the generated actors file, as the ATT&CK
// terms and CC BY 4.0 require.
const actorsNotice = `actors.gen.json is generated by classify/gen (go generate ./classify/) from:

- MITRE ATT&CK intrusion sets (github.com/mitre/cti, enterprise-attack/intrusion-set).
  © 2025 The MITRE Corporation. This work is reproduced and distributed with the
  permission of The MITRE Corporation. ATT&CK® is used under the MITRE ATT&CK terms of
  use; the full licence text is in ../gen/ATTACK-LICENSE.txt.
- MISP galaxy threat-actor cluster (github.com/MISP/misp-galaxy), CC0-1.0 or BSD-2-Clause.
- Microsoft threat actor naming map (github.com/microsoft/mstic,
  PublicFeeds/ThreatActorNaming/MicrosoftMapping.json), © Microsoft Corporation,
  licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Changes: aliases
  filtered and merged with the other sources, countries normalised.
- The curated entries in ../gen/curated-actors.json.
`

// key is a loose comparison key for phrases: lower case, words only.
func key(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

func readActors(path string, parse func(io.Reader) ([]classify.Entry, error)) ([]classify.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read actors: %w", err)
	}
	defer f.Close()
	es, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return es, nil
}

// signatories joins accord/signatories.csv (name, joined date) and
// signatory-name-variants.csv (spellings seen in print) with the curated
// entries, which hold former and parent names and the ambiguity rules.
// The CSV's join date wins; a curated signatory missing from the CSV must
// carry its own.
func signatories(dir string, curated []classify.Entry) ([]classify.Entry, error) {
	rows, err := readCSV(filepath.Join(dir, "signatories.csv"), "name", "joined")
	if err != nil {
		return nil, err
	}
	cur := map[string]classify.Entry{}
	for _, e := range curated {
		cur[e.Name] = e
	}
	var out []classify.Entry
	index := map[string]int{}
	for _, r := range rows {
		name, joined := r[0], r[1]
		e, ok := cur[name]
		if !ok {
			e = classify.Entry{Name: name}
			addSpelling(&e, name)
		}
		delete(cur, name)
		e.Joined = joined
		e.Sources = nil // provenance stays in the curated input, where the cue guard reads it
		index[name] = len(out)
		out = append(out, e)
	}
	for _, e := range curated {
		if _, left := cur[e.Name]; !left {
			continue
		}
		if e.Joined == "" {
			return nil, fmt.Errorf("curated signatory %q is not in signatories.csv and has no joined date", e.Name)
		}
		index[e.Name] = len(out)
		e.Sources = nil
		out = append(out, e)
	}
	variants, err := readCSV(filepath.Join(dir, "signatory-name-variants.csv"), "name", "variant_as_printed")
	if err != nil {
		return nil, err
	}
	for _, v := range variants {
		i, ok := index[v[0]]
		if !ok {
			continue // "HP Inc.|HPE (ambiguous in source)": the source does not say which
		}
		addSpelling(&out[i], v[1])
	}
	slices.SortFunc(out, func(a, b classify.Entry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// addSpelling adds a spelling unless the entry already matches it; short
// or all-capital spellings ("HP", "ARM") only match case-sensitively.
func addSpelling(e *classify.Entry, s string) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	k := key(s)
	if k == "" {
		return
	}
	for _, p := range slices.Concat(e.Match, e.CaseSensitive) {
		if key(p) == k {
			return
		}
	}
	if len(k) <= 4 || (strings.ToUpper(s) == s && !strings.Contains(s, " ")) {
		e.CaseSensitive = append(e.CaseSensitive, s)
		return
	}
	e.Match = append(e.Match, s)
}

// readCSV returns the given columns of every row, checking the header.
func readCSV(path string, cols ...string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("parse %s: empty", path)
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(recs[0], c)
		if idx[i] < 0 {
			return nil, fmt.Errorf("parse %s: no %q column", path, c)
		}
	}
	var out [][]string
	for _, r := range recs[1:] {
		row := make([]string, len(cols))
		for i, j := range idx {
			row[i] = strings.TrimSpace(r[j])
		}
		if row[0] != "" {
			out = append(out, row)
		}
	}
	return out, nil
}

type section struct {
	name    string
	entries []classify.Entry
}

// encode writes one entry per line: compact enough to embed, and a
// change to one actor is a one-line diff.
func encode(secs []section) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n")
	for si, s := range secs {
		fmt.Fprintf(&b, "  %q: [\n", s.name)
		for i, e := range s.entries {
			var line bytes.Buffer
			enc := json.NewEncoder(&line)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(e); err != nil {
				return nil, fmt.Errorf("encode %s %q: %w", s.name, e.Name, err)
			}
			b.WriteString("    ")
			b.Write(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
			if i < len(s.entries)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("  ]")
		if si < len(secs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}
