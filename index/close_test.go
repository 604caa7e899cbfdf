package index

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/accordwatch/accordwatch"
)

// TestAddRacingCloseNeverPanics runs Add and Close at the same time, many
// times. Add used to find the index open, then create a partition after
// Close had dropped the partition map: a panic on a nil map, or a stray
// partition whose bleve index nobody closes. Now an Add either completes
// before Close or fails with ErrClosed, and afterwards every call says
// the index is closed.
func TestAddRacingCloseNeverPanics(t *testing.T) {
	items := testItems() // ten items over three months
	runs := 40
	if testing.Short() {
		runs = 10
	}
	for run := range runs {
		dir := filepath.Join(t.TempDir(), "index")
		ix, err := Open(dir, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var addErr error
		wg.Go(func() { addErr = ix.Add(context.Background(), items) })
		// Close at a different moment of the Add each time.
		for range rand.IntN(200) {
			runtime.Gosched()
		}
		if err := ix.Close(); err != nil {
			t.Errorf("run %d: close: %v", run, err)
		}
		wg.Wait()
		if addErr != nil && !errors.Is(addErr, ErrClosed) {
			t.Errorf("run %d: Add racing Close: got %v, want nil or ErrClosed", run, addErr)
		}
		if err := ix.Add(context.Background(), items); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "index closed") {
			t.Errorf("run %d: Add after Close: got %v, want ErrClosed", run, err)
		}
		if _, err := ix.Search(context.Background(), accordwatch.SearchRequest{Query: "ransomware"}); !errors.Is(err, ErrClosed) {
			t.Errorf("run %d: Search after Close: got %v, want ErrClosed", run, err)
		}
		if _, err := ix.Count(); !errors.Is(err, ErrClosed) {
			t.Errorf("run %d: Count after Close: got %v, want ErrClosed", run, err)
		}
		// Nothing was left open: the next Open gets every partition.
		ix2, err := Open(dir, testOptions())
		if err != nil {
			t.Fatalf("run %d: reopen: %v", run, err)
		}
		if ix2.Rebuilt() && addErr == nil {
			t.Errorf("run %d: index taken for corrupt after Add completed before Close", run)
		}
		if err := ix2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
