package incident

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Signature is what the clusterer needs to know about an item. The
// monitor recomputes it from the stored item after a restart (SignatureOf
// is deterministic); its fields are exported and JSON-tagged because
// stores written by earlier versions hold signatures as JSON (those carry
// Link, Terms, CVEs and Time only, and are compared on them).
type Signature struct {
	// Link is the item's canonical link; empty when it names no article
	// (a bare site root, which some feeds give every item).
	Link string `json:"link,omitempty"`
	// Terms are the normalised headline terms, distinct, in headline
	// order (stores of earlier versions hold them sorted).
	Terms []string `json:"terms,omitempty"`
	// Lead are the normalised terms of the text's lead that are not in
	// the headline, distinct, in order, followed by the canonical names
	// of the actors, signatories and companies the tagger found.
	Lead []string `json:"lead,omitempty"`
	// Names are the headline terms that name something (a company, a
	// place, a group): two headlines that each name something the other
	// report never mentions are about different things.
	Names []string `json:"names,omitempty"`
	// CVEs are the CVE IDs in the headline, LeadCVEs those only in the
	// lead, lower-cased, sorted and distinct. A headline's CVE defines the
	// story; a lead often lists related CVEs as context.
	CVEs     []string `json:"cves,omitempty"`
	LeadCVEs []string `json:"lead_cves,omitempty"`
	// Attacks are the tagger's attack types, sorted.
	Attacks []string `json:"attacks,omitempty"`
	// Roundup marks a newsletter, podcast or recap that lists several
	// stories: it never joins or attracts an incident by similarity.
	Roundup bool `json:"roundup,omitempty"`
	// Time is the item's publication time (its fetch time when it has none).
	Time time.Time `json:"time"`
}

// SignatureOf computes the signature of an item from its canonical link,
// its headline, the first leadChars bytes of its text and its tags.
func SignatureOf(it accordwatch.Item) Signature {
	t := it.Published
	if t.IsZero() {
		t = it.Fetched
	}
	title := stripPublisher(it.Title)
	text := lead(it.Text, leadChars)
	sig := Signature{
		Link:    articleLink(it.Link),
		Terms:   distinct(tokens(title), nil),
		CVEs:    cves(title),
		Roundup: isRoundup(it.Title, it.Link),
		Time:    t,
	}
	sig.Lead = distinct(tokens(text), sig.Terms)
	var names []string
	for _, n := range slices.Concat(it.Tags.Actors, it.Tags.Signatories, it.Tags.Companies) {
		names = append(names, tokens(n)...)
	}
	sig.Lead = append(sig.Lead, distinct(names, slices.Concat(sig.Terms, sig.Lead))...)
	for _, id := range cves(text) {
		if !slices.Contains(sig.CVEs, id) {
			sig.LeadCVEs = append(sig.LeadCVEs, id)
		}
	}
	sig.Names = headlineNames(title, text, sig.Terms)
	if len(it.Tags.AttackTypes) > 0 {
		sig.Attacks = slices.Sorted(slices.Values(it.Tags.AttackTypes))
	}
	return sig
}

// distinct returns the terms of ts in order, each once, leaving out those
// in skip.
func distinct(ts, skip []string) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t) && !slices.Contains(skip, t) {
			out = append(out, t)
		}
	}
	return out
}

// headlineNames returns the headline terms that are names: those the
// term table knows as names, and those it does not know (seen in at most
// one item of the news it was built from) that the item writes
// capitalised. Ordinary words are almost all in the table, so an unknown
// capitalised word is nearly always a new company, product or group.
func headlineNames(title, text string, terms []string) []string {
	ts := stats()
	capital := map[string]bool{}
	mark := func(w string, upper, _ bool) {
		if upper {
			if t, ok := termOf(w); ok {
				capital[t] = true
			}
		}
	}
	casedWords(title, mark)
	casedWords(text, mark)
	var out []string
	for _, t := range terms {
		if isNumberish(t) {
			continue
		}
		if ts.names[t] || (!ts.known(t) && capital[t]) {
			out = append(out, t)
		}
	}
	return out
}

// articleLink returns link unless it names no article: a site root ("/",
// or nothing after the host) is what some feeds give every item, so two
// items sharing it share nothing.
func articleLink(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	if strings.Trim(u.Path, "/") == "" && u.RawQuery == "" {
		return ""
	}
	return link
}

// roundupWords in a headline, and roundupDirs as a directory of its
// link, mark an item that gathers several stories: a newsletter, a
// podcast episode, a recap, a live blog.
var (
	roundupWords = []string{"roundup", "round-up", "recap", "week in review", "the week in", "weekly update",
		"newsletter", "podcast", "briefing", "digest", "business live", "live blog", "as it happened"}
	roundupDirs = []string{"podcast", "podcasts", "newsletter", "newsletters", "live", "roundup", "briefing"}
)

// isRoundup reports whether an item lists several stories: its headline
// says so, or its link files it under podcasts, newsletters or live
// blogs. Only short path segments count as directories: an article's
// slug repeats its headline, which is checked already.
func isRoundup(title, link string) bool {
	lt := strings.ToLower(title)
	for _, w := range roundupWords {
		if containsWord(lt, w) {
			return true
		}
	}
	u, err := url.Parse(link)
	if err != nil {
		return false
	}
	for _, seg := range strings.Split(strings.ToLower(u.Path), "/") {
		if slices.Contains(roundupDirs, seg) {
			return true
		}
	}
	return false
}

// containsWord reports whether s holds w with no letter right before or
// after it.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isLetterByte(s[j-1])
		after := j+len(w) == len(s) || !isLetterByte(s[j+len(w)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isLetterByte(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
