package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/accordwatch/accordwatch"
)

// ErrNoFeed is wrapped by Discover's error when the site has no feed it
// can find.
var ErrNoFeed = errors.New("no feed found")

// probeNames are the feed paths that blog engines use (WordPress /feed,
// Hugo /index.xml, Jekyll /feed.xml, Ghost /rss, …), tried in this order
// when a page links no feed.
var probeNames = []string{"feed", "rss", "feed.xml", "atom.xml", "rss.xml", "index.xml"}

// Discover finds the feed URLs of a site. siteURL may lack its scheme
// ("example.com/blog" means https). When the URL is itself a feed, it is
// returned alone. When it is an HTML page, its <link rel="alternate"> feeds
// are returned, absolute, in page order; when it links none, the common
// feed paths are probed (under the page's directory, then the site root),
// one request at a time with the Fetcher's limits, and those that answer
// with a feed are returned. Every request carries the Fetcher's User-Agent.
//
// The error wraps the *FetchError of a failed first request, or ErrNoFeed,
// with a reason a user can act on.
func (f *Fetcher) Discover(ctx context.Context, siteURL string) ([]string, error) {
	raw := strings.TrimSpace(siteURL)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("discover feeds at %q: not an http(s) URL", accordwatch.RedactURL(siteURL))
	}
	site := accordwatch.RedactURL(u.String())

	pg, err := f.get(ctx, u.String())
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("discover feeds at %s: %w", site, because(fe, "%s", fe.Reason()))
		}
		return nil, fmt.Errorf("discover feeds at %s: %w", site, err)
	}
	if f.isFeed(pg) {
		return []string{u.String()}, nil
	}
	mediaType, _, _ := mime.ParseMediaType(pg.contentType)
	if !looksLikeHTML(pg.body, mediaType) {
		return nil, fmt.Errorf("discover feeds at %s: %w: the page is neither a feed nor HTML (%s)", site, ErrNoFeed, mediaType)
	}
	if links := discoverFeeds(pg.body, pg.final); len(links) > 0 {
		return links, nil
	}

	var found []string
	seen := make(map[string]bool) // final URLs: /rss often redirects to /feed
	for _, cand := range probeURLs(pg.final) {
		p, err := f.get(ctx, cand)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("discover feeds at %s: %w", site, ctx.Err())
		}
		if err != nil || !f.isFeed(p) || seen[p.final.String()] {
			continue
		}
		seen[p.final.String()] = true
		found = append(found, cand)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("discover feeds at %s: %w: the page links none (no <link rel=\"alternate\"> of a feed type) and none of /%s answers with a feed",
			site, ErrNoFeed, strings.Join(probeNames, ", /"))
	}
	return found, nil
}

// probeURLs lists the common feed paths under the page's directory (when
// it is not the root) and then under the site root.
func probeURLs(page *url.URL) []string {
	dirs := []string{"/"}
	if dir := path.Dir(page.Path + "x"); dir != "/" && dir != "." {
		dirs = []string{strings.TrimSuffix(dir, "/") + "/", "/"}
	}
	var out []string
	for _, d := range dirs {
		for _, name := range probeNames {
			out = append(out, (&url.URL{Scheme: page.Scheme, Host: page.Host, Path: d + name}).String())
		}
	}
	return out
}

// page is one plain GET's outcome.
type page struct {
	body        []byte
	contentType string
	final       *url.URL
}

// get is a plain GET with the Fetcher's limits (timeout, redirects, size
// cap, User-Agent); a non-2xx answer is a *FetchError.
func (f *Fetcher) get(ctx context.Context, raw string) (page, error) {
	return f.getPage(ctx, raw, func(h http.Header) {
		h.Set("User-Agent", f.opts.UserAgent)
		h.Set("Accept", acceptHeader)
	}, nil)
}

// getPage is get with the request's headers set by header (articles send
// their feed's User-Agent and, to its origin only, its headers). A
// non-nil accept judges a 2xx answer's Content-Type before any of the
// body is read: a refusal costs no download.
func (f *Fetcher) getPage(ctx context.Context, raw string, header func(http.Header), accept func(contentType string) error) (page, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := newRequest(ctx, raw)
	if err != nil {
		return page{}, err
	}
	header(req.Header)
	resp, err := f.client.Do(req)
	if err != nil {
		return page{}, f.transportError(parent, ctx, err)
	}
	drain := true
	defer func() {
		if drain {
			io.CopyN(io.Discard, resp.Body, 4<<10)
		}
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusGone:
		return page{}, &FetchError{Kind: "gone", Status: resp.StatusCode, Err: errors.New("gone: the server says this page was removed (410)")}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return page{}, &FetchError{Kind: "http", Status: resp.StatusCode, Err: errors.New(httpStatusText(resp))}
	}
	if accept != nil {
		if err := accept(resp.Header.Get("Content-Type")); err != nil {
			drain = false // not even the first bytes of a refused body
			return page{}, err
		}
	}
	if !resp.Uncompressed && resp.ContentLength > f.opts.MaxBytes {
		return page{}, tooLarge(f.opts.MaxBytes)
	}
	body, err := readCapped(resp.Body, f.opts.MaxBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return page{}, tooLarge(f.opts.MaxBytes)
		}
		return page{}, f.transportError(parent, ctx, err)
	}
	return page{body: body, contentType: resp.Header.Get("Content-Type"), final: resp.Request.URL}, nil
}

// isFeed reports whether a page parses as RSS, Atom or JSON Feed. Any JSON
// object parses as a JSON Feed, so one must also name its version.
func (f *Fetcher) isFeed(p page) bool {
	norm := normalizeEncoding(p.body, p.contentType)
	if checkShape(norm, f.limits) != nil {
		return false
	}
	pf, err := f.parser.Parse(bytes.NewReader(norm))
	if err != nil {
		return false
	}
	return pf.FeedType != "json" || pf.FeedVersion != ""
}
