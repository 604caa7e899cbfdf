package pgstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
	"github.com/google/go-cmp/cmp"
)

// incidentStore is what the incidents command reads, from either store.
type incidentStore interface {
	CommitBatch(store.Batch) ([]accordwatch.Alert, error)
	Incident(id string) (accordwatch.Incident, bool, error)
	RecentIncidents(limit int) ([]accordwatch.Incident, error)
	IncidentOf(itemID string) (string, bool, error)
}

// TestIncidentMergesPersist runs against both stores: the merge records
// an incident carries come back whole, a later report leads to its
// incident, and recent incidents come newest first.
func TestIncidentMergesPersist(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) incidentStore
	}{
		{"bbolt", func(t *testing.T) incidentStore {
			s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(t *testing.T) incidentStore { s, _ := open(t); return s }},
	}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	merged := accordwatch.Incident{
		ID: "i1", Title: "Harbour operator confirms ransomware attack", FirstSeen: t0, LastSeen: t0.Add(3 * time.Hour),
		ItemIDs: []string{"i1", "i2"}, Sources: 2, Severity: 70,
		Merges: []accordwatch.IncidentMerge{{
			ItemID: "i2", Title: "Ransomware gang hits harbour operator", At: t0.Add(3 * time.Hour),
			Score: 0.412, Threshold: 0.19, Cosine: 0.412, Specifics: 3, Attack: "ransomware",
			Shared:  []accordwatch.MergeTerm{{Term: "harbour", Weight: 0.3}, {Term: "operator", Weight: 0.1}},
			Numbers: []string{"40k"}, Reason: "score 0.412 = cosine 0.412; 3 specifics",
		}},
	}
	older := accordwatch.Incident{ID: "i0", Title: "older", FirstSeen: t0.Add(-48 * time.Hour), LastSeen: t0.Add(-47 * time.Hour),
		ItemIDs: []string{"i0", "i3"}, Sources: 2}
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			if _, err := s.CommitBatch(store.Batch{Incidents: []accordwatch.Incident{older, merged}, Members: []store.Member{{ItemID: "i2", IncidentID: "i1"}}}); err != nil {
				t.Fatal(err)
			}
			// A later report leads to its incident; the first report and an
			// unknown item join none.
			for _, c := range []struct {
				item, want string
				ok         bool
			}{{"i2", "i1", true}, {"i1", "", false}, {"zz", "", false}} {
				if id, ok, err := s.IncidentOf(c.item); err != nil || ok != c.ok || id != c.want {
					t.Errorf("IncidentOf(%s) = %q, %v, %v; want %q, %v", c.item, id, ok, err, c.want, c.ok)
				}
			}
			got, ok, err := s.Incident("i1")
			if err != nil || !ok {
				t.Fatalf("Incident(i1): ok %v err %v", ok, err)
			}
			if d := cmp.Diff(merged, got); d != "" {
				t.Errorf("Incident(i1) (-want +got):\n%s", d)
			}
			recent, err := s.RecentIncidents(0)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, inc := range recent {
				ids = append(ids, inc.ID)
			}
			if d := cmp.Diff([]string{"i1", "i0"}, ids); d != "" {
				t.Errorf("RecentIncidents(0) IDs (-want +got):\n%s", d)
			}
			if l, err := s.RecentIncidents(1); err != nil || len(l) != 1 || l[0].ID != "i1" {
				t.Errorf("RecentIncidents(1): got %d incidents, err %v; want [i1]", len(l), err)
			}
		})
	}
}
