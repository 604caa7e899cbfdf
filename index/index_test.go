package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accordwatch/accordwatch"
)

// testNow is the injected clock: since:7d means published >= 2026-02-24T12:00Z.
var testNow = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)

func day(s string, hour int) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Duration(hour) * time.Hour)
}

// testItems are ten realistic, hand-written items whose tags a classifier
// could have produced.
func testItems() []accordwatch.Item {
	type tags = accordwatch.Tags
	p := func(ps ...accordwatch.Principle) []accordwatch.Principle { return ps }
	return []accordwatch.Item{
		{ID: "a1", FeedName: "The Record", Link: "https://therecord.media/apt28-phishing",
			Title:     "Microsoft warns of APT28 phishing attack on European diplomats",
			Text:      "Microsoft Threat Intelligence said the Russian military intelligence unit known as Forest Blizzard sent credential phishing emails to embassies.",
			Published: day("2026-01-10", 9),
			Tags: tags{Signatories: []string{"Microsoft"}, States: []string{"Russia"}, Actors: []string{"APT28"}, StateLinked: true,
				AttackTypes: []string{"phishing", "espionage"}, Principles: p(accordwatch.NoOffense, accordwatch.StrongerDefense), Severity: 80}},
		{ID: "a2", FeedName: "BleepingComputer", Link: "https://www.bleepingcomputer.com/news/lockbit-hospital",
			Title:     "LockBit ransomware hits hospital chain",
			Text:      "The LockBit ransomware gang encrypted systems at a regional hospital chain and threatens to leak patient data.",
			Published: day("2026-01-15", 14),
			Tags:      tags{AttackTypes: []string{"ransomware"}, Principles: p(accordwatch.StrongerDefense), Severity: 60}},
		{ID: "a3", FeedName: "The Record", Link: "https://therecord.media/lazarus-crypto",
			Title:     "Lazarus Group steals $300 million from crypto exchange",
			Text:      "Investigators tied the theft to North Korea's Lazarus Group, which laundered the funds through mixers.",
			Published: day("2026-01-20", 8),
			Tags: tags{Companies: []string{"Coinbase"}, States: []string{"North Korea"}, Actors: []string{"Lazarus Group"}, StateLinked: true,
				AttackTypes: []string{"fraud"}, Principles: p(accordwatch.NoOffense), Severity: 75}},
		{ID: "a4", FeedName: "CISA", Link: "https://www.cisa.gov/volt-typhoon-water",
			Title:     "Volt Typhoon targets US water utilities",
			Text:      "CISA and Microsoft describe how the China state-sponsored actor pre-positions on operational technology networks.",
			Published: day("2026-02-05", 16),
			Tags: tags{Signatories: []string{"Microsoft"}, States: []string{"China"}, Actors: []string{"Volt Typhoon"}, StateLinked: true,
				AttackTypes: []string{"espionage"}, Principles: p(accordwatch.NoOffense, accordwatch.CollectiveAction), Severity: 90}},
		{ID: "a5", FeedName: "BleepingComputer", Link: "https://www.bleepingcomputer.com/news/sharepoint-ransomware",
			Title:     "Ransomware operators linked to China exploit SharePoint flaw",
			Text:      "Microsoft says a China-based group deploys ransomware after exploiting on-premises SharePoint servers; ransomware payloads followed within hours.",
			Published: day("2026-02-10", 11),
			Tags: tags{Signatories: []string{"Microsoft"}, States: []string{"China"}, StateLinked: true,
				AttackTypes: []string{"ransomware", "vulnerability"}, Principles: p(accordwatch.NoOffense, accordwatch.StrongerDefense), Severity: 85}},
		{ID: "a6", FeedName: "SecurityWeek", Link: "https://www.securityweek.com/cisco-firewall",
			Title:     "Cisco patches critical firewall vulnerability",
			Text:      "Cisco released updates for its Adaptive Security Appliance after researchers reported a remote code execution bug.",
			Published: day("2026-02-12", 15),
			Tags: tags{Signatories: []string{"Cisco"}, AttackTypes: []string{"vulnerability"},
				Principles: p(accordwatch.StrongerDefense), Severity: 50}},
		{ID: "a7", FeedName: "Europol", Link: "https://www.europol.europa.eu/botnet-takedown",
			Title:     "Europol takes down botnet with help from industry",
			Text:      "Law enforcement from six countries dismantled the botnet's servers with support from Microsoft and ESET.",
			Published: day("2026-02-20", 10),
			Tags: tags{Signatories: []string{"Microsoft", "ESET"}, AttackTypes: []string{"takedown"},
				Principles: p(accordwatch.CollectiveAction), Severity: 30}},
		{ID: "a8", FeedName: "SecurityWeek", Link: "https://www.securityweek.com/npm-supply-chain",
			Title:     "Supply chain attack poisons popular npm packages",
			Text:      "Attackers published malicious versions of widely used packages in a supply chain compromise that stole developer tokens.",
			Published: day("2026-02-25", 9),
			Tags:      tags{AttackTypes: []string{"supply-chain"}, Principles: p(accordwatch.StrongerDefense), Severity: 65}},
		{ID: "a9", FeedName: "The Record", Link: "https://therecord.media/sandworm-wiper",
			Title:     "Sandworm wiper attacks Ukrainian grid",
			Text:      "ESET researchers found a new wiper used by Sandworm against an energy company; the wiper erased substations' control servers.",
			Published: day("2026-03-01", 7),
			Tags: tags{Signatories: []string{"ESET"}, States: []string{"Russia"}, Actors: []string{"Sandworm"}, StateLinked: true,
				AttackTypes: []string{"wiper"}, Principles: p(accordwatch.NoOffense, accordwatch.CapacityBuilding), Severity: 95}},
		{ID: "a10", FeedName: "Microsoft Security Blog", Link: "https://www.microsoft.com/security/blog/password-spray",
			Title:     "Guidance for defending against password spray",
			Text:      "Microsoft publishes detection queries and hardening steps for password spray campaigns, and notes a wiper seen after some intrusions.",
			Published: day("2026-03-02", 18),
			Tags: tags{Signatories: []string{"Microsoft"}, AttackTypes: []string{"not-an-attack"},
				Principles: p(accordwatch.CapacityBuilding), Severity: 20}},
	}
}

// testResolve is a tiny alias table standing in for the classifier's.
func testResolve(field, value string) (string, bool) {
	aliases := map[string]map[string]string{
		"actor": {"fancy bear": "APT28", "forest blizzard": "APT28", "apt28": "APT28"},
		"state": {"dprk": "North Korea", "north korea": "North Korea", "russia": "Russia", "prc": "China"},
	}
	canon, ok := aliases[field][strings.ToLower(value)]
	return canon, ok
}

func testOptions() Options {
	return Options{Resolve: testResolve, Now: func() time.Time { return testNow }, OpenTimeout: 200 * time.Millisecond}
}

// openTestIndex opens a fresh index in a temp dir holding testItems.
func openTestIndex(t *testing.T) (*Index, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := ix.Add(context.Background(), testItems()); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return ix, dir
}

func hitIDs(res accordwatch.SearchResult) []string {
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids
}

func sorted(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func TestSearchQueries(t *testing.T) {
	ix, _ := openTestIndex(t)
	tests := []struct {
		q    string
		want []string // any order
	}{
		// The mapping is in use: "attacks" is stemmed by the en analyzer
		// and finds a title that says "attack".
		{"title:attacks", []string{"a1", "a8", "a9"}},
		{"attacks", []string{"a1", "a8", "a9"}},
		{"signatory:microsoft", []string{"a1", "a10", "a4", "a5", "a7"}},
		{"signatory:Microsoft", []string{"a1", "a10", "a4", "a5", "a7"}},
		{"signatory:MICROSOFT", []string{"a1", "a10", "a4", "a5", "a7"}},
		{"company:coinbase", []string{"a3"}},
		{"state:russia", []string{"a1", "a9"}},
		{"state:dprk", []string{"a3"}},
		{`state:"north korea"`, []string{"a3"}},
		{`actor:"fancy bear"`, []string{"a1"}},
		{`actor:"Fancy Bear"`, []string{"a1"}},
		{`actor:"lazarus group"`, []string{"a3"}}, // unknown to Resolve: searched as typed
		{"attack:ransomware", []string{"a2", "a5"}},
		{"principle:collective-action", []string{"a4", "a7"}},
		{`feed:"the record"`, []string{"a1", "a3", "a9"}},
		{"ransomware", []string{"a2", "a5"}},
		{"ransomware AND NOT state:china", []string{"a2"}},
		{"ransomware -state:china", []string{"a2"}},
		{"the ransomware", []string{"a2", "a5"}}, // stop word ignored, not match-none
		{"(lazarus OR sandworm) grid", []string{"a9"}},
		{"lazarus OR sandworm grid", []string{"a3", "a9"}},
		{"severity:>=70", []string{"a1", "a3", "a4", "a5", "a9"}},
		{"severity:>80", []string{"a4", "a5", "a9"}},
		{"severity:<=30", []string{"a10", "a7"}},
		{"severity:[40 TO 60]", []string{"a2", "a6"}},
		{"severity:{50 TO 60]", []string{"a2"}},
		{"severity:65", []string{"a8"}},
		{"published:[2026-02-01 TO 2026-02-12]", []string{"a4", "a5", "a6"}},
		{"published:{2026-02-05 TO 2026-02-12}", []string{"a5"}},
		{"published:>=2026-03-01", []string{"a10", "a9"}},
		{"published:2026-02-10", []string{"a5"}},
		{"published:<2026-01-15", []string{"a1"}},
		{"since:7d", []string{"a10", "a8", "a9"}},
		{"since:24h", []string{"a10"}},
		{"since:2w", []string{"a10", "a7", "a8", "a9"}},
		{"since:2026-02-20", []string{"a10", "a7", "a8", "a9"}},
		{"state_linked:true", []string{"a1", "a3", "a4", "a5", "a9"}},
		{"state_linked:false", []string{"a10", "a2", "a6", "a7", "a8"}},
		{"NOT state_linked:true", []string{"a10", "a2", "a6", "a7", "a8"}},
		{"NOT state_linked:true NOT signatory:microsoft", []string{"a2", "a6", "a8"}},
		{`"supply chain"`, []string{"a8"}},
		{`title:"supply chain"`, []string{"a8"}},
		{`"chain supply"`, nil},
		{`text:"hospital chain"`, []string{"a2"}},
		{"state:russia AND signatory:microsoft AND NOT attack:ddos since:60d", []string{"a1"}},
		{"state:russia OR state:china signatory:eset", []string{"a1", "a9"}},
		{"the", nil},
		{"", []string{"a1", "a10", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: tt.q, Size: 50})
			if err != nil {
				t.Fatalf("Search(%q): %v", tt.q, err)
			}
			got := sorted(hitIDs(res))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Search(%q) ids (-want +got):\n%s", tt.q, diff)
			}
			if res.Total != uint64(len(got)) {
				t.Errorf("Search(%q) Total = %d, want %d", tt.q, res.Total, len(got))
			}
		})
	}
}

func TestSearchHitFields(t *testing.T) {
	ix, _ := openTestIndex(t)
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "state:russia phishing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 {
		t.Fatalf("got %d hits, want 1", len(res.Hits))
	}
	want := accordwatch.SearchHit{
		ID: "a1", Title: "Microsoft warns of APT28 phishing attack on European diplomats",
		Link: "https://therecord.media/apt28-phishing", Feed: "The Record",
		Published: day("2026-01-10", 9), Severity: 80,
		Signatories: []string{"Microsoft"}, States: []string{"Russia"}, Actors: []string{"APT28"},
		AttackTypes: []string{"phishing", "espionage"}, Principles: []string{"no-offense", "stronger-defense"},
	}
	got := res.Hits[0]
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(accordwatch.SearchHit{}, "Score", "Snippet")); diff != "" {
		t.Errorf("hit (-want +got):\n%s", diff)
	}
	if got.Score <= 0 {
		t.Errorf("got score %v, want > 0 for a free-text match", got.Score)
	}
	if res.Query != "state:russia phishing" {
		t.Errorf("got Query %q, want the request's", res.Query)
	}
}

func TestSearchSnippet(t *testing.T) {
	ix, _ := openTestIndex(t)
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "hospitals"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 {
		t.Fatalf("got %d hits, want 1", len(res.Hits))
	}
	s := res.Hits[0].Snippet
	mark := accordwatch.HighlightStart + "hospital" + accordwatch.HighlightEnd
	if !strings.Contains(s, mark) {
		t.Errorf("got snippet %q, want it to contain %q", s, mark)
	}
	if strings.Contains(s, "<mark>") || strings.Contains(s, "&") {
		t.Errorf("got snippet %q, want plain text without HTML", s)
	}
}

func TestSearchSort(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	tests := []struct {
		name string
		req  accordwatch.SearchRequest
		want []string // exact order
	}{
		{"default newest without free text", accordwatch.SearchRequest{Query: "signatory:microsoft"}, []string{"a10", "a7", "a5", "a4", "a1"}},
		{"explicit newest", accordwatch.SearchRequest{Query: "wiper", Sort: accordwatch.SortNewest}, []string{"a10", "a9"}},
		// a9 says "wiper" in its title and twice in its text; a10 once.
		{"default relevance with free text", accordwatch.SearchRequest{Query: "wiper"}, []string{"a9", "a10"}},
		{"explicit relevance", accordwatch.SearchRequest{Query: "wiper", Sort: accordwatch.SortRelevance}, []string{"a9", "a10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, hitIDs(res)); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchPaging(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	var got []string
	for from := 0; from < 10; from += 3 {
		res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "", Size: 3, From: from})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 10 {
			t.Errorf("from %d: got Total %d, want 10", from, res.Total)
		}
		if n := len(res.Hits); n > 3 {
			t.Errorf("from %d: got %d hits, want at most 3", from, n)
		}
		got = append(got, hitIDs(res)...)
	}
	want := []string{"a10", "a9", "a8", "a7", "a6", "a5", "a4", "a3", "a2", "a1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestSearchFacets(t *testing.T) {
	ix, _ := openTestIndex(t)
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]accordwatch.FacetCount{
		"signatory": {fc("Microsoft", 5), fc("ESET", 2), fc("Cisco", 1)},
		"state":     {fc("China", 2), fc("Russia", 2), fc("North Korea", 1)},
		"actor":     {fc("APT28", 1), fc("Lazarus Group", 1), fc("Sandworm", 1), fc("Volt Typhoon", 1)},
		"attack": {fc("espionage", 2), fc("ransomware", 2), fc("vulnerability", 2), fc("fraud", 1), fc("not-an-attack", 1),
			fc("phishing", 1), fc("supply-chain", 1), fc("takedown", 1), fc("wiper", 1)},
		"principle": {fc("no-offense", 5), fc("stronger-defense", 5), fc("capacity-building", 2), fc("collective-action", 2)},
		"feed": {fc("BleepingComputer", 2), fc("SecurityWeek", 2), fc("The Record", 3), fc("CISA", 1), fc("Europol", 1),
			fc("Microsoft Security Blog", 1)},
		// One item a day, over three monthly partitions.
		"day": {fc("2026-01-10", 1), fc("2026-01-15", 1), fc("2026-01-20", 1), fc("2026-02-05", 1), fc("2026-02-10", 1),
			fc("2026-02-12", 1), fc("2026-02-20", 1), fc("2026-02-25", 1), fc("2026-03-01", 1), fc("2026-03-02", 1)},
	}
	// bleve orders equal counts by term; compare as count-then-value sets.
	norm := cmpopts.SortSlices(func(a, b accordwatch.FacetCount) bool {
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Value < b.Value
	})
	if diff := cmp.Diff(want, res.Facets, norm); diff != "" {
		t.Errorf("facets (-want +got):\n%s", diff)
	}
	for name, counts := range res.Facets {
		if name == "day" {
			if !slices.IsSortedFunc(counts, func(a, b accordwatch.FacetCount) int { return strings.Compare(a.Value, b.Value) }) {
				t.Errorf("facet day = %v, want date order", counts)
			}
			continue
		}
		if !slices.IsSortedFunc(counts, func(a, b accordwatch.FacetCount) int { return b.Count - a.Count }) {
			t.Errorf("facet %s = %v, want descending counts", name, counts)
		}
	}
	// Facets follow the query.
	res, err = ix.Search(context.Background(), accordwatch.SearchRequest{Query: "state:russia"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]accordwatch.FacetCount{fc("APT28", 1), fc("Sandworm", 1)}, res.Facets["actor"], norm); diff != "" {
		t.Errorf("actor facet for state:russia (-want +got):\n%s", diff)
	}
}

func fc(v string, n int) accordwatch.FacetCount { return accordwatch.FacetCount{Value: v, Count: n} }

func TestSearchErrors(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	_, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "(ransomware"})
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got error %v, want *ParseError", err)
	}
	if pe.Pos != 12 {
		t.Errorf("got column %d, want 12", pe.Pos)
	}
	_, err = ix.Search(ctx, accordwatch.SearchRequest{Query: "x", Sort: "oldest"})
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("got error %v, want ErrBadRequest", err)
	}
}

func TestSearchSize(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	items := make([]accordwatch.Item, 1205)
	for i := range items {
		items[i] = accordwatch.Item{ID: "id" + strconv.Itoa(i), Title: "item", Published: testNow}
	}
	if err := ix.Add(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ size, want int }{{0, DefaultSize}, {-5, DefaultSize}, {7, 7}, {5000, MaxSize}}
	for _, tt := range tests {
		res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "item", Size: tt.size})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != tt.want || res.Total != 1205 {
			t.Errorf("Size %d: got %d hits of %d, want %d of 1205", tt.size, len(res.Hits), res.Total, tt.want)
		}
	}
}

func TestMatching(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	tests := []struct {
		q    string
		ids  []string
		want []string
	}{
		{"state:russia", []string{"a9", "a2", "a1", "missing"}, []string{"a9", "a1"}},
		{"state:russia", []string{"a2", "a3"}, nil},
		{"state:russia", nil, nil},
		{"NOT state_linked:true", []string{"a1", "a2", "a8"}, []string{"a2", "a8"}},
		{"", []string{"a3", "a3", "a4"}, []string{"a3", "a4"}},
		{"ransomware severity:>=80", []string{"a2", "a5", "a9"}, []string{"a5"}},
	}
	for _, tt := range tests {
		t.Run(tt.q+" "+strings.Join(tt.ids, ","), func(t *testing.T) {
			got, err := ix.Matching(ctx, tt.q, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Matching(%q, %v) (-want +got):\n%s", tt.q, tt.ids, diff)
			}
		})
	}
	if _, err := ix.Matching(ctx, "state:", []string{"a1"}); err == nil {
		t.Error("Matching with a bad query: got nil error, want *ParseError")
	}
}

func TestAddReplaces(t *testing.T) {
	ix, _ := openTestIndex(t)
	ctx := context.Background()
	changed := testItems()[0]
	changed.Title = "Microsoft updates guidance on APT28 credential harvesting"
	if err := ix.Add(ctx, []accordwatch.Item{changed}); err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 10 {
		t.Errorf("Count = %d, %v; want 10", n, err)
	}
	for q, want := range map[string][]string{
		"title:harvesting": {"a1"},
		"title:diplomats":  nil,
		"state:russia":     {"a1", "a9"},
	} {
		res, err := ix.Search(ctx, accordwatch.SearchRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, sorted(hitIDs(res)), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("after re-add, %s (-want +got):\n%s", q, diff)
		}
	}
	if err := ix.Add(ctx, []accordwatch.Item{{Title: "no id"}}); err == nil {
		t.Error("Add of an item without ID: got nil error")
	}
}

func TestReopen(t *testing.T) {
	ix, dir := openTestIndex(t)
	if !ix.Rebuilt() {
		t.Error("new index: got Rebuilt false, want true (caller must fill it)")
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix2, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer ix2.Close()
	if ix2.Rebuilt() {
		t.Error("reopen: got Rebuilt true, want false")
	}
	if n, err := ix2.Count(); err != nil || n != 10 {
		t.Errorf("reopen: Count = %d, %v; want 10", n, err)
	}
	res, err := ix2.Search(context.Background(), accordwatch.SearchRequest{Query: "state:dprk"})
	if err != nil || len(res.Hits) != 1 {
		t.Errorf("reopen: state:dprk got %v, %v; want 1 hit", hitIDs(res), err)
	}
}

func TestOpenLocked(t *testing.T) {
	_, dir := openTestIndex(t)
	// The first index stays open; the second Open must give up after
	// OpenTimeout instead of blocking on the file lock forever.
	ix2, err := Open(dir, testOptions())
	if err == nil {
		ix2.Close()
		t.Fatal("second Open: got nil error, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: got %v, want ErrLocked", err)
	}
	if want := "index " + dir + " is in use by another process"; err.Error() != want {
		t.Errorf("got message %q, want %q", err.Error(), want)
	}
	if matches, _ := filepath.Glob(dir + ".corrupt-*"); len(matches) != 0 {
		t.Errorf("a locked index was moved aside: %v", matches)
	}
}

func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"garbage meta", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "index_meta.json"), "\x00\x01not json")
		}},
		{"garbage files", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "index_meta.json"), `{"storage":"scorch","index_type":"scorch"}`)
			writeFile(t, filepath.Join(dir, "store", "root.bolt"), strings.Repeat("garbage!", 1000))
			writeFile(t, filepath.Join(dir, "store", "000000000001.zap"), "garbage")
		}},
		{"a file, not a directory", func(t *testing.T, dir string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "garbage")
		}},
		{"index without our mapping version", func(t *testing.T, dir string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			bi, err := bleve.NewUsing(dir, bleve.NewIndexMapping(), scorch.Name, scorch.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := bi.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			ix, err := Open(dir, testOptions())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer ix.Close()
			if !ix.Rebuilt() {
				t.Error("got Rebuilt false, want true")
			}
			aside := dir + ".corrupt-" + strconv.FormatInt(testNow.Unix(), 10)
			if _, err := os.Stat(aside); err != nil {
				t.Errorf("old index not moved aside to %s: %v", aside, err)
			}
			if n, err := ix.Count(); err != nil || n != 0 {
				t.Errorf("Count = %d, %v; want 0", n, err)
			}
			if err := ix.Add(context.Background(), testItems()[:2]); err != nil {
				t.Fatalf("Add to rebuilt index: %v", err)
			}
			if n, _ := ix.Count(); n != 2 {
				t.Errorf("Count after Add = %d, want 2", n)
			}
		})
	}
}

func TestOpenEmptyDir(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !ix.Rebuilt() {
		t.Error("got Rebuilt false for an empty directory, want true")
	}
	if matches, _ := filepath.Glob(dir + ".corrupt-*"); len(matches) != 0 {
		t.Errorf("an empty directory was moved aside: %v", matches)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
