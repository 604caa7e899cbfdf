package index

import (
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/accordwatch/accordwatch"
)

// snippetSize is the snippet length in bytes (before markers).
const snippetSize = 200

// Snippets are cut from the stored head of the text by our own code rather
// than bleve's highlighter: bleve highlights only a stored field that the
// query matched, which would mean storing the whole text. Running the
// analyzer over 1 KB for the 20 hits of a page costs microseconds.

// queryTerms returns the analysed terms of the query's positive free text
// (free words and phrases, and text: clauses), which a snippet marks.
func queryTerms(n node, a analysis.Analyzer) map[string]bool {
	terms := make(map[string]bool)
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case *andNode:
			for _, c := range n.clauses {
				walk(c)
			}
		case *orNode:
			for _, c := range n.clauses {
				walk(c)
			}
		case *textNode:
			if n.field == "" || n.field == "text" {
				for _, tok := range a.Analyze([]byte(n.value)) {
					terms[string(tok.Term)] = true
				}
			}
		}
		// NOT clauses are not highlighted: they cannot be in a hit.
	}
	walk(n)
	return terms
}

// snippet returns about snippetSize bytes of text around the densest run
// of query terms, with each term wrapped in HighlightStart/HighlightEnd.
// Without a match it is the start of the text.
func snippet(text string, terms map[string]bool, a analysis.Analyzer) string {
	if text == "" {
		return ""
	}
	type span struct{ start, end int }
	var marks []span
	if len(terms) > 0 {
		for _, tok := range a.Analyze([]byte(text)) {
			if terms[string(tok.Term)] {
				marks = append(marks, span{tok.Start, tok.End})
			}
		}
	}
	// Pick the window start with the most marks inside snippetSize bytes.
	from, best := 0, 0
	for i := range marks {
		n := 0
		for j := i; j < len(marks) && marks[j].end-marks[i].start <= snippetSize; j++ {
			n++
		}
		if n > best {
			best, from = n, marks[i].start
		}
	}
	if best > 0 {
		// Some context before the first match.
		from = max(0, from-snippetSize/4)
	}
	to := min(len(text), from+snippetSize)
	from, to = wordBounds(text, from, to)

	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	}
	pos := from
	for _, m := range marks {
		if m.start < from || m.end > to {
			continue
		}
		b.WriteString(text[pos:m.start])
		b.WriteString(accordwatch.HighlightStart)
		b.WriteString(text[m.start:m.end])
		b.WriteString(accordwatch.HighlightEnd)
		pos = m.end
	}
	b.WriteString(text[pos:to])
	if to < len(text) {
		b.WriteString(" …")
	}
	return b.String()
}

// wordBounds moves from forward and to backward to spaces (and both to
// rune boundaries) so the snippet does not start or end mid-word.
func wordBounds(text string, from, to int) (int, int) {
	if from > 0 {
		if i := strings.IndexByte(text[from:to], ' '); i >= 0 && i < snippetSize/4 {
			from += i + 1
		}
		for from < to && !utf8.RuneStart(text[from]) {
			from++
		}
	}
	if to < len(text) {
		if i := strings.LastIndexByte(text[from:to], ' '); i > 0 && to-(from+i) < snippetSize/4 {
			to = from + i
		}
		for to > from && to < len(text) && !utf8.RuneStart(text[to]) {
			to--
		}
	}
	return from, to
}
