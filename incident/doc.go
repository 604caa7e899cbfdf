// Package incident groups news items that report the same event into
// incidents, so that alerts go out once per incident and later reports join
// its thread. It owns no third-party dependency and does no I/O: the monitor
// turns each new item into a Signature (SignatureOf), asks a Clusterer which
// live incident it belongs to (Match, or Assign to match and add in one
// step), and remembers the answer (Add).
//
// Two items are the same event when they share a canonical link, or when
// their normalised headlines are similar enough within a time window.
// Similarity is a weighted Jaccard over headline terms: words that every
// security story uses ("data", "breach", "hackers", "ransomware") weigh
// almost nothing, names and numbers weigh fully, and two headlines that
// share only one name ("Microsoft patches zero-day", "Microsoft patches 57
// flaws") are discounted. CVE IDs decide when both sides name them: a
// shared CVE pulls two items together, disjoint CVEs push them apart. Of
// an item's text only the CVE IDs in its lead are used; lead words added
// false merges and no recall on the labelled set.
//
// The default threshold was chosen for precision on hand-labelled pairs of
// real headlines (testdata/pairs.json, see TestEvaluation): a wrong merge
// hides an alert, a missed merge only costs a second message.
package incident
