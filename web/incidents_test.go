package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
)

// incidentFixture is a real bbolt store holding one incident of two
// reports (a1 first, b1 joined with the merge reason why) and a lone
// item c1.
func incidentFixture(t *testing.T, why string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	items := []accordwatch.Item{
		{ID: "a1", FeedName: "Outlet A", Title: "Port operator confirms ransomware attack", Published: t0, Fetched: t0},
		{ID: "b1", FeedName: "Outlet B", Title: "Ransomware stops port operator's cranes", Published: t0.Add(time.Hour), Fetched: t0.Add(time.Hour)},
		{ID: "c1", FeedName: "Outlet C", Title: "Unrelated story", Published: t0, Fetched: t0},
	}
	inc := accordwatch.Incident{ID: "a1", Title: items[0].Title, FirstSeen: t0, LastSeen: t0.Add(time.Hour), ItemIDs: []string{"a1", "b1"}, Sources: 2,
		Merges: []accordwatch.IncidentMerge{{ItemID: "b1", Score: 0.4, Threshold: 0.19, Specifics: 2, Reason: why}}}
	members := []store.Member{{ItemID: "b1", IncidentID: "a1"}}
	if _, err := st.CommitBatch(store.Batch{Items: items, Incidents: []accordwatch.Incident{inc}, Members: members}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestIncidentsAPI serves incidents from a real bbolt store: the list,
// one merged incident with its reports and merge records, an item's
// implicit one-report incident, an unknown ID, and the bearer token.
func TestIncidentsAPI(t *testing.T) {
	st := incidentFixture(t, "score 0.400")
	srv := httptest.NewServer(IncidentsHandler(st, "s3cret"))
	t.Cleanup(srv.Close)
	get := func(path, token string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	tests := []struct {
		name, path, token string
		status            int
		id                string // the incident answered
		reports, merges   int
	}{
		{"merged", "/api/incidents/a1", "s3cret", http.StatusOK, "a1", 2, 1},
		{"a later report's ID", "/api/incidents/b1", "s3cret", http.StatusOK, "a1", 2, 1},
		{"implicit singleton", "/api/incidents/c1", "s3cret", http.StatusOK, "c1", 1, 0},
		{"unknown", "/api/incidents/zz", "s3cret", http.StatusNotFound, "", 0, 0},
		{"no token", "/api/incidents/a1", "", http.StatusUnauthorized, "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d accordwatch.IncidentDetail
			if got := get(tc.path, tc.token, &d); got != tc.status {
				t.Fatalf("GET %s: got status %d, want %d", tc.path, got, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			if d.Incident.ID != tc.id || len(d.Items) != tc.reports || len(d.Incident.Merges) != tc.merges {
				t.Errorf("GET %s: got incident %s with %d reports and %d merges, want %s, %d, %d",
					tc.path, d.Incident.ID, len(d.Items), len(d.Incident.Merges), tc.id, tc.reports, tc.merges)
			}
		})
	}
	var list struct {
		Incidents []accordwatch.Incident `json:"incidents"`
	}
	if got := get("/api/incidents?limit=5", "s3cret", &list); got != http.StatusOK || len(list.Incidents) != 1 || list.Incidents[0].ID != "a1" {
		t.Errorf("GET /api/incidents: status %d, %d incidents; want 200 and [a1]", got, len(list.Incidents))
	}
	if got := get("/api/incidents?limit=0", "s3cret", nil); got != http.StatusBadRequest {
		t.Errorf("GET /api/incidents?limit=0: got status %d, want 400", got)
	}
}

// TestItemPageIncident shows an item's incident on its page from a real
// bbolt store: a later report says why it joined and links the first, the
// first says it came first, and a lone item has no incident block.
func TestItemPageIncident(t *testing.T) {
	st := incidentFixture(t, "score 0.400 = cosine 0.300 + 0.1 <ransomware>")
	srv := httptest.NewServer(Handler(Options{Searcher: &fixedSearcher{}, Items: st, Incidents: st}))
	t.Cleanup(srv.Close)
	page := func(path string) string {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		if _, err := io.Copy(&b, resp.Body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		return b.String()
	}
	later := page("/items/b1")
	for _, want := range []string{"<h2>Incident</h2>", "One of 2 reports", "Why it joined:", "score 0.400 = cosine 0.300", "&lt;ransomware&gt;", `href="/items/a1"`, "Port operator confirms ransomware attack"} {
		if !strings.Contains(later, want) {
			t.Errorf("later report page lacks %q", want)
		}
	}
	if first := page("/items/a1"); !strings.Contains(first, "This report came first") || !strings.Contains(first, `href="/items/b1"`) {
		t.Errorf("first report page does not say it came first or link the later report")
	}
	if lone := page("/items/c1"); strings.Contains(lone, "<h2>Incident</h2>") {
		t.Errorf("a lone item's page shows an incident block")
	}
}
