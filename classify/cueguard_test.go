package classify

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// sharedData is the shared reference data: the unlabelled news corpus in
// news/ and feeds/, the labelled items in eval/, the public datasets that
// phrase sources may name.
const sharedData = "../../shared/data"

// minUnlabelledItems is how many unlabelled news items a curated phrase
// without a public source must occur in.
const minUnlabelledItems = 2

// curatedFiles are the hand-written dictionaries: the embedded ones that
// are not generated, and the generator's curated inputs.
var curatedFiles = []string{"dict/cues.json", "dict/states.json", "dict/companies.json", "gen/curated-actors.json", "gen/curated-signatories.json"}

// TestCuratedPhrasesOccurInUnlabelledNews is the guard against tuning the
// tagger to labelled items. Every curated phrase of two or more words (in
// the tokenizer's sense, so "state-sponsored" counts), names included, and
// every word of the language cue lists (cues and attack keywords) must
// either occur in at least minUnlabelledItems distinct unlabelled news
// items, or carry a public source in its entry's "sources" (an https URL
// that is not a labelled item's link, or a dataset the phrase really occurs
// in). The phrases are read from every curated dictionary file (an unknown
// phrase list fails the test) and from the string literals with a space in
// the composite literals of the package's Go code (which cannot carry a
// source, so they must occur in the news).
//
// An unlabelled item is a row of ../shared/data/news (CSV, or a JSON array
// of objects) or an item of a feed file in ../shared/data/feeds, whose
// title is not the title of an item in ../shared/data/eval/ (dev.jsonl and
// story-pairs.jsonl) and whose text does not contain the opening words of a
// labelled text. Items with the same title (or, untitled, the same text)
// count once. A phrase occurs in an item when the tagger's matcher finds it
// in one field (case and neighbour rules applied) and the field, lower-cased
// with runs of spaces and hyphens read as one space, contains it between
// non-alphanumeric characters — the test of ../shared/tools/item-cues, so
// everything that tool lists fails here too.
func TestCuratedPhrasesOccurInUnlabelledNews(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "news")); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", sharedData)
	}
	phrases := guardedPhrases(t)
	labelled := loadLabelled(t)
	corpus := loadUnlabelled(t, labelled)
	inGo := 0
	for _, p := range phrases {
		if strings.Contains(p.where, ".go:") {
			inGo++
		}
	}
	t.Logf("%d guarded phrases (%d in Go code), %d unlabelled items (%d labelled items and their copies left out)", len(phrases), inGo, len(corpus), len(labelled.items))

	m := phraseMatcher(phrases)
	inCorpus := occurrences(m, phrases, corpus)
	inLabelled := occurrences(m, phrases, labelled.items)
	datasets := map[string]string{}
	var bad []string
	sourced, passed := 0, 0
	for i, p := range phrases {
		if p.source != "" {
			sourced++
			if msg := checkPhraseSource(t, p, labelled.links, datasets); msg != "" {
				bad = append(bad, fmt.Sprintf("%s %q: source %s", p.where, p.text, msg))
			}
			continue
		}
		if len(inCorpus[i]) >= minUnlabelledItems {
			passed++
			continue
		}
		var ids []string
		for _, k := range inLabelled[i] {
			ids = append(ids, labelled.items[k].id)
		}
		seen := "in no labelled item"
		if len(ids) > 0 {
			seen = "in labelled " + strings.Join(ids[:min(len(ids), 5)], ", ")
		}
		bad = append(bad, fmt.Sprintf("%s %q: %d unlabelled items (%s); remove it or give it a public source", p.where, p.text, len(inCorpus[i]), seen))
	}
	t.Logf("%d phrases occur in %d+ unlabelled items, %d carry a source", passed, minUnlabelledItems, sourced)
	slices.Sort(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// TestCuratedPhraseSourcesAreWellFormed needs no shared data: every source
// names a phrase of its entry and is an https URL or a known dataset.
func TestCuratedPhraseSourcesAreWellFormed(t *testing.T) {
	for key := range sourceDatasets {
		if _, ok := sourceFiles[key]; !ok {
			t.Errorf("dataset %q: the guard does not know its copy under %s", key, sharedData)
		}
	}
	for _, file := range curatedFiles {
		for sec, entries := range curatedSections(t, file) {
			for i, e := range entries {
				if len(e.Sources) == 0 {
					continue
				}
				if field, msg := e.check(sec); msg != "" {
					t.Errorf("%s: %s[%d] %s: %s: %s", file, sec, i, e.Name, field, msg)
				}
			}
		}
	}
}

// guardedPhrase is one phrase of one curated entry (or of the Go code).
type guardedPhrase struct {
	text, where string
	cased       bool
	notBefore   []string
	notAfter    []string
	source      string
}

// curatedSections reads a curated file's entry lists by section. Every
// top-level key must be a dictionary section, except the generator's
// drop_aliases, which only removes dataset aliases.
func curatedSections(t *testing.T, file string) map[string][]Entry {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	known := (&Dictionary{}).sections()
	out := map[string][]Entry{}
	for key, v := range top {
		if key == "drop_aliases" {
			continue
		}
		if _, ok := known[key]; !ok {
			t.Fatalf("%s: %q is not a dictionary section: teach the cue guard to read it", file, key)
		}
		var es []Entry
		if err := json.Unmarshal(v, &es); err != nil {
			t.Fatalf("%s: %s: %v", file, key, err)
		}
		out[key] = es
	}
	return out
}

// guardedPhrases lists the phrases the guard checks: see
// TestCuratedPhrasesOccurInUnlabelledNews.
func guardedPhrases(t *testing.T) []guardedPhrase {
	t.Helper()
	var out []guardedPhrase
	for _, file := range curatedFiles {
		for sec, entries := range curatedSections(t, file) {
			language := sec == "cues" || sec == "attacks"
			for _, e := range entries {
				cased := map[string]bool{}
				for _, p := range e.CaseSensitive {
					cased[p] = true
				}
				for _, list := range [][]string{e.Match, e.CaseSensitive, e.Demonyms, e.Capitals, e.Agencies} {
					for _, p := range list {
						if len(words(p)) < 2 && !language {
							continue
						}
						out = append(out, guardedPhrase{
							text: p, where: fmt.Sprintf("%s: %s %s", file, sec, e.Name), cased: cased[p],
							notBefore: e.NotBefore, notAfter: e.NotAfter, source: e.Sources[p],
						})
					}
				}
			}
		}
	}
	return append(out, goPhrases(t)...)
}

// goPhraseRe is what a phrase in Go code looks like (not a format string,
// a tag or a path).
var goPhraseRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}' .,-]* [\p{L}\p{N}' .,-]*[\p{L}\p{N}]$`)

// goPhrases finds the string literals with a space in the composite
// literals (lists, map keys and values) of the package's non-test files.
func goPhrases(t *testing.T) []guardedPhrase {
	t.Helper()
	fset := gotoken.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []guardedPhrase
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		lit := func(e ast.Expr) {
			b, ok := e.(*ast.BasicLit)
			if !ok || b.Kind != gotoken.STRING {
				return
			}
			s, err := strconv.Unquote(b.Value)
			if err != nil || !goPhraseRe.MatchString(s) {
				return
			}
			out = append(out, guardedPhrase{text: s, where: fset.Position(b.Pos()).String()})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if cl, ok := n.(*ast.CompositeLit); ok {
				for _, el := range cl.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						lit(kv.Key)
						lit(kv.Value)
					} else {
						lit(el)
					}
				}
			}
			return true
		})
	}
	return out
}

// guardItem is one news item: its fields are matched separately.
type guardItem struct {
	id     string
	fields []string
}

type labelledSet struct {
	items  []guardItem
	titles map[string]bool // normalised titles of labelled items
	// starts maps a labelled text's first word to its next openingWords-1
	// words (normalised), to find copies of the text under another title.
	starts map[string][][]string
	links  map[string]bool // links of labelled items
}

// openingWords is how many opening words of a labelled text mark a copy.
const openingWords = 12

func loadLabelled(t *testing.T) labelledSet {
	t.Helper()
	ls := labelledSet{titles: map[string]bool{}, starts: map[string][][]string{}, links: map[string]bool{}}
	raw, err := os.ReadFile(filepath.Join(sharedData, "eval", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var it struct {
			ID        string `json:"id"`
			Title     string `json:"title"`
			Text      string `json:"text"`
			SourceURL string `json:"source_url"`
		}
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatal(err)
		}
		ls.items = append(ls.items, guardItem{id: it.ID, fields: []string{it.Title, it.Text}})
		ls.titles[Normalize(it.Title)] = true
		ls.links[strings.TrimSuffix(it.SourceURL, "/")] = true
		if ws := words(it.Text); len(ws) >= openingWords {
			ls.starts[ws[0]] = append(ls.starts[ws[0]], ws[1:openingWords])
		}
	}
	pairs, err := os.ReadFile(filepath.Join(sharedData, "eval", "story-pairs.jsonl"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(pairs)), "\n") {
		var p struct{ A, B struct{ Title string } }
		if line == "" || json.Unmarshal([]byte(line), &p) != nil {
			continue
		}
		ls.titles[Normalize(p.A.Title)] = true
		ls.titles[Normalize(p.B.Title)] = true
	}
	return ls
}

// copies reports whether text contains the opening words of a labelled text.
func (ls *labelledSet) copies(text string) bool {
	ws := words(text)
	for i, w := range ws {
		for _, rest := range ls.starts[w] {
			if i+len(rest) < len(ws) && slices.Equal(ws[i+1:i+1+len(rest)], rest) {
				return true
			}
		}
	}
	return false
}

var (
	feedItemRe  = regexp.MustCompile(`(?s)<(item|entry)[\s>].*?</(?:item|entry)>`)
	feedTitleRe = regexp.MustCompile(`(?s)<title[^>]*>(.*?)</title>`)
)

// loadUnlabelled reads the news archives and feed files, leaving out the
// labelled items and their copies, and counting repeated items once.
func loadUnlabelled(t *testing.T, ls labelledSet) []guardItem {
	t.Helper()
	var out []guardItem
	seen := map[string]bool{}
	add := func(id, title string, fields []string) {
		nt := Normalize(title)
		if nt != "" && ls.titles[nt] {
			return
		}
		key := nt
		if key == "" {
			key = Normalize(strings.Join(fields, " "))
		}
		if seen[key] {
			return
		}
		for _, f := range fields {
			if ls.copies(f) {
				return
			}
		}
		seen[key] = true
		out = append(out, guardItem{id: id, fields: fields})
	}
	news, err := filepath.Glob(filepath.Join(sharedData, "news", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range news {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		switch filepath.Ext(path) {
		case ".csv":
			r := csv.NewReader(strings.NewReader(string(raw)))
			r.LazyQuotes, r.FieldsPerRecord = true, -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(rows) == 0 {
				continue
			}
			titleCol := slices.IndexFunc(rows[0], func(h string) bool { return strings.EqualFold(h, "title") })
			for i, row := range rows[1:] {
				title := ""
				if titleCol >= 0 && titleCol < len(row) {
					title = row[titleCol]
				}
				add(fmt.Sprintf("%s:%d", name, i+2), title, row)
			}
		case ".json":
			var rows []map[string]any
			if json.Unmarshal(raw, &rows) != nil {
				continue // not an array of items
			}
			for i, row := range rows {
				title := ""
				var fields []string
				for k, v := range row {
					if strings.EqualFold(k, "title") {
						title = fmt.Sprint(v)
					}
					fields = appendStrings(fields, v)
				}
				add(fmt.Sprintf("%s[%d]", name, i), title, fields)
			}
		}
	}
	feeds, err := filepath.Glob(filepath.Join(sharedData, "feeds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range feeds {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, chunk := range feedItemRe.FindAllString(string(raw), -1) {
			title := ""
			if m := feedTitleRe.FindStringSubmatch(chunk); m != nil {
				title = html.UnescapeString(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m[1], "<![CDATA["), "]]>")))
			}
			add(fmt.Sprintf("%s#%d", filepath.Base(path), i+1), title, []string{chunk})
		}
	}
	return out
}

// appendStrings appends the strings in a decoded JSON value.
func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		return append(out, v)
	case []any:
		for _, x := range v {
			out = appendStrings(out, x)
		}
	case map[string]any:
		for _, x := range v {
			out = appendStrings(out, x)
		}
	case nil:
	default:
		return append(out, fmt.Sprint(v))
	}
	return out
}

// phraseMatcher compiles every phrase into its own layer, so each is
// found on its own, with its entry's case and neighbour rules.
func phraseMatcher(ps []guardedPhrase) *matcher {
	b := newMatcherBuilder()
	for i, p := range ps {
		b.add(p.text, i, i, p.cased, p.notBefore, p.notAfter)
	}
	return b.build()
}

// occurrences lists, per phrase, the items it occurs in.
func occurrences(m *matcher, ps []guardedPhrase, items []guardItem) [][]int {
	out := make([][]int, len(ps))
	qs := make([]string, len(ps))
	for i, p := range ps {
		qs[i] = foldSpace(p.text)
	}
	var ts tokens
	var st scanState
	var hits []hit
	for k, it := range items {
		for _, f := range it.fields {
			ts.tokenize(f, m, false)
			hits = m.appendHits(hits[:0], &st, &ts)
			folded := ""
			for _, h := range hits {
				if n := len(out[h.layer]); n > 0 && out[h.layer][n-1] == k {
					continue
				}
				if folded == "" {
					folded = foldSpace(f)
				}
				if containsWord(folded, qs[h.layer]) {
					out[h.layer] = append(out[h.layer], k)
				}
			}
		}
	}
	return out
}

// foldSpace lower-cases s and makes every run of spaces and hyphens one
// space, as ../shared/tools/item-cues compares text.
func foldSpace(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsSpace(r) || r == '-' {
			gap = true
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	if gap {
		b.WriteByte(' ')
	}
	return b.String()
}

// containsWord reports whether q occurs in s with no ASCII letter or digit
// just before or after it.
func containsWord(s, q string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for from := 0; ; {
		i := strings.Index(s[from:], q)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(q)
		if (i == 0 || !alnum(s[i-1])) && (end == len(s) || !alnum(s[end])) {
			return true
		}
		from = i + 1
	}
}

// sourceFiles are the copies in ../shared/data of the datasets that
// sources may name.
var sourceFiles = map[string][]string{
	"misp-galaxy":        {"threat-actors/misp-threat-actor.json"},
	"mitre-attack":       {"threat-actors/attack-groups.json"},
	"microsoft-naming":   {"threat-actors/microsoft-threat-actor-naming.json"},
	"apt-groups":         {"threat-actors/apt-groups-and-operations/*.csv"},
	"secai-apt-actors":   {"threat-actors/secai-apt-threat-actor-collection.csv"},
	"accord-signatories": {"accord/signatories.csv", "accord/signatory-name-variants.csv"},
}

// checkPhraseSource checks a phrase's source: well formed, not a labelled
// item's link, and a named dataset must contain the phrase.
func checkPhraseSource(t *testing.T, p guardedPhrase, links map[string]bool, cache map[string]string) string {
	t.Helper()
	if msg := checkSource(p.source); msg != "" {
		return msg
	}
	key, ok := strings.CutPrefix(p.source, "dataset:")
	if !ok {
		if links[strings.TrimSuffix(p.source, "/")] {
			return "is the link of a labelled item"
		}
		return ""
	}
	text, ok := cache[key]
	if !ok {
		var b strings.Builder
		for _, pat := range sourceFiles[key] {
			paths, _ := filepath.Glob(filepath.Join(sharedData, pat))
			if len(paths) == 0 {
				t.Fatalf("dataset %s: no file %s under %s", key, pat, sharedData)
			}
			for _, path := range paths {
				raw, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(raw)
				b.WriteByte('\n')
			}
		}
		text = foldSpace(b.String())
		cache[key] = text
	}
	if !containsWord(text, foldSpace(p.text)) {
		return fmt.Sprintf("%s: the phrase does not occur in the dataset", p.source)
	}
	return ""
}
