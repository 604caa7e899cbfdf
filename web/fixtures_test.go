package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

// fixedNow is the clock of the test index, so since: clauses are stable.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Hostile feed content: markup in the title, a script URL as the link,
// Slack mention syntax in the text.
const (
	hostileTitle = `<script>alert(1)</script> Cisco <img src=x onerror=alert(2)>`
	hostileLink  = `javascript:alert(3)`
)

func ev(tag, field, match string, offset int, rule string) accordwatch.Evidence {
	return accordwatch.Evidence{Tag: tag, Field: field, Match: match, Offset: offset, Rule: rule}
}

// pageItems are a few realistic items and one hostile one.
func pageItems() []accordwatch.Item {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 30, 0, 0, time.UTC) }
	return []accordwatch.Item{
		{
			ID: "apt28-ms", FeedName: "Microsoft Security Blog", FeedURL: "https://ms.example/feed",
			Title:     "Microsoft disrupts APT28 phishing campaign against European ministries",
			Link:      "https://ms.example/blog/apt28-disruption",
			Text:      "Microsoft said the Russian espionage group APT28 sent phishing emails to foreign ministries. Microsoft took down the domains with partners.",
			Published: day(24),
			Tags: accordwatch.Tags{
				Signatories: []string{"Microsoft"}, Roles: map[string]string{"Microsoft": "responder"},
				StateLinked: true, States: []string{"Russia"},
				Attribution: []accordwatch.Attribution{{State: "Russia", Strength: accordwatch.StrengthAttributed, By: "Microsoft"}},
				Actors:      []string{"APT28"}, AttackTypes: []string{"phishing", "espionage"},
				Principles: []accordwatch.Principle{accordwatch.NoOffense, accordwatch.CollectiveAction}, Severity: 82,
				Evidence: []accordwatch.Evidence{
					ev("signatory:Microsoft", "title", "Microsoft", 0, "signatory-name"),
					ev("actor:APT28", "title", "APT28", 20, "actor-alias"),
					ev("state:Russia", "text", "Russian espionage group APT28", 19, "actor-state"),
					ev("attack:phishing", "title", "phishing", 26, "attack-keyword"),
					ev("principle:collective-action", "tags", "", -1, "takedown-with-partners"),
					ev("severity:+30", "tags", "", -1, "state-linked"),
				},
			},
		},
		{
			ID: "volt-water", FeedName: "CISA Advisories", FeedURL: "https://cisa.example/feed",
			Title:     "Volt Typhoon prepositioned in US water utilities, CISA and Microsoft warn",
			Link:      "https://cisa.example/advisories/volt-typhoon",
			Text:      "The Chinese espionage actor Volt Typhoon kept access to water utility networks for months, Microsoft researchers reported.",
			Published: day(22),
			Tags: accordwatch.Tags{
				Signatories: []string{"Microsoft"}, Roles: map[string]string{"Microsoft": "reporter"},
				StateLinked: true, States: []string{"China"},
				Attribution: []accordwatch.Attribution{{State: "China", Strength: accordwatch.StrengthLinked, By: "CISA"}},
				Actors:      []string{"Volt Typhoon"}, AttackTypes: []string{"espionage"},
				Principles: []accordwatch.Principle{accordwatch.StrongerDefense}, Severity: 75,
				Evidence: []accordwatch.Evidence{
					ev("actor:Volt Typhoon", "title", "Volt Typhoon", 0, "actor-name"),
					ev("signatory:Microsoft", "title", "Microsoft", 58, "signatory-name"),
				},
			},
		},
		{
			ID: "hospital-ransom", FeedName: "BleepingComputer", FeedURL: "https://bc.example/feed",
			Title:     "Hospital chain hit by ransomware after Cisco VPN flaw exploited",
			Link:      "https://bc.example/news/hospital-ransomware",
			Text:      "A ransomware gang encrypted patient systems at a hospital chain after exploiting an unpatched Cisco VPN appliance.",
			Published: day(21),
			Tags: accordwatch.Tags{
				Signatories: []string{"Cisco"}, Roles: map[string]string{"Cisco": "vendor"},
				AttackTypes: []string{"ransomware", "vulnerability"}, Principles: []accordwatch.Principle{accordwatch.StrongerDefense}, Severity: 65,
				Evidence: []accordwatch.Evidence{ev("signatory:Cisco", "title", "Cisco", 39, "signatory-name"), ev("attack:ransomware", "title", "ransomware", 25, "attack-keyword")},
			},
		},
		{
			ID: "lazarus-crypto", FeedName: "The Record", FeedURL: "https://record.example/feed",
			Title:     "Lazarus Group linked to $40m crypto exchange theft",
			Link:      "https://record.example/lazarus-exchange",
			Text:      "Investigators tied the theft to North Korea's Lazarus Group.",
			Published: day(20),
			Tags: accordwatch.Tags{
				StateLinked: true, States: []string{"North Korea"}, Actors: []string{"Lazarus Group"},
				AttackTypes: []string{"fraud"}, Severity: 55,
				Evidence: []accordwatch.Evidence{ev("actor:Lazarus Group", "title", "Lazarus Group", 0, "actor-name")},
			},
		},
		{
			ID: "hostile", FeedName: `Evil <b>Feed</b>`, FeedURL: "https://evil.example/feed",
			Title:     hostileTitle,
			Link:      hostileLink,
			Text:      "<!channel> Cisco patches a flaw <script>alert(4)</script> \"quoted\" & more.",
			Published: day(23),
			Tags: accordwatch.Tags{
				Signatories: []string{"Cisco"}, AttackTypes: []string{"vulnerability"}, Severity: 30,
				Evidence: []accordwatch.Evidence{ev("signatory:Cisco", "title", "Cisco", 26, "<b>signatory-name</b>")},
			},
		},
	}
}

type mapItemStore map[string]accordwatch.Item

func (m mapItemStore) Item(id string) (accordwatch.Item, bool, error) {
	it, ok := m[id]
	return it, ok, nil
}

// newPageIndex builds a real on-disk index holding pageItems.
func newPageIndex(t testing.TB) (*index.Index, mapItemStore) {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	items := pageItems()
	if err := ix.Add(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	store := mapItemStore{}
	for _, it := range items {
		store[it.ID] = it
	}
	return ix, store
}

// newPageServer serves Handler over a real index with pageItems.
func newPageServer(t testing.TB, token string) *httptest.Server {
	t.Helper()
	ix, store := newPageIndex(t)
	srv := httptest.NewServer(Handler(Options{Searcher: ix, Items: store, Token: accordwatch.Secret(token), Version: "test"}))
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that reports redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
