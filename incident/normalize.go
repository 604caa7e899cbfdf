package incident

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
	"u.s.", " us ", "u. s.", " us ", "u.k.", " uk ", "u. k.", " uk ", "\u00a0", " ",
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
towards whether would shall must go goes going make makes making whose them him one two three four
five six seven eight nine ten`)

// months mark the number next to them as a date, not a count.
var months = setOf(`january february march april may june july august september october november
december jan feb mar apr jun jul aug sep sept oct nov dec`)

// scales multiply the number before them.
var scales = map[string]float64{
	"thousand": 1e3, "k": 1e3,
	"million": 1e6, "millions": 1e6, "mln": 1e6, "mn": 1e6, "m": 1e6,
	"billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9,
	"trillion": 1e12, "tn": 1e12,
}

// synonyms map demonyms and spelling variants onto one term.
var synonyms = map[string]string{
	"russian": "russia", "chinese": "china", "korean": "korea", "iranian": "iran",
	"american": "america", "british": "britain", "ukrainian": "ukraine", "french": "france",
	"romanian": "romania", "norwegian": "norway", "italian": "italy", "spanish": "spain",
	"german": "germany", "japanese": "japan", "indian": "india", "australian": "australia",
	"canadian": "canada", "israeli": "israel", "european": "europe", "euro": "europe",
	"danish": "denmark", "dutch": "netherlands", "swedish": "sweden", "polish": "poland",
	"cl0p": "clop", "alphv": "blackcat", "0day": "zeroday", "organisation": "organization",
	"dprk": "korea", "uk": "britain", "u.k": "britain", "england": "britain",
	"cyberattack": "attack", "cybercriminal": "criminal", "cybercrime": "crime",
}

func setOf(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
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
			// "stopped" → "stop", but "missed" stays "miss".
			if n := len(w); w[n-1] == w[n-2] && !strings.ContainsRune("aeiouslz", rune(w[n-1])) {
				w = w[:n-1]
			}
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 3 {
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
				if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
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

// joinSpacedNumbers removes the space one news source writes after a
// decimal point or a thousands comma between digits ("12. 5 million",
// "4, 000").
func joinSpacedNumbers(s string) string {
	var b []byte
	last := 0
	for i := 1; i+2 < len(s); i++ {
		if (s[i] == '.' || s[i] == ',') && s[i+1] == ' ' && isDigitByte(s[i-1]) && isDigitByte(s[i+2]) {
			b = append(b, s[last:i+1]...)
			last = i + 2
		}
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// cves returns the sorted, distinct CVE IDs in s (lower-cased).
func cves(s string) []string {
	s = strings.ToLower(s)
	if !strings.Contains(s, "cve-") {
		return nil
	}
	found := cveRE.FindAllString(s, -1)
	slices.Sort(found)
	return slices.Compact(found)
}

// tokens returns the normalised words of s in order, stopwords left out.
// Numbers are canonical ("250,000", "250k" and "0.25 million" are all
// "250k"); a number next to a month name is a date and left out.
func tokens(s string) []string {
	s = phrases.Replace(strings.ToLower(s))
	s = joinSpacedNumbers(s)
	if strings.Contains(s, "cve-") {
		s = cveRE.ReplaceAllString(s, " ")
	}
	words := splitWords(s)
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		w := words[i]
		if isNumberish(w) {
			if (i > 0 && months[words[i-1]]) || (i+1 < len(words) && months[words[i+1]]) {
				continue
			}
			unit := ""
			if i+1 < len(words) && scales[words[i+1]] > 0 && len(words[i+1]) > 1 {
				unit = words[i+1]
				i++
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
	return out
}

// splitWords splits on anything but letters, digits, apostrophes and
// ampersands inside words ("AT&T"), and '.' or ',' between digits (1,000
// and 12.5 stay whole).
func splitWords(s string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			if w := strings.Trim(s[start:end], "'"); w != "" {
				words = append(words, w)
			}
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
		case (r == '.' || r == ',') && start >= 0 && i > 0 && isDigitByte(s[i-1]) &&
			i+1 < len(s) && isDigitByte(s[i+1]):
		case (r == '\'' || r == '&') && start >= 0 && i+1 < len(s) && unicode.IsLetter(rune(s[i+1])):
		default:
			flush(i)
		}
	}
	flush(len(s))
	return words
}

func isDigitByte(b byte) bool { return '0' <= b && b <= '9' }

func isNumberish(w string) bool {
	return w != "" && isDigitByte(w[0])
}

// number canonicalises a numeric token so "250,000", "250k" and
// "0.25 million" are one term. Years stay as written. Mixed tokens such as
// "2fa" or "3rd" are returned unchanged; ordinals are dropped.
func number(w, unit string) (string, bool) {
	suffix := strings.TrimLeft(w, "0123456789.,")
	digits := strings.TrimRight(strings.ReplaceAll(w[:len(w)-len(suffix)], ",", ""), ".")
	scale := scales[unit]
	if unit == "" {
		switch suffix {
		case "st", "nd", "rd", "th":
			return "", false
		case "":
			scale = 1
		default:
			if s, ok := scales[suffix]; ok {
				scale = s
			} else {
				return w, true
			}
		}
	}
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil {
		return w, true
	}
	if scale == 1 && len(digits) == 4 && (strings.HasPrefix(digits, "19") || strings.HasPrefix(digits, "20")) {
		return digits, true
	}
	return formatNumber(v * scale), true
}

// formatNumber writes v with three significant digits and a k, m or b
// suffix: 12.34 → "12.3", 640000 → "640k", 2.5e6 → "2.5m".
func formatNumber(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(sig3(v/1e9), 'f', -1, 64) + "b"
	case v >= 1e6:
		return strconv.FormatFloat(sig3(v/1e6), 'f', -1, 64) + "m"
	case v >= 1e3:
		return strconv.FormatFloat(sig3(v/1e3), 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(sig3(v), 'f', -1, 64)
}

func sig3(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return f
}

// numberValue parses a term written by formatNumber; ok is false for
// other terms and for years.
func numberValue(t string) (v float64, ok bool) {
	if !isNumberish(t) || isYear(t) {
		return 0, false
	}
	mult := 1.0
	switch t[len(t)-1] {
	case 'k':
		mult, t = 1e3, t[:len(t)-1]
	case 'm':
		mult, t = 1e6, t[:len(t)-1]
	case 'b':
		mult, t = 1e9, t[:len(t)-1]
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, false
	}
	return f * mult, true
}

func isYear(t string) bool {
	return len(t) == 4 && (strings.HasPrefix(t, "19") || strings.HasPrefix(t, "20")) && isDigits(t)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigitByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// casedWords calls f for each word of s, with whether it was written
// capitalised and whether it starts a sentence (where capitals say
// nothing about names); termOf turns such a word into its term.
func casedWords(s string, f func(word string, upper, first bool)) {
	s = joinSpacedNumbers(s)
	first := true
	start := -1
	emit := func(w string) {
		if w = strings.Trim(w, "'"); w != "" {
			r, _ := utf8.DecodeRuneInString(w)
			f(w, unicode.IsUpper(r), first)
			first = false
		}
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) ||
			((r == '\'' || r == '&') && start >= 0 && i+1 < len(s) && unicode.IsLetter(rune(s[i+1]))) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			emit(s[start:i])
			start = -1
		}
		switch r {
		case '.', '!', '?', ':', '"', '“', '•', '\n':
			first = true
		}
	}
	if start >= 0 {
		emit(s[start:])
	}
}

// termOf returns the term a word of casedWords becomes, if any.
func termOf(w string) (string, bool) {
	lw := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(w), "'s"), "'")
	if isNumberish(lw) || utf8.RuneCountInString(lw) < 2 || stopwords[lw] {
		return "", false
	}
	return stem(strings.ReplaceAll(lw, "'", "")), true
}

// titleCase reports whether most words of a headline are capitalised, in
// which case its capitals say nothing about names.
func titleCase(title string) bool {
	var upper, all int
	casedWords(title, func(w string, u, _ bool) {
		if _, ok := termOf(w); !ok {
			return
		}
		all++
		if u {
			upper++
		}
	})
	return all > 0 && 2*upper >= all
}
