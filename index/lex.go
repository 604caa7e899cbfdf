package index

import (
	"fmt"
	"strings"
	"unicode"
)

// ParseError is a query syntax error. Pos is the 1-based column (in
// characters, not bytes) the error points at.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("column %d: %s", e.Pos, e.Msg)
}

func errAt(pos int, format string, args ...any) *ParseError {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tMinus
	tWord
	tPhrase
	tField
)

// token is one lexeme. pos is a 1-based column.
type token struct {
	kind tokKind
	pos  int
	text string // word or phrase text; field name for tField
	val  fieldValue
	// glued reports that the next token starts right after this one with no
	// space between (used to reject "- foo").
	glued bool
}

// fieldValue is the raw value of a field:value clause as lexed. The parser
// interprets it according to the field.
type fieldValue struct {
	pos     int    // column of the first character after the colon
	textPos int    // column of text (after any comparison operator)
	op      string // "", ">", ">=", "<", "<=", or "range"
	text    string // the value (for op != "range")
	phrase  bool   // the value was quoted
	lo, hi  bound  // for op == "range"
}

// bound is one end of a range as typed; "*" means open.
type bound struct {
	raw  string
	pos  int
	incl bool
}

type lexer struct {
	src  []rune
	i    int // index into src
	toks []token
}

// lex splits q into tokens, or returns the first lexical error.
func lex(q string) ([]token, error) {
	lx := &lexer{src: []rune(q)}
	for {
		lx.skipSpace()
		if lx.i >= len(lx.src) {
			lx.toks = append(lx.toks, token{kind: tEOF, pos: lx.i + 1})
			return lx.toks, nil
		}
		if err := lx.next(); err != nil {
			return nil, err
		}
	}
}

func (lx *lexer) skipSpace() {
	for lx.i < len(lx.src) && unicode.IsSpace(lx.src[lx.i]) {
		lx.i++
	}
}

func (lx *lexer) col() int { return lx.i + 1 }

func (lx *lexer) atEnd() bool { return lx.i >= len(lx.src) }

// isTermEnd reports whether r ends a bare word.
func isTermEnd(r rune) bool {
	return unicode.IsSpace(r) || r == '(' || r == ')' || r == '"'
}

func (lx *lexer) emit(t token) {
	t.glued = !lx.atEnd() && !unicode.IsSpace(lx.src[lx.i])
	lx.toks = append(lx.toks, t)
}

func (lx *lexer) next() error {
	start := lx.col()
	switch r := lx.src[lx.i]; r {
	case '(':
		lx.i++
		lx.emit(token{kind: tLParen, pos: start})
		return nil
	case ')':
		lx.i++
		lx.emit(token{kind: tRParen, pos: start})
		return nil
	case '"':
		s, err := lx.quoted()
		if err != nil {
			return err
		}
		lx.emit(token{kind: tPhrase, pos: start, text: s})
		return nil
	case '-':
		lx.i++
		lx.emit(token{kind: tMinus, pos: start})
		return nil
	}
	word := lx.word()
	switch word {
	case "AND":
		lx.emit(token{kind: tAnd, pos: start})
		return nil
	case "OR":
		lx.emit(token{kind: tOr, pos: start})
		return nil
	case "NOT":
		lx.emit(token{kind: tNot, pos: start})
		return nil
	}
	if name, ok := fieldPrefix(word); ok {
		// Re-lex from just after the colon: a field value has its own syntax
		// (quotes, ranges, comparison operators).
		lx.i = start - 1 + len([]rune(name)) + 1
		v, err := lx.fieldValue(name)
		if err != nil {
			return err
		}
		lx.emit(token{kind: tField, pos: start, text: strings.ToLower(name), val: v})
		return nil
	}
	lx.emit(token{kind: tWord, pos: start, text: word})
	return nil
}

// word consumes a bare word.
func (lx *lexer) word() string {
	start := lx.i
	for lx.i < len(lx.src) && !isTermEnd(lx.src[lx.i]) {
		lx.i++
	}
	return string(lx.src[start:lx.i])
}

// fieldPrefix reports whether word starts with "name:" where name is made of
// letters and underscores, so "10:30" and "::" stay plain words.
func fieldPrefix(word string) (string, bool) {
	name, _, ok := strings.Cut(word, ":")
	if !ok || name == "" {
		return "", false
	}
	for _, r := range name {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return "", false
		}
	}
	return name, true
}

// quoted consumes a double-quoted string starting at the opening quote.
// A backslash escapes the next character.
func (lx *lexer) quoted() (string, error) {
	open := lx.col()
	lx.i++ // opening quote
	var b strings.Builder
	for lx.i < len(lx.src) {
		r := lx.src[lx.i]
		switch {
		case r == '\\' && lx.i+1 < len(lx.src):
			b.WriteRune(lx.src[lx.i+1])
			lx.i += 2
		case r == '"':
			lx.i++
			return b.String(), nil
		default:
			b.WriteRune(r)
			lx.i++
		}
	}
	return "", errAt(open, "unclosed quote")
}

// fieldValue lexes the value after "name:".
func (lx *lexer) fieldValue(name string) (fieldValue, error) {
	v := fieldValue{pos: lx.col(), textPos: lx.col()}
	if lx.atEnd() || unicode.IsSpace(lx.src[lx.i]) || lx.src[lx.i] == ')' {
		return v, errAt(v.pos, "missing value after %q", name+":")
	}
	switch r := lx.src[lx.i]; r {
	case '(':
		return v, errAt(v.pos, "a group cannot follow %q; write (%s:a OR %s:b)", name+":", name, name)
	case '"':
		s, err := lx.quoted()
		if err != nil {
			return v, err
		}
		v.text, v.phrase = s, true
		return v, nil
	case '[', '{':
		return lx.rangeValue(name, v)
	case '>', '<':
		v.op = string(r)
		lx.i++
		if !lx.atEnd() && lx.src[lx.i] == '=' {
			v.op += "="
			lx.i++
		}
		vpos := lx.col()
		if lx.atEnd() || isTermEnd(lx.src[lx.i]) {
			return v, errAt(vpos, "missing value after %q", name+":"+v.op)
		}
		v.textPos = vpos
		v.text = lx.word()
		return v, nil
	}
	v.text = lx.word()
	return v, nil
}

// rangeValue lexes "[lo TO hi]"; '{' and '}' make an end exclusive.
func (lx *lexer) rangeValue(name string, v fieldValue) (fieldValue, error) {
	open := lx.col()
	v.op = "range"
	v.lo.incl = lx.src[lx.i] == '['
	lx.i++
	rangeWord := func() bound {
		lx.skipSpace()
		b := bound{pos: lx.col()}
		start := lx.i
		for lx.i < len(lx.src) && !unicode.IsSpace(lx.src[lx.i]) && !strings.ContainsRune("[]{}()\"", lx.src[lx.i]) {
			lx.i++
		}
		b.raw = string(lx.src[start:lx.i])
		return b
	}
	v.lo = bound{incl: v.lo.incl}
	lo := rangeWord()
	v.lo.raw, v.lo.pos = lo.raw, lo.pos
	if v.lo.raw == "" || v.lo.raw == "TO" {
		return v, errAt(v.lo.pos, "missing lower bound in range for %q", name)
	}
	to := rangeWord()
	if to.raw != "TO" {
		return v, errAt(to.pos, "expected TO in range for %q", name)
	}
	hi := rangeWord()
	if hi.raw == "" {
		return v, errAt(hi.pos, "missing upper bound in range for %q", name)
	}
	v.hi = hi
	lx.skipSpace()
	if lx.atEnd() || (lx.src[lx.i] != ']' && lx.src[lx.i] != '}') {
		return v, errAt(lx.col(), "expected ']' or '}' to close range opened at column %d", open)
	}
	v.hi.incl = lx.src[lx.i] == ']'
	lx.i++
	return v, nil
}
