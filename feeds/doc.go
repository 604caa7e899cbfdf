// Package feeds fetches, parses and normalises news feeds: it does the HTTP
// itself (conditional GET, timeouts, gzip, a body-size cap, redirects,
// Retry-After), reads local files and directories for offline replay, hands
// the bytes to gofeed, and turns gofeed's items into accordwatch.Items with
// stable IDs, canonical links and plain text. It reports what the server
// said about polling (Cache-Control max-age, RSS ttl, Retry-After, 410 Gone,
// permanent redirects) without deciding when to poll next. It also reads and
// writes feed lists as OPML and discovers a site's feeds from its pages,
// and fetches the web page behind an item (Fetcher.Article) with the same
// limits and guards, handing it to an ArticleExtractor for plain text.
//
// Feed URLs, redirects and feed bodies are untrusted input, and the package
// defends against them: the built-in HTTP client refuses to connect to
// loopback, private, link-local and other non-public addresses unless
// Options.AllowPrivateNetworks is set (guard.go); a feed's configured
// headers go only to the origin of its URL, and https never redirects to
// http; the structure of a body (nesting, elements, attributes, namespaces,
// JSON values) is bounded before gofeed parses it (limits.go), as is an
// OPML import; and every URL in an error passes through
// accordwatch.RedactURL.
//
// It owns github.com/mmcdole/gofeed: no gofeed type leaves this package.
// golang.org/x/net/html (text extraction, feed discovery),
// golang.org/x/net/html/charset (transcoding) and
// golang.org/x/net/http/httpproxy (the proxy settings the guard honours)
// are used alongside it.
package feeds
