package index

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/highlight"
	"github.com/blevesearch/bleve/v2/search/highlight/format/plain"
	simplefrag "github.com/blevesearch/bleve/v2/search/highlight/fragmenter/simple"
	simplehl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/simple"

	"github.com/accordwatch/accordwatch"
)

// mappingVersion is stored inside the index; an index written with another
// version is set aside and rebuilt, because bleve cannot change analyzers
// or field types of an existing index.
const (
	mappingVersion    = "2"
	mappingVersionKey = "accordwatch.mapping_version"
)

// highlighterName is our plain-text highlighter: the fragment is not
// HTML-escaped and matches are wrapped in accordwatch.HighlightStart/End,
// so each renderer (Slack, HTML, terminal) escapes and marks up itself.
const highlighterName = "accordwatch-plain"

// snippetSize is the fragment length in characters.
const snippetSize = 200

// bleve looks highlighters up by name in its process-wide registry, so
// registering ours at init is the only way to use it in a SearchRequest.
func init() {
	err := registry.RegisterHighlighter(highlighterName,
		func(map[string]any, *registry.Cache) (highlight.Highlighter, error) {
			return simplehl.NewHighlighter(
				simplefrag.NewFragmenter(snippetSize),
				plain.NewFragmentFormatter(accordwatch.HighlightStart, accordwatch.HighlightEnd),
				" … "), nil
		})
	if err != nil {
		panic("index: " + err.Error())
	}
}

// tagFields returns the keyword fields. Each holds lower-cased canonical
// values for exact, case-insensitive matching, and has a display_<name>
// twin holding the canonical spelling ("Microsoft"), stored for hits and
// used for facets, so results and facet counts show names as the
// classifier wrote them.
func tagFields() []string {
	return []string{"signatory", "state", "actor", "attack", "principle", "feed", "company"}
}

// facetFields are the keyword fields reported as facets.
func facetFields() []string {
	return []string{"signatory", "state", "actor", "attack", "principle", "feed"}
}

// doc is what bleve indexes for one item. Field names are the json tags.
type doc struct {
	Title string `json:"title"`
	Text  string `json:"text"`

	Signatory []string `json:"signatory"`
	Company   []string `json:"company"`
	Actor     []string `json:"actor"`
	State     []string `json:"state"`
	Attack    []string `json:"attack"`
	Principle []string `json:"principle"`
	Feed      string   `json:"feed"`

	DisplaySignatory []string `json:"display_signatory"`
	DisplayCompany   []string `json:"display_company"`
	DisplayActor     []string `json:"display_actor"`
	DisplayState     []string `json:"display_state"`
	DisplayAttack    []string `json:"display_attack"`
	DisplayPrinciple []string `json:"display_principle"`
	DisplayFeed      string   `json:"display_feed"`

	StateLinked bool      `json:"state_linked"`
	Severity    float64   `json:"severity"`
	Published   time.Time `json:"published"`
	Link        string    `json:"link"`
}

// BleveType names the document mapping. bleve's IndexMapping.TypeField
// looks up Go field names rather than json tags, so a "type" field would
// silently send every doc to the (disabled) default mapping.
func (doc) BleveType() string { return "item" }

// newDoc converts an item to its indexed form.
func newDoc(it accordwatch.Item) doc {
	principles := make([]string, len(it.Tags.Principles))
	for i, p := range it.Tags.Principles {
		principles[i] = string(p)
	}
	published := it.Published
	if published.IsZero() {
		// A zero time is not indexed at all; the item would vanish from
		// date sorts and ranges.
		published = it.Fetched
	}
	d := doc{
		Title:       it.Title,
		Text:        it.Text,
		Feed:        strings.ToLower(it.FeedName),
		DisplayFeed: it.FeedName,
		StateLinked: it.Tags.StateLinked,
		Severity:    float64(it.Tags.Severity),
		Published:   published.UTC(),
		Link:        it.Link,
	}
	d.Signatory, d.DisplaySignatory = keywords(it.Tags.Signatories)
	d.Company, d.DisplayCompany = keywords(it.Tags.Companies)
	d.Actor, d.DisplayActor = keywords(it.Tags.Actors)
	d.State, d.DisplayState = keywords(it.Tags.States)
	d.Attack, d.DisplayAttack = keywords(it.Tags.AttackTypes)
	d.Principle, d.DisplayPrinciple = keywords(principles)
	return d
}

// keywords returns the lower-cased values and the display values, both
// without blanks and duplicates (compared case-insensitively).
func keywords(vals []string) (lower, display []string) {
	seen := make(map[string]bool, len(vals))
	for _, v := range vals {
		v = strings.TrimSpace(v)
		l := strings.ToLower(v)
		if v == "" || seen[l] {
			continue
		}
		seen[l] = true
		lower = append(lower, l)
		display = append(display, v)
	}
	return lower, display
}

// newMapping builds the explicit, static index mapping.
func newMapping() *mapping.IndexMappingImpl {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	text.DocValues = false // Store and IncludeTermVectors stay on: highlights and phrases need them
	// Free text is compiled into title and text queries, never _all, so
	// copying both into _all would only double the index (version 2).
	text.IncludeInAll = false

	kw := bleve.NewKeywordFieldMapping()
	kw.Store = false
	kw.IncludeInAll = false
	kw.IncludeTermVectors = false

	display := bleve.NewKeywordFieldMapping()
	display.IncludeInAll = false
	display.IncludeTermVectors = false // DocValues stay on for facets

	boolean := bleve.NewBooleanFieldMapping()
	boolean.IncludeInAll = false

	num := bleve.NewNumericFieldMapping()
	num.IncludeInAll = false

	date := bleve.NewDateTimeFieldMapping()
	date.IncludeInAll = false

	storedOnly := bleve.NewTextFieldMapping()
	storedOnly.Index = false
	storedOnly.IncludeInAll = false
	storedOnly.IncludeTermVectors = false
	storedOnly.DocValues = false

	item := bleve.NewDocumentStaticMapping()
	item.AddFieldMappingsAt("title", text)
	item.AddFieldMappingsAt("text", text)
	for _, f := range tagFields() {
		item.AddFieldMappingsAt(f, kw)
		item.AddFieldMappingsAt("display_"+f, display)
	}
	item.AddFieldMappingsAt("state_linked", boolean)
	item.AddFieldMappingsAt("severity", num)
	item.AddFieldMappingsAt("published", date)
	item.AddFieldMappingsAt("link", storedOnly)

	im := bleve.NewIndexMapping()
	im.AddDocumentMapping("item", item)
	im.DefaultMapping = bleve.NewDocumentDisabledMapping()
	// Queries without a field search _all with the default analyzer; it
	// must match the fields' analyzer or stemmed words never match.
	im.DefaultAnalyzer = en.AnalyzerName
	return im
}
