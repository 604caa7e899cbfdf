package digest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
	"github.com/accordwatch/accordwatch/index"
)

func TestWeekRange(t *testing.T) {
	tests := []struct {
		week     string
		loc      *time.Location
		from, to time.Time
		err      bool
	}{
		{"2026-W47", brussels, time.Date(2026, 11, 16, 0, 0, 0, 0, brussels), time.Date(2026, 11, 23, 0, 0, 0, 0, brussels), false},
		{"2026-W01", time.UTC, time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), false},
		{"2026-W53", time.UTC, time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), false},
		// The week of the spring DST change is 167 hours but 7 days.
		{"2026-W13", brussels, time.Date(2026, 3, 23, 0, 0, 0, 0, brussels), time.Date(2026, 3, 30, 0, 0, 0, 0, brussels), false},
		{"2025-W53", time.UTC, time.Time{}, time.Time{}, true}, // 2025 has 52 weeks
		{"2026-W00", time.UTC, time.Time{}, time.Time{}, true},
		{"2026W47", time.UTC, time.Time{}, time.Time{}, true},
		{"2026-W4", time.UTC, time.Time{}, time.Time{}, true},
		{"", time.UTC, time.Time{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.week, func(t *testing.T) {
			from, to, err := digest.WeekRange(tt.week, tt.loc)
			if (err != nil) != tt.err {
				t.Fatalf("got err %v, want error %v", err, tt.err)
			}
			if !from.Equal(tt.from) || !to.Equal(tt.to) {
				t.Errorf("got [%s, %s), want [%s, %s)", from, to, tt.from, tt.to)
			}
			if !tt.err && digest.WeekName(from, tt.loc) != tt.week {
				t.Errorf("WeekName(from): got %s, want %s", digest.WeekName(from, tt.loc), tt.week)
			}
		})
	}
}

func TestPreviousWeek(t *testing.T) {
	tests := []struct {
		now  time.Time
		want string
	}{
		{fixedNow, "2026-W47"},
		{time.Date(2026, 11, 23, 0, 0, 0, 0, brussels), "2026-W47"},
		{time.Date(2026, 11, 22, 23, 59, 0, 0, brussels), "2026-W46"},
		// Sunday 23:30 UTC is already Monday in Brussels.
		{time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), "2026-W47"},
		{time.Date(2027, 1, 1, 12, 0, 0, 0, brussels), "2026-W52"},
	}
	for _, tt := range tests {
		t.Run(tt.now.String(), func(t *testing.T) {
			week, from, to := digest.PreviousWeek(tt.now, brussels)
			if week != tt.want {
				t.Errorf("got %s, want %s", week, tt.want)
			}
			if f, tw, _ := digest.WeekRange(tt.want, brussels); !from.Equal(f) || !to.Equal(tw) {
				t.Errorf("range: got [%s, %s), want [%s, %s)", from, to, f, tw)
			}
		})
	}
}

func buildFixture(t *testing.T, base string) (*digest.Report, *index.Index) {
	t.Helper()
	ix := openIndex(t, fixtureItems())
	r, err := digest.Build(context.Background(), ix, feedsFixture(), time.Time{}, time.Time{}, fixtureOptions(base))
	if err != nil {
		t.Fatal(err)
	}
	return r, ix
}

func names(cs []digest.Count) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+"="+itoa(c.N))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBuildFixtureWeek(t *testing.T) {
	r, _ := buildFixture(t, "https://accord.example.org/")
	if r.Week != "2026-W47" || r.Title != "2026-W47" {
		t.Errorf("week, title: got %q, %q, want 2026-W47 twice", r.Week, r.Title)
	}
	// 8 items in the local week: the Monday 00:30 and Sunday 23:30 ones
	// count, the next Monday's does not.
	if r.Total.N != 8 {
		t.Errorf("total: got %d, want 8", r.Total.N)
	}
	// W46: APT28 on the 10th, two Unit 42 briefs, one Fortinet advisory.
	if r.Previous.N != 4 {
		t.Errorf("previous: got %d, want 4", r.Previous.N)
	}
	if got, want := r.ChangeText(), "up 4 (+100%) from 4 before"; got != want {
		t.Errorf("change: got %q, want %q", got, want)
	}
	checks := []struct {
		name string
		got  []string
		want []string
	}{
		{"principles", names(r.ByPrinciple), []string{"stronger-defense=2", "no-offense=4", "capacity-building=3", "collective-action=1"}},
		{"states", names(r.ByState), []string{"China=2", "North Korea=1", "Russia=1"}},
		{"signatories", names(r.BySignatory), []string{"Microsoft=3", "Cisco=2", "ESET=1", "HP Inc.=1", "Trend Micro=1"}},
		{"attacks", names(r.ByAttack)[:1], []string{"espionage=3"}},
		{"new actors", names(r.NewActors), []string{"Storm-2077=1"}},
		{"new signatories", names(r.NewSignatories), []string{"Trend Micro=1"}},
		{"daily", names(r.Daily), []string{"2026-11-16=1", "2026-11-17=1", "2026-11-18=1", "2026-11-19=2", "2026-11-20=1", "2026-11-21=1", "2026-11-22=1"}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(r.Quiet) != 1 || r.Quiet[0].Name != "Palo Alto Networks" || r.Quiet[0].PerWeek != 3.25 {
		t.Errorf("quiet: got %+v, want Palo Alto Networks at 3.25 a week", r.Quiet)
	}
	var top []string
	for _, in := range r.TopIncidents {
		top = append(top, in.ID)
	}
	if want := []string{"w47-volt", "w47-apt28", "w47-lazarus", "w47-cisco", "w47-storm", "w47-lumma", "w47-hostile", "w47-guide"}; !slices.Equal(top, want) {
		t.Errorf("top incidents: got %v, want %v", top, want)
	}
	for _, in := range r.TopIncidents {
		if in.ID == "w47-hostile" && in.Link != "" {
			t.Errorf("hostile javascript: link kept: %q", in.Link)
		}
		if in.ID == "w47-apt28" && !slices.Contains(in.Why, "actor: APT28") {
			t.Errorf("why of w47-apt28: got %v, want it to name actor: APT28", in.Why)
		}
	}
	var feeds []string
	for _, f := range r.UnhealthyFeeds {
		feeds = append(feeds, f.Name)
	}
	if want := []string{"Old Blog", "NCSC UK"}; !slices.Equal(feeds, want) {
		t.Errorf("unhealthy feeds: got %v, want %v", feeds, want)
	}
	var secs []string
	for _, s := range r.Sections {
		secs = append(secs, s.Name+"="+itoa(s.Count.N)+"/"+itoa(len(s.Hits))+s.Error)
	}
	if want := []string{"Russia watch=1/1", "Microsoft in the news=3/3", "Wipers=0/0"}; !slices.Equal(secs, want) {
		t.Errorf("sections: got %v, want %v", secs, want)
	}
	if !strings.HasPrefix(r.Total.Link, "https://accord.example.org/?q=published%3A%5B2026-11-16T00%3A00%3A00%2B01%3A00") {
		t.Errorf("total link: got %q, want the base URL's search for the week", r.Total.Link)
	}
}

// TestCountsReproduce runs every count's query against the index: the
// number shown must be the number the search finds.
func TestCountsReproduce(t *testing.T) {
	r, ix := buildFixture(t, "")
	all := []digest.Count{r.Total, r.Previous}
	for _, l := range [][]digest.Count{r.ByPrinciple, r.ByState, r.ByActor, r.BySignatory, r.ByAttack, r.Daily, r.NewActors, r.NewSignatories} {
		all = append(all, l...)
	}
	for _, q := range r.Quiet {
		all = append(all, q.Before, q.Now)
	}
	for _, s := range r.Sections {
		all = append(all, s.Count)
	}
	for _, c := range all {
		res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: c.Query, Size: 1})
		if err != nil {
			t.Errorf("%s: %v", c.Query, err)
			continue
		}
		if int(res.Total) != c.N {
			t.Errorf("%s: got %d from the index, report says %d", c.Query, res.Total, c.N)
		}
		if c.Link != "" {
			t.Errorf("%s: link %q without a base URL", c.Query, c.Link)
		}
	}
}

func TestGoldenRenderings(t *testing.T) {
	r, _ := buildFixture(t, "https://accord.example.org")
	for _, f := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"week.md.golden", func(b *bytes.Buffer) error { return r.Markdown(b) }},
		{"week.html.golden", func(b *bytes.Buffer) error { return r.HTML(b) }},
		// notify's Block Kit golden test reads this one.
		{"week.json.golden", func(b *bytes.Buffer) error { return r.JSON(b) }},
	} {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.render(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, f.name, b.Bytes())
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r, _ := buildFixture(t, "https://accord.example.org")
	var b bytes.Buffer
	if err := r.JSON(&b); err != nil {
		t.Fatal(err)
	}
	var back digest.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	var md1, md2 bytes.Buffer
	r.Markdown(&md1)
	back.Markdown(&md2)
	if md1.String() != md2.String() {
		t.Errorf("Markdown of the decoded report differs:\n%s", firstDiff(md2.String(), md1.String()))
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	r, _ := buildFixture(t, "https://accord.example.org")
	var html, md bytes.Buffer
	if err := r.HTML(&html); err != nil {
		t.Fatal(err)
	}
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "javascript:", "<!channel>", "<b>Service"} {
		if strings.Contains(html.String(), bad) {
			t.Errorf("HTML contains %q", bad)
		}
		// Markdown shows them backslash-escaped (\<script).
		if strings.Contains(strings.ReplaceAll(md.String(), `\<`, ""), bad) {
			t.Errorf("Markdown contains %q unescaped", bad)
		}
	}
	if !strings.Contains(html.String(), "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;") {
		t.Errorf("HTML does not show the hostile title escaped")
	}
	if !strings.Contains(md.String(), `\<script\>alert(1)\</script\> \& \<\!channel\>`) {
		t.Errorf("Markdown does not show the hostile title escaped")
	}
}

func TestEmptyWeek(t *testing.T) {
	tests := []struct {
		name  string
		items []accordwatch.Item
	}{
		{"empty index", nil},
		// Only items outside the week.
		{"other weeks only", fixtureItems()[8:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := openIndex(t, tt.items)
			r, err := digest.Build(context.Background(), ix, nil, time.Time{}, time.Time{}, fixtureOptions(""))
			if err != nil {
				t.Fatalf("Build: got %v, want a report", err)
			}
			if !r.Empty() {
				t.Fatalf("Empty: got false (total %d), want true", r.Total.N)
			}
			var md, html, js bytes.Buffer
			if err := r.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := r.HTML(&html); err != nil {
				t.Fatal(err)
			}
			if err := r.JSON(&js); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(md.String(), "No incidents matched this week") || !strings.Contains(html.String(), "No incidents matched this week") {
				t.Errorf("no friendly line:\n%s", md.String())
			}
			if n := strings.Count(md.String(), "\n"); n > 12 {
				t.Errorf("empty Markdown digest: got %d lines, want a short one:\n%s", n, md.String())
			}
			if strings.Contains(html.String(), "<svg") {
				t.Errorf("empty HTML digest has charts")
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		ix := openIndex(t, nil)
		r, err := digest.Build(context.Background(), ix, nil, time.Time{}, time.Time{}, fixtureOptions(""))
		if err != nil {
			t.Fatal(err)
		}
		var md bytes.Buffer
		if err := r.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		golden(t, "empty.md.golden", md.Bytes())
	})
}

func TestBuildErrors(t *testing.T) {
	ix := openIndex(t, nil)
	from := time.Date(2026, 11, 16, 0, 0, 0, 0, brussels)
	tests := []struct {
		name     string
		from, to time.Time
		o        digest.Options
	}{
		{"end before start", from, from.Add(-time.Hour), fixtureOptions("")},
		{"empty range", from, from, fixtureOptions("")},
		{"base URL not http", from, from.AddDate(0, 0, 7), fixtureOptions("javascript:alert(1)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := digest.Build(context.Background(), ix, nil, tt.from, tt.to, tt.o); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestBadSectionQueryIsReportedNotFatal(t *testing.T) {
	ix := openIndex(t, fixtureItems())
	o := fixtureOptions("")
	o.Sections = []digest.Section{{Name: "Broken", Query: "severity:>="}, {Name: "Fine", Query: "state:china"}}
	r, err := digest.Build(context.Background(), ix, nil, time.Time{}, time.Time{}, o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if r.Sections[0].Error == "" {
		t.Errorf("broken section: got no error")
	}
	if r.Sections[1].Error != "" || r.Sections[1].Count.N != 2 {
		t.Errorf("fine section: got %+v, want 2 hits", r.Sections[1])
	}
}

func TestCustomRange(t *testing.T) {
	ix := openIndex(t, fixtureItems())
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, brussels)
	to := time.Date(2026, 12, 1, 0, 0, 0, 0, brussels)
	r, err := digest.Build(context.Background(), ix, nil, from, to, fixtureOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if r.Week != "" || r.Title != "2026-11-01 – 2026-11-30" {
		t.Errorf("week, title: got %q, %q, want \"\", \"2026-11-01 – 2026-11-30\"", r.Week, r.Title)
	}
	if len(r.Daily) != 30 {
		t.Errorf("daily: got %d days, want 30", len(r.Daily))
	}
	// The previous range is the 30 days before.
	if want := "published:[2026-10-02T00:00:00+02:00 TO 2026-11-01T00:00:00+01:00}"; r.Previous.Query != want {
		t.Errorf("previous query: got %q, want %q", r.Previous.Query, want)
	}
}

func TestParseRange(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, brussels) }
	tests := []struct {
		week, from, to string
		wantFrom       time.Time
		wantTo         time.Time
		err            bool
	}{
		{"2026-W47", "", "", d(11, 16), d(11, 23), false},
		{"", "", "", d(11, 16), d(11, 23), false}, // previous week of fixedNow
		{"", "2026-11-01", "2026-11-30", d(11, 1), d(12, 1), false},
		{"", "2026-11-01", "", d(11, 1), d(11, 8), false},
		{"", "", "2026-11-22", d(11, 16), d(11, 23), false},
		{"", "2026-11-22", "2026-11-22", d(11, 22), d(11, 23), false},
		{"2026-W47", "2026-11-01", "", time.Time{}, time.Time{}, true},
		{"", "2026-11-30", "2026-11-01", time.Time{}, time.Time{}, true},
		{"", "yesterday", "", time.Time{}, time.Time{}, true},
		{"W47", "", "", time.Time{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.week+"|"+tt.from+"|"+tt.to, func(t *testing.T) {
			f, to, err := digest.ParseRange(tt.week, tt.from, tt.to, fixedNow, brussels)
			if (err != nil) != tt.err {
				t.Fatalf("got err %v, want error %v", err, tt.err)
			}
			if !tt.err && (!f.Equal(tt.wantFrom) || !to.Equal(tt.wantTo)) {
				t.Errorf("got [%s, %s), want [%s, %s)", f, to, tt.wantFrom, tt.wantTo)
			}
		})
	}
}
