package web

import "github.com/accordwatch/accordwatch"

// What the API serves of feeds and items is a view, never the stored
// value: a feed's URL may carry "user:pass@" or "?token=", its headers
// hold API keys, and every item repeats its feed's URL. FeedHealth's own
// JSON is redacted (accordwatch.FeedHealth.MarshalJSON), and the digest
// redacts what it lists.

// itemJSON is an item as the API shows it: its feed URL redacted. New
// items are stored redacted already; this covers items stored before.
func itemJSON(it accordwatch.Item) accordwatch.Item {
	it.FeedURL = accordwatch.RedactURL(it.FeedURL)
	return it
}
