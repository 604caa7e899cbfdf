package accordwatch

import (
	"testing"
	"time"
)

func TestIncidentSourceCount(t *testing.T) {
	tests := []struct {
		inc  Incident
		want int
	}{
		{Incident{ItemIDs: []string{"a", "b"}}, 2},                               // written before Sources existed
		{Incident{ItemIDs: make([]string, MaxIncidentItems), Sources: 250}, 250}, // IDs capped, count goes on
		{Incident{ItemIDs: []string{"a"}, Sources: 1}, 1},
	}
	for _, tt := range tests {
		if got := tt.inc.SourceCount(); got != tt.want {
			t.Errorf("SourceCount() = %d, want %d", got, tt.want)
		}
	}
}

func TestSilenceActive(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := Silence{Created: t0, Expires: t0.Add(time.Hour)}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{{t0.Add(-time.Second), false}, {t0, true}, {t0.Add(59 * time.Minute), true}, {t0.Add(time.Hour), false}} {
		if got := s.Active(tt.at); got != tt.want {
			t.Errorf("Active(%s) = %v, want %v", tt.at.Format(time.TimeOnly), got, tt.want)
		}
	}
}
