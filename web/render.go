package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/accordwatch/accordwatch"
)

// templateFS holds the page templates (one file per page family, one
// {{define}} per part, named "page.part") and the stylesheet.
//
//go:embed templates
var templateFS embed.FS

// pages is the parsed template set plus the stylesheet served beside it.
type pages struct {
	t      *template.Template
	css    []byte
	cssURL string // carries a content hash so browsers re-fetch after an upgrade
}

func loadPages() (*pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("read stylesheet: %w", err)
	}
	sum := sha256.Sum256(css)
	return &pages{t: t, css: css, cssURL: "/static/style.css?v=" + hex.EncodeToString(sum[:6])}, nil
}

// frame is what layout.head and layout.foot need; every page view embeds it.
type frame struct {
	Title   string
	Page    string
	CSS     string
	Version string
	SignOut bool
}

// render executes one page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&buf, name, data); err != nil {
		s.o.Logger.Error("render page", "template", name, "err", err)
		pageHeaders(w)
		http.Error(w, "could not render the page; see the server log", http.StatusInternalServerError)
		return
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// csp allows only our own stylesheet: no script at all (the pages need
// none), no plugins, no framing, forms only to ourselves.
const csp = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageHeaders sets the security headers every HTML response carries.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// highlight escapes a snippet and only then turns the highlight markers
// into <mark> elements, so nothing from the feed can become markup. Marks
// are balanced: a stray end marker is dropped, an open one is closed.
func highlight(s string) template.HTML {
	var b strings.Builder
	open := false
	for s != "" {
		i := strings.IndexAny(s, accordwatch.HighlightStart+accordwatch.HighlightEnd)
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		switch {
		case strings.HasPrefix(s[i:], accordwatch.HighlightStart):
			if !open {
				b.WriteString("<mark>")
				open = true
			}
			s = s[i+len(accordwatch.HighlightStart):]
		default:
			if open {
				b.WriteString("</mark>")
				open = false
			}
			s = s[i+len(accordwatch.HighlightEnd):]
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	// The whole string was escaped above; the only markup is ours.
	return template.HTML(b.String())
}

// webLink returns raw when it is an absolute http or https URL, else "".
// Anything else (javascript:, data:, relative paths) is shown as text only.
func webLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.String()
	}
	return ""
}

// band names the severity band that colours the badge.
func band(severity int) string { return string(accordwatch.SeverityBand(severity)) }

// clause is field:"value" in the query language, with the value quoted
// (and quotes/backslashes in it escaped) so multi-word names stay one value.
func clause(field, value string) string {
	return field + ":" + accordwatch.QuoteValue(value)
}

// addClause ANDs c onto q. A query with a top-level OR is parenthesised
// first, since AND binds tighter than OR ("a OR b c" means "a OR (b c)").
// A clause already in the query is not added twice.
func addClause(q, c string) string {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return c
	case hasClause(q, c):
		return q
	case hasTopLevelOR(q):
		return "(" + q + ") " + c
	}
	return q + " " + c
}

// hasClause reports whether c appears in q as a whole term.
func hasClause(q, c string) bool {
	for i := 0; ; {
		j := strings.Index(q[i:], c)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(c)
		before := start == 0 || strings.ContainsRune(" \t(", rune(q[start-1]))
		after := end == len(q) || strings.ContainsRune(" \t)", rune(q[end]))
		if before && after {
			return true
		}
		i = start + 1
	}
}

// hasTopLevelOR reports whether q has an OR operator outside quotes and
// parentheses.
func hasTopLevelOR(q string) bool {
	depth, inQuote := 0, false
	var word strings.Builder
	flush := func() bool {
		w := word.String()
		word.Reset()
		return w == "OR" && depth == 0
	}
	rs := []rune(q)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case inQuote:
			if r == '\\' {
				i++
			} else if r == '"' {
				inQuote = false
			}
		case r == '"':
			inQuote = true
		case r == '(' || r == ')' || unicode.IsSpace(r):
			if flush() {
				return true
			}
			if r == '(' {
				depth++
			} else if r == ')' && depth > 0 {
				depth--
			}
		default:
			word.WriteRune(r)
		}
	}
	return flush()
}

// searchURL is the search page URL for a query, sort, page and cursor.
func searchURL(q, sort string, page int, after string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if sort != "" {
		v.Set("sort", sort)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return "/"
	}
	// %20 rather than "+" for spaces: html/template would write "+" as
	// &#43; in the attribute, which is correct but unreadable.
	return "/?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

// itemURL is the item page URL; q, when set, gives the page a way back.
func itemURL(id, q string) string {
	u := "/items/" + url.PathEscape(id)
	if q != "" {
		u += "?q=" + strings.ReplaceAll(url.QueryEscape(q), "+", "%20")
	}
	return u
}

// thousands formats n as 1,234,567.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// caret draws the query with a ^ under the 1-based character column.
func caret(q string, col int) string {
	n := len([]rune(q))
	if col < 1 || col > n+1 {
		return ""
	}
	return q + "\n" + strings.Repeat(" ", col-1) + "^"
}
