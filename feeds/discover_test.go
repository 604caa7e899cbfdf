package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestDiscover(t *testing.T) {
	var mu sync.Mutex
	var requested []string
	var agents []string
	mux := http.NewServeMux()
	record := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			requested = append(requested, r.URL.Path)
			agents = append(agents, r.Header.Get("User-Agent"))
			mu.Unlock()
			h(w, r)
		}
	}
	html := func(head string) http.HandlerFunc {
		return body("text/html; charset=utf-8", "<!DOCTYPE html><html><head><title>Site</title>"+head+"</head><body><p>posts</p></body></html>")
	}
	// A site whose page links its feeds, among links that are not feeds.
	mux.HandleFunc("/linked/", record(html(`
		<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
		<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
		<link rel="alternate" type="application/rss+xml" title="Posts" href="feed/">
		<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://cdn.example/atom.xml">
		<link rel="alternate" type="application/rss+xml" title="Posts again" href="/linked/feed/#dup">
		<link rel="alternate" type="application/feed+json" href="/linked/feed.json">`)))
	mux.HandleFunc("/based/", record(html(`<base href="https://static.example/blog/"><link rel="alternate" type="application/rss+xml" href="rss.xml">`)))
	// A blog under /blog/ that links nothing: its feed is at /blog/feed, and
	// the root's /rss redirects to /feed, which is one feed, not two.
	mux.HandleFunc("/blog/", record(html("")))
	mux.HandleFunc("/blog/feed", record(body("application/rss+xml", rss2)))
	mux.HandleFunc("/rss", record(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
	}))
	mux.HandleFunc("/feed", record(body("application/atom+xml", atom1)))
	mux.HandleFunc("/atom.xml", record(body("application/json", `{"error": "not a feed"}`)))
	mux.HandleFunc("/index.xml", record(html("")))
	mux.HandleFunc("/direct.xml", record(body("application/rss+xml", rss2)))
	mux.HandleFunc("/", record(http.NotFound))
	srv := serve(t, mux.ServeHTTP)

	tests := []struct {
		name, path string
		want       []string // SERVER is replaced
		wantProbes int      // requests made, when > 0
	}{
		{name: "the URL is a feed", path: "/direct.xml", want: []string{"SERVER/direct.xml"}, wantProbes: 1},
		{name: "alternates in page order", path: "/linked/", want: []string{"SERVER/linked/feed/", "https://cdn.example/atom.xml", "SERVER/linked/feed.json"}, wantProbes: 1},
		{name: "base href", path: "/based/", want: []string{"https://static.example/blog/rss.xml"}},
		{name: "probed under the directory, then the root", path: "/blog/", want: []string{"SERVER/blog/feed", "SERVER/feed"}, wantProbes: 1 + 12 + 1}, // page, probes, /rss's redirect
	}
	f := newTestFetcher(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			requested, agents = nil, nil
			mu.Unlock()
			got, err := f.Discover(context.Background(), srv.URL+tt.path)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.Replace(w, "SERVER", srv.URL, 1))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantProbes > 0 && len(requested) != tt.wantProbes {
				t.Errorf("got %d requests %q, want %d", len(requested), requested, tt.wantProbes)
			}
			for _, ua := range agents {
				if ua != defaultUserAgent {
					t.Errorf("got User-Agent %q, want %q", ua, defaultUserAgent)
				}
			}
		})
	}
}

func TestDiscoverFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/nothing/", body("text/html", "<html><head><title>No feeds</title></head><body></body></html>"))
	mux.HandleFunc("/text", body("text/plain", "hello"))
	mux.HandleFunc("/missing", http.NotFound)
	srv := serve(t, mux.ServeHTTP)
	f := newTestFetcher(Options{})

	tests := []struct {
		name, url, wantErr string
		wantIs             error
		wantStatus         int
	}{
		{name: "no links and no probe answers", url: srv.URL + "/nothing/", wantIs: ErrNoFeed,
			wantErr: `discover feeds at SERVER/nothing/: no feed found: the page links none (no <link rel="alternate"> of a feed type) and none of /feed, /rss, /feed.xml, /atom.xml, /rss.xml, /index.xml answers with a feed`},
		{name: "neither feed nor HTML", url: srv.URL + "/text", wantIs: ErrNoFeed,
			wantErr: "discover feeds at SERVER/text: no feed found: the page is neither a feed nor HTML (text/plain)"},
		{name: "page missing", url: srv.URL + "/missing", wantStatus: 404,
			wantErr: "discover feeds at SERVER/missing: HTTP 404 Not Found"},
		{name: "not http", url: "ftp://files.example/", wantErr: `discover feeds at "ftp://files.example/": not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Discover(context.Background(), tt.url)
			if err == nil {
				t.Fatalf("got %q, want an error", got)
			}
			if want := strings.ReplaceAll(tt.wantErr, "SERVER", srv.URL); err.Error() != want {
				t.Errorf("got error %q, want %q", err, want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("got %v, want it to wrap %v", err, tt.wantIs)
			}
			if tt.wantStatus != 0 {
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Status != tt.wantStatus {
					t.Errorf("got %v, want a *FetchError with status %d", err, tt.wantStatus)
				}
			}
		})
	}
}

func TestDiscoverAssumesHTTPS(t *testing.T) {
	srv := newTLSServer(t, body("application/rss+xml", rss2))
	f := newTestFetcher(Options{Client: srv.Client()})
	host := strings.TrimPrefix(srv.URL, "https://")
	got, err := f.Discover(context.Background(), host+"/feed")
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if want := []string{srv.URL + "/feed"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func newTLSServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}
