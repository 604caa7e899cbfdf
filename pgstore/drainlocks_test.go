package pgstore_test

import (
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/accordwatch/accordwatch/pgstore"
)

// TestDrainLocksOneHolderPerDestination: a destination's spellings are
// held by one process at a time; a process that cannot have them all
// gives back those it had; a closed handle frees its locks.
func TestDrainLocksOneHolderPerDestination(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	a, b := openWith(t, url, pgstore.Options{}).DrainLocks(), openWith(t, url, pgstore.Options{}).DrainLocks()
	steps := []struct {
		name  string
		l     *pgstore.DrainLocks
		group []string
		close *pgstore.DrainLocks
		want  bool
	}{
		{name: "A takes #alerts", l: a, group: []string{"#alerts"}, want: true},
		{name: "B cannot", l: b, group: []string{"#alerts"}, want: false},
		{name: "B takes the ID spelling alone", l: b, group: []string{"C0ALERTS"}, want: true},
		{name: "A learns the ID: both spellings, one held by B", l: a, group: []string{"C0ALERTS", "#alerts"}, want: false},
		{name: "A gave #alerts back, so B gets both", l: b, group: []string{"C0ALERTS", "#alerts"}, want: true},
		{name: "B holds them again and again", l: b, group: []string{"#alerts", "C0ALERTS"}, want: true},
		{name: "B dies; A takes both", close: b, l: a, group: []string{"C0ALERTS", "#alerts"}, want: true},
	}
	for _, s := range steps {
		if s.close != nil {
			s.close.Close()
		}
		got, err := s.l.Hold(t.Context(), s.group)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
}

// TestAlertClaims: one process posts an alert at a time; recording the
// outcome ends the claim; a sent alert cannot be claimed; a claim expires.
func TestAlertClaims(t *testing.T) {
	url := accordwatch.Secret(pgtest.Database(t))
	sa := openWith(t, url, pgstore.Options{AlertClaim: time.Hour})
	a, b := sa.DrainLocks(), openWith(t, url, pgstore.Options{AlertClaim: time.Hour}).DrainLocks()
	short := openWith(t, url, pgstore.Options{AlertClaim: time.Nanosecond}).DrainLocks()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	alert := func(id string) accordwatch.Alert {
		return accordwatch.Alert{ID: id, Channel: "#alerts", ItemID: "i-" + id, Rule: "r", Created: now, Status: accordwatch.AlertPending}
	}
	if _, err := sa.SaveAlerts([]accordwatch.Alert{alert("x"), alert("y")}, nil); err != nil {
		t.Fatal(err)
	}
	update := func(id string, status string) func() {
		return func() {
			al := alert(id)
			al.Status = status
			if err := sa.UpdateAlert(al); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name   string
		before func()
		l      *pgstore.DrainLocks
		id     string
		want   bool
	}{
		{name: "A claims x", l: a, id: "x", want: true},
		{name: "B cannot while A posts it", l: b, id: "x", want: false},
		{name: "A may claim it again", l: a, id: "x", want: true},
		{name: "A records a retry; B may claim it", before: update("x", accordwatch.AlertPending), l: b, id: "x", want: true},
		{name: "B records it sent; nobody claims it", before: update("x", accordwatch.AlertSent), l: a, id: "x", want: false},
		{name: "an unknown alert", l: a, id: "nope", want: false},
		{name: "a claim that expired", before: func() {
			if ok, err := short.Claim(t.Context(), "y"); !ok || err != nil {
				t.Fatalf("short claim: %v %v", ok, err)
			}
		}, l: b, id: "y", want: true},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		got, err := s.l.Claim(t.Context(), s.id)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
}

func openWith(t *testing.T, url accordwatch.Secret, o pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
