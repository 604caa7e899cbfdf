// Package index keeps items searchable. It owns bleve (github.com/blevesearch/bleve/v2):
// the explicit index mapping, batch indexing, the accordwatch query language
// (a hand-written parser compiled to bleve query objects, because bleve's own
// query string has no AND/OR/NOT or parentheses), facets, highlighted
// snippets, and recovery from a corrupt index directory.
//
// The index is derived data: the store is the source of truth, and a missing
// or corrupt index is recreated empty so the caller can rebuild it from the
// store (see Open and Index.Rebuilt). No bleve type leaves this package.
package index
