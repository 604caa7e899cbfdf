// Package index keeps items searchable. It owns bleve (github.com/blevesearch/bleve/v2):
// the explicit index mapping, batch indexing, the accordwatch query language
// (a hand-written parser compiled to bleve query objects, because bleve's own
// query string has no AND/OR/NOT or parentheses), facets, snippets, paging,
// and recovery from a corrupt index directory.
//
// The index is partitioned by time: one bleve index per calendar month of
// publication (UTC) in dir/YYYY-MM, behind one lock file and one layout
// marker. A single bleve index of a million items needs seconds to sort a
// common word by date, because it reads the date of every hit; a month
// holds a few tens of thousands of items, and newest-first searches walk
// months newest to oldest and stop when the page is full, skipping months
// outside the query's date range altogether.
//
// The index is derived data: the store is the source of truth, and a missing
// or corrupt index is recreated empty so the caller can rebuild it from the
// store (see Open and Index.Rebuilt). No bleve type leaves this package.
package index
