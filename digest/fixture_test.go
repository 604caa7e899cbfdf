package digest_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
	"github.com/accordwatch/accordwatch/index"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The fixture week: 2026-W47 in Brussels (CET, +01:00), Monday 16 to
// Sunday 22 November 2026. The digest is made on Monday 23 at 09:00.
var (
	brussels = mustZone("Europe/Brussels")
	fixedNow = time.Date(2026, 11, 23, 9, 0, 0, 0, brussels)
)

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

const hostileTitle = "<script>alert(1)</script> & <!channel>"

// at is a local Brussels time in November 2026.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, brussels).UTC()
}

type tagged struct {
	sigs, states, actors, attacks []string
	principles                    []accordwatch.Principle
	roles                         map[string]string
	sev                           int
}

func mkItem(id, feed, title, link string, published time.Time, tg tagged) accordwatch.Item {
	return accordwatch.Item{
		ID: id, FeedURL: "https://feeds.example.org/" + id, FeedName: feed, Link: link, Title: title,
		Text:      title + ". More details in the full report.",
		Published: published, Fetched: published.Add(10 * time.Minute),
		Tags: accordwatch.Tags{
			Signatories: tg.sigs, Roles: tg.roles, States: tg.states, StateLinked: len(tg.states) > 0,
			Actors: tg.actors, AttackTypes: tg.attacks, Principles: tg.principles, Severity: tg.sev,
		},
	}
}

// fixtureItems is a realistic week plus the four weeks before it (for the
// change, first-seen and quiet-signatory parts) and one item just after.
func fixtureItems() []accordwatch.Item {
	nd, no, cb, ca := accordwatch.StrongerDefense, accordwatch.NoOffense, accordwatch.CapacityBuilding, accordwatch.CollectiveAction
	P := func(ps ...accordwatch.Principle) []accordwatch.Principle { return ps }
	S := func(s ...string) []string { return s }
	items := []accordwatch.Item{
		// The week itself.
		mkItem("w47-guide", "Tech Accord News", "Tech Accord members publish a secure-by-design guide for SMEs",
			"https://techaccord.example.org/guide", at(16, 0, 30), // 00:30 local: Monday, though Sunday in UTC
			tagged{sigs: S("Microsoft", "Cisco"), attacks: S("policy"), principles: P(cb), sev: 10,
				roles: map[string]string{"Microsoft": "reporter", "Cisco": "reporter"}}),
		mkItem("w47-apt28", "Microsoft Security Blog", "Microsoft warns of APT28 spear-phishing against European ministries",
			"https://blogs.example.com/apt28-ministries?utm_x=1", at(17, 11, 0),
			tagged{sigs: S("Microsoft"), states: S("Russia"), actors: S("APT28"), attacks: S("phishing", "espionage"),
				principles: P(no, cb), sev: 88, roles: map[string]string{"Microsoft": "reporter"}}),
		mkItem("w47-cisco", "BleepingComputer", "Cisco patches actively exploited IOS XE flaw",
			"https://news.example.com/cisco-ios-xe", at(18, 9, 15),
			tagged{sigs: S("Cisco"), attacks: S("vulnerability"), principles: P(nd), sev: 76, roles: map[string]string{"Cisco": "vendor"}}),
		mkItem("w47-lazarus", "The Record", "Lazarus Group crypto heist hits exchange; ESET links it to North Korea",
			"https://news.example.com/lazarus-heist", at(19, 14, 0),
			tagged{sigs: S("ESET"), states: S("North Korea"), actors: S("Lazarus Group"), attacks: S("fraud"),
				principles: P(no), sev: 81, roles: map[string]string{"ESET": "reporter"}}),
		mkItem("w47-lumma", "SecurityWeek", "Europol and Microsoft take down Lumma stealer infrastructure",
			"https://news.example.com/lumma-takedown", at(19, 16, 30),
			tagged{sigs: S("Microsoft"), attacks: S("takedown"), principles: P(ca), sev: 55, roles: map[string]string{"Microsoft": "responder"}}),
		mkItem("w47-volt", "CISA Advisories", "Volt Typhoon pre-positioning in US water utilities, CISA says",
			"https://cisa.example.gov/volt-typhoon", at(20, 18, 0),
			tagged{states: S("China"), actors: S("Volt Typhoon"), attacks: S("espionage"), principles: P(no), sev: 92}),
		mkItem("w47-hostile", "Sketchy Feed", hostileTitle, "javascript:alert(1)", at(21, 12, 0),
			tagged{sigs: S("HP Inc."), attacks: S("data-breach"), principles: P(nd), sev: 40, roles: map[string]string{"HP Inc.": "victim"}}),
		mkItem("w47-storm", "Trend Micro Research", "Trend Micro tracks new China-linked group Storm-2077 targeting telecoms",
			"https://research.example.com/storm-2077", at(22, 23, 30), // Sunday 23:30 local: the week's last hour
			tagged{sigs: S("Trend Micro"), states: S("China"), actors: S("Storm-2077"), attacks: S("espionage"),
				principles: P(no, cb), sev: 60, roles: map[string]string{"Trend Micro": "reporter"}}),
		// Just after the week (Monday 00:30 local): not counted.
		mkItem("w48-after", "BleepingComputer", "Fortinet fixes FortiOS bug", "https://news.example.com/fortios",
			at(23, 0, 30), tagged{sigs: S("Fortinet"), attacks: S("vulnerability"), principles: P(nd), sev: 45}),
		// Weeks before: APT28, Lazarus and HP Inc. were seen already.
		mkItem("w46-apt28", "The Record", "APT28 phishing wave hits NATO suppliers", "https://news.example.com/apt28-nato",
			at(10, 10, 0), tagged{states: S("Russia"), actors: S("APT28"), attacks: S("phishing"), principles: P(no), sev: 70}),
		mkItem("w45-lazarus", "The Record", "Lazarus fake job offers target developers", "https://news.example.com/lazarus-jobs",
			at(4, 10, 0), tagged{states: S("North Korea"), actors: S("Lazarus Group"), attacks: S("phishing"), principles: P(no), sev: 65}),
		mkItem("w45-hp", "SecurityWeek", "HP Inc. printers firmware update", "https://news.example.com/hp-firmware",
			at(5, 10, 0), tagged{sigs: S("HP Inc.", "Microsoft", "Cisco", "ESET"), attacks: S("vulnerability"), principles: P(nd), sev: 30}),
		mkItem("w44-volt", "CISA Advisories", "Volt Typhoon advisory update", "https://cisa.example.gov/volt-update",
			time.Date(2026, 10, 28, 10, 0, 0, 0, time.UTC), tagged{states: S("China"), actors: S("Volt Typhoon"), attacks: S("espionage"), principles: P(no), sev: 85}),
	}
	// Palo Alto Networks: 13 items over the four weeks before (3.25 a
	// week), none in W47: a quiet signatory. Fortinet: 6, not busy enough.
	for i := range 13 {
		p := time.Date(2026, 10, 19, 12, 0, 0, 0, brussels).AddDate(0, 0, 2*i).UTC()
		items = append(items, mkItem(fmt.Sprintf("pan-%02d", i), "Palo Alto Unit 42", fmt.Sprintf("Unit 42 threat brief #%d", i+1),
			fmt.Sprintf("https://unit42.example.com/brief-%d", i+1), p,
			tagged{sigs: S("Palo Alto Networks"), attacks: S("vulnerability"), principles: P(cb), sev: 20 + i}))
	}
	for i := range 6 {
		p := time.Date(2026, 10, 20, 12, 0, 0, 0, brussels).AddDate(0, 0, 4*i).UTC()
		items = append(items, mkItem(fmt.Sprintf("ftnt-%02d", i), "BleepingComputer", fmt.Sprintf("Fortinet advisory %d", i+1),
			fmt.Sprintf("https://news.example.com/fortinet-%d", i+1), p,
			tagged{sigs: S("Fortinet"), attacks: S("vulnerability"), principles: P(nd), sev: 35}))
	}
	return items
}

// fixtureFeeds: one feed failing since mid-week, one healthy, one that
// failed long before the week and still fails, one disabled.
type fixtureFeeds []accordwatch.FeedHealth

func (f fixtureFeeds) FeedHealth() ([]accordwatch.FeedHealth, error) { return f, nil }

func feedsFixture() fixtureFeeds {
	return fixtureFeeds{
		{Feed: accordwatch.Feed{Name: "BleepingComputer", URL: "https://www.bleepingcomputer.com/feed/"},
			State: accordwatch.FeedState{LastAttempt: at(22, 12, 0), LastSuccess: at(22, 12, 0)}},
		{Feed: accordwatch.Feed{Name: "NCSC UK", URL: "https://www.ncsc.gov.uk/api/1/services/v1/all-rss-feed.xml"},
			State: accordwatch.FeedState{LastAttempt: at(22, 12, 0), LastSuccess: at(19, 6, 0), ConsecutiveFailures: 57,
				LastStatus: 503, LastError: "server error 503 <b>Service Unavailable</b>", UnhealthySince: at(19, 6, 15)}},
		{Feed: accordwatch.Feed{Name: "Old Blog", URL: "https://old.example.org/rss"},
			State: accordwatch.FeedState{LastAttempt: at(22, 20, 0), ConsecutiveFailures: 400, LastStatus: 410,
				LastError: "gone (410)", UnhealthySince: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}},
		{Feed: accordwatch.Feed{Name: "Disabled", URL: "https://off.example.org/rss", Disabled: true},
			State: accordwatch.FeedState{ConsecutiveFailures: 3, UnhealthySince: at(18, 0, 0)}},
	}
}

func sectionsFixture() []digest.Section {
	return []digest.Section{
		{Name: "Russia watch", Query: "state:russia"},
		{Name: "Microsoft in the news", Query: "signatory:microsoft"},
		{Name: "Wipers", Query: "attack:wiper"}, // empty this week
	}
}

// openIndex creates a real on-disk index in a temp dir holding items.
func openIndex(t testing.TB, items []accordwatch.Item) *index.Index {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if len(items) > 0 {
		if err := ix.Add(context.Background(), items); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

func fixtureOptions(base string) digest.Options {
	return digest.Options{Now: func() time.Time { return fixedNow }, Location: brussels, BaseURL: base, Sections: sectionsFixture()}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", name, firstDiff(string(got), string(want)))
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	gl, wl := splitLines(got), splitLines(want)
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, g, w)
		}
	}
	return "(no line differs)"
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
