package classify

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// StateTheft (states only) says the state's own units steal money and
	// crypto (MITRE ATT&CK, APT38: "a North Korean state-sponsored threat
	// group that specializes in financial cyber operations"), so a theft
	// of money beside its name is no sign of crime (moneyTheftNear).
	StateTheft bool `json:"state_theft,omitempty" yaml:"state_theft,omitempty"`
	// Attributable is false for states that the rules never name as the
	// attacker (they appear as victims and accusers); default true.
	Attributable *bool `json:"attributable,omitempty" yaml:"attributable,omitempty"`
	// Weight is an attack keyword list's weight.
	Weight int `json:"weight,omitempty" yaml:"weight,omitempty"`
	// Sources names, for a phrase of the entry, a public source that uses
	// it: an https URL, or "dataset:<key>" for one of the datasets below. The
	// tagger ignores it. A curated phrase that occurs in fewer than two
	// unlabelled news items needs one (see dict/README.md).
	Sources map[string]string `json:"sources,omitempty" yaml:"sources,omitempty"`
}

// sourceDatasets are the public datasets that an entry's Sources may name
// as "dataset:<key>", with where each is published. ../shared/data keeps a
// copy of each (see its README), against which the cue guard test checks
// that the phrase really occurs there.
var sourceDatasets = map[string]string{
	"misp-galaxy":        "github.com/MISP/misp-galaxy clusters/threat-actor.json",
	"mitre-attack":       "github.com/mitre/cti enterprise-attack intrusion sets",
	"microsoft-naming":   "github.com/microsoft/mstic PublicFeeds/ThreatActorNaming/MicrosoftMapping.json",
	"apt-groups":         "APT Groups and Operations sheet (apt.threattracking.com), CC BY 4.0",
	"secai-apt-actors":   "github.com/SecAI-Lab/A-Decade-long-Landscape-of-Advanced-Persistent-Threats Threat_Actor_Collection.csv",
	"accord-signatories": "Tech Accord founding signatories and the spellings printed in its press coverage (shared/data/accord)",
}

// checkSource reports what is wrong with a phrase's source, or "".
func checkSource(src string) string {
	if key, ok := strings.CutPrefix(src, "dataset:"); ok {
		if _, known := sourceDatasets[key]; !known {
			return fmt.Sprintf("unknown dataset %q", key)
		}
		return ""
	}
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Sprintf("%q is neither an https URL nor dataset:<key>", src)
	}
	return ""
}

// Embedded returns the dictionaries compiled into the binary, merged: the
// base that `accordwatch dict import` layers a newer dataset release over.
func Embedded() (Dictionary, error) { return loadEmbedded() }

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
		part, err := decodeJSONDict("dict/"+e.Name(), data, false)
		if err != nil {
			return d, fmt.Errorf("embedded dictionary: %w", err)
		}
		d.merge(part)
	}
	return d, nil
}

// loadFile reads a user dictionary; the extension picks JSON or YAML.
// Malformed entries are reported as *DictionaryError with the line.
func loadFile(path string) (Dictionary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Dictionary{}, fmt.Errorf("read dictionary: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return decodeJSONDict(path, data, true)
	case ".yaml", ".yml":
		return decodeYAMLDict(path, data)
	default:
		return Dictionary{}, fmt.Errorf("dictionary %s: unknown extension, want .json, .yaml or .yml", path)
	}
}

// DictionaryError is a malformed dictionary file or entry.
type DictionaryError struct {
	File string
	Line int    // 1-based; 0 when unknown
	Path string // "actors[3]", "actors[3].joined"; empty for the whole file
	Msg  string
}

func (e *DictionaryError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// sections maps a dictionary's top-level keys to its entry lists.
func (d *Dictionary) sections() map[string]*[]Entry {
	return map[string]*[]Entry{
		"signatories": &d.Signatories, "companies": &d.Companies, "orgs": &d.Orgs, "actors": &d.Actors,
		"families": &d.Families, "states": &d.States, "cues": &d.Cues, "attacks": &d.Attacks,
	}
}

// entryFields are Entry's keys, the same in JSON and YAML.
var entryFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Entry]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// decodeJSONDict decodes a JSON dictionary entry by entry, so an error
// names the entry and the line it is on (computed from the decoder's
// offsets). validate adds the checks for user files.
func decodeJSONDict(file string, data []byte, validate bool) (Dictionary, error) {
	var d Dictionary
	secs := d.sections()
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(off int64, path, format string, args ...any) error {
		return &DictionaryError{File: file, Line: lineAt(data, off), Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	syntax := func(err error, path string) error {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		if errors.Is(err, io.EOF) {
			return fail(off, path, "unexpected end of file")
		}
		return fail(off, path, "%v", err)
	}
	delim := func(want json.Delim, path string) error {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return syntax(err, path)
		}
		if tok != want {
			return fail(off, path, "got %v, want %q", tok, want)
		}
		return nil
	}
	if err := delim('{', ""); err != nil {
		return d, err
	}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return d, syntax(err, "")
		}
		key, _ := tok.(string)
		list, ok := secs[key]
		if !ok {
			return d, fail(off, "", "unknown section %q (want one of signatories, companies, orgs, actors, families, states, cues, attacks)", key)
		}
		if err := delim('[', key); err != nil {
			return d, err
		}
		for i := 0; dec.More(); i++ {
			path := key + "[" + strconv.Itoa(i) + "]"
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return d, syntax(err, path)
			}
			// The value ends at the decoder's offset; it starts len(raw)
			// bytes earlier.
			start := dec.InputOffset() - int64(len(raw))
			var e Entry
			ed := json.NewDecoder(bytes.NewReader(raw))
			ed.DisallowUnknownFields()
			if err := ed.Decode(&e); err != nil {
				at := start
				var te *json.UnmarshalTypeError
				switch {
				case errors.As(err, &te):
					at += te.Offset
					if te.Field != "" {
						path += "." + te.Field
					}
					err = fmt.Errorf("got %s, want %s", te.Value, te.Type)
				case strings.HasPrefix(err.Error(), "json: unknown field "):
					field := strings.TrimPrefix(err.Error(), "json: unknown field ")
					if k := bytes.Index(raw, []byte(field)); k >= 0 {
						at += int64(k)
					}
					err = fmt.Errorf("unknown field %s", field)
				}
				return d, fail(at, path, "%v", err)
			}
			if validate {
				if field, msg := e.check(key); msg != "" {
					at := start
					if k := bytes.Index(raw, []byte(`"`+field+`"`)); field != "" && k >= 0 {
						at += int64(k)
					}
					p := path
					if field != "" && field != "name" {
						p += "." + field
					}
					return d, fail(at, p, "%s", msg)
				}
			}
			*list = append(*list, e)
		}
		if err := delim(']', key); err != nil {
			return d, err
		}
	}
	if err := delim('}', ""); err != nil {
		return d, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, fail(dec.InputOffset(), "", "unexpected data after the dictionary")
	}
	return d, nil
}

// decodeYAMLDict decodes a YAML dictionary through its node tree, so every
// error carries the line of the offending key or entry.
func decodeYAMLDict(file string, data []byte) (Dictionary, error) {
	var d Dictionary
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// yaml.v3 numbers the lines of some syntax errors from zero or
		// from the enclosing block, so its message is passed on as is.
		return d, &DictionaryError{File: file, Msg: err.Error()}
	}
	if len(root.Content) == 0 { // an empty file is an empty dictionary
		return d, nil
	}
	fail := func(n *yaml.Node, path, format string, args ...any) error {
		return &DictionaryError{File: file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return d, fail(doc, "", "want a mapping of sections")
	}
	secs := d.sections()
	for k := 0; k+1 < len(doc.Content); k += 2 {
		kn, vn := doc.Content[k], doc.Content[k+1]
		list, ok := secs[kn.Value]
		if !ok {
			return d, fail(kn, "", "unknown section %q (want one of signatories, companies, orgs, actors, families, states, cues, attacks)", kn.Value)
		}
		if vn.Kind != yaml.SequenceNode {
			if vn.Tag == "!!null" {
				continue
			}
			return d, fail(vn, kn.Value, "want a list of entries")
		}
		for i, en := range vn.Content {
			path := kn.Value + "[" + strconv.Itoa(i) + "]"
			if en.Kind != yaml.MappingNode {
				return d, fail(en, path, "want a mapping")
			}
			lines := map[string]int{}
			for f := 0; f+1 < len(en.Content); f += 2 {
				fk := en.Content[f]
				if !entryFields[fk.Value] {
					return d, fail(fk, path, "unknown field %q", fk.Value)
				}
				lines[fk.Value] = fk.Line
			}
			var e Entry
			if err := en.Decode(&e); err != nil {
				msg := err.Error()
				var te *yaml.TypeError
				if errors.As(err, &te) && len(te.Errors) > 0 {
					msg = strings.Join(te.Errors, "; ")
				}
				return d, fail(en, path, "%s", msg)
			}
			if field, msg := e.check(kn.Value); msg != "" {
				n := en
				p := path
				if l, ok := lines[field]; ok {
					n = &yaml.Node{Line: l}
				}
				if field != "" && field != "name" {
					p += "." + field
				}
				return d, fail(n, p, "%s", msg)
			}
			*list = append(*list, e)
		}
	}
	return d, nil
}

// check validates a user entry of section sec; it returns the offending
// field and why, or "" when the entry is fine.
func (e *Entry) check(sec string) (field, msg string) {
	if strings.TrimSpace(e.Name) == "" {
		return "name", "name is required"
	}
	if e.Joined != "" {
		if _, err := time.Parse(time.DateOnly, e.Joined); err != nil {
			return "joined", fmt.Sprintf("%q is not a date (want YYYY-MM-DD)", e.Joined)
		}
	}
	phrases := len(e.Match) + len(e.CaseSensitive) + len(e.Demonyms) + len(e.Capitals) + len(e.Agencies)
	if phrases == 0 {
		return "match", "at least one phrase is required (match or case_sensitive)"
	}
	for _, list := range [][]string{e.Match, e.CaseSensitive, e.Demonyms, e.Capitals, e.Agencies} {
		for _, p := range list {
			if len(words(p)) == 0 {
				return "match", fmt.Sprintf("phrase %q has no letters or digits", p)
			}
		}
	}
	if sec == "attacks" && e.Weight < 0 {
		return "weight", "weight must not be negative"
	}
	if len(e.Sources) > 0 {
		listed := map[string]bool{}
		for _, list := range [][]string{e.Match, e.CaseSensitive, e.Demonyms, e.Capitals, e.Agencies} {
			for _, p := range list {
				listed[p] = true
			}
		}
		for _, p := range slices.Sorted(maps.Keys(e.Sources)) {
			if !listed[p] {
				return "sources", fmt.Sprintf("%q is not a phrase of this entry", p)
			}
			if msg := checkSource(e.Sources[p]); msg != "" {
				return "sources", fmt.Sprintf("%q: %s", p, msg)
			}
		}
	}
	return "", ""
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
	if len(over) == 0 {
		return base
	}
	at := make(map[string]int, len(base)+len(over))
	for i, e := range base {
		at[strings.ToLower(e.Name)] = i
	}
	for _, e := range over {
		k := strings.ToLower(e.Name)
		if i, ok := at[k]; ok {
			base[i] = e
			continue
		}
		at[k] = len(base)
		base = append(base, e)
	}
	return base
}
