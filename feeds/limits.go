package feeds

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"
)

// gofeed's cost grows with a document's structure, not its size: its
// extension parser recurses once per nesting level (a 10 MB feed of
// unclosed elements overflows the goroutine stack, which kills the
// process), its namespace tracking copies every binding in scope for each
// element, and each element, attribute, item or JSON value becomes a few
// allocations. The body size is capped already (Options.MaxBytes), so
// checkShape bounds the structure with one cheap pass over the bytes
// before gofeed sees them.
//
// The limits leave wide headroom over real documents (measured over the
// 12 real feeds and 3 OPML lists in the shared data, gofeed's 552 XML and
// 561 JSON test files and the 130 real web pages of Mozilla's readability
// suite; see BENCHMARKS.md, "Hostile feeds"):
//
//   - depth: real feeds nest at most 6 levels; a whole web page embedded
//     as Atom XHTML content would add at most 38 (the deepest page).
//   - elements: the largest real feed has 374 elements (40 items), an OPML
//     list 1,294; a whole web page has at most 9,887 tags; a podcast feed
//     of 2,000 episodes would have about 40,000. JSON test files hold at
//     most 145 values, nested 11 deep.
//   - attributes: 12 at most on one element of a real feed, 70 on the
//     busiest tag of any web page; 130 in all in a real feed, 6,415 in an
//     OPML list.
//   - namespace declarations in scope: real feeds declare at most 10.
//     Each one costs gofeed a map entry copied for every element, so this
//     limit times the element limit is the costliest document allowed.
const (
	maxFeedDepth        = 128
	maxFeedElements     = 100_000
	maxFeedAttrs        = 100_000
	maxFeedElementAttrs = 256
	maxFeedNamespaces   = 32
)

// docLimits bounds the structure of a feed document. The Fetcher holds a
// copy so tests can lower them.
type docLimits struct {
	depth        int // nesting levels (XML elements, JSON objects and arrays)
	elements     int // XML elements, or JSON values (keys not counted)
	attrs        int // XML attributes in all
	elementAttrs int // attributes on one XML element
	namespaces   int // XML namespace declarations in scope at once
}

func defaultLimits() docLimits {
	return docLimits{depth: maxFeedDepth, elements: maxFeedElements, attrs: maxFeedAttrs,
		elementAttrs: maxFeedElementAttrs, namespaces: maxFeedNamespaces}
}

// noLimits measures a document without stopping (tests and benchmarks).
func noLimits() docLimits {
	const huge = int(^uint(0) >> 1)
	return docLimits{depth: huge, elements: huge, attrs: huge, elementAttrs: huge, namespaces: huge}
}

// docShape is what a scan measured before it stopped: the totals, and the
// largest depth, attributes on one element and namespaces in scope.
type docShape struct {
	depth, elements, attrs, elementAttrs, namespaces int
}

// errTooComplex is wrapped by every limit failure.
var errTooComplex = errors.New("feed structure over a limit")

// gofeedPeek is how much of a body gofeed reads to detect its type
// (detectionPeekSize in gofeed's parser.go).
const gofeedPeek = 4096

// checkShape reports, as a *FetchError of Kind "parse", a body that gofeed
// would parse as a feed and whose structure is over a limit. A body that
// is not a feed at all is left for gofeed to name as such, so an HTML page
// is still reported as "not a feed" whatever its shape.
func checkShape(body []byte, lim docLimits) error {
	var err error
	switch firstFeedByte(body) {
	case '<':
		_, err = scanXML(body, lim)
	case '{':
		_, err = scanJSON(body, lim)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	if gofeed.DetectFeedType(bytes.NewReader(body[:min(len(body), gofeedPeek)])) == gofeed.FeedTypeUnknown {
		return nil
	}
	return &FetchError{Kind: "parse", Err: err}
}

// firstFeedByte is the byte gofeed's type detection looks at: the first
// one that is not whitespace or part of a byte order mark.
func firstFeedByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\r', '\n', '\t', 0xFE, 0xFF, 0x00, 0xEF, 0xBB, 0xBF:
			continue
		}
		return c
	}
	return 0
}

func tooComplex(format string, args ...any) error {
	return because(errTooComplex, format, args...)
}

// scanXML measures an XML document the way gofeed's decoder will see it,
// without building anything: encoding/xml in non-strict mode, after
// gofeed's filter has removed control characters, switching character
// sets at an <?xml encoding=…?> declaration. It follows the decoder's
// grammar on every path the decoder accepts, so it never counts less than
// gofeed will meet (FuzzParseLimits checks this against encoding/xml
// itself); where the decoder would fail with a syntax error, it stops,
// since gofeed stops there too. Depth follows the decoder's non-strict
// rule that an end tag closes every element above the one it names, so
// unclosed HTML tags such as <br> in a description do not add up.
func scanXML(body []byte, lim docLimits) (docShape, error) {
	s := xmlScanner{b: withoutControlChars(body), lim: lim}
	err := s.run()
	return s.shape, err
}

type xmlScanner struct {
	b        []byte
	i        int
	lim      docLimits
	shape    docShape
	open     []openElement
	inScope  int // namespace declarations of the open elements
	switched bool
}

type openElement struct {
	name []byte
	ns   int // namespace declarations it made
}

// errStop ends a scan where the decoder would fail: nothing after it is
// ever parsed, so nothing after it counts.
var errStop = errors.New("stop")

func (s *xmlScanner) run() error {
	for {
		j := bytes.IndexByte(s.b[s.i:], '<')
		if j < 0 {
			return nil
		}
		s.i += j + 1
		c, ok := s.peek()
		if !ok {
			return nil
		}
		var err error
		switch c {
		case '/':
			s.i++
			err = s.endTag()
		case '?':
			s.i++
			err = s.procInst()
		case '!':
			s.i++
			err = s.bang()
		default:
			err = s.startTag()
		}
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *xmlScanner) peek() (byte, bool) {
	if s.i >= len(s.b) {
		return 0, false
	}
	return s.b[s.i], true
}

func (s *xmlScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\r', '\n', '\t':
			s.i++
		default:
			return
		}
	}
}

// isNameByte is encoding/xml's: which bytes a name may hold (bytes of
// multi-byte UTF-8 runes included).
func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-' || c >= 0x80
}

// name reads a name as the decoder's nsname does; false where the decoder
// fails (no name, or more than one colon).
func (s *xmlScanner) name() ([]byte, bool) {
	n := s.rawName()
	return n, len(n) > 0 && bytes.Count(n, []byte{':'}) <= 1
}

// rawName reads a run of name bytes, as the decoder's name does.
func (s *xmlScanner) rawName() []byte {
	start := s.i
	for s.i < len(s.b) && isNameByte(s.b[s.i]) {
		s.i++
	}
	return s.b[start:s.i]
}

// splitName splits a name into prefix and local part as nsname does: a
// name with an empty prefix or local part is all local.
func splitName(n []byte) (space, local []byte) {
	if sp, lo, ok := bytes.Cut(n, []byte{':'}); ok && len(sp) > 0 && len(lo) > 0 {
		return sp, lo
	}
	return nil, n
}

func (s *xmlScanner) startTag() error {
	name, ok := s.name()
	if !ok {
		return errStop
	}
	attrs, ns := 0, 0
	empty := false
	for {
		s.space()
		c, ok := s.peek()
		if !ok {
			return errStop
		}
		if c == '/' {
			s.i++
			if c, ok := s.peek(); !ok || c != '>' {
				return errStop
			}
			s.i++
			empty = true
			break
		}
		if c == '>' {
			s.i++
			break
		}
		attr, ok := s.name()
		if !ok {
			return errStop
		}
		s.space()
		if c, ok := s.peek(); !ok {
			return errStop
		} else if c == '=' {
			s.i++
			s.space()
			if err := s.attrValue(); err != nil {
				return err
			}
		} // else non-strict: an attribute without a value
		attrs++
		s.shape.attrs++
		if attrs > s.lim.elementAttrs {
			return tooComplex("feed has an element with more than %d attributes", s.lim.elementAttrs)
		}
		if s.shape.attrs > s.lim.attrs {
			return tooComplex("feed has more than %d attributes", s.lim.attrs)
		}
		if sp, lo := splitName(attr); string(sp) == "xmlns" || sp == nil && string(lo) == "xmlns" {
			ns++
			if s.inScope+ns > s.lim.namespaces {
				return tooComplex("feed has more than %d XML namespace declarations in scope", s.lim.namespaces)
			}
		}
	}
	s.shape.elements++
	s.shape.elementAttrs = max(s.shape.elementAttrs, attrs)
	s.shape.namespaces = max(s.shape.namespaces, s.inScope+ns)
	s.shape.depth = max(s.shape.depth, len(s.open)+1)
	if s.shape.elements > s.lim.elements {
		return tooComplex("feed has more than %d elements", s.lim.elements)
	}
	if len(s.open)+1 > s.lim.depth {
		return tooComplex("feed nests deeper than %d levels", s.lim.depth)
	}
	if !empty {
		s.open = append(s.open, openElement{name: name, ns: ns})
		s.inScope += ns
	}
	return nil
}

// attrValue skips a quoted or (non-strict) unquoted attribute value.
func (s *xmlScanner) attrValue() error {
	c, ok := s.peek()
	if !ok {
		return errStop
	}
	if c == '"' || c == '\'' {
		s.i++
		j := bytes.IndexByte(s.b[s.i:], c)
		if j < 0 || bytes.IndexByte(s.b[s.i:s.i+j], '<') >= 0 {
			return errStop // EOF, or "unescaped < inside quoted string"
		}
		s.i += j + 1
		return nil
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == ':' || c == '-' {
			s.i++
			continue
		}
		return nil
	}
	return errStop
}

// endTag pops what the decoder pops: in non-strict mode an end tag that
// does not name the innermost element closes it and tries again with the
// next one, until it finds its own.
func (s *xmlScanner) endTag() error {
	name, ok := s.name()
	if !ok {
		return errStop
	}
	s.space()
	if c, ok := s.peek(); !ok || c != '>' {
		return errStop
	}
	s.i++
	space, local := splitName(name)
	for {
		if len(s.open) == 0 {
			return errStop // "unexpected end element"
		}
		top := s.open[len(s.open)-1]
		s.open = s.open[:len(s.open)-1]
		s.inScope -= top.ns
		topSpace, topLocal := splitName(top.name)
		if bytes.Equal(topLocal, local) {
			if !bytes.Equal(topSpace, space) {
				return errStop // closed in another name space
			}
			return nil
		}
		if top.ns > 0 {
			// The decoder leaves the namespace records of an element it
			// closed this way on its stack, and fails on the next pop.
			return errStop
		}
	}
}

// procInst skips a processing instruction; the XML declaration may switch
// the character set, which the decoder then applies to the rest.
func (s *xmlScanner) procInst() error {
	target := s.rawName()
	if len(target) == 0 {
		return errStop
	}
	s.space()
	j := bytes.Index(s.b[s.i:], []byte("?>"))
	if j < 0 {
		return errStop
	}
	content := string(s.b[s.i : s.i+j])
	s.i += j + 2
	if string(target) != "xml" {
		return nil
	}
	if v := procInstParam("version", content); v != "" && v != "1.0" {
		return errStop
	}
	enc := procInstParam("encoding", content)
	if enc == "" || strings.EqualFold(enc, "utf-8") {
		return nil
	}
	// Each declaration stacks another decoder on the rest of the input,
	// so every later byte goes through all of them: one is what real
	// feeds need, more is a way to make parsing quadratic.
	if s.switched {
		return tooComplex("feed declares its character encoding more than once")
	}
	s.switched = true
	r, err := charset.NewReaderLabel(enc, bytes.NewReader(s.b[s.i:]))
	if err != nil {
		return errStop
	}
	// The decoder reads the rest through the converter; gofeed's control
	// character filter sits before it, so the converted text is not
	// filtered again. On a conversion error, what was converted is still
	// parsed.
	rest, _ := io.ReadAll(r)
	s.b, s.i = rest, 0
	return nil
}

// procInstParam is encoding/xml's procInst: the quoted value of param=
// in a processing instruction, or "".
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang skips a comment, a CDATA section or a directive (<!DOCTYPE …>).
func (s *xmlScanner) bang() error {
	c, ok := s.peek()
	if !ok {
		return errStop
	}
	switch c {
	case '-':
		if !bytes.HasPrefix(s.b[s.i:], []byte("--")) {
			return errStop // "<!-" not part of "<!--"
		}
		s.i += 2
		// The first "--" must end the comment.
		j := bytes.Index(s.b[s.i:], []byte("--"))
		if j < 0 || s.i+j+2 >= len(s.b) || s.b[s.i+j+2] != '>' {
			return errStop
		}
		s.i += j + 3
		return nil
	case '[':
		if !bytes.HasPrefix(s.b[s.i:], []byte("[CDATA[")) {
			return errStop
		}
		s.i += len("[CDATA[")
		j := bytes.Index(s.b[s.i:], []byte("]]>"))
		if j < 0 {
			return errStop
		}
		s.i += j + 3
		return nil
	}
	// A directive: the decoder counts nested <>, skips quoted strings and
	// comments inside it. Its first byte is taken as is.
	s.i++
	var quote byte
	depth := 0
	for {
		c, ok := s.peek()
		if !ok {
			return errStop
		}
		s.i++
		if quote == 0 && c == '>' && depth == 0 {
			return nil
		}
	again:
		switch {
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			for _, want := range []byte("!--") {
				c, ok = s.peek()
				if !ok {
					return errStop
				}
				s.i++
				if c != want {
					depth++
					goto again
				}
			}
			j := bytes.Index(s.b[s.i:], []byte("-->"))
			if j < 0 {
				return errStop
			}
			s.i += j + 3
		}
	}
}

// withoutControlChars drops what gofeed's control-character filter drops
// (bytes below 0x20 but tab, newline and carriage return), copying only
// when there is something to drop.
func withoutControlChars(b []byte) []byte {
	first := -1
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			first = i
			break
		}
	}
	if first < 0 {
		return b
	}
	out := make([]byte, first, len(b))
	copy(out, b[:first])
	for _, c := range b[first:] {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			continue
		}
		out = append(out, c)
	}
	return out
}

// scanJSON measures a JSON document: nesting of objects and arrays, and
// values (object keys not counted). encoding/json validates the whole
// document before decoding anything, so only valid JSON matters here and
// the scan need not validate.
func scanJSON(b []byte, lim docLimits) (docShape, error) {
	var (
		shape   docShape
		open    []byte // '{' or '[' of each open container
		wantKey bool   // the next string is an object key
	)
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
		case ':':
			wantKey = false
			i++
		case ',':
			wantKey = len(open) > 0 && open[len(open)-1] == '{'
			i++
		case '{', '[':
			shape.elements++
			open = append(open, c)
			shape.depth = max(shape.depth, len(open))
			if len(open) > lim.depth {
				return shape, tooComplex("JSON Feed nests deeper than %d levels", lim.depth)
			}
			wantKey = c == '{'
			i++
		case '}', ']':
			if len(open) == 0 {
				return shape, nil // invalid: encoding/json rejects it whole
			}
			open = open[:len(open)-1]
			wantKey = false
			i++
		case '"':
			end := jsonStringEnd(b, i+1)
			if end < 0 {
				return shape, nil
			}
			if wantKey {
				wantKey = false
			} else {
				shape.elements++
			}
			i = end
		default: // a number, true, false or null
			shape.elements++
			for i < len(b) && !strings.ContainsRune(" \t\n\r,:{}[]\"", rune(b[i])) {
				i++
			}
		}
		if shape.elements > lim.elements {
			return shape, tooComplex("JSON Feed has more than %d values", lim.elements)
		}
	}
	return shape, nil
}

// jsonStringEnd returns the index just past the closing quote of the
// string whose content starts at i, or -1.
func jsonStringEnd(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		k := i + j
		backslashes := 0
		for p := k - 1; p >= i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return k + 1
		}
		i = k + 1
	}
}
