// Package incident groups news items that report the same event into
// incidents, so that alerts go out once per incident and later reports join
// its thread. It owns no third-party dependency and does no I/O: the monitor
// turns each new item into a Signature (SignatureOf), asks a Clusterer which
// live incident it belongs to (Match, Explain for the reasons, or Assign to
// match and add in one step), and remembers the answer (Add).
//
// Two items are the same event when they share a canonical link (a bare
// site root is no link), or when the reports read alike within the window:
//
//   - Terms: the headline and the first 250 bytes of the text, normalised
//     (light stemming, demonyms to countries, "250,000" = "250k" = "0.25
//     million"), plus the canonical names of the actors and companies the
//     tagger found, so aliases meet. Each term weighs its IDF squared —
//     document frequencies come from 5,159 unlabelled news items
//     (termstats.tsv) — twice in a headline, half for a number.
//   - Score: the cosine of the two reports' terms, plus 0.3 when one
//     headline's CVE is named by the other report, plus 0.1 when both
//     headlines name the same rare subject and the reports share an
//     attack type within 48 hours, minus 0.5 × the weight
//     of names (capitalised words the table knows as names, or new ones)
//     that each headline carries and the other report never mentions,
//     minus 0.1 per day apart after the first 12 hours (less when the
//     shared specifics are rare).
//   - Gates: headlines naming only different CVEs never merge; a merge
//     needs two specifics (shared rare terms, a run of adjacent ones
//     counting once; numbers within 10%; a CVE, counting twice; the same
//     attack type), one of them rare enough to be an index key, so a
//     shared company alone never merges two events.
//   - Roundups (newsletters, podcasts, recaps, live blogs) never join or
//     attract an incident: they list several stories.
//
// Explanation records which signals decided and how much each weighed;
// Explanation.Record turns it into the merge record an incident keeps.
// The threshold (DefaultThreshold, alerting.similarity) and the window
// (DefaultWindow, alerting.incident_window) were chosen on labelled pairs
// (testdata/pairs.json and ../shared/data/eval/story-pairs.jsonl; see
// TestEvaluation and EVAL.md): a wrong merge hides an alert, a missed merge
// only costs a second message.
//
// Match looks candidates up in an inverted index of rare terms, CVEs and
// numbers, accumulating per incident a bound on what they can add to the
// score and scoring only incidents whose bound reaches the threshold; see
// BENCHMARKS.md.
//
//go:generate go test -run TestTermStats -update .
package incident
