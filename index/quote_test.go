package index

import (
	"github.com/accordwatch/accordwatch"
	"strings"
	"testing"
	"testing/quick"
	"unicode/utf8"
)

// TestQuoteRoundTrip is the property every query builder relies on: for
// any string s, parsing field:QuoteValue(s) yields s as the value.
func TestQuoteRoundTrip(t *testing.T) {
	fixed := []string{`Fancy	Bear`, `a"b`, `back\slash`, `\`, `"`, `trailing\`, `Sandworm (Unit 74455)`, `a:b`, `OR`, `x AND y`, "é ü 中文", `\t`, ` lead`, `[1 TO 2]`}
	check := func(s string) bool {
		if !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
			return true // the lexer reads runes; an empty value is an error by design
		}
		for _, field := range []string{"actor", "title"} {
			q, err := Parse(field + ":" + accordwatch.QuoteValue(s))
			if err != nil {
				t.Logf("Parse(%s:%s): %v", field, accordwatch.QuoteValue(s), err)
				return false
			}
			var got string
			switch n := q.root.(type) {
			case *tagNode:
				got = n.value
			case *textNode:
				got = n.value
			default:
				t.Logf("Parse(%s:%s) = %T", field, accordwatch.QuoteValue(s), q.root)
				return false
			}
			if got != s {
				t.Logf("Parse(%s:%s) value %q, want %q", field, accordwatch.QuoteValue(s), got, s)
				return false
			}
			// The tree renders back into a query that parses to the same tree.
			again, err := Parse(q.String())
			if err != nil || again.String() != q.String() {
				t.Logf("String() %q does not round trip: %v", q.String(), err)
				return false
			}
		}
		return true
	}
	for _, s := range fixed {
		if !check(s) {
			t.Errorf("round trip fails for %q", s)
		}
	}
	if err := quick.Check(check, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}
