package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/accordwatch/accordwatch"
)

// Hostile documents, built rather than stored.

const hostileHead = `<?xml version="1.0"?><rss version="2.0" xmlns:x="urn:x"><channel><title>t</title><item><title>i</title><link>https://e.example/i</link>`
const hostileTail = `</item></channel></rss>`

// nestedFeed nests depth extension elements inside an item, closing them
// or not; size, when larger, pads with more unclosed levels up to it.
func nestedFeed(depth int, closed bool, size int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileHead)
	for i := 0; i < depth || b.Len() < size-len(hostileTail); i++ {
		b.WriteString("<x:a>")
	}
	if closed {
		b.WriteString(strings.Repeat("</x:a>", depth))
	}
	b.WriteString(hostileTail)
	return b.Bytes()
}

// flatFeed puts n empty extension elements in one item, or fills size.
func flatFeed(n, size int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileHead)
	for i := 0; i < n || b.Len() < size-len(hostileTail)-6; i++ {
		b.WriteString("<x:a/>")
	}
	b.WriteString(hostileTail)
	return b.Bytes()
}

// attrFeed gives perElement attributes to each of n extension elements.
func attrFeed(n, perElement int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileHead)
	for range n {
		b.WriteString("<x:a")
		for j := range perElement {
			fmt.Fprintf(&b, ` a%d=""`, j)
		}
		b.WriteString("/>")
	}
	b.WriteString(hostileTail)
	return b.Bytes()
}

// nsFeed declares n namespaces on the root.
func nsFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<rss version="2.0"`)
	for i := range n {
		fmt.Fprintf(&b, ` xmlns:n%d="urn:n%d"`, i, i)
	}
	b.WriteString(`><channel><title>t</title><item><title>i</title></item></channel></rss>`)
	return b.Bytes()
}

func jsonItems(n int) []byte {
	return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` +
		strings.TrimSuffix(strings.Repeat(`{},`, n), ",") + `]}`)
}

func jsonDeep(depth int) []byte {
	return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","x":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}]}`)
}

// TestParseRejectsHostileShapes: a feed whose structure is over a limit
// fails with Kind "parse" and a reason naming the limit, before gofeed
// parses it.
func TestParseRejectsHostileShapes(t *testing.T) {
	controlled := bytes.ReplaceAll(nestedFeed(200, true, 0), []byte("<x:a>"), []byte("<\x01x:a\x02>"))
	twice := []byte(`<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>t</title>` +
		`<?xml version="1.0" encoding="iso-8859-2"?><item><title>i</title></item></channel></rss>`)
	legacyDeep := append([]byte(`<?xml version="1.0" encoding="windows-1252"?>`), nestedFeed(200, true, 0)[len(`<?xml version="1.0"?>`):]...)
	tests := []struct {
		name       string
		body       []byte
		wantReason string
	}{
		{"nested 129 deep", nestedFeed(129, true, 0), "feed nests deeper than 128 levels"},
		{"nested unclosed", nestedFeed(5000, false, 0), "feed nests deeper than 128 levels"},
		{"nested behind control characters", controlled, "feed nests deeper than 128 levels"},
		{"nested in a legacy encoding", legacyDeep, "feed nests deeper than 128 levels"},
		{"too many elements", flatFeed(maxFeedElements, 0), "feed has more than 100000 elements"},
		{"too many attributes on one element", attrFeed(1, 257), "feed has an element with more than 256 attributes"},
		{"too many attributes", attrFeed(1000, 101), "feed has more than 100000 attributes"},
		{"too many namespaces", nsFeed(maxFeedNamespaces + 1), "feed has more than 32 XML namespace declarations in scope"},
		{"encoding declared twice", twice, "feed declares its character encoding more than once"},
		{"JSON nested deeper than 128", jsonDeep(127), "JSON Feed nests deeper than 128 levels"},
		{"JSON with too many values", jsonItems(maxFeedElements), "JSON Feed has more than 100000 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, body("application/rss+xml", string(tt.body)))
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != "parse" || res.State.LastError != tt.wantReason {
				t.Errorf("got Kind %q LastError %q, want parse %q", fe.Kind, res.State.LastError, tt.wantReason)
			}
			if len(res.Items) != 0 {
				t.Errorf("got %d items, want none", len(res.Items))
			}
		})
	}
	t.Run("discovery skips a hostile feed", func(t *testing.T) {
		srv := serve(t, body("application/rss+xml", string(nestedFeed(5000, false, 0))))
		if got, err := newTestFetcher(Options{}).Discover(context.Background(), srv.URL+"/feed"); err == nil {
			t.Errorf("got %q, want the hostile feed not taken for a feed", got)
		}
	})
}

// TestParseAcceptsLooseMarkup: shapes that real, sloppy documents have
// stay within the limits: unclosed HTML tags inside a feed (the decoder
// closes them at the enclosing end tag), and HTML pages, which are
// reported as not a feed whatever their shape.
func TestParseAcceptsLooseMarkup(t *testing.T) {
	var sloppy bytes.Buffer
	sloppy.WriteString(`<rss version="2.0"><channel><title>Sloppy</title>`)
	for i := range 300 {
		fmt.Fprintf(&sloppy, `<item><title>n%d</title><link>https://e.example/%d</link><description><p>one<br>two<br>three<img src="x"></p></description></item>`, i, i)
	}
	sloppy.WriteString(`</channel></rss>`)
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: serve(t, body("application/rss+xml", sloppy.String())).URL}, accordwatch.FeedState{})
	if err != nil || len(res.Items) != 300 {
		t.Errorf("got %d items, %v; want 300 items from a feed with raw HTML", len(res.Items), err)
	}

	page := "<!DOCTYPE html><html><head><title>Deep</title></head><body>" + strings.Repeat("<div><br><img src=x>", 500) + "</body></html>"
	res, err = newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: serve(t, body("text/html", page)).URL}, accordwatch.FeedState{})
	if fe := fetchErr(t, err); fe.Kind != "not-a-feed" || res.State.LastError != "not a feed: got an HTML page (text/html)" {
		t.Errorf("got Kind %q LastError %q, want the HTML page named as such", fe.Kind, res.State.LastError)
	}
}

// TestFeedShapesOfRealData measures every real feed and feed list in the
// shared data: the scan agrees with encoding/xml exactly, and every
// measure is at most a tenth of its limit.
func TestFeedShapesOfRealData(t *testing.T) {
	var files []string
	for _, pattern := range []string{sharedFeeds + "/*.xml", sharedFeeds + "/sources/*.opml", sharedOPML + "/*.opml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("shared feed data not available")
	}
	var most docShape
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		body := normalizeEncoding(raw, "")
		got, err := scanXML(body, noLimits())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := tokenShape(body); got != want {
			t.Errorf("%s: got shape %+v, encoding/xml sees %+v", filepath.Base(name), got, want)
		}
		most = docShape{max(most.depth, got.depth), max(most.elements, got.elements), max(most.attrs, got.attrs),
			max(most.elementAttrs, got.elementAttrs), max(most.namespaces, got.namespaces)}
	}
	t.Logf("%d files, largest: depth %d, elements %d, attributes %d (%d on one element), namespaces in scope %d",
		len(files), most.depth, most.elements, most.attrs, most.elementAttrs, most.namespaces)
	lim := defaultLimits()
	if most.depth*10 > lim.depth || most.elements*10 > lim.elements || most.attrs*10 > lim.attrs ||
		most.elementAttrs*10 > lim.elementAttrs || most.namespaces*3 > lim.namespaces {
		t.Errorf("got %+v, want wide headroom under %+v", most, lim)
	}
}

// tokenShape measures body with gofeed's own decoder setup (control
// characters filtered, non-strict, charset switching) through Token, the
// calls gofeed makes. It is the reference scanXML must never undercount.
func tokenShape(body []byte) docShape {
	d := xml.NewDecoder(&controlFilter{r: bytes.NewReader(body)})
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	var (
		s    docShape
		open []int // namespace declarations of each open element
		ns   int
	)
	for {
		tok, err := d.Token()
		if err != nil {
			return s
		}
		switch t := tok.(type) {
		case xml.StartElement:
			decl := 0
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					decl++
				}
			}
			open = append(open, decl)
			ns += decl
			s.elements++
			s.attrs += len(t.Attr)
			s.depth = max(s.depth, len(open))
			s.elementAttrs = max(s.elementAttrs, len(t.Attr))
			s.namespaces = max(s.namespaces, ns)
		case xml.EndElement:
			if len(open) > 0 {
				ns -= open[len(open)-1]
				open = open[:len(open)-1]
			}
		}
	}
}

// controlFilter is gofeed's control-character filter (xmlsanitizer.go).
type controlFilter struct{ r io.Reader }

func (c *controlFilter) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := 0
		for i := range n {
			if b := p[i]; b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
				continue
			}
			p[w] = p[i]
			w++
		}
		if w > 0 || err != nil {
			return w, err
		}
	}
}

// jsonShape is scanJSON's reference: encoding/json's tokens, for valid
// JSON only.
func jsonShape(body []byte) (docShape, bool) {
	if !json.Valid(body) {
		return docShape{}, false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		n      int // tokens read inside it: in an object, keys are the even ones
	}
	var (
		s    docShape
		open []*frame
	)
	for {
		tok, err := d.Token()
		if err != nil {
			return s, true
		}
		var top *frame
		if len(open) > 0 {
			top = open[len(open)-1]
		}
		switch tok {
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
			continue
		}
		isKey := top != nil && top.object && top.n%2 == 0
		if top != nil {
			top.n++
		}
		if !isKey {
			s.elements++
		}
		if tok == json.Delim('{') || tok == json.Delim('[') {
			open = append(open, &frame{object: tok == json.Delim('{')})
			s.depth = max(s.depth, len(open))
		}
	}
}

// FuzzParseLimits feeds arbitrary bodies to the structure check and the
// parser with small limits: no panic; the check never measures less than
// encoding/xml or encoding/json sees; and a body that parses stays within
// every limit, however deep or large the input.
func FuzzParseLimits(f *testing.F) {
	for _, b := range [][]byte{
		[]byte(rss2), []byte(atom1), []byte(jsonFeed),
		// Deep and large for the limits below; kept to a few KB, since
		// the fuzzer minimises every new input it finds.
		nestedFeed(100, true, 0), nestedFeed(300, false, 0), flatFeed(600, 0), attrFeed(3, 40), nsFeed(20),
		jsonDeep(100), jsonItems(600),
		[]byte("<rss version=\"2.0\"><channel><item><\x01x:a><x:a\x02><x:a></x:a></x:a></x:a></item></channel></rss>"),
		[]byte(`<rss><!DOCTYPE x [<!ENTITY a "<b>"> <!-- > -->]><channel><![CDATA[<x><y>]]><!-- <z> --><?pi <q>?></channel></rss>`),
		[]byte(`<rss><channel><p>a<br>b<hr>c</p><x:a xmlns:x="u"><b></x:a><c><c></rss>`),
		[]byte(`<?xml version="1.0" encoding="koi8-r"?><rss><channel><title>` + "\xf0\xd2" + `</title><a><b/></a></channel></rss>`),
		[]byte(`<rss a=b c='<' d="e"f g><channel x=y/></channel></rss>`),
		[]byte(`{"items":[{"id":"\"]}","tags":["a","b\\"],"x":{"y":[1,true,null,-2.5e3]}}]}`),
	} {
		f.Add(b)
	}
	base, _ := url.Parse("https://fuzz.example/feed/")
	fe := New(Options{Now: func() time.Time { return testNow }})
	fe.limits = docLimits{depth: 16, elements: 400, attrs: 200, elementAttrs: 8, namespaces: 4}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := mustScanXML(t, body), tokenShape(body); got.depth < want.depth || got.elements < want.elements ||
			got.attrs < want.attrs || got.elementAttrs < want.elementAttrs || got.namespaces < want.namespaces {
			t.Fatalf("scanXML measured %+v, encoding/xml sees %+v", got, want)
		}
		if want, ok := jsonShape(body); ok {
			got, _ := scanJSON(body, noLimits())
			if got.depth < want.depth || got.elements < want.elements {
				t.Fatalf("scanJSON measured %+v, encoding/json sees %+v", got, want)
			}
		}
		p, err := fe.parse(body, "", base, accordwatch.Feed{URL: base.String()})
		if err != nil {
			var ferr *FetchError
			if !errors.As(err, &ferr) {
				t.Fatalf("got %v (%T), want a *FetchError", err, err)
			}
			return
		}
		norm := normalizeEncoding(body, "")
		lim := fe.limits
		if s := tokenShape(norm); firstFeedByte(norm) == '<' && (s.depth > lim.depth || s.elements > lim.elements ||
			s.attrs > lim.attrs || s.elementAttrs > lim.elementAttrs || s.namespaces > lim.namespaces) {
			t.Fatalf("parsed a document of shape %+v, over the limits %+v", s, lim)
		}
		if s, ok := jsonShape(norm); ok && firstFeedByte(norm) == '{' && (s.depth > lim.depth || s.elements > lim.elements) {
			t.Fatalf("parsed a JSON document of shape %+v, over the limits %+v", s, lim)
		}
		if len(p.items) > lim.elements {
			t.Fatalf("got %d items, more than the element limit %d", len(p.items), lim.elements)
		}
	})
}

func mustScanXML(t *testing.T, body []byte) docShape {
	t.Helper()
	s, err := scanXML(body, noLimits())
	if err != nil && !errors.Is(err, errTooComplex) {
		t.Fatalf("scanXML: unexpected error %v", err)
	}
	return s
}

// BenchmarkParseHostile: 10 MB hostile feeds are refused after a scan of
// a small part of them, with almost no allocation (before the check,
// gofeed took 4-10 s and up to 2 GB on these, and the unclosed nesting
// overflowed the stack, a fatal error).
func BenchmarkParseHostile(b *testing.B) {
	const size = 10 << 20
	var deepJSON bytes.Buffer
	deepJSON.WriteString(`{"version":"https://jsonfeed.org/version/1.1","items":[`)
	for deepJSON.Len() < size-20 {
		deepJSON.WriteString("[")
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"nested-unclosed", nestedFeed(0, false, size)},
		{"nested-closed", func() []byte { n := (size - 200) / 11; return nestedFeed(n, true, 0) }()},
		{"flat-elements", flatFeed(0, size)},
		{"attributes", attrFeed((size-200)/(256*7), 256)},
		{"json-items", jsonItems((size - 100) / 3)},
		{"json-nested", deepJSON.Bytes()},
	}
	base, _ := url.Parse("https://example.com/feed")
	f := New(Options{})
	feed := accordwatch.Feed{URL: base.String()}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.parse(tt.body, "application/rss+xml", base, feed); !errors.Is(err, errTooComplex) {
					b.Fatalf("got %v, want a structure limit error", err)
				}
			}
		})
	}
}

// BenchmarkParseAtLimits: the most expensive documents that pass every
// check, as a bound on what one feed can cost.
func BenchmarkParseAtLimits(b *testing.B) {
	var items bytes.Buffer
	items.WriteString(`<rss version="2.0"><channel><title>t</title>`)
	for i := range maxFeedElements/3 - 2 {
		fmt.Fprintf(&items, `<item><title>%d</title><link>https://e.example/%d</link></item>`, i, i)
	}
	items.WriteString(`</channel></rss>`)
	var decls strings.Builder
	for i := range maxFeedNamespaces - 1 {
		fmt.Fprintf(&decls, ` xmlns:n%d="urn:n%d"`, i, i)
	}
	withNS := bytes.Replace(flatFeed(maxFeedElements-10, 0), []byte(`xmlns:x="urn:x"`), []byte(`xmlns:x="urn:x"`+decls.String()), 1)
	tests := []struct {
		name string
		body []byte
	}{
		{"items", items.Bytes()},
		{"elements-under-32-namespaces", withNS},
		{"attributes", attrFeed(maxFeedAttrs/maxFeedElementAttrs, maxFeedElementAttrs)},
		{"json-items", jsonItems(maxFeedElements - 10)},
	}
	base, _ := url.Parse("https://example.com/feed")
	f := New(Options{Now: func() time.Time { return testNow }})
	feed := accordwatch.Feed{URL: base.String()}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.parse(tt.body, "application/rss+xml", base, feed); err != nil {
					b.Fatalf("parse: %v", err)
				}
			}
		})
	}
}

// BenchmarkCheckShape is the structure check alone on real feeds, to set
// against BenchmarkParseNormalize (the whole parse, check included).
func BenchmarkCheckShape(b *testing.B) {
	for _, name := range []string{"cisa-cybersecurity-advisories-20250724.xml", "microsoft-security-blog-20250724.xml"} {
		body, err := os.ReadFile(filepath.Join(sharedFeeds, name))
		if err != nil {
			b.Skipf("shared feed data not available: %v", err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := checkShape(body, defaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
