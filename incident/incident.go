package incident

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// Defaults for Options fields left zero.
const (
	DefaultWindow = 72 * time.Hour
	// DefaultThreshold keeps every different-event pair of the labelled
	// set (testdata/pairs.json) apart, with a margin over the highest of
	// them (0.35), and merges 58% of the same-event pairs; see
	// TestEvaluation. A wrong merge hides an alert, so precision wins.
	DefaultThreshold = 0.38
)

// A key nominates candidates only while at most max(minNominating,
// live incidents/nominatingShare) incidents hold it; see match.
const (
	minNominating   = 256
	nominatingShare = 20
)

// leadChars is how much of an item's text SignatureOf reads for CVE IDs.
const leadChars = 300

// Options configures a Clusterer.
type Options struct {
	// Window is how far apart in time an item and an incident may be and
	// still join: the item's time is compared with the incident's newest
	// member (and, for late arrivals, its oldest). 0 means DefaultWindow.
	Window time.Duration
	// Threshold is the similarity, 0..1, an item needs to join an incident
	// without sharing its link. 0 means DefaultThreshold.
	Threshold float64
}

// Signature is what the clusterer needs to know about an item. The
// monitor recomputes it from the stored item after a restart (SignatureOf
// is deterministic); its fields are exported and JSON-tagged because
// stores written by earlier versions hold signatures as JSON.
type Signature struct {
	// Link is the item's canonical link.
	Link string `json:"link,omitempty"`
	// Terms are the normalised headline terms, sorted and distinct.
	Terms []string `json:"terms,omitempty"`
	// CVEs are the CVE IDs the item is about, lower-cased, sorted and
	// distinct: those in the headline, or when it names none, those in the
	// text's lead. A headline's CVE defines the story; a lead often lists
	// related CVEs as context, which would merge different stories.
	CVEs []string `json:"cves,omitempty"`
	// Time is the item's publication time (its fetch time when it has none).
	Time time.Time `json:"time"`
}

// SignatureOf computes the signature of an item from its canonical link,
// its title and the first 300 characters of its text.
func SignatureOf(it accordwatch.Item) Signature {
	t := it.Published
	if t.IsZero() {
		t = it.Fetched
	}
	ids := cves(it.Title)
	if len(ids) == 0 {
		ids = cves(lead(it.Text, leadChars))
	}
	return Signature{
		Link:  it.Link,
		Terms: terms(it.Title),
		CVEs:  ids,
		Time:  t,
	}
}

func lead(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	// A CVE ID cut in half would read as a different CVE; drop the tail
	// from the last space.
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	return s
}

// Similarity scores how likely two signatures report the same event, 0..1,
// ignoring links and time: a weighted Jaccard over headline terms — zero
// when they share no name (non-generic term), halved when they share only
// one — then raised halfway to 1 when both name a common CVE, or halved
// when both name CVEs but none in common.
func Similarity(a, b Signature) float64 {
	v := newVocab()
	return score(v.features(&a, true), v.features(&b, true), v.weights)
}

// vocab interns terms, so that comparing two headlines is a merge of
// sorted integers with weights looked up by index.
type vocab struct {
	ids     map[string]uint32
	weights []float64
}

func newVocab() *vocab { return &vocab{ids: make(map[string]uint32)} }

// features are what score needs of a signature, computed once per member
// rather than once per comparison.
type features struct {
	ids    []uint32 // interned terms, sorted; unknown terms left out
	weight float64  // total weight of all terms, unknown ones included
	cves   []string
}

// features interns sig's terms when add is set; otherwise terms the vocab
// has never seen are left out of ids (no member can share them) but still
// count in the weight.
func (v *vocab) features(sig *Signature, add bool) features {
	f := features{ids: make([]uint32, 0, len(sig.Terms)), cves: sig.CVEs}
	for _, t := range sig.Terms {
		f.weight += weight(t)
		id, ok := v.ids[t]
		if !ok && add {
			id, ok = uint32(len(v.weights)), true
			v.ids[t] = id
			v.weights = append(v.weights, weight(t))
		}
		if ok {
			f.ids = append(f.ids, id)
		}
	}
	slices.Sort(f.ids)
	return f
}

func score(a, b features, weights []float64) float64 {
	s, names := jaccard(a.ids, b.ids, a.weight, b.weight, weights)
	switch names {
	case 0:
		// Only generic words in common ("data breach confirmed"): no
		// evidence of one event, however short the headlines are.
		s = 0
	case 1:
		// One shared name is a topic, not an event: "Microsoft patches
		// zero-day" and "Microsoft patches 57 flaws" share only Microsoft.
		s /= 2
	}
	if len(a.cves) > 0 && len(b.cves) > 0 {
		if intersects(a.cves, b.cves) {
			s = 0.5 + s/2
		} else {
			s /= 2
		}
	}
	return s
}

// jaccard is the weighted Jaccard index of two sorted term lists whose
// total weights are wa and wb, and the number of non-generic terms they
// share.
func jaccard(a, b []uint32, wa, wb float64, weights []float64) (float64, int) {
	var inter float64
	names := 0
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			w := weights[a[i]]
			inter += w
			if w > weightGeneric {
				names++
			}
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	if union := wa + wb - inter; union > 0 {
		return inter / union, names
	}
	return 0, names
}

func totalWeight(ts []string) float64 {
	var w float64
	for _, t := range ts {
		w += weight(t)
	}
	return w
}

func intersects(a, b []string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// keys are the index keys of a signature: its CVEs and its terms that are
// not generic. Generic terms are left out of the index so that a candidate
// list never holds every incident that mentions "breach"; a pair that
// shares only generic terms cannot reach a sensible threshold anyway.
func keys(sig Signature) []string {
	ks := make([]string, 0, len(sig.Terms)+len(sig.CVEs))
	ks = append(ks, sig.CVEs...) // "cve-…" never collides with a term: terms have no '-'
	for _, t := range sig.Terms {
		if weight(t) > weightGeneric {
			ks = append(ks, t)
		}
	}
	return ks
}

type member struct {
	sig Signature
	f   features
}

type state struct {
	n           uint64 // order of creation, to deduplicate candidates without a map
	id          string
	first, last time.Time
	members     []*member
	keys        map[string]bool // index keys of all members
	dead        bool
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
	created   uint64 // incidents ever created
	// postings is the inverted index: key (see keys) → incidents with a
	// member having it. Match scores only incidents that share a key,
	// never all of them.
	postings map[string][]*state
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
		postings:  make(map[string][]*state),
	}
}

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
		inc = &state{n: c.created, id: id, first: sig.Time, last: sig.Time, keys: make(map[string]bool)}
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
	}
	for _, m := range inc.members {
		if sameContent(m.sig, sig) {
			if sig.Time.After(m.sig.Time) {
				m.sig.Time = sig.Time
			}
			return
		}
	}
	m := &member{sig: sig}
	m.f = c.vocab.features(&m.sig, true)
	inc.members = append(inc.members, m)
	for _, k := range keys(sig) {
		if !inc.keys[k] {
			inc.keys[k] = true
			c.postings[k] = append(c.postings[k], inc)
		}
	}
}

func sameContent(a, b Signature) bool {
	return a.Link == b.Link && slices.Equal(a.Terms, b.Terms) && slices.Equal(a.CVEs, b.CVEs)
}

// Match finds the incident sig belongs to: the incident already holding
// its link (score 1), or else the incident within the window whose most
// similar member scores at least the threshold. Ties go to the incident
// seen most recently, then to the smaller ID, so the answer is stable.
func (c *Clusterer) Match(sig Signature) (incidentID string, score float64, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	inc, s := c.match(sig)
	if inc == nil {
		return "", 0, false
	}
	return inc.id, s, true
}

func (c *Clusterer) match(sig Signature) (*state, float64) {
	if sig.Link != "" {
		if inc := c.links[sig.Link]; inc != nil {
			return inc, 1
		}
	}
	f := c.vocab.features(&sig, false)
	hasCVE := len(sig.CVEs) > 0

	// Nominate candidates from the rarest keys only: once the keys left
	// (plus every generic term) could not lift an incident sharing none
	// of the keys taken so far to the threshold, the common keys need not
	// nominate — any incident worth scoring shares a rarer key too. So a
	// vendor in the news all week costs nothing unless it is all sig has.
	type key struct {
		postings []*state
		w        float64
	}
	ks := make([]key, 0, len(sig.Terms)+len(sig.CVEs))
	var generic float64
	for _, t := range sig.Terms {
		if w := weight(t); w <= weightGeneric {
			generic += w
		}
	}
	for _, k := range keys(sig) {
		w := weightTerm // a CVE's weight in score is its own rule; this only bounds
		if !strings.HasPrefix(k, "cve-") {
			w = weight(k)
		}
		ks = append(ks, key{c.postings[k], w})
	}
	slices.SortFunc(ks, func(a, b key) int { return cmp.Compare(len(a.postings), len(b.postings)) })
	rest := generic
	for _, k := range ks {
		rest += k.w
	}
	// A key held by a large share of live incidents never nominates, even
	// when sig has nothing rarer: it names a topic, not an event.
	limit := max(minNominating, len(c.incidents)/nominatingShare)
	var cands []*state
	for i, k := range ks {
		if upperBound(rest, f.weight, len(ks)-i, hasCVE) < c.threshold || len(k.postings) > limit {
			break
		}
		rest -= k.w
		cands = append(cands, k.postings...)
	}
	slices.SortFunc(cands, func(a, b *state) int { return cmp.Compare(a.n, b.n) })
	var best *state
	var bestScore float64
	for i, inc := range cands {
		if (i > 0 && cands[i-1] == inc) || inc.dead || !c.inWindow(inc, sig.Time) {
			continue
		}
		for _, m := range inc.members {
			s := score(f, m.f, c.vocab.weights)
			if s < c.threshold {
				continue
			}
			if best == nil || s > bestScore || (s == bestScore && better(inc, best)) {
				best, bestScore = inc, s
			}
		}
	}
	return best, bestScore
}

// upperBound is the most score can give a member that shares at most
// weight inter and names non-generic terms with a signature of total
// weight w (Jaccard's union is at least w), mirroring score's rules.
func upperBound(inter, w float64, names int, hasCVE bool) float64 {
	b := 1.0
	if w > 0 {
		b = min(1, inter/w)
	}
	if names <= 1 {
		b /= 2
	}
	if hasCVE {
		b = 0.5 + b/2
	}
	return b
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
	inc, s := c.match(sig)
	if inc == nil {
		c.add(newID, sig)
		return newID, 0, false
	}
	c.add(inc.id, sig)
	return inc.id, s, true
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
		inc.dead = true
		for _, m := range inc.members {
			if c.links[m.sig.Link] == inc {
				delete(c.links, m.sig.Link)
			}
		}
		for k := range inc.keys {
			touched[k] = true
		}
	}
	for k := range touched {
		p := c.postings[k]
		live := slices.DeleteFunc(p, func(inc *state) bool { return inc.dead })
		if len(live) == 0 {
			delete(c.postings, k)
		} else {
			c.postings[k] = live
		}
	}
	// New names keep arriving; re-intern the live members once the
	// vocabulary is mostly dead terms, so memory follows the window.
	if len(c.vocab.ids) > 2*len(c.postings)+4096 {
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
