package web

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

// pageSize is the number of hits on one search page unless ?size= says.
const pageSize = 20

// searchView is the data of search.page.
type searchView struct {
	frame
	Q, Sort  string
	Error    string
	Caret    string
	Examples []example
	Total    string
	TotalN   uint64
	Took     string
	Hits     []hitView
	Facets   []facetView
	Days     []dayView
	Pager    pagerView
}

type example struct{ Query, Href string }

type hitView struct {
	Href, Title    string
	Link, LinkText string
	Feed           string
	Date, DateTime string
	Severity       int
	Band           string
	Snippet        template.HTML
	Chips          []chip
}

// chip is one tag; following it ANDs field:"value" onto the query.
type chip struct{ Field, Label, Value, Href string }

type facetView struct {
	Field, Label string
	Values       []facetValue
}

type facetValue struct {
	Value  string
	Count  int
	Href   string
	Active bool
}

type dayView struct {
	Day   string
	Count int
	Width int // 0–20, the bar's length in 5% steps
	Href  string
}

type pagerView struct {
	Prev, Next string
	Pages      []pageLink
}

type pageLink struct {
	N       int
	Href    string
	Current bool
	Gap     bool
}

// facetOrder is the sidebar order, with labels; "day" is drawn separately.
var facetOrder = []struct{ field, label string }{
	{"signatory", "Signatory"},
	{"state", "State"},
	{"actor", "Actor"},
	{"attack", "Attack type"},
	{"principle", "Principle"},
	{"feed", "Feed"},
}

var examples = []string{
	`state:russia signatory:microsoft since:30d`,
	`"volt typhoon" OR actor:"volt typhoon"`,
	`attack:ransomware severity:>=70 -state:china`,
}

func (s *server) frame(r *http.Request, title, page string) frame {
	return frame{Title: title, Page: page, CSS: s.pages.cssURL, Version: s.o.Version, SignOut: s.o.Token.IsSet()}
}

// searchPage serves GET /: the query box, results, facets and pager.
// User mistakes (syntax, paging parameters) are 400 pages, never 500s.
func (s *server) searchPage(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	v := searchView{frame: s.frame(r, "Search", "search"), Q: strings.TrimSpace(qs.Get("q"))}
	if v.Q != "" {
		v.Title = v.Q
	}
	for _, e := range examples {
		v.Examples = append(v.Examples, example{Query: e, Href: searchURL(e, "", 1, "")})
	}
	// Without an explicit choice: newest for the empty query (a feed view),
	// relevance for a typed one. The select shows what was used.
	v.Sort = qs.Get("sort")
	switch v.Sort {
	case accordwatch.SortNewest, accordwatch.SortRelevance:
	case "":
		v.Sort = accordwatch.SortRelevance
		if v.Q == "" {
			v.Sort = accordwatch.SortNewest
		}
	default:
		v.Sort = accordwatch.SortNewest
		v.Error = `sort must be "newest" or "relevance"`
		s.render(w, http.StatusBadRequest, "search.page", v)
		return
	}
	size, err := intParam(qs.Get("size"), pageSize, 1, 100)
	if err != nil {
		v.Error = "size: " + err.Error()
		s.render(w, http.StatusBadRequest, "search.page", v)
		return
	}
	page, err := intParam(qs.Get("page"), 1, 1, 10000)
	if err != nil {
		v.Error = "page: " + err.Error()
		s.render(w, http.StatusBadRequest, "search.page", v)
		return
	}
	req := accordwatch.SearchRequest{Query: v.Q, Sort: v.Sort, Size: size, From: (page - 1) * size, After: qs.Get("after")}

	ctx, cancel := context.WithTimeout(r.Context(), s.o.SearchTimeout)
	defer cancel()
	res, err := s.o.Searcher.Search(ctx, req)
	if err != nil {
		var pe *index.ParseError
		switch {
		case errors.As(err, &pe):
			v.Error = err.Error()
			v.Caret = caret(v.Q, pe.Pos)
			s.render(w, http.StatusBadRequest, "search.page", v)
		case errors.Is(err, index.ErrBadRequest):
			v.Error = err.Error()
			s.render(w, http.StatusBadRequest, "search.page", v)
		case errors.Is(err, context.DeadlineExceeded):
			s.errorPage(w, r, http.StatusServiceUnavailable, "Search timed out", "The search took too long. Narrow it with a field or a date range (since:7d).")
		default:
			s.o.Logger.Error("search page", "q", v.Q, "err", err)
			s.errorPage(w, r, http.StatusInternalServerError, "Search failed", "The search failed; the server log has the details.")
		}
		return
	}
	s.fillResults(&v, res, size, page)
	s.render(w, http.StatusOK, "search.page", v)
}

func (s *server) fillResults(v *searchView, res accordwatch.SearchResult, size, page int) {
	v.TotalN = res.Total
	v.Total = thousands(res.Total)
	if res.TotalAtLeast {
		v.Total += "+" // the index stopped counting
	}
	v.Took = strconv.FormatFloat(res.TookMS, 'f', 1, 64)
	for _, h := range res.Hits {
		hv := hitView{
			Href:     itemURL(h.ID, v.Q),
			Title:    h.Title,
			Link:     webLink(h.Link),
			LinkText: h.Link,
			Feed:     h.Feed,
			Severity: h.Severity,
			Band:     band(h.Severity),
			Snippet:  highlight(h.Snippet),
		}
		if hv.Title == "" {
			hv.Title = "(untitled)"
		}
		if !h.Published.IsZero() {
			hv.Date = h.Published.UTC().Format("2006-01-02")
			hv.DateTime = h.Published.UTC().Format(time.RFC3339)
		}
		hv.Chips = chips(v.Q, v.Sort, h.Signatories, h.States, h.Actors, h.AttackTypes, h.Principles)
		v.Hits = append(v.Hits, hv)
	}
	for _, f := range facetOrder {
		counts := res.Facets[f.field]
		if len(counts) == 0 {
			continue
		}
		fv := facetView{Field: f.field, Label: f.label}
		for _, c := range counts {
			cl := clause(f.field, c.Value)
			fv.Values = append(fv.Values, facetValue{
				Value: c.Value, Count: c.Count,
				Href:   searchURL(addClause(v.Q, cl), v.Sort, 1, ""),
				Active: hasClause(v.Q, cl),
			})
		}
		v.Facets = append(v.Facets, fv)
	}
	if days := res.Facets["day"]; len(days) > 0 {
		most := 0
		for _, d := range days {
			most = max(most, d.Count)
		}
		for _, d := range days {
			cl := "published:[" + d.Value + " TO " + d.Value + "]"
			width := 0
			if most > 0 {
				width = (d.Count*20 + most - 1) / most // round up so 1 is visible
			}
			v.Days = append(v.Days, dayView{Day: d.Value, Count: d.Count, Width: width, Href: searchURL(addClause(v.Q, cl), v.Sort, 1, "")})
		}
	}
	v.Pager = pager(v.Q, v.Sort, page, size, res)
}

// chips builds the tag chips of a hit in a fixed order of kinds.
func chips(q, sort string, signatories, states, actors, attacks, principles []string) []chip {
	var out []chip
	add := func(field, label string, vals []string) {
		for _, val := range vals {
			out = append(out, chip{Field: field, Label: label, Value: val, Href: searchURL(addClause(q, clause(field, val)), sort, 1, "")})
		}
	}
	add("signatory", "signatory", signatories)
	add("state", "state", states)
	add("actor", "actor", actors)
	add("attack", "attack", attacks)
	add("principle", "principle", principles)
	return out
}

// pager shows pages around the current one by number (?page=), and a Next
// link that uses the result's cursor when there is one, since search-after
// stays fast however deep the page.
func pager(q, sort string, page, size int, res accordwatch.SearchResult) pagerView {
	var p pagerView
	last := int((res.Total + uint64(size) - 1) / uint64(size))
	if last <= 1 && res.Next == "" && page == 1 {
		return p
	}
	if page > 1 {
		p.Prev = searchURL(q, sort, page-1, "")
	}
	switch {
	case res.Next != "":
		p.Next = searchURL(q, sort, page+1, res.Next)
	case page < last:
		p.Next = searchURL(q, sort, page+1, "")
	}
	lo, hi := max(1, page-2), max(min(last, page+2), page)
	if lo > 1 {
		p.Pages = append(p.Pages, pageLink{N: 1, Href: searchURL(q, sort, 1, "")})
		if lo > 2 {
			p.Pages = append(p.Pages, pageLink{Gap: true})
		}
	}
	for n := lo; n <= hi; n++ {
		p.Pages = append(p.Pages, pageLink{N: n, Href: searchURL(q, sort, n, ""), Current: n == page})
	}
	if hi < last {
		p.Pages = append(p.Pages, pageLink{Gap: true})
	}
	return p
}

// itemView is the data of item.page.
type itemView struct {
	frame
	Back string
	Item itemData
}

type itemData struct {
	Title, Link, LinkText, Feed string
	Date, DateTime              string
	Severity                    int
	Band                        string
	Chips                       []chip
	Evidence                    []evidenceRow
	Attribution                 []accordwatch.Attribution
	Roles                       []roleRow
	Text                        string
	// ArticleChars is the length of the article fetched from the source
	// (0 without one); ArticleError why none is used.
	ArticleChars int
	ArticleError string
	// Incident is the story this item is one report of; nil when it has
	// no other report.
	Incident *incidentBlock
}

// incidentBlock is the item's incident on its page: the other reports,
// and why this report joined (the merge record), or that it came first.
type incidentBlock struct {
	Title   string
	Sources int
	First   bool
	Why     string
	Others  []incidentReport
}

type incidentReport struct{ Title, Feed, Date, Href string }

// evidenceRow is one tag's evidence. Where names the part the match came
// from (title, summary, article; "tags" when derived) and its offset. For
// matches in the article, Before and After are a few words around it: the
// article is the publisher's, so the page quotes it only there.
type evidenceRow struct {
	Tag, Match, Where, Rule string
	InArticle               bool
	Before, After           string
}

// articleContext is how many characters of the article are shown on each
// side of a match: with the match, a quote stays under about 200.
const articleContext = 80

type roleRow struct{ Name, Role string }

// itemPage serves GET /items/{id}: the item and the evidence for each tag.
func (s *server) itemPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	it, ok, err := s.o.Items.Item(id)
	if err != nil {
		s.o.Logger.Error("item page", "item_id", id, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Could not read the item", "The store failed; the server log has the details.")
		return
	}
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "No such item", "There is no item with that id. It may have been pruned.")
		return
	}
	v := itemView{frame: s.frame(r, it.Title, "item")}
	if q := r.URL.Query().Get("q"); q != "" {
		v.Back = searchURL(q, "", 1, "")
	}
	d := itemData{
		Title:       it.Title,
		Link:        webLink(it.Link),
		LinkText:    it.Link,
		Feed:        it.FeedName,
		Severity:    it.Tags.Severity,
		Band:        band(it.Tags.Severity),
		Attribution: it.Tags.Attribution,
		Text:        it.Text,
	}
	if d.Title == "" {
		d.Title = "(untitled)"
		v.Title = d.Title
	}
	if !it.Published.IsZero() {
		d.Date = it.Published.UTC().Format("2006-01-02 15:04 UTC")
		d.DateTime = it.Published.UTC().Format(time.RFC3339)
	}
	principles := make([]string, len(it.Tags.Principles))
	for i, p := range it.Tags.Principles {
		principles[i] = string(p)
	}
	d.Chips = chips("", "", it.Tags.Signatories, it.Tags.States, it.Tags.Actors, it.Tags.AttackTypes, principles)
	for _, c := range it.Tags.Companies {
		d.Chips = append(d.Chips, chip{Field: "company", Label: "company", Value: c, Href: searchURL(clause("company", c), "", 1, "")})
	}
	if it.Tags.StateLinked {
		d.Chips = append(d.Chips, chip{Field: "state_linked", Label: "state-linked", Value: "yes", Href: searchURL("state_linked:true", "", 1, "")})
	}
	for _, e := range it.Tags.Evidence {
		d.Evidence = append(d.Evidence, evidenceOf(e, it.Article))
	}
	d.ArticleChars, d.ArticleError = utf8.RuneCountInString(it.Article), it.ArticleError
	names := make([]string, 0, len(it.Tags.Roles))
	for n := range it.Tags.Roles {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d.Roles = append(d.Roles, roleRow{Name: n, Role: it.Tags.Roles[n]})
	}
	if s.o.Incidents != nil {
		if b, err := s.incidentBlock(it.ID); err != nil {
			// The page is still useful without it.
			s.o.Logger.Error("item page incident", "item_id", id, "err", err)
		} else {
			d.Incident = b
		}
	}
	v.Item = d
	s.render(w, http.StatusOK, "item.page", v)
}

// incidentBlock is the incident block of item id's page; nil when the
// item is its story's only report.
func (s *server) incidentBlock(id string) (*incidentBlock, error) {
	det, ok, err := Incident(s.o.Incidents, id)
	if err != nil || !ok || det.Incident.SourceCount() < 2 {
		return nil, err
	}
	b := &incidentBlock{Title: det.Incident.Title, Sources: det.Incident.SourceCount(), First: det.Incident.ID == id}
	for _, m := range det.Incident.Merges {
		if m.ItemID == id {
			b.Why = m.Reason
			if m.Link {
				b.Why = "same canonical link as an earlier report"
			}
		}
	}
	for _, r := range det.Items {
		if r.ID == id {
			continue
		}
		row := incidentReport{Title: r.Title, Feed: r.Feed, Href: itemURL(r.ID, "")}
		if !r.Published.IsZero() {
			row.Date = r.Published.UTC().Format("2006-01-02 15:04 UTC")
		}
		b.Others = append(b.Others, row)
	}
	return b, nil
}

// evidenceOf is the row for one evidence entry; article is the item's
// article, for the words around a match in it.
func evidenceOf(e accordwatch.Evidence, article string) evidenceRow {
	row := evidenceRow{Tag: e.Tag, Match: e.Match, Rule: e.Rule, Where: e.Field}
	if e.Field == "text" {
		row.Where = "summary" // the feed's own text
	}
	if e.Offset < 0 || e.Field == "tags" {
		return row
	}
	row.Where += "@" + strconv.Itoa(e.Offset)
	end := e.Offset + len(e.Match)
	if e.Field != "article" || e.Match == "" || end > len(article) || article[e.Offset:end] != e.Match {
		return row // not in the article, or stored before it changed
	}
	row.InArticle = true
	row.Where += fmt.Sprintf(" (paragraph %d)", strings.Count(article[:e.Offset], "\n\n")+1)
	row.Before = lastRunes(strings.Join(strings.Fields(article[:e.Offset]), " "), articleContext)
	row.After = firstRunes(strings.Join(strings.Fields(article[end:]), " "), articleContext)
	if row.Before != "" && unicode.IsSpace(rune(article[e.Offset-1])) {
		row.Before += " "
	}
	if row.After != "" && unicode.IsSpace(rune(article[end])) {
		row.After = " " + row.After
	}
	return row
}

// firstRunes is s cut to its first n runes, "…" marking a cut.
func firstRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// lastRunes is s cut to its last n runes, "…" marking a cut.
func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n:])
}

type errorView struct {
	frame
	Heading, Message string
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	s.render(w, status, "error.page", errorView{frame: s.frame(r, heading, "error"), Heading: heading, Message: msg})
}

// notFound serves every path no other route claims.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Page not found", "Nothing lives at this address.")
}

func (s *server) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(s.pages.css)
}

// Browsers cannot send an Authorization header from a link, so the pages
// also accept a session cookie that POST /login sets after checking the
// token. The cookie holds a random session ID that the server keeps (see
// sessions) until it expires or the user signs out; it says nothing about
// the token. The JSON API accepts only the header.
const sessionCookie = "accordwatch_session"

// pageAuth lets a page through with the bearer header or a live session
// cookie; otherwise it shows the sign-in form with status 401.
func (s *server) pageAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.o.Token.IsSet() || s.bearerOK(r) {
			next(w, r)
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil && s.sessions.valid(c.Value, s.o.Now()) {
			next(w, r)
			return
		}
		s.render(w, http.StatusUnauthorized, "login.page", loginView{frame: s.frame(r, "Sign in", "login"), Next: r.URL.RequestURI()})
	})
}

type loginView struct {
	frame
	Next   string
	Failed bool
	// RetryAfter, when set, says sign-in is paused after too many failures.
	RetryAfter int
}

// login serves POST /login: token in the form body (never the URL, so it
// stays out of logs and history), then back to the page asked for. Failed
// attempts are budgeted (see loginLimiter); past the budget even the right
// token is refused with 429 until the budget refills, so a guesser learns
// nothing from the answers.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Bad sign-in form", "The form could not be read.")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	if !s.o.Token.IsSet() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	now := s.o.Now()
	done, retry := s.limiter.begin(clientKey(r.RemoteAddr), now)
	if done == nil {
		secs := int(math.Ceil(retry.Seconds()))
		s.o.Logger.Warn("sign-in refused: too many failed attempts", "remote", r.RemoteAddr, "retry_after_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, http.StatusTooManyRequests, "login.page", loginView{frame: s.frame(r, "Sign in", "login"), Next: next, RetryAfter: secs})
		return
	}
	ok := hmac.Equal([]byte(r.PostForm.Get("token")), []byte(s.o.Token.Reveal()))
	done(ok)
	if !ok {
		s.o.Logger.Warn("sign-in failed: wrong token", "remote", r.RemoteAddr)
		s.render(w, http.StatusUnauthorized, "login.page", loginView{frame: s.frame(r, "Sign in", "login"), Next: next, Failed: true})
		return
	}
	id, expires, err := s.sessions.create(now)
	if err != nil {
		s.o.Logger.Error("sign-in", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Sign-in failed", "The server could not start a session; the server log has the details.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/",
		// The browser forgets it when the server does; the server's
		// expiry is what counts.
		MaxAge: int(expires.Sub(now).Seconds()), HttpOnly: true,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		// Lax, not Strict: a link from Slack to an item should open signed in;
		// the pages only read, so a cross-site GET can change nothing.
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout serves POST /logout: it ends the session on the server, so a
// copy of the cookie stops working too, and expires the cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.revoke(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// localPath keeps a redirect target on this site, else returns "/". It
// must be one absolute path ("/x", not "//host" or "/\host", which
// browsers read as another host), with no control character anywhere —
// browsers drop tabs and newlines, so "/\t/evil.example" becomes
// "//evil.example" — no backslash (browsers read it as a slash), nothing
// url.Parse reads as a scheme or host, and the same rules hold for the
// decoded path ("/%2F/evil.example" is refused too, in case a proxy
// decodes it). The path is re-encoded on the way out.
func localPath(p string) string {
	if !safePath(p) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !safePath(u.Path) {
		return "/"
	}
	return u.String()
}

// safePath reports whether p starts with exactly one '/' and holds no
// backslash, control, format or line/paragraph separator character, and
// is valid UTF-8.
func safePath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || !utf8.ValidString(p) {
		return false
	}
	for _, r := range p {
		if r == '\\' || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}
