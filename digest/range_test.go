package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch/digest"
)

// TestParseRangeLimits: out-of-range years and over-long ranges are
// refused with an error naming the limit, while the widest allowed ranges
// still parse. Before the limits, from=0001-01-01 reached the index (a 500
// from the API) and a 290-year range rendered an 18 MB page.
func TestParseRangeLimits(t *testing.T) {
	tests := []struct {
		name, week, from, to string
		wantErr              string // "" = accepted
	}{
		{"year one to 9999", "", "0001-01-01", "9999-12-31", "dates must be from 1970-01-01 to 2200-12-31"},
		{"290 years", "", "1990-01-01", "2280-01-01", "dates must be from 1970-01-01 to 2200-12-31"},
		{"long but in years", "", "1990-01-01", "2026-01-01", "longer than the limit of 366 days"},
		{"367 days", "", "2026-01-01", "2027-01-02", "longer than the limit of 366 days"},
		{"366 days (leap year)", "", "2028-01-01", "2028-12-31", ""},
		{"366 days across a year end", "", "2026-01-01", "2027-01-01", ""},
		{"before 1970", "", "1969-12-31", "1970-01-06", "dates must be from 1970-01-01"},
		{"only to, default from before 1970", "", "", "1970-01-03", "dates must be from 1970-01-01"},
		{"first allowed day", "", "1970-01-01", "1970-01-07", ""},
		{"last allowed day", "", "2200-12-25", "2200-12-31", ""},
		{"after 2200", "", "2200-12-31", "2201-01-01", "dates must be from 1970-01-01 to 2200-12-31"},
		{"only from, default to after 2200", "", "2200-12-30", "", "dates must be from 1970-01-01 to 2200-12-31"},
		{"five-digit year", "", "99999-01-01", "", "want a date like"},
		{"week in year one", "0001-W01", "", "", "dates must be from 1970-01-01"},
		{"week in 9999", "9999-W10", "", "", "dates must be from 1970-01-01 to 2200-12-31"},
		{"week in range", "2200-W10", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := digest.ParseRange(tt.week, tt.from, tt.to, fixedNow, brussels)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want [%s, %s) accepted", err, from, to)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("got [%s, %s), want an error containing %q", from, to, tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
			if err == nil && (to.Sub(from) > (digest.MaxRangeDays*24+1)*time.Hour || from.Year() < digest.MinYear || to.Year() > digest.MaxYear+1) {
				t.Errorf("got [%s, %s), outside the limits", from, to)
			}
		})
	}
}
