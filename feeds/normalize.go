package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"

	"github.com/accordwatch/accordwatch"
)

// futureSlack is how far ahead of the fetch time a date may lie before it is
// treated as wrong (clock skew is fine, "published next year" is not).
const futureSlack = time.Hour

// feedTTLKey carries an RSS channel's <ttl>, which the universal feed drops,
// in gofeed.Feed.Custom.
const feedTTLKey = "accordwatch:ttl"

// guidNotPermalink marks, in gofeed.Item.Custom, an RSS guid with
// isPermaLink="false", which must not be used as the item's link.
const guidNotPermalink = "accordwatch:guid-not-permalink"

func newParser() *gofeed.Parser {
	fp := gofeed.NewParser()
	fp.RSSTranslator = &rssTranslator{inner: gofeed.DefaultRSSTranslator{DisableContentImageScan: true}}
	return fp
}

// rssTranslator is gofeed's RSS translator (with the per-item image scan
// off: we need no images) that also records isPermaLink="false", which the
// universal item drops. It is stateless, so one can serve every goroutine.
type rssTranslator struct {
	inner gofeed.DefaultRSSTranslator
}

func (t *rssTranslator) Translate(feed any) (*gofeed.Feed, error) {
	out, err := t.inner.Translate(feed)
	if err != nil {
		return nil, err
	}
	src, ok := feed.(*rss.Feed)
	if !ok {
		return out, nil
	}
	if ttl := strings.TrimSpace(src.TTL); ttl != "" {
		// Copy: gofeed shares the rss feed's Custom map.
		custom := make(map[string]string, len(out.Custom)+1)
		for k, v := range out.Custom {
			custom[k] = v
		}
		custom[feedTTLKey] = ttl
		out.Custom = custom
	}
	if len(src.Items) != len(out.Items) {
		return out, nil
	}
	for i, it := range src.Items {
		if it.GUID != nil && strings.EqualFold(strings.TrimSpace(it.GUID.IsPermalink), "false") {
			// Copy: gofeed shares the rss item's Custom map.
			custom := make(map[string]string, len(out.Items[i].Custom)+1)
			for k, v := range out.Items[i].Custom {
				custom[k] = v
			}
			custom[guidNotPermalink] = "true"
			out.Items[i].Custom = custom
		}
	}
	return out, nil
}

// feedTTL is the RSS <ttl> in minutes as a Duration; 0 when absent,
// malformed or not positive. A year at most, so it cannot overflow.
func feedTTL(pf *gofeed.Feed) time.Duration {
	n, err := strconv.Atoi(pf.Custom[feedTTLKey])
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 365*24*60)) * time.Minute
}

// normalizeFeed turns gofeed's items into accordwatch items: stable IDs,
// canonical links, plain text, UTC dates clamped to now, first of each ID.
func normalizeFeed(pf *gofeed.Feed, feed accordwatch.Feed, base *url.URL, now time.Time) []accordwatch.Item {
	name := feed.Name
	if name == "" {
		name = TitleText(pf.Title)
	}
	// Relative item links resolve against the fetch URL; local files have
	// none worth using, so the feed's own site link serves instead.
	if base == nil || (base.Scheme != "http" && base.Scheme != "https") {
		if site := CanonicalLink(pf.Link, nil); site != "" {
			base, _ = url.Parse(site)
		}
	}
	now = now.UTC()
	items := make([]accordwatch.Item, 0, len(pf.Items))
	seen := make(map[string]bool, len(pf.Items))
	for _, it := range pf.Items {
		if it == nil {
			continue
		}
		item := normalizeItem(it, feed.URL, name, base, now)
		if seen[item.ID] {
			continue
		}
		seen[item.ID] = true
		items = append(items, item)
	}
	return items
}

func normalizeItem(it *gofeed.Item, feedURL, feedName string, base *url.URL, now time.Time) accordwatch.Item {
	guid := strings.TrimSpace(it.GUID)
	link := CanonicalLink(it.Link, base)
	if link == "" {
		for _, l := range it.Links {
			if link = CanonicalLink(l, base); link != "" {
				break
			}
		}
	}
	if link == "" && guid != "" && it.Custom[guidNotPermalink] == "" && isAbsoluteHTTP(guid) {
		link = CanonicalLink(guid, nil)
	}
	title := TitleText(it.Title)
	text := HTMLToText(it.Content)
	if desc := HTMLToText(it.Description); len(desc) > len(text) {
		text = desc
	}

	// The feed's own date keys the ID (not the fetch-time fallback), so an
	// undated item without GUID or link keeps its ID from poll to poll.
	feedDate := itemDate(it)
	published := feedDate
	if published.IsZero() || published.After(now.Add(futureSlack)) {
		published = now
	}
	return accordwatch.Item{
		ID: ItemID(feedURL, guid, link, title, feedDate),
		// The ID keys on the feed URL as configured; the item keeps it
		// redacted, since items are stored, indexed, served and alerted.
		FeedURL:     accordwatch.RedactURL(feedURL),
		FeedName:    feedName,
		GUID:        guid,
		Link:        link,
		Title:       title,
		Text:        text,
		Published:   published,
		Fetched:     now,
		ContentHash: contentHash(title, text, link),
	}
}

// itemDate is the item's publication (else update) time in UTC, zero when
// the feed gives none that parses.
func itemDate(it *gofeed.Item) time.Time {
	for _, p := range []*time.Time{it.PublishedParsed, it.UpdatedParsed} {
		if p != nil && !p.IsZero() {
			return p.UTC()
		}
	}
	for _, raw := range []string{it.Published, it.Updated} {
		if t, ok := parseLooseDate(raw); ok {
			return t
		}
	}
	return time.Time{}
}

// looseLayouts are date forms seen in real feeds that gofeed's parser does
// not know (CrowdStrike: "Jul 24, 2025 05:47:25+0000").
var looseLayouts = []string{
	"Jan 2, 2006 15:04:05-0700",
	"Jan 2, 2006 15:04:05Z07:00",
	"Jan 2, 2006 15:04:05 -0700",
	"Jan 2, 2006 15:04:05 MST",
	"Jan 2, 2006 15:04:05",
	"January 2, 2006 15:04:05-0700",
	"January 2, 2006",
	"Jan 2, 2006",
	"2006-01-02 15:04:05-0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
}

func parseLooseDate(raw string) (time.Time, bool) {
	raw = strings.Join(strings.Fields(raw), " ")
	if raw == "" {
		return time.Time{}, false
	}
	for _, layout := range looseLayouts {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func isAbsoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

func contentHash(title, text, link string) string {
	h := sha256.New()
	h.Write([]byte(title))
	h.Write([]byte{'\n'})
	h.Write([]byte(text))
	h.Write([]byte{'\n'})
	h.Write([]byte(link))
	return hex.EncodeToString(h.Sum(nil))
}

// ItemID is the stable identity of an item: a hex SHA-256 of the feed URL
// and the first of the GUID, the canonical link, or the title with the
// published time (in UTC; zero when the feed gives no date). Each key kind
// is labelled, so a GUID can never collide with a link of the same text.
func ItemID(feedURL, guid, canonicalLink, title string, published time.Time) string {
	h := sha256.New()
	h.Write([]byte(feedURL))
	h.Write([]byte{0})
	switch guid, canonicalLink = strings.TrimSpace(guid), strings.TrimSpace(canonicalLink); {
	case guid != "":
		h.Write([]byte("guid\x00" + guid))
	case canonicalLink != "":
		h.Write([]byte("link\x00" + canonicalLink))
	default:
		stamp := ""
		if !published.IsZero() {
			stamp = published.UTC().Format(time.RFC3339Nano)
		}
		h.Write([]byte("title\x00" + strings.TrimSpace(title) + "\x00" + stamp))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// trackingParams are query parameters that only identify a campaign or a
// click; dropping them makes the same story's links compare equal.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true,
	"igshid": true, "wt_mc": true, "wt_zmc": true, // Webtrekk (heise)
	"pk_campaign": true, "pk_kwd": true, "pk_source": true, "pk_medium": true, // Matomo
	"mtm_campaign": true, "mtm_kwd": true, "mtm_source": true, "mtm_medium": true,
}

// CanonicalLink resolves raw against base (when non-nil), lower-cases scheme
// and host, drops the default port, the fragment, utm_* and other tracking
// parameters (keeping the rest in order and as written), and gives an empty
// path "/". Only http and https links are returned; anything else is "".
func CanonicalLink(raw string, base *url.URL) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return ""
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	u.RawQuery = stripTrackers(u.RawQuery)
	u.ForceQuery = false
	return u.String()
}

func stripTrackers(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		if p == "" {
			continue
		}
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		key = strings.ToLower(key)
		if strings.HasPrefix(key, "utm_") || trackingParams[key] {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}
