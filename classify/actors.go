package classify

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// actorMention is one actor found in a field.
type actorMention struct {
	f          *field
	start, end int
	name       string
	country    string
	rule       string
	tag        string // "actor:"+name when known in advance, else ""
}

// familyStop are words that precede "Typhoon", "Blizzard"... in weather
// news and never start an actor name.
var familyStop = wordSet([]string{"the", "a", "an", "this", "that", "super", "tropical", "winter", "snow", "heavy", "massive", "major", "deadly", "severe", "huge", "great", "big", "powerful", "strong", "violent", "christmas", "desert", "dust", "sand", "ice", "freak", "new", "another", "latest", "and", "or", "of", "eurofighter", "sleet", "rain"})

// actorMentions finds the threat actors of both fields: dictionary names
// (with the state on record), "<Word> Typhoon"-style family names and
// vendor cluster IDs by their shape.
func (d *doc) actorMentions() []actorMention {
	out := d.mentions[:0]
	for _, f := range d.fields {
		for _, h := range f.ents {
			if k := d.c.kinds[h.entry]; k != kActor && k != kFamily {
				continue
			}
			e := &d.c.entries[h.entry]
			switch e.kind {
			case kActor:
				out = append(out, actorMention{f, h.start, h.end, e.name, e.country, "dictionary:actor", e.tag})
			case kFamily:
				// "<Word> Typhoon": the word before must be capitalised.
				i := h.start - 1
				if i < 0 || f.covered[i] || f.toks[i].sent != f.toks[h.start].sent || f.is(i, setFamilyStop) {
					continue
				}
				w := f.src[f.toks[i].start:f.toks[i].end]
				r, _ := utf8.DecodeRuneInString(w)
				if !unicode.IsUpper(r) || f.toks[i].end+1 != f.toks[h.start].start {
					continue
				}
				name := titleWord(f.norm(i)) + " " + e.name
				out = append(out, actorMention{f, i, h.end, name, e.country, e.famRule, ""})
				// "the Volt and Salt Typhoons": a plural family word names
				// each group of the pair.
				if f.norm(h.end-1) != strings.ToLower(e.name) && i >= 2 && f.norm(i-1) == "and" && f.toks[i-2].sent == f.toks[i].sent && !f.covered[i-2] && !f.is(i-2, setFamilyStop) {
					w := f.src[f.toks[i-2].start:f.toks[i-2].end]
					if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
						out = append(out, actorMention{f, i - 2, h.end, titleWord(f.norm(i-2)) + " " + e.name, e.country, e.famRule, ""})
					}
				}
			}
		}
		out = clusterMentions(out, f)
	}
	return out
}

// clusterMentions finds vendor cluster names by token shape: UNC1234,
// TA505, UAT-9686, Storm-1849, DEV-0586, APT99.
func clusterMentions(out []actorMention, f *field) []actorMention {
	toks, lower := f.toks, f.lower
	for i := range toks {
		t := &toks[i]
		// Every shape has a digit at the end of this word or the start of
		// the next: a cheap, rarely true test first.
		endDigit := lower[t.ne-1]-'0' < 10
		if !endDigit && (i+1 == len(toks) || lower[toks[i+1].ns]-'0' >= 10) {
			continue
		}
		if f.covered[i] || t.ne-t.ns < 3 {
			continue
		}
		switch f.lower[t.ns] {
		case 'u', 't', 'a', 'd', 's':
		default:
			continue
		}
		norm := f.norm(i)
		if last := norm[len(norm)-1]; last >= '0' && last <= '9' {
			for _, p := range [...]string{"unc", "ta", "apt", "uat", "tag"} {
				rest, ok := strings.CutPrefix(norm, p)
				// TA0001–TA0043 are MITRE ATT&CK tactic IDs, not Proofpoint's
				// TA-numbered actors (TA453, TA505, TA4557).
				if p == "ta" && strings.HasPrefix(rest, "00") {
					continue
				}
				if ok && len(rest) >= 2 && digits(rest) {
					// A copy: norm views the field's scratch (tokenize),
					// and has small letters (its prefix) for ToUpper to change.
					out = append(out, actorMention{f, i, i + 1, strings.ToUpper(norm), "", "shape:cluster", ""})
				}
			}
			continue
		}
		if i+1 < len(f.toks) && !f.covered[i+1] && f.toks[i+1].sent == t.sent && f.toks[i+1].start-t.end <= 1 {
			n := f.norm(i + 1)
			switch {
			case (norm == "storm" || norm == "dev") && len(n) == 4 && digits(n):
				out = append(out, actorMention{f, i, i + 2, titleWord(norm) + "-" + n, "", "shape:cluster", ""})
			case (norm == "uat" || norm == "unc" || norm == "tag") && len(n) >= 2 && digits(n):
				out = append(out, actorMention{f, i, i + 2, strings.ToUpper(norm) + "-" + n, "", "shape:cluster", ""})
			}
		}
	}
	return out
}

// clusterIDRe matches the vendor cluster IDs that clusterMentions tags by
// their shape (TA4557, UNC3524, UAT-9686, Storm-0558); TestIsClusterID
// holds the two to the same shapes.
var clusterIDRe = regexp.MustCompile(`(?i)^((unc|ta|apt|uat|tag)\d{2,}|(uat|unc|tag)[- ]\d{2,}|(storm|dev)[- ]\d{4})$`)

// IsClusterID reports whether an alias is a vendor cluster ID that the
// tagger tags by its shape. Such IDs stay their own tags rather than
// aliases of a group: vendors say a cluster overlaps a group, not that it
// is the group.
// MITRE ATT&CK tactic IDs (TA0001–TA0043) share the TA shape and are not.
func IsClusterID(alias string) bool {
	return clusterIDRe.MatchString(alias) && !(len(alias) > 4 && strings.EqualFold(alias[:4], "ta00"))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// actors tags each actor mentioned once, with the evidence of its first
// mention.
func (d *doc) actors() {
	for _, m := range d.mentions {
		if !slices.Contains(d.tags.Actors, m.name) {
			d.tags.Actors = append(d.tags.Actors, m.name)
			tag := m.tag
			if tag == "" {
				tag = "actor:" + m.name
			}
			d.evidence(tag, m.f, m.start, m.end, m.rule)
		}
	}
}
