package classify

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const devSet = "../../shared/data/eval/dev.jsonl"

type evalItem struct {
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

func loadDev(t *testing.T) []evalItem {
	t.Helper()
	f, err := os.Open(devSet)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", devSet)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []evalItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var it evalItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("parse %s: %v", devSet, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

func parsePublished(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.999999Z07:00", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// prf counts set-based true/false positives and false negatives.
type prf struct{ tp, fp, fn int }

func (p prf) precision() float64 {
	if p.tp+p.fp == 0 {
		return 1
	}
	return float64(p.tp) / float64(p.tp+p.fp)
}

func (p prf) recall() float64 {
	if p.tp+p.fn == 0 {
		return 1
	}
	return float64(p.tp) / float64(p.tp+p.fn)
}

func (p prf) f1() float64 {
	pr, rc := p.precision(), p.recall()
	if pr+rc == 0 {
		return 0
	}
	return 2 * pr * rc / (pr + rc)
}

type scorer struct {
	micro    prf
	perLabel map[string]*prf
}

func newScorer() *scorer { return &scorer{perLabel: map[string]*prf{}} }

func (s *scorer) add(got, want []string) (missed, extra []string) {
	label := func(l string) *prf {
		if s.perLabel[l] == nil {
			s.perLabel[l] = &prf{}
		}
		return s.perLabel[l]
	}
	for _, g := range got {
		if slices.Contains(want, g) {
			s.micro.tp++
			label(g).tp++
		} else {
			s.micro.fp++
			label(g).fp++
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			s.micro.fn++
			label(w).fn++
			missed = append(missed, w)
		}
	}
	return missed, extra
}

func (s *scorer) log(t *testing.T, name string) {
	t.Helper()
	t.Logf("%-12s micro P=%.3f R=%.3f F1=%.3f (tp=%d fp=%d fn=%d)", name, s.micro.precision(), s.micro.recall(), s.micro.f1(), s.micro.tp, s.micro.fp, s.micro.fn)
	labels := make([]string, 0, len(s.perLabel))
	for l := range s.perLabel {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		p := s.perLabel[l]
		t.Logf("    %-28s P=%.2f R=%.2f (tp=%d fp=%d fn=%d)", l, p.precision(), p.recall(), p.tp, p.fp, p.fn)
	}
}

// TestEvalDev measures the classifier on the labelled dev set and fails
// when a metric drops below the floor it reaches today.
func TestEvalDev(t *testing.T) {
	items := loadDev(t)
	c := newTestClassifier(t)
	canon := func(field string, vals []string) []string {
		out := []string{}
		for _, v := range vals {
			if r, ok := c.Resolve(field, v); ok {
				v = r
			}
			out = append(out, v)
		}
		return out
	}
	lower := func(vals []string) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = strings.ToLower(normKey(v))
		}
		return out
	}
	sigs, majors, states, actors, principles := newScorer(), newScorer(), newScorer(), newScorer(), newScorer()
	var stateLinked prf
	attackOK := 0
	confusion := map[string]int{}
	verbose := testing.Verbose() && os.Getenv("EVAL_DETAIL") != ""
	for _, it := range items {
		tags := c.Classify(it.Title, it.Text, parsePublished(it.Published))
		report := func(kind string, missed, extra []string) {
			if verbose && (len(missed) > 0 || len(extra) > 0) {
				t.Logf("%s %s: missed %v extra %v", it.ID, kind, missed, extra)
			}
		}
		m, e := sigs.add(tags.Signatories, canon("signatory", it.Signatories))
		report("signatories", m, e)
		var gotMajors []string
		for _, co := range tags.Companies {
			if co == "Google" || co == "Amazon" || co == "Apple" {
				gotMajors = append(gotMajors, co)
			}
		}
		m, e = majors.add(gotMajors, it.NonSignatoryMajors)
		report("majors", m, e)
		m, e = states.add(tags.States, canon("state", it.States))
		report("states", m, e)
		m, e = actors.add(lower(canon("actor", tags.Actors)), lower(canon("actor", it.Actors)))
		report("actors", m, e)
		var gotP []string
		for _, p := range tags.Principles {
			gotP = append(gotP, string(p))
		}
		m, e = principles.add(gotP, it.Principles)
		report("principles", m, e)
		switch {
		case tags.StateLinked && it.StateLinked:
			stateLinked.tp++
		case tags.StateLinked:
			stateLinked.fp++
			report("state_linked", nil, []string{"true"})
		case it.StateLinked:
			stateLinked.fn++
			report("state_linked", []string{"true"}, nil)
		}
		want, _ := c.Resolve("attack", it.AttackType)
		if tags.AttackTypes[0] == want {
			attackOK++
		} else {
			confusion[want+" -> "+tags.AttackTypes[0]]++
			report("attack", []string{want}, []string{tags.AttackTypes[0]})
		}
	}
	sigs.log(t, "signatories")
	majors.log(t, "majors")
	states.log(t, "states")
	actors.log(t, "actors")
	principles.log(t, "principles")
	t.Logf("state_linked P=%.3f R=%.3f F1=%.3f (tp=%d fp=%d fn=%d)", stateLinked.precision(), stateLinked.recall(), stateLinked.f1(), stateLinked.tp, stateLinked.fp, stateLinked.fn)
	acc := float64(attackOK) / float64(len(items))
	t.Logf("attack type accuracy %.3f (%d/%d)", acc, attackOK, len(items))
	keys := make([]string, 0, len(confusion))
	for k := range confusion {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("    confusion %-40s %d", k, confusion[k])
	}

	floors := []struct {
		name      string
		got, want float64
	}{
		// Floors a little under what the classifier reaches today
		// (signatories 1.00/1.00, state_linked 0.97/0.94, states F1 0.94,
		// majors F1 1.00, actors F1 1.00, principles F1 0.83, attack type
		// accuracy 0.76), so a regression fails but a relabelled item does not.
		{"signatory precision", sigs.micro.precision(), 0.95},
		{"signatory recall", sigs.micro.recall(), 0.95},
		{"state_linked precision", stateLinked.precision(), 0.90},
		{"state_linked recall", stateLinked.recall(), 0.90},
		{"states F1", states.micro.f1(), 0.88},
		{"majors F1", majors.micro.f1(), 0.90},
		{"actors F1", actors.micro.f1(), 0.90},
		{"principles F1", principles.micro.f1(), 0.78},
		{"attack type accuracy", acc, 0.70},
	}
	for _, f := range floors {
		if f.got < f.want {
			t.Errorf("%s: got %.3f, want >= %.3f", f.name, f.got, f.want)
		}
	}
}

func newTestClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
