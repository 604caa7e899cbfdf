package index

import (
	"errors"
	"strings"
	"testing"
)

// TestParseRefusesHostileQueries: each of these once recursed without
// bound (a stack overflow ends the process, it cannot be recovered) or
// made the parser do unbounded work for one request.
func TestParseRefusesHostileQueries(t *testing.T) {
	deepParens := strings.Repeat("(", MaxQueryDepth+1) + "x" + strings.Repeat(")", MaxQueryDepth+1)
	tests := []struct {
		name, q, want string
		col           int
	}{
		{"300k open parens", strings.Repeat("(", 300000), "query is 300000 characters long; the limit is 16384", MaxQueryLen + 1},
		{"parens one past the depth", deepParens, "query nests deeper than 100 levels", MaxQueryDepth + 1},
		{"NOT chain", strings.Repeat("NOT ", MaxQueryDepth+1) + "x", "query nests deeper than 100 levels", 4*MaxQueryDepth + 1},
		{"minus chain", strings.Repeat("-(", MaxQueryDepth) + "x" + strings.Repeat(")", MaxQueryDepth), "query nests deeper than 100 levels", MaxQueryDepth + 1},
		{"too many terms", strings.Repeat("a ", MaxQueryTokens+1), "query has 2049 terms and operators; the limit is 2048", 2*MaxQueryTokens + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.q)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", q, err)
			}
			if pe.Msg != tt.want || pe.Pos != tt.col {
				t.Errorf("got column %d %q, want column %d %q", pe.Pos, pe.Msg, tt.col, tt.want)
			}
		})
	}
}

// TestParseAcceptsNestingUpToTheLimit keeps the limits from refusing
// real queries: 100 levels, and a long watch-list style OR chain.
func TestParseAcceptsNestingUpToTheLimit(t *testing.T) {
	ok := []string{
		strings.Repeat("(", MaxQueryDepth) + "x" + strings.Repeat(")", MaxQueryDepth),
		strings.Repeat("NOT ", MaxQueryDepth-1) + "(x)",
		strings.TrimSuffix(strings.Repeat(`signatory:"trend micro" OR `, 300), " OR "),
	}
	for _, q := range ok {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%.40q…) = %v, want it accepted", q, err)
		}
	}
}
