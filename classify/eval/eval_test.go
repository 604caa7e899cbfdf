package eval

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch/classify"
)

const devSet = "../../../shared/data/eval/dev.jsonl"

// TestEvalDev measures the classifier on the labelled dev set and fails
// when a label drops more than 0.02 below what was last measured. Run with
// -v to see the report, and with EVAL_MISSES=1 to list every disagreement.
func TestEvalDev(t *testing.T) {
	f, err := os.Open(devSet)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", devSet)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Evaluate(newTestClassifier(t), f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.WriteText(&buf, os.Getenv("EVAL_MISSES") != "")
	t.Log("\n" + buf.String())
	if rep.Items < 292 {
		t.Fatalf("got %d dev items, want the whole set", rep.Items)
	}
	targets := []struct {
		name      string
		got, want float64
	}{
		// 0.02 below what `accordwatch eval` measures on the 292-item set
		// after issue 12, step 16 (0.992, 0.925, 0.927, 0.809, 0.801,
		// 1.000, 0.914; see EVAL.md), so a regression fails.
		{"signatories F1", rep.Micro["signatories"].F1(), 0.972},
		{"states F1", rep.Micro["states"].F1(), 0.905},
		{"state_linked F1", rep.Micro["state_linked"].F1(), 0.907},
		{"principles micro-F1", rep.Micro["principles"].F1(), 0.789},
		{"attack type accuracy", rep.AttackAccuracy(), 0.781},
		// Not targets of the issue, but regressions worth catching.
		{"majors F1", rep.Micro["majors"].F1(), 0.980},
		{"actors F1", rep.Micro["actors"].F1(), 0.894},
	}
	for _, tt := range targets {
		if tt.got < tt.want {
			t.Errorf("%s: got %.3f, want >= %.3f", tt.name, tt.got, tt.want)
		}
	}
}

func TestEvaluateScoresAndMaps(t *testing.T) {
	gold := `{"id":"g1","title":"Hewlett Packard Enterprise breached by Russia's APT29","text":"HPE said Midnight Blizzard stole mail.","published":"2026-01-02","signatories":["Hewlett Packard Enterprise"],"state_linked":true,"states":["Russia"],"actors":["Midnight Blizzard"],"attack_type":"espionage","principles":["stronger-defense","no-offense"]}
{"id":"g2","title":"Bake a pie","text":"Apples and flour.","signatories":["Oracle"],"state_linked":false,"states":[],"actors":[],"attack_type":"takedown/disruption","principles":[]}
`
	rep, err := Evaluate(newTestClassifier(t), strings.NewReader(gold))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 2 {
		t.Fatalf("got %d items, want 2", rep.Items)
	}
	// "Hewlett Packard Enterprise" in the gold maps to the canonical "HPE";
	// the invented Oracle label is a miss.
	if s := rep.Micro["signatories"]; s.TP != 1 || s.FN != 1 || s.FP != 0 {
		t.Errorf("signatories: got %+v, want TP 1 FN 1 FP 0", s)
	}
	if s := rep.Micro["state_linked"]; s.TP != 1 || s.FP != 0 || s.FN != 0 {
		t.Errorf("state_linked: got %+v", s)
	}
	if _, ok := rep.Confusion["takedown -> not-an-attack"]; !ok {
		t.Errorf("confusions %v lack the mapped long name takedown/disruption -> takedown", rep.Confusion)
	}
	var buf bytes.Buffer
	rep.WriteText(&buf, true)
	for _, want := range []string{"signatories", "attack type accuracy", "g2", "missed [Oracle]"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	if _, err := Evaluate(newTestClassifier(t), strings.NewReader("{\"id\":1}\n{oops\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("got %v, want an error naming line 1", err)
	}
}

func newTestClassifier(t testing.TB) *classify.Classifier {
	t.Helper()
	c, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
