package classify

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// devSet is the labelled dev set, read by tests that walk real items
// (they skip the walk when it is absent). Scores are package eval's.
const devSet = "../../shared/data/eval/dev.jsonl"

// devItem is the part of a dev-set item these tests read.
type devItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// loadDev reads the dev set, or returns nil when it is absent.
func loadDev(t testing.TB) []devItem {
	t.Helper()
	raw, err := os.ReadFile(devSet)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var items []devItem
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var it devItem
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("%s:%d: %v", devSet, i+1, err)
		}
		items = append(items, it)
	}
	return items
}

func newTestClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestResolve(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		field, value, want string
		ok                 bool
	}{
		{"actor", "fancy bear", "APT28", true},
		{"actor", "Forest Blizzard", "APT28", true},
		{"actor", "hidden cobra", "Lazarus Group", true},
		{"actor", "Glacier Typhoon", "Glacier Typhoon", true},
		{"state", "dprk", "North Korea", true},
		{"state", "russian federation", "Russia", true},
		{"state", "PRC", "China", true},
		{"signatory", "meta", "Facebook", true},
		{"signatory", "Hewlett Packard Enterprise", "HPE", true},
		{"signatory", "HP Inc", "HP Inc.", true},
		{"signatory", "mandiant", "FireEye", true},
		{"company", "aws", "Amazon", true},
		{"attack", "Wiper/Destructive", "wiper", true},
		{"attack", "ransomware", "ransomware", true},
		{"attack", "data breach", "data-breach", true},
		{"attack", "Not an attack", "not-an-attack", true},
		{"attack", "influence operation", "influence-operation", true},
		{"attack", "denial of service", "ddos", true},
		{"principle", "No Offense", "no-offense", true},
		{"actor", "nobody at all", "", false},
		{"signatory", "Google", "", false},
		{"weather", "typhoon", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.value, func(t *testing.T) {
			got, ok := c.Resolve(tt.field, tt.value)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Resolve(%q, %q): got (%q, %v), want (%q, %v)", tt.field, tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExtraDictionaries(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "extra.json")
	yamlPath := filepath.Join(dir, "extra.yaml")
	writeFile(t, jsonPath, `{"companies": [{"name": "Acme Security", "match": ["Acme Security", "AcmeSec"]}]}`)
	// Overrides the embedded Nokia entry: now case-sensitive, and adds an actor.
	writeFile(t, yamlPath, "signatories:\n  - name: Nokia\n    joined: \"2018-04-17\"\n    case_sensitive: [Nokia]\nactors:\n  - name: Paper Werewolf\n    country: Russia\n    match: [Paper Werewolf, GOFFEE]\n")
	c, err := New(Options{ExtraDictionaries: []string{jsonPath, yamlPath}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tags := c.Classify("AcmeSec says GOFFEE targeted Nokia", "nokia phones were not affected", time.Time{})
	if !slices.Contains(tags.Companies, "Acme Security") {
		t.Errorf("companies: got %v, want Acme Security", tags.Companies)
	}
	if !slices.Equal(tags.Actors, []string{"Paper Werewolf"}) || !slices.Equal(tags.States, []string{"Russia"}) {
		t.Errorf("actors/states: got %v/%v, want [Paper Werewolf]/[Russia]", tags.Actors, tags.States)
	}
	n := 0
	for _, e := range tags.Evidence {
		if e.Tag == "signatory:Nokia" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Nokia evidence entries: got %d, want 1 (only the capitalised title mention)", n)
	}
	if got, ok := c.Resolve("actor", "goffee"); !ok || got != "Paper Werewolf" {
		t.Errorf("Resolve(actor, goffee): got %q, %v", got, ok)
	}

	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"signatories": [{"name": "X", "aliases": ["x"]}]}`)
	if _, err := New(Options{ExtraDictionaries: []string{bad}}); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("unknown field: got error %v, want one naming bad.json", err)
	}
	if _, err := New(Options{ExtraDictionaries: []string{filepath.Join(dir, "missing.yaml")}}); err == nil {
		t.Error("missing file: got nil error")
	}
	badAttack := filepath.Join(dir, "attack.yml")
	writeFile(t, badAttack, "attacks:\n  - name: cyberwar\n    match: [cyberwar]\n")
	if _, err := New(Options{ExtraDictionaries: []string{badAttack}}); err == nil || !strings.Contains(err.Error(), "cyberwar") {
		t.Errorf("unknown attack type: got error %v", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEmptyTagsEncodeAsArrays: callers JSON-encode Tags; empty lists must
// be [] rather than null.
func TestEmptyTagsEncodeAsArrays(t *testing.T) {
	c := newTestClassifier(t)
	b, err := json.Marshal(c.Classify("", "", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, key := range []string{"signatories", "companies", "states", "actors", "attack_types", "principles", "evidence"} {
		if !strings.Contains(s, `"`+key+`":[`) {
			t.Errorf("%s: got %s, want an array", key, s)
		}
	}
}

// TestEveryTagHasEvidence checks the contract on the dev set (when present)
// and a few fixed items.
func TestEveryTagHasEvidence(t *testing.T) {
	c := newTestClassifier(t)
	items := []devItem{
		{Title: "Russian state hackers abuse Cisco router flaw", Text: "Microsoft said Forest Blizzard hit AWS customers."},
		{ID: "capped", Title: "Russian state hackers deploy wiper on Microsoft customers' power grid", Text: "Microsoft said the actively exploited flaw hit millions of users at energy utilities."},
	}
	items = append(items, loadDev(t)...)
	for _, it := range items {
		tags := c.Classify(it.Title, it.Text, time.Time{})
		have := map[string]bool{}
		for _, e := range tags.Evidence {
			have[e.Tag] = true
		}
		var want []string
		for _, s := range tags.Signatories {
			want = append(want, "signatory:"+s, "role:"+s+":"+tags.Roles[s])
		}
		for _, s := range tags.Companies {
			want = append(want, "company:"+s)
		}
		for _, s := range tags.States {
			want = append(want, "state:"+s)
		}
		for _, s := range tags.Actors {
			want = append(want, "actor:"+s)
		}
		for _, s := range tags.AttackTypes {
			want = append(want, "attack:"+s)
		}
		for _, p := range tags.Principles {
			want = append(want, "principle:"+string(p))
		}
		if tags.StateLinked {
			want = append(want, "state_linked:true")
		}
		for _, w := range want {
			if !have[w] {
				t.Errorf("%s %q: tag %s has no evidence", it.ID, it.Title, w)
			}
		}
		sev := 0
		for _, e := range tags.Evidence {
			if n, ok := strings.CutPrefix(e.Tag, "severity:"); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Errorf("%s: severity evidence %q is not a signed number", it.ID, e.Tag)
				}
				if e.Rule == "" {
					t.Errorf("%s: severity evidence %q names no factor", it.ID, e.Tag)
				}
				sev += v
			}
		}
		if sev != tags.Severity {
			t.Errorf("%s: severity %d, but its evidence adds up to %d", it.ID, tags.Severity, sev)
		}
		checkEvidence(t, it.Title, it.Text, tags)
	}
}

// checkEvidence asserts that every evidence entry points at its text.
func checkEvidence(t testing.TB, title, text string, tags accordwatch.Tags) {
	t.Helper()
	for _, e := range tags.Evidence {
		var src string
		switch e.Field {
		case "title":
			src = title
		case "text":
			src = text
		case "tags":
			if e.Offset != -1 {
				t.Errorf("evidence %+v: derived evidence offset got %d, want -1", e, e.Offset)
			}
			continue
		default:
			t.Errorf("evidence %+v: unknown field", e)
			continue
		}
		if e.Offset < 0 || e.Offset+len(e.Match) > len(src) || src[e.Offset:e.Offset+len(e.Match)] != e.Match || e.Match == "" {
			t.Errorf("evidence %+v does not match %s text", e, e.Field)
		}
		if e.Rule == "" || !strings.Contains(e.Tag, ":") {
			t.Errorf("evidence %+v: want a kind:value tag and a rule", e)
		}
	}
}

func FuzzClassify(f *testing.F) {
	c, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"Iranian state-sponsored hackers abuse a Cisco flaw",
		"Meta-analysis: Arm, ARM, arm; RSA-2048; U. S. N. Korea-linked Lazarus Group",
		"Storm-0558 Storm 2911 UNC9001 UAT-7710 Glacier Typhoon",
		"Telefónica Türkiye \xff\xfe broken utf8 ’quotes’",
		"HACKERS HIT BANKING ARM OF SAP AND BT",
		"<p>Oracle&nbsp;patched &lt;script&gt;</p> Azure Resource Manager (ARM)",
		"Russian state hackers deploy wiper on Microsoft customers' power grid, actively exploited, millions of users",
		"",
	} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		tags := c.Classify(title, text, time.Time{})
		if tags.Severity < 0 || tags.Severity > 100 {
			t.Errorf("severity %d out of range", tags.Severity)
		}
		if len(tags.AttackTypes) == 0 {
			t.Error("no attack type")
		}
		checkEvidence(t, title, text, tags)
		sev := 0
		for _, e := range tags.Evidence {
			if n, ok := strings.CutPrefix(e.Tag, "severity:"); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("severity evidence %q", e.Tag)
				}
				sev += v
			}
		}
		if sev != tags.Severity {
			t.Errorf("severity %d, but its factors sum to %d", tags.Severity, sev)
		}
	})
}

// BenchmarkClassify measures Classify on 5 KB items; run it with -cpu 1.
// "dense" is a synthetic worst case (an entity, cue or attack keyword on
// almost every other word); "news" are 5 KB items made of consecutive real
// articles from the dev set (or the dense text when the set is absent).
func BenchmarkClassify(b *testing.B) {
	c, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	para := "Microsoft researchers said Iranian state-sponsored hackers known as Mint Sandstorm abused a zero-day vulnerability in Cisco firewalls at energy providers, according to CISA. " +
		"The Russia-linked group APT28 also phished Oracle customers, while the LockBit ransomware gang leaked records stolen from a clinic. " +
		"Google and Amazon Web Services said their users were not affected; Meta patched WhatsApp and the RSA Conference went ahead. "
	dense := strings.Repeat(para, 5000/len(para)+1)[:5000]
	title := "Iranian hackers abuse Cisco zero-day in a global spying campaign"
	// The news case reads real, unlabelled articles with their own
	// headlines; without the shared data it falls back to the dense text.
	news := realNewsItems(b, 5000)
	if len(news) == 0 {
		news = []devItem{{Title: title, Text: dense}}
	}
	for _, bc := range []struct {
		name  string
		items []devItem
	}{{"dense", []devItem{{Title: title, Text: dense}}}, {"news", news}} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for _, it := range bc.items {
				n += len(it.Title) + len(it.Text)
			}
			b.SetBytes(int64(n / len(bc.items)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				it := &bc.items[i%len(bc.items)]
				c.Classify(it.Title, it.Text, time.Time{})
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// newsArchives are the unlabelled news archives the benchmark reads: the
// file, and the columns (CSV) or keys (JSON array) of headline and text.
var newsArchives = []struct{ file, title, text string }{
	{"newsdatahub-cybersecurity-news-en-title-3000.csv", "title", "description"},
	{"cybernews-2025-incidents.json", "title", "summary"},
	{"hackmageddon-2020-2022.csv", "Target", "Description"},
	{"cyberdash-cybersecnews-20250725.json", "title", "summary"},
}

// realNewsItems builds items of about size bytes from the unlabelled news
// archives of ../shared/data/news, taking one article from each archive in
// turn: the headline is the first article's, the text its lead followed by
// the next articles' headlines and leads. It returns nil when the archives
// are absent.
func realNewsItems(tb testing.TB, size int) []devItem {
	tb.Helper()
	var sources [][]devItem
	for _, a := range newsArchives {
		raw, err := os.ReadFile(filepath.Join("../../shared/data/news", a.file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		var arts []devItem
		if strings.HasSuffix(a.file, ".csv") {
			r := csv.NewReader(bytes.NewReader(raw))
			r.LazyQuotes, r.FieldsPerRecord = true, -1
			rows, err := r.ReadAll()
			if err != nil || len(rows) == 0 {
				tb.Fatalf("%s: %v", a.file, err)
			}
			ti, xi := slices.Index(rows[0], a.title), slices.Index(rows[0], a.text)
			for _, row := range rows[1:] {
				if ti >= 0 && xi >= 0 && max(ti, xi) < len(row) {
					arts = append(arts, devItem{Title: row[ti], Text: row[xi]})
				}
			}
		} else {
			var rows []map[string]any
			if err := json.Unmarshal(raw, &rows); err != nil {
				tb.Fatalf("%s: %v", a.file, err)
			}
			for _, row := range rows {
				ti, _ := row[a.title].(string)
				xi, _ := row[a.text].(string)
				arts = append(arts, devItem{Title: ti, Text: xi})
			}
		}
		if len(arts) > 0 {
			sources = append(sources, arts)
		}
	}
	var out []devItem
	var cur devItem
	var sb strings.Builder
	for k := 0; len(sources) > 0; k++ {
		i := k / len(sources)
		src := sources[k%len(sources)]
		if i >= len(src) {
			break
		}
		a := src[i]
		if cur.Title == "" {
			cur.Title = a.Title
			sb.WriteString(a.Text)
		} else {
			sb.WriteString("\n" + a.Title + ". " + a.Text)
		}
		if sb.Len() >= size {
			cur.Text = strings.ToValidUTF8(sb.String()[:size], "")
			out = append(out, cur)
			cur = devItem{}
			sb.Reset()
		}
	}
	return out
}

// newsItems joins consecutive dev-set articles (title and text) into
// items of about size bytes each.
func newsItems(t testing.TB, size int) []string {
	t.Helper()
	var out []string
	var sb strings.Builder
	for _, it := range loadDev(t) {
		sb.WriteString(it.Title + ". " + it.Text + "\n")
		if sb.Len() >= size {
			out = append(out, sb.String()[:size])
			sb.Reset()
		}
	}
	return out
}

// TestDictionaryErrors: a malformed entry in a user dictionary is reported
// with the file, the line and the reason.
func TestDictionaryErrors(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"yaml unknown field", "extra.yaml",
			"actors:\n  - name: A\n    match: [A]\n  - name: B\n    match: [B]\n  - name: C\n    match: [C]\n  - name: D\n    contry: Russia\n    match: [D]\n",
			`extra.yaml:9: actors[3]: unknown field "contry"`},
		{"yaml missing name", "extra.yaml",
			"companies:\n  - name: Acme\n    match: [Acme]\n  - match: [Nameless]\n",
			"extra.yaml:4: companies[1]: name is required"},
		{"yaml bad date", "extra.yml",
			"signatories:\n  - name: Acme\n    joined: 18 April 2018\n    match: [Acme]\n",
			`extra.yml:3: signatories[0].joined: "18 April 2018" is not a date (want YYYY-MM-DD)`},
		{"yaml no phrase", "extra.yaml",
			"actors:\n  - name: Ghost\n    country: Iran\n",
			"extra.yaml:2: actors[0].match: at least one phrase is required (match or case_sensitive)"},
		{"yaml wrong type", "extra.yaml",
			"attacks:\n  - name: ransomware\n    weight: heavy\n    match: [locker]\n",
			"extra.yaml:2: attacks[0]: line 3: cannot unmarshal !!str `heavy` into int"},
		{"yaml unknown section", "extra.yaml",
			"actors: []\nvictims:\n  - name: X\n",
			`extra.yaml:2: unknown section "victims" (want one of signatories, companies, orgs, actors, families, states, cues, attacks)`},
		// yaml.v3's own line numbers for syntax errors are unreliable; its
		// message is passed on unchanged.
		{"yaml syntax", "extra.yaml", "actors:\n  - name: A\n    match: [A]\n   country: Iran\n", "extra.yaml: yaml: line 1: did not find expected '-' indicator"},
		{"json unknown field", "extra.json",
			"{\n \"actors\": [\n  {\"name\": \"A\", \"match\": [\"A\"]},\n  {\"name\": \"B\",\n   \"contry\": \"Russia\",\n   \"match\": [\"B\"]}\n ]\n}\n",
			`extra.json:5: actors[1]: unknown field "contry"`},
		{"json missing name", "extra.json",
			"{\"companies\": [\n {\"match\": [\"X\"]}\n]}\n",
			"extra.json:2: companies[0]: name is required"},
		{"json wrong type", "extra.json",
			"{\"attacks\": [\n {\"name\": \"ddos\",\n  \"weight\": \"3\",\n  \"match\": [\"flood\"]}\n]}\n",
			"extra.json:3: attacks[0].weight: got string, want int"},
		{"json syntax", "extra.json", "{\"actors\": [\n {\"name\": \"A\",}\n]}\n", "extra.json:2: actors[0]: invalid character '}' looking for beginning of object key string"},
		{"json truncated", "extra.json", "{\"actors\": [\n {\"name\": \"A\", \"match\": [\"A\"]}", "extra.json:2: actors: unexpected end of file"},
		{"yaml source for an unknown phrase", "extra.yaml",
			"actors:\n  - name: A\n    match: [Alpha Group]\n    sources: {Beta Group: \"https://example.org/a\"}\n",
			`extra.yaml:4: actors[0].sources: "Beta Group" is not a phrase of this entry`},
		{"json source not a URL", "extra.json",
			"{\"actors\": [\n {\"name\": \"A\", \"match\": [\"Alpha Group\"],\n  \"sources\": {\"Alpha Group\": \"a blog\"}}\n]}\n",
			`extra.json:3: actors[0].sources: "Alpha Group": "a blog" is neither an https URL nor dataset:<key>`},
		{"json source names an unknown dataset", "extra.json",
			"{\"actors\": [\n {\"name\": \"A\", \"match\": [\"Alpha Group\"],\n  \"sources\": {\"Alpha Group\": \"dataset:rumours\"}}\n]}\n",
			`extra.json:3: actors[0].sources: "Alpha Group": unknown dataset "rumours"`},
		{"json unknown section", "extra.json", "{\"actor\": []}", `extra.json:1: unknown section "actor" (want one of signatories, companies, orgs, actors, families, states, cues, attacks)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			writeFile(t, path, tt.data)
			_, err := New(Options{ExtraDictionaries: []string{path}})
			if err == nil {
				t.Fatalf("got nil error, want %q", tt.want)
			}
			var de *DictionaryError
			if !errors.As(err, &de) {
				t.Fatalf("got %T %v, want a *DictionaryError", err, err)
			}
			got := strings.TrimPrefix(de.Error(), filepath.Dir(path)+string(filepath.Separator))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBadInput: hostile or broken input gives correct tags or none, never
// a panic, and evidence that points at the input.
func TestBadInput(t *testing.T) {
	c := newTestClassifier(t)
	filler := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2000) // ~90 KB
	tests := []struct {
		name, title, text string
		wantSigs          []string
	}{
		{"empty", "", "", nil},
		{"whitespace only", " \t\n ", "\n\n", nil},
		{"megabytes", "Breach report", "Microsoft said. " + filler + " Cisco said.", []string{"Microsoft"}}, // Cisco lies past maxTextBytes
		{"huge title", strings.Repeat("Cisco ", 2000), "", []string{"Cisco"}},
		{"invalid UTF-8 splits words", "Micro\xffsoft", "\xffMicrosoft\xfe patched \xc3", []string{"Microsoft"}},
		{"only invalid bytes", "\xff\xfe\xfd", "\x80\x81", nil},
		{"HTML remnants", "<b>Oracle</b>&nbsp;patches", "<p>&lt;script&gt;alert(1)&lt;/script&gt; Oracle&amp;Cisco</p>", []string{"Cisco", "Oracle"}},
		{"NUL and control bytes", "Cisco\x00patch", "\x01\x02Cloudflare\x7f", []string{"Cisco", "Cloudflare"}},
		// ALL-CAPS fields: case cannot tell Arm/SAP/BT from ordinary words
		// there, so case-sensitive names do not match in them; names that
		// match case-insensitively ("Oracle Corporation", "ARM Holdings")
		// and mixed-case text still do.
		{"all-caps banking arm", "RANSOMWARE CREW TARGETS RETAILER AND ITS BANKING ARM", "", nil},
		{"all-caps sap", "THE ATTACK WILL SAP MORALE AT THE AGENCY", "", nil},
		{"all-caps bt", "HACKERS CLAIM BT BREACH IN NEW LEAK", "", nil},
		{"all-caps with mixed-case text", "CISA WARNS OF CRITICAL FLAW IN ERP SOFTWARE", "SAP patched it; ARM Holdings and BT were not affected.", []string{"Arm", "BT", "SAP"}},
		{"all-caps case-insensitive name", "ORACLE CORPORATION CONFIRMS BREACH OF LEGACY SERVERS", "", []string{"Oracle"}},
		{"short caps title is not shouting", "SAP FLAW", "", []string{"SAP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags := c.Classify(tt.title, tt.text, time.Time{})
			got := slices.Sorted(slices.Values(tags.Signatories))
			if !slices.Equal(got, tt.wantSigs) && !(len(got) == 0 && len(tt.wantSigs) == 0) {
				t.Errorf("signatories: got %v, want %v", got, tt.wantSigs)
			}
			if len(tags.AttackTypes) == 0 {
				t.Error("no attack type")
			}
			checkEvidence(t, tt.title, tt.text, tags)
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"hello world again", 13, "hello world"},
		{"héllo", 2, "h"}, // never inside a rune
		{strings.Repeat("x", 100), 10, strings.Repeat("x", 10)},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d): got %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// BenchmarkNew measures building the classifier: from the embedded
// dictionaries, and with a synthetic user dictionary of 5,000 more phrases
// (1,250 actors with four aliases each, as the generated dictionaries will
// have). It reports the bytes allocated per build and the heap the built
// classifier keeps.
func BenchmarkNew(b *testing.B) {
	synthetic := filepath.Join(b.TempDir(), "synthetic.json")
	var sb strings.Builder
	sb.WriteString(`{"actors": [`)
	for i := range 1250 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `{"name": "Synth Group %d", "country": "Russia", "kind": "apt", "match": ["Synth Group %d", "SG-%d", "Operation Synth %d", "Synthetic Bear %d"]}`, i, i, i, i, i)
	}
	sb.WriteString("]}\n")
	if err := os.WriteFile(synthetic, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		extra []string
	}{{"embedded", nil}, {"embedded+5000", []string{synthetic}}} {
		b.Run(bc.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var c *Classifier
			for b.Loop() {
				var err error
				if c, err = New(Options{ExtraDictionaries: bc.extra}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "retained-MB")
			b.ReportMetric(float64(c.m.nwords), "words")
			b.ReportMetric(float64(c.m.nphrases), "phrases")
			runtime.KeepAlive(c)
		})
	}
}

// TestTagsOutliveScratch checks that tags never share memory with the
// pooled scratch a later call reuses: tags kept from one call must not
// change while others run, whatever their fields were built from (cluster
// and family names, roles, attribution, evidence).
func TestTagsOutliveScratch(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := [][2]string{
		{"UNC9001 and Storm-2911 hit Microsoft", "Mandiant tracks it as UNC9001; Microsoft calls it Storm-2911. Volt Typhoon and Glacier Typhoon, UAT-7710 and TA4901 too."},
		{"Iranian state-sponsored hackers abuse a Cisco flaw", "Microsoft said the Russia-linked group APT28 phished Oracle customers, according to CISA."},
		{"Telefónica Türkiye breach", "Andariel data breach: North Korean hackers leaked records from a clinic; Meta patched WhatsApp."},
	}
	items = append(items, [2]string{"", strings.Repeat("Lazarus Group drained a crypto wallet. ", 50)})
	for _, s := range newsItems(t, 3000) {
		items = append(items, [2]string{s[:40], s})
	}
	var kept []accordwatch.Tags
	var want [][]byte
	for _, it := range items {
		tags := c.Classify(it[0], it[1], time.Time{})
		b, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		kept, want = append(kept, tags), append(want, b)
	}
	// Other items reuse the scratch, then every kept result is compared.
	for _, it := range items {
		c.Classify(strings.ToUpper(it[1]), it[0]+" Sandworm UNC1151 Midnight Blizzard", time.Time{})
	}
	for i, tags := range kept {
		got, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want[i]) {
			t.Errorf("item %d changed after later calls:\ngot  %s\nwant %s", i, got, want[i])
		}
	}
}
