package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
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

func TestOpenAlertsFollowStatusAndMigrate(t *testing.T) {
	s, path := openTemp(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	alerts := []accordwatch.Alert{
		{ID: "p", Created: now, Status: accordwatch.AlertPending},
		{ID: "o", Created: now.Add(time.Second), Status: accordwatch.AlertOverflow},
		{ID: "x", Created: now.Add(2 * time.Second), Status: accordwatch.AlertSilenced},
	}
	if _, err := s.CommitBatch(Batch{Alerts: alerts}); err != nil {
		t.Fatal(err)
	}
	ids := func() string {
		l, err := s.OpenAlerts()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range l {
			out = append(out, a.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(); got != "p,o" {
		t.Errorf("open alerts: got %s, want p,o", got)
	}
	sent := alerts[0]
	sent.Status = accordwatch.AlertSent
	if err := s.UpdateAlert(sent); err != nil {
		t.Fatal(err)
	}
	summarised := alerts[1]
	summarised.Status = accordwatch.AlertSent
	if _, err := s.SaveAlerts([]accordwatch.Alert{{ID: "sum", Created: now.Add(3 * time.Second)}}, []accordwatch.Alert{summarised}); err != nil {
		t.Fatal(err)
	}
	if got := ids(); got != "sum" {
		t.Errorf("after send and summary: got %s, want sum", got)
	}
	// A store written before the index existed gets it built on open.
	s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketOpenAlerts) })
	s.Close()
	if s, _ = Open(path, Options{}); s == nil {
		t.Fatal("reopen failed")
	}
	defer s.Close()
	if got := ids(); got != "sum" {
		t.Errorf("after migration: got %s, want sum", got)
	}
}
