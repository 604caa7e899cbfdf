//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/store"
)

// diskFullLimit is the largest file the first pass may write (bytes): room
// for the store, the index's bookkeeping and the small feeds' items, but
// not for the big feed's share of the index.
const diskFullLimit = 128 << 10

// TestDiskFullHelper is not a test: TestRunOnceWithFullDisk re-executes
// the test binary to run it, with ACCORDWATCH_FSIZE set. It lowers
// RLIMIT_FSIZE, so that every write past that size fails with EFBIG (the
// Go runtime ignores SIGXFSZ), and runs the command line once.
func TestDiskFullHelper(t *testing.T) {
	limit := os.Getenv("ACCORDWATCH_FSIZE")
	if limit == "" {
		t.Skip("run by TestRunOnceWithFullDisk")
	}
	n, err := strconv.ParseUint(limit, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad ACCORDWATCH_FSIZE:", err)
		os.Exit(3)
	}
	if n > 0 {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
			fmt.Fprintln(os.Stderr, "getrlimit:", err)
			os.Exit(3)
		}
		rl.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(3)
		}
	}
	args := strings.Split(os.Getenv("ACCORDWATCH_ARGS"), "\x1f")
	os.Exit(Main(context.Background(), args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// diskFullFeed writes an RSS file of n items; each item's text carries
// the shared word "quokkafen", its own word and words long enough that
// the feed's share of the index takes words*n*~10 bytes.
func diskFullFeed(t *testing.T, dir, name string, n, words int) {
	t.Helper()
	pub := time.Now().UTC().Add(-time.Hour).Format(time.RFC1123Z)
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>d</description>`, name, name)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s story %d</title><link>https://%s.example/%d</link><guid isPermaLink="false">%s-%d</guid><pubDate>%s</pubDate><description>quokkafen %s%dmark`,
			name, i, name, i, name, i, pub, name, i)
		for w := range words {
			fmt.Fprintf(&b, " %s%dw%dz%x", name, i, w, (i+1)*(w+7)*2654435761%1000003)
		}
		b.WriteString(`</description></item>`)
	}
	b.WriteString(`</channel></rss>`)
	if err := os.WriteFile(filepath.Join(dir, name+".rss"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runLimited runs the command line in a child process whose files may
// not grow past limit bytes (0 = no limit).
func runLimited(t *testing.T, limit int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullHelper$")
	cmd.Env = append(os.Environ(), "ACCORDWATCH_FSIZE="+strconv.Itoa(limit), "ACCORDWATCH_ARGS="+strings.Join(args, "\x1f"))
	var out, errOut lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

// TestRunOnceWithFullDisk runs a pass while files cannot grow past a few
// hundred kilobytes: bleve fails to write the big feed's batch. The pass
// must end with a clean error naming the failed write — not a panic in
// bleve's goroutines — and the next pass, with room again, must store and
// index every item: the failed feed is fetched again and nothing stored
// before is lost.
func TestRunOnceWithFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command line as a subprocess")
	}
	dir := t.TempDir()
	feedDir := filepath.Join(dir, "feeds")
	if err := os.Mkdir(feedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Small feeds before and after the big one: their items share the
	// writer's group with it, and are committed again feed by feed after
	// the group failed — the second index write after a failed one, where
	// bleve used to panic.
	diskFullFeed(t, feedDir, "alpha", 6, 20)
	diskFullFeed(t, feedDir, "big", 200, 100)
	diskFullFeed(t, feedDir, "omega", 6, 20)
	const total = 6 + 200 + 6
	cfg := writeConfig(t, dir, "data_dir: data\n")
	args := []string{"run", "--once", "--config", cfg, "--feeds", feedDir}
	dataDir := filepath.Join(dir, "data")

	code, out, errOut := runLimited(t, diskFullLimit, args...)
	if code == 0 {
		t.Fatalf("first pass with a full disk: exit 0, want a failure; stdout:\n%s\nstderr:\n%s", out, lastLines(errOut, 20))
	}
	if strings.Contains(errOut, "panic:") || strings.Contains(errOut, "goroutine ") {
		t.Fatalf("first pass panicked (exit %d):\n%s", code, lastLines(errOut, 40))
	}
	var last string
	for line := range strings.Lines(errOut) {
		if strings.HasPrefix(line, "accordwatch: ") {
			last = strings.TrimSpace(line)
		}
	}
	t.Logf("first pass (exit %d): %s", code, last)
	if !strings.Contains(last, "write failed") || !strings.Contains(last, "file too large") {
		t.Errorf("first pass ended with %q, want an error naming the failed write and its cause; stderr:\n%s", last, lastLines(errOut, 20))
	}

	// What the first pass did store is intact, and the big feed's state
	// says it failed, so nothing marks its items as seen.
	st, err := store.Open(filepath.Join(dataDir, storeFile), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	firstIDs := storedIDs(t, st)
	bigState, _, err := st.FeedState(filepath.Join(feedDir, "big.rss"))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if bigState.ConsecutiveFailures == 0 || !bigState.LastSuccess.IsZero() {
		t.Errorf("big feed after the failed pass: %d failures, last success %v; want a failure and no success", bigState.ConsecutiveFailures, bigState.LastSuccess)
	}
	if len(firstIDs) >= total {
		t.Errorf("first pass stored %d items, want fewer than %d (the big feed must not fit)", len(firstIDs), total)
	}

	code, out, errOut = runLimited(t, 0, args...)
	if code != 0 {
		t.Fatalf("second pass with room again: exit %d; stdout:\n%s\nstderr:\n%s", code, out, lastLines(errOut, 20))
	}

	st, err = store.Open(filepath.Join(dataDir, storeFile), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := storedIDs(t, st)
	st.Close()
	if len(ids) != total {
		t.Errorf("got %d items stored after the second pass, want %d", len(ids), total)
	}
	for _, id := range firstIDs {
		if !slices.Contains(ids, id) {
			t.Errorf("item %s, stored by the first pass, is gone", id)
		}
	}

	ix, err := index.Open(filepath.Join(dataDir, indexDir), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	res, err := ix.Search(t.Context(), accordwatch.SearchRequest{Query: "quokkafen", Size: index.MaxSize})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, h := range res.Hits {
		found = append(found, h.ID)
	}
	slices.Sort(found)
	if !slices.Equal(found, ids) {
		t.Errorf("search finds %d items, the store holds %d; want the same items (index %d, store %d distinct)",
			len(found), len(ids), len(slices.Compact(slices.Clone(found))), len(ids))
	}
}

// storedIDs lists the store's item IDs, sorted.
func storedIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	var ids []string
	if err := st.EachItem(func(it accordwatch.Item) error {
		ids = append(ids, it.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}
