package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	r := New(Options{FeedHealth: func() (int, int) { return 12, 3 }})
	r.Fetched("ok", 2048, 50, 120*time.Millisecond)
	r.Fetched("not_modified", 0, 0, 10*time.Millisecond)
	r.Fetched("not_modified", 0, 0, 10*time.Millisecond)
	r.Fetched("error_timeout", 0, 0, 30*time.Second)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`accordwatch_feed_fetches_total{result="ok"} 1`,
		`accordwatch_feed_fetches_total{result="not_modified"} 2`,
		`accordwatch_feed_fetches_total{result="error_timeout"} 1`,
		`accordwatch_feed_bytes_total 2048`,
		`accordwatch_feed_items_total 50`,
		`accordwatch_feed_fetch_seconds_count 4`,
		`accordwatch_feeds 12`,
		`accordwatch_feeds_unhealthy 3`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestFeedHealthIsReadOncePerScrape(t *testing.T) {
	calls := 0
	r := New(Options{FeedHealth: func() (int, int) { calls++; return 2, 1 }})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls != 1 {
		t.Errorf("feed health read %d times for one scrape, want 1", calls)
	}
}
