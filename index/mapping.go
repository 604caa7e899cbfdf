package index

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/accordwatch/accordwatch"
)

// mappingVersion is recorded in the layout marker and inside every
// partition; an index written with another version is set aside and
// rebuilt, because bleve cannot change analyzers or field types of an
// existing index. Version 3: monthly partitions, full text indexed but not
// stored (only its first headSize bytes are, for snippets), no doc values
// on fields that are never sorted or faceted. Version 4: facets read one
// field of codes (facetcodes.go) instead of the display_ fields and day.
// Version 5: the compact published_key of timeKey. Version 6: facet
// codes with a packed header.
const (
	mappingVersion    = "6"
	mappingVersionKey = "accordwatch.mapping_version"
)

// headSize is how much of an item's text is stored for snippets. Storing
// the whole text (1–2 KB an item) doubled the index for no display gain.
const headSize = 1024

// tagFields returns the keyword fields. Each holds lower-cased canonical
// values for exact, case-insensitive matching, and has a display_<name>
// twin holding the canonical spelling ("Microsoft"), stored for hits; the
// facet codes number the display spellings, so results and facet counts
// show names as the classifier wrote them.
func tagFields() []string {
	return []string{"signatory", "state", "actor", "attack", "principle", "feed", "company"}
}

// facetFields are the keyword fields reported as facets, in the order of
// their codes (facetcodes.go).
func facetFields() []string {
	return []string{"signatory", "state", "actor", "attack", "principle", "feed"}
}

// doc is what bleve indexes for one item. Field names are the json tags.
type doc struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	// Head is the start of Text, stored (not indexed) for snippets.
	Head string `json:"head"`

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

	// PublishedKey (see timeKey: fixed width, so string order is time
	// order) carries the doc values that sorting reads. A date field keeps
	// 16 prefix-coded terms a value in its doc values; reading them was
	// half the cost of a sort.
	PublishedKey string `json:"published_key,omitempty"`
	// Facets holds the codes of the facet values and the day; Add sets it
	// when it knows the partition.
	Facets string `json:"facets,omitempty"`
}

// timeKey is t's PublishedKey: its Unix nanoseconds, offset to be
// unsigned, as 13 base-32 digits whose ASCII order is their numeric order.
// Sorting newest first decompresses the doc values of every hit's chunk,
// and 13 bytes a document decompress in under half the time of the 30 of
// an RFC 3339 timestamp (a fifth of a deep page's time, BENCHMARKS.md).
// Times outside the years 1678–2262 are clamped.
func timeKey(t time.Time) string {
	n := uint64(t.UnixNano()) ^ 1<<63
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		n = 0
	case t.After(time.Unix(0, math.MaxInt64)):
		n = math.MaxUint64
	}
	var b [timeKeyLen]byte
	for i := timeKeyLen - 1; i >= 0; i-- {
		b[i] = timeKeyDigits[n&31]
		n >>= 5
	}
	return string(b[:])
}

// keyTime parses a PublishedKey.
func keyTime(key string) (time.Time, error) {
	if len(key) != timeKeyLen {
		return time.Time{}, fmt.Errorf("time key %q is not %d characters", key, timeKeyLen)
	}
	var n uint64
	for i := range len(key) {
		d := strings.IndexByte(timeKeyDigits, key[i])
		if d < 0 {
			return time.Time{}, fmt.Errorf("time key %q has a bad digit", key)
		}
		n = n<<5 | uint64(d)
	}
	return time.Unix(0, int64(n^1<<63)).UTC(), nil
}

const (
	timeKeyDigits = "0123456789abcdefghijklmnopqrstuv"
	timeKeyLen    = 13 // ⌈64/5⌉
)

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
	published := indexedTime(it)
	d := doc{
		Title:       it.Title,
		Text:        it.FullText(),
		Head:        head(it.Text),
		Feed:        strings.ToLower(it.FeedName),
		DisplayFeed: it.FeedName,
		StateLinked: it.Tags.StateLinked,
		Severity:    float64(it.Tags.Severity),
		Published:   published.UTC(),
		Link:        it.Link,
	}
	if !published.IsZero() {
		d.PublishedKey = timeKey(d.Published)
	}
	d.Signatory, d.DisplaySignatory = keywords(it.Tags.Signatories)
	d.Company, d.DisplayCompany = keywords(it.Tags.Companies)
	d.Actor, d.DisplayActor = keywords(it.Tags.Actors)
	d.State, d.DisplayState = keywords(it.Tags.States)
	d.Attack, d.DisplayAttack = keywords(it.Tags.AttackTypes)
	d.Principle, d.DisplayPrinciple = keywords(principles)
	return d
}

// indexedTime is the time an item is indexed under: its publication, or
// when it was fetched if it has none (a zero time is not indexed at all;
// the item would vanish from date sorts and ranges).
func indexedTime(it accordwatch.Item) time.Time {
	if it.Published.IsZero() {
		return it.Fetched
	}
	return it.Published
}

// head returns the first headSize bytes of text, cut at a rune boundary.
func head(text string) string {
	if len(text) <= headSize {
		return text
	}
	cut := headSize
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
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
	title := bleve.NewTextFieldMapping()
	title.Analyzer = analyzerName
	title.DocValues = false // Store and IncludeTermVectors stay on: hits show it, phrases need positions
	// Free text is compiled into title and text queries, never _all, so
	// copying both into _all would only double the index (version 2).
	title.IncludeInAll = false

	// The body is searched (with positions, for phrases) but not stored:
	// snippets come from the stored head (version 3).
	text := bleve.NewTextFieldMapping()
	text.Analyzer = analyzerName
	text.DocValues = false
	text.IncludeInAll = false
	text.Store = false

	kw := bleve.NewKeywordFieldMapping()
	kw.Store = false
	kw.IncludeInAll = false
	kw.IncludeTermVectors = false
	kw.DocValues = false // matched only; facets use the display_ twins

	boolean := bleve.NewBooleanFieldMapping()
	boolean.IncludeInAll = false
	boolean.Store = false
	boolean.DocValues = false

	num := bleve.NewNumericFieldMapping()
	num.IncludeInAll = false
	num.DocValues = false // stored for display, filtered by range, never sorted

	date := bleve.NewDateTimeFieldMapping()
	date.IncludeInAll = false
	date.DocValues = false // ranges only: sorting reads published_key

	// Sort key and facet codes: doc values only.
	key := bleve.NewKeywordFieldMapping()
	key.Store = false
	key.IncludeInAll = false
	key.IncludeTermVectors = false

	storedOnly := bleve.NewTextFieldMapping()
	storedOnly.Index = false
	storedOnly.IncludeInAll = false
	storedOnly.IncludeTermVectors = false
	storedOnly.DocValues = false

	item := bleve.NewDocumentStaticMapping()
	item.AddFieldMappingsAt("title", title)
	item.AddFieldMappingsAt("text", text)
	item.AddFieldMappingsAt("head", storedOnly)
	for _, f := range tagFields() {
		item.AddFieldMappingsAt(f, kw)
		// Stored for hits only: nothing searches them, and facets read
		// the codes (version 4).
		item.AddFieldMappingsAt("display_"+f, storedOnly)
	}
	item.AddFieldMappingsAt("state_linked", boolean)
	item.AddFieldMappingsAt("severity", num)
	item.AddFieldMappingsAt("published", date)
	item.AddFieldMappingsAt("published_key", key)
	item.AddFieldMappingsAt(facetsField, key)
	item.AddFieldMappingsAt("link", storedOnly)
	// No _all field at all: every field is excluded from it, yet bleve
	// still built it, visiting every token of every field (8% of
	// indexing time).
	item.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())

	im := bleve.NewIndexMapping()
	im.AddDocumentMapping("item", item)
	im.DefaultMapping = bleve.NewDocumentDisabledMapping()
	// Queries without a field search _all with the default analyzer; it
	// must match the fields' analyzer or stemmed words never match.
	im.DefaultAnalyzer = analyzerName
	return im
}
