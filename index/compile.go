package index

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
)

// titleBoost makes a word in the title count more than one in the text.
const titleBoost = 2.0

// compiler turns a syntax tree into bleve query objects.
type compiler struct {
	resolve func(field, value string) (string, bool)
	now     time.Time
	// analyzer is the text fields' analyzer, used to drop free-text words
	// it removes entirely (stop words such as "the" or "and"): bleve would
	// compile them to match-none and an AND with them would find nothing.
	analyzer analysis.Analyzer
}

// compile returns the bleve query for q; a query made only of ignorable
// words matches nothing.
func (c *compiler) compile(q *Query) query.Query {
	bq, ok := c.node(q.root)
	if !ok {
		return query.NewMatchNoneQuery()
	}
	return bq
}

// node compiles n. ok is false when n has no effect (a stop word): AND and
// OR skip such clauses.
func (c *compiler) node(n node) (query.Query, bool) {
	switch n := n.(type) {
	case allNode:
		return query.NewMatchAllQuery(), true
	case *andNode:
		return c.and(n.clauses)
	case *orNode:
		var qs []query.Query
		for _, cl := range n.clauses {
			if q, ok := c.node(cl); ok {
				qs = append(qs, q)
			}
		}
		switch len(qs) {
		case 0:
			return nil, false
		case 1:
			return qs[0], true
		}
		return query.NewDisjunctionQuery(qs), true
	case *notNode:
		return c.and([]node{n})
	case *textNode:
		return c.text(n)
	case *tagNode:
		v := c.tagValue(n.field, n.value)
		tq := query.NewTermQuery(v)
		tq.SetField(n.field)
		return tq, true
	case *boolNode:
		bq := query.NewBoolFieldQuery(n.value)
		bq.SetField(n.field)
		return bq, true
	case *rangeNode:
		return c.rangeQuery(n), true
	case *sinceNode:
		dq := query.NewDateRangeInclusiveQuery(c.now.Add(-n.d).UTC(), time.Time{}, ptr(true), nil)
		dq.SetField("published")
		return dq, true
	}
	// Unreachable: the parser builds only the node types above.
	return query.NewMatchNoneQuery(), true
}

// and compiles a conjunction. Negated clauses are collected into one
// "everything except" filter, so a query of only NOT clauses matches all
// items minus the excluded ones.
func (c *compiler) and(clauses []node) (query.Query, bool) {
	var must, mustNot []query.Query
	for _, cl := range clauses {
		if not, ok := cl.(*notNode); ok {
			if q, ok := c.node(not.clause); ok {
				mustNot = append(mustNot, q)
			}
			continue
		}
		if q, ok := c.node(cl); ok {
			must = append(must, q)
		}
	}
	if len(mustNot) > 0 {
		// MatchAll as the positive side keeps the exclusion self-contained:
		// bleve's BooleanQuery would otherwise treat a must clause that
		// matches nothing as absent and return everything.
		must = append(must, query.NewBooleanQuery([]query.Query{query.NewMatchAllQuery()}, nil, mustNot))
	}
	switch len(must) {
	case 0:
		return nil, false
	case 1:
		return must[0], true
	}
	return query.NewConjunctionQuery(must), true
}

// text compiles free text (title or text) or a title:/text: clause.
func (c *compiler) text(n *textNode) (query.Query, bool) {
	tokens := c.analyzer.Analyze([]byte(n.value))
	if len(tokens) == 0 {
		return nil, false
	}
	one := func(field string) query.Query {
		if !n.phrase && len(tokens) == 1 {
			// One word is a term query on its analysed form, not a match
			// query: bleve compiles a one-word match into a conjunction of
			// one, which hides the term from the searcher optimisations
			// that answer unscored searches (counting, newest first) by
			// OR-ing and AND-ing posting bitmaps.
			tq := query.NewTermQuery(string(tokens[0].Term))
			tq.SetField(field)
			if field == "title" && n.field == "" {
				tq.SetBoost(titleBoost)
			}
			return tq
		}
		if n.phrase {
			pq := newPhraseQuery(n.value, field)
			if field == "title" && n.field == "" {
				pq.SetBoost(titleBoost)
			}
			return pq
		}
		mq := query.NewMatchQuery(n.value)
		mq.SetField(field)
		// "CVE-2024-3400" analyses to several tokens: all must match.
		mq.SetOperator(query.MatchQueryOperatorAnd)
		if field == "title" && n.field == "" {
			mq.SetBoost(titleBoost)
		}
		return mq
	}
	if n.field != "" {
		return one(n.field), true
	}
	return query.NewDisjunctionQuery([]query.Query{one("title"), one("text")}), true
}

// tagValue resolves aliases and lower-cases, matching how tags are stored.
func (c *compiler) tagValue(field, value string) string {
	if c.resolve != nil && field != "feed" {
		if canon, ok := c.resolve(field, value); ok {
			value = canon
		}
	}
	return strings.ToLower(strings.TrimSpace(value))
}

func (c *compiler) rangeQuery(n *rangeNode) query.Query {
	if n.field == "published" {
		var start, end time.Time
		var si, ei *bool
		if n.lo != nil {
			start, si = n.lo.t, ptr(n.lo.incl)
		}
		if n.hi != nil {
			end, ei = n.hi.t, ptr(n.hi.incl)
		}
		if start.IsZero() && end.IsZero() {
			// published:[* TO *]: any date.
			start = time.Unix(0, 0).UTC().AddDate(-200, 0, 0)
		}
		dq := query.NewDateRangeInclusiveQuery(start, end, si, ei)
		dq.SetField(n.field)
		return dq
	}
	var lo, hi *float64
	var li, hiIncl *bool
	if n.lo != nil {
		lo, li = ptr(n.lo.num), ptr(n.lo.incl)
	}
	if n.hi != nil {
		hi, hiIncl = ptr(n.hi.num), ptr(n.hi.incl)
	}
	if lo == nil && hi == nil {
		// severity:[* TO *]: any value.
		lo, li = ptr(-1e308), ptr(true)
	}
	nq := query.NewNumericRangeInclusiveQuery(lo, hi, li, hiIncl)
	nq.SetField(n.field)
	return nq
}

func ptr[T any](v T) *T { return &v }

// dateBounds returns the published-date span [lo, hi] (zero = open) that
// every item matching n lies in, used to skip whole monthly partitions. It
// is conservative: hi may be an exclusive end, and anything it cannot
// bound (NOT, an OR with an unbounded side) is open.
func dateBounds(n node, now time.Time) (lo, hi time.Time) {
	switch n := n.(type) {
	case *rangeNode:
		if n.field != "published" {
			return
		}
		if n.lo != nil {
			lo = n.lo.t
		}
		if n.hi != nil {
			hi = n.hi.t
		}
	case *sinceNode:
		lo = now.Add(-n.d).UTC()
	case *andNode:
		for _, c := range n.clauses {
			l, h := dateBounds(c, now)
			if !l.IsZero() && (lo.IsZero() || l.After(lo)) {
				lo = l
			}
			if !h.IsZero() && (hi.IsZero() || h.Before(hi)) {
				hi = h
			}
		}
	case *orNode:
		for i, c := range n.clauses {
			l, h := dateBounds(c, now)
			if i == 0 {
				lo, hi = l, h
				continue
			}
			if l.IsZero() || l.Before(lo) {
				lo = l
			}
			if h.IsZero() || (!hi.IsZero() && h.After(hi)) {
				hi = h
			}
		}
	}
	return lo, hi
}

// compileFor returns q's bleve query for the partition p. A top-level
// published range or since: that every date of p satisfies is true there
// and left out: otherwise each hit of p would also be matched against a
// date range (a disjunction of prefix-coded terms) that cannot exclude it,
// and a query made only of such a range would walk p's documents where
// their count is known. Only clauses that the whole query ANDs are left
// out (through nested ANDs); a range under OR or NOT keeps its effect.
// full is c.compile(q), returned when no clause is left out.
func (c *compiler) compileFor(q *Query, full query.Query, p *partition) query.Query {
	clauses := andClauses(q.root, nil)
	kept := make([]node, 0, len(clauses))
	for _, cl := range clauses {
		if !c.coversPart(cl, p) {
			kept = append(kept, cl)
		}
	}
	switch {
	case len(kept) == len(clauses):
		return full
	case len(kept) == 0:
		return query.NewMatchAllQuery()
	}
	return c.compile(&Query{root: &andNode{clauses: kept}})
}

// andClauses appends to dst the clauses that n ANDs, through nested
// ANDs: "(state:russia since:30d) wiper" ANDs three.
func andClauses(n node, dst []node) []node {
	and, ok := n.(*andNode)
	if !ok {
		return append(dst, n)
	}
	for _, c := range and.clauses {
		dst = andClauses(c, dst)
	}
	return dst
}

// coversPart reports whether n is a published range or since: that every
// item of p matches: p holds the dates [p.start, p.end).
func (c *compiler) coversPart(n node, p *partition) bool {
	if p.start.IsZero() {
		return false // undated items match no date range
	}
	switch n := n.(type) {
	case *sinceNode:
		return !c.now.Add(-n.d).After(p.start)
	case *rangeNode:
		if n.field != "published" {
			return false
		}
		loOK := n.lo == nil || n.lo.t.Before(p.start) || (n.lo.incl && n.lo.t.Equal(p.start))
		hiOK := n.hi == nil || !n.hi.t.Before(p.end)
		return loOK && hiOK
	}
	return false
}
