package accordwatch

import "strings"

// queryQuoter escapes what the query language's quoted strings treat
// specially: a backslash escapes the next character, a double quote ends
// the string.
var queryQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// QuoteValue writes s as a quoted value of the query language, so that
// parsing field + ":" + QuoteValue(s) reads back exactly s, whatever s
// holds (spaces, quotes, backslashes, colons, parentheses, tabs). It is
// the one way accordwatch builds a query from a value: watch-lists, search
// chips, digest links and rule back-tests all use it, and index's round
// trip test holds it to the parser. (strconv.Quote is not the same: it
// writes "\t" for a tab, which the language reads as "t".) It lives here,
// not in index, so that config can build watch-list queries without
// importing the search engine.
func QuoteValue(s string) string { return `"` + queryQuoter.Replace(s) + `"` }
