// Command benchgen generates deterministic synthetic news items for
// accordwatch's search benchmarks, builds an index from them, and runs the
// macro benchmark of issue 5 (indexing rate, disk, peak RSS, open time and
// query latencies on a large index).
//
//	benchgen -n 1000000 -out items.jsonl        # JSON Lines ("-" = stdout)
//	benchgen -n 1000000 -index DIR              # build an index in DIR
//	benchgen -bench -n 1000000 [-index DIR]     # build once (cached), then measure
//	benchgen -pg -n 1000000                     # the same items and queries in PostgreSQL 15
//	benchgen -bench -pg -n 1000000              # both, then a side-by-side table
//	benchgen -api http://127.0.0.1:8080 -pid PID  # the query sets through a running daemon's API
//
// In -bench mode DIR defaults to $ACCORDWATCH_BENCH_DIR/index-<n>; an
// index there that already holds n items is reused, so reruns only
// measure queries.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/accordwatch/accordwatch/index"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		n     = flag.Int("n", 1_000_000, "number of items")
		seed  = flag.Uint64("seed", 1, "random seed")
		endS  = flag.String("end", "2026-03-01", "newest publication day (UTC); items span -years before it")
		years = flag.Int("years", 3, "years of publication dates")
		out   = flag.String("out", "", "write items as JSON Lines to this file (- = stdout)")
		dir   = flag.String("index", "", "build (or, with -bench, reuse) an index in this directory")
		bench = flag.Bool("bench", false, "build the index if needed, then measure queries")
		runs  = flag.Int("runs", 200, "runs of each query in -bench mode")
		prof  = flag.String("cpuprofile", "", "write a CPU profile to this file")
		only  = flag.String("only", "", "in -bench mode, run only the query sets whose name starts with this")
		verb  = flag.Bool("v", false, "in -bench mode, also print each query's latencies")
		one   = flag.String("q", "", "in -bench mode, time only this query (newest first, 20 hits)")
		pg    = flag.Bool("pg", false, "load the items into a throwaway PostgreSQL 15 cluster and time the same queries there (with -bench: both, side by side)")
		pgDir = flag.String("pgdir", "", "parent directory of the PostgreSQL cluster (default $ACCORDWATCH_BENCH_DIR, else /tmp)")
		pgBuf = flag.String("pgbuffers", "2GB", "PostgreSQL shared_buffers")
		api   = flag.String("api", "", "time the query sets through this running daemon's /api/search (its index built by benchgen -index with the same -n, -seed and -end)")
		pid   = flag.Int("pid", 0, "with -api, the daemon's process id, to read its memory from /proc")
		atS   = flag.String("at", "", "with -bench or -api, ask every query as on this day (UTC): its 30-day windows end there and it finds no item published later, as a deployment asked mid-month (default: -end)")
	)
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	end, err := time.Parse(time.DateOnly, *endS)
	if err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	end = end.Add(24*time.Hour - time.Second)
	var at time.Time
	if *atS != "" {
		if at, err = time.Parse(time.DateOnly, *atS); err != nil {
			return fmt.Errorf("-at: %w", err)
		}
		at = at.Add(24*time.Hour - time.Second)
		if at.After(end) {
			return fmt.Errorf("-at %s is after -end %s: no item is newer than -end", *atS, *endS)
		}
		if *pg {
			return errors.New("-at is for -bench and -api; the SQL query sets end at -end")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	gen := newGenerator(*seed, end, *years)

	switch {
	case *out != "":
		return writeJSONL(*out, gen, *n)
	case *api != "":
		return apiBench(ctx, os.Stdout, *api, os.Getenv("ACCORDWATCH_API_TOKEN"), *pid, *runs, cmp.Or(at, end), !at.IsZero(), *only, *verb)
	case *bench || *pg:
		var aw, pt []timing
		if *bench {
			if *dir == "" {
				base := os.Getenv("ACCORDWATCH_BENCH_DIR")
				if base == "" {
					return errors.New("-bench needs -index DIR or ACCORDWATCH_BENCH_DIR")
				}
				*dir = filepath.Join(base, "index-"+strconv.Itoa(*n))
			}
			if aw, err = benchmark(ctx, os.Stdout, gen, *dir, *n, *runs, end, at, *only, *verb, *one); err != nil {
				return err
			}
		}
		if *pg {
			parent := cmp.Or(*pgDir, os.Getenv("ACCORDWATCH_BENCH_DIR"), "/tmp")
			// The same items: a fresh generator with the same seed.
			pgGen := newGenerator(*seed, end, *years)
			if pt, err = pgBench(ctx, os.Stdout, pgGen, parent, *pgBuf, *n, *years, *runs, end, *only, *verb); err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
		}
		if *bench && *pg {
			sideBySide(os.Stdout, aw, pt)
		}
		return nil
	case *dir != "":
		st, err := build(ctx, gen, *dir, *n, end, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Printf("indexed %d items in %s: %.0f items/s; %s CPU an item\n", *n, st.elapsed.Round(time.Second), st.rate(), st.cpuPerItem())
		return nil
	}
	return errors.New("give -out FILE, -index DIR, -bench or -api URL")
}

func writeJSONL(path string, gen *generator, n int) error {
	var w io.Writer = os.Stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	for range n {
		if err := enc.Encode(gen.item()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type buildStats struct {
	elapsed, adding time.Duration
	// cpu is the process's user+system CPU time during the build: on a
	// shared machine it says what the build costs, whatever the load.
	cpu time.Duration
	n   int
}

// cpuPerItem is the CPU time an item cost to generate and index.
func (s buildStats) cpuPerItem() time.Duration { return s.cpu / time.Duration(max(s.n, 1)) }

func (s buildStats) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }

// build indexes n generated items through an index.Loader, as a reindex
// from the store does. The generator's dates are in no order, like the
// store's ids.
func build(ctx context.Context, gen *generator, dir string, n int, end time.Time, progress io.Writer) (buildStats, error) {
	ix, err := index.Open(dir, index.Options{Now: func() time.Time { return end }})
	if err != nil {
		return buildStats{}, err
	}
	defer ix.Close()
	st := buildStats{n: n}
	start := time.Now()
	cpu0 := cpuTime()
	l := ix.NewLoader()
	for done := range n {
		it := gen.item()
		t := time.Now()
		if err := l.Add(ctx, it); err != nil {
			return st, err
		}
		st.adding += time.Since(t)
		if (done+1)%10_000 == 0 {
			fmt.Fprintf(progress, "\rindexed %d/%d items, %.0f items/s", done+1, n, float64(done+1)/time.Since(start).Seconds())
		}
	}
	t := time.Now()
	if err := l.Flush(ctx); err != nil {
		return st, err
	}
	st.adding += time.Since(t)
	fmt.Fprintln(progress)
	if err := ix.Close(); err != nil {
		return st, err
	}
	st.elapsed = time.Since(start)
	st.cpu = cpuTime() - cpu0
	return st, nil
}

// cpuTime is the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
