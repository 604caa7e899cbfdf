package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

func TestAlertLookup(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := enqueue(s, []accordwatch.Alert{{ID: "a1", ItemID: "i1", Created: now, Kind: accordwatch.KindIncident}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id     string
		wantOK bool
	}{{"a1", true}, {"nope", false}}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			a, ok, err := s.Alert(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Fatalf("got ok %v, want %v", ok, tt.wantOK)
			}
			if ok && (a.ItemID != "i1" || a.Status != accordwatch.AlertPending) {
				t.Errorf("got %+v, want item i1 pending", a)
			}
		})
	}
}

func TestSaveAlertsIsAtomic(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	held := accordwatch.Alert{ID: "o1", ItemID: "i1", Created: now, Status: accordwatch.AlertOverflow}
	if _, err := enqueue(s, []accordwatch.Alert{held}); err != nil {
		t.Fatal(err)
	}
	summary := accordwatch.Alert{ID: "s1", Kind: accordwatch.KindSummary, Created: now, Summary: []accordwatch.SummaryEntry{{Title: "t"}}}

	// An update of an unknown alert fails the whole call: the summary must
	// not be enqueued without its members being marked.
	held.Status, held.Ref = accordwatch.AlertSent, "summary:s1"
	if _, err := s.SaveAlerts([]accordwatch.Alert{summary}, []accordwatch.Alert{held, {ID: "ghost"}}); err == nil {
		t.Fatal("got no error for an unknown alert, want one")
	}
	if _, ok, _ := s.Alert("s1"); ok {
		t.Error("summary stored although the transaction failed")
	}

	added, err := s.SaveAlerts([]accordwatch.Alert{summary}, []accordwatch.Alert{held})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].Status != accordwatch.AlertPending {
		t.Errorf("got added %+v, want the summary, pending", added)
	}
	got, _, _ := s.Alert("o1")
	if got.Status != accordwatch.AlertSent || got.Ref != "summary:s1" {
		t.Errorf("got member %+v, want sent with ref summary:s1", got)
	}
	// Enqueueing the same summary again adds nothing.
	if added, _ := s.SaveAlerts([]accordwatch.Alert{summary}, nil); len(added) != 0 {
		t.Errorf("got %d added on a second save, want 0", len(added))
	}
}
