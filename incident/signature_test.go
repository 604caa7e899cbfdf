package incident

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2031, 2, 1, 12, 0, 0, 0, time.UTC)

// item is a test item: a headline, a lead and a time, with tags left
// empty unless the test sets them.
func item(link, title, text string, at time.Time) accordwatch.Item {
	return accordwatch.Item{Link: link, Title: title, Text: text, Published: at}
}

func sig(link, title string, at time.Time) Signature {
	return SignatureOf(item(link, title, "", at))
}

func TestSignatureOf(t *testing.T) {
	it := item("https://news.example/a/1",
		"Fabrikam patches CVE-2031-0001 in its VPN gateway | Example News",
		"Fabrikam said attackers chained CVE-2031-0001 with CVE-2031-0002 against Northwind customers. "+strings.Repeat("filler ", 80)+"CVE-2031-0099",
		t0)
	it.Tags.Actors = []string{"Example Spider"}
	it.Tags.AttackTypes = []string{"vulnerability", "espionage"}
	got := SignatureOf(it)
	if diff := cmp.Diff([]string{"cve-2031-0001"}, got.CVEs); diff != "" {
		t.Errorf("CVEs (headline only) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cve-2031-0002"}, got.LeadCVEs); diff != "" {
		t.Errorf("LeadCVEs (lead only, first %d bytes) mismatch (-want +got):\n%s", leadChars, diff)
	}
	if diff := cmp.Diff([]string{"fabrikam", "patch", "vpn", "gateway"}, got.Terms); diff != "" {
		t.Errorf("Terms (headline order, publisher dropped) mismatch (-want +got):\n%s", diff)
	}
	for _, want := range []string{"chain", "northwind", "spid"} {
		if !strings.Contains(strings.Join(got.Lead, " "), want) {
			t.Errorf("Lead %v: want %q (lead words and the tagger's actor names)", got.Lead, want)
		}
	}
	for _, h := range got.Terms {
		for _, l := range got.Lead {
			if h == l {
				t.Errorf("Lead repeats headline term %q", h)
			}
		}
	}
	if !strings.Contains(strings.Join(got.Names, " "), "fabrikam") {
		t.Errorf("Names %v: want fabrikam (a word the table does not know, written capitalised)", got.Names)
	}
	if diff := cmp.Diff([]string{"espionage", "vulnerability"}, got.Attacks); diff != "" {
		t.Errorf("Attacks mismatch (-want +got):\n%s", diff)
	}
	if again := SignatureOf(it); !cmp.Equal(got, again) {
		t.Errorf("SignatureOf is not deterministic: got %+v then %+v", got, again)
	}
	if s := SignatureOf(accordwatch.Item{Title: "x", Fetched: t0}); !s.Time.Equal(t0) {
		t.Errorf("Time of an undated item: got %v, want its fetch time %v", s.Time, t0)
	}
}

func TestArticleLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://news.example/2031/01/story": "https://news.example/2031/01/story",
		"https://news.example":               "",
		"https://news.example/":              "",
		"https://news.example/?p=12":         "https://news.example/?p=12",
		"not a url":                          "not a url",
	} {
		if got := articleLink(in); got != want {
			t.Errorf("articleLink(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestIsRoundup(t *testing.T) {
	tests := []struct {
		name        string
		title, link string
		want        bool
	}{
		{"weekly recap headline", "Weekly Recap: router flaws, a botnet takedown and a leak", "https://n.example/a", true},
		{"podcast directory", "Patch or perish.", "https://n.example/podcasts/daily/101/notes", true},
		{"newsletter directory", "Markets wobble, a retailer is breached", "https://n.example/news/newsletters/2031-02-01/x", true},
		{"live blog directory", "Shares fall; a retailer is breached", "https://n.example/business/live/2031/feb/01/x", true},
		{"one story", "Contoso confirms breach of its billing system", "https://n.example/c", false},
		{"numbered weekly column", "Weekly Update 312", "https://n.example/weekly-update-312/", true},
		{"the week in a beat", "The Week in Patches: two zero-days and a botnet", "https://n.example/e", true},
		{"a week inside a story", "Contoso outage enters its second week in Ohio", "https://n.example/f", false},
		{"a marker inside an article slug", "Podcast app flaw lets sites open episodes", "https://n.example/2031/podcast-app-flaw-opens-episodes/", true},
		{"a slug alone says nothing", "App flaw lets sites open episodes", "https://n.example/2031/podcast-app-flaw-opens-episodes/", false},
		{"word inside another word", "Briefings rooms and digestive plans", "https://n.example/d", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isRoundup(tt.title, tt.link); got != tt.want {
				t.Errorf("isRoundup: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSignatureJSONRoundTrip(t *testing.T) {
	s := SignatureOf(item("https://a.example/x", "Contoso CVE-2031-4444 exploited", "Contoso warned 12,000 customers.", t0))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back Signature
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	c := New(Options{})
	c.Add("inc", back)
	if id, _, ok := c.Match(SignatureOf(item("https://b.example/y", "Attackers exploit Contoso flaw CVE-2031-4444", "", t0))); !ok || id != "inc" {
		t.Errorf("match after round trip: got %q, %v, want inc, true", id, ok)
	}
}

// TestSignatureOfEarlierVersions checks that a signature stored by an
// earlier version (sorted headline terms and CVEs only) still matches a
// rewording of its story.
func TestSignatureOfEarlierVersions(t *testing.T) {
	var old Signature
	if err := json.Unmarshal([]byte(`{"link":"https://a.example/1","terms":["42k","contoso","leak","payroll","record","staff"],"cves":null,"time":"2031-02-01T12:00:00Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	c := New(Options{})
	c.Add("old", old)
	if id, _, ok := c.Match(sig("https://b.example/2", "Contoso leak exposes payroll records of 42,000 employees", t0.Add(time.Hour))); !ok || id != "old" {
		t.Errorf("Match against an earlier version's signature: got %q, %v, want old, true", id, ok)
	}
}
