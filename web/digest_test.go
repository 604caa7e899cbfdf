package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// fakeDigestPoster posts each week once unless forced, like digest.Runner.
type fakeDigestPoster struct {
	mu     sync.Mutex
	posted map[string]time.Time
	calls  int
	// hold, when set, is waited on inside Post, whose ctx goes to ctxs.
	hold chan struct{}
	ctxs chan context.Context
}

func (p *fakeDigestPoster) Post(ctx context.Context, from, to time.Time, force bool) (*digest.Report, digest.Posted, error) {
	if p.hold != nil {
		p.ctxs <- ctx
		<-p.hold
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	week := digest.WeekName(from, time.UTC)
	if at, ok := p.posted[week]; ok && !force {
		return nil, digest.Posted{}, &digest.AlreadyPostedError{Week: week, At: at}
	}
	if p.posted == nil {
		p.posted = map[string]time.Time{}
	}
	p.posted[week] = fixedNow
	return &digest.Report{Week: week, Title: week}, digest.Posted{Week: week, Title: week, Ref: "C1/1", At: fixedNow}, nil
}

func TestDigestPostHandler(t *testing.T) {
	p := &fakeDigestPoster{}
	h := DigestPostHandler(DigestPostOptions{Poster: p, Now: func() time.Time { return fixedNow }, Token: "tok"})
	const conflict = "digest: week 2026-W47 was already posted at 2026-11-25T12:00:00Z"
	tests := []struct {
		name, method, ctype, token, body string
		want                             int
		contains                         string
	}{
		{"no token", "POST", "application/json", "", `{"week":"2026-W47"}`, 401, "bearer token"},
		{"GET", "GET", "", "tok", "", 405, "use POST"},
		{"a form", "POST", "application/x-www-form-urlencoded", "tok", `{"week":"2026-W47"}`, 415, "application/json"},
		{"unknown field", "POST", "application/json", "tok", `{"week":"2026-W47","forse":true}`, 400, "unknown field"},
		{"bad week", "POST", "application/json", "tok", `{"week":"2026-W99"}`, 400, "W99"},
		{"first post", "POST", "application/json", "tok", `{"week":"2026-W47"}`, 200, `"ref": "C1/1"`},
		{"second post", "POST", "application/json", "tok", `{"week":"2026-W47"}`, 409, conflict},
		{"forced", "POST", "application/json; charset=utf-8", "tok", `{"week":"2026-W47","force":true}`, 200, `"week": "2026-W47"`},
		{"default: the previous week", "POST", "application/json", "tok", `{}`, 409, conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/api/digest/post", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("got %d %s, want %d containing %q", rec.Code, rec.Body, tt.want, tt.contains)
			}
		})
	}
	var cf DigestConflict
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/digest/post", strings.NewReader(`{"week":"2026-W47"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok")
	h.ServeHTTP(rec, req)
	if err := json.Unmarshal(rec.Body.Bytes(), &cf); err != nil || cf.Week != "2026-W47" || !cf.PostedAt.Equal(fixedNow) {
		t.Errorf("409 body: got %+v (%v), want week 2026-W47 posted at %v", cf, err, fixedNow)
	}
}

// TestDigestPostBehindGuard: a page on another site cannot make the daemon
// post; the CLI's request (JSON, bearer token) can.
func TestDigestPostBehindGuard(t *testing.T) {
	p := &fakeDigestPoster{}
	h := Guard(GuardOptions{Listen: "127.0.0.1:8080", Token: "tok"})(DigestPostHandler(DigestPostOptions{Poster: p, Token: "tok"}))
	forged := httptest.NewRequest("POST", "http://127.0.0.1:8080/api/digest/post", strings.NewReader(`{"week":"2026-W47"}`))
	forged.Header.Set("Content-Type", "text/plain")
	forged.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, forged)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site post: got %d %s, want 403", rec.Code, rec.Body)
	}
	cli := httptest.NewRequest("POST", "http://127.0.0.1:8080/api/digest/post", strings.NewReader(`{"week":"2026-W47"}`))
	cli.Header.Set("Content-Type", "application/json")
	cli.Header.Set("Authorization", "Bearer tok")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, cli)
	if rec.Code != http.StatusOK || p.calls != 1 {
		t.Errorf("the CLI's post: got %d %s with %d posts, want 200 and 1", rec.Code, rec.Body, p.calls)
	}
}

// TestDigestPostOutlivesItsClient: a client that goes away mid-post does
// not cancel it, so a digest Slack took is still recorded.
func TestDigestPostOutlivesItsClient(t *testing.T) {
	p := &fakeDigestPoster{hold: make(chan struct{}), ctxs: make(chan context.Context, 1)}
	h := DigestPostHandler(DigestPostOptions{Poster: p})
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, "POST", "/api/digest/post", strings.NewReader(`{"week":"2026-W47"}`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), req)
		close(done)
	}()
	postCtx := <-p.ctxs
	cancel()
	if err := postCtx.Err(); err != nil {
		t.Errorf("the post's context ended with its client: %v", err)
	}
	close(p.hold)
	<-done
}
