package incident

import (
	"strings"
	"unicode/utf8"
)

// leadChars is how much of an item's text is read: about the two
// sentences a feed's summary gives, the part every outlet writes about
// the event itself rather than its background.
const leadChars = 250

// trailers start the boilerplate feeds append to a summary; the lead ends
// where one begins, so an outlet's own name never counts as a shared name.
var trailers = []string{"the post ", "read more", "read full article", "article source:", "continue reading", "[…]", "[...]"}

// lead returns the start of text up to n bytes, cut at a word boundary,
// without feed trailers.
func lead(text string, n int) string {
	// Only a trailer that starts within the lead matters.
	head := text[:min(len(text), n+32)]
	lower := asciiLower(head)
	for _, t := range trailers {
		if i := strings.Index(lower, t); i >= 0 {
			if t == "the post " && !strings.Contains(asciiLower(text[i:]), " appeared ") {
				continue
			}
			text, lower = text[:i], lower[:i]
		}
	}
	if len(text) <= n {
		return text
	}
	text = text[:n]
	for !utf8.ValidString(text) {
		text = text[:len(text)-1]
	}
	// A word or CVE ID cut in half would read as a different one; drop
	// the tail from the last space.
	if i := strings.LastIndexByte(text, ' '); i > 0 {
		text = text[:i]
	}
	return text
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those
// of s (the trailers are ASCII).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
