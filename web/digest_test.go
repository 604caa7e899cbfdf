package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
)

// emptySearcher finds nothing, after an optional delay; it keeps no state,
// so the digest may call it from several goroutines.
type emptySearcher struct{ delay time.Duration }

func (s emptySearcher) Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error) {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return accordwatch.SearchResult{}, ctx.Err()
		}
	}
	return accordwatch.SearchResult{Query: req.Query}, nil
}

func TestDigestHandlerRange(t *testing.T) {
	h := DigestHandler(DigestOptions{
		Searcher: emptySearcher{},
		Digest:   digest.Options{Now: func() time.Time { return fixedNow }, Location: time.UTC},
	})
	tests := []struct {
		name, query string
		want        int
		contains    string
	}{
		{"year one to 9999 (a 500 before)", "from=0001-01-01&to=9999-12-31", 400, "dates must be from 1970-01-01 to 2200-12-31"},
		{"five-digit year", "from=2026-01-01&to=99999-12-31", 400, "want a date like"},
		{"290 years (an 18 MB page before)", "from=1990-01-01&to=2280-01-01", 400, "dates must be from 1970-01-01 to 2200-12-31"},
		{"decades inside the years", "from=1990-01-01&to=2026-01-01", 400, "longer than the limit of 366 days"},
		{"week in year one", "week=0001-W01", 400, "dates must be from 1970-01-01"},
		{"a week", "week=2026-W47", 200, `"week"`},
		{"a year", "from=2026-01-01&to=2026-12-31&format=md", 200, "#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/digest?"+tt.query, nil))
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.contains) {
				body := rec.Body.String()
				if len(body) > 300 {
					body = body[:300] + "…"
				}
				t.Errorf("got %d %s, want %d containing %q", rec.Code, body, tt.want, tt.contains)
			}
		})
	}
}

// TestDigestOutlivesServerWriteTimeout: a digest slower than the server's
// WriteTimeout still gets its answer, since the handler sets its own
// write deadline from DigestOptions.Timeout.
func TestDigestOutlivesServerWriteTimeout(t *testing.T) {
	h := DigestHandler(DigestOptions{
		Searcher: emptySearcher{delay: 600 * time.Millisecond},
		Digest:   digest.Options{Now: func() time.Time { return fixedNow }, Location: time.UTC},
		Timeout:  time.Minute,
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config = NewServer(h, ServerOptions{WriteTimeout: 200 * time.Millisecond})
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/digest?week=2026-W47")
	if err != nil {
		t.Fatalf("got %v, want the digest (the server cut the connection at its WriteTimeout)", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"week"`) {
		t.Errorf("got %d %.200s (%v), want 200 with the digest", resp.StatusCode, body, err)
	}
}
