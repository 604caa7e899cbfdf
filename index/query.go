package index

import (
	"github.com/accordwatch/accordwatch"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Query is a parsed query in accordwatch's query language (DESIGN.md "Query
// language"). It is independent of any index: Index.Search compiles it to
// bleve queries, resolving tag aliases at that point.
type Query struct {
	root node
}

// String renders the query's syntax tree in a readable, unambiguous form,
// e.g. (AND ransomware (NOT state:china)). The empty query renders as "*".
func (q *Query) String() string { return q.root.String() }

// hasFreeText reports whether the query scores by text (free words or
// phrases, or title:/text: clauses), which makes relevance the default sort.
func (q *Query) hasFreeText() bool { return hasText(q.root) }

func hasText(n node) bool {
	switch n := n.(type) {
	case *textNode:
		return true
	case *andNode:
		for _, c := range n.clauses {
			if hasText(c) {
				return true
			}
		}
	case *orNode:
		for _, c := range n.clauses {
			if hasText(c) {
				return true
			}
		}
	}
	// A negated word does not score, so NOT is not free text.
	return false
}

// node is one element of the syntax tree.
type node interface {
	String() string
}

// allNode matches every item (the empty query).
type allNode struct{}

func (allNode) String() string { return "*" }

type andNode struct{ clauses []node }

func (n *andNode) String() string { return group("AND", n.clauses) }

type orNode struct{ clauses []node }

func (n *orNode) String() string { return group("OR", n.clauses) }

type notNode struct{ clause node }

func (n *notNode) String() string { return "(NOT " + n.clause.String() + ")" }

func group(op string, clauses []node) string {
	parts := make([]string, 0, len(clauses)+1)
	parts = append(parts, op)
	for _, c := range clauses {
		parts = append(parts, c.String())
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// textNode is analysed text: free text (field "") searches title and text.
type textNode struct {
	field  string
	value  string
	phrase bool
}

func (n *textNode) String() string {
	v := n.value
	if n.phrase {
		v = accordwatch.QuoteValue(v)
	}
	if n.field == "" {
		return v
	}
	return n.field + ":" + v
}

// tagNode matches a keyword field exactly (after lower-casing and alias
// resolution at compile time).
type tagNode struct {
	field string
	value string
}

func (n *tagNode) String() string {
	v := n.value
	if v == "" || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("\"():\\[]{}<>", r) }) >= 0 {
		v = accordwatch.QuoteValue(v)
	}
	return n.field + ":" + v
}

type boolNode struct {
	field string
	value bool
}

func (n *boolNode) String() string { return n.field + ":" + strconv.FormatBool(n.value) }

// rangeNode is a numeric (severity) or date (published) range. A nil end is
// open. Date ends are already widened to whole days where the user typed a
// day (see parseDateRange), so lo is always inclusive-or-not as stored.
type rangeNode struct {
	field  string
	lo, hi *rangeEnd
	raw    string // as typed, for String
}

// rangeEnd is one end of a range: a number for severity, a time for
// published.
type rangeEnd struct {
	num  float64
	t    time.Time
	incl bool
}

func (n *rangeNode) String() string { return n.field + ":" + n.raw }

// sinceNode is published >= now - d, evaluated when the query is compiled.
type sinceNode struct {
	d   time.Duration
	raw string
}

func (n *sinceNode) String() string { return "since:" + n.raw }

// fieldKind says how a field's values are parsed and matched.
type fieldKind int

const (
	kindText fieldKind = iota + 1
	kindTag
	kindBool
	kindNumber
	kindDate
	kindSince
)

// fieldNames is listed in errors about unknown fields.
const fieldNames = "title, text, feed, signatory, company, actor, state, state_linked, attack, principle, severity, published, since"

// kindOf returns a query field's kind. A switch rather than a map keeps the
// package free of mutable globals.
func kindOf(field string) (fieldKind, bool) {
	switch field {
	case "title", "text":
		return kindText, true
	case "signatory", "company", "actor", "state", "attack", "principle", "feed":
		return kindTag, true
	case "state_linked":
		return kindBool, true
	case "severity":
		return kindNumber, true
	case "published":
		return kindDate, true
	case "since":
		return kindSince, true
	}
	return 0, false
}

// Parse checks and parses a query. The empty (or all-blank) query matches
// every item. Errors are *ParseError and point at a column.
//
// Grammar (AND binds tighter than OR; adjacent clauses are ANDed):
//
//	query   = or EOF
//	or      = and { "OR" and }
//	and     = unary { ["AND"] unary }
//	unary   = ("NOT" | "-") unary | primary
//	primary = "(" or ")" | word | "phrase" | field ":" value
//
// Dates typed as days (published:2026-01-01) are whole UTC days: a
// range's upper day is included ([2026-01-01 TO 2026-02-01] ends before
// 2026-02-02), <=D includes day D, >D starts the day after. RFC 3339
// timestamps are exact instants. since:7d / 24h / 2w means published >=
// now minus that, with now read when the query runs; since:<date> is
// published >= that day.
func Parse(q string) (*Query, error) {
	// Queries come from anyone who can reach the API or the page, so the
	// parser's work and its recursion are bounded before anything else:
	// a Go stack overflow cannot be recovered and would end the daemon.
	if n := utf8.RuneCountInString(q); n > MaxQueryLen {
		return nil, errAt(MaxQueryLen+1, "query is %d characters long; the limit is %d", n, MaxQueryLen)
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	if n := len(toks) - 1; n > MaxQueryTokens {
		return nil, errAt(toks[MaxQueryTokens].pos, "query has %d terms and operators; the limit is %d", n, MaxQueryTokens)
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return &Query{root: allNode{}}, nil
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		// and() consumes every clause start and or() every OR, so only a
		// stray ')' can be left here.
		return nil, errAt(t.pos, "unexpected ')' without a matching '('")
	}
	return &Query{root: root}, nil
}

// Limits on one query. A watch-list of every accord signatory compiles
// to about 5,000 characters and 300 terms, so these leave wide room for
// real queries while keeping a hostile one cheap to refuse.
const (
	// MaxQueryLen is the longest query accepted, in characters.
	MaxQueryLen = 16384
	// MaxQueryTokens caps words, phrases, fields, operators and parentheses.
	MaxQueryTokens = 2048
	// MaxQueryDepth caps nesting of parentheses and NOT/-.
	MaxQueryDepth = 100
)

type parser struct {
	toks  []token
	i     int
	depth int
}

// enter counts one level of nesting opened by t; every caller pairs it
// with leave.
func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxQueryDepth {
		return errAt(t.pos, "query nests deeper than %d levels", MaxQueryDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// startsClause reports whether t can begin a unary clause.
func startsClause(t token) bool {
	switch t.kind {
	case tLParen, tNot, tMinus, tWord, tPhrase, tField:
		return true
	}
	return false
}

func opName(k tokKind) string {
	switch k {
	case tAnd:
		return "AND"
	case tOr:
		return "OR"
	case tNot:
		return "NOT"
	}
	return "'-'"
}

// missingOperand reports an operator with nothing usable after it.
func missingOperand(op token) error {
	return errAt(op.pos, "expected a search term after %s", opName(op.kind))
}

func (p *parser) or() (node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	clauses := []node{first}
	for p.peek().kind == tOr {
		op := p.advance()
		if !startsClause(p.peek()) {
			return nil, missingOperand(op)
		}
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, n)
	}
	if len(clauses) == 1 {
		return first, nil
	}
	return &orNode{clauses: clauses}, nil
}

func (p *parser) and() (node, error) {
	if t := p.peek(); !startsClause(t) {
		switch t.kind {
		case tAnd, tOr:
			return nil, errAt(t.pos, "expected a search term before %s", opName(t.kind))
		case tRParen:
			return nil, errAt(t.pos, "unexpected ')' without a matching '('")
		}
		return nil, errAt(t.pos, "expected a search term")
	}
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	clauses := []node{first}
	for {
		t := p.peek()
		if t.kind == tAnd {
			p.advance()
			if !startsClause(p.peek()) {
				return nil, missingOperand(t)
			}
		} else if !startsClause(t) {
			break
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, n)
	}
	if len(clauses) == 1 {
		return first, nil
	}
	return &andNode{clauses: clauses}, nil
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	switch t.kind {
	case tNot, tMinus:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		p.advance()
		if !startsClause(p.peek()) || (t.kind == tMinus && !t.glued) {
			if t.kind == tMinus {
				return nil, errAt(t.pos, "expected a search term right after '-'")
			}
			return nil, missingOperand(t)
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{clause: n}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.advance()
	switch t.kind {
	case tLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		if p.peek().kind == tRParen {
			return nil, errAt(t.pos, "empty parentheses")
		}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, errAt(c.pos, "expected ')' to close '(' at column %d", t.pos)
		}
		p.advance()
		return n, nil
	case tWord:
		return &textNode{value: t.text}, nil
	case tPhrase:
		if strings.TrimSpace(t.text) == "" {
			return nil, errAt(t.pos, "empty phrase")
		}
		return &textNode{value: t.text, phrase: true}, nil
	case tField:
		return fieldNode(t)
	}
	// startsClause was checked by every caller.
	return nil, errAt(t.pos, "expected a search term")
}

// fieldNode interprets a field:value token according to the field's kind.
func fieldNode(t token) (node, error) {
	kind, ok := kindOf(t.text)
	if !ok {
		return nil, errAt(t.pos, "unknown field %q (fields: %s)", t.text, fieldNames)
	}
	v := t.val
	if v.phrase && strings.TrimSpace(v.text) == "" {
		return nil, errAt(v.pos, "empty value for %q", t.text)
	}
	if v.op != "" && kind != kindNumber && kind != kindDate {
		return nil, errAt(v.pos, "field %q does not take ranges", t.text)
	}
	switch kind {
	case kindText:
		return &textNode{field: t.text, value: v.text, phrase: v.phrase}, nil
	case kindTag:
		return &tagNode{field: t.text, value: v.text}, nil
	case kindBool:
		switch strings.ToLower(v.text) {
		case "true", "yes":
			return &boolNode{field: t.text, value: true}, nil
		case "false", "no":
			return &boolNode{field: t.text, value: false}, nil
		}
		return nil, errAt(v.textPos, "bad value %q for %q (want true or false)", v.text, t.text)
	case kindSince:
		return sinceValue(v)
	case kindNumber:
		return rangeValue(t.text, v, parseNumberEnd)
	default: // kindDate
		return rangeValue(t.text, v, parseDateEnd)
	}
}

// endParser turns a typed range end into a rangeEnd. lower says which end
// it is; incl whether the user made it inclusive. Date ends typed as whole
// days are widened: an inclusive upper day covers that whole day.
type endParser func(field, raw string, pos int, lower, incl bool) (*rangeEnd, error)

func rangeValue(field string, v fieldValue, parse endParser) (node, error) {
	n := &rangeNode{field: field}
	var err error
	switch v.op {
	case "":
		n.raw = v.text
		if n.lo, err = parse(field, v.text, v.textPos, true, true); err != nil {
			return nil, err
		}
		if n.hi, err = parse(field, v.text, v.textPos, false, true); err != nil {
			return nil, err
		}
	case ">", ">=":
		n.raw = v.op + v.text
		n.lo, err = parse(field, v.text, v.textPos, true, v.op == ">=")
	case "<", "<=":
		n.raw = v.op + v.text
		n.hi, err = parse(field, v.text, v.textPos, false, v.op == "<=")
	case "range":
		open, closing := "{", "}"
		if v.lo.incl {
			open = "["
		}
		if v.hi.incl {
			closing = "]"
		}
		n.raw = open + v.lo.raw + " TO " + v.hi.raw + closing
		if v.lo.raw != "*" {
			if n.lo, err = parse(field, v.lo.raw, v.lo.pos, true, v.lo.incl); err != nil {
				return nil, err
			}
		}
		if v.hi.raw != "*" {
			n.hi, err = parse(field, v.hi.raw, v.hi.pos, false, v.hi.incl)
		}
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

func parseNumberEnd(field, raw string, pos int, lower, incl bool) (*rangeEnd, error) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errAt(pos, "bad number %q for %q", raw, field)
	}
	return &rangeEnd{num: f, incl: incl}, nil
}

// dateInRange reports whether t fits bleve's nanosecond date encoding
// (years 1678–2261).
func dateInRange(t time.Time) bool {
	return t.Year() >= 1678 && t.Year() <= 2261
}

// parseDateEnd accepts 2006-01-02 (a whole UTC day), RFC 3339, and
// 2006-01-02T15:04:05 (UTC). Day semantics: >=D and [D TO …] start at D's
// midnight; >D starts at the next midnight; <D ends before D's midnight;
// <=D and […TO D] include all of day D (end before the next midnight).
func parseDateEnd(field, raw string, pos int, lower, incl bool) (*rangeEnd, error) {
	if t, err := time.Parse("2006-01-02", raw); err == nil {
		if !dateInRange(t) {
			return nil, errAt(pos, "date %q out of range for %q", raw, field)
		}
		next := t.AddDate(0, 0, 1)
		switch {
		case lower && incl:
			return &rangeEnd{t: t, incl: true}, nil
		case lower:
			return &rangeEnd{t: next, incl: true}, nil
		case incl:
			return &rangeEnd{t: next, incl: false}, nil
		default:
			return &rangeEnd{t: t, incl: false}, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, raw); err == nil {
			t = t.UTC()
			if !dateInRange(t) {
				return nil, errAt(pos, "date %q out of range for %q", raw, field)
			}
			return &rangeEnd{t: t, incl: incl}, nil
		}
	}
	return nil, errAt(pos, "bad date %q for %q (want YYYY-MM-DD or RFC 3339)", raw, field)
}

// maxSince caps relative dates so now-d stays inside bleve's date range.
const maxSince = 100 * 365 * 24 * time.Hour

// sinceValue parses since:<n><unit> with unit h, d or w, or since:<date>.
func sinceValue(v fieldValue) (node, error) {
	if v.op != "" {
		return nil, errAt(v.pos, "field %q does not take ranges", "since")
	}
	raw := v.text
	bad := errAt(v.pos, "bad duration %q for %q (want e.g. 24h, 7d, 2w or a date)", raw, "since")
	if len(raw) >= 2 {
		unit := time.Duration(0)
		switch raw[len(raw)-1] {
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		}
		if unit != 0 {
			n, err := strconv.ParseUint(raw[:len(raw)-1], 10, 32)
			if err != nil {
				return nil, bad
			}
			if n > uint64(maxSince/unit) {
				return nil, errAt(v.pos, "duration %q for %q is too long", raw, "since")
			}
			return &sinceNode{d: time.Duration(n) * unit, raw: raw}, nil
		}
	}
	if end, err := parseDateEnd("since", raw, v.pos, true, true); err == nil {
		return &rangeNode{field: "published", lo: end, raw: ">=" + raw}, nil
	}
	return nil, bad
}
