package main

import (
	"bufio"
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
// run in rotation, so no one query's quirks decide the result.
type querySet struct {
	name   string
	target time.Duration
	reqs   []accordwatch.SearchRequest
}

func querySets(end time.Time) []querySet {
	newest := func(qs ...string) []accordwatch.SearchRequest {
		var reqs []accordwatch.SearchRequest
		for _, q := range qs {
			reqs = append(reqs, accordwatch.SearchRequest{Query: q, Sort: accordwatch.SortNewest, Size: 20})
		}
		return reqs
	}
	lo := end.AddDate(0, 0, -30).Format(time.DateOnly)
	hi := end.Format(time.DateOnly)
	fielded := []string{
		"state:russia since:30d",
		"signatory:microsoft severity:>=50 since:30d",
		"state:china attack:espionage since:30d",
		`attack:ransomware feed:"the record" since:30d`,
		"state_linked:true published:[" + lo + " TO " + hi + "]",
	}
	return []querySet{
		{"(a) two free-text terms", 100 * time.Millisecond,
			newest("ransomware hospital", "exploited firewall", "phishing credentials", "botnet takedown", "patch vulnerability")},
		{"(b) phrase", 100 * time.Millisecond,
			newest(`"supply chain"`, `"remote code execution"`, `"critical infrastructure"`, `"zero day"`, `"law enforcement"`)},
		// Search always computes facets, so (c) is (d): it is held to (c)'s
		// stricter target.
		{"(c)+(d) fielded, 30-day range, all facets", 50 * time.Millisecond, newest(fielded...)},
		{"deep paging: everything, page 500 by From", 200 * time.Millisecond,
			[]accordwatch.SearchRequest{{Sort: accordwatch.SortNewest, Size: 20, From: 499 * 20}}},
		{"deep paging: (a) terms, page 50 by From", 200 * time.Millisecond,
			[]accordwatch.SearchRequest{{Query: "patch vulnerability", Sort: accordwatch.SortNewest, Size: 20, From: 49 * 20}}},
		{"relevance: two free-text terms", 0,
			[]accordwatch.SearchRequest{{Query: "ransomware hospital", Size: 20}, {Query: "exploited firewall", Size: 20}}},
	}
}

func benchmark(ctx context.Context, w io.Writer, gen *generator, dir string, n, chunk, runs int, end time.Time, only string, verbose bool, one string) error {
	fmt.Fprintf(w, "benchgen -bench: %d items in %s, GOMAXPROCS %d, load %s\n", n, dir, runtime.GOMAXPROCS(0), loadavg())
	opts := index.Options{Now: func() time.Time { return end }}

	ix, err := index.Open(dir, opts)
	if err != nil {
		return err
	}
	have, err := ix.Count()
	if err != nil {
		return err
	}
	if err := ix.Close(); err != nil {
		return err
	}
	if have != uint64(n) {
		fmt.Fprintf(w, "index holds %d items, want %d: building it\n", have, n)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		st, err := build(ctx, gen, dir, n, chunk, end, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "indexing: %d items in %s = %.0f items/s (Add calls %s, %.0f items/s; %d items a call); peak RSS so far %s; load %s\n",
			n, st.elapsed.Round(time.Second), st.rate(), st.adding.Round(time.Second), float64(n)/st.adding.Seconds(), chunk, procStatus("VmHWM"), loadavg())
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
			return err
		}
		if _, err := ix.Search(ctx, accordwatch.SearchRequest{Query: "state:russia", Size: 1}); err != nil {
			return err
		}
		opens = append(opens, time.Since(t))
		if err := ix.Close(); err != nil {
			return err
		}
	}
	slices.Sort(opens)
	fmt.Fprintf(w, "open-to-ready: median %s, max %s (target < 2s)\n", opens[len(opens)/2].Round(time.Millisecond), opens[len(opens)-1].Round(time.Millisecond))

	ix, err = index.Open(dir, opts)
	if err != nil {
		return err
	}
	defer ix.Close()

	fmt.Fprintf(w, "\n%-44s %8s %8s %8s %8s %8s  %s\n", "query (sorted newest first, 20 hits)", "p50", "p95", "p99", "max", "target", "hits (total)")
	sets := querySets(end)
	if one != "" {
		sets = []querySet{{"-q", 0, []accordwatch.SearchRequest{{Query: one, Sort: accordwatch.SortNewest, Size: 20}}}}
		only = "-q"
	}
	// Deep paging by cursor: walk to page 500 once, then time that page.
	if strings.HasPrefix("deep paging: everything, page 500 by After", only) {
		cur, err := cursorAt(ctx, ix, accordwatch.SearchRequest{Sort: accordwatch.SortNewest, Size: 20}, 499)
		if err != nil {
			return err
		}
		sets = append(sets, querySet{"deep paging: everything, page 500 by After", 200 * time.Millisecond,
			[]accordwatch.SearchRequest{{Sort: accordwatch.SortNewest, Size: 20, After: cur}}})
	}
	for _, set := range sets {
		if !strings.HasPrefix(set.name, only) {
			continue
		}
		// One warm-up round: the first touch of a partition's files pays
		// for page faults that steady state does not.
		for _, req := range set.reqs {
			if _, err := ix.Search(ctx, req); err != nil {
				return fmt.Errorf("%s: %w", req.Query, err)
			}
		}
		var lat []time.Duration
		var totals []string
		perQuery := make([][]time.Duration, len(set.reqs))
		for i := range runs {
			req := set.reqs[i%len(set.reqs)]
			t := time.Now()
			res, err := ix.Search(ctx, req)
			if err != nil {
				return fmt.Errorf("%s: %w", req.Query, err)
			}
			lat = append(lat, time.Since(t))
			perQuery[i%len(set.reqs)] = append(perQuery[i%len(set.reqs)], time.Since(t))
			if i < len(set.reqs) {
				totals = append(totals, fmt.Sprintf("%d", res.Total))
			}
		}
		slices.Sort(lat)
		target := "-"
		if set.target > 0 {
			target = ms(set.target)
		}
		fmt.Fprintf(w, "%-44s %8s %8s %8s %8s %8s  %s\n", set.name, ms(pct(lat, 50)), ms(pct(lat, 95)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), target, strings.Join(totals, " "))
		if verbose {
			for i, l := range perQuery {
				slices.Sort(l)
				fmt.Fprintf(w, "    %-40s %8s %8s %8s\n", set.reqs[i].Query, ms(pct(l, 50)), ms(pct(l, 95)), ms(l[len(l)-1]))
			}
		}
	}
	fmt.Fprintf(w, "\npeak RSS (VmHWM) of this process: %s (now: %s); load %s\n", procStatus("VmHWM"), rssNow(), loadavg())
	return nil
}

// cursorAt follows Next pages times and returns the cursor of the page
// after them.
func cursorAt(ctx context.Context, ix *index.Index, req accordwatch.SearchRequest, pages int) (string, error) {
	for range pages {
		res, err := ix.Search(ctx, req)
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

// procStatus returns a field of /proc/self/status, such as VmHWM (the
// peak resident set size).
func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
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
func rssNow() string {
	return "anon " + procStatus("RssAnon") + ", file " + procStatus("RssFile")
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
