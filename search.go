package accordwatch

import "time"

// Sort orders for search results.
const (
	SortNewest    = "newest"
	SortRelevance = "relevance"
)

// SearchRequest is a query in accordwatch's query language plus paging.
type SearchRequest struct {
	Query string `json:"q"`
	Sort  string `json:"sort,omitempty"`
	Size  int    `json:"size,omitempty"`
	From  int    `json:"from,omitempty"`
	// After is the opaque cursor of the previous page (SearchResult.Next)
	// for deep paging; when set, From is ignored.
	After string `json:"after,omitempty"`
	// Facets selects the facets to count: "" or "all" counts every facet
	// (the default), "none" counts none, and a comma-separated list of
	// facet names ("state,actor,day") counts those. Counting facets reads
	// the facet codes of every counted hit, so a caller that does not
	// show them should say "none".
	Facets string `json:"facets,omitempty"`
}

// Facet selections for SearchRequest.Facets.
const (
	FacetsAll  = "all"
	FacetsNone = "none"
)

// SearchHit is one result, with enough stored fields to display it.
type SearchHit struct {
	ID          string    `json:"id"`
	Score       float64   `json:"score"`
	Title       string    `json:"title"`
	Link        string    `json:"link"`
	Feed        string    `json:"feed"`
	Published   time.Time `json:"published"`
	Severity    int       `json:"severity"`
	Signatories []string  `json:"signatories,omitempty"`
	States      []string  `json:"states,omitempty"`
	Actors      []string  `json:"actors,omitempty"`
	AttackTypes []string  `json:"attack_types,omitempty"`
	Principles  []string  `json:"principles,omitempty"`
	// Snippet is plain text around the best match; highlighted spans are
	// wrapped in HighlightStart/HighlightEnd.
	Snippet string `json:"snippet,omitempty"`
}

// Snippet highlight markers (Unicode private-use characters), replaced by
// each renderer with its own markup after escaping.
const (
	HighlightStart = "\uE000"
	HighlightEnd   = "\uE001"
)

// FacetCount is one value of a facet.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// SearchResult is a page of hits.
type SearchResult struct {
	Query string `json:"q"`
	Total uint64 `json:"total"`
	// TotalAtLeast reports that Total is a lower bound: a newest-first
	// search counts newest months first and stops once it has counted
	// 10,000 hits, so "10,000+" is the honest display.
	TotalAtLeast bool        `json:"total_at_least,omitempty"`
	Hits         []SearchHit `json:"hits"`
	// Facets counts hits by signatory, state, actor, principle, attack,
	// feed, and "day" (YYYY-MM-DD, in date order).
	Facets map[string][]FacetCount `json:"facets,omitempty"`
	TookMS float64                 `json:"took_ms"`
	// Next is the cursor for the page after this one ("" on the last).
	Next string `json:"next,omitempty"`
}
