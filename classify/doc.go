// Package classify tags news items: which Tech Accord signatories and other
// companies they name, whether the activity is attributed to a state (and
// how strongly, by whom), which threat actors, attack types and accord
// principles they bear on, and how severe they are — with evidence for every
// tag.
//
// It owns the multi-pattern matcher: a token-based, longest-match dictionary
// matcher compiled once from the embedded dictionaries in dict/ (plus any
// user dictionaries) and run once per field. It has no third-party
// dependency beyond the YAML parser used for user dictionaries.
package classify
