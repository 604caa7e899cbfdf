// Package article extracts the readable article from a web page as plain
// text: the story behind a feed item that carries only a headline and a
// sentence. It answers whether a page is an article at all (a paywall, a
// consent wall or an index page is not one) and never returns HTML, so
// nothing downstream can store or render a publisher's markup.
//
// It owns codeberg.org/readeck/go-readability/v2, a line-by-line port of
// Mozilla's Readability.js (the extractor behind Firefox's Reader View):
// no readability type leaves this package. Its quality is measured on
// Mozilla's own test pages by TestReadabilityPages (EVAL.md, "Article
// extraction"). golang.org/x/net/html parses the page.
//
// Fetching the page is not this package's job: feeds does it, with the
// same limits and guards as a feed (see feeds.Fetcher.Article).
package article
