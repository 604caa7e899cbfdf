package incident

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The signals and their weights. They were chosen on the labelled pairs
// (see TestEvaluation and EVAL.md) and checked for false merges on the
// unlabelled news (TestUnlabelledNews).
const (
	// A term's weight in the cosine is its IDF squared, so a name seen in
	// a few items outweighs a word every breach story uses by about 50 to
	// 1; a headline term counts twice a lead term, a number half a word
	// (an exact number is rare, but "10" and "2025" are not events).
	titleWeight  = 2.0
	numberWeight = 0.5
	// A CVE ID in one headline that the other report also names adds
	// cveBonus; two headlines naming only different CVEs are different
	// stories whatever else they share.
	cveBonus = 0.3
	// Two headlines that each name something (a company, a place) the
	// other report never mentions lose nameConflict times the weight of
	// the rarer-named side's rarest such name: two law-firm notices about
	// two breached clients share a template, not an event.
	nameConflict = 0.5
	nameFloorIDF = 2.0
	// Reports of one event cluster within hours; after timeGrace, each
	// day between two reports costs timeDecay, up to rarityRelief less
	// when the shared names are rare: a name seldom in the news that
	// comes back days later is likelier the same story than a name in
	// the news every day.
	timeDecay    = 0.1
	timeGrace    = 12 * time.Hour
	rarityRelief = 0.3
	// anchorIDF makes a term a specific: seen in at most 1 item in 20
	// (e^3) of the news the table was built from. A merge needs
	// minAnchors specifics: shared terms (a run of adjacent ones, such as
	// a two-word name, counts once), numbers within numberTolerance, a
	// CVE (counts twice), or the same attack type (counts once). So a
	// shared company alone never merges two events. One of them must be
	// rare (an index key): a term seen in at most 1 item in 90 (keyIDF),
	// a number of 100 or more or with a fraction (keyNumber) or a CVE,
	// so that the index finds every incident an item can join.
	anchorIDF  = 3.0
	keyIDF     = 4.5
	minAnchors = 2
	// loneAnchorScore is the score at which one shared specific is
	// enough when it is more than one word — a run of two or more
	// specific terms ("Capita fined" in "UK's Capita fined $19 million
	// for 2023 cyber breach" and "Capita fined £14m for data protection
	// failings in 2023 cyber-attack") — or comes with shared terms that
	// are no specifics worth loneAnchorPlain of the cosine, and holds a
	// name both headlines carry that the news has written as a name
	// before. A shared company with nothing else still never merges.
	loneAnchorScore = 0.4
	loneAnchorPlain = 0.1
	numberTolerance = 0.1
	// Two headlines that name the same rare subject (a company, a gang,
	// a product: a headline name that is an index key) and report the
	// same kind of attack are likely one event told from two angles —
	// "X confirms breach", "hackers extort X over breach" — even when
	// their other words differ. subjectBonus adds to their score; it
	// is no specific of its own (the name and the attack type count
	// already), so a shared name still needs a second specific.
	subjectBonus  = 0.1
	subjectWindow = 48 * time.Hour
	// subjectNameRelief scales the name conflict of two reports that
	// earn subjectBonus: "Gucci, Balenciaga and Alexander McQueen hacked"
	// and "Kering confirms hack of Gucci and Balenciaga" each name one
	// brand the other does not, but share the subject.
	subjectNameRelief = 0.5
	// Two headlines written from one template — they agree word for word
	// but for one slot, in at least templateShare of each headline's
	// terms — that name different specifics in the slot, each unmentioned
	// by the other report, are different events: "DATA BREACH ALERT: Firm
	// is investigating claims on behalf of X customers" about two clients,
	// "X hit by ransomware" about two victims. It decides alone, like two
	// different CVEs: the shared template makes their cosine high.
	templateShare = 2.0 / 3
)

// Explanation says why two reports are, or are not, the same event.
type Explanation struct {
	// Score is Cosine + CVE bonus − name conflict − time decay; two
	// reports are the same event when it reaches the threshold and they
	// share enough specifics.
	Score float64 `json:"score"`
	// Cosine is the IDF-weighted cosine of headline and lead terms.
	Cosine float64 `json:"cosine"`
	// Shared are the shared terms that weigh most, with their share of
	// the cosine.
	Shared []SharedTerm `json:"shared,omitempty"`
	// Anchors counts the shared specifics; Numbers, CVE and Attack are
	// the ones that are not terms.
	Anchors int      `json:"anchors"`
	Numbers []string `json:"numbers,omitempty"`
	CVE     string   `json:"cve,omitempty"`
	Attack  string   `json:"attack,omitempty"`
	// Subject is the rare name both headlines carry when they also report
	// the same attack type; it earned subjectBonus.
	Subject string `json:"subject,omitempty"`
	// NameConflict is the penalty for names only one side mentions, with
	// the names; CVEConflict is set when the headlines name different
	// CVEs.
	NameConflict float64  `json:"name_conflict,omitempty"`
	Names        []string `json:"names,omitempty"`
	CVEConflict  bool     `json:"cve_conflict,omitempty"`
	// LoneAnchor is set when one shared specific sufficed: the score
	// reached loneAnchorScore with enough shared ordinary words.
	LoneAnchor bool `json:"lone_anchor,omitempty"`
	// NameRelief is set when NameConflict was halved because both
	// headlines name the Subject.
	NameRelief bool `json:"name_relief,omitempty"`
	// Template holds the two slots when the headlines share a template
	// but fill it with different specifics; it decides alone.
	Template []string `json:"template,omitempty"`
	// Gap is the time between the reports; TimePenalty what it cost.
	Gap         time.Duration `json:"gap"`
	TimePenalty float64       `json:"time_penalty,omitempty"`
	// Corroboration is what the time penalty was divided by: 1 plus the
	// specifics shared beyond minAnchors, when the reports also share an
	// attack type (0 when it was not divided).
	Corroboration int `json:"corroboration,omitempty"`
	// Link is set when the reports share their canonical link, which
	// decides alone.
	Link bool `json:"link,omitempty"`
}

// SharedTerm is one shared term and its contribution to the cosine.
type SharedTerm struct {
	Term   string  `json:"term"`
	Weight float64 `json:"weight"`
}

// String is a one-line account for logs and the command line.
func (e Explanation) String() string {
	if e.Link {
		return "same canonical link"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "score %.3f = cosine %.3f", e.Score, e.Cosine)
	if e.CVE != "" {
		fmt.Fprintf(&b, " + %.1f CVE %s", cveBonus, e.CVE)
	}
	if e.Subject != "" {
		fmt.Fprintf(&b, " + %.1f %s attack on %s named in both headlines", subjectBonus, e.Attack, e.Subject)
	}
	if e.NameConflict > 0 {
		fmt.Fprintf(&b, " − %.3f names only one side mentions %v", e.NameConflict, e.Names)
		if e.NameRelief {
			fmt.Fprintf(&b, " (×%.1f: both headlines name %s)", subjectNameRelief, e.Subject)
		}
	}
	if e.TimePenalty > 0 {
		fmt.Fprintf(&b, " − %.3f for %s apart", e.TimePenalty, e.Gap.Round(time.Hour))
		if e.Corroboration > 1 {
			fmt.Fprintf(&b, " (÷%d: %d specifics and the same attack)", e.Corroboration, e.Anchors)
		}
	}
	if e.CVEConflict {
		b.WriteString("; headlines name different CVEs")
	}
	if len(e.Template) == 2 {
		fmt.Fprintf(&b, "; headlines share a template but name different subjects (%q, %q)", e.Template[0], e.Template[1])
	}
	fmt.Fprintf(&b, "; %d specifics", e.Anchors)
	if e.LoneAnchor {
		fmt.Fprintf(&b, " (one suffices at score ≥ %.1f: more than one word)", loneAnchorScore)
	}
	if len(e.Shared) > 0 {
		b.WriteString("; shared:")
		for _, s := range e.Shared {
			fmt.Fprintf(&b, " %s (%.3f)", s.Term, s.Weight)
		}
	}
	if len(e.Numbers) > 0 {
		fmt.Fprintf(&b, "; numbers %v", e.Numbers)
	}
	if e.Attack != "" {
		fmt.Fprintf(&b, "; attack %s", e.Attack)
	}
	return b.String()
}

// vocab interns terms, so that comparing two reports is a merge of
// sorted integers with weights looked up by index. It is guarded by the
// Clusterer's lock.
type vocab struct {
	ids    map[string]uint32
	terms  []string
	anchor []bool    // a specific: idf ≥ anchorIDF
	rare   []bool    // a rare specific: idf ≥ keyIDF, an index key
	names  []float64 // weight of the term as a conflicting name, 0..1
}

func newVocab() *vocab { return &vocab{ids: make(map[string]uint32)} }

// id interns t, or reports whether it is known when add is false.
func (v *vocab) id(t string, add bool) (uint32, bool) {
	if id, ok := v.ids[t]; ok {
		return id, true
	}
	if !add {
		return 0, false
	}
	ts := stats()
	idf := ts.idf(t)
	id := uint32(len(v.terms))
	v.ids[t] = id
	v.terms = append(v.terms, t)
	v.anchor = append(v.anchor, idf >= anchorIDF && !isNumberish(t))
	v.rare = append(v.rare, idf >= keyIDF && !isNumberish(t))
	v.names = append(v.names, nameWeight(idf))
	return id, true
}

// nameWeight is how much a name only one report mentions counts against
// the two being one event, 0..1: nothing for names most stories carry.
func nameWeight(idf float64) float64 {
	return min(1, max(0, (idf-nameFloorIDF)/(stats().lnN-nameFloorIDF)))
}

// unknownName stands for a query's name that no member has.
const unknownName = math.MaxUint32

// features are what scoring needs of a signature, computed once per
// member rather than once per comparison. Terms the vocabulary has never
// seen (when features are computed for a query) are left out of ids —
// no member can share them — but count in the norm.
type features struct {
	ids  []uint32  // interned terms, sorted
	w    []float64 // their weights, parallel to ids
	pos  []int32   // their positions: headline 0…, lead leadPos…
	norm float64
	// nums are the specific numbers (see specificNumber).
	nums []float64
	// names are the headline names (interned, or unknownName), with
	// their conflict weights in nameW.
	names []uint32
	nameW []float64
	nameT []string
	// head are the headline terms in headline order (unknownName for
	// a query's terms no member has), for spotting a shared template.
	head     []uint32
	headT    []string
	cves     []string
	leadCVEs []string
	attacks  []string
	t        time.Time
}

const leadPos = 1 << 16

func (v *vocab) features(sig *Signature, add bool) features {
	f := features{headT: sig.Terms, cves: sig.CVEs, leadCVEs: sig.LeadCVEs, attacks: sig.Attacks, t: sig.Time}
	type entry struct {
		id  uint32
		w   float64
		pos int32
	}
	es := make([]entry, 0, len(sig.Terms)+len(sig.Lead))
	var sq float64
	addTerm := func(t string, pos int32, place float64) {
		w := place * stats().idf(t)
		if isNumberish(t) {
			w *= numberWeight
			if n, ok := numberValue(t); ok && specificNumber(n) && !slices.Contains(f.nums, n) {
				f.nums = append(f.nums, n)
			}
		}
		w *= stats().idf(t) // IDF squared, times the place
		sq += w * w
		if id, ok := v.id(t, add); ok {
			es = append(es, entry{id, w, pos})
		}
	}
	for i, t := range sig.Terms {
		addTerm(t, int32(i), titleWeight)
		id, ok := v.id(t, add)
		if !ok {
			id = unknownName
		}
		f.head = append(f.head, id)
	}
	for i, t := range sig.Lead {
		if !slices.Contains(sig.Terms, t) {
			addTerm(t, leadPos+int32(i), 1)
		}
	}
	f.norm = math.Sqrt(sq)
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.id, b.id) })
	es = slices.CompactFunc(es, func(a, b entry) bool { return a.id == b.id })
	f.ids = make([]uint32, len(es))
	f.w = make([]float64, len(es))
	f.pos = make([]int32, len(es))
	for i, e := range es {
		f.ids[i], f.w[i], f.pos[i] = e.id, e.w, e.pos
	}
	for _, n := range sig.Names {
		id, ok := v.id(n, add)
		if !ok {
			// A name no member has: unmentioned by all of them.
			id = unknownName
		}
		if !slices.Contains(f.names, id) || id == unknownName {
			f.names = append(f.names, id)
			f.nameW = append(f.nameW, nameWeight(stats().idf(n)))
			f.nameT = append(f.nameT, n)
		}
	}
	return f
}

// specificNumber reports whether a number can tell events apart: 10 or
// more, and not a round hundred or thousand ("100+ companies").
func specificNumber(n float64) bool { return n >= 10 && n != 100 && n != 1000 }

// keyNumber reports whether a specific number is rare enough to be an
// index key: a fraction ("12.5") or 100 and more. Small whole numbers
// ("19 countries") are in too many reports to look candidates up by.
func keyNumber(n float64) bool {
	return specificNumber(n) && (n >= 100 || n != math.Trunc(n))
}

// numbersMatch reports whether two numbers are the same count written
// differently: "61.8 million" and "62 million", "12.5 Gbps" and "12 Gbps".
func numbersMatch(a, b float64) bool {
	lo, hi := min(a, b), max(a, b)
	return hi > 0 && (hi-lo)/hi <= numberTolerance
}

// compare scores query q against member m. explain fills the
// explanation's lists (the hot path leaves them out). A comparison that
// cannot reach floor stops after the cosine, its explanation partial.
func (v *vocab) compare(q, m *features, explain bool, floor float64) (Explanation, bool) {
	var e Explanation
	// The cosine first: most candidates stop here.
	dot := dotProduct(q, m)
	if q.norm > 0 && m.norm > 0 {
		e.Cosine = dot / (q.norm * m.norm)
	}
	if !explain && e.Cosine+cveBonus+subjectBonus < floor {
		return e, false
	}
	// CVEs: different headline CVEs decide alone.
	if len(q.cves) > 0 && len(m.cves) > 0 && !intersects(q.cves, m.cves) {
		e.CVEConflict = true
	}
	if id, ok := firstCommon(q.cves, m.cves, m.leadCVEs); ok {
		e.CVE = id
	} else if id, ok := firstCommon(m.cves, q.cves, q.leadCVEs); ok {
		e.CVE = id
	}
	if !explain && (e.CVEConflict || (e.CVE == "" && e.Cosine+subjectBonus < floor)) {
		return e, false
	}
	if sa, sb, ok := templateConflict(q, m); ok {
		e.Template = []string{sa, sb}
		if !explain {
			return e, false
		}
	}
	// The shared anchors, grouped into runs.
	var rarest float64 // nameWeight of the rarest shared anchor
	var plain float64  // the dot product of shared terms that are no anchor
	var shared []int   // indexes into q.ids of shared anchors
	rare := false      // a shared index key: a rare term, a number or a CVE
	i, j := 0, 0
	for i < len(q.ids) && j < len(m.ids) {
		switch {
		case q.ids[i] == m.ids[j]:
			c := q.w[i] * m.w[j]
			if v.anchor[q.ids[i]] {
				shared = append(shared, i)
				rarest = max(rarest, v.names[q.ids[i]])
				rare = rare || v.rare[q.ids[i]]
			} else {
				plain += c
			}
			if explain {
				e.Shared = append(e.Shared, SharedTerm{v.terms[q.ids[i]], c})
			}
			i++
			j++
		case q.ids[i] < m.ids[j]:
			i++
		default:
			j++
		}
	}
	e.Anchors = runs(q, m, shared)
	for _, a := range q.nums {
		for _, b := range m.nums {
			if numbersMatch(a, b) {
				e.Anchors++
				rare = rare || (keyNumber(a) && keyNumber(b))
				if explain {
					e.Numbers = append(e.Numbers, formatNumber(a))
				}
				break
			}
		}
	}
	if e.CVE != "" {
		e.Anchors += 2
		rare = true
	}
	if a := commonAttack(q.attacks, m.attacks); a != "" {
		e.Anchors++
		e.Attack = a
	}
	// Names only one side mentions.
	ca, na := unmentioned(q, m)
	cb, nb := unmentioned(m, q)
	if ca > 0 && cb > 0 {
		e.NameConflict = nameConflict * min(ca, cb)
		if explain {
			e.Names = []string{na, nb}
		}
	}
	e.Gap = q.t.Sub(m.t).Abs()
	if q.t.IsZero() || m.t.IsZero() {
		e.Gap = 0
	}
	if e.Attack != "" && e.Gap <= subjectWindow {
		e.Subject = v.subject(q, m)
	}
	if e.Subject != "" && e.NameConflict > 0 {
		// Both headlines name the subject: the names only one
		// mentions are more likely detail (the parent company, a
		// second brand, a ticker) than another subject.
		e.NameConflict *= subjectNameRelief
		e.NameRelief = true
	}
	if e.Gap > timeGrace {
		e.TimePenalty = timeDecay * (e.Gap - timeGrace).Hours() / 24 * (1 - rarityRelief*rarest)
		if e.Attack != "" && e.Anchors > minAnchors {
			e.Corroboration = e.Anchors - minAnchors + 1
			e.TimePenalty /= float64(e.Corroboration)
		}
	}
	e.Score = e.Cosine - e.NameConflict - e.TimePenalty
	if e.CVE != "" {
		e.Score += cveBonus
	}
	if e.Subject != "" {
		e.Score += subjectBonus
	}
	if explain {
		for k := range e.Shared {
			e.Shared[k].Weight /= q.norm * m.norm
		}
		slices.SortStableFunc(e.Shared, func(a, b SharedTerm) int { return cmp.Compare(b.Weight, a.Weight) })
		e.Shared = e.Shared[:min(len(e.Shared), 8)]
	}
	if e.Anchors == 1 && q.norm > 0 && m.norm > 0 && e.Score >= loneAnchorScore &&
		(len(shared) >= 2 || plain/(q.norm*m.norm) >= loneAnchorPlain) && v.knownName(q, m, shared) {
		e.LoneAnchor = true
	}
	enough := e.Anchors >= minAnchors || e.LoneAnchor
	return e, !e.CVEConflict && e.Template == nil && enough && rare
}

// templateConflict reports whether q's and m's headlines share a
// template (a common start and end covering templateShare of each)
// whose slots name different things: each slot holds a specific the
// other report never mentions, and in one of them it is a name. (Two
// slots of ordinary words are a rewording: "pupils" and "children"
// hacking their schools.) It returns the two slots.
func templateConflict(q, m *features) (string, string, bool) {
	a, b := q.head, m.head
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] && a[p] != unknownName {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] && a[len(a)-1-s] != unknownName {
		s++
	}
	n := float64(p + s)
	if n < templateShare*float64(len(a)) || n < templateShare*float64(len(b)) {
		return "", "", false
	}
	sa, speca, namea := slot(q, p, len(a)-s, m)
	sb, specb, nameb := slot(m, p, len(b)-s, q)
	return sa, sb, speca && specb && (namea || nameb)
}

// slot returns the terms of f's headline in [i, j), a template's slot,
// whether one of them is a specific (not a number or a year:
// "700Credit" is a name) that other never mentions, and whether one
// such is a headline name or a word the news never used.
func slot(f *features, i, j int, other *features) (terms string, specific, name bool) {
	for k := i; k < j; k++ {
		t, id := f.headT[k], f.head[k]
		if _, number := numberValue(t); number || isYear(t) || stats().idf(t) < anchorIDF {
			continue
		}
		if _, found := slices.BinarySearch(other.ids, id); id != unknownName && found {
			continue
		}
		specific = true
		name = name || slices.Contains(f.nameT, t) || !stats().known(t)
	}
	return strings.Join(f.headT[i:j], " "), specific, name
}

// knownName reports whether one of the shared anchors (indexes into
// q.ids) is a name both headlines carry that the news has written as a
// name before (in the term table): a capitalised word never seen is too
// weak to merge on alone.
func (v *vocab) knownName(q, m *features, shared []int) bool {
	for _, i := range shared {
		id := q.ids[i]
		if stats().names[v.terms[id]] && slices.Contains(q.names, id) && slices.Contains(m.names, id) {
			return true
		}
	}
	return false
}

// subject returns the rarest name both headlines carry that is rare
// enough to be an index key, or "".
func (v *vocab) subject(q, m *features) string {
	best, bestIDF := "", 0.0
	for k, id := range q.names {
		if id == unknownName || !v.rare[id] || !slices.Contains(m.names, id) {
			continue
		}
		if idf := stats().idf(q.nameT[k]); idf > bestIDF {
			best, bestIDF = q.nameT[k], idf
		}
	}
	return best
}

// dotProduct is the dot product of q's and m's term weights.
func dotProduct(q, m *features) float64 {
	var dot float64
	i, j := 0, 0
	for i < len(q.ids) && j < len(m.ids) {
		switch {
		case q.ids[i] == m.ids[j]:
			dot += q.w[i] * m.w[j]
			i++
			j++
		case q.ids[i] < m.ids[j]:
			i++
		default:
			j++
		}
	}
	return dot
}

// runs counts the shared anchors of q and m as names: anchors next to
// each other in either report ("Land Rover", "Kensington and Chelsea")
// are one.
func runs(q, m *features, shared []int) int {
	if len(shared) < 2 {
		return len(shared)
	}
	type anchor struct{ q, m int32 }
	as := make([]anchor, len(shared))
	for k, i := range shared {
		j, _ := slices.BinarySearch(m.ids, q.ids[i])
		as[k] = anchor{q.pos[i], m.pos[j]}
	}
	parent := make([]int, len(as))
	for k := range parent {
		parent[k] = k
	}
	var find func(int) int
	find = func(k int) int {
		for parent[k] != k {
			parent[k] = parent[parent[k]]
			k = parent[k]
		}
		return k
	}
	n := len(as)
	for a := range as {
		for b := a + 1; b < len(as); b++ {
			dq, dm := as[a].q-as[b].q, as[a].m-as[b].m
			if dq == 1 || dq == -1 || dm == 1 || dm == -1 {
				if ra, rb := find(a), find(b); ra != rb {
					parent[ra] = rb
					n--
				}
			}
		}
	}
	return n
}

// unmentioned returns the weight of a's rarest headline name that b's
// report does not mention at all, and that name.
func unmentioned(a, b *features) (float64, string) {
	var best float64
	var name string
	for k, n := range a.names {
		if _, found := slices.BinarySearch(b.ids, n); (n == unknownName || !found) && a.nameW[k] > best {
			best, name = a.nameW[k], a.nameT[k]
		}
	}
	return best, name
}

// firstCommon returns the first element of a that is in b or c.
func firstCommon(a, b, c []string) (string, bool) {
	for _, x := range a {
		if slices.Contains(b, x) || slices.Contains(c, x) {
			return x, true
		}
	}
	return "", false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// commonAttack returns the first concrete attack type (not "policy" or
// "not-an-attack") two reports share, or "".
func commonAttack(a, b []string) string {
	for _, x := range a {
		if x != "policy" && x != "not-an-attack" && slices.Contains(b, x) {
			return x
		}
	}
	return ""
}
