package feeds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

func TestBlockedKind(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:192.168.0.1", "private"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"::ffff:100.100.100.100", "shared (CGNAT)"},
		{"fc00::1", "unique local"},
		{"fd12:3456:789a::1", "unique local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"0.1.2.3", `"this network" (0.0.0.0/8)`},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"ff05::2", "multicast"},
		{"::ffff:224.0.0.251", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"::ffff:255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved (240.0.0.0/4)"},
		{"fec0::1", "site-local"},
		{"64:ff9b::a9fe:a9fe", "link-local (NAT64)"},
		{"64:ff9b::10.0.0.1", "private (NAT64)"},
		// Public addresses pass.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"169.255.0.1", ""},
		{"11.0.0.1", ""},
		{"198.18.0.1", ""}, // benchmarking range, used by fake-IP proxies
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::8.8.8.8", ""},
	}
	for _, tt := range tests {
		if got := blockedKind(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("blockedKind(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// noProxy clears the proxy environment, so requests are dialled directly
// whatever the machine running the tests has set.
func noProxy(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
}

// countingServer serves rss2 and counts the requests it got.
func countingServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, rss2)
	})
}

func refusedReason(addr, kind string) string {
	article := "a"
	if kind == "unspecified" {
		article = "an"
	}
	return fmt.Sprintf("refused: %s is %s %s address; set fetch.allow_private_networks to poll internal feeds", addr, article, kind)
}

// TestFetchRefusesPrivateAddresses: by default the built-in client refuses
// every non-public address in the Control hook, before connecting, so no
// request reaches a server there and none of these needs a network.
func TestFetchRefusesPrivateAddresses(t *testing.T) {
	noProxy(t)
	var hits atomic.Int32
	srv := countingServer(t, &hits)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct{ url, addr, kind string }{
		{srv.URL + "/feed", "127.0.0.1", "loopback"},
		{fmt.Sprintf("http://localhost:%d/feed", port), "", "loopback"}, // 127.0.0.1 or ::1
		{fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/feed", port), "127.0.0.1", "loopback"},
		{fmt.Sprintf("http://[::1]:%d/feed", port), "::1", "loopback"},
		{fmt.Sprintf("http://0.0.0.0:%d/feed", port), "0.0.0.0", "unspecified"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"},
		{"http://10.0.0.1/rss", "10.0.0.1", "private"},
		{"https://192.168.1.1/rss", "192.168.1.1", "private"},
		{"http://100.64.0.1/rss", "100.64.0.1", "shared (CGNAT)"},
		{"http://[fd00::1]/rss", "fd00::1", "unique local"},
		{"http://[fe80::1]/rss", "fe80::1", "link-local"},
	}
	// The guard runs once a socket exists: without IPv6 there is no
	// socket to judge an IPv6 address on.
	ipv6 := true
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		ipv6 = false
	} else {
		ln.Close()
	}
	f := New(Options{Timeout: 3 * time.Second})
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if strings.Contains(tt.addr, ":") && !ipv6 {
				t.Skip("no IPv6 on this machine")
			}
			start := time.Now()
			res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: tt.url}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			want := refusedReason(tt.addr, tt.kind)
			if tt.addr == "" {
				want = refusedReason("127.0.0.1", tt.kind)
				if strings.Contains(res.State.LastError, "::1") {
					want = refusedReason("::1", tt.kind)
				}
			}
			if fe.Kind != "refused" || res.State.LastError != want {
				t.Errorf("got Kind %q LastError %q, want refused %q", fe.Kind, res.State.LastError, want)
			}
			if len(res.Items) != 0 || res.State.ConsecutiveFailures != 1 {
				t.Errorf("got %d items and %d failures, want none and 1", len(res.Items), res.State.ConsecutiveFailures)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v, want a refusal before any connection attempt", took)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("got %d requests on the loopback server, want none", n)
	}

	t.Run("opt in", func(t *testing.T) {
		res, err := New(Options{AllowPrivateNetworks: true}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, accordwatch.FeedState{})
		if err != nil || len(res.Items) != 2 {
			t.Fatalf("got %d items, %v; want the loopback feed with AllowPrivateNetworks", len(res.Items), err)
		}
	})
	t.Run("local files are not affected", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "feed.xml")
		if err := os.WriteFile(path, []byte(rss2), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := New(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: path}, accordwatch.FeedState{})
		if err != nil || len(res.Items) != 2 {
			t.Fatalf("got %d items, %v; want the local file read", len(res.Items), err)
		}
	})
}

// publicLoopback starts a server on 127.0.0.2, which Linux routes to the
// loopback interface, for tests that treat that one address as public.
func publicLoopback(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// guardedFetcher is the default built-in client with 127.0.0.2 taken for
// a public address.
func guardedFetcher() *Fetcher {
	f := New(Options{Timeout: 3 * time.Second, Now: func() time.Time { return testNow }})
	public := netip.MustParseAddr("127.0.0.2")
	f.guard.public = func(a netip.Addr) bool { return a == public }
	return f
}

// TestFetchRefusesRedirectToPrivate: a public feed that redirects to an
// internal address must not get the internal page fetched and indexed,
// whether the redirect is seen live, was saved as a permanent move, or is
// met by a discovery probe.
func TestFetchRefusesRedirectToPrivate(t *testing.T) {
	noProxy(t)
	var internalHits atomic.Int32
	internal := serve(t, func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		fmt.Fprint(w, `<rss version="2.0"><channel><title>Intranet</title><item><title>internal secret</title><link>http://intranet/</link></item></channel></rss>`)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", body("application/rss+xml", rss2))
	mux.HandleFunc("/found", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/feed", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/blog/", body("text/html", "<html><head><title>Blog</title></head><body>no feed links</body></html>"))
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) { // a probe target
		http.Redirect(w, r, internal.URL+"/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/", http.NotFound)
	public := publicLoopback(t, mux)
	f := guardedFetcher()
	want := refusedReason("127.0.0.1", "loopback")

	t.Run("the public server itself", func(t *testing.T) {
		res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: public.URL + "/ok"}, accordwatch.FeedState{})
		if err != nil || len(res.Items) != 2 {
			t.Fatalf("got %d items, %v; want the public feed", len(res.Items), err)
		}
	})
	for _, path := range []string{"/found", "/moved"} {
		t.Run("redirect "+path, func(t *testing.T) {
			res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: public.URL + path}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != "refused" || res.State.LastError != want {
				t.Errorf("got Kind %q LastError %q, want refused %q", fe.Kind, res.State.LastError, want)
			}
			if len(res.Items) != 0 || res.State.MovedTo != "" || res.PermanentRedirect != "" {
				t.Errorf("got %d items, MovedTo %q; want no items and no move recorded", len(res.Items), res.State.MovedTo)
			}
		})
	}
	t.Run("saved permanent move", func(t *testing.T) {
		feed := accordwatch.Feed{URL: public.URL + "/ok"}
		prev := accordwatch.FeedState{URL: feed.URL, MovedTo: internal.URL + "/feed"}
		res, err := f.Fetch(context.Background(), feed, prev)
		fe := fetchErr(t, err)
		if fe.Kind != "refused" || res.State.LastError != want || len(res.Items) != 0 {
			t.Errorf("got Kind %q LastError %q and %d items, want refused %q and none", fe.Kind, res.State.LastError, len(res.Items), want)
		}
	})
	t.Run("discovery of an internal site", func(t *testing.T) {
		_, err := f.Discover(context.Background(), internal.URL+"/")
		if wantErr := "discover feeds at " + internal.URL + "/: " + want; err == nil || err.Error() != wantErr {
			t.Errorf("got %v, want %q", err, wantErr)
		}
	})
	t.Run("discovery probe redirected inside", func(t *testing.T) {
		got, err := f.Discover(context.Background(), public.URL+"/blog/")
		if !errors.Is(err, ErrNoFeed) {
			t.Errorf("got %q, %v; want ErrNoFeed: the only feed found is behind a redirect to loopback", got, err)
		}
	})
	if n := internalHits.Load(); n != 0 {
		t.Errorf("got %d requests on the internal server, want none", n)
	}
}

// TestFetchPrivateGuardWithProxy: with a proxy configured, the proxy's own
// (private) address may be dialled; literal non-public IPs are refused
// before they reach it; names are the proxy's to police.
func TestFetchPrivateGuardWithProxy(t *testing.T) {
	noProxy(t)
	var proxied atomic.Int32
	var seen atomic.Value
	proxy := serve(t, func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		seen.Store(r.URL.String()) // a proxy gets the absolute URL
		fmt.Fprint(w, rss2)
	})
	t.Setenv("HTTP_PROXY", proxy.URL)
	f := New(Options{Timeout: 3 * time.Second})

	res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: "http://feeds.example.com/rss"}, accordwatch.FeedState{})
	if err != nil || len(res.Items) != 2 {
		t.Fatalf("got %d items, %v; want the feed through the proxy on 127.0.0.1", len(res.Items), err)
	}
	if got, _ := seen.Load().(string); got != "http://feeds.example.com/rss" {
		t.Errorf("got proxy request for %q, want the feed URL", got)
	}
	for _, tt := range []struct{ url, addr, kind string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"},
		{"http://10.0.0.1/rss", "10.0.0.1", "private"},
		{"http://[::ffff:192.168.0.1]/rss", "192.168.0.1", "private"},
	} {
		res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: tt.url}, accordwatch.FeedState{})
		fe := fetchErr(t, err)
		if want := refusedReason(tt.addr, tt.kind); fe.Kind != "refused" || res.State.LastError != want {
			t.Errorf("%s: got Kind %q LastError %q, want refused %q", tt.url, fe.Kind, res.State.LastError, want)
		}
	}
	if n := proxied.Load(); n != 1 {
		t.Errorf("got %d requests at the proxy, want only the public feed's", n)
	}
}
