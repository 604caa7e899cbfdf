package store

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

func TestCommitBatchIncidentsAndMembers(t *testing.T) {
	s, path := openTemp(t)
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	inc := accordwatch.Incident{ID: "inc1", Title: "APT28 breach", FirstSeen: t0, LastSeen: t0.Add(time.Hour), ItemIDs: []string{"a", "b"}, Severity: 80}
	old := accordwatch.Incident{ID: "inc0", Title: "old story", FirstSeen: t0.AddDate(0, 0, -30), LastSeen: t0.AddDate(0, 0, -30), ItemIDs: []string{"z"}}
	added, err := s.CommitBatch(Batch{
		Items:     []accordwatch.Item{{ID: "a", ContentHash: "1"}, {ID: "b", ContentHash: "2"}, {ID: "z", ContentHash: "3"}},
		Incidents: []accordwatch.Incident{inc, old},
		Members: []Member{{ItemID: "a", IncidentID: "inc1", Signature: json.RawMessage(`{"h":1}`)}, {ItemID: "b", IncidentID: "inc1", Signature: json.RawMessage(`{"h":2}`)},
			{ItemID: "z", IncidentID: "inc0", Signature: json.RawMessage(`{"h":3}`)}},
		Alerts: []accordwatch.Alert{{ID: "al1", ItemID: "a", IncidentID: "inc1", Kind: accordwatch.KindIncident, Created: t0}},
	})
	if err != nil || len(added) != 1 {
		t.Fatalf("got %d added, err %v", len(added), err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Incident("inc1")
	if err != nil || !ok || got.Title != "APT28 breach" || len(got.ItemIDs) != 2 {
		t.Errorf("incident: got %+v ok %v err %v", got, ok, err)
	}
	m, ok, _ := s.MemberOf("b")
	if !ok || m.IncidentID != "inc1" || string(m.Signature) != `{"h":2}` {
		t.Errorf("member: got %+v ok %v", m, ok)
	}
	var seen []string
	err = s.RecentMembers(t0.AddDate(0, 0, -3), func(i accordwatch.Incident, m Member) error {
		seen = append(seen, i.ID+"/"+m.ItemID)
		return nil
	})
	if err != nil || len(seen) != 2 || seen[0] != "inc1/a" {
		t.Errorf("recent members: got %v err %v, want inc1's two and not the month-old incident", seen, err)
	}
}

func TestThreadsAndSilences(t *testing.T) {
	s, _ := openTemp(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if _, ok, _ := s.Thread("#a", "inc1"); ok {
		t.Fatal("unknown thread reported")
	}
	if err := s.SetThread("#a", "inc1", Thread{Ref: "C1/1.1", LastPosted: now}); err != nil {
		t.Fatal(err)
	}
	if th, ok, _ := s.Thread("#a", "inc1"); !ok || th.Ref != "C1/1.1" {
		t.Errorf("thread: got %+v", th)
	}
	if _, ok, _ := s.Thread("#b", "inc1"); ok {
		t.Error("thread leaked across channels")
	}
	for i, sl := range []accordwatch.Silence{
		{ID: "s2", Query: "state:china", Created: now, Expires: now.Add(time.Hour)},
		{ID: "s1", Query: "actor:apt28", Created: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)},
	} {
		if err := s.AddSilence(sl); err != nil {
			t.Fatalf("silence %d: %v", i, err)
		}
	}
	if err := s.AddSilence(accordwatch.Silence{}); err == nil {
		t.Error("silence without ID accepted")
	}
	list, _ := s.Silences()
	if len(list) != 2 || list[0].ID != "s1" || !list[0].Active(now) {
		t.Errorf("silences: got %+v", list)
	}
	sl, ok, err := s.ExpireSilence("s1", now)
	if err != nil || !ok || sl.Active(now) {
		t.Errorf("expire: got %+v ok %v err %v", sl, ok, err)
	}
	if _, ok, _ := s.ExpireSilence("nope", now); ok {
		t.Error("expiring an unknown silence reported ok")
	}
}

func TestSingletons(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		batch []Batch
		since time.Time
		want  []string
	}{
		{
			name:  "oldest first, from since",
			batch: []Batch{{Singletons: []Singleton{{ItemID: "c", Time: t0.Add(2 * time.Hour)}, {ItemID: "a", Time: t0}, {ItemID: "b", Time: t0.Add(time.Hour)}}}},
			since: t0.Add(time.Hour),
			want:  []string{"b", "c"},
		},
		{
			name: "a later commit forgets what is before its bound and skips it",
			batch: []Batch{
				{Singletons: []Singleton{{ItemID: "a", Time: t0}, {ItemID: "b", Time: t0.Add(time.Hour)}}},
				{Singletons: []Singleton{{ItemID: "old", Time: t0.Add(-time.Hour)}, {ItemID: "c", Time: t0.Add(2 * time.Hour)}}, SingletonsSince: t0.Add(time.Hour)},
			},
			since: time.Time{},
			want:  []string{"b", "c"},
		},
		{
			name:  "none written",
			batch: []Batch{{Items: []accordwatch.Item{{ID: "a", ContentHash: "1"}}}},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path := openTemp(t)
			for i, b := range tt.batch {
				if _, err := s.CommitBatch(b); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
			}
			s.Close()
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got []string
			if err := s.RecentSingletons(tt.since, func(id string) error { got = append(got, id); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecentMembersImplicit(t *testing.T) {
	// The item an incident is named after has no member record; the
	// others have one without signature.
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	_, err := s.CommitBatch(Batch{
		Incidents: []accordwatch.Incident{{ID: "a", FirstSeen: t0, LastSeen: t0, ItemIDs: []string{"a", "b"}, Sources: 2}},
		Members:   []Member{{ItemID: "b", IncidentID: "a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.RecentMembers(t0, func(inc accordwatch.Incident, m Member) error {
		got = append(got, m.IncidentID+"/"+m.ItemID+"/"+string(m.Signature))
		return nil
	})
	if want := []string{"a/a/", "a/b/"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v err %v, want %v", got, err, want)
	}
}
