package accordwatch

import (
	"strconv"
	"testing"
)

// TestAddMergeIsBounded: an incident keeps the first half of its merge
// records and the latest ones, never more than MaxIncidentMerges.
func TestAddMergeIsBounded(t *testing.T) {
	tests := []struct {
		adds      int
		wantFirst string // the oldest record kept
		wantLast  string
		wantKept  int
	}{
		{1, "0", "0", 1},
		{MaxIncidentMerges, "0", strconv.Itoa(MaxIncidentMerges - 1), MaxIncidentMerges},
		{3 * MaxIncidentMerges, "0", strconv.Itoa(3*MaxIncidentMerges - 1), MaxIncidentMerges},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.adds), func(t *testing.T) {
			var inc Incident
			for i := range tc.adds {
				inc.AddMerge(IncidentMerge{ItemID: strconv.Itoa(i)})
			}
			m := inc.Merges
			if len(m) != tc.wantKept || m[0].ItemID != tc.wantFirst || m[len(m)-1].ItemID != tc.wantLast {
				t.Fatalf("got %d records %s…%s, want %d records %s…%s", len(m), m[0].ItemID, m[len(m)-1].ItemID, tc.wantKept, tc.wantFirst, tc.wantLast)
			}
			// The first half is the first records, in order.
			for i := range min(len(m), MaxIncidentMerges/2) {
				if m[i].ItemID != strconv.Itoa(i) {
					t.Errorf("record %d: got item %s, want %d", i, m[i].ItemID, i)
				}
			}
		})
	}
}
