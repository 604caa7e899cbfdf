package incident

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"words are stemmed, stopwords dropped", "Hackers breached the ticketing systems", []string{"hack", "breach", "ticket", "system"}},
		{"thousands separator", "over 250,000 accounts", []string{"250k", "account"}},
		{"suffix k", "250k accounts", []string{"250k", "account"}},
		{"scale word", "0.25 million accounts", []string{"250k", "account"}},
		{"spaced decimal from one news source", "7. 3 million users", []string{"7.3m", "user"}},
		{"spaced thousands from one news source", "about 6, 200 people", []string{"6.2k", "peopl"}},
		{"three significant digits", "12.34 Gbps and 12.3 Gbps", []string{"12.3", "gbp", "12.3", "gbp"}},
		{"a year stays as written", "the 2024 incident", []string{"2024", "incident"}},
		{"a number beside a month is a date", "on March 3 and 4 June", []string{"march", "jun"}},
		{"ordinals are dropped", "the 3rd attack", []string{"attack"}},
		{"ampersands inside names", "AT&T and P&G", []string{"at&t", "p&g"}},
		{"zero-day spellings", "zero-day, 0-day and zero days", []string{"zeroday", "zeroday", "zeroday"}},
		{"CVE IDs are left to cves", "CVE-2031-12345 exploited", []string{"exploit"}},
		{"demonyms become countries", "Russian and Iranian hackers", []string{"russia", "iran", "hack"}},
		{"empty", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tokens(tt.in)); diff != "" {
				t.Errorf("tokens(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"hacked": "hack", "hackers": "hack", "hacking": "hack", "companies": "company",
		"fined": "fin", "fines": "fin", "fine": "fin", "stopped": "stop", "missed": "miss",
		"russians": "russia", "status": "status", "used": "used",
	} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestNumberValue(t *testing.T) {
	for _, n := range []float64{7, 12.3, 999, 1234, 56_000, 2_500_000, 2_100_000_000} {
		term := formatNumber(n)
		v, ok := numberValue(term)
		if !ok || !numbersMatch(v, n) {
			t.Errorf("numberValue(formatNumber(%g) = %q): got %g, %v, want about %g", n, term, v, ok, n)
		}
	}
	if _, ok := numberValue("2025"); ok {
		t.Errorf("numberValue(2025): a year is not a count")
	}
	if _, ok := numberValue("breach"); ok {
		t.Errorf("numberValue(breach): not a number")
	}
}

// TestNumberBuckets checks the property the index relies on: numbers
// within numberTolerance of each other are in the same band or in
// neighbouring ones.
func TestNumberBuckets(t *testing.T) {
	for a := 10.0; a < 2e9; a *= 1.013 {
		for _, f := range []float64{1, 1.03, 1.07, 1.1, 1.11, 1.111} {
			b := a * f
			if !numbersMatch(a, b) {
				continue
			}
			if d := numberBucket(b) - numberBucket(a); d < 0 || d > 1 {
				t.Fatalf("%g and %g match but lie %d bands apart", a, b, d)
			}
		}
	}
	if numberBucket(12.3) != numberBucket(12.34) || numberBucket(100) == numberBucket(200) {
		t.Errorf("bands: 12.3 → %d, 12.34 → %d, 100 → %d, 200 → %d", numberBucket(12.3), numberBucket(12.34), numberBucket(100), numberBucket(200))
	}
}

func TestLead(t *testing.T) {
	tests := []struct {
		name, text string
		n          int
		want       string
	}{
		{"short text whole", "A short summary.", 250, "A short summary."},
		{"cut at a word", "alpha beta gamma delta", 13, "alpha beta"},
		{"feed trailer dropped", "The outage lasted a day. The post Outage ends appeared first on Example News.", 250, "The outage lasted a day. "},
		{"read more dropped", "Two arrests were made. Read more at the source", 250, "Two arrests were made. "},
		{"a post that is not a trailer stays", "The post office was hit.", 250, "The post office was hit."},
		{"multibyte cut stays valid", "café café café", 8, "café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lead(tt.text, tt.n); got != tt.want {
				t.Errorf("lead(%q, %d): got %q, want %q", tt.text, tt.n, got, tt.want)
			}
		})
	}
}

func TestStripPublisher(t *testing.T) {
	for in, want := range map[string]string{
		"Contoso confirms outage | Example Times":    "Contoso confirms outage",
		"Contoso confirms outage - Example Weekly":   "Contoso confirms outage",
		"Contoso confirms outage - but data is safe": "Contoso confirms outage - but data is safe",
	} {
		if got := stripPublisher(in); got != want {
			t.Errorf("stripPublisher(%q): got %q, want %q", in, got, want)
		}
	}
}
