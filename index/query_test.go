package index

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "*"},
		{"   ", "*"},
		{"ransomware", "ransomware"},
		{"supply chain attack", "(AND supply chain attack)"},
		{`"supply chain"`, `"supply chain"`},
		{"ransomware AND NOT state:china", "(AND ransomware (NOT state:china))"},
		{"ransomware -state:china", "(AND ransomware (NOT state:china))"},
		{"NOT state:china", "(NOT state:china)"},
		{"-ransomware", "(NOT ransomware)"},
		{"-(a OR b)", "(NOT (OR a b))"},
		{"NOT NOT a", "(NOT (NOT a))"},
		{"a OR b c", "(OR a (AND b c))"},
		{"a b OR c", "(OR (AND a b) c)"},
		{"a AND b OR c AND d", "(OR (AND a b) (AND c d))"},
		{"(a OR b) c", "(AND (OR a b) c)"},
		{"((a))", "a"},
		{"a and b or c", "(AND a and b or c)"},
		{"e-mail CVE-2024-3400", "(AND e-mail CVE-2024-3400)"},
		{"10:30 meeting", "(AND 10:30 meeting)"},
		{`actor:"fancy bear"`, `actor:"fancy bear"`},
		{"signatory:Microsoft", "signatory:Microsoft"},
		{"Signatory:microsoft", "signatory:microsoft"},
		{"state:dprk feed:therecord", "(AND state:dprk feed:therecord)"},
		{"title:attacks", "title:attacks"},
		{`text:"supply chain"`, `text:"supply chain"`},
		{"state_linked:true", "state_linked:true"},
		{"state_linked:FALSE", "state_linked:false"},
		{"severity:>=70", "severity:>=70"},
		{"severity:>50", "severity:>50"},
		{"severity:<=10", "severity:<=10"},
		{"severity:<10", "severity:<10"},
		{"severity:70", "severity:70"},
		{"severity:[40 TO 80]", "severity:[40 TO 80]"},
		{"severity:{40 TO 80]", "severity:{40 TO 80]"},
		{"severity:[40 TO *]", "severity:[40 TO *]"},
		{"published:>=2026-01-01", "published:>=2026-01-01"},
		{"published:[2026-01-01 TO 2026-02-01]", "published:[2026-01-01 TO 2026-02-01]"},
		{"published:>=2026-01-01T10:00:00Z", "published:>=2026-01-01T10:00:00Z"},
		{"since:7d", "since:7d"},
		{"since:24h", "since:24h"},
		{"since:2w", "since:2w"},
		{"since:2026-01-01", "published:>=2026-01-01"},
		{"state:russia AND signatory:microsoft AND NOT attack:ddos since:30d",
			"(AND state:russia signatory:microsoft (NOT attack:ddos) since:30d)"},
		{`"say \"hi\""`, `"say \"hi\""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"(a b", "column 5: expected ')' to close '(' at column 1"},
		{"(a OR (b c)", "column 12: expected ')' to close '(' at column 1"},
		{"a)", "column 2: unexpected ')' without a matching '('"},
		{")", "column 1: unexpected ')' without a matching '('"},
		{"()", "column 1: empty parentheses"},
		{`"supply chain`, "column 1: unclosed quote"},
		{`actor:"fancy bear`, "column 7: unclosed quote"},
		{`""`, "column 1: empty phrase"},
		{"a AND", "column 3: expected a search term after AND"},
		{"a OR", "column 3: expected a search term after OR"},
		{"a AND OR b", "column 3: expected a search term after AND"},
		{"NOT", "column 1: expected a search term after NOT"},
		{"a NOT)", "column 3: expected a search term after NOT"},
		{"AND a", "column 1: expected a search term before AND"},
		{"OR a", "column 1: expected a search term before OR"},
		{"(OR a)", "column 2: expected a search term before OR"},
		{"a - b", "column 3: expected a search term right after '-'"},
		{"a -", "column 3: expected a search term right after '-'"},
		{"state:", `column 7: missing value after "state:"`},
		{"state: russia", `column 7: missing value after "state:"`},
		{"(state:)", `column 8: missing value after "state:"`},
		{`state:""`, `column 7: empty value for "state"`},
		{"state:(a OR b)", `column 7: a group cannot follow "state:"; write (state:a OR state:b)`},
		{"colour:red", `column 1: unknown field "colour" (fields: ` + fieldNames + ")"},
		{"a https://example.com", `column 3: unknown field "https" (fields: ` + fieldNames + ")"},
		{"severity:>=high", `column 12: bad number "high" for "severity"`},
		{"severity:>=", `column 12: missing value after "severity:>="`},
		{"severity:[40 TO x]", `column 17: bad number "x" for "severity"`},
		{"severity:[40 80]", `column 14: expected TO in range for "severity"`},
		{"severity:[40 TO 80", `column 19: expected ']' or '}' to close range opened at column 10`},
		{"severity:[ TO 80]", `column 12: missing lower bound in range for "severity"`},
		{"severity:*", `column 10: bad number "*" for "severity"`},
		{"state:>=x", `column 7: field "state" does not take ranges`},
		{"state_linked:maybe", `column 14: bad value "maybe" for "state_linked" (want true or false)`},
		{"published:>=2026-13-01", `column 13: bad date "2026-13-01" for "published" (want YYYY-MM-DD or RFC 3339)`},
		{"published:[2026-01-01 TO soon]", `column 26: bad date "soon" for "published" (want YYYY-MM-DD or RFC 3339)`},
		{"published:9999-01-01", `column 11: date "9999-01-01" out of range for "published"`},
		{"since:7x", `column 7: bad duration "7x" for "since" (want e.g. 24h, 7d, 2w or a date)`},
		{"since:d", `column 7: bad duration "d" for "since" (want e.g. 24h, 7d, 2w or a date)`},
		{"since:-7d", `column 7: bad duration "-7d" for "since" (want e.g. 24h, 7d, 2w or a date)`},
		{"since:999999w", `column 7: duration "999999w" for "since" is too long`},
		{"since:>7d", `column 7: field "since" does not take ranges`},
		{"é (", "column 4: expected a search term"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error %q", tt.in, q, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", tt.in, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseDateBounds checks the day-granularity rules of published ranges.
func TestParseDateBounds(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		in             string
		lo, hi         time.Time // zero = open
		loIncl, hiIncl bool
	}{
		{"published:>=2026-01-01", day("2026-01-01"), time.Time{}, true, false},
		{"published:>2026-01-01", day("2026-01-02"), time.Time{}, true, false},
		{"published:<2026-01-01", time.Time{}, day("2026-01-01"), false, false},
		{"published:<=2026-01-01", time.Time{}, day("2026-01-02"), false, false},
		{"published:2026-01-01", day("2026-01-01"), day("2026-01-02"), true, false},
		{"published:[2026-01-01 TO 2026-02-01]", day("2026-01-01"), day("2026-02-02"), true, false},
		{"published:{2026-01-01 TO 2026-02-01}", day("2026-01-02"), day("2026-02-01"), true, false},
		{"published:>=2026-01-01T10:00:00+02:00", time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC), time.Time{}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := q.root.(*rangeNode)
			if !ok {
				t.Fatalf("root is %T, want *rangeNode", q.root)
			}
			check := func(name string, e *rangeEnd, want time.Time, incl bool) {
				t.Helper()
				if want.IsZero() {
					if e != nil {
						t.Errorf("%s = %v, want open", name, e.t)
					}
					return
				}
				if e == nil {
					t.Fatalf("%s open, want %v", name, want)
				}
				if !e.t.Equal(want) || e.incl != incl {
					t.Errorf("%s = %v incl=%v, want %v incl=%v", name, e.t, e.incl, want, incl)
				}
			}
			check("lo", r.lo, tt.lo, tt.loIncl)
			check("hi", r.hi, tt.hi, tt.hiIncl)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "ransomware", `"supply chain" -state:china`, "(a OR b) c", "NOT x",
		"severity:[40 TO 80]", "published:>=2026-01-01", "since:7d", `actor:"fancy bear"`,
		"a AND (b OR", `"unclosed`, "state:", "-", "severity:{1 TO *}", "é:ü",
		// Nesting past MaxQueryDepth must be an error, never a stack overflow.
		strings.Repeat("(", 150) + "x", strings.Repeat("NOT -", 80) + "x", strings.Repeat("((a OR ", 60),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if (q == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of query and error", s, q, err)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", s, err)
			}
			if n := len([]rune(s)); pe.Pos < 1 || pe.Pos > n+1 {
				t.Fatalf("Parse(%q) error column %d outside 1..%d", s, pe.Pos, n+1)
			}
			return
		}
		_ = q.String()
	})
}
