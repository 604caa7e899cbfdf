// Package eval measures the tagger against labelled items: it classifies
// every item of a gold file (JSON Lines in the format of
// shared/data/eval/dev.jsonl), maps the gold labels through the
// classifier's own aliases, and reports micro-averaged precision, recall
// and F1 per label and per value, attack-type accuracy with a confusion
// list, and every disagreement. `accordwatch eval` prints its report, and
// its TestEvalDev gates the dev-set figures.
//
// It depends on nothing beyond package classify and the standard library.
package eval
