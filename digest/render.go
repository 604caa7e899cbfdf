package digest

import (
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/accordwatch/accordwatch"
)

// The templates are embedded and parsed once per render: parsing takes
// microseconds and keeps the package free of mutable globals. Each part
// is a named template ("digest.md.section", "digest.html.chart") so one
// part can be changed without copying the rest.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

// The friendly line of an empty digest.
const emptyText = "No incidents matched this week. Quiet weeks happen — the feeds are still being watched."

// Markdown writes the report as Markdown. Feed text is escaped so that a
// title cannot inject links, HTML or formatting; only http(s) links are
// rendered as links.
func (r *Report) Markdown(w io.Writer) error {
	t, err := texttemplate.New("digest.md").Funcs(texttemplate.FuncMap{
		"md":     mdEscape,
		"code":   mdCode,
		"mdurl":  mdURL,
		"num":    r.mdNum,
		"date":   func(t time.Time) string { return t.In(r.loc()).Format("Mon 2 Jan 15:04") },
		"day":    func(t time.Time) string { return t.In(r.loc()).Format("2006-01-02") },
		"join":   strings.Join,
		"plabel": PrincipleLabel,
		"per":    func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"empty":  func() string { return emptyText },
		"inc":    func(i int) int { return i + 1 },
		"tbl":    func(title string, rows []Count) table { return table{title, rows} },
	}).ParseFS(templateFS, "templates/digest.md.tmpl")
	if err != nil {
		return fmt.Errorf("digest: parse markdown templates: %w", err)
	}
	if err := t.ExecuteTemplate(w, "digest.md", r); err != nil {
		return fmt.Errorf("digest: render markdown: %w", err)
	}
	return nil
}

// HTML writes the report as one self-contained page: inline CSS, inline
// SVG charts, no scripts and no external resources. html/template escapes
// every piece of feed text, and only http(s) links become links.
func (r *Report) HTML(w io.Writer) error {
	t, err := htmltemplate.New("digest.html").Funcs(htmltemplate.FuncMap{
		"date":     func(t time.Time) string { return t.In(r.loc()).Format("Mon 2 Jan 15:04") },
		"day":      func(t time.Time) string { return t.In(r.loc()).Format("2006-01-02") },
		"join":     strings.Join,
		"plabel":   PrincipleLabel,
		"per":      func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"empty":    func() string { return emptyText },
		"tbl":      func(title string, rows []Count) table { return table{title, rows} },
		"add":      func(a, b int) int { return a + b },
		"sub":      func(a, b int) int { return a - b },
		"sevclass": func(sev int) string { return "sev-" + string(accordwatch.SeverityBand(sev)) },
	}).ParseFS(templateFS, "templates/digest.html.tmpl")
	if err != nil {
		return fmt.Errorf("digest: parse html templates: %w", err)
	}
	data := struct {
		*Report
		PrincipleChart barChart
		StateChart     barChart
		DailyChart     lineChart
	}{r, newBarChart("chart-principle", "Incidents by principle", r.ByPrinciple), newBarChart("chart-state", "Incidents by attributed state", r.ByState), newLineChart("chart-daily", "Incidents per day", r.Daily)}
	if err := t.ExecuteTemplate(w, "digest.html", data); err != nil {
		return fmt.Errorf("digest: render html: %w", err)
	}
	return nil
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("digest: encode json: %w", err)
	}
	return nil
}

// loc is the report's zone, UTC when unknown (a report decoded from JSON
// on a machine without that zone).
func (r *Report) loc() *time.Location {
	if l, err := time.LoadLocation(r.Location); err == nil {
		return l
	}
	return time.UTC
}

// table is a titled list of counts for the "digest.md.table" part.
type table struct {
	Title string
	Rows  []Count
}

// mdNum shows a count, linked to its search when the report has a web UI.
func (r *Report) mdNum(c Count) string {
	if c.Link == "" {
		return fmt.Sprint(c.N)
	}
	return fmt.Sprintf("[%d](%s)", c.N, mdURL(c.Link))
}

// mdEscape backslash-escapes the characters that would make feed text
// Markdown or HTML: emphasis, code, links, images, headings, tables,
// raw HTML and entities. Newlines become spaces so text stays on its line.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if strings.ContainsRune("\\`*_[]<>|#~&!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode shows s as inline code, with a delimiter longer than any run of
// backticks inside it.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdURL makes an http(s) URL safe inside (…) of a Markdown link: the
// characters that would end or break it are percent-encoded.
func mdURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}
