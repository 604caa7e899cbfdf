package dictimport

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch/classify"
	"github.com/google/go-cmp/cmp"
)

func TestClassifyAlias(t *testing.T) {
	tests := []struct {
		alias    string
		want     aliasClass
		wantForm string
	}{
		// Distinctive names match in any case.
		{"APT28", aliasAny, "APT28"},
		{"OilRig", aliasAny, "OilRig"},
		{"Ke3chang", aliasAny, "Ke3chang"},
		{"Storm-0558", aliasAny, "Storm-0558"},
		{"TEMP.Periscope", aliasAny, "TEMP.Periscope"},
		{"Sandworm Team", aliasAny, "Sandworm Team"},
		{"Lazarus Group", aliasAny, "Lazarus Group"},
		{"NoName057(16)", aliasAny, "NoName057(16)"},
		{"APT 33", aliasAny, "APT 33"},
		// Plain words that are names: only as written or in capitals.
		{"Turla", aliasCased, "Turla"},
		{"Sofacy", aliasCased, "Sofacy"},
		{"Winnti", aliasCased, "Winnti"},
		{"Carbanak", aliasCased, "Carbanak"},
		{"Dragonfly", aliasCased, "Dragonfly"},
		{"STRONTIUM", aliasCased, "Strontium"},
		{"Moafee", aliasCased, "Moafee"},
		{"KAOS", aliasCased, "KAOS"},
		{"The Dukes", aliasCased, "The Dukes"},
		// Phrases of common words: case-sensitive, title case.
		{"FANCY BEAR", aliasCased, "Fancy Bear"},
		{"Comment Crew", aliasCased, "Comment Crew"},
		{"Copper Typhoon", aliasCased, "Copper Typhoon"},
		{"COBALT SPIDER", aliasCased, "Cobalt Spider"},
		{"Typhoon", aliasDrop, ""},
		// Dropped: common words, generic phrases, short tokens, numbers,
		// countries, companies, ATT&CK IDs, other scripts.
		{"Equation", aliasDrop, ""},
		{"Patchwork", aliasDrop, ""},
		{"Cleaver", aliasDrop, ""},
		{"Shadow", aliasDrop, ""},
		{"Tick", aliasDrop, ""},
		{"ZINC", aliasDrop, ""},
		{"BlackJack", aliasDrop, ""},
		{"Operation Cleaver", aliasDrop, ""},
		{"Gorgon", aliasDrop, ""},
		{"Silicon", aliasDrop, ""},
		{"Summit", aliasDrop, ""},
		{"Group 3", aliasDrop, ""},
		{"Hacker Team", aliasDrop, ""},
		{"Operation Ghost", aliasDrop, ""},
		{"APT", aliasDrop, ""},
		{"GRU", aliasDrop, ""},
		{"1337", aliasDrop, ""},
		{"Microsoft", aliasDrop, ""},
		{"Windows", aliasDrop, ""},
		{"Russia", aliasDrop, ""},
		{"Iranian", aliasDrop, ""},
		{"G0007", aliasDrop, ""},
		{"海莲花", aliasDrop, ""},
		{"", aliasDrop, ""},
	}
	for _, tt := range tests {
		t.Run(tt.alias, func(t *testing.T) {
			got, form := classifyAlias(tt.alias)
			if got != tt.want {
				t.Fatalf("class: got %d, want %d", got, tt.want)
			}
			if got != aliasDrop && form != tt.wantForm {
				t.Errorf("form: got %q, want %q", form, tt.wantForm)
			}
			if usableAlias(tt.alias) != (tt.want != aliasDrop) {
				t.Errorf("usableAlias: got %v, want %v", usableAlias(tt.alias), tt.want != aliasDrop)
			}
		})
	}
}

func TestNormCountry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"RU", "Russia"},
		{"Russian Federation", "Russia"},
		{"CN", "China"},
		{"Korea (Democratic People's Republic of)", "North Korea"},
		{"KP", "North Korea"},
		{"Korea (Republic of)", "South Korea"},
		{"Iran (Islamic Republic of)", "Iran"},
		{"Türkiye", "Turkey"},
		{"Viet Nam", "Vietnam"},
		{"Unknown", ""},
		{"Financially motivated", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normCountry(tt.in); got != tt.want {
			t.Errorf("normCountry(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCountriesAreStates: every country the readers can produce is a
// state of dict/states.json or one the generator deliberately clears.
func TestCountriesAreStates(t *testing.T) {
	d, err := classify.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	for _, s := range d.States {
		states[s.Name] = true
	}
	for _, want := range []string{"Russia", "China", "North Korea", "Iran", "South Korea", "Vietnam", "Pakistan", "India", "Turkey"} {
		if !states[want] {
			t.Errorf("states.json has no %q, but the readers produce it", want)
		}
	}
	for _, a := range d.Actors {
		if a.Country != "" && !states[a.Country] {
			t.Errorf("actor %q: country %q is not a state of states.json", a.Name, a.Country)
		}
	}
}

func TestActorsFromMISP(t *testing.T) {
	in := `{"values": [
	  {"value": "APT28", "description": "Russian espionage group.", "meta": {"country": "RU", "synonyms": ["Fancy Bear", "STRONTIUM", "Group 74", "Sofacy"]}},
	  {"value": "Cleaver", "meta": {"cfr-suspected-state-sponsor": "Iran (Islamic Republic of)", "synonyms": ["Operation Cleaver", "Tarh Andishan", "Alibaba"]}},
	  {"value": "Scattered Canary", "description": "A Nigerian fraud group running romance scams.", "meta": {"country": "NG"}},
	  {"value": "Storm-2603", "meta": {"country": "CN"}},
	  {"value": "Shadow", "meta": {"synonyms": ["Tick"]}}
	]}`
	got, err := ActorsFromMISP(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []classify.Entry{
		{Name: "APT28", Country: "Russia", Kind: "apt", Match: []string{"APT28"}, CaseSensitive: []string{"Fancy Bear", "Strontium", "Sofacy"}},
		{Name: "Cleaver", Country: "Iran", Kind: "apt", Match: []string{"Tarh Andishan"}},
		{Name: "Scattered Canary", Kind: "crime", Match: []string{"Scattered Canary"}},
		{Name: "Storm-2603", Kind: "cluster", Match: []string{"Storm-2603"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if _, err := ActorsFromMISP(strings.NewReader(`{"values": []}`)); err == nil {
		t.Error("empty galaxy: got nil error, want one")
	}
}

func TestActorsFromATTACK(t *testing.T) {
	in := `{"intrusion_sets": [
	  {"name": "APT29", "aliases": ["APT29", "NOBELIUM", "Cozy Bear", "The Dukes"]},
	  {"name": "UNC2452", "aliases": ["UNC2452"], "revoked": true},
	  {"name": "Night Dragon", "aliases": ["Night Dragon"], "x_mitre_deprecated": true},
	  {"name": "Akira", "aliases": ["Akira", "PUNK SPIDER"]}
	]}`
	got, err := ActorsFromATTACK(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []classify.Entry{
		{Name: "APT29", Match: []string{"APT29"}, CaseSensitive: []string{"Nobelium", "Cozy Bear", "The Dukes"}},
		{Name: "Akira", Kind: "crime", Match: []string{"PUNK SPIDER"}, CaseSensitive: []string{"Akira"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestActorsFromMicrosoft(t *testing.T) {
	in := `[
	  {"Threat actor name": "Forest Blizzard", "Origin/Threat": "Russia", "Other names": "APT28, Fancy Bear"},
	  {"Threat actor name": "Glacier Typhoon", "Origin/Threat": "", "Other names": ""},
	  {"Threat actor name": "Marbled Dust", "Origin/Threat": "Türkiye", "Other names": "Sea Turtle"},
	  {"Threat actor name": "Sangria Tempest", "Origin/Threat": "Ukraine, Financially motivated", "Other names": "ELBRUS, CARBON SPIDER"},
	  {"Threat actor name": "Storm-2603", "Origin/Threat": "China", "Other names": ""},
	  {"Threat actor name": "Zigzag Hail", "Origin/Threat": "Korea", "Other names": "Dark Hotel"},
	  {"Threat actor name": "Storm-1516", "Origin/Threat": "Russia, Influence operations", "Other names": ""}
	]`
	got, err := ActorsFromMicrosoft(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	countries := map[string]string{}
	for _, e := range got {
		countries[e.Name] = e.Country
	}
	want := map[string]string{
		"Forest Blizzard": "Russia", "Glacier Typhoon": "China", "Marbled Dust": "Turkey",
		"Sangria Tempest": "", "Storm-2603": "", "Zigzag Hail": "South Korea", "Storm-1516": "",
	}
	if diff := cmp.Diff(want, countries); diff != "" {
		t.Errorf("countries (-want +got):\n%s", diff)
	}
}

func TestMergeActors(t *testing.T) {
	attack := []classify.Entry{
		{Name: "APT28", Match: []string{"APT28", "Sednit"}, CaseSensitive: []string{"Fancy Bear"}},
		{Name: "APT38", Match: []string{"APT38", "BlueNoroff"}},
		{Name: "Lazarus Group", Match: []string{"Lazarus Group", "Hidden Cobra"}},
	}
	misp := []classify.Entry{
		// Joins APT28 through a shared alias, written differently.
		{Name: "Sofacy", Country: "Russia", Kind: "apt", Match: []string{"SEDNIT", "Pawn Storm"}, CaseSensitive: []string{"Sofacy"}},
		// Touches Lazarus by name and APT38 by one alias: goes to Lazarus,
		// and APT38 keeps BlueNoroff.
		{Name: "Lazarus Group", Country: "North Korea", Match: []string{"BlueNoroff", "Guardians of Peace"}},
		{Name: "Equation Group", Match: []string{"Equation Group"}},
	}
	ms := []classify.Entry{
		{Name: "Forest Blizzard", Country: "Russia", Kind: "apt", Match: []string{"Forest Blizzard", "APT28"}},
		{Name: "Diamond Sleet", Country: "North Korea", Match: []string{"Diamond Sleet", "Hidden Cobra"}},
	}
	got := MergeActors(attack, misp, ms)
	want := []classify.Entry{
		{Name: "APT28", Country: "Russia", Kind: "apt", Match: []string{"APT28", "Forest Blizzard", "Pawn Storm", "Sednit"}, CaseSensitive: []string{"Fancy Bear", "Sofacy"}},
		{Name: "APT38", Match: []string{"APT38", "BlueNoroff"}},
		{Name: "Equation Group", Match: []string{"Equation Group"}},
		{Name: "Lazarus Group", Country: "North Korea", Match: []string{"Diamond Sleet", "Guardians of Peace", "Hidden Cobra", "Lazarus Group"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	// The order of the sets decides the canonical name.
	if got := MergeActors(ms, attack); !slices.ContainsFunc(got, func(e classify.Entry) bool { return e.Name == "Forest Blizzard" }) {
		t.Errorf("Microsoft first: got names %v, want Forest Blizzard canonical", names(got))
	}
}

func names(es []classify.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

// TestRealSources reads the shared datasets and checks the groups that
// everything else relies on come out with the right country.
func TestRealSources(t *testing.T) {
	dir := "../../../shared/data/threat-actors/"
	read := func(name string, parse func(f *os.File) ([]classify.Entry, error)) []classify.Entry {
		f, err := os.Open(dir + name)
		if errors.Is(err, fs.ErrNotExist) {
			t.Skipf("%s not present", dir+name)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		es, err := parse(f)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	attack := read("attack-groups.json", func(f *os.File) ([]classify.Entry, error) { return ActorsFromATTACK(f) })
	misp := read("misp-threat-actor.json", func(f *os.File) ([]classify.Entry, error) { return ActorsFromMISP(f) })
	ms := read("microsoft-threat-actor-naming.json", func(f *os.File) ([]classify.Entry, error) { return ActorsFromMicrosoft(f) })
	merged := MergeActors(attack, misp, ms)
	byAlias := map[string]classify.Entry{}
	total := 0
	for _, e := range merged {
		for _, a := range slices.Concat(e.Match, e.CaseSensitive) {
			byAlias[aliasKey(a)] = e
			total++
		}
	}
	t.Logf("ATT&CK %d, MISP %d, Microsoft %d → %d actors, %d aliases", len(attack), len(misp), len(ms), len(merged), total)
	for _, tt := range []struct{ alias, name, country string }{
		{"Forest Blizzard", "APT28", "Russia"},
		{"Fancy Bear", "APT28", "Russia"},
		{"Midnight Blizzard", "APT29", "Russia"},
		{"Mint Sandstorm", "Magic Hound", "Iran"},
		{"Volt Typhoon", "Volt Typhoon", "China"},
		{"Diamond Sleet", "Lazarus Group", "North Korea"},
	} {
		e, ok := byAlias[aliasKey(tt.alias)]
		if !ok {
			t.Errorf("%s: not found", tt.alias)
			continue
		}
		if e.Name != tt.name || e.Country != tt.country {
			t.Errorf("%s: got %s (%s), want %s (%s)", tt.alias, e.Name, e.Country, tt.name, tt.country)
		}
	}
	for _, bad := range []string{"equation", "shadow", "microsoft", "group 3", "tick"} {
		if e, ok := byAlias[bad]; ok {
			t.Errorf("alias %q kept (actor %s), want dropped", bad, e.Name)
		}
	}
}
