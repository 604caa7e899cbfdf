package incident

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Defaults for Options fields left zero.
const (
	// DefaultWindow is how far apart two reports of one event may be. The
	// labelled same-event pairs reach 107 hours apart (ten of 106 are more
	// than 72 hours apart) while the score's time decay already weighs
	// the gap, so the window only bounds memory; see EVAL.md.
	DefaultWindow = 120 * time.Hour
	// DefaultThreshold is the score two reports need to be one event; see
	// TestEvaluation for its precision and recall on the labelled pairs.
	DefaultThreshold = 0.19
)

// maxMembers bounds the members an incident compares a new report with:
// its first report and the latest ones. A story with thousands of reports
// must not make every new item compare with all of them.
const maxMembers = 32

// Options configures a Clusterer.
type Options struct {
	// Window is how far apart in time an item and an incident may be and
	// still join: the item's time is compared with the incident's newest
	// member (and, for late arrivals, its oldest). 0 means DefaultWindow.
	Window time.Duration
	// Threshold is the score, 0..1, an item needs to join an incident
	// without sharing its link. 0 means DefaultThreshold.
	Threshold float64
}

type member struct {
	sig Signature
	f   features
}

type state struct {
	n           uint64 // order of creation, for stable answers
	slot        int32  // index in Clusterer.slots
	id          string
	first, last time.Time
	members     []*member // the first and the latest maxMembers-1
	// keys are the index keys of the members, with their postings'
	// weights; a slice, since incidents are many and their keys few.
	keys  []stateKey
	links []string
	// cves are the CVE IDs its members' headlines name: a report whose
	// headline names only other CVEs joins no member of it, or a
	// headline without a CVE would chain one flaw's incident to the
	// next flaw of the same product.
	cves []string
}

// Clusterer remembers the live incidents and finds the one a new item
// belongs to. It is safe for concurrent use. Match followed by Add is not
// atomic: two similar items matched concurrently may both miss and start
// two incidents; use Assign when that matters.
type Clusterer struct {
	window    time.Duration
	threshold float64

	mu        sync.RWMutex
	incidents map[string]*state
	links     map[string]*state
	vocab     *vocab
	created   uint64
	// postings is the inverted index: key (see keys) → incidents with a
	// member having it. Match scores only incidents that share a key,
	// never all of them.
	postings map[string][]posting
	// slots numbers the live incidents densely (free lists the numbers
	// pruned incidents left), so that match accumulates per incident in
	// a pooled array instead of a map.
	slots   []*state
	bounds  []restBound // per slot: the incident's rest and restMax
	free    []int32
	scratch sync.Pool
}

// restBound is a copy of an incident's rest and restMax in a dense
// array, so that bounding a candidate reads no incident.
type restBound struct{ rest, max float64 }

type stateKey struct {
	name string
	w    float64
}

// posting is one incident holding a key, with the most its members'
// term behind the key weighs in their cosine (the term's weight over
// the member's norm): what sharing the key can add to a score.
type posting struct {
	slot int32
	w    float64
}

// scratch is one match's per-incident accumulators, indexed by slot; an
// entry is valid only when its gen is the current generation, so the
// array is never cleared. One struct per slot keeps an incident's
// entry in one cache line.
type scratch struct {
	slot    []slotAcc
	gen     uint32
	touched []int32
}

type slotAcc struct {
	gen     uint32
	cve     bool
	subject bool // found under a headline name that can earn subjectBonus
	acc     float64
}

func (sc *scratch) reset(slots int) {
	if len(sc.slot) < slots {
		sc.slot = make([]slotAcc, max(slots, 2*len(sc.slot)))
		sc.gen = 0
	}
	sc.gen++
	if sc.gen == 0 { // wrapped: forget every old generation
		clear(sc.slot)
		sc.gen = 1
	}
	sc.touched = sc.touched[:0]
}

// New returns an empty Clusterer.
func New(o Options) *Clusterer {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	return &Clusterer{
		window:    o.Window,
		threshold: o.Threshold,
		incidents: make(map[string]*state),
		links:     make(map[string]*state),
		vocab:     newVocab(),
		postings:  make(map[string][]posting),
		scratch:   sync.Pool{New: func() any { return new(scratch) }},
	}
}

// indexKey is one index key of a signature: a rare term, a CVE ID or a
// rare number (under its band, see numberBucket; a query looks up the
// bands either side too). A merge needs one of them shared (see
// keyIDF), so these keys find every incident a signature can join. w2 is
// the squared cosine weight of the term behind the key, which bounds
// what sharing it can add to a score.
type indexKey struct {
	name string
	w2   float64
	cve  bool
}

// nonKeys is the weight of a signature's terms that are not index keys:
// the sum of their squares, their sum, and the largest.
type nonKeys struct{ sq, sum, max float64 }

// keys returns sig's index keys, and the weight of its other terms; a
// query's keys hold the neighbouring bands of its numbers too.
func keys(sig *Signature, query bool) (ks []indexKey, rest nonKeys) {
	ts := stats()
	add := func(t string, place float64) {
		idf := ts.idf(t)
		w := place * idf * idf
		if n, ok := numberValue(t); ok {
			w *= numberWeight
			if keyNumber(n) {
				b := numberBucket(n)
				ks = append(ks, indexKey{name: numberKey(b), w2: w * w})
				if query {
					ks = append(ks, indexKey{name: numberKey(b - 1), w2: w * w}, indexKey{name: numberKey(b + 1), w2: w * w})
				}
				return
			}
		} else if isNumberish(t) {
			w *= numberWeight
		} else if idf >= keyIDF {
			ks = append(ks, indexKey{name: t, w2: w * w})
			return
		}
		rest.sq += w * w
		rest.sum += w
		rest.max = max(rest.max, w)
	}
	for _, t := range sig.Terms {
		add(t, titleWeight)
	}
	for _, t := range sig.Lead {
		if !slices.Contains(sig.Terms, t) {
			add(t, 1)
		}
	}
	for _, id := range slices.Concat(sig.CVEs, sig.LeadCVEs) {
		ks = append(ks, indexKey{name: id, cve: true}) // "cve-…" never collides with a term: terms have no '-'
	}
	slices.SortFunc(ks, func(a, b indexKey) int { return cmp.Compare(a.name, b.name) })
	return slices.CompactFunc(ks, func(a, b indexKey) bool { return a.name == b.name }), rest
}

// numberBucket numbers the bands of width numberTolerance on a log
// scale: two numbers within numberTolerance of each other are in the same
// band or in neighbouring ones.
func numberBucket(n float64) int {
	return int(math.Floor(math.Log(n) / -math.Log1p(-numberTolerance)))
}

func numberKey(bucket int) string { return "#" + strconv.Itoa(bucket) }

// Add remembers sig as a member of the incident incidentID, creating the
// incident if it is new. Adding the same signature twice (a restart
// re-adding recent items) only refreshes its time.
func (c *Clusterer) Add(incidentID string, sig Signature) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(incidentID, sig)
}

func (c *Clusterer) add(id string, sig Signature) {
	inc := c.incidents[id]
	if inc == nil {
		c.created++
		inc = &state{n: c.created, id: id, first: sig.Time, last: sig.Time}
		if n := len(c.free); n > 0 {
			inc.slot = c.free[n-1]
			c.free = c.free[:n-1]
			c.slots[inc.slot] = inc
			c.bounds[inc.slot] = restBound{}
		} else {
			inc.slot = int32(len(c.slots))
			c.slots = append(c.slots, inc)
			c.bounds = append(c.bounds, restBound{})
		}
		c.incidents[id] = inc
	}
	if !sig.Time.IsZero() {
		if inc.first.IsZero() || sig.Time.Before(inc.first) {
			inc.first = sig.Time
		}
		if sig.Time.After(inc.last) {
			inc.last = sig.Time
		}
	}
	if sig.Link != "" {
		c.links[sig.Link] = inc
		if !slices.Contains(inc.links, sig.Link) {
			inc.links = append(inc.links, sig.Link)
		}
	}
	for _, m := range inc.members {
		if sameContent(m.sig, sig) {
			if sig.Time.After(m.sig.Time) {
				m.sig.Time = sig.Time
				m.f.t = sig.Time
			}
			return
		}
	}
	if sig.Roundup {
		// A roundup lists several stories: it attracts none of them.
		return
	}
	for _, id := range sig.CVEs {
		if !slices.Contains(inc.cves, id) {
			inc.cves = append(inc.cves, id)
		}
	}
	m := &member{sig: sig}
	m.f = c.vocab.features(&m.sig, true)
	if len(inc.members) < maxMembers {
		inc.members = append(inc.members, m)
	} else {
		copy(inc.members[1:], inc.members[2:])
		inc.members[len(inc.members)-1] = m
	}
	ks, rest := keys(&sig, false)
	if m.f.norm > 0 {
		b := &c.bounds[inc.slot]
		b.rest = max(b.rest, math.Sqrt(rest.sq)/m.f.norm)
		b.max = max(b.max, rest.max/m.f.norm)
	}
	for _, k := range ks {
		w := 0.0
		if m.f.norm > 0 {
			w = math.Sqrt(k.w2) / m.f.norm
		}
		i := slices.IndexFunc(inc.keys, func(sk stateKey) bool { return sk.name == k.name })
		switch {
		case i < 0:
			c.postings[k.name] = append(c.postings[k.name], posting{inc.slot, w})
			inc.keys = append(inc.keys, stateKey{k.name, w})
		case w > inc.keys[i].w:
			// A later member weighs the key more: rare, and its
			// posting is near the end.
			p := c.postings[k.name]
			for j := len(p) - 1; j >= 0; j-- {
				if p[j].slot == inc.slot {
					p[j].w = w
					break
				}
			}
			inc.keys[i].w = w
		}
	}
}

func sameContent(a, b Signature) bool {
	return a.Link == b.Link && slices.Equal(a.Terms, b.Terms) && slices.Equal(a.Lead, b.Lead) &&
		slices.Equal(a.CVEs, b.CVEs)
}

// Match finds the incident sig belongs to: the incident already holding
// its link (score 1), or else the incident within the window whose most
// similar member scores at least the threshold with enough shared
// specifics. Ties go to the incident seen most recently, then to the
// smaller ID, so the answer is stable.
func (c *Clusterer) Match(sig Signature) (incidentID string, score float64, ok bool) {
	id, why, ok := c.Explain(sig)
	return id, why.Score, ok
}

// Explain is Match with the reasons: the explanation of the best
// member's score (for a shared link, Link is set and Score is 1).
func (c *Clusterer) Explain(sig Signature) (incidentID string, why Explanation, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	inc, why := c.match(sig, true)
	if inc == nil {
		return "", Explanation{}, false
	}
	return inc.id, why, true
}

func (c *Clusterer) match(sig Signature, explain bool) (*state, Explanation) {
	if sig.Link != "" {
		if inc := c.links[sig.Link]; inc != nil {
			return inc, Explanation{Score: 1, Link: true}
		}
	}
	if sig.Roundup {
		return nil, Explanation{}
	}
	f := c.vocab.features(&sig, false)
	if f.norm == 0 {
		return nil, Explanation{}
	}
	// Take the keys rarest first, accumulating per incident what each can
	// add to its cosine. Once the keys left, with every term that is not
	// a key, could not lift an incident that shares none of the keys
	// taken so far to the threshold (the cosine is at most the weight of
	// what is shared over the query's norm), the commoner keys need not
	// nominate: any incident worth scoring shares a rarer key too.
	ks, nk := keys(&sig, true)
	// The subject bonus needs a headline name of the query that is an
	// index key, shared: like a CVE, only incidents found under such a
	// key can earn it.
	subjects := len(sig.Names) > 0 && concreteAttack(sig.Attacks)
	nonKey2 := nk.sq
	rest2 := nonKey2
	type nominee struct {
		indexKey
		subject  bool
		postings []posting
	}
	ns := make([]nominee, len(ks))
	cves, subjs := 0, 0
	for i, k := range ks {
		ns[i] = nominee{k, subjects && !k.cve && slices.Contains(sig.Names, k.name), c.postings[k.name]}
		rest2 += k.w2
		if k.cve {
			cves++
		}
		if ns[i].subject {
			subjs++
		}
	}
	slices.SortFunc(ns, func(a, b nominee) int { return cmp.Compare(len(a.postings), len(b.postings)) })
	// sc.acc[slot] accumulates what the taken keys can add to an
	// incident's cosine; with what the rest can add, it bounds the score.
	sc := c.scratch.Get().(*scratch)
	defer c.scratch.Put(sc)
	sc.reset(len(c.slots))
	for _, k := range ns {
		b := math.Sqrt(max(0, rest2)) / f.norm
		if cves > 0 {
			b += cveBonus
		}
		if subjs > 0 {
			b += subjectBonus
		}
		if b < c.threshold {
			break
		}
		rest2 -= k.w2
		if k.cve {
			cves--
		}
		if k.subject {
			subjs--
		}
		wq := math.Sqrt(k.w2) / f.norm
		for _, p := range k.postings {
			a := &sc.slot[p.slot]
			if a.gen != sc.gen {
				*a = slotAcc{gen: sc.gen}
				sc.touched = append(sc.touched, p.slot)
			}
			a.acc += wq * p.w
			a.cve = a.cve || k.cve
			a.subject = a.subject || k.subject
		}
	}
	// What the keys not taken can add, and what the terms that are not
	// keys can: at most their norm times the norm of the member's terms
	// that are not keys, and at most their sum times the member's
	// heaviest such term (both over the norms).
	untaken := math.Sqrt(max(0, rest2-nonKey2)) / f.norm
	if cves > 0 {
		untaken += cveBonus
	}
	if subjs > 0 {
		untaken += subjectBonus
	}
	nonKeyL2, nonKeyL1 := math.Sqrt(nonKey2)/f.norm, nk.sum/f.norm
	cands := make([]*state, 0, 16)
	for _, s := range sc.touched {
		a, r := sc.slot[s], c.bounds[s]
		b := a.acc + untaken + min(nonKeyL2*r.rest, nonKeyL1*r.max)
		if a.cve {
			b += cveBonus
		}
		if a.subject {
			b += subjectBonus
		}
		if b < c.threshold {
			continue
		}
		if inc := c.slots[s]; c.inWindow(inc, sig.Time) && !cveConflict(sig.CVEs, inc.cves) {
			cands = append(cands, inc)
		}
	}
	slices.SortFunc(cands, func(a, b *state) int { return cmp.Compare(a.n, b.n) })
	var best *state
	var bestWhy Explanation
	for _, inc := range cands {
		for _, m := range inc.members {
			why, ok := c.vocab.compare(&f, &m.f, false, c.threshold)
			if !ok || why.Score < c.threshold {
				continue
			}
			if best == nil || why.Score > bestWhy.Score || (why.Score == bestWhy.Score && better(inc, best)) {
				best, bestWhy = inc, why
				if explain {
					bestWhy, _ = c.vocab.compare(&f, &m.f, true, c.threshold)
				}
			}
		}
	}
	return best, bestWhy
}

// cveConflict reports whether a headline naming CVEs q meets an
// incident whose headlines name only others.
func cveConflict(q, inc []string) bool {
	return len(q) > 0 && len(inc) > 0 && !intersects(q, inc)
}

// better breaks score ties deterministically.
func better(a, b *state) bool {
	if !a.last.Equal(b.last) {
		return a.last.After(b.last)
	}
	return a.id < b.id
}

func (c *Clusterer) inWindow(inc *state, t time.Time) bool {
	if t.IsZero() || inc.last.IsZero() {
		return true
	}
	return t.Sub(inc.last) <= c.window && inc.first.Sub(t) <= c.window
}

// Assign matches sig and adds it in one step: to the matched incident, or
// to a new incident newID. It reports the incident and whether sig joined
// an existing one. Unlike Match then Add, two concurrent calls for similar
// items cannot both start an incident.
func (c *Clusterer) Assign(sig Signature, newID string) (incidentID string, score float64, joined bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc, why := c.match(sig, false)
	if inc == nil {
		c.add(newID, sig)
		return newID, 0, false
	}
	c.add(inc.id, sig)
	return inc.id, why.Score, true
}

// Prune forgets incidents whose newest member is older than the window
// at now, with their links and index entries.
func (c *Clusterer) Prune(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cutoff := now.Add(-c.window)
	touched := make(map[string]bool)
	for id, inc := range c.incidents {
		if inc.last.IsZero() || !inc.last.Before(cutoff) {
			continue
		}
		delete(c.incidents, id)
		c.slots[inc.slot] = nil
		c.free = append(c.free, inc.slot)
		for _, l := range inc.links {
			if c.links[l] == inc {
				delete(c.links, l)
			}
		}
		for _, k := range inc.keys {
			touched[k.name] = true
		}
	}
	for k := range touched {
		p := c.postings[k]
		live := slices.DeleteFunc(p, func(p posting) bool { return c.slots[p.slot] == nil })
		if len(live) == 0 {
			delete(c.postings, k)
		} else {
			c.postings[k] = live
		}
	}
	// New names keep arriving; re-intern the live members once the
	// vocabulary is mostly dead terms, so memory follows the window.
	live := 0
	for _, inc := range c.incidents {
		for _, m := range inc.members {
			live += len(m.f.ids)
		}
	}
	if len(c.vocab.terms) > 2*live+4096 {
		c.vocab = newVocab()
		for _, inc := range c.incidents {
			for _, m := range inc.members {
				m.f = c.vocab.features(&m.sig, true)
			}
		}
	}
}

// Len is the number of incidents remembered.
func (c *Clusterer) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.incidents)
}

// Compare explains how alike two signatures are, as Match would judge a
// report against one member: the explanation and whether its score and
// specifics suffice at the default threshold. Links and the window are
// not considered.
func Compare(a, b Signature) (Explanation, bool) {
	v := newVocab()
	fb := v.features(&b, true)
	fa := v.features(&a, true)
	why, ok := v.compare(&fa, &fb, true, 0)
	return why, ok && why.Score >= DefaultThreshold
}

// concreteAttack reports whether attacks name a kind of attack, not only
// a policy story or no attack.
func concreteAttack(attacks []string) bool {
	return slices.ContainsFunc(attacks, func(a string) bool { return a != "policy" && a != "not-an-attack" })
}
