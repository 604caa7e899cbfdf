package incident

import (
	"strings"
	"testing"
	"time"
)

// The sentences below are invented for these tests; the companies are
// fictional.

func TestCompare(t *testing.T) {
	type report struct{ title, text string }
	tests := []struct {
		name   string
		a, b   report
		gap    time.Duration
		merged bool
		why    string // a substring the explanation must hold
	}{
		{
			"reworded report of one event",
			report{"Fabrikam confirms ransomware attack took 1,200 pharmacies offline", "The drugstore chain Fabrikam said a ransomware attack on its ordering servers shut prescription systems at about 1,200 pharmacies."},
			report{"Ransomware hits Fabrikam pharmacy chain, 1.2K stores offline", "Pharmacies run by Fabrikam could not fill prescriptions after ransomware encrypted the ordering servers."},
			3 * time.Hour, true, "fabrikam",
		},
		{
			"the same company, a different event",
			report{"Fabrikam confirms ransomware attack took 1,200 pharmacies offline", "The drugstore chain Fabrikam said a ransomware attack shut prescription systems."},
			report{"Fabrikam names new chief executive after record quarter", "Fabrikam's board appointed a new chief executive as sales rose."},
			3 * time.Hour, false, "",
		},
		{
			"the same CVE, reworded",
			report{"Northwind gateway flaw CVE-2031-2222 under active attack", "Attackers exploit CVE-2031-2222 in Northwind remote-access gateways."},
			report{"Patch now: exploitation of CVE-2031-2222 spreads", "Agencies told administrators to update Northwind appliances."},
			5 * time.Hour, true, "cve-2031-2222",
		},
		{
			"different CVEs of one vendor",
			report{"Northwind gateway flaw CVE-2031-2222 under active attack", "Attackers exploit a Northwind gateway flaw."},
			report{"Northwind fixes CVE-2031-3333 in gateway firmware", "A second Northwind gateway flaw was fixed."},
			5 * time.Hour, false, "different CVEs",
		},
		{
			"one template, two clients",
			report{"Notice: Quill & Partners investigates Zephyrwave Dental data breach claims", "Quill & Partners LLP is investigating claims on behalf of Zephyrwave Dental patients whose data was exposed."},
			report{"Notice: Quill & Partners investigates Brightmoor Credit data breach claims", "Quill & Partners LLP is investigating claims on behalf of Brightmoor Credit members whose data was exposed."},
			2 * time.Hour, false, "names only one side mentions",
		},
		{
			"the same story a week apart costs its score",
			report{"Fabrikam confirms ransomware attack took 1,200 pharmacies offline", "The drugstore chain Fabrikam said a ransomware attack shut 1,200 pharmacies."},
			report{"Ransomware hits Fabrikam pharmacy chain, 1.2K stores offline", "Pharmacies run by Fabrikam were offline."},
			7 * 24 * time.Hour, true, "apart",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := SignatureOf(item("https://a.example/1", tt.a.title, tt.a.text, t0))
			b := SignatureOf(item("https://b.example/2", tt.b.title, tt.b.text, t0.Add(tt.gap)))
			why, merged := Compare(b, a)
			if merged != tt.merged {
				t.Errorf("merged: got %v, want %v; %s", merged, tt.merged, why)
			}
			if !strings.Contains(why.String(), tt.why) {
				t.Errorf("explanation %q: want it to mention %q", why, tt.why)
			}
			if back, _ := Compare(a, b); abs(back.Score-why.Score) > 1e-9 {
				t.Errorf("Compare is not symmetric: %.4f one way, %.4f the other", why.Score, back.Score)
			}
		})
	}
}

func abs(x float64) float64 { return max(x, -x) }

func TestExplanationString(t *testing.T) {
	e := Explanation{Score: 0.31, Cosine: 0.2, CVE: "cve-2031-1", Anchors: 3, Gap: 30 * time.Hour, TimePenalty: 0.19, Corroboration: 2,
		Shared: []SharedTerm{{"fabrikam", 0.12}}, Numbers: []string{"1.2k"}, Attack: "ransomware"}
	got := e.String()
	for _, want := range []string{"score 0.310", "cosine 0.200", "CVE cve-2031-1", "30h0m0s apart (÷2: 3 specifics and the same attack)", "3 specifics", "fabrikam (0.120)", "numbers [1.2k]", "attack ransomware"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q: want %q in it", got, want)
		}
	}
	relief := Explanation{NameConflict: 0.1, Names: []string{"kering", "mcqueen"}, Subject: "gucci", NameRelief: true}.String()
	if want := "(×0.5: both headlines name gucci)"; !strings.Contains(relief, want) {
		t.Errorf("String() = %q: want %q in it", relief, want)
	}
	if got := (Explanation{Link: true, Score: 1}).String(); got != "same canonical link" {
		t.Errorf("String() for a link: got %q", got)
	}
}

// TestSubjectBonus: two headlines naming the same rare subject and the
// same kind of attack within subjectWindow earn subjectBonus; another
// attack type, or days apart, earn nothing.
func TestSubjectBonus(t *testing.T) {
	type report struct {
		title, text, attack string
	}
	breachA := report{"Hackers try to extort Zorvex over stolen customer files", "A group claims it took files from the ticketing firm Zorvex and demands payment.", "data-breach"}
	breachB := report{"Zorvex says intruders copied 80,000 passport scans", "The ticketing company Zorvex told users that identity documents were exposed.", "data-breach"}
	tests := []struct {
		name    string
		a, b    report
		gap     time.Duration
		subject string
	}{
		{"one breach told two ways", breachA, breachB, 6 * time.Hour, "zorvex"},
		{"another kind of story about the subject", breachA,
			report{"Zorvex says intruders copied 80,000 passport scans", "The ticketing company Zorvex told users that identity documents were exposed.", "fraud"},
			6 * time.Hour, ""},
		{"days apart", breachA, breachB, 60 * time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ia := item("https://a.example/1", tt.a.title, tt.a.text, t0)
			ia.Tags.AttackTypes = []string{tt.a.attack}
			ib := item("https://b.example/2", tt.b.title, tt.b.text, t0.Add(tt.gap))
			ib.Tags.AttackTypes = []string{tt.b.attack}
			why, _ := Compare(SignatureOf(ib), SignatureOf(ia))
			if why.Subject != tt.subject {
				t.Errorf("subject: got %q, want %q; %s", why.Subject, tt.subject, why)
			}
			bonus := why.Score - (why.Cosine - why.NameConflict - why.TimePenalty)
			if want := map[bool]float64{true: subjectBonus, false: 0}[tt.subject != ""]; abs(bonus-want) > 1e-9 {
				t.Errorf("bonus in the score: got %.3f, want %.3f; %s", bonus, want, why)
			}
		})
	}
}

// TestTemplateConflict: two headlines from one template that fill its
// slot with different names are different events however alike the
// rest; a slot reworded in ordinary words is not a conflict.
func TestTemplateConflict(t *testing.T) {
	notice := func(client string) (string, string) {
		return "Data breach alert: Quillon Harte LLP is investigating claims on behalf of " + client + " customers whose data may have been compromised",
			"Quillon Harte LLP is investigating claims on behalf of " + client + " customers after a data breach was reported."
	}
	tests := []struct {
		name     string
		a, b     [2]string
		template bool
	}{
		{"two clients", pair(notice("Central Harbor Credit Union")), pair(notice("Wendmoor & Associates")), true},
		{"one client told twice", pair(notice("Wendmoor & Associates")), pair(notice("Wendmoor & Associates")), false},
		{"a reworded slot",
			[2]string{"Pupils hacking their own schools for fun, watchdog warns", "A watchdog says pupils break into school systems for fun."},
			[2]string{"Children hacking their own schools for fun, watchdog warns", "Children break into school systems for fun, a watchdog says."},
			false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := SignatureOf(item("https://a.example/1", tt.a[0], tt.a[1], t0))
			b := SignatureOf(item("https://b.example/2", tt.b[0], tt.b[1], t0.Add(time.Hour)))
			why, merged := Compare(b, a)
			if got := why.Template != nil; got != tt.template {
				t.Errorf("template conflict: got %v, want %v; %s", got, tt.template, why)
			}
			if tt.template && merged {
				t.Errorf("merged despite the template conflict: %s", why)
			}
			if tt.template && !strings.Contains(why.String(), "share a template") {
				t.Errorf("explanation %q: want it to say the headlines share a template", why)
			}
		})
	}
}

func pair(a, b string) [2]string { return [2]string{a, b} }
