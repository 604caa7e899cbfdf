// Package feeds fetches, parses and normalises news feeds: it does the HTTP
// itself (conditional GET, timeouts, gzip, a body-size cap, redirects,
// Retry-After), reads local files and directories for offline replay, hands
// the bytes to gofeed, and turns gofeed's items into accordwatch.Items with
// stable IDs, canonical links and plain text. It reports what the server
// said about polling (Cache-Control max-age, RSS ttl, Retry-After, 410 Gone,
// permanent redirects) without deciding when to poll next. It also reads and
// writes feed lists as OPML and discovers a site's feeds from its pages.
//
// It owns github.com/mmcdole/gofeed: no gofeed type leaves this package.
// golang.org/x/net/html (text extraction, feed discovery) and
// golang.org/x/net/html/charset (transcoding) are used alongside it.
package feeds
