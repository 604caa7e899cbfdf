package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accordwatch/accordwatch/classify"
)

// GoldItem is one labelled item in the evaluation format of
// shared/data/eval/dev.jsonl.
type GoldItem struct {
	ID                 string   `json:"id"`
	Title              string   `json:"title"`
	Text               string   `json:"text"`
	Published          string   `json:"published"`
	Signatories        []string `json:"signatories"`
	NonSignatoryMajors []string `json:"non_signatory_majors"`
	StateLinked        bool     `json:"state_linked"`
	States             []string `json:"states"`
	Actors             []string `json:"actors"`
	AttackType         string   `json:"attack_type"`
	Principles         []string `json:"principles"`
	Notes              string   `json:"notes"`
}

// Score counts set-based true positives, false positives and false
// negatives.
type Score struct{ TP, FP, FN int }

// Precision is TP/(TP+FP), 1 when nothing was predicted.
func (s Score) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP/(TP+FN), 1 when nothing was expected.
func (s Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// F1 is the harmonic mean of precision and recall.
func (s Score) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Miss is one item where a label disagreed with the gold standard.
type Miss struct {
	ID     string   `json:"id"`
	Label  string   `json:"label"`
	Missed []string `json:"missed,omitempty"`
	Extra  []string `json:"extra,omitempty"`
	Title  string   `json:"title"`
	Notes  string   `json:"notes,omitempty"`
}

// Evaluated labels, in report order.
var labels = []string{"signatories", "majors", "states", "state_linked", "actors", "principles"}

// Report is the result of Evaluate.
type Report struct {
	Items int `json:"items"`
	// Micro holds micro-averaged scores per label (see labels).
	Micro map[string]Score `json:"micro"`
	// PerValue breaks each label down by value ("Microsoft", "Russia").
	PerValue      map[string]map[string]Score `json:"per_value"`
	AttackCorrect int                         `json:"attack_correct"`
	// Confusion counts "gold -> predicted" attack types that disagreed.
	Confusion map[string]int `json:"confusion"`
	Misses    []Miss         `json:"misses"`
}

// AttackAccuracy is the share of items whose primary attack type matches.
func (r *Report) AttackAccuracy() float64 {
	if r.Items == 0 {
		return 0
	}
	return float64(r.AttackCorrect) / float64(r.Items)
}

// Evaluate classifies every gold item from r (JSON Lines) and scores the
// result. Gold labels are mapped to the project's vocabulary through
// Resolve, so the dev set's "HP Inc" and "takedown/disruption" compare as
// "HP Inc." and "takedown". A malformed line is an error naming it.
func Evaluate(c *classify.Classifier, r io.Reader) (*Report, error) {
	rep := &Report{Micro: map[string]Score{}, PerValue: map[string]map[string]Score{}, Confusion: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it GoldItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rep.add(c, it)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rep, nil
}

func (r *Report) add(c *classify.Classifier, it GoldItem) {
	r.Items++
	tags := c.Classify(it.Title, it.Text, parseGoldTime(it.Published))
	canon := func(field string, vals []string) []string {
		out := []string{}
		for _, v := range vals {
			if cv, ok := c.Resolve(field, v); ok {
				v = cv
			}
			out = append(out, v)
		}
		return out
	}
	lower := func(vals []string) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = classify.Normalize(v)
		}
		return out
	}
	var majors []string
	for _, co := range tags.Companies {
		if co == "Google" || co == "Amazon" || co == "Apple" {
			majors = append(majors, co)
		}
	}
	principles := make([]string, len(tags.Principles))
	for i, p := range tags.Principles {
		principles[i] = string(p)
	}
	boolSet := func(b bool) []string {
		if b {
			return []string{"true"}
		}
		return nil
	}
	r.score(it, "signatories", tags.Signatories, canon("signatory", it.Signatories))
	r.score(it, "majors", majors, it.NonSignatoryMajors)
	r.score(it, "states", tags.States, canon("state", it.States))
	r.score(it, "state_linked", boolSet(tags.StateLinked), boolSet(it.StateLinked))
	r.score(it, "actors", lower(canon("actor", tags.Actors)), lower(canon("actor", it.Actors)))
	r.score(it, "principles", principles, it.Principles)

	want, _ := c.Resolve("attack", it.AttackType)
	got := ""
	if len(tags.AttackTypes) > 0 {
		got = tags.AttackTypes[0]
	}
	if got == want {
		r.AttackCorrect++
	} else {
		r.Confusion[want+" -> "+got]++
		r.Misses = append(r.Misses, Miss{ID: it.ID, Label: "attack_type", Missed: []string{want}, Extra: []string{got}, Title: it.Title, Notes: it.Notes})
	}
}

func (r *Report) score(it GoldItem, label string, got, want []string) {
	micro := r.Micro[label]
	per := r.PerValue[label]
	if per == nil {
		per = map[string]Score{}
		r.PerValue[label] = per
	}
	var missed, extra []string
	for _, g := range got {
		s := per[g]
		if slices.Contains(want, g) {
			micro.TP++
			s.TP++
		} else {
			micro.FP++
			s.FP++
			extra = append(extra, g)
		}
		per[g] = s
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			micro.FN++
			s := per[w]
			s.FN++
			per[w] = s
			missed = append(missed, w)
		}
	}
	r.Micro[label] = micro
	if len(missed)+len(extra) > 0 {
		r.Misses = append(r.Misses, Miss{ID: it.ID, Label: label, Missed: missed, Extra: extra, Title: it.Title, Notes: it.Notes})
	}
}

// WriteText prints the scores per label (and per value), the attack-type
// accuracy and confusions, and with misses each disagreement.
func (r *Report) WriteText(w io.Writer, misses bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%d items\n\nLABEL\tPRECISION\tRECALL\tF1\tTP\tFP\tFN\n", r.Items)
	for _, l := range labels {
		s := r.Micro[l]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\n", l, s.Precision(), s.Recall(), s.F1(), s.TP, s.FP, s.FN)
	}
	fmt.Fprintf(tw, "attack type accuracy\t%.3f\t(%d/%d)\n", r.AttackAccuracy(), r.AttackCorrect, r.Items)
	tw.Flush()

	fmt.Fprintln(w, "\nPer value (values with an error, or at least 3 gold items):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tVALUE\tP\tR\tTP\tFP\tFN")
	for _, l := range labels {
		if l == "state_linked" {
			continue
		}
		vals := make([]string, 0, len(r.PerValue[l]))
		for v := range r.PerValue[l] {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		for _, v := range vals {
			s := r.PerValue[l][v]
			if s.FP+s.FN == 0 && s.TP < 3 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%d\t%d\t%d\n", l, v, s.Precision(), s.Recall(), s.TP, s.FP, s.FN)
		}
	}
	tw.Flush()

	if len(r.Confusion) > 0 {
		fmt.Fprintln(w, "\nAttack-type confusions (gold -> predicted):")
		keys := make([]string, 0, len(r.Confusion))
		for k := range r.Confusion {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if r.Confusion[keys[i]] != r.Confusion[keys[j]] {
				return r.Confusion[keys[i]] > r.Confusion[keys[j]]
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Fprintf(w, "  %3d  %s\n", r.Confusion[k], k)
		}
	}
	if misses && len(r.Misses) > 0 {
		fmt.Fprintf(w, "\nMisses (%d):\n", len(r.Misses))
		for _, m := range r.Misses {
			fmt.Fprintf(w, "  %s %-12s missed %v extra %v  %q\n", m.ID, m.Label, m.Missed, m.Extra, m.Title)
			if m.Notes != "" {
				fmt.Fprintf(w, "       note: %s\n", m.Notes)
			}
		}
	}
	return nil
}

func parseGoldTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
