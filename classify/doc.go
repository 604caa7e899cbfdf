// Package classify tags news items: which Tech Accord signatories and other
// companies they name, whether the activity is attributed to a state (and
// how strongly, by whom), which threat actors, attack types and accord
// principles they bear on, and how severe they are — with evidence for every
// tag.
//
// Classify runs one straight line of stages over the matched words; each
// stage has its own file, so a rule is found by the tag it sets:
//
//	tagger.go       the per-item pipeline: bounds, scanning, evidence
//	companies.go    signatories and companies (publisher names, redefined acronyms)
//	actors.go       threat actors: dictionary names, "<Word> Typhoon", cluster IDs
//	attribution.go  state_linked, states and attribution strength
//	roles.go        a signatory's role: vendor, victim, responder, reporter
//	attacktype.go   attack types
//	principles.go   accord principles
//	severity.go     the severity score and its factors
//	cues.go         the cue lists the rules read, and the look-ups near a word
//
// Underneath, tokenize.go splits text into words and matcher.go is the
// token-based, longest-match dictionary matcher, compiled once (classify.go)
// from the embedded dictionaries in dict/ plus any user dictionaries
// (dict.go, which also defines the dictionary format). Every curated phrase
// in dict/ and gen/ must occur in at least two unlabelled news items or
// name a public source (TestCuratedPhrasesOccurInUnlabelledNews).
//
// Dataset import (classify/dictimport), the generator of the embedded actor
// and signatory dictionaries (classify/gen) and evaluation against labelled
// items (classify/eval) live in their own packages. classify has no
// third-party dependency beyond the YAML parser used for user dictionaries.
package classify
