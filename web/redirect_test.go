package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// browserView is what a browser makes of a Location value before it
// resolves it: WHATWG URL parsing drops every tab and newline and trims
// leading and trailing C0 controls and spaces, and treats '\' like '/'.
func browserView(loc string) string {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= 0x20 })
	loc = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, loc)
	return strings.ReplaceAll(loc, `\`, "/")
}

// sameSitePath reports whether a browser would resolve loc on our own
// origin, and whether it is clean enough that no proxy or browser quirk
// could read it otherwise.
func sameSitePath(loc string) bool {
	b := browserView(loc)
	if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") || b != loc {
		return false
	}
	for _, r := range loc {
		if r > unicode.MaxASCII || unicode.IsControl(r) {
			return false
		}
	}
	u, err := url.Parse(loc)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	tests := []struct {
		next string
		want string // the Location
	}{
		{"/\t/evil.example/x", "/"}, // browsers drop the tab and read //evil.example
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"\t//evil.example", "/"},
		{"/\t\\evil.example", "/"},
		{`/\evil.example`, "/"},
		{`/\/evil.example`, "/"},
		{`\\evil.example`, "/"},
		{`/items/a\..\..\evil`, "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"//evil.example/%2F..", "/"},
		{"/%09/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"https:", "/"},
		{"https://evil.example/", "/"},
		{"https:/evil.example", "/"},
		{"HTTPS://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/javascript:alert(1)", "/javascript:alert(1)"}, // a path on our site, not a scheme
		{"data:text/html,hi", "/"},
		{"evil.example", "/"},
		{"", "/"},
		{" /items/a", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/\u0085/evil.example", "/"}, // NEL
		{"/\u2028/evil.example", "/"}, // line separator
		{"/\u200b/evil.example", "/"}, // zero-width space
		{"/\ufeff/evil.example", "/"},
		{"/\u202e/evil.example", "/"}, // right-to-left override
		{"/\xff/evil.example", "/"},   // not UTF-8
		{"/\uff0f\uff0fevil.example", "/%EF%BC%8F%EF%BC%8Fevil.example"}, // fullwidth solidus stays a path
		{"/caf\u00e9", "/caf%C3%A9"},
		{"/?q=cisco", "/?q=cisco"},
		{"/?q=state%3Arussia&sort=newest", "/?q=state%3Arussia&sort=newest"},
		{"/items/apt28-ms?q=x", "/items/apt28-ms?q=x"},
		{"/items/a/../../evil.example", "/evil.example"}, // cleaned, still ours
	}
	h := Handler(Options{Searcher: &fixedSearcher{}, Items: mapItems{}, Token: "t0k"})
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			if got := localPath(tt.next); !sameSitePath(got) {
				t.Errorf("localPath(%q) = %q, not a same-site path", tt.next, got)
			}
			req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"token": {"t0k"}, "next": {tt.next}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusSeeOther || loc != tt.want {
				t.Errorf("next=%q: got %d to %q, want 303 to %q", tt.next, rec.Code, loc, tt.want)
			}
			if !sameSitePath(loc) {
				t.Errorf("next=%q: Location %q is not a same-site path", tt.next, loc)
			}
		})
	}
}
