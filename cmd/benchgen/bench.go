package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

// querySet is one benchmarked kind of query: several queries of the kind,
// run in rotation, so no one query's quirks decide the result. pg holds
// the same questions as PostgreSQL would be asked them (see pg.go), in
// the order of reqs.
type querySet struct {
	name   string
	target time.Duration // issue 15's target at 1M items; 0 = none
	reqs   []accordwatch.SearchRequest
	pgKind pgKind
	pg     []pgQuery
	// cursorPage: reqs and pg get the cursor of this page (1-based), found
	// once before timing.
	cursorPage int
}

func querySets(end time.Time) []querySet {
	newest := func(facets string, qs ...string) []accordwatch.SearchRequest {
		var reqs []accordwatch.SearchRequest
		for _, q := range qs {
			reqs = append(reqs, accordwatch.SearchRequest{Query: q, Sort: accordwatch.SortNewest, Size: 20, Facets: facets})
		}
		return reqs
	}
	lo := end.AddDate(0, 0, -30).Format(time.DateOnly)
	hi := end.Format(time.DateOnly)
	terms := []string{"ransomware hospital", "exploited firewall", "phishing credentials", "botnet takedown", "patch vulnerability"}
	phrases := []string{`"supply chain"`, `"remote code execution"`, `"critical infrastructure"`, `"zero day"`, `"law enforcement"`}
	fielded := []string{
		"state:russia since:30d",
		"signatory:microsoft severity:>=50 since:30d",
		"state:china attack:espionage since:30d",
		`attack:ransomware feed:"the record" since:30d`,
		"state_linked:true published:[" + lo + " TO " + hi + "]",
	}
	pgTerms, pgPhrases, pgFielded := pgTermQueries(terms), pgPhraseQueries(phrases), pgFieldedQueries(end)
	none, all := accordwatch.FacetsNone, accordwatch.FacetsAll
	return []querySet{
		{name: "(a) two free-text terms, page+count", reqs: newest(none, terms...), pgKind: pgPage, pg: pgTerms},
		{name: "(a) two free-text terms, with facets", target: 33 * time.Millisecond,
			reqs: newest(all, terms...), pgKind: pgFacets, pg: pgTerms},
		{name: "(b) phrase, page+count", reqs: newest(none, phrases...), pgKind: pgPage, pg: pgPhrases},
		{name: "(b) phrase, with facets", target: 50 * time.Millisecond,
			reqs: newest(all, phrases...), pgKind: pgFacets, pg: pgPhrases},
		{name: "(c) fielded, 30 days, page+count", reqs: newest(none, fielded...), pgKind: pgPage, pg: pgFielded},
		{name: "(c)+(d) fielded, 30 days, with facets", target: 20 * time.Millisecond,
			reqs: newest(all, fielded...), pgKind: pgFacets, pg: pgFielded},
		{name: "everything, page 500 by From, page+count",
			reqs:   []accordwatch.SearchRequest{{Sort: accordwatch.SortNewest, Size: 20, From: 499 * 20, Facets: none}},
			pgKind: pgOffset, pg: []pgQuery{{where: "true", offset: 499 * 20}}},
		{name: "everything, page 500 by After, page only", target: 5 * time.Millisecond,
			reqs:   []accordwatch.SearchRequest{{Sort: accordwatch.SortNewest, Size: 20, Facets: none}},
			pgKind: pgCursor, pg: []pgQuery{{where: "true"}}, cursorPage: 500},
		{name: "everything, page 500 by After, with facets",
			reqs:   []accordwatch.SearchRequest{{Sort: accordwatch.SortNewest, Size: 20, Facets: all}},
			pgKind: pgCursorFacets, pg: []pgQuery{{where: "true"}}, cursorPage: 500},
		{name: "(a) terms, page 50 by From, page+count",
			reqs:   []accordwatch.SearchRequest{{Query: "patch vulnerability", Sort: accordwatch.SortNewest, Size: 20, From: 49 * 20, Facets: none}},
			pgKind: pgOffset, pg: []pgQuery{{where: pgTerms[4].where, args: pgTerms[4].args, offset: 49 * 20}}},
		{name: "relevance: two free-text terms, exact count",
			reqs:   []accordwatch.SearchRequest{{Query: "ransomware hospital", Size: 20, Facets: none}, {Query: "exploited firewall", Size: 20, Facets: none}},
			pgKind: pgRelevance, pg: pgTerms[:2]},
	}
}

// timing is one query set's latencies on one system.
type timing struct {
	set              string
	target           time.Duration
	p50, p95, p99, m time.Duration
	totals           []string
}

func (t timing) row(w io.Writer) {
	target := "-"
	if t.target > 0 {
		target = ms(t.target)
	}
	fmt.Fprintf(w, "%-46s %8s %8s %8s %8s %8s  %s\n", t.set, ms(t.p50), ms(t.p95), ms(t.p99), ms(t.m), target, strings.Join(t.totals, " "))
}

func timingHeader(w io.Writer, what string) {
	fmt.Fprintf(w, "\n%-46s %8s %8s %8s %8s %8s  %s\n", what, "p50", "p95", "p99", "max", "target", "hits (total)")
}

// measure runs op runs times in rotation over its queries, after one
// warm-up round (the first touch of a file pays page faults that steady
// state does not).
func measure(set querySet, runs, queries int, verbose bool, w io.Writer, op func(i int) (string, error)) (timing, error) {
	for i := range queries {
		if _, err := op(i); err != nil {
			return timing{}, err
		}
	}
	var lat []time.Duration
	perQuery := make([][]time.Duration, queries)
	var totals []string
	for i := range runs {
		t := time.Now()
		total, err := op(i % queries)
		if err != nil {
			return timing{}, err
		}
		d := time.Since(t)
		lat = append(lat, d)
		perQuery[i%queries] = append(perQuery[i%queries], d)
		if i < queries {
			totals = append(totals, total)
		}
	}
	slices.Sort(lat)
	tm := timing{set: set.name, target: set.target, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), m: lat[len(lat)-1], totals: totals}
	tm.row(w)
	if verbose && queries > 1 {
		for i, l := range perQuery {
			slices.Sort(l)
			fmt.Fprintf(w, "    %-42s %8s %8s %8s\n", truncateQuery(set, i), ms(pct(l, 50)), ms(pct(l, 95)), ms(l[len(l)-1]))
		}
	}
	return tm, nil
}

func truncateQuery(set querySet, i int) string {
	q := set.reqs[i].Query
	if len(q) > 42 {
		q = q[:41] + "…"
	}
	return q
}

// benchmark builds (or reuses) the index in dir and times the query sets
// on it, asked as on the day at (zero: end, the day the items end).
func benchmark(ctx context.Context, w io.Writer, gen *generator, dir string, n, runs int, end, at time.Time, only string, verbose bool, one string) ([]timing, error) {
	fmt.Fprintf(w, "benchgen -bench: %d items in %s, GOMAXPROCS %d, load %s\n", n, dir, runtime.GOMAXPROCS(0), loadavg())
	clock := cmp.Or(at, end)
	opts := index.Options{Now: func() time.Time { return clock }}

	ix, err := index.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	have, err := ix.Count()
	if err != nil {
		return nil, err
	}
	if err := ix.Close(); err != nil {
		return nil, err
	}
	if have != uint64(n) {
		fmt.Fprintf(w, "index holds %d items, want %d: building it\n", have, n)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		st, err := build(ctx, gen, dir, n, end, os.Stderr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "indexing: %d items in %s = %.0f items/s (Loader calls %s, %.0f items/s); peak RSS so far %s; load %s\n",
			n, st.elapsed.Round(time.Second), st.rate(), st.adding.Round(time.Second), float64(n)/st.adding.Seconds(), procStatus("self", "VmHWM"), loadavg())
		fmt.Fprintf(w, "indexing CPU: %s an item (generation included) = %.0f items/s on %d idle cores; this run got %.2f cores\n",
			st.cpuPerItem(), float64(runtime.GOMAXPROCS(0))/st.cpuPerItem().Seconds(), runtime.GOMAXPROCS(0), st.cpu.Seconds()/st.elapsed.Seconds())
	} else {
		fmt.Fprintln(w, "reusing the index (delete the directory to measure indexing again)")
	}
	size, files := diskUsage(dir)
	fmt.Fprintf(w, "disk: %.2f GB in %d files (%.0f bytes an item)\n", float64(size)/1e9, files, float64(size)/float64(n))

	// Open-to-ready: Open plus a first search answered.
	var opens []time.Duration
	for range 5 {
		t := time.Now()
		ix, err = index.Open(dir, opts)
		if err != nil {
			return nil, err
		}
		if _, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "state:russia", Size: 1}); err != nil {
			return nil, err
		}
		opens = append(opens, time.Since(t))
		if err := ix.Close(); err != nil {
			return nil, err
		}
	}
	slices.Sort(opens)
	fmt.Fprintf(w, "open-to-ready: median %s, max %s (target < 2s)\n", opens[len(opens)/2].Round(time.Millisecond), opens[len(opens)-1].Round(time.Millisecond))

	ix, err = index.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	defer ix.Close()

	timingHeader(w, "accordwatch (sorted newest first, 20 hits), asked on "+clock.Format(time.DateOnly))
	sets := querySets(clock)
	if one != "" {
		sets = []querySet{{name: "-q", reqs: []accordwatch.SearchRequest{{Query: one, Sort: accordwatch.SortNewest, Size: 20}}}}
		only = "-q"
	}
	if !at.IsZero() {
		sets = upTo(sets, at)
	}
	out, err := timeSets(ctx, w, ix.Search, sets, runs, only, verbose)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\npeak RSS (VmHWM) of this process: %s (now: %s); load %s\n", procStatus("self", "VmHWM"), rssNow(), loadavg())
	return out, nil
}

// upTo limits every query of sets to the items published by the day at.
// The generated items end on -end, so the newest month of their index
// holds the days up to -end only, where a deployment asked in the middle
// of a month has half a month in its newest month: a newest-first search
// must find its page among those hits, and may count them all.
func upTo(sets []querySet, at time.Time) []querySet {
	bound := "published:<=" + at.Format(time.DateOnly)
	out := make([]querySet, len(sets))
	for i, set := range sets {
		set.reqs = slices.Clone(set.reqs)
		for j, r := range set.reqs {
			set.reqs[j].Query = bound
			if r.Query != "" {
				set.reqs[j].Query = "(" + r.Query + ") " + bound
			}
		}
		out[i] = set
	}
	return out
}

// searchFunc is index.Index.Search or a daemon's /api/search.
type searchFunc func(context.Context, accordwatch.SearchRequest) (accordwatch.SearchResult, error)

// timeSets times each query set whose name starts with only.
func timeSets(ctx context.Context, w io.Writer, search searchFunc, sets []querySet, runs int, only string, verbose bool) ([]timing, error) {
	var out []timing
	for _, set := range sets {
		if !strings.HasPrefix(set.name, only) {
			continue
		}
		if set.cursorPage > 0 {
			// Deep paging by cursor: walk to the page once, then time it.
			for i, req := range set.reqs {
				var err error
				if set.reqs[i].After, err = cursorAt(ctx, search, req, set.cursorPage-1); err != nil {
					return nil, err
				}
			}
		}
		tm, err := measure(set, runs, len(set.reqs), verbose, w, func(i int) (string, error) {
			res, err := search(ctx, set.reqs[i])
			if err != nil {
				return "", fmt.Errorf("%s: %w", set.reqs[i].Query, err)
			}
			plus := ""
			if res.TotalAtLeast {
				plus = "+"
			}
			return fmt.Sprintf("%d%s", res.Total, plus), nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, tm)
	}
	return out, nil
}

// cursorAt follows Next pages times and returns the cursor of the page
// after them.
func cursorAt(ctx context.Context, search searchFunc, req accordwatch.SearchRequest, pages int) (string, error) {
	for range pages {
		res, err := search(ctx, req)
		if err != nil {
			return "", err
		}
		if res.Next == "" {
			return "", fmt.Errorf("ran out of pages")
		}
		req.After = res.Next
	}
	return req.After, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func diskUsage(dir string) (size int64, files int) {
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	return size, files
}

// procStatus returns a field of /proc/<pid>/status ("self" for this
// process), such as VmHWM (the peak resident set size).
func procStatus(pid, field string) string {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

// rssNow splits the resident set: anonymous memory (Go heap and the
// like) and file pages (the index's memory-mapped segments, page cache
// the kernel can reclaim).
func rssNow() string { return rssSplit("self") }

func rssSplit(pid string) string {
	return "anon " + procStatus(pid, "RssAnon") + ", file " + procStatus(pid, "RssFile")
}

// procMemory is another process's peak and current resident set, split
// as rssNow splits it.
func procMemory(pid string) string {
	return "peak RSS (VmHWM) " + procStatus(pid, "VmHWM") + ", now RSS " + procStatus(pid, "VmRSS") + ": " + rssSplit(pid)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
