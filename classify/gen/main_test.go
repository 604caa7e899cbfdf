package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch/classify"
)

const data = "../../../shared/data"

// TestGeneratedUpToDate regenerates the dictionaries and compares them
// with the committed files, so a stale generated file fails CI. Run
// `go generate ./classify/` to fix a failure.
func TestGeneratedUpToDate(t *testing.T) {
	if _, err := os.Stat(data); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", data)
	}
	files, stats, err := generate(options{Data: data, Curated: ".", Dict: "../dict"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	for name, got := range files {
		want, err := os.ReadFile(filepath.Join("../dict", name))
		if err != nil {
			t.Fatalf("%v (run go generate ./classify/)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dict/%s is stale: run go generate ./classify/", name)
		}
	}
	// Idempotent: a second run yields the same bytes.
	again, _, err := generate(options{Data: data, Curated: ".", Dict: "../dict"})
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if !bytes.Equal(files[name], again[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestGeneratedKeepsCurated: every curated alias and rule survives into
// the generated files, and the result loads as a dictionary.
func TestGeneratedKeepsCurated(t *testing.T) {
	if _, err := os.Stat(data); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", data)
	}
	files, _, err := generate(options{Data: data, Curated: ".", Dict: "../dict"})
	if err != nil {
		t.Fatal(err)
	}
	var gotActors, gotSigs classify.Dictionary
	if err := decodeStrict(files["actors.gen.json"], &gotActors); err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(files["signatories.gen.json"], &gotSigs); err != nil {
		t.Fatal(err)
	}
	var cur curatedActors
	if err := readJSON("curated-actors.json", &cur); err != nil {
		t.Fatal(err)
	}
	var curSig classify.Dictionary
	if err := readJSON("curated-signatories.json", &curSig); err != nil {
		t.Fatal(err)
	}
	check := func(section string, curated, got []classify.Entry, withJoined bool) {
		byName := map[string]classify.Entry{}
		for _, e := range got {
			byName[e.Name] = e
		}
		for _, c := range curated {
			g, ok := byName[c.Name]
			if !ok {
				t.Errorf("%s %q: missing", section, c.Name)
				continue
			}
			has := func(list []string, p string) bool {
				for _, x := range list {
					if x == p {
						return true
					}
				}
				return false
			}
			for _, p := range c.Match {
				if !has(g.Match, p) {
					t.Errorf("%s %q: match %q lost", section, c.Name, p)
				}
			}
			for _, p := range c.CaseSensitive {
				if !has(g.CaseSensitive, p) {
					t.Errorf("%s %q: case_sensitive %q lost", section, c.Name, p)
				}
			}
			if strings.Join(g.NotBefore, ",") != strings.Join(c.NotBefore, ",") || strings.Join(g.NotAfter, ",") != strings.Join(c.NotAfter, ",") {
				t.Errorf("%s %q: context rules changed", section, c.Name)
			}
			if g.Country != c.Country || g.Kind != c.Kind {
				t.Errorf("%s %q: got country/kind %q/%q, want %q/%q", section, c.Name, g.Country, g.Kind, c.Country, c.Kind)
			}
			if withJoined && g.Joined != c.Joined {
				t.Errorf("%s %q: got joined %q, want %q", section, c.Name, g.Joined, c.Joined)
			}
		}
	}
	check("actor", cur.Actors, gotActors.Actors, false)
	check("family", cur.Families, gotActors.Families, false)
	check("signatory", curSig.Signatories, gotSigs.Signatories, true)
	if len(gotActors.Actors) < 500 {
		t.Errorf("got %d actors, want the datasets' several hundred", len(gotActors.Actors))
	}
}

func TestAddSpelling(t *testing.T) {
	tests := []struct {
		spelling     string
		match, cased []string
	}{
		{"Cisco Systems Inc.", []string{"Cisco", "Cisco Systems Inc"}, nil},
		{"CISCO", []string{"Cisco"}, nil},         // already matched in any case
		{"HP", []string{"Cisco"}, []string{"HP"}}, // short: case-sensitive
		{"ACME", []string{"Cisco"}, []string{"ACME"}},
	}
	for _, tt := range tests {
		t.Run(tt.spelling, func(t *testing.T) {
			e := classify.Entry{Name: "Cisco", Match: []string{"Cisco"}}
			addSpelling(&e, tt.spelling)
			if strings.Join(e.Match, "|") != strings.Join(tt.match, "|") || strings.Join(e.CaseSensitive, "|") != strings.Join(tt.cased, "|") {
				t.Errorf("got %q/%q, want %q/%q", e.Match, e.CaseSensitive, tt.match, tt.cased)
			}
		})
	}
}

func decodeStrict(data []byte, d *classify.Dictionary) error {
	dir, err := os.MkdirTemp("", "dict")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "d.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	return readJSON(p, d)
}
