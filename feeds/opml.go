package feeds

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html/charset"

	"github.com/accordwatch/accordwatch"
)

// Skipped is an OPML outline that ParseOPML did not import, and why.
type Skipped struct {
	// Line is where the outline starts in the file (1-based).
	Line  int
	Title string
	URL   string
	// Reason is one of "no xmlUrl", "not an http(s) URL",
	// "invalid URL: …" or "duplicate of line N".
	Reason string
}

// Limits of one OPML import. The real lists in the shared data hold at most
// 1,294 outlines, nested at most 4 elements deep (opml, body, category,
// feed); a list beyond these is a mistake or an attack, and is refused
// rather than imported in part.
const (
	maxOPMLOutlines = 10_000
	maxOPMLDepth    = 64
)

// ParseOPML reads a feed list in OPML (1.0 or 2.0, any declared charset).
// Every outline with an xmlUrl is a feed; outlines without one that hold
// other outlines are categories, and the path of categories above a feed
// becomes its Tags (lower-cased slugs), followed by its own category
// attribute split on "/" and ",". Name is the title attribute, else text,
// else the URL's host; URL is kept as written; Source is "opml"; Article
// is the outline's article attribute when it is auto, always or never.
//
// Outlines that cannot be imported (no xmlUrl and no children, a
// non-http(s) or malformed URL, the same canonical URL as an earlier
// entry) are returned in skipped, in file order, and never fail the import:
// real lists are full of them. err is non-nil only when r is not OPML at
// all (not XML, or another root element) or is over a limit (more than
// 10,000 outlines, elements nested more than 64 deep); it names the line.
func ParseOPML(r io.Reader) (feeds []accordwatch.Feed, skipped []Skipped, err error) {
	dec := xml.NewDecoder(r)
	// Real exports contain raw '&' in URLs and HTML entities in titles.
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = charset.NewReaderLabel

	type frame struct {
		feed     bool // an outline with an xmlUrl
		children bool
		line     int
		title    string
		url      string
		tags     []string // what a category contributes to its descendants
	}
	var (
		stack    []*frame
		root     bool
		seen     = make(map[string]int) // dedupe key → line of the first entry
		depth    int                    // open elements, outlines or not
		outlines int
	)
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("parse OPML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxOPMLDepth {
				return nil, nil, fmt.Errorf("parse OPML: line %d: elements nest deeper than %d levels", line, maxOPMLDepth)
			}
			if !root {
				if !strings.EqualFold(t.Name.Local, "opml") {
					return nil, nil, fmt.Errorf("parse OPML: line %d: not an OPML file: the root element is <%s>", line, t.Name.Local)
				}
				root = true
				continue
			}
			if !strings.EqualFold(t.Name.Local, "outline") {
				continue
			}
			outlines++
			if outlines > maxOPMLOutlines {
				return nil, nil, fmt.Errorf("parse OPML: line %d: more than %d outlines; import at most %d at a time", line, maxOPMLOutlines, maxOPMLOutlines)
			}
			if len(stack) > 0 {
				stack[len(stack)-1].children = true
			}
			attrs := outlineAttrs(t.Attr)
			fr := &frame{line: line, url: strings.TrimSpace(attrs["xmlurl"])}
			stack = append(stack, fr)
			cats := splitCategories(attrs["category"])
			if fr.url == "" {
				fr.title = firstNonEmpty(attrs["text"], attrs["title"])
				if s := slug(fr.title); s != "" {
					fr.tags = append(fr.tags, s)
				}
				fr.tags = append(fr.tags, cats...)
				continue
			}
			fr.feed = true
			fr.title = firstNonEmpty(attrs["title"], attrs["text"])
			u, reason := checkFeedURL(fr.url)
			if reason != "" {
				skipped = append(skipped, Skipped{Line: line, Title: fr.title, URL: fr.url, Reason: reason})
				continue
			}
			key := dedupeKey(u)
			if first, dup := seen[key]; dup {
				skipped = append(skipped, Skipped{Line: line, Title: fr.title, URL: fr.url, Reason: fmt.Sprintf("duplicate of line %d", first)})
				continue
			}
			seen[key] = line
			var tags []string
			for _, anc := range stack {
				tags = append(tags, anc.tags...)
			}
			tags = append(tags, cats...)
			name := fr.title
			if name == "" {
				name = u.Hostname()
			}
			feeds = append(feeds, accordwatch.Feed{Name: name, URL: fr.url, Tags: dedupe(tags), Source: "opml",
				Article: articleAttr(attrs["article"])})
		case xml.EndElement:
			depth--
			if !strings.EqualFold(t.Name.Local, "outline") || len(stack) == 0 {
				continue
			}
			fr := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !fr.feed && !fr.children {
				skipped = append(skipped, Skipped{Line: fr.line, Title: fr.title, Reason: "no xmlUrl"})
			}
		}
	}
	if !root {
		return nil, nil, errors.New("parse OPML: not an OPML file: no <opml> element")
	}
	return feeds, skipped, nil
}

// articleAttr reads an outline's article attribute (our extension, written
// by WriteOPML): auto, always or never, any case. Another value is
// ignored, leaving the feed's default: an import never fails on it.
func articleAttr(v string) string {
	switch v = strings.ToLower(strings.TrimSpace(v)); v {
	case accordwatch.ArticleAuto, accordwatch.ArticleAlways, accordwatch.ArticleNever:
		return v
	}
	return ""
}

// outlineAttrs maps lower-cased attribute names to whitespace-collapsed
// values: exporters disagree on xmlUrl/xmlURL/xmlurl.
func outlineAttrs(attrs []xml.Attr) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		k := strings.ToLower(a.Name.Local)
		if _, ok := m[k]; !ok {
			m[k] = strings.Join(strings.Fields(a.Value), " ")
		}
	}
	return m
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// checkFeedURL parses an xmlUrl, or says why it cannot be polled.
func checkFeedURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, "invalid URL: " + err.Error()
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return nil, "not an http(s) URL"
	}
	if u.Hostname() == "" {
		return nil, "invalid URL: no host"
	}
	return u, ""
}

// dedupeKey is what makes two feed URLs the same entry: the canonical link
// (lower-case host, no default port, fragment or tracking parameters)
// without its scheme and trailing slash, since http/https and /feed vs
// /feed/ name one feed on every real server.
func dedupeKey(u *url.URL) string {
	c := CanonicalLink(u.String(), nil)
	if _, rest, ok := strings.Cut(c, "://"); ok {
		c = rest
	}
	if path, query, ok := strings.Cut(c, "?"); ok {
		return strings.TrimSuffix(path, "/") + "?" + query
	}
	return strings.TrimSuffix(c, "/")
}

// splitCategories reads an OPML category attribute ("/Tech/Security,News")
// into slugs.
func splitCategories(attr string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(attr, func(r rune) bool { return r == '/' || r == ',' }) {
		if s := slug(part); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// slug lower-cases s and joins its runs of letters and digits with '-':
// "Red Team / Tools" → "red-team-tools"; non-Latin letters are kept.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

func dedupe(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// opml is the OPML 2.0 document WriteOPML renders.
type opml struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Body    []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr,omitempty"`
	Type     string `xml:"type,attr,omitempty"`
	XMLURL   string `xml:"xmlUrl,attr,omitempty"`
	Category string `xml:"category,attr,omitempty"`
	// Article is the feed's article setting (accordwatch's extension;
	// readers ignore attributes they do not know).
	Article  string        `xml:"article,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// WriteOPML writes feeds as an OPML 2.0 document: feeds are grouped under a
// category outline named by their first tag (groups in order of first
// appearance), their other tags go in the category attribute, and untagged
// feeds sit at the top level. ParseOPML reads the result back to the same
// Name, URL and Tags when tags are slugs (as ParseOPML produces them).
func WriteOPML(w io.Writer, title string, feeds []accordwatch.Feed) error {
	doc := opml{Version: "2.0", Title: title}
	group := make(map[string]int) // first tag → index in doc.Body
	for _, f := range feeds {
		name := f.Name
		if name == "" {
			if u, err := url.Parse(f.URL); err == nil && u.Hostname() != "" {
				name = u.Hostname()
			} else {
				name = f.URL
			}
		}
		o := opmlOutline{Text: name, Title: name, Type: "rss", XMLURL: f.URL, Article: f.Article}
		if len(f.Tags) == 0 {
			doc.Body = append(doc.Body, o)
			continue
		}
		o.Category = strings.Join(f.Tags[1:], ",")
		i, ok := group[f.Tags[0]]
		if !ok {
			i = len(doc.Body)
			group[f.Tags[0]] = i
			doc.Body = append(doc.Body, opmlOutline{Text: f.Tags[0], Title: f.Tags[0]})
		}
		doc.Body[i].Outlines = append(doc.Body[i].Outlines, o)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	return nil
}
