package incident

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// The stories below are invented; the companies are fictional.
const (
	pharmacyTitle = "Fabrikam confirms ransomware attack took 1,200 pharmacies offline"
	pharmacyLead  = "The drugstore chain Fabrikam said a ransomware attack on its ordering servers shut prescription systems at about 1,200 pharmacies."
	reworded      = "Ransomware hits Fabrikam pharmacy chain, 1.2K stores offline"
	rewordedLead  = "Pharmacies run by Fabrikam could not fill prescriptions after ransomware encrypted the ordering servers."
)

func pharmacy(link string, at time.Time) Signature {
	return SignatureOf(item(link, pharmacyTitle, pharmacyLead, at))
}

func rewording(link string, at time.Time) Signature {
	return SignatureOf(item(link, reworded, rewordedLead, at))
}

func TestMatch(t *testing.T) {
	const link = "https://news.example/fabrikam"
	tests := []struct {
		name      string
		query     Signature
		wantID    string
		wantScore float64 // checked when 1 (link identity)
		wantOK    bool
	}{
		{"same link, unrelated title", sig(link, "Completely different words", t0.Add(time.Hour)), "fabrikam", 1, true},
		{"same link, outside window", sig(link, "edited", t0.Add(30*24*time.Hour)), "fabrikam", 1, true},
		{"reworded within window", rewording("https://other.example/1", t0.Add(48*time.Hour)), "fabrikam", 0, true},
		{"reworded after window", rewording("https://other.example/2", t0.Add(DefaultWindow+time.Hour)), "", 0, false},
		{"reworded long before incident", rewording("https://other.example/3", t0.Add(-DefaultWindow-time.Hour)), "", 0, false},
		{"same company, other event", SignatureOf(item("https://other.example/4", "Fabrikam names new chief executive", "Fabrikam's board picked a new leader.", t0)), "", 0, false},
		{"bare site root is no link", SignatureOf(item("https://news.example/", "Unrelated words entirely", "", t0)), "", 0, false},
		{"no link, no terms", Signature{Time: t0}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{})
			c.Add("fabrikam", pharmacy(link, t0))
			c.Add("root", SignatureOf(item("https://news.example/", "Northwind opens a new office", "", t0)))
			id, score, ok := c.Match(tt.query)
			if id != tt.wantID || ok != tt.wantOK {
				t.Fatalf("Match: got %q, %v (score %.2f), want %q, %v", id, ok, score, tt.wantID, tt.wantOK)
			}
			if tt.wantScore == 1 && score != 1 {
				t.Errorf("score: got %.2f, want 1 for a shared link", score)
			}
			if ok && tt.wantScore != 1 && score < DefaultThreshold {
				t.Errorf("score: got %.2f, want >= %.2f", score, DefaultThreshold)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	c := New(Options{})
	c.Add("fabrikam", pharmacy("https://a.example/1", t0))
	id, why, ok := c.Explain(rewording("https://b.example/2", t0.Add(2*time.Hour)))
	if !ok || id != "fabrikam" {
		t.Fatalf("Explain: got %q, %v, want fabrikam, true", id, ok)
	}
	if why.Score < DefaultThreshold || why.Anchors < minAnchors || len(why.Shared) == 0 || why.Shared[0].Term != "fabrikam" {
		t.Errorf("explanation: got %+v, want a score over the threshold, %d+ specifics, fabrikam weighing most", why, minAnchors)
	}
	if len(why.Numbers) != 1 || why.Numbers[0] != "1.2k" {
		t.Errorf("explanation numbers: got %v, want [1.2k]", why.Numbers)
	}
	if _, score, _ := c.Match(rewording("https://b.example/2", t0.Add(2*time.Hour))); score != why.Score {
		t.Errorf("Match and Explain disagree: %.4f vs %.4f", score, why.Score)
	}
}

func TestMatchPicksMostSimilar(t *testing.T) {
	c := New(Options{Threshold: 0.05})
	c.Add("generic", SignatureOf(item("", "Fabrikam ransomware attack", "Fabrikam was hit.", t0)))
	c.Add("specific", pharmacy("", t0))
	id, _, ok := c.Match(rewording("", t0))
	if !ok || id != "specific" {
		t.Errorf("Match: got %q, %v, want specific, true", id, ok)
	}
}

func TestMatchTieIsDeterministic(t *testing.T) {
	for range 20 {
		c := New(Options{})
		c.Add("b", pharmacy("", t0))
		c.Add("a", pharmacy("", t0))
		c.Add("c", pharmacy("", t0.Add(-time.Hour)))
		if id, _, _ := c.Match(rewording("", t0)); id != "a" {
			t.Fatalf("tie: got %q, want a (latest LastSeen, then smallest ID)", id)
		}
	}
}

func TestWindowFollowsNewestMember(t *testing.T) {
	c := New(Options{Window: 24 * time.Hour})
	c.Add("f", pharmacy("https://a.example/1", t0))
	late := rewording("https://b.example/2", t0.Add(40*time.Hour))
	if _, _, ok := c.Match(late); ok {
		t.Fatalf("Match 40h after the only member with a 24h window: got ok, want none")
	}
	c.Add("f", SignatureOf(item("https://c.example/3", "Fabrikam pharmacies still offline after ransomware", pharmacyLead, t0.Add(20*time.Hour))))
	if id, _, ok := c.Match(late); !ok || id != "f" {
		t.Errorf("Match 20h after the newest member: got %q, %v, want f, true", id, ok)
	}
}

func TestPrune(t *testing.T) {
	c := New(Options{Window: 72 * time.Hour})
	c.Add("old", pharmacy("https://a.example/old", t0))
	c.Add("old", rewording("https://a.example/old2", t0.Add(time.Hour)))
	c.Add("new", SignatureOf(item("https://a.example/new", "Northwind recalls 40,000 routers", "Northwind found a backdoor.", t0.Add(48*time.Hour))))
	if got := c.Len(); got != 2 {
		t.Fatalf("Len before prune: got %d, want 2", got)
	}
	c.Prune(t0.Add(73 * time.Hour)) // old's newest member is 72h old: kept
	if got := c.Len(); got != 2 {
		t.Fatalf("Len after prune at exactly the window: got %d, want 2", got)
	}
	c.Prune(t0.Add(74 * time.Hour))
	if got := c.Len(); got != 1 {
		t.Fatalf("Len after prune: got %d, want 1", got)
	}
	if id, _, ok := c.Match(sig("https://a.example/old", "x", t0.Add(74*time.Hour))); ok {
		t.Errorf("Match by pruned link: got %q, want none", id)
	}
	if id, _, ok := c.Match(rewording("", t0)); ok {
		t.Errorf("Match by pruned terms: got %q, want none", id)
	}
	for k, ps := range c.postings {
		for _, p := range ps {
			if c.slots[p.slot] == nil {
				t.Errorf("postings[%q] still holds a pruned incident", k)
			}
		}
	}
	if id, _, ok := c.Match(sig("https://a.example/new", "x", t0)); !ok || id != "new" {
		t.Errorf("Match surviving link: got %q, %v, want new, true", id, ok)
	}
}

func TestAddTwiceIsIdempotent(t *testing.T) {
	c := New(Options{})
	s := pharmacy("https://a.example/1", t0)
	c.Add("f", s)
	c.Add("f", s) // the monitor re-adds recent items at start
	if got := len(c.incidents["f"].members); got != 1 {
		t.Errorf("members after adding the same signature twice: got %d, want 1", got)
	}
	if got := len(c.postings["fabrikam"]); got != 1 {
		t.Errorf("postings after adding twice: got %d, want 1", got)
	}
}

func TestAssign(t *testing.T) {
	c := New(Options{})
	id, _, joined := c.Assign(pharmacy("https://a.example/1", t0), "i1")
	if id != "i1" || joined {
		t.Fatalf("first Assign: got %q, %v, want i1, false", id, joined)
	}
	id, _, joined = c.Assign(rewording("https://b.example/2", t0), "i2")
	if id != "i1" || !joined {
		t.Fatalf("second Assign: got %q, %v, want i1, true", id, joined)
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len: got %d, want 1", got)
	}
}

func TestMembersAreBounded(t *testing.T) {
	c := New(Options{})
	for i := range 3 * maxMembers {
		c.Add("f", SignatureOf(item(fmt.Sprintf("https://n%d.example/x", i), pharmacyTitle, pharmacyLead+fmt.Sprintf(" Update %d.", i), t0)))
	}
	inc := c.incidents["f"]
	if len(inc.members) != maxMembers {
		t.Fatalf("members: got %d, want %d", len(inc.members), maxMembers)
	}
	if inc.members[0].sig.Link != "https://n0.example/x" {
		t.Errorf("first member: got %s, want the incident's first report", inc.members[0].sig.Link)
	}
	if got := len(inc.links); got != 3*maxMembers {
		t.Errorf("links: got %d, want every report's link (%d)", got, 3*maxMembers)
	}
}

// TestRoundupDoesNotSwallow checks that a newsletter listing two stories
// joins neither and does not pull the second into the first's incident.
func TestRoundupDoesNotSwallow(t *testing.T) {
	c := New(Options{})
	story1 := pharmacy("https://a.example/1", t0)
	story2 := SignatureOf(item("https://a.example/2", "Northwind recalls 40,000 routers over hidden backdoor",
		"Northwind told customers to unplug 40,000 home routers after researchers found a backdoor.", t0.Add(time.Hour)))
	roundup := SignatureOf(item("https://b.example/newsletters/daily/2031-02-01",
		"Fabrikam pharmacies offline, Northwind router backdoor",
		"Fabrikam's 1,200 pharmacies are offline after ransomware. Northwind recalls 40,000 routers with a backdoor.", t0.Add(2*time.Hour)))
	if !roundup.Roundup {
		t.Fatalf("the newsletter is not seen as a roundup")
	}
	c.Assign(story1, "s1")
	if id, _, joined := c.Assign(roundup, "r"); joined {
		t.Errorf("roundup joined %q, want a singleton", id)
	}
	if id, _, joined := c.Assign(story2, "s2"); joined {
		t.Errorf("second story joined %q, want its own incident", id)
	}
	if id, _, ok := c.Match(SignatureOf(item("https://b.example/newsletters/daily/2031-02-01", "edited", "", t0.Add(3*time.Hour)))); !ok || id != "r" {
		t.Errorf("the roundup's own link: got %q, %v, want r, true", id, ok)
	}
}

// TestConcurrent exercises every method from many goroutines; run with
// -race. Assign of one story from all goroutines must yield one incident.
func TestConcurrent(t *testing.T) {
	c := New(Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				at := t0.Add(time.Duration(i) * time.Minute)
				c.Assign(pharmacy(fmt.Sprintf("https://g%d.example/%d", g, i), at), fmt.Sprintf("g%d-%d", g, i))
				c.Add(fmt.Sprintf("other-%d-%d", g, i), sig("", fmt.Sprintf("Company%dx%d reveals breach", g, i), at))
				c.Match(rewording("", at))
				c.Explain(rewording("", at))
				c.Len()
				if i%50 == 0 {
					c.Prune(at)
				}
			}
		}()
	}
	wg.Wait()
	stories := 0
	for id := range c.incidents {
		if !strings.HasPrefix(id, "other-") {
			stories++
		}
	}
	if stories != 1 {
		t.Errorf("incidents for one story assigned concurrently: got %d, want 1", stories)
	}
}

// TestMatchEqualsBruteForce checks that the inverted index never misses
// what scoring every live member would find.
func TestMatchEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rng, 1.1, 60, 3999)
	text := func(n int) string {
		var w []string
		for range n {
			w = append(w, fmt.Sprintf("w%dx", zipf.Uint64()))
		}
		if rng.IntN(8) == 0 {
			w = append(w, fmt.Sprint(10+rng.IntN(990)), "thousand")
		}
		return strings.Join(w, " ") + " data breach"
	}
	c := New(Options{})
	for i := range 2000 {
		c.Add(fmt.Sprintf("inc-%d", i), SignatureOf(item("", text(3+i%6), text(5), t0.Add(time.Duration(i)*time.Minute))))
	}
	matched := 0
	for q := range 500 {
		s := SignatureOf(item("", text(2+q%5), text(6), t0.Add(time.Duration(q)*time.Minute)))
		_, got, _ := c.Match(s)
		f := c.vocab.features(&s, false)
		var want float64
		for _, inc := range c.incidents {
			for _, m := range inc.members {
				if why, ok := c.vocab.compare(&f, &m.f, false, c.threshold); ok && why.Score >= c.threshold && why.Score > want {
					want = why.Score
				}
			}
		}
		if got != want {
			t.Errorf("query %v: Match score %.3f, brute force %.3f", s.Terms, got, want)
		}
		if want > 0 {
			matched++
		}
	}
	if matched < 20 {
		t.Fatalf("only %d queries matched anything: the comparison proves little", matched)
	}
	t.Logf("%d of 500 queries matched", matched)
}

// TestMatchEqualsBruteForceRealTerms repeats the check with terms drawn
// from the term table, so that the bounds on what common terms can add
// are exercised with real weights, at the default and a low threshold.
func TestMatchEqualsBruteForceRealTerms(t *testing.T) {
	for _, th := range []float64{DefaultThreshold, 0.06} {
		s := newSynthetic(7)
		c := New(Options{Threshold: th})
		for i := range 3000 {
			sig := s.signature(i%2000, t0.Add(time.Duration(i)*time.Minute))
			if i%3 == 0 {
				sig.Terms, sig.Names = sig.Terms[1:], nil // no name of its own
			}
			c.Add(fmt.Sprintf("inc-%d", i), sig)
		}
		matched := 0
		for q := range 400 {
			sig := s.signature(q*5, t0.Add(time.Duration(q)*time.Minute))
			if q%2 == 0 {
				sig.Terms, sig.Names = sig.Terms[1:], nil
			}
			_, got, _ := c.Match(sig)
			f := c.vocab.features(&sig, false)
			var want float64
			for _, inc := range c.incidents {
				for _, m := range inc.members {
					if why, ok := c.vocab.compare(&f, &m.f, false, c.threshold); ok && why.Score >= c.threshold && why.Score > want {
						want = why.Score
					}
				}
			}
			if got != want {
				t.Errorf("threshold %.2f, query %d: Match score %.3f, brute force %.3f", th, q, got, want)
			}
			if want > 0 {
				matched++
			}
		}
		t.Logf("threshold %.2f: %d of 400 queries matched", th, matched)
		if matched < 20 {
			t.Errorf("threshold %.2f: only %d queries matched: the comparison proves little", th, matched)
		}
	}
}

// TestIncidentCVEConflict: a headline naming only other CVEs than the
// incident's headlines joins none of its members, not even one whose
// headline names no CVE; a headline naming one of them joins.
func TestIncidentCVEConflict(t *testing.T) {
	c := New(Options{})
	c.Add("flaw", SignatureOf(item("https://a.example/1", "Northwind gateway flaw CVE-2031-2222 under active attack",
		"Attackers exploit CVE-2031-2222 in Northwind remote-access gateways to run code.", t0)))
	c.Add("flaw", SignatureOf(item("https://a.example/2", "Northwind remote-access gateways under active attack",
		"Attackers exploit a flaw in Northwind remote-access gateways to run code.", t0.Add(time.Hour))))
	other := SignatureOf(item("https://b.example/1", "Northwind remote-access gateways: CVE-2031-3333 under active attack",
		"Attackers exploit a flaw in Northwind remote-access gateways to run code.", t0.Add(2*time.Hour)))
	if id, why, ok := c.Explain(other); ok {
		t.Errorf("a report of another CVE joined %q: %s", id, why)
	}
	same := SignatureOf(item("https://b.example/2", "Northwind remote-access gateways: CVE-2031-2222 under active attack",
		"Attackers exploit a flaw in Northwind remote-access gateways to run code.", t0.Add(2*time.Hour)))
	if id, why, ok := c.Explain(same); !ok || id != "flaw" {
		t.Errorf("a report of the same CVE: got %q, %v, want flaw; %s", id, ok, why)
	}
}
