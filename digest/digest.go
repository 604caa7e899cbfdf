package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Searcher answers queries in accordwatch's query language; *index.Index
// implements it. It must be safe for the sequential calls Build makes;
// errors other than a query's own are returned by Build.
type Searcher interface {
	Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error)
}

// FeedHealthSource lists every feed with its current state.
type FeedHealthSource interface {
	FeedHealth() ([]accordwatch.FeedHealth, error)
}

// Section is a saved search shown as its own part of the digest.
type Section struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

// Options configure Build.
type Options struct {
	// Now is the clock; default time.Now. It stamps the report and picks
	// the default range (the previous ISO week).
	Now func() time.Time
	// Location is the zone of weeks and days; default UTC.
	Location *time.Location
	// BaseURL is the web UI ("https://accord.example.org"); when set,
	// every count links to its search there. Must be http or https.
	BaseURL string
	// Sections are the user's saved searches from the config.
	Sections []Section
}

// Limits of what a report lists.
const (
	topIncidents = 10
	topRows      = 10
	sectionHits  = 5
	// maxHits bounds how many hits of the range are read. A week holds a
	// few hundred items; past this the report says it is partial.
	maxHits = 20_000
	// maxFirstSeen bounds the per-name "seen before?" queries.
	maxFirstSeen = 100
	// quietWeeks and quietMinPerWeek define "usually busy": at least 3
	// items a week on average over the 4 weeks before the range.
	quietWeeks      = 4
	quietMinPerWeek = 3
)

// Count is one number in the report with the search that reproduces it.
type Count struct {
	// Name is what is counted: a principle, state, actor, signatory,
	// attack type or day; "" for a total.
	Name string `json:"name,omitempty"`
	// Label is Name as shown ("No offense" for "no-offense").
	Label string `json:"label,omitempty"`
	N     int    `json:"count"`
	// Filter is the clause that narrows the range to this count
	// ("actor:\"APT28\""); "" for a total.
	Filter string `json:"filter,omitempty"`
	// Query is the full query that returns exactly these items.
	Query string `json:"query"`
	// Link is the web UI's search for Query; "" without a BaseURL.
	Link string `json:"link,omitempty"`
}

// Incident is one item of the report with why it was tagged.
type Incident struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Link is the item's own link when it is http(s), else "".
	Link        string    `json:"link,omitempty"`
	Feed        string    `json:"feed"`
	Published   time.Time `json:"published"`
	Severity    int       `json:"severity"`
	Signatories []string  `json:"signatories,omitempty"`
	States      []string  `json:"states,omitempty"`
	Actors      []string  `json:"actors,omitempty"`
	AttackTypes []string  `json:"attack_types,omitempty"`
	Principles  []string  `json:"principles,omitempty"`
	// Why lists the tags that made it an incident, e.g. "state: Russia".
	Why []string `json:"why,omitempty"`
}

// Quiet is a signatory that is usually in the news and was not this time.
type Quiet struct {
	Name string `json:"name"`
	// PerWeek is its weekly average over the weeks before the range.
	PerWeek float64 `json:"per_week"`
	// Before counts the quietWeeks weeks before the range; Now the range.
	Before Count `json:"before"`
	Now    Count `json:"now"`
}

// FeedProblem is a feed that was failing during the range.
type FeedProblem struct {
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Since    time.Time `json:"since,omitempty"`
	Failures int       `json:"failures"`
	Status   int       `json:"status,omitempty"`
	Error    string    `json:"error,omitempty"`
	// Recovered is set when the feed's last attempt succeeded.
	Recovered bool `json:"recovered,omitempty"`
}

// SectionResult is a saved search run over the range.
type SectionResult struct {
	Name  string     `json:"name"`
	Count Count      `json:"count"`
	Hits  []Incident `json:"hits"`
	// Error is the query's problem (a syntax error) when it could not run.
	Error string `json:"error,omitempty"`
}

// Report is a digest for one range.
type Report struct {
	// Week is the ISO week ("2026-W47") when the range is exactly one.
	Week string `json:"week,omitempty"`
	// Title names the range: the week, or "2026-11-01 – 2026-11-30".
	Title    string    `json:"title"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Location string    `json:"location"`
	// Generated is when the report was built.
	Generated time.Time `json:"generated"`
	BaseURL   string    `json:"base_url,omitempty"`

	Total    Count `json:"total"`
	Previous Count `json:"previous"`
	// Partial is set when the range held more than maxHits items: totals
	// are exact, breakdowns count the newest maxHits.
	Partial bool `json:"partial,omitempty"`

	ByPrinciple []Count `json:"by_principle"`
	ByState     []Count `json:"by_state"`
	ByActor     []Count `json:"by_actor"`
	BySignatory []Count `json:"by_signatory"`
	ByAttack    []Count `json:"by_attack"`
	// Daily counts each day of the range in Location.
	Daily []Count `json:"daily"`

	TopIncidents   []Incident      `json:"top_incidents"`
	NewActors      []Count         `json:"new_actors"`
	NewSignatories []Count         `json:"new_signatories"`
	Quiet          []Quiet         `json:"quiet_signatories"`
	UnhealthyFeeds []FeedProblem   `json:"unhealthy_feeds"`
	Sections       []SectionResult `json:"sections"`
}

// Empty reports whether no item matched in the range.
func (r *Report) Empty() bool { return r.Total.N == 0 }

// Span names the range by its local days, the last one inclusive:
// "Mon 16 Nov – Sun 22 Nov 2026 (Europe/Brussels)".
func (r *Report) Span() string {
	loc := r.loc()
	f, l := r.From.In(loc), r.To.Add(-time.Nanosecond).In(loc)
	first := f.Format("Mon 2 Jan")
	if f.Year() != l.Year() {
		first = f.Format("Mon 2 Jan 2006")
	}
	return first + " – " + l.Format("Mon 2 Jan 2006") + " (" + r.Location + ")"
}

// Change is Total minus Previous.
func (r *Report) Change() int { return r.Total.N - r.Previous.N }

// ChangeText says the week-over-week change in words: "up 4 (+50%) from 8",
// "down 2 (−20%) from 10", "same as the 5", "up 3 from none".
func (r *Report) ChangeText() string {
	d, prev := r.Change(), r.Previous.N
	switch {
	case d == 0:
		return fmt.Sprintf("the same as the %d before", prev)
	case prev == 0:
		return fmt.Sprintf("up %d from none before", d)
	case d > 0:
		return fmt.Sprintf("up %d (+%d%%) from %d before", d, pct(d, prev), prev)
	default:
		return fmt.Sprintf("down %d (−%d%%) from %d before", -d, pct(-d, prev), prev)
	}
}

func pct(d, base int) int { return (d*100 + base/2) / base }

// Build makes the report for [from, to). With both zero it covers the
// previous ISO week in o.Location. Every count is computed from index
// queries and carries the query that reproduces it. A saved section whose
// query is invalid is reported in the section, not as an error; a failing
// index or feed-health source is an error.
func Build(ctx context.Context, s Searcher, feeds FeedHealthSource, from, to time.Time, o Options) (*Report, error) {
	if s == nil {
		return nil, errors.New("digest: no searcher")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	if base != "" && safeURL(base) == "" {
		return nil, fmt.Errorf("digest: base URL %q must be an http or https URL", o.BaseURL)
	}
	now := o.Now()
	if from.IsZero() && to.IsZero() {
		_, from, to = PreviousWeek(now, loc)
	}
	if !to.After(from) {
		return nil, fmt.Errorf("digest: range end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	from, to = from.In(loc), to.In(loc)
	b := &builder{s: s, loc: loc, base: base}
	r := &Report{
		From: from, To: to, Location: loc.String(), Generated: now.In(loc), BaseURL: base,
		Title: rangeTitle(from, to, loc),
	}
	if w, ok := isWeek(from, to, loc); ok {
		r.Week, r.Title = w, w
	}
	rq := rangeQuery(from, to, loc)

	// All hits of the range: breakdowns, top incidents and the names to
	// check for "first seen" come from them.
	hits, total, err := b.all(ctx, rq, maxHits)
	if err != nil {
		return nil, err
	}
	r.Total = b.count("", "", total, "", rq)
	r.Partial = len(hits) < total
	pf, pt := previousRange(from, to, loc)
	prevQ := rangeQuery(pf, pt, loc)
	prevN, err := b.total(ctx, prevQ)
	if err != nil {
		return nil, err
	}
	r.Previous = b.count("", "", prevN, "", prevQ)

	r.ByPrinciple = b.byPrinciple(hits, rq)
	r.ByState = b.breakdown(hits, rq, "state", func(h accordwatch.SearchHit) []string { return h.States })
	r.ByActor = b.breakdown(hits, rq, "actor", func(h accordwatch.SearchHit) []string { return h.Actors })
	r.BySignatory = b.breakdown(hits, rq, "signatory", func(h accordwatch.SearchHit) []string { return h.Signatories })
	r.ByAttack = b.breakdown(hits, rq, "attack", func(h accordwatch.SearchHit) []string { return h.AttackTypes })
	r.Daily = b.daily(hits, from, to)
	r.TopIncidents = topBySeverity(hits, topIncidents)

	if r.NewActors, err = b.firstSeen(ctx, hits, rq, from, "actor", func(h accordwatch.SearchHit) []string { return h.Actors }); err != nil {
		return nil, err
	}
	if r.NewSignatories, err = b.firstSeen(ctx, hits, rq, from, "signatory", func(h accordwatch.SearchHit) []string { return h.Signatories }); err != nil {
		return nil, err
	}
	if r.Quiet, err = b.quiet(ctx, hits, rq, from); err != nil {
		return nil, err
	}
	if feeds != nil {
		list, err := feeds.FeedHealth()
		if err != nil {
			return nil, fmt.Errorf("digest: feed health: %w", err)
		}
		r.UnhealthyFeeds = unhealthy(list, from, to)
	}
	for _, sec := range o.Sections {
		r.Sections = append(r.Sections, b.section(ctx, sec, rq))
	}
	return r, nil
}

// builder runs the report's queries.
type builder struct {
	s    Searcher
	loc  *time.Location
	base string
}

// count makes a Count; q is the full query.
func (b *builder) count(name, label string, n int, filter, q string) Count {
	c := Count{Name: name, Label: label, N: n, Filter: filter, Query: q}
	if b.base != "" {
		c.Link = b.base + "/?q=" + url.QueryEscape(q)
	}
	return c
}

// counter is implemented by a searcher that can count exactly (the index).
type counter interface {
	CountMatching(ctx context.Context, q string) (uint64, error)
}

// total returns how many items match q.
func (b *builder) total(ctx context.Context, q string) (int, error) {
	// Only the total is read: no facets to count.
	res, err := b.s.Search(ctx, accordwatch.SearchRequest{Query: q, Size: 1, Sort: accordwatch.SortNewest, Facets: accordwatch.FacetsNone})
	if err != nil {
		return 0, fmt.Errorf("digest: search %q: %w", q, err)
	}
	if res.TotalAtLeast {
		// The index stopped counting; a digest's numbers must be exact.
		// The index itself can count; a remote searcher is paged through.
		if c, ok := b.s.(counter); ok {
			n, err := c.CountMatching(ctx, q)
			return int(n), err
		}
		_, n, err := b.all(ctx, q, math.MaxInt)
		return n, err
	}
	return int(res.Total), nil
}

// all returns up to limit hits of q, newest first, and q's total.
func (b *builder) all(ctx context.Context, q string, limit int) ([]accordwatch.SearchHit, int, error) {
	const page = 1000 // the index's largest page
	var hits []accordwatch.SearchHit
	req := accordwatch.SearchRequest{Query: q, Size: page, Sort: accordwatch.SortNewest, Facets: accordwatch.FacetsNone}
	total := 0
	for {
		res, err := b.s.Search(ctx, req)
		if err != nil {
			return nil, 0, fmt.Errorf("digest: search %q: %w", q, err)
		}
		hits = append(hits, res.Hits...)
		// A total the index marks "at least" is a lower bound: page on
		// until the cursor runs out.
		total = max(int(res.Total), len(hits))
		done := len(hits) >= total && !res.TotalAtLeast
		if len(res.Hits) == 0 || done || len(hits) >= limit || (res.TotalAtLeast && res.Next == "") {
			break
		}
		if res.Next != "" {
			req.After, req.From = res.Next, 0
		} else {
			req.From = len(hits)
		}
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, total, nil
}

// principleLabels are the principles as a reader sees them.
var principleLabels = map[string]string{
	string(accordwatch.StrongerDefense):  "Stronger defense",
	string(accordwatch.NoOffense):        "No offense",
	string(accordwatch.CapacityBuilding): "Capacity building",
	string(accordwatch.CollectiveAction): "Collective action",
}

// PrincipleLabel is how a principle reads in a report.
func PrincipleLabel(p string) string {
	if l, ok := principleLabels[p]; ok {
		return l
	}
	return p
}

// byPrinciple counts all four principles, in the accord's order, zeros
// included: the chart always has four bars.
func (b *builder) byPrinciple(hits []accordwatch.SearchHit, rq string) []Count {
	n := map[string]int{}
	for _, h := range hits {
		for _, p := range dedupe(h.Principles) {
			n[p]++
		}
	}
	out := make([]Count, 0, len(accordwatch.Principles))
	for _, p := range accordwatch.Principles {
		f := tagFilter("principle", string(p))
		out = append(out, b.count(string(p), PrincipleLabel(string(p)), n[string(p)], f, and(rq, f)))
	}
	return out
}

// breakdown counts hits per value of one tag, most first, at most topRows.
func (b *builder) breakdown(hits []accordwatch.SearchHit, rq, field string, vals func(accordwatch.SearchHit) []string) []Count {
	n := map[string]int{}
	for _, h := range hits {
		for _, v := range dedupe(vals(h)) {
			n[v]++
		}
	}
	names := sortedByCount(n)
	if len(names) > topRows {
		names = names[:topRows]
	}
	out := make([]Count, 0, len(names))
	for _, v := range names {
		f := tagFilter(field, v)
		out = append(out, b.count(v, v, n[v], f, and(rq, f)))
	}
	return out
}

// sortedByCount orders names by count, most first, then by name.
func sortedByCount(n map[string]int) []string {
	names := make([]string, 0, len(n))
	for v := range n {
		names = append(names, v)
	}
	slices.SortFunc(names, func(a, c string) int {
		if d := cmp.Compare(n[c], n[a]); d != 0 {
			return d
		}
		return cmp.Compare(a, c)
	})
	return names
}

// daily counts hits per local day of [from, to).
func (b *builder) daily(hits []accordwatch.SearchHit, from, to time.Time) []Count {
	n := map[string]int{}
	for _, h := range hits {
		n[h.Published.In(b.loc).Format(time.DateOnly)]++
	}
	var out []Count
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, b.loc)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		lo, hi := maxTime(day, from), minTime(day.AddDate(0, 0, 1), to)
		name := day.Format(time.DateOnly)
		q := rangeQuery(lo, hi, b.loc)
		out = append(out, b.count(name, day.Format("Mon 2 Jan"), n[name], "", q))
	}
	return out
}

func maxTime(a, c time.Time) time.Time {
	if a.After(c) {
		return a
	}
	return c
}

func minTime(a, c time.Time) time.Time {
	if a.Before(c) {
		return a
	}
	return c
}

// topBySeverity returns the n most severe hits, newest first among equals.
func topBySeverity(hits []accordwatch.SearchHit, n int) []Incident {
	sorted := slices.Clone(hits)
	slices.SortStableFunc(sorted, func(a, c accordwatch.SearchHit) int {
		if d := cmp.Compare(c.Severity, a.Severity); d != 0 {
			return d
		}
		if d := c.Published.Compare(a.Published); d != 0 {
			return d
		}
		return cmp.Compare(a.ID, c.ID)
	})
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	out := make([]Incident, 0, len(sorted))
	for _, h := range sorted {
		out = append(out, incident(h))
	}
	return out
}

// incident converts a hit, keeping its link only when it is http(s).
func incident(h accordwatch.SearchHit) Incident {
	in := Incident{
		ID: h.ID, Title: strings.Join(strings.Fields(h.Title), " "), Link: safeURL(h.Link), Feed: h.Feed,
		Published: h.Published, Severity: h.Severity,
		Signatories: h.Signatories, States: h.States, Actors: h.Actors, AttackTypes: h.AttackTypes, Principles: h.Principles,
	}
	if in.Title == "" {
		in.Title = "(untitled)"
	}
	add := func(kind string, vals []string) {
		if len(vals) > 0 {
			in.Why = append(in.Why, kind+": "+strings.Join(vals, ", "))
		}
	}
	add("signatory", h.Signatories)
	add("state", h.States)
	add("actor", h.Actors)
	add("attack", h.AttackTypes)
	labels := make([]string, 0, len(h.Principles))
	for _, p := range h.Principles {
		labels = append(labels, PrincipleLabel(p))
	}
	add("principle", labels)
	return in
}

// firstSeen lists the values of field present in the range that no item
// before from carries, checked with one query each (most frequent first,
// at most maxFirstSeen).
func (b *builder) firstSeen(ctx context.Context, hits []accordwatch.SearchHit, rq string, from time.Time, field string, vals func(accordwatch.SearchHit) []string) ([]Count, error) {
	n := map[string]int{}
	for _, h := range hits {
		for _, v := range dedupe(vals(h)) {
			n[v]++
		}
	}
	names := sortedByCount(n)
	if len(names) > maxFirstSeen {
		names = names[:maxFirstSeen]
	}
	var out []Count
	for _, v := range names {
		f := tagFilter(field, v)
		before, err := b.total(ctx, and(f, "published:<"+stamp(from, b.loc)))
		if err != nil {
			return nil, err
		}
		if before == 0 {
			out = append(out, b.count(v, v, n[v], f, and(rq, f)))
		}
	}
	return out, nil
}

// quiet finds signatories with at least quietMinPerWeek items a week over
// the quietWeeks weeks before from and none in the range. Candidates come
// from the signatory facet of those weeks — once over all their items and
// once without the signatories present now, so that the busiest present
// ones cannot crowd an absent one out of the facet's top values — and each
// is then counted exactly.
func (b *builder) quiet(ctx context.Context, hits []accordwatch.SearchHit, rq string, from time.Time) ([]Quiet, error) {
	present := map[string]bool{}
	for _, h := range hits {
		for _, s := range h.Signatories {
			present[s] = true
		}
	}
	bq := rangeQuery(from.AddDate(0, 0, -7*quietWeeks), from, b.loc)
	queries := []string{bq}
	if len(present) > 0 {
		var fs []string
		for _, s := range sortedKeys(present) {
			fs = append(fs, tagFilter("signatory", s))
		}
		queries = append(queries, bq+" AND NOT ("+strings.Join(fs, " OR ")+")")
	}
	candidates := map[string]bool{}
	for _, q := range queries {
		res, err := b.s.Search(ctx, accordwatch.SearchRequest{Query: q, Size: 1, Sort: accordwatch.SortNewest, Facets: "signatory"})
		if err != nil {
			return nil, fmt.Errorf("digest: search %q: %w", q, err)
		}
		for _, fc := range res.Facets["signatory"] {
			if !present[fc.Value] && fc.Count >= quietWeeks*quietMinPerWeek {
				candidates[fc.Value] = true
			}
		}
	}
	var out []Quiet
	for _, s := range sortedKeys(candidates) {
		f := tagFilter("signatory", s)
		n, err := b.total(ctx, and(bq, f))
		if err != nil {
			return nil, err
		}
		if n < quietWeeks*quietMinPerWeek {
			continue
		}
		out = append(out, Quiet{
			Name: s, PerWeek: float64(n) / quietWeeks,
			Before: b.count(s, s, n, f, and(bq, f)),
			Now:    b.count(s, s, 0, f, and(rq, f)),
		})
	}
	slices.SortStableFunc(out, func(a, c Quiet) int { return cmp.Compare(c.Before.N, a.Before.N) })
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// unhealthy lists enabled feeds failing at some point of [from, to) as far
// as their state tells: a run of failures that began before to and has
// not ended, or a last failed attempt inside the range. A feed that failed
// and recovered inside the range leaves no trace in its state.
func unhealthy(list []accordwatch.FeedHealth, from, to time.Time) []FeedProblem {
	var out []FeedProblem
	for _, fh := range list {
		// The digest is posted and written to files: a failed poll's
		// reason may quote a feed URL with its credentials.
		fh = fh.Redacted()
		st := fh.State
		if fh.Feed.Disabled {
			continue
		}
		failing := !st.UnhealthySince.IsZero() && st.UnhealthySince.Before(to)
		failedInRange := st.ConsecutiveFailures > 0 && !st.LastAttempt.Before(from) && st.LastAttempt.Before(to)
		if !failing && !failedInRange {
			continue
		}
		name := fh.Feed.Name
		if name == "" {
			name = st.Title
		}
		if name == "" {
			name = fh.Feed.URL
		}
		out = append(out, FeedProblem{
			Name: name, URL: fh.Feed.URL, Since: st.UnhealthySince, Failures: st.ConsecutiveFailures,
			Status: st.LastStatus, Error: st.LastError, Recovered: st.Healthy(),
		})
	}
	slices.SortFunc(out, func(a, c FeedProblem) int {
		if d := a.Since.Compare(c.Since); d != 0 {
			return d
		}
		return cmp.Compare(a.Name, c.Name)
	})
	return out
}

// section runs one saved search over the range.
func (b *builder) section(ctx context.Context, sec Section, rq string) SectionResult {
	res := SectionResult{Name: sec.Name}
	q := strings.TrimSpace(sec.Query)
	full := rq
	if q != "" {
		full = "(" + q + ") AND " + rq
	}
	res.Count = b.count(sec.Name, sec.Name, 0, q, full)
	hits, total, err := b.all(ctx, full, 1000)
	if err != nil {
		// A saved search with a syntax error must not cost the whole
		// digest. The index already answered the report's own queries, so
		// an error here is this query's.
		res.Error = strings.TrimPrefix(err.Error(), "digest: ")
		return res
	}
	res.Count.N = total
	res.Hits = topBySeverity(hits, sectionHits)
	return res
}

// rangeQuery is the query for [from, to): an inclusive lower and an
// exclusive upper bound, written in loc so users read their own time.
func rangeQuery(from, to time.Time, loc *time.Location) string {
	return "published:[" + stamp(from, loc) + " TO " + stamp(to, loc) + "}"
}

func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

// tagFilter is field:"value", quoted so names with spaces and dots work.
func tagFilter(field, value string) string { return field + ":" + accordwatch.QuoteValue(value) }

func and(a, c string) string { return a + " AND " + c }

// dedupe drops repeated values, keeping order (a hit counts once per name).
func dedupe(vals []string) []string {
	if len(vals) < 2 {
		return vals
	}
	seen := make(map[string]bool, len(vals))
	out := vals[:0:0]
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// safeURL returns raw when it is an absolute http(s) URL, else "": only
// those are ever rendered as links.
func safeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

// rangeTitle names a range that is not one ISO week by its local days,
// the last one inclusive.
func rangeTitle(from, to time.Time, loc *time.Location) string {
	last := to.Add(-time.Nanosecond).In(loc)
	f := from.In(loc)
	if f.Format(time.DateOnly) == last.Format(time.DateOnly) {
		return f.Format(time.DateOnly)
	}
	return f.Format(time.DateOnly) + " – " + last.Format(time.DateOnly)
}
