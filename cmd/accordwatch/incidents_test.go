package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/internal/pgtest"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

// TestPrintIncidentGolden renders `incidents show` for the shapes an
// incident takes: merged by similarity (with a CVE bonus and a time
// penalty), merged by link, with merge records dropped, and alone.
func TestPrintIncidentGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	items := []accordwatch.IncidentItem{
		{ID: "a1", Title: "Fabrikam confirms ransomware attack took 1,200 pharmacies offline", Feed: "Outlet A", Published: t0},
		{ID: "b1", Title: "Ransomware hits Fabrikam pharmacy chain, 1.2K stores offline", Feed: "Outlet B", Published: t0.Add(40 * time.Minute)},
		{ID: "c1", Title: "Fabrikam pharmacies: the same story, syndicated", Feed: "Outlet C", Published: t0.Add(26 * time.Hour)},
	}
	merged := accordwatch.Incident{
		ID: "a1", Title: items[0].Title, Link: "https://outlet-a.example/news/a1",
		FirstSeen: t0, LastSeen: t0.Add(26 * time.Hour), ItemIDs: []string{"a1", "b1", "c1"}, Sources: 3, Severity: 72,
		Merges: []accordwatch.IncidentMerge{
			{ItemID: "b1", Title: items[1].Title, At: items[1].Published, Score: 0.661, Threshold: 0.19, Cosine: 0.261,
				Bonus: 0.4, Specifics: 5, CVE: "cve-2026-10001", Attack: "ransomware", Subject: "fabrikam", Numbers: []string{"1.2k"},
				Shared: []accordwatch.MergeTerm{{Term: "fabrikam", Weight: 0.203}, {Term: "pharmacy", Weight: 0.031}},
				Reason: "score 0.661 = cosine 0.261 + 0.3 CVE cve-2026-10001 + 0.1 ransomware attack on fabrikam named in both headlines; 5 specifics"},
			{ItemID: "c1", Title: items[2].Title, At: items[2].Published, Link: true, Score: 1, Threshold: 0.19,
				Reason: "same canonical link"},
		},
	}
	many := merged
	many.Sources = 40
	alone := accordwatch.Incident{ID: "d1", Title: "Northwind names new chief executive", FirstSeen: t0, LastSeen: t0,
		ItemIDs: []string{"d1"}, Sources: 1}
	tests := []struct {
		name string
		d    accordwatch.IncidentDetail
	}{
		{"incident_show_merged.golden", accordwatch.IncidentDetail{Incident: merged, Items: items}},
		{"incident_show_truncated.golden", accordwatch.IncidentDetail{Incident: many, Items: items}},
		{"incident_show_alone.golden", accordwatch.IncidentDetail{Incident: alone,
			Items: []accordwatch.IncidentItem{{ID: "d1", Title: alone.Title, Published: t0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printIncident(&b, tc.d); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

// incidentsCLI runs `incidents` and `incidents show` on a finished run's
// store and checks that the merged incident says why each report
// joined; it returns the incident's ID.
func incidentsCLI(t *testing.T, env map[string]string, cfg string, reports int) string {
	t.Helper()
	code, out, errOut := run(t, env, "", "incidents", "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("incidents --json: exit %d\n%s%s", code, out, errOut)
	}
	var list struct {
		Incidents []accordwatch.Incident `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("incidents --json: %v\n%s", err, out)
	}
	if len(list.Incidents) != 1 || list.Incidents[0].SourceCount() != reports {
		t.Fatalf("incidents --json: got %d incidents, want 1 with %d reports:\n%s", len(list.Incidents), reports, out)
	}
	inc := list.Incidents[0]
	if len(inc.Merges) != reports-1 {
		t.Errorf("merge records: got %d, want %d", len(inc.Merges), reports-1)
	}
	for _, m := range inc.Merges {
		if m.Link || m.Score < m.Threshold || m.Threshold <= 0 || m.Specifics < 2 || len(m.Shared) == 0 || m.Reason == "" {
			t.Errorf("merge of %s: got %+v, want a score at or above a positive threshold with shared specifics", m.ItemID, m)
		}
	}
	code, out, errOut = run(t, env, "", "incidents", "show", inc.ID, "--config", cfg)
	if code != 0 {
		t.Fatalf("incidents show: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"incident " + inc.ID, "why each report joined:", "≥ threshold", "shared: terms "} {
		if !strings.Contains(out, want) {
			t.Errorf("incidents show: missing %q in:\n%s", want, out)
		}
	}
	if code, _, errOut := run(t, env, "", "incidents", "show", "no-such-incident", "--config", cfg); code == 0 || !strings.Contains(errOut, "no incident or item") {
		t.Errorf("incidents show of an unknown ID: exit %d, stderr %q; want an error naming it", code, errOut)
	}
	return inc.ID
}

// TestIncidentsOnPostgreSQL: with ACCORDWATCH_DATABASE_URL set, three
// reworded reports of one event are stored as one incident whose merge
// records `incidents` and `incidents show` read back from the database.
func TestIncidentsOnPostgreSQL(t *testing.T) {
	feeds := incidentFeeds(t)
	env := map[string]string{envDatabaseURL: pgtest.Database(t)}
	cfg := writeConfig(t, t.TempDir(), incidentConfig(feeds.URL))
	if code, out, errOut := run(t, env, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	incidentsCLI(t, env, cfg, 3)
}
