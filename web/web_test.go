package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

type mapItems map[string]accordwatch.Item

func (m mapItems) Item(id string) (accordwatch.Item, bool, error) {
	it, ok := m[id]
	return it, ok, nil
}

func newServer(t *testing.T, token string) (*httptest.Server, mapItems) {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	items := mapItems{
		"a": {ID: "a", Title: "Microsoft disrupts Russian espionage campaign", Text: "APT28 targeted email.", Link: "https://n.example/a", FeedName: "News",
			Published: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			Tags:      accordwatch.Tags{Signatories: []string{"Microsoft"}, StateLinked: true, States: []string{"Russia"}, Actors: []string{"APT28"}, Severity: 80}},
		"b": {ID: "b", Title: "Hospital hit by ransomware", Text: "A ransomware gang encrypted files.", Link: "https://n.example/b", FeedName: "News",
			Published: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
			Tags:      accordwatch.Tags{AttackTypes: []string{"ransomware"}, Severity: 50}},
	}
	if err := ix.Add(t.Context(), []accordwatch.Item{items["a"], items["b"]}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(Options{Searcher: ix, Items: items, Token: accordwatch.Secret(token), Version: "test"}))
	t.Cleanup(srv.Close)
	return srv, items
}

func get(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	srv, _ := newServer(t, "")
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"healthz", "/healthz", 200, `"status": "ok"`},
		{"fielded search", "/api/search?q=" + url.QueryEscape("signatory:microsoft"), 200, "Microsoft disrupts"},
		{"free text", "/api/search?q=ransomware", 200, "Hospital hit"},
		{"since param", "/api/search?q=ransomware&since=1d", 200, `"total": 0`},
		{"bad query is a 400 with the column", "/api/search?q=" + url.QueryEscape("state:russia AND ("), 400, "column"},
		{"unknown field", "/api/search?q=" + url.QueryEscape("colour:red"), 400, "colour"},
		{"bad size", "/api/search?q=x&size=0", 400, "size"},
		{"bad sort", "/api/search?q=x&sort=oldest", 400, "sort"},
		{"bad page", "/api/search?q=x&page=-1", 400, "page"},
		{"item", "/api/items/a", 200, `"APT28"`},
		{"unknown item", "/api/items/zzz", 404, "no item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv.URL+tt.path, "")
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("GET %s: got %d %s, want %d containing %q", tt.path, status, body, tt.status, tt.contains)
			}
		})
	}
}

func TestSearchResultShape(t *testing.T) {
	srv, _ := newServer(t, "")
	_, body := get(t, srv.URL+"/api/search?q="+url.QueryEscape("state:russia"), "")
	var res accordwatch.SearchResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].ID != "a" || res.Hits[0].Link != "https://n.example/a" {
		t.Errorf("got %+v, want the one Russian item with its link", res)
	}
	if len(res.Facets["state"]) == 0 || res.Facets["state"][0].Value != "Russia" {
		t.Errorf("got facets %+v, want state Russia", res.Facets)
	}
}

// TestAPIFacetsParam: facets are counted unless the request says
// otherwise — all by default (the contract before facets= existed), none
// with facets=none, the listed ones with a list — and an unknown facet is
// a 400.
func TestAPIFacetsParam(t *testing.T) {
	srv, _ := newServer(t, "")
	// The Russian item has no attack type or principle: those facets are
	// empty and left out.
	all := []string{"actor", "day", "feed", "signatory", "state"}
	for _, tt := range []struct {
		params string
		want   []string
	}{
		{"", all},
		{"&facets=all", all},
		{"&facets=none", nil},
		{"&facets=" + url.QueryEscape("state,day"), []string{"day", "state"}},
	} {
		status, body := get(t, srv.URL+"/api/search?q="+url.QueryEscape("state:russia")+tt.params, "")
		if status != 200 {
			t.Fatalf("%s: got %d %s", tt.params, status, body)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &raw); err != nil {
			t.Fatal(err)
		}
		var res accordwatch.SearchResult
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		var got []string
		for name := range res.Facets {
			got = append(got, name)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: got facets %v, want %v", tt.params, got, tt.want)
		}
		if _, ok := raw["facets"]; ok != (tt.want != nil) {
			t.Errorf("%q: \"facets\" key present = %v, want %v", tt.params, ok, tt.want != nil)
		}
		if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].ID != "a" {
			t.Errorf("%q: got %d hits of %d, want the one Russian item whatever the facets", tt.params, len(res.Hits), res.Total)
		}
	}
	if status, body := get(t, srv.URL+"/api/search?q=x&facets=colour", ""); status != 400 || !strings.Contains(body, "colour") {
		t.Errorf("unknown facet: got %d %s, want 400 naming it", status, body)
	}
}

func TestBearerToken(t *testing.T) {
	srv, _ := newServer(t, "s3cret")
	if status, _ := get(t, srv.URL+"/api/search?q=x", ""); status != 401 {
		t.Errorf("no token: got %d, want 401", status)
	}
	if status, _ := get(t, srv.URL+"/api/search?q=x", "wrong"); status != 401 {
		t.Errorf("wrong token: got %d, want 401", status)
	}
	if status, _ := get(t, srv.URL+"/api/items/a", "s3cret"); status != 200 {
		t.Errorf("right token: got %d, want 200", status)
	}
	if status, _ := get(t, srv.URL+"/healthz", ""); status != 200 {
		t.Errorf("healthz needs no token: got %d", status)
	}
}

type fixedFeeds []accordwatch.FeedHealth

func (f fixedFeeds) FeedHealth() ([]accordwatch.FeedHealth, error) { return f, nil }

func TestFeedsAndMetricsEndpoints(t *testing.T) {
	h := Handler(Options{
		Feeds: fixedFeeds{{Feed: accordwatch.Feed{Name: "CISA", URL: "https://cisa.example/feed"}, State: accordwatch.FeedState{ConsecutiveFailures: 2, LastError: "HTTP 503 Service Unavailable"}}},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "accordwatch_feed_fetches_total{result=\"ok\"} 1\n")
		}),
		Token: "t0k",
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	status, body := get(t, srv.URL+"/api/feeds", "t0k")
	if status != 200 || !strings.Contains(body, "HTTP 503 Service Unavailable") || !strings.Contains(body, `"consecutive_failures": 2`) {
		t.Errorf("/api/feeds: got %d %s", status, body)
	}
	if status, _ := get(t, srv.URL+"/metrics", ""); status != 401 {
		t.Errorf("/metrics without token: got %d, want 401", status)
	}
	if status, body := get(t, srv.URL+"/metrics", "t0k"); status != 200 || !strings.Contains(body, "accordwatch_feed_fetches_total") {
		t.Errorf("/metrics: got %d %s", status, body)
	}
}

func TestAPIPagingSortingAndCursor(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var items []accordwatch.Item
	for i := range 7 {
		items = append(items, accordwatch.Item{ID: fmt.Sprintf("r%d", i), Title: fmt.Sprintf("Ransomware hits hospital %d", i),
			Text: "ransomware " + strings.Repeat("ransomware ", i), Link: "https://n.example/" + fmt.Sprint(i), FeedName: "News",
			Published: time.Date(2026, time.Month(5+i%3), 1+i, 0, 0, 0, 0, time.UTC),
			Tags:      accordwatch.Tags{AttackTypes: []string{"ransomware"}, Severity: 10 * i}})
	}
	if err := ix.Add(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(Options{Searcher: ix, Items: mapItems{}}))
	defer srv.Close()
	page := func(params string) accordwatch.SearchResult {
		t.Helper()
		status, body := get(t, srv.URL+"/api/search?"+params, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", params, status, body)
		}
		var res accordwatch.SearchResult
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	ids := func(res accordwatch.SearchResult) []string {
		var out []string
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	all := page("q=attack:ransomware&sort=newest&size=7")
	if all.Total != 7 || len(all.Hits) != 7 {
		t.Fatalf("got %d of %d", len(all.Hits), all.Total)
	}
	for i := 1; i < len(all.Hits); i++ {
		if all.Hits[i].Published.After(all.Hits[i-1].Published) {
			t.Errorf("newest first broken at %d: %v after %v", i, all.Hits[i].Published, all.Hits[i-1].Published)
		}
	}
	// page= and after= walk the same sequence as one big page.
	p2 := page("q=attack:ransomware&sort=newest&size=3&page=2")
	if got, want := strings.Join(ids(p2), ","), strings.Join(ids(all)[3:6], ","); got != want {
		t.Errorf("page 2: got %s, want %s", got, want)
	}
	var walked []string
	res := page("q=attack:ransomware&sort=newest&size=3")
	for {
		walked = append(walked, ids(res)...)
		if res.Next == "" {
			break
		}
		res = page("q=attack:ransomware&sort=newest&size=3&after=" + url.QueryEscape(res.Next))
	}
	if got, want := strings.Join(walked, ","), strings.Join(ids(all), ","); got != want {
		t.Errorf("cursor walk: got %s, want %s", got, want)
	}
	// Relevance orders by score, not date.
	rel := page("q=ransomware&sort=relevance&size=7")
	if len(rel.Hits) != 7 {
		t.Fatalf("relevance: got %d hits", len(rel.Hits))
	}
	for i := 1; i < len(rel.Hits); i++ {
		if rel.Hits[i].Score > rel.Hits[i-1].Score {
			t.Errorf("relevance order broken at %d: %v", i, ids(rel))
		}
	}
	if f := all.Facets["attack"]; len(f) != 1 || f[0].Value != "ransomware" || f[0].Count != 7 {
		t.Errorf("attack facet: got %+v", f)
	}
	if status, body := get(t, srv.URL+"/api/search?q=x&after=garbage", ""); status != 400 {
		t.Errorf("bad cursor: got %d %s, want 400", status, body)
	}
}

type memSilences struct{ l []accordwatch.Silence }

func (m *memSilences) AddSilence(s accordwatch.Silence) error   { m.l = append(m.l, s); return nil }
func (m *memSilences) Silences() ([]accordwatch.Silence, error) { return m.l, nil }
func (m *memSilences) ExpireSilence(id string, now time.Time) (accordwatch.Silence, bool, error) {
	return accordwatch.Silence{}, false, nil
}

func TestSilencesAPINeedsTheToken(t *testing.T) {
	srv := httptest.NewServer(SilencesHandler(&memSilences{}, "t0k"))
	defer srv.Close()
	if status, _ := get(t, srv.URL+"/api/silences", ""); status != 401 {
		t.Errorf("no token: got %d, want 401", status)
	}
	if status, body := get(t, srv.URL+"/api/silences", "t0k"); status != 200 || !strings.Contains(body, "silences") {
		t.Errorf("with token: got %d %s", status, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/silences/x/expire", nil)
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown silence: got %d, want 404", resp.StatusCode)
	}
}
