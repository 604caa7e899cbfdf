//go:build linux

package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accordwatch/accordwatch"
)

// wordyItems are n items of feed "<prefix> feed" published on day, each with its own word
// ("<prefix><i>mark"), a word they all share (prefix+"all") and enough
// other words that a batch of them takes about n*words*12 bytes of index.
func wordyItems(prefix string, n, words int, day time.Time) []accordwatch.Item {
	items := make([]accordwatch.Item, n)
	for i := range items {
		var b strings.Builder
		fmt.Fprintf(&b, "%sall %s%dmark", prefix, prefix, i)
		for w := range words {
			fmt.Fprintf(&b, " %s%dw%dz%x", prefix, i, w, (i+1)*(w+7)*2654435761%1000003)
		}
		items[i] = accordwatch.Item{ID: fmt.Sprintf("%s-%d", prefix, i), Title: prefix + " story", Text: b.String(), Published: day,
			FeedName: prefix + " feed"}
	}
	return items
}

// searchIDs is the ids of the items matching q, up to MaxSize.
func searchIDs(t *testing.T, ix *Index, q string) []string {
	t.Helper()
	res, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: q, Size: MaxSize})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return hitIDs(res)
}

// TestFailedWriteLeavesTheIndexAsOnDisk fills the disk (RLIMIT_FSIZE: a
// file may not grow past a limit, so writes fail with EFBIG) in the middle
// of Add. bleve then closes the batch's segment but leaves it in the live
// snapshot, and the next read of it — the doc-id lookup of the next Add —
// panicked on a nil map in a goroutine bleve started. Now the write is a
// *WriteError, the partition is reopened from disk, later Adds and
// searches work, the failed items are nowhere (not even in memory), and
// adding them again once there is room indexes them.
func TestFailedWriteLeavesTheIndexAsOnDisk(t *testing.T) {
	if inChild(t) {
		return
	}
	day := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	before := wordyItems("early", 5, 20, day)
	if err := ix.Add(context.Background(), before); err != nil {
		t.Fatal(err)
	}

	big := wordyItems("big", 200, 100, day)
	// Searches run all along: none may see the failed batch's segment.
	stop := make(chan struct{})
	searched := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				searched <- nil
				return
			default:
			}
			if _, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "earlyall OR bigall", Size: 5}); err != nil {
				searched <- err
				return
			}
		}
	}()
	var smallErr error
	err = withFileSizeLimit(t, 128<<10, func() error {
		err := ix.Add(context.Background(), big)
		// The next write must not panic, whatever the disk says.
		smallErr = ix.Add(context.Background(), wordyItems("small", 1, 5, day))
		return err
	})
	close(stop)
	if err := <-searched; err != nil {
		t.Errorf("search during the failed write: %v", err)
	}
	var we *WriteError
	if !errors.As(err, &we) || we.Partition != "2026-02" || !we.WriteFailed() {
		t.Fatalf("got %v, want a *WriteError for partition 2026-02", err)
	}
	if !strings.Contains(err.Error(), "index write failed") || !strings.Contains(err.Error(), "file too large") {
		t.Errorf("got %q, want the error to say the index write failed, and why", err)
	}
	if got := searchIDs(t, ix, "bigall"); len(got) != 0 {
		t.Errorf("after the failed write, search finds %d of its items, want none", len(got))
	}
	if got := searchIDs(t, ix, "earlyall"); len(got) != len(before) {
		t.Errorf("after the failed write, search finds %d earlier items, want %d", len(got), len(before))
	}
	if got := searchIDs(t, ix, "smallall"); smallErr == nil && len(got) != 1 {
		t.Errorf("the Add after the failed one succeeded, but search finds %d of its 1 item", len(got))
	} else if smallErr != nil {
		t.Logf("the Add after the failed one failed too (the disk was still full): %v", smallErr)
	}

	// With room again, the same Add completes.
	if err := ix.Add(context.Background(), big); err != nil {
		t.Fatalf("adding again with room: %v", err)
	}
	if got := searchIDs(t, ix, "bigall"); len(got) != len(big) {
		t.Errorf("after the retry, search finds %d of %d items", len(got), len(big))
	}
	n, err := ix.Count()
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	// What searches saw is what is on disk.
	ix2, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	n2, err := ix2.Count()
	if err != nil {
		t.Fatal(err)
	}
	if ix2.Rebuilt() || n2 != n {
		t.Errorf("reopened: rebuilt %v with %d items, want the %d items searches saw", ix2.Rebuilt(), n2, n)
	}
	// The failed batch brought a feed new to the month: its facet code
	// was neither kept nor lost, and names the right feed after reopening.
	res, err := ix2.Search(context.Background(), accordwatch.SearchRequest{Query: "earlyall OR bigall", Facets: "feed"})
	if err != nil {
		t.Fatal(err)
	}
	want := []accordwatch.FacetCount{fc("big feed", len(big)), fc("early feed", len(before))}
	if diff := cmp.Diff(want, res.Facets["feed"]); diff != "" {
		t.Errorf("feed facet after the failed write, the retry and a reopen (-want +got):\n%s", diff)
	}
}

// TestFailedPartitionCreateLeavesNoHalfPartition fills the disk while a
// new month's partition is being created: the Add fails with a
// *WriteError, and no half-made partition is left to make the next Open
// take the whole index for corrupt.
func TestFailedPartitionCreateLeavesNoHalfPartition(t *testing.T) {
	if inChild(t) {
		return
	}
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := ix.Add(context.Background(), testItems()); err != nil {
		t.Fatal(err)
	}
	june := wordyItems("june", 3, 5, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	err = withFileSizeLimit(t, 4<<10, func() error { return ix.Add(context.Background(), june) })
	var we *WriteError
	if !errors.As(err, &we) || we.Partition != "2026-06" {
		t.Fatalf("got %v, want a *WriteError for partition 2026-06", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-06")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("half-made partition left behind (stat: %v)", err)
	}
	if err := ix.Add(context.Background(), june); err != nil {
		t.Fatalf("adding again with room: %v", err)
	}
	if got := searchIDs(t, ix, "juneall"); len(got) != len(june) {
		t.Errorf("search finds %d of %d items", len(got), len(june))
	}
	ix.Close()
	ix2, err := Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if ix2.Rebuilt() {
		t.Error("the index was taken for corrupt after a failed partition create")
	}
}

// childEnv names the test a child process of the test binary runs.
const childEnv = "ACCORDWATCH_INDEX_WRITEFAIL_CHILD"

// inChild runs the calling test again in a child process of the test
// binary and reports true once it has passed there; in the child it
// reports false and the test runs. The file size limit these tests lower
// holds for the whole process, and the go command's test log (written by
// the test process while it runs, when results are cached) must not hit
// it: "go test ./index/" failed with "testlog.txt: file too large".
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return false
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a child process: %v\n%s", t.Name(), err, out)
	}
	if bytes.Contains(out, []byte("--- SKIP")) {
		t.Skipf("skipped in the child process:\n%s", out)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("%s did not run in the child process:\n%s", t.Name(), out)
	}
	return true
}

// withFileSizeLimit runs fn with RLIMIT_FSIZE lowered to limit bytes, so
// that writing a file past that size fails with EFBIG (the Go runtime
// ignores SIGXFSZ) as on a full disk. The limit holds for the whole
// process, so the tests using it run in a child process (inChild).
func withFileSizeLimit(t *testing.T, limit uint64, fn func() error) error {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lowered := old
	lowered.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lowered); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restore RLIMIT_FSIZE: %v", err)
		}
	}()
	return fn()
}
