package article

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
)

// Limits on a page's structure, checked with one cheap pass over the
// tokens before the page is parsed into a tree. The HTML parser and the
// extractor walk the tree recursively and score every element, so their
// cost grows with nesting and element count, not bytes: an "HTML bomb"
// of a million nested <div>s is small but would take the extractor
// minutes. Mozilla's 130 test pages nest at most 38 levels deep and hold
// at most 9,887 tags (BENCHMARKS.md, "Hostile feeds"), so these leave
// wide headroom over real pages.
const (
	maxDepth    = 256
	maxElements = 60_000
)

// DefaultMinChars is the least text an extracted article must have to be
// used: below it the page is taken for a paywall, a consent or login wall,
// or an error page that readability reduced to its one visible paragraph.
const DefaultMinChars = 250

// Errors Extract wraps; their text is the reason recorded on an item.
var (
	// ErrNotArticle means the page is not an article: readability's own
	// readerable check says no (too little paragraph text — index pages,
	// paywalls, consent walls), or nothing could be extracted.
	ErrNotArticle = errors.New("not an article")
	// ErrTooShort means what was extracted is shorter than MinChars.
	ErrTooShort = errors.New("article too short")
	// ErrTooComplex means the page's structure is over a limit.
	ErrTooComplex = errors.New("page structure over a limit")
)

// Options configures an Extractor. Zero fields take the defaults.
type Options struct {
	// MinChars is the least text an article must have; DefaultMinChars
	// when 0.
	MinChars int
}

// Extractor extracts articles. It holds no state between pages and is
// safe for concurrent use.
type Extractor struct {
	minChars int
}

// New returns an Extractor with defaults filled in.
func New(opts Options) *Extractor {
	if opts.MinChars <= 0 {
		opts.MinChars = DefaultMinChars
	}
	return &Extractor{minChars: opts.MinChars}
}

// Article is what was extracted from a page: plain text only.
type Article struct {
	Title string
	// Text is the article's text: paragraphs separated by a blank line,
	// whitespace collapsed, no control characters but '\n', valid UTF-8.
	Text string
}

// Extract returns the article in page, which must be UTF-8 (feeds
// transcodes it); pageURL resolves relative links and may be nil. A page
// that is not an article fails with an error wrapping ErrNotArticle,
// ErrTooShort or ErrTooComplex whose text is a reason a user can read.
func (x *Extractor) Extract(page []byte, pageURL *url.URL) (Article, error) {
	art, readerable, err := extract(page, pageURL)
	switch {
	case err != nil:
		return Article{}, err
	case !readerable:
		// Readerable is Firefox's "show the Reader View button" decision;
		// a paywall or consent page shows a few short paragraphs and
		// fails it.
		return Article{}, fmt.Errorf("%w: the page has too little article text (paywall, consent or index page?)", ErrNotArticle)
	}
	if n := utf8.RuneCountInString(art.Text); n < x.minChars {
		return Article{}, fmt.Errorf("%w: %d characters, fewer than %d (paywall or consent page?)", ErrTooShort, n, x.minChars)
	}
	return art, nil
}

// extract parses page once, takes readability's readerable decision on
// it and then extracts the article, whatever the decision was (so the
// evaluation can measure both).
func extract(page []byte, pageURL *url.URL) (art Article, readerable bool, err error) {
	if err := checkShape(page); err != nil {
		return Article{}, false, err
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return Article{}, false, fmt.Errorf("%w: cannot parse the page: %v", ErrNotArticle, err)
	}
	parser := readability.NewParser()
	parser.MaxElemsToParse = maxElements
	readerable = parser.CheckDocument(doc)
	ra, err := parser.ParseAndMutate(doc, pageURL)
	if err != nil || ra.Node == nil {
		return Article{}, readerable, fmt.Errorf("%w: no article found in the page", ErrNotArticle)
	}
	var b strings.Builder
	if err := ra.RenderText(&b); err != nil {
		return Article{}, readerable, fmt.Errorf("%w: no article found in the page", ErrNotArticle)
	}
	return Article{Title: Clean(ra.Title()), Text: Clean(b.String())}, readerable, nil
}

// Clean normalises extracted text: invalid UTF-8 and control characters
// go, runs of spaces become one, lines are trimmed, and runs of blank
// lines become one blank line.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var out strings.Builder
	out.Grow(len(s))
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r)
		}), " ")
		if line == "" {
			blank++
			continue
		}
		if out.Len() > 0 {
			if blank > 0 {
				out.WriteString("\n\n")
			} else {
				out.WriteByte('\n')
			}
		}
		blank = 0
		out.WriteString(line)
	}
	return out.String()
}

// voidElements never have content, so their start tags do not nest.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// impliedEnd are elements whose end tag pages often leave out.
var impliedEnd = map[string]bool{
	"p": true, "li": true, "dt": true, "dd": true, "option": true, "tr": true, "td": true, "th": true,
}

// checkShape bounds nesting and element count with the tokenizer, which
// needs no tree. Its depth counts start tags not yet closed by an end tag
// of the same name, an upper bound of what the parser builds for the
// usual bomb (unclosed or deeply nested elements).
func checkShape(page []byte) error {
	z := html.NewTokenizer(bytes.NewReader(page))
	var open []string
	elements := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: %v", ErrNotArticle, z.Err())
		case html.StartTagToken:
			name, _ := z.TagName()
			elements++
			if elements > maxElements {
				return fmt.Errorf("%w: more than %d elements", ErrTooComplex, maxElements)
			}
			if voidElements[string(name)] {
				continue
			}
			// An unclosed <p>, <li>, <td>… is closed by the next one (the
			// parser's implied end tags), so it does not add up.
			if impliedEnd[string(name)] {
				for i := len(open) - 1; i >= max(0, len(open)-8); i-- {
					if open[i] == string(name) {
						open = open[:i]
						break
					}
				}
			}
			open = append(open, string(name))
			if len(open) > maxDepth {
				return fmt.Errorf("%w: nested deeper than %d levels", ErrTooComplex, maxDepth)
			}
		case html.SelfClosingTagToken:
			elements++
			if elements > maxElements {
				return fmt.Errorf("%w: more than %d elements", ErrTooComplex, maxElements)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == string(name) {
					open = open[:i]
					break
				}
			}
		}
	}
}

// ArticleText is Extract's text, the method feeds.ArticleExtractor asks
// for.
func (x *Extractor) ArticleText(page []byte, pageURL *url.URL) (string, error) {
	art, err := x.Extract(page, pageURL)
	return art.Text, err
}
