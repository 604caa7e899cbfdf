package web

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var _ Searcher = (*index.Index)(nil)

func fetch(t *testing.T, c *http.Client, method, u string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var (
	scriptTag = regexp.MustCompile(`(?i)<script`)
	jsHref    = regexp.MustCompile(`(?i)(href|src|action)\s*=\s*["']?\s*javascript:`)
	eventAttr = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)
)

// assertInert fails when HTML could run anything from feed text.
func assertInert(t *testing.T, body string) {
	t.Helper()
	if m := scriptTag.FindString(body); m != "" {
		t.Errorf("page has an unescaped %q", m)
	}
	if m := jsHref.FindString(body); m != "" {
		t.Errorf("page has a javascript: URL in an attribute: %q", m)
	}
	if m := eventAttr.FindString(body); m != "" {
		t.Errorf("page has an event handler attribute: %q", m)
	}
}

// attrURL is how html/template writes an already-encoded URL in href="".
func attrURL(u string) string { return strings.ReplaceAll(u, "&", "&amp;") }

func TestSearchPage(t *testing.T) {
	srv := newPageServer(t, "")
	tests := []struct {
		name        string
		q           string // raw query string after "/?"
		status      int
		contains    []string
		notContains []string
	}{
		{
			name: "empty query lists the newest items first", q: "", status: 200,
			contains: []string{
				"Newest items", "5 in all",
				"Microsoft disrupts APT28 phishing campaign",
				`<option value="newest" selected>`,
				`<a href="/items/apt28-ms">`,
			},
		},
		{
			name: "free text", q: "q=espionage", status: 200,
			contains:    []string{"2 results", "Microsoft disrupts APT28", "Volt Typhoon prepositioned", `<mark>espionage</mark>`, `<option value="relevance" selected>`, `value="espionage"`},
			notContains: []string{"Hospital chain"},
		},
		{
			name: "facet value ANDs its clause and resets paging", q: "q=espionage&page=1", status: 200,
			contains: []string{attrURL(searchURL(`espionage state:"Russia"`, "relevance", 1, "")) + `">Russia <span class="n">1</span>`},
		},
		{
			name: "tag chip adds its clause", q: "q=espionage", status: 200,
			contains: []string{attrURL(searchURL(`espionage actor:"Volt Typhoon"`, "relevance", 1, ""))},
		},
		{
			name: "active facet value is not a link", q: "q=" + url.QueryEscape(`state:"Russia"`), status: 200,
			contains: []string{`<span class="on" aria-current="true">Russia <span class="n">1</span></span>`},
		},
		{
			name: "fielded query", q: "q=" + url.QueryEscape("signatory:cisco") + "&sort=newest", status: 200,
			contains: []string{"2 results", "&lt;script&gt;alert(1)&lt;/script&gt; Cisco &lt;img src=x onerror=alert(2)&gt;", "Hospital chain"},
		},
		{
			name: "hostile link is text", q: "q=" + url.QueryEscape("signatory:cisco"), status: 200,
			contains: []string{`<span class="source inert" title="not an http(s) link">javascript:alert(3)</span>`, "Evil &lt;b&gt;Feed&lt;/b&gt;"},
		},
		{
			name: "severity badge by band", q: "", status: 200,
			// One scale everywhere (accordwatch.SeverityBand): 30 is medium here
			// as in Slack and the digest; the page once called it low.
			contains: []string{`class="sev sev-critical" title="severity 82 of 100 (critical)">82<`, `class="sev sev-medium" title="severity 30 of 100 (medium)"`},
		},
		{
			name: "source links are noopener", q: "", status: 200,
			contains: []string{`<a class="source" href="https://ms.example/blog/apt28-disruption" rel="noopener noreferrer nofollow">`},
		},
		{
			name: "no hits", q: "q=zzzzunmatched", status: 200,
			contains: []string{"0 results", "No items match"},
		},
		{
			name: "bad query is a 400 with the column and a caret", q: "q=" + url.QueryEscape("state:russia AND ("), status: 400,
			contains: []string{"That query did not parse", "column", `<pre class="caret"`, `value="state:russia AND ("`},
		},
		{name: "unknown field is a 400", q: "q=" + url.QueryEscape("colour:red"), status: 400, contains: []string{"colour"}},
		{name: "bad sort is a 400", q: "q=x&sort=oldest", status: 400, contains: []string{"sort must be"}},
		{name: "bad page is a 400", q: "q=x&page=0", status: 400, contains: []string{"page: must be"}},
		{name: "bad size is a 400", q: "q=x&size=5000", status: 400, contains: []string{"size: must be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, nil, "GET", srv.URL+"/?"+tt.q, nil, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.status)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("got a page without %q", c)
				}
			}
			for _, c := range tt.notContains {
				if strings.Contains(body, c) {
					t.Errorf("got a page with %q, want none", c)
				}
			}
			assertInert(t, body)
			assertPageHeaders(t, resp)
		})
	}
}

func assertPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": csp,
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("header %s: got %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("CSP %q: want default-src 'self' and no script", csp)
	}
}

func TestItemPage(t *testing.T) {
	srv := newPageServer(t, "")
	tests := []struct {
		name, path  string
		status      int
		contains    []string
		notContains []string
	}{
		{
			name: "evidence, attribution and roles", path: "/items/apt28-ms", status: 200,
			contains: []string{
				"<h1>Microsoft disrupts APT28 phishing campaign against European ministries</h1>",
				`<tr><td><code>state:Russia</code></td><td>Russian espionage group APT28</td><td>summary@19</td><td><code>actor-state</code></td></tr>`,
				`<td><code>principle:collective-action</code></td><td></td><td>tags</td>`,
				`<tr><td>Russia</td><td>attributed</td><td>Microsoft</td></tr>`,
				`<dt>Microsoft</dt><dd>responder</dd>`,
				`2026-11-24 09:30 UTC`,
				`href="/?q=state_linked%3Atrue"`,
			},
		},
		{
			name: "back link keeps the query", path: "/items/apt28-ms?q=" + url.QueryEscape("state:russia"), status: 200,
			contains: []string{`<a href="/?q=state%3Arussia">← Back to results</a>`},
		},
		{
			name: "hostile item renders inert", path: "/items/hostile", status: 200,
			contains: []string{
				"<h1>&lt;script&gt;alert(1)&lt;/script&gt; Cisco &lt;img src=x onerror=alert(2)&gt;</h1>",
				`<span class="source inert" title="not an http(s) link">javascript:alert(3)</span>`,
				"&lt;!channel&gt; Cisco patches a flaw &lt;script&gt;alert(4)&lt;/script&gt; &#34;quoted&#34; &amp; more.",
				"<code>&lt;b&gt;signatory-name&lt;/b&gt;</code>",
			},
		},
		{name: "unknown item is a 404 page", path: "/items/nope", status: 404, contains: []string{"No such item", "<!doctype html>"}},
		{name: "unknown path is a 404 page", path: "/nowhere", status: 404, contains: []string{"Page not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, nil, "GET", srv.URL+tt.path, nil, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.status)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("got a page without %q", c)
				}
			}
			assertInert(t, body)
			assertPageHeaders(t, resp)
		})
	}
}

func TestPageToken(t *testing.T) {
	const token = "s3cret-t0ken"
	srv := newPageServer(t, token)
	c := noRedirect()
	form := func(tok, next string) io.Reader {
		return strings.NewReader(url.Values{"token": {tok}, "next": {next}}.Encode())
	}
	formHdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	t.Run("page without credentials shows the sign-in form", func(t *testing.T) {
		resp, body := fetch(t, c, "GET", srv.URL+"/?q=cisco", nil, nil)
		if resp.StatusCode != 401 || !strings.Contains(body, `action="/login"`) || !strings.Contains(body, `name="next" value="/?q=cisco"`) {
			t.Errorf("got %d %s, want 401 with the sign-in form returning to /?q=cisco", resp.StatusCode, body)
		}
		if strings.Contains(body, "Hospital chain") {
			t.Error("got results on the sign-in page")
		}
	})
	t.Run("item page without credentials", func(t *testing.T) {
		if resp, _ := fetch(t, c, "GET", srv.URL+"/items/apt28-ms", nil, nil); resp.StatusCode != 401 {
			t.Errorf("got %d, want 401", resp.StatusCode)
		}
	})
	t.Run("bearer header works on pages", func(t *testing.T) {
		if resp, _ := fetch(t, c, "GET", srv.URL+"/items/apt28-ms", nil, map[string]string{"Authorization": "Bearer " + token}); resp.StatusCode != 200 {
			t.Errorf("got %d, want 200", resp.StatusCode)
		}
	})
	t.Run("wrong token at sign-in", func(t *testing.T) {
		resp, body := fetch(t, c, "POST", srv.URL+"/login", form("nope", "/"), formHdr)
		if resp.StatusCode != 401 || !strings.Contains(body, "not right") || len(resp.Cookies()) != 0 {
			t.Errorf("got %d cookies %v, want 401, a message and no cookie", resp.StatusCode, resp.Cookies())
		}
	})

	var session *http.Cookie
	t.Run("sign-in sets an HttpOnly cookie and returns to the page", func(t *testing.T) {
		resp, _ := fetch(t, c, "POST", srv.URL+"/login", form(token, "/?q=cisco"), formHdr)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?q=cisco" {
			t.Errorf("got %d to %q, want 303 to /?q=cisco", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				session = ck
			}
		}
		if session == nil {
			t.Fatal("got no session cookie")
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
			t.Errorf("got cookie %+v, want HttpOnly, SameSite=Lax, Path=/", session)
		}
		if strings.Contains(session.Value, token) {
			t.Error("cookie carries the token itself")
		}
	})
	if session == nil {
		t.FailNow()
	}
	cookieHdr := func(v string) map[string]string { return map[string]string{"Cookie": sessionCookie + "=" + v} }
	t.Run("cookie opens the pages", func(t *testing.T) {
		resp, body := fetch(t, c, "GET", srv.URL+"/?q=cisco", nil, cookieHdr(session.Value))
		if resp.StatusCode != 200 || !strings.Contains(body, "Hospital chain") || !strings.Contains(body, "Sign out") {
			t.Errorf("got %d, want 200 with results and a sign-out button", resp.StatusCode)
		}
	})
	t.Run("forged cookie is refused", func(t *testing.T) {
		if resp, _ := fetch(t, c, "GET", srv.URL+"/", nil, cookieHdr("forged")); resp.StatusCode != 401 {
			t.Errorf("got %d, want 401", resp.StatusCode)
		}
	})
	t.Run("the JSON API takes only the header", func(t *testing.T) {
		if resp, _ := fetch(t, c, "GET", srv.URL+"/api/search?q=cisco", nil, cookieHdr(session.Value)); resp.StatusCode != 401 {
			t.Errorf("got %d, want 401", resp.StatusCode)
		}
	})
	t.Run("sign-in never redirects off-site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "javascript:alert(1)"} {
			resp, _ := fetch(t, c, "POST", srv.URL+"/login", form(token, next), formHdr)
			if got := resp.Header.Get("Location"); got != "/" {
				t.Errorf("next=%q: got Location %q, want /", next, got)
			}
		}
	})
	t.Run("sign-out expires the cookie", func(t *testing.T) {
		resp, _ := fetch(t, c, "POST", srv.URL+"/logout", nil, nil)
		cs := resp.Cookies()
		if resp.StatusCode != http.StatusSeeOther || len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("got %d %v, want 303 and an expired cookie", resp.StatusCode, cs)
		}
	})
	t.Run("stylesheet and healthz need no token", func(t *testing.T) {
		for _, p := range []string{"/static/style.css", "/healthz"} {
			if resp, _ := fetch(t, c, "GET", srv.URL+p, nil, nil); resp.StatusCode != 200 {
				t.Errorf("GET %s: got %d, want 200", p, resp.StatusCode)
			}
		}
	})
}

// fixedSearcher returns a canned result (or error) and records the request,
// so the golden pages do not change with index internals or timing.
type fixedSearcher struct {
	res  accordwatch.SearchResult
	err  error
	last accordwatch.SearchRequest
}

func (f *fixedSearcher) Search(_ context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	f.last = req
	return f.res, f.err
}

// goldenResult has every part of the results page: highlights, hostile
// text, all facets including "day", and a cursor for the next page.
func goldenResult() accordwatch.SearchResult {
	items := pageItems()
	hit := func(it accordwatch.Item, snippet string) accordwatch.SearchHit {
		ps := make([]string, len(it.Tags.Principles))
		for i, p := range it.Tags.Principles {
			ps[i] = string(p)
		}
		return accordwatch.SearchHit{
			ID: it.ID, Score: 1.5, Title: it.Title, Link: it.Link, Feed: it.FeedName, Published: it.Published,
			Severity: it.Tags.Severity, Signatories: it.Tags.Signatories, States: it.Tags.States, Actors: it.Tags.Actors,
			AttackTypes: it.Tags.AttackTypes, Principles: ps, Snippet: snippet,
		}
	}
	hs, he := accordwatch.HighlightStart, accordwatch.HighlightEnd
	return accordwatch.SearchResult{
		Query: "cisco OR microsoft",
		Total: 1234,
		Hits: []accordwatch.SearchHit{
			hit(items[0], hs+"Microsoft"+he+" said the Russian espionage group APT28 sent phishing emails … "+hs+"Microsoft"+he+" took down"),
			hit(items[4], "<!channel> "+hs+"Cisco"+he+" patches a flaw <script>alert(4)</script>"),
			hit(items[2], ""),
		},
		Facets: map[string][]accordwatch.FacetCount{
			"signatory": {{Value: "Microsoft", Count: 800}, {Value: "Cisco", Count: 434}},
			"state":     {{Value: "Russia", Count: 120}, {Value: "North Korea", Count: 12}},
			"actor":     {{Value: "APT28", Count: 90}},
			"attack":    {{Value: "espionage", Count: 300}, {Value: "ransomware", Count: 200}},
			"principle": {{Value: "stronger-defense", Count: 700}},
			"feed":      {{Value: "Microsoft Security Blog", Count: 500}, {Value: `Evil <b>Feed</b>`, Count: 1}},
			"day":       {{Value: "2026-11-22", Count: 10}, {Value: "2026-11-23", Count: 1}, {Value: "2026-11-24", Count: 40}},
		},
		TookMS: 12.25,
		Next:   "c3VyZT8/Pw==",
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func TestGoldenPages(t *testing.T) {
	items := mapItemStore{}
	for _, it := range pageItems() {
		items[it.ID] = it
	}
	tests := []struct {
		name, path, golden string
		searcher           *fixedSearcher
		status             int
	}{
		{"results page", "/?q=" + url.QueryEscape("cisco OR microsoft") + "&page=2", "search.golden.html", &fixedSearcher{res: goldenResult()}, 200},
		{"bad query page", "/?q=" + url.QueryEscape("state:russia AND ("), "badquery.golden.html", &fixedSearcher{err: &index.ParseError{Pos: 19, Msg: "unexpected end of query after AND"}}, 400},
		{"item page", "/items/apt28-ms?q=apt28", "item.golden.html", &fixedSearcher{}, 200},
		{"hostile item page", "/items/hostile", "item-hostile.golden.html", &fixedSearcher{}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(Options{Searcher: tt.searcher, Items: items, Version: "test"})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("got status %d, want %d", rec.Code, tt.status)
			}
			assertInert(t, rec.Body.String())
			checkGolden(t, tt.golden, rec.Body.String())
		})
	}
}

func TestSearchPageRequest(t *testing.T) {
	tests := []struct {
		name, query string
		want        accordwatch.SearchRequest
	}{
		{"defaults: newest for the empty query", "", accordwatch.SearchRequest{Sort: "newest", Size: 20}},
		{"defaults: relevance for a typed query", "q=volt", accordwatch.SearchRequest{Query: "volt", Sort: "relevance", Size: 20}},
		{"page number becomes From", "q=volt&page=3&sort=newest", accordwatch.SearchRequest{Query: "volt", Sort: "newest", Size: 20, From: 40}},
		{"cursor is passed on", "q=volt&page=2&after=CUR", accordwatch.SearchRequest{Query: "volt", Sort: "relevance", Size: 20, From: 20, After: "CUR"}},
		{"size", "size=50", accordwatch.SearchRequest{Sort: "newest", Size: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fixedSearcher{}
			h := Handler(Options{Searcher: fs, Items: mapItemStore{}})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/?"+tt.query, nil))
			if rec.Code != 200 {
				t.Fatalf("got status %d, want 200", rec.Code)
			}
			if diff := cmp.Diff(tt.want, fs.last); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchPageFailures(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"bad request from the index", errors.Join(index.ErrBadRequest, errors.New("cursor is not valid")), 400, "cursor is not valid"},
		{"timeout", context.DeadlineExceeded, 503, "Search timed out"},
		{"index failure hides details", errors.New("segment 7 corrupt at /var/lib/x"), 500, "Search failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(Options{Searcher: &fixedSearcher{err: tt.err}, Items: mapItemStore{}})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/?q=x", nil))
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("got %d, want %d containing %q", rec.Code, tt.status, tt.want)
			}
			if strings.Contains(body, "/var/lib") {
				t.Error("page leaks the internal error")
			}
		})
	}
}

func TestHighlight(t *testing.T) {
	hs, he := accordwatch.HighlightStart, accordwatch.HighlightEnd
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a " + hs + "<b>" + he + " c", "a <mark>&lt;b&gt;</mark> c"},
		{`<script>alert("x")</script>`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		{"open " + hs + "never closed", "open <mark>never closed</mark>"},
		{"stray" + he + " end", "stray end"},
		{hs + hs + "double" + he + he, "<mark>double</mark>"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(highlight(tt.in)); got != tt.want {
			t.Errorf("highlight(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWebLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a?b=c", "https://example.com/a?b=c"},
		{"HTTP://Example.com/", "http://Example.com/"},
		{"javascript:alert(1)", ""},
		{" JavaScript:alert(1)", ""},
		{"data:text/html,<script>", ""},
		{"/relative/path", ""},
		{"//host/path", ""},
		{"https://", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := webLink(tt.in); got != tt.want {
			t.Errorf("webLink(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAddClause(t *testing.T) {
	tests := []struct{ q, c, want string }{
		{"", `state:"Russia"`, `state:"Russia"`},
		{"espionage", `state:"Russia"`, `espionage state:"Russia"`},
		{"a OR b", `state:"Russia"`, `(a OR b) state:"Russia"`},
		{"(a OR b) c", `state:"Russia"`, `(a OR b) c state:"Russia"`},
		{`"x OR y" z`, `state:"Russia"`, `"x OR y" z state:"Russia"`},
		{`espionage state:"Russia"`, `state:"Russia"`, `espionage state:"Russia"`},
		{`espionage -state:"Russia"`, `state:"Russia"`, `espionage -state:"Russia" state:"Russia"`},
		{"  spaced  ", `feed:"A"`, `spaced feed:"A"`},
	}
	for _, tt := range tests {
		if got := addClause(tt.q, tt.c); got != tt.want {
			t.Errorf("addClause(%q, %q): got %q, want %q", tt.q, tt.c, got, tt.want)
		}
	}
	if got, want := clause("signatory", `HP "Inc." \`), `signatory:"HP \"Inc.\" \\"`; got != want {
		t.Errorf("clause: got %q, want %q", got, want)
	}
}

func TestPager(t *testing.T) {
	tests := []struct {
		name       string
		page       int
		total      uint64
		next       string
		wantPages  []int // 0 is a gap
		wantPrev   bool
		wantNextAf string
	}{
		{"one page: no pager", 1, 15, "", nil, false, ""},
		{"first of many", 1, 200, "", []int{1, 2, 3, 0}, false, ""},
		{"middle", 6, 200, "", []int{1, 0, 4, 5, 6, 7, 8, 0}, true, ""},
		{"last", 10, 200, "", []int{1, 0, 8, 9, 10}, true, ""},
		{"cursor drives next", 2, 200, "CUR", []int{1, 2, 3, 4, 0}, true, "CUR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pager("q", "newest", tt.page, 20, accordwatch.SearchResult{Total: tt.total, Next: tt.next})
			var got []int
			for _, l := range p.Pages {
				got = append(got, l.N)
				if l.Current != (l.N == tt.page) {
					t.Errorf("page %d: got current=%v", l.N, l.Current)
				}
			}
			if diff := cmp.Diff(tt.wantPages, got); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
			if (p.Prev != "") != tt.wantPrev {
				t.Errorf("got prev %q, want present=%v", p.Prev, tt.wantPrev)
			}
			if tt.wantNextAf != "" && !strings.Contains(p.Next, "after="+tt.wantNextAf) {
				t.Errorf("got next %q, want the cursor", p.Next)
			}
		})
	}
}

func TestCaretAndThousands(t *testing.T) {
	if got, want := caret("a (b", 5), "a (b\n    ^"; got != want {
		t.Errorf("caret: got %q, want %q", got, want)
	}
	if got, want := caret("é (", 3), "é (\n  ^"; got != want {
		t.Errorf("caret counts characters: got %q, want %q", got, want)
	}
	if got := caret("ab", 9); got != "" {
		t.Errorf("caret past the end: got %q, want empty", got)
	}
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d): got %q, want %q", n, got, want)
		}
	}
}

// The timing shown is the searcher's own; this guards its format.
func TestTookFormat(t *testing.T) {
	var v searchView
	(&server{}).fillResults(&v, accordwatch.SearchResult{TookMS: 3.14159, Total: 1}, 20, 1)
	if v.Took != "3.1" {
		t.Errorf("got took %q, want 3.1", v.Took)
	}
}
