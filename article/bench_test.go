package article

import (
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkExtractPages extracts every page of Mozilla's test suite once
// per iteration, as the daemon does (shape check, parse, readerable
// decision, extraction, text), and reports the per-page time at the
// median and the 99th percentile, and the memory one page allocates.
// Skipped when the pages are absent.
//
//	go test -run '^$' -bench ExtractPages -benchtime 10x ./article/
func BenchmarkExtractPages(b *testing.B) {
	dirs, err := os.ReadDir(testPages)
	if err != nil {
		b.Skipf("test pages not available: %v", err)
	}
	var pages [][]byte
	size := 0
	for _, d := range dirs {
		src, err := os.ReadFile(filepath.Join(testPages, d.Name(), "source.html"))
		if err != nil {
			continue
		}
		pages = append(pages, src)
		size += len(src)
	}
	if len(pages) == 0 {
		b.Skip("no test pages")
	}
	u, _ := url.Parse("http://fakehost/test/page.html")
	x := New(Options{})
	took := make([]time.Duration, 0, b.N*len(pages))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for range b.N {
		for _, p := range pages {
			start := time.Now()
			x.Extract(p, u) // not-an-article pages cost the same work
			took = append(took, time.Since(start))
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	n := float64(b.N * len(pages))
	b.ReportMetric(at(0.50), "p50_ms/page")
	b.ReportMetric(at(0.99), "p99_ms/page")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max_ms/page")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n/(1<<20), "alloc_MB/page")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/page")
	b.ReportMetric(float64(size)/float64(len(pages))/1024, "page_KB")
}
