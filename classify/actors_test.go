package classify

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIsClusterID holds IsClusterID (what the dictionary generator and
// importer leave to the shape rule) and clusterMentions (the shape rule) to
// the same shapes.
func TestIsClusterID(t *testing.T) {
	c := newTestClassifier(t)
	for s, want := range map[string]bool{"TA4557": true, "UNC3524": true, "Storm-0558": true, "UAT-7710": true, "DEV-0537": true, "APT99": true, "Fancy Bear": false, "Storm": false, "TA": false, "TA0001": false} {
		t.Run(s, func(t *testing.T) {
			if got := IsClusterID(s); got != want {
				t.Errorf("IsClusterID(%q): got %v, want %v", s, got, want)
			}
			if s == "Fancy Bear" {
				return // a dictionary name, not a shape
			}
			actors := c.Classify("", "Analysts track the intrusions as "+s+" in their reports.", time.Time{}).Actors
			tagged := slices.ContainsFunc(actors, func(a string) bool { return Normalize(a) == Normalize(s) })
			if tagged != want {
				t.Errorf("%q tagged by shape: got %v (actors %v), want %v", s, tagged, actors, want)
			}
		})
	}
}

func TestClusterShapes(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"Proofpoint tracks the activity as TA4557.", []string{"TA4557"}},
		{"Mapped to MITRE ATT&CK tactics TA0001 and TA0043 (Initial Access, Reconnaissance).", nil},
		{"Mandiant tracks it as UNC9001; Microsoft calls it Storm-2911.", []string{"UNC9001", "Storm-2911"}},
	}
	for _, tt := range tests {
		got := c.Classify("", tt.text, time.Time{}).Actors
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q: got actors %q, want %q", tt.text, got, tt.want)
		}
	}
}
