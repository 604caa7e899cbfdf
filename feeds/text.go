package feeds

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped elements carry no readable text (code, styles, embedded media).
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Object: true, atom.Math: true,
}

// breaks says what separator an element stands for: 2 = paragraph break,
// 1 = line break, 0 (absent) = inline. Table cells become spaces.
var breaks = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Blockquote: 2, atom.Pre: 2, atom.Table: 2, atom.Ul: 2, atom.Ol: 2, atom.Dl: 2,
	atom.Section: 2, atom.Article: 2, atom.Header: 2, atom.Footer: 2, atom.Aside: 2,
	atom.Figure: 2, atom.Hr: 2, atom.Nav: 2, atom.Main: 2, atom.Address: 2, atom.Details: 2,
	atom.Br: 1, atom.Div: 1, atom.Li: 1, atom.Tr: 1, atom.Dt: 1, atom.Dd: 1,
	atom.Figcaption: 1, atom.Caption: 1, atom.Summary: 1, atom.Thead: 1, atom.Tbody: 1,
	atom.Tfoot: 1, atom.Option: 1,
}

// HTMLToText turns an HTML fragment (or plain text with entities) into plain
// text: script, style and similar elements are dropped, block elements
// become line breaks (paragraph-like ones a blank line), table cells spaces,
// entities are decoded, and whitespace is collapsed as a browser would
// (source line breaks count only inside <pre>, or when s has no tags at
// all). The result is valid UTF-8 with no control characters but '\n'.
//
// The text is not escaped for any output: "&lt;!channel&gt;" comes back as
// "<!channel>", and escaping is the job of whoever renders it.
func HTMLToText(s string) string { return htmlToText(s, false) }

// TitleText is HTMLToText for titles, which are mostly plain text that
// happens to contain '<': markup that is not HTML ("<!channel>",
// "<https://x|y>", "<Company>") is kept as the literal text it is rather
// than dropped as a bogus comment or unknown tag, so a hostile title stays
// visible (and is escaped by whoever renders it).
func TitleText(s string) string { return htmlToText(s, true) }

func htmlToText(s string, keepNonHTML bool) string {
	var w textWriter
	if !strings.Contains(s, "<") {
		// Plain text, perhaps with entities: its line breaks are meant.
		w.text(html.UnescapeString(s), true)
		return w.b.String()
	}
	w.b.Grow(len(s) / 2)
	z := html.NewTokenizer(strings.NewReader(s))
	skipDepth, pre := 0, 0
	var skipTag atom.Atom
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.b.String()
		case html.TextToken:
			if skipDepth == 0 {
				w.text(string(z.Text()), pre > 0)
			}
		case html.CommentToken:
			if keepNonHTML && skipDepth == 0 && !strings.HasPrefix(string(z.Raw()), "<!--") {
				w.text(string(z.Raw()), false)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := string(z.Raw())
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if keepNonHTML && a == 0 && skipDepth == 0 {
				w.text(raw, false)
				continue
			}
			if skipDepth > 0 {
				if a == skipTag && tt == html.StartTagToken {
					skipDepth++
				}
				continue
			}
			switch {
			case skipped[a] && tt == html.StartTagToken:
				skipTag, skipDepth = a, 1
			case a == atom.Td || a == atom.Th:
				w.space()
			case a == atom.Img:
				// Alt text is the only text an image contributes.
				w.space()
				w.text(attr(z, "alt"), false)
				w.space()
			default:
				if a == atom.Pre && tt == html.StartTagToken {
					pre++
				}
				w.brk(breaks[a])
			}
		case html.EndTagToken:
			raw := string(z.Raw())
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if keepNonHTML && a == 0 && skipDepth == 0 {
				w.text(raw, false)
				continue
			}
			if skipDepth > 0 {
				if a == skipTag {
					skipDepth--
				}
				continue
			}
			switch {
			case a == atom.Td || a == atom.Th:
				w.space()
			default:
				if a == atom.Pre && pre > 0 {
					pre--
				}
				w.brk(breaks[a])
			}
		}
	}
}

func attr(z *html.Tokenizer, key string) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == key {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}

// textWriter collapses whitespace as text is written: separators are held
// back until the next visible character, so none lead, trail or pile up.
type textWriter struct {
	b         strings.Builder
	breaks    int  // pending line breaks, at most 2 (one blank line)
	pendSpace bool // pending space
	started   bool
}

func (w *textWriter) brk(n int) { w.breaks = max(w.breaks, n) }

func (w *textWriter) space() { w.pendSpace = true }

// text writes s; with keepLines its line breaks are kept, else they are
// spaces. Invalid UTF-8 becomes U+FFFD (ranging over a string does that).
func (w *textWriter) text(s string, keepLines bool) {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\u2028' || r == '\u2029':
			if keepLines {
				w.breaks = min(w.breaks+1, 2)
			} else {
				w.pendSpace = true
			}
		case r == '\r':
			if !keepLines {
				w.pendSpace = true
			}
		case unicode.IsSpace(r): // includes NBSP
			w.pendSpace = true
		case unicode.IsControl(r) || r == '\uFEFF' || r == '\u200B':
			// Invisible characters would only hide words from matchers.
		default:
			if w.started {
				switch {
				case w.breaks >= 2:
					w.b.WriteString("\n\n")
				case w.breaks == 1:
					w.b.WriteByte('\n')
				case w.pendSpace:
					w.b.WriteByte(' ')
				}
			}
			w.b.WriteRune(r)
			w.started = true
			w.breaks, w.pendSpace = 0, false
		}
	}
}

// discoverFeed returns the first feed discoverFeeds finds, or "".
func discoverFeed(page []byte, base *url.URL) string {
	if links := discoverFeeds(page, base); len(links) > 0 {
		return links[0]
	}
	return ""
}

// feedLinkTypes are the <link rel="alternate"> types that announce a feed.
// Plain application/json is not one: WordPress uses it for its REST API.
var feedLinkTypes = map[string]bool{
	"application/rss+xml": true, "application/atom+xml": true,
	"application/feed+json": true, "application/rdf+xml": true,
}

// discoverFeeds returns, in page order and without repeats, the
// <link rel="alternate"> of a feed type in an HTML page's head, resolved
// against the page's <base href> or else base, as canonical links.
func discoverFeeds(page []byte, base *url.URL) []string {
	var links []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return links
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Body:
				return links // alternates live in <head>
			case atom.Link, atom.Base:
			default:
				continue
			}
			if !hasAttr {
				continue
			}
			var rel, typ, href string
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "rel":
					rel = strings.ToLower(string(v))
				case "type":
					typ, _, _ = strings.Cut(strings.ToLower(string(v)), ";")
					typ = strings.TrimSpace(typ)
				case "href":
					href = strings.TrimSpace(string(v))
				}
				if !more {
					break
				}
			}
			if a == atom.Base {
				if u, err := url.Parse(href); err == nil && href != "" {
					if base != nil {
						u = base.ResolveReference(u)
					}
					base = u
				}
				continue
			}
			if !hasToken(rel, "alternate") || href == "" || !feedLinkTypes[typ] {
				continue
			}
			if link := CanonicalLink(href, base); link != "" && !slices.Contains(links, link) {
				links = append(links, link)
			}
		}
	}
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if f == tok {
			return true
		}
	}
	return false
}
