package incident

import (
	_ "embed"
	"math"
	"strconv"
	"strings"
	"sync"
)

// termStatsTSV is how often each term occurs in unlabelled security news:
// its document frequency (in how many items' headline and lead it
// occurs) and whether it is a name (written capitalised in the middle of
// a sentence at least 70% of the times it is seen there). It is generated
// from ../shared/data/news by TestTermStats with -update; see doc.go.
//
//go:embed termstats.tsv
var termStatsTSV string

// termStats is the parsed table. Terms seen in a single item are not in
// it: they weigh as much as terms never seen, the most a term can.
type termStats struct {
	docs  int
	lnN   float64
	df    map[string]int32
	idfs  map[string]float64 // computed once: idf is on every hot path
	names map[string]bool
}

// stats parses the embedded table once, on first use; it is read-only
// afterwards, so sharing it between Clusterers needs no lock.
var stats = sync.OnceValue(func() *termStats { return parseTermStats(termStatsTSV) })

// parseTermStats reads lines "term<TAB>df<TAB>name" after a header line
// "#docs<TAB>N". Malformed lines are skipped: the table is generated, and
// a damaged line must not stop the daemon.
func parseTermStats(tsv string) *termStats {
	ts := &termStats{docs: 1, df: make(map[string]int32), names: make(map[string]bool)}
	for line := range strings.Lines(tsv) {
		line = strings.TrimRight(line, "\n")
		f := strings.Split(line, "\t")
		if len(f) == 2 && f[0] == "#docs" {
			if n, err := strconv.Atoi(f[1]); err == nil && n > 0 {
				ts.docs = n
			}
			continue
		}
		if len(f) != 3 || strings.HasPrefix(line, "#") {
			continue
		}
		df, err := strconv.Atoi(f[1])
		if err != nil || df < 1 {
			continue
		}
		ts.df[f[0]] = int32(df)
		if f[2] == "1" {
			ts.names[f[0]] = true
		}
	}
	ts.lnN = math.Log(float64(ts.docs))
	ts.idfs = make(map[string]float64, len(ts.df))
	for t, df := range ts.df {
		if df > 1 {
			ts.idfs[t] = max(0, math.Log(float64(ts.docs)/float64(df)))
		}
	}
	return ts
}

// idf is the inverse document frequency of t: ln(N/df), at most ln N for a
// term seen once or never.
func (ts *termStats) idf(t string) float64 {
	if idf, ok := ts.idfs[t]; ok {
		return idf
	}
	return ts.lnN
}

// known reports whether t was seen in more than one item.
func (ts *termStats) known(t string) bool { return ts.df[t] > 1 }
