package incident

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newsDir holds the real data sets the labelled pairs were taken from. The
// lead texts are read from there rather than copied into testdata.
var newsDir = filepath.Join("..", "..", "shared", "data", "news")

// loadLeads maps "file/id" to the item's description or summary.
func loadLeads(t testing.TB) map[string]string {
	t.Helper()
	leads := map[string]string{}
	f, err := os.Open(filepath.Join(newsDir, "newsdatahub-cybersecurity-news-en-title-3000.csv"))
	if err != nil {
		t.Skipf("shared news data not available: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read newsdatahub csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		leads["newsdatahub-cybersecurity-news-en-title-3000.csv/"+r[col["id"]]] = r[col["description"]]
	}
	b, err := os.ReadFile(filepath.Join(newsDir, "cybernews-2025-incidents.json"))
	if err != nil {
		t.Skipf("shared news data not available: %v", err)
	}
	var cn []struct{ ID, Summary string }
	if err := json.Unmarshal(b, &cn); err != nil {
		t.Fatalf("decode cybernews json: %v", err)
	}
	for _, x := range cn {
		leads["cybernews-2025-incidents.json/"+x.ID] = x.Summary
	}
	return leads
}

// TestEvaluationWithLead repeats the evaluation with each item's real lead
// text (first 300 characters of its description) as Item.Text, the way the
// monitor will call SignatureOf.
func TestEvaluationWithLead(t *testing.T) {
	leads := loadLeads(t)
	ps := loadPairs(t)
	for i := range ps {
		for _, li := range []*labelledItem{&ps[i].A, &ps[i].B} {
			text, ok := leads[li.File+"/"+li.ID]
			if !ok {
				t.Fatalf("pair %d: %s/%s not found in shared data", i, li.File, li.ID)
			}
			li.Text = text
		}
	}
	var table strings.Builder
	for _, th := range []float64{0.3, 0.34, 0.36, 0.38, 0.4, 0.45} {
		c, _ := evaluate(ps, Options{Window: evalWindow, Threshold: th})
		fmt.Fprintf(&table, "threshold %.2f: precision %.2f recall %.2f (tp %d fp %d fn %d tn %d)\n",
			th, c.precision(), c.recall(), c.tp, c.fp, c.fn, c.tn)
	}
	t.Logf("with lead text\n%s", table.String())
	c, _ := evaluate(ps, Options{Window: evalWindow})
	if got := c.precision(); got < minPrecision {
		t.Errorf("precision with lead at default threshold: got %.2f, want >= %.2f", got, minPrecision)
	}
	if got := c.recall(); got < minRecall {
		t.Errorf("recall with lead at default threshold: got %.2f, want >= %.2f", got, minRecall)
	}
}

// loadTitles returns every headline of the two shared news data sets.
func loadTitles(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(newsDir, "newsdatahub-cybersecurity-news-en-title-3000.csv"))
	if err != nil {
		t.Skipf("shared news data not available: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read newsdatahub csv: %v", err)
	}
	var titles []string
	for _, r := range rows[1:] {
		titles = append(titles, r[1])
	}
	b, err := os.ReadFile(filepath.Join(newsDir, "cybernews-2025-incidents.json"))
	if err != nil {
		t.Skipf("shared news data not available: %v", err)
	}
	var cn []struct{ Title string }
	if err := json.Unmarshal(b, &cn); err != nil {
		t.Fatalf("decode cybernews json: %v", err)
	}
	for _, x := range cn {
		titles = append(titles, x.Title)
	}
	return titles
}
