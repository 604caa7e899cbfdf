package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestFetcher opts in to private networks: the httptest servers the
// tests poll listen on 127.0.0.1, which the guard refuses by default
// (guard_test.go tests the guard itself).
func newTestFetcher(opts Options) *Fetcher {
	opts.AllowPrivateNetworks = true
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	return New(opts)
}

// serve starts an httptest server answering every request with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// body answers with a fixed content type and body.
func body(contentType, s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, s)
	}
}

func fetchErr(t *testing.T, err error) *FetchError {
	t.Helper()
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want a *FetchError", err, err)
	}
	return fe
}

const rss2 = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Example &amp; Co News</title>
<link>https://example.com/</link>
<item>
  <title>Contoso breach &lt;b&gt;confirmed&lt;/b&gt;</title>
  <link>https://Example.COM/news/1?utm_source=rss&amp;id=7#comments</link>
  <guid isPermaLink="false">urn:example:1</guid>
  <pubDate>Mon, 02 Feb 2026 10:00:00 +0100</pubDate>
  <description>Short summary.</description>
  <content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p>Full <b>story</b> text.</p><script>alert(1)</script>]]></content:encoded>
</item>
<item>
  <title>Second</title>
  <link>https://example.com/news/2</link>
  <pubDate>Sun, 01 Feb 2026 09:00:00 GMT</pubDate>
  <description>&lt;p&gt;Second &amp;amp; last.&lt;/p&gt;</description>
</item>
</channel></rss>`

const atom1 = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">Atom &lt;i&gt;Log&lt;/i&gt;</title>
  <link href="https://atom.example.org/"/>
  <id>urn:uuid:feed</id>
  <updated>2026-02-03T00:00:00Z</updated>
  <entry>
    <title>Entry one</title>
    <link rel="alternate" href="/posts/one"/>
    <id>tag:atom.example.org,2026:1</id>
    <updated>2026-02-03T08:30:00-05:00</updated>
    <summary>Summary one</summary>
  </entry>
</feed>`

const jsonFeed = `{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "JSON Things",
  "home_page_url": "https://json.example.net/",
  "items": [
    {"id": "42", "url": "https://json.example.net/42?fbclid=x", "title": "JSON item",
     "content_html": "<p>Hello <em>JSON</em></p>", "date_published": "2026-02-04T10:00:00Z"}
  ]
}`

func TestFetchFormats(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		feedName                string
		wantTitle               string // State.Title
		want                    []accordwatch.Item
	}{
		{
			name: "rss2", contentType: "application/rss+xml", body: rss2,
			wantTitle: "Example & Co News",
			want: []accordwatch.Item{
				{
					GUID: "urn:example:1", Link: "https://example.com/news/1?id=7",
					Title: "Contoso breach confirmed", Text: "Full story text.",
					Published: time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC), FeedName: "Example & Co News",
				},
				{
					Link: "https://example.com/news/2", Title: "Second", Text: "Second & last.",
					Published: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), FeedName: "Example & Co News",
				},
			},
		},
		{
			name: "atom with feed name set", contentType: "application/atom+xml", body: atom1,
			feedName: "My Atom", wantTitle: "Atom Log",
			want: []accordwatch.Item{{
				GUID: "tag:atom.example.org,2026:1", Link: "SERVER/posts/one", Title: "Entry one",
				Text: "Summary one", Published: time.Date(2026, 2, 3, 13, 30, 0, 0, time.UTC), FeedName: "My Atom",
			}},
		},
		{
			name: "json feed", contentType: "application/feed+json", body: jsonFeed,
			wantTitle: "JSON Things",
			want: []accordwatch.Item{{
				GUID: "42", Link: "https://json.example.net/42", Title: "JSON item", Text: "Hello JSON",
				Published: time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC), FeedName: "JSON Things",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, body(tt.contentType, tt.body))
			feed := accordwatch.Feed{Name: tt.feedName, URL: srv.URL + "/feed"}
			prev := accordwatch.FeedState{ConsecutiveFailures: 3, LastError: "HTTP 500 Internal Server Error", ItemsSeen: 10}
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), feed, prev)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			st := res.State
			if st.ConsecutiveFailures != 0 || st.LastError != "" || st.LastStatus != 200 {
				t.Errorf("got failures=%d error=%q status=%d, want 0, \"\", 200", st.ConsecutiveFailures, st.LastError, st.LastStatus)
			}
			if !st.LastSuccess.Equal(testNow) || !st.LastAttempt.Equal(testNow) {
				t.Errorf("got LastSuccess %v LastAttempt %v, want %v", st.LastSuccess, st.LastAttempt, testNow)
			}
			if st.Title != tt.wantTitle {
				t.Errorf("got Title %q, want %q", st.Title, tt.wantTitle)
			}
			if st.ItemsSeen != 10+len(tt.want) {
				t.Errorf("got ItemsSeen %d, want %d", st.ItemsSeen, 10+len(tt.want))
			}
			if res.Bytes != int64(len(tt.body)) {
				t.Errorf("got Bytes %d, want %d", res.Bytes, len(tt.body))
			}
			if len(res.Items) != len(tt.want) {
				t.Fatalf("got %d items, want %d", len(res.Items), len(tt.want))
			}
			for i, want := range tt.want {
				got := res.Items[i]
				want.Link = strings.Replace(want.Link, "SERVER", srv.URL, 1)
				if got.Title != want.Title || got.Link != want.Link || got.GUID != want.GUID || got.Text != want.Text || got.FeedName != want.FeedName {
					t.Errorf("item %d: got title=%q link=%q guid=%q text=%q feed=%q, want %q %q %q %q %q", i,
						got.Title, got.Link, got.GUID, got.Text, got.FeedName, want.Title, want.Link, want.GUID, want.Text, want.FeedName)
				}
				if !got.Published.Equal(want.Published) || got.Published.Location() != time.UTC {
					t.Errorf("item %d: got Published %v, want %v in UTC", i, got.Published, want.Published)
				}
				if got.FeedURL != feed.URL || !got.Fetched.Equal(testNow) {
					t.Errorf("item %d: got FeedURL %q Fetched %v, want %q %v", i, got.FeedURL, got.Fetched, feed.URL, testNow)
				}
				wantID := ItemID(feed.URL, want.GUID, want.Link, want.Title, want.Published)
				if got.ID != wantID {
					t.Errorf("item %d: got ID %s, want %s", i, got.ID, wantID)
				}
				if got.ContentHash != contentHash(want.Title, want.Text, want.Link) {
					t.Errorf("item %d: ContentHash does not cover title, text and link", i)
				}
			}
		})
	}
}

func TestFetchRequestHeaders(t *testing.T) {
	var got http.Header
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		fmt.Fprint(w, rss2)
	})
	tests := []struct {
		name   string
		opts   Options
		feed   accordwatch.Feed
		wantUA string
		extra  map[string]string
	}{
		{name: "default", wantUA: defaultUserAgent},
		{name: "custom UA keeps accordwatch", opts: Options{UserAgent: "acme-bot/1.0"}, wantUA: "acme-bot/1.0 " + defaultUserAgent},
		{name: "custom UA naming accordwatch", opts: Options{UserAgent: "accordwatch/1.2.3 (+mailto:x@example.com)"}, wantUA: "accordwatch/1.2.3 (+mailto:x@example.com)"},
		{
			name:   "per-feed UA and headers",
			feed:   accordwatch.Feed{UserAgent: "Feed-UA/2", Headers: map[string]string{"X-Api-Key": "k", "Accept-Encoding": "br"}},
			wantUA: "Feed-UA/2", extra: map[string]string{"X-Api-Key": "k", "Accept-Encoding": "gzip"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.feed.URL = srv.URL
			if _, err := newTestFetcher(tt.opts).Fetch(context.Background(), tt.feed, accordwatch.FeedState{}); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if ua := got.Get("User-Agent"); ua != tt.wantUA {
				t.Errorf("got User-Agent %q, want %q", ua, tt.wantUA)
			}
			if acc := got.Get("Accept"); !strings.Contains(acc, "application/rss+xml") || !strings.Contains(acc, "application/atom+xml") {
				t.Errorf("got Accept %q, want feed types", acc)
			}
			if got.Get("If-None-Match") != "" || got.Get("If-Modified-Since") != "" {
				t.Errorf("got validators %q %q on a first fetch, want none", got.Get("If-None-Match"), got.Get("If-Modified-Since"))
			}
			for k, v := range tt.extra {
				if got.Get(k) != v {
					t.Errorf("got %s %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
}

func TestFetchConditionalGet(t *testing.T) {
	const etag = `W/"5e1-abc"`
	const lastMod = "Sun, 01 Feb 2026 09:00:00 GMT"
	var mu sync.Mutex
	var requests []http.Header
	newETag := ""
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Header.Clone())
		ne := newETag
		mu.Unlock()
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
			if ne != "" {
				w.Header().Set("ETag", ne)
			}
			w.Header().Set("Cache-Control", "max-age=300")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		fmt.Fprint(w, rss2)
	})
	f := newTestFetcher(Options{})
	feed := accordwatch.Feed{URL: srv.URL}

	first, err := f.Fetch(context.Background(), feed, accordwatch.FeedState{})
	if err != nil {
		t.Fatalf("first Fetch: %v", err)
	}
	if first.State.ETag != etag || first.State.LastModified != lastMod {
		t.Fatalf("got validators %q %q, want %q %q", first.State.ETag, first.State.LastModified, etag, lastMod)
	}

	second, err := f.Fetch(context.Background(), feed, first.State)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if !second.NotModified || len(second.Items) != 0 {
		t.Errorf("got NotModified=%v with %d items, want true with 0", second.NotModified, len(second.Items))
	}
	if second.State.ETag != etag || second.State.LastModified != lastMod {
		t.Errorf("got validators %q %q after 304, want them kept", second.State.ETag, second.State.LastModified)
	}
	if first.State.Fetches != 1 || first.State.NotModified != 0 || second.State.Fetches != 2 || second.State.NotModified != 1 {
		t.Errorf("got Fetches/NotModified %d/%d then %d/%d, want 1/0 then 2/1",
			first.State.Fetches, first.State.NotModified, second.State.Fetches, second.State.NotModified)
	}
	if first.MaxAge != 0 || second.MaxAge != 5*time.Minute {
		t.Errorf("got MaxAge %v then %v, want 0 (no Cache-Control) then 5m0s (from the 304)", first.MaxAge, second.MaxAge)
	}
	if second.State.ItemsSeen != first.State.ItemsSeen || second.State.LastStatus != 304 || second.State.ConsecutiveFailures != 0 {
		t.Errorf("got ItemsSeen %d status %d failures %d, want %d 304 0", second.State.ItemsSeen, second.State.LastStatus, second.State.ConsecutiveFailures, first.State.ItemsSeen)
	}
	mu.Lock()
	h := requests[1]
	newETag = `"v2"`
	mu.Unlock()
	if h.Get("If-None-Match") != etag || h.Get("If-Modified-Since") != lastMod {
		t.Errorf("got If-None-Match %q If-Modified-Since %q, want them verbatim", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
	}

	third, err := f.Fetch(context.Background(), feed, second.State)
	if err != nil {
		t.Fatalf("third Fetch: %v", err)
	}
	if third.State.Fetches != 3 || third.State.NotModified != 2 {
		t.Errorf("got Fetches %d NotModified %d, want 3 2", third.State.Fetches, third.State.NotModified)
	}
	if !third.NotModified || third.State.ETag != `"v2"` || third.State.LastModified != lastMod {
		t.Errorf("got NotModified=%v ETag %q LastModified %q, want a 304 updating the ETag to \"v2\"", third.NotModified, third.State.ETag, third.State.LastModified)
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipHandler(t *testing.T, plain []byte) http.HandlerFunc {
	z := gzipped(t, plain)
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(z)
	}
}

func TestFetchGzip(t *testing.T) {
	srv := serve(t, gzipHandler(t, []byte(rss2)))
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(res.Items) != 2 || res.Bytes != int64(len(rss2)) {
		t.Errorf("got %d items and %d bytes, want 2 items and %d decoded bytes", len(res.Items), res.Bytes, len(rss2))
	}
}

func TestFetchTooLarge(t *testing.T) {
	const max = 64 << 10
	big := []byte(strings.Replace(rss2, "Short summary.", strings.Repeat("x", max), 1))
	// Zeros compress about 1000:1: a small download that would decode to 4 MiB.
	bomb := append([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`), make([]byte, 4<<20)...)
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"content-length over cap", body("application/rss+xml", string(big))},
		{"chunked over cap", func(w http.ResponseWriter, r *http.Request) {
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
			w.Write(big[1000:])
		}},
		{"gzip bomb", gzipHandler(t, bomb)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.h)
			res, err := newTestFetcher(Options{MaxBytes: max}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != "too-large" {
				t.Errorf("got Kind %q, want too-large", fe.Kind)
			}
			if want := "response larger than 64 KiB"; res.State.LastError != want {
				t.Errorf("got LastError %q, want %q", res.State.LastError, want)
			}
			if res.Bytes > max {
				t.Errorf("got Bytes %d, want at most the cap %d", res.Bytes, max)
			}
		})
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	retryDate := testNow.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantReason string
		wantRetry  time.Duration
	}{
		{"404", 404, "", "HTTP 404 Not Found", 0},
		{"500", 500, "", "HTTP 500 Internal Server Error", 0},
		{"429 seconds", 429, "120", "HTTP 429 Too Many Requests (retry after 2m0s)", 2 * time.Minute},
		{"429 date", 429, retryDate, "HTTP 429 Too Many Requests (retry after 1m30s)", 90 * time.Second},
		{"503 seconds", 503, "7", "HTTP 503 Service Unavailable (retry after 7s)", 7 * time.Second},
		{"503 garbage", 503, "soon", "HTTP 503 Service Unavailable", 0},
		{"403 ignores retry-after", 403, "60", "HTTP 403 Forbidden", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			})
			feed := accordwatch.Feed{URL: srv.URL + "/rss"}
			prev := accordwatch.FeedState{ETag: `"keep"`, ConsecutiveFailures: 2, LastSuccess: testNow.Add(-time.Hour), ItemsSeen: 5}
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), feed, prev)
			fe := fetchErr(t, err)
			if fe.Kind != "http" || fe.Status != tt.status || fe.RetryAfter != tt.wantRetry {
				t.Errorf("got Kind %q Status %d RetryAfter %v, want http %d %v", fe.Kind, fe.Status, fe.RetryAfter, tt.status, tt.wantRetry)
			}
			if want := "fetch feed " + feed.URL + ": " + tt.wantReason; err.Error() != want {
				t.Errorf("got error %q, want %q", err.Error(), want)
			}
			st := res.State
			if st.LastError != tt.wantReason || st.ConsecutiveFailures != 3 || st.LastStatus != tt.status {
				t.Errorf("got LastError %q failures %d status %d, want %q 3 %d", st.LastError, st.ConsecutiveFailures, st.LastStatus, tt.wantReason, tt.status)
			}
			if res.RetryAfter != tt.wantRetry {
				t.Errorf("got Result.RetryAfter %v, want %v", res.RetryAfter, tt.wantRetry)
			}
			if st.ETag != `"keep"` || !st.LastSuccess.Equal(prev.LastSuccess) || st.ItemsSeen != 5 || !st.LastAttempt.Equal(testNow) {
				t.Errorf("got state %+v, want validators, LastSuccess and ItemsSeen kept and LastAttempt updated", st)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	res, err := newTestFetcher(Options{Timeout: 50 * time.Millisecond}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
	fe := fetchErr(t, err)
	if fe.Kind != "timeout" {
		t.Errorf("got Kind %q, want timeout", fe.Kind)
	}
	if want := "timeout after 50ms"; res.State.LastError != want {
		t.Errorf("got LastError %q, want %q", res.State.LastError, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestFetchTimeoutDuringBody(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rss2[:100])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	_, err := newTestFetcher(Options{Timeout: 50 * time.Millisecond}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
	if fe := fetchErr(t, err); fe.Kind != "timeout" {
		t.Errorf("got Kind %q (%v), want timeout", fe.Kind, err)
	}
}

func TestFetchNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: url}, accordwatch.FeedState{})
	fe := fetchErr(t, err)
	if fe.Kind != "network" || !strings.HasPrefix(res.State.LastError, "cannot connect") {
		t.Errorf("got Kind %q LastError %q, want network / cannot connect…", fe.Kind, res.State.LastError)
	}
}

func TestFetchCanceled(t *testing.T) {
	srv := serve(t, body("application/rss+xml", rss2))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestFetcher(Options{}).Fetch(ctx, accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want it to wrap context.Canceled", err)
	}
}

func TestFetchRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			http.Redirect(w, r, "/final/feed.xml", http.StatusMovedPermanently)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/final/feed.xml", body("application/rss+xml",
		`<rss version="2.0"><channel><title>T</title><item><title>Rel</title><link>post/1</link></item></channel></rss>`))
	srv := serve(t, mux.ServeHTTP)

	t.Run("within cap, relative link against final URL", func(t *testing.T) {
		res, err := newTestFetcher(Options{MaxRedirects: 3}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/hop/2"}, accordwatch.FeedState{})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if want := srv.URL + "/final/post/1"; len(res.Items) != 1 || res.Items[0].Link != want {
			t.Errorf("got items %+v, want one with link %s", res.Items, want)
		}
	})
	t.Run("over cap", func(t *testing.T) {
		res, err := newTestFetcher(Options{MaxRedirects: 3}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/hop/5"}, accordwatch.FeedState{})
		fe := fetchErr(t, err)
		if fe.Kind != "http" || res.State.LastError != "too many redirects (more than 3)" {
			t.Errorf("got Kind %q LastError %q, want http / too many redirects (more than 3)", fe.Kind, res.State.LastError)
		}
	})
}

func TestFetchNotAFeed(t *testing.T) {
	tests := []struct {
		name, contentType, body, wantReason string
	}{
		{
			name: "html with alternate", contentType: "text/html; charset=utf-8",
			body:       `<!DOCTYPE html><html><head><title>Blog</title><link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="RSS" href="/blog/feed.xml"></head><body><p>hi</p></body></html>`,
			wantReason: "not a feed: got an HTML page (text/html); feed may be at SERVER/blog/feed.xml",
		},
		{
			name: "html atom alternate absolute", contentType: "text/html",
			body:       `<html><head><LINK REL="Alternate home" TYPE="application/atom+xml" HREF="https://Other.example/atom?utm_medium=x"></head></html>`,
			wantReason: "not a feed: got an HTML page (text/html); feed may be at https://other.example/atom",
		},
		{
			name: "waf challenge without alternate, wrong content type", contentType: "application/xml",
			body:       `<!doctype html><html><body><h1>Just a moment...</h1><link rel="alternate" type="application/rss+xml" href="/ignored-in-body"></body></html>`,
			wantReason: "not a feed: got an HTML page (application/xml)",
		},
		{
			name: "plain text", contentType: "text/plain", body: "hello world",
			wantReason: "not a feed: no RSS, Atom or JSON Feed found (text/plain)",
		},
		{
			name: "empty", contentType: "application/rss+xml", body: "",
			wantReason: "not a feed: empty response body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, body(tt.contentType, tt.body))
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/blog/"}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != "not-a-feed" {
				t.Errorf("got Kind %q, want not-a-feed", fe.Kind)
			}
			if want := strings.Replace(tt.wantReason, "SERVER", srv.URL, 1); res.State.LastError != want {
				t.Errorf("got LastError %q, want %q", res.State.LastError, want)
			}
		})
	}
}

func TestFetchParseErrors(t *testing.T) {
	tests := []struct {
		name, body, wantReason string
	}{
		{"truncated rss", `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a`, "XML syntax error on line 1: unexpected EOF"},
		{"broken tag", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n<title>a<</title></channel></rss>", "XML syntax error on line 3: expected element name after <"},
		{"truncated atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry>`, "XML syntax error on line 1: unexpected EOF"},
		{"truncated json feed", `{"version":"https://jsonfeed.org/version/1.1","items":[`, "invalid JSON Feed: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, body("application/rss+xml", tt.body))
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != "parse" || res.State.LastError != tt.wantReason {
				t.Errorf("got Kind %q LastError %q, want parse / %q", fe.Kind, res.State.LastError, tt.wantReason)
			}
			if len(res.Items) != 0 || res.State.ItemsSeen != 0 {
				t.Errorf("got %d items, ItemsSeen %d, want none", len(res.Items), res.State.ItemsSeen)
			}
		})
	}
}

func TestFetchEncodings(t *testing.T) {
	latin1 := func(s string) string { // every rune below U+0100 as one ISO-8859-1 byte
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	const tmpl = `<rss version="2.0"><channel><title>Caf&#233; feed</title><item><title>%s</title><link>https://example.com/x</link></item></channel></rss>`
	tests := []struct {
		name, contentType, body, wantTitle string
	}{
		{"latin-1 with only the HTTP charset", "application/rss+xml; charset=ISO-8859-1",
			latin1(fmt.Sprintf(tmpl, "Café crème")), "Café crème"},
		{"windows-1252 smart quotes via HTTP charset", "text/xml; charset=windows-1252",
			fmt.Sprintf(tmpl, "\x93quoted\x94"), "“quoted”"},
		{"latin-1 declared and in HTTP: decoded once", "application/xml; charset=iso-8859-1",
			latin1(`<?xml version="1.0" encoding="ISO-8859-1"?>` + fmt.Sprintf(tmpl, "Café")), "Café"},
		{"latin-1 declared, no HTTP charset", "application/xml",
			latin1(`<?xml version="1.0" encoding="ISO-8859-1"?>` + fmt.Sprintf(tmpl, "Café")), "Café"},
		{"declared UTF-8 beats a wrong HTTP charset", "text/xml; charset=iso-8859-1",
			`<?xml version="1.0" encoding="UTF-8"?>` + fmt.Sprintf(tmpl, "Café"), "Café"},
		{"stray invalid byte in UTF-8", "application/rss+xml; charset=utf-8",
			fmt.Sprintf(tmpl, "Café bad \xff byte"), "Café bad \uFFFD byte"},
		{"header says ISO-8859-1, body is UTF-8", "application/rss+xml; charset=ISO-8859-1",
			fmt.Sprintf(tmpl, "Café “quoted”"), "Café “quoted”"},
		{"declaration says ISO-8859-1, body is UTF-8", "application/xml",
			`<?xml version="1.0" encoding="ISO-8859-1"?>` + fmt.Sprintf(tmpl, "Café"), "Café"},
		{"header says UTF-8, body is Latin-1", "application/rss+xml; charset=utf-8",
			latin1(fmt.Sprintf(tmpl, "Café crème")), "Café crème"},
		{"no charset anywhere, body is Windows-1252", "application/rss+xml",
			fmt.Sprintf(tmpl, "\x93quoted\x94 \x80 5"), "“quoted” € 5"},
		{"KOI8-R declared in the prolog", "text/xml",
			`<?xml version="1.0" encoding="KOI8-R"?>` + fmt.Sprintf(tmpl, "\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет"},
		{"KOI8-R declared, wrong header charset", "text/xml; charset=utf-8",
			`<?xml version="1.0" encoding="koi8-r"?>` + fmt.Sprintf(tmpl, "\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет"},
		{"Windows-1252 declared in the prolog", "application/rss+xml",
			`<?xml version='1.0' encoding='windows-1252'?>` + fmt.Sprintf(tmpl, "\x93quoted\x94 \x80"), "“quoted” €"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, body(tt.contentType, tt.body))
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(res.Items) != 1 || res.Items[0].Title != tt.wantTitle {
				t.Fatalf("got items %+v, want one titled %q", res.Items, tt.wantTitle)
			}
			if res.State.Title != "Café feed" {
				t.Errorf("got feed title %q, want %q", res.State.Title, "Café feed")
			}
		})
	}
}

func TestFetchItemNormalisation(t *testing.T) {
	const feedXML = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Odd</title><link>https://odd.example/blog/</link>
<item><title>No guid, link or date</title><description>bare</description></item>
<item><title>Guid is a permalink</title><guid>https://odd.example/p/1#frag</guid></item>
<item><title>Guid is not a permalink</title><guid isPermaLink="false">https://odd.example/p/2</guid></item>
<item><title>First copy</title><guid>dup-1</guid><link>/rel/a</link></item>
<item><title>Second copy</title><guid>dup-1</guid><link>/rel/b</link></item>
<item><title>From the future</title><link>../up</link><pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate></item>
<item><title>Slightly ahead</title><link>https://odd.example/ahead</link><pubDate>Sun, 01 Mar 2026 12:30:00 GMT</pubDate></item>
<item><title>Loose date</title><link>https://odd.example/loose</link><pubDate>Jul 23, 2025 00:00:00-0500</pubDate></item>
</channel></rss>`
	srv := serve(t, body("application/rss+xml", feedXML))
	feed := accordwatch.Feed{Name: "odd", URL: srv.URL + "/feeds/odd.xml"}
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), feed, accordwatch.FeedState{})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	type want struct {
		title, link string
		published   time.Time
	}
	wants := []want{
		{"No guid, link or date", "", testNow},
		{"Guid is a permalink", "https://odd.example/p/1", time.Time{}},
		{"Guid is not a permalink", "", testNow},
		{"First copy", srv.URL + "/rel/a", testNow},
		{"From the future", srv.URL + "/up", testNow},
		{"Slightly ahead", "https://odd.example/ahead", time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)},
		{"Loose date", "https://odd.example/loose", time.Date(2025, 7, 23, 5, 0, 0, 0, time.UTC)},
	}
	if len(res.Items) != len(wants) {
		var titles []string
		for _, it := range res.Items {
			titles = append(titles, it.Title)
		}
		t.Fatalf("got %d items %q, want %d (duplicate GUID dropped)", len(res.Items), titles, len(wants))
	}
	for i, w := range wants {
		got := res.Items[i]
		if got.Title != w.title || got.Link != w.link {
			t.Errorf("item %d: got title %q link %q, want %q %q", i, got.Title, got.Link, w.title, w.link)
		}
		if !w.published.IsZero() && !got.Published.Equal(w.published) {
			t.Errorf("item %d: got Published %v, want %v", i, got.Published, w.published)
		}
		if got.ID == "" || got.FeedName != "odd" {
			t.Errorf("item %d: got ID %q FeedName %q, want an ID and feed name odd", i, got.ID, got.FeedName)
		}
	}

	// An undated item without GUID or link keeps its ID when polled later.
	later := New(Options{AllowPrivateNetworks: true, Now: func() time.Time { return testNow.Add(24 * time.Hour) }})
	res2, err := later.Fetch(context.Background(), feed, res.State)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	for i := range res.Items {
		if res.Items[i].ID != res2.Items[i].ID {
			t.Errorf("item %d (%q): ID changed between polls: %s then %s", i, res.Items[i].Title, res.Items[i].ID, res2.Items[i].ID)
		}
	}
	if !res2.Items[0].Published.Equal(testNow.Add(24 * time.Hour)) {
		t.Errorf("got Published %v for an undated item, want the fetch time", res2.Items[0].Published)
	}
}

func TestFetchOutputIsValidUTF8(t *testing.T) {
	srv := serve(t, body("application/rss+xml", "<rss version=\"2.0\"><channel><title>\xc3</title><item><title>a\x00b\x08c</title><description>&lt;p&gt;x\xfe&lt;/p&gt;</description><link>https://e.example/</link></item></channel></rss>"))
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for _, it := range res.Items {
		for _, s := range []string{it.Title, it.Text, it.FeedName} {
			if !utf8.ValidString(s) {
				t.Errorf("got invalid UTF-8 %q", s)
			}
		}
	}
}

func TestFetchUnsupportedScheme(t *testing.T) {
	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: "ftp://user:pw@example.com/feed.xml"}, accordwatch.FeedState{})
	fe := fetchErr(t, err)
	if fe.Kind != "file" || res.State.ConsecutiveFailures != 1 {
		t.Errorf("got Kind %q failures %d, want file 1", fe.Kind, res.State.ConsecutiveFailures)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("got error %q, want the password redacted", err.Error())
	}
}

func TestFetchInjectedClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/grow/{n}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/grow/"+r.PathValue("n")+"0", http.StatusFound)
	})
	mux.HandleFunc("/feed", body("application/rss+xml", rss2))
	srv := serve(t, mux.ServeHTTP)
	client := srv.Client()
	f := newTestFetcher(Options{Client: client, MaxRedirects: 2})

	if res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, accordwatch.FeedState{}); err != nil || len(res.Items) != 2 {
		t.Fatalf("got %d items, %v; want 2 items through the injected client", len(res.Items), err)
	}
	_, err := f.Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/grow/1"}, accordwatch.FeedState{})
	if fe := fetchErr(t, err); fe.Reason() != "too many redirects (more than 2)" {
		t.Errorf("got reason %q, want the redirect cap enforced on an injected client", fe.Reason())
	}
	_, err = f.Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/loop"}, accordwatch.FeedState{})
	if fe := fetchErr(t, err); !strings.HasPrefix(fe.Reason(), "redirect loop: ") {
		t.Errorf("got reason %q, want a redirect loop named on an injected client", fe.Reason())
	}
	if client.CheckRedirect != nil {
		t.Error("got the caller's client modified, want it left alone")
	}
}
