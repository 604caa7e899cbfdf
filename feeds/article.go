package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/accordwatch/accordwatch"
)

// ArticleExtractor turns a fetched web page into an article's plain text.
// page is UTF-8 (Article transcodes it first); pageURL is where the page
// was found, after redirects. An error means the page holds no usable
// article (a paywall, a consent wall, an index page) and its text is the
// reason recorded on the item. It must be safe for concurrent use; the
// article package's Extractor is the implementation.
type ArticleExtractor interface {
	ArticleText(page []byte, pageURL *url.URL) (string, error)
}

// articleAccept asks for a web page; anything else is refused on its
// Content-Type (a PDF or an image behind a link is not an article we can
// read).
const articleAccept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

// articleType refuses an answer whose Content-Type says it is not a web
// page, before its body is read: a 50 MB PDF costs one response header.
// No label, text/plain and application/octet-stream pass, because
// mislabelled pages are common; their bytes decide after the read.
func articleType(contentType string) error {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "", "text/html", "application/xhtml+xml", "text/plain", "application/octet-stream":
		return nil
	}
	return &FetchError{Kind: "not-html", Err: fmt.Errorf("not a web page (%s)", mediaType)}
}

// Article fetches the web page at link — an item of feed's link — and
// returns the article in it as plain text, through the same machinery as
// the feed itself: the timeout, the redirect policy (no https→http), the
// body-size cap, the private-network guard and the feed's User-Agent.
// The feed's configured headers (often a credential) are sent only when
// link has the feed URL's origin, the rule Fetch applies to redirects, and
// are dropped on a redirect to another origin.
//
// Errors are *FetchError: the Kinds of Fetch, plus "not-html" (a PDF, an
// image, anything not a web page), "not-an-article" (the extractor's
// verdict) and "unsupported" (a link that is not http or https). Its
// Reason is what the item records; the feed's health is not Article's
// business.
func (f *Fetcher) Article(ctx context.Context, feed accordwatch.Feed, link string) (string, error) {
	text, err := f.article(ctx, feed, link)
	if err != nil {
		var fe *FetchError
		if !errors.As(err, &fe) {
			fe = &FetchError{Kind: "network", Err: err}
		}
		fe.URL = accordwatch.RedactURL(link)
		return "", fe
	}
	return text, nil
}

func (f *Fetcher) article(ctx context.Context, feed accordwatch.Feed, link string) (string, error) {
	if f.opts.Articles == nil {
		return "", &FetchError{Kind: "not-an-article", Err: errors.New("no article extractor configured")}
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		scheme := ""
		if err == nil {
			scheme = u.Scheme
		}
		return "", &FetchError{Kind: "unsupported", Err: fmt.Errorf("link is not an http or https URL (scheme %q)", scheme)}
	}
	configured, cerr := url.Parse(feed.URL)
	sendHeaders := cerr == nil && sameOrigin(u, configured)
	p, err := f.getPage(ctx, u.String(), func(h http.Header) {
		if sendHeaders {
			for k, v := range feed.Headers {
				if strings.EqualFold(k, "Accept-Encoding") {
					continue // the transport's transparent gunzip needs it unset
				}
				h.Set(k, v)
			}
		}
		ua := f.opts.UserAgent
		if feed.UserAgent != "" {
			ua = feed.UserAgent
		}
		h.Set("User-Agent", ua)
		h.Set("Accept", articleAccept)
	}, articleType)
	if err != nil {
		return "", err
	}
	mediaType, _, _ := mime.ParseMediaType(p.contentType)
	switch {
	case mediaType == "text/html" || mediaType == "application/xhtml+xml":
	case (mediaType == "" || mediaType == "text/plain" || mediaType == "application/octet-stream") &&
		strings.HasPrefix(http.DetectContentType(p.body), "text/html"):
		// Mislabelled pages are common; the bytes decide.
	default:
		what := mediaType
		if what == "" {
			what = http.DetectContentType(p.body)
		}
		return "", &FetchError{Kind: "not-html", Err: fmt.Errorf("not a web page (%s)", what)}
	}
	text, err := f.opts.Articles.ArticleText(pageUTF8(p.body, p.contentType), p.final)
	if err != nil {
		return "", &FetchError{Kind: "not-an-article", Err: err}
	}
	return text, nil
}

// pageUTF8 returns an HTML page as UTF-8. A page that is valid UTF-8 is
// taken as it is, whatever its labels say (the same reasoning as a feed's:
// legacy text is practically never valid UTF-8 by accident, mislabelled
// UTF-8 is common); otherwise the encoding is determined as a browser
// does — byte order mark, Content-Type charset, <meta charset> in the
// first 1024 bytes, else Windows-1252 — and the page transcoded.
func pageUTF8(body []byte, contentType string) []byte {
	if utf8.Valid(body) {
		return body
	}
	_, name, _ := charset.DetermineEncoding(body, contentType)
	if out, ok := decodeLabel(name, body); ok && utf8.Valid(out) {
		return out
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}
