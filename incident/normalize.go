package incident

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Term weights. Generic words carry a little signal (two reports of one
// breach do share "breach"), so they are down-weighted rather than dropped.
const (
	weightGeneric = 0.05
	weightNumber  = 1.5
	weightTerm    = 1.0
)

// The tables below are built once and only read: no mutable package state.

var cveRE = regexp.MustCompile(`cve-\d{4}-\d{4,7}`)

// phrases are rewritten before tokenising so spelling variants of one
// concept become one term.
var phrases = strings.NewReplacer(
	"zero-days", " zeroday ", "zero-day", " zeroday ", "zero days", " zeroday ",
	"zero day", " zeroday ", "0-days", " zeroday ", "0-day", " zeroday ",
	"cyberattacks", " cyber attack ", "cyberattack", " cyber attack ",
	"cyber-attacks", " cyber attack ", "cyber-attack", " cyber attack ",
	"’", "'", "‘", "'", "“", " ", "”", " ", "–", " ", "—", " ",
	"u.s.", " us ", "u.k.", " uk ", "\u00a0", " ",
)

// stopwords never become terms.
var stopwords = setOf(`a an the of to in on for and or with by from at as is are was were be been being
has have had it its this that these those after over into about amid says said say new how what why
who when where will can could may might not no more than up out us we you your our their they he she
his her here there know need all just now still also but if so some any via per against before off
under while which s t i me my do does did get gets got here's what's isn't don't won't it's let's
everything thing things way ways back next just only very much many most due using used use see sees
seen take takes taken every should far who's whos other others look looks through following recent
includes including sure exactly amidst within without across among around behind despite toward
towards whether would shall must go goes going make makes making whose`)

// generic words appear in most security headlines whatever the event;
// they are kept at weightGeneric. Listed unstemmed, stemmed at init.
var generic = stemSet(`data breach breaches hack hacks hacked hacking hacker hackers attack attacks attacked
attacker attackers cyber cybersecurity security secure vulnerability vulnerabilities flaw flaws bug
bugs patch patches patched fix fixes fixed update updates exploit exploits exploited exploiting zeroday
ransomware malware threat threats actor actors group groups gang gangs crew campaign campaigns warn
warns warned warning report reports reported reportedly confirm confirms confirmed claim claims claimed
customer customers user users people company companies firm firms critical severe major massive huge
alert alerts stolen steal steals theft leak leaks leaked expose exposes exposed affect affects affected
affecting impact impacts impacted impacting incident incidents investigate investigates investigating
investigation issue issues urge urges urged year years month week day days hit hits target targets
targeted victim victims compromise compromised information info record records detail details personal
account accounts system systems service services online internet digital tech technology network
networks software latest first urgent risk risks sensitive global world access accessed organisation
organisations organization organizations business businesses government official officials man men
woman women teen teens teenager teenagers million millions billion thousand thousands hundred hundreds
disclose discloses disclosed reveal reveals revealed suffer suffers suffered
investigates investigating investigation behalf llp law lawsuit lawsuits class action attorney attorneys
notice notices settlement named leader leaders gartner magic quadrant`)

// synonyms map demonyms and spelling variants onto one term.
var synonyms = map[string]string{
	"russian": "russia", "chinese": "china", "korean": "korea", "iranian": "iran",
	"american": "america", "british": "britain", "ukrainian": "ukraine", "french": "france",
	"romanian": "romania", "norwegian": "norway", "italian": "italy", "spanish": "spain",
	"german": "germany", "japanese": "japan", "indian": "india", "australian": "australia",
	"canadian": "canada", "israeli": "israel", "european": "europe", "euro": "europe",
	"cl0p": "clop", "alphv": "blackcat", "0day": "zeroday", "organisation": "organization",
}

func setOf(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func stemSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[stem(w)] = true
	}
	return m
}

// stem is a deliberately light suffix stripper: it only has to map the
// forms headlines use (hacked, hackers, attacks, companies) onto one term,
// consistently on both sides; it need not produce real words.
func stem(w string) string {
	if s, ok := synonyms[w]; ok {
		w = s
	}
	if len(w) < 4 || !isAlpha(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	if s, ok := synonyms[w]; ok { // "russians" → "russian" → "russia"
		w = s
	}
	for _, suf := range []string{"ing", "ed", "er"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 {
		w = w[:len(w)-1]
	}
	return w
}

func isAlpha(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// stripPublisher drops a trailing " | Outlet" or a short capitalised
// " - Outlet" that aggregators append to headlines.
func stripPublisher(title string) string {
	if i := strings.LastIndex(title, " | "); i > 0 {
		title = title[:i]
	}
	if i := strings.LastIndex(title, " - "); i > 0 {
		tail := strings.Fields(title[i+3:])
		if len(tail) > 0 && len(tail) <= 3 {
			capital := true
			for _, w := range tail {
				if r := []rune(w)[0]; !unicode.IsUpper(r) {
					capital = false
				}
			}
			if capital {
				title = title[:i]
			}
		}
	}
	return title
}

// cves returns the sorted, distinct CVE IDs in s (lower-cased).
func cves(s string) []string {
	found := cveRE.FindAllString(strings.ToLower(s), -1)
	sort.Strings(found)
	return compact(found)
}

// terms returns the sorted, distinct normalised terms of a headline,
// CVE IDs excluded (they are handled apart, see score).
func terms(title string) []string {
	s := phrases.Replace(strings.ToLower(stripPublisher(title)))
	s = cveRE.ReplaceAllString(s, " ")
	words := splitWords(s)
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if isNumberish(w) {
			unit := ""
			if i+1 < len(words) {
				switch words[i+1] {
				case "million", "mln", "mn", "billion", "bn", "thousand":
					unit = words[i+1]
					i++
				}
			}
			if n, ok := number(w, unit); ok {
				out = append(out, n)
			}
			continue
		}
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
		if len([]rune(w)) < 2 || stopwords[w] {
			continue
		}
		w = strings.ReplaceAll(w, "'", "")
		out = append(out, stem(w))
	}
	sort.Strings(out)
	return compact(out)
}

// splitWords splits on anything but letters, digits, apostrophes inside
// words, and '.' or ',' between digits (1,000 and 17.5 stay whole).
func splitWords(s string) []string {
	rs := []rune(s)
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.Trim(string(cur), "'"))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case (r == '.' || r == ',') && len(cur) > 0 && unicode.IsDigit(cur[len(cur)-1]) &&
			i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			cur = append(cur, r)
		case r == '\'' && len(cur) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return words
}

func isNumberish(w string) bool {
	return w != "" && unicode.IsDigit([]rune(w)[0])
}

// number canonicalises a numeric token so "500,000", "500k" and
// "0.5 million" are one term. Years stay as written. Mixed tokens such as
// "2fa" or "3rd" are returned unchanged.
func number(w, unit string) (string, bool) {
	suffix := strings.TrimLeft(w, "0123456789.,")
	digits := strings.ReplaceAll(w[:len(w)-len(suffix)], ",", "")
	if unit == "" {
		switch suffix {
		case "k", "m", "mn", "mln", "b", "bn":
			unit = suffix
		case "":
		default:
			return w, true
		}
	}
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil {
		return w, true
	}
	if unit == "" && len(digits) == 4 && (strings.HasPrefix(digits, "19") || strings.HasPrefix(digits, "20")) {
		return digits, true
	}
	switch unit {
	case "k", "thousand":
		v *= 1e3
	case "m", "mn", "mln", "million":
		v *= 1e6
	case "b", "bn", "billion":
		v *= 1e9
	}
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "b", true
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "m", true
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k", true
	}
	return strconv.FormatFloat(v, 'g', 3, 64), true
}

// weight is how much a term says about which event a headline reports.
func weight(t string) float64 {
	switch {
	case generic[t]:
		return weightGeneric
	case isNumberish(t):
		if len(t) == 4 && (strings.HasPrefix(t, "19") || strings.HasPrefix(t, "20")) {
			return weightGeneric // a year
		}
		return weightNumber
	}
	return weightTerm
}

func compact(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}
