package feeds

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// nxdomainServer is a local DNS server that answers every query "no such
// domain", so a DNS failure is tested without touching the network.
func nxdomainServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if len(q) < 12 {
				continue
			}
			// The question ends after its name's zero label, type and class.
			end := 12
			for end < len(q) && q[end] != 0 {
				end += int(q[end]) + 1
			}
			end += 5
			if end > len(q) {
				continue
			}
			resp := make([]byte, 12, end)
			copy(resp, q[:2])                            // ID
			binary.BigEndian.PutUint16(resp[2:], 0x8183) // response, RD, RA, NXDOMAIN
			copy(resp[4:6], q[4:6])                      // QDCOUNT; no answers, no EDNS
			resp = append(resp, q[12:end]...)
			pc.WriteTo(resp, addr)
		}
	}()
	return pc.LocalAddr().String()
}

// TestFetchBadInputs runs every kind of broken feed, together with working
// ones, through one Fetcher at the same time: each ends as its own
// actionable reason and none disturbs another.
func TestFetchBadInputs(t *testing.T) {
	const timeout = 2 * time.Second
	const fiftyMB = 50 << 20
	stop := make(chan struct{}) // releases hanging handlers before the servers close
	mux := http.NewServeMux()
	handle := func(path string, h http.HandlerFunc) { mux.HandleFunc(path, h) }

	handle("/ok", body("application/rss+xml", rss2))
	handle("/ok-json", body("application/feed+json", jsonFeed))
	handle("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	handle("/drip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			if _, err := w.Write([]byte{rss2[i%len(rss2)]}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	})
	for _, code := range []int{500, 404, 410} {
		handle(fmt.Sprintf("/status/%d", code), func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
	}
	handle("/429", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	handle("/304", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, rss2)
	})
	// 16 MiB of zeros gzip to 16 KiB: a small download over the 10 MiB cap.
	handle("/gzip-bomb", gzipHandler(t, append([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`), make([]byte, 16<<20)...)))
	fifty := func(declare bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if declare {
				w.Header().Set("Content-Length", strconv.Itoa(fiftyMB))
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			chunk := []byte(strings.Repeat("<!-- padding -->", 4096))
			for sent := 0; sent < fiftyMB; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	handle("/50mb", fifty(false))
	handle("/50mb-declared", fifty(true))
	handle("/invalid-xml", body("application/rss+xml", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n<title>a</title><item><title>b<</title></item></channel></rss>"))
	handle("/html-alt", body("text/html; charset=utf-8", `<!DOCTYPE html><html><head><title>Blog</title><link rel="alternate" type="application/atom+xml" href="/blog/atom.xml"></head><body>hi</body></html>`))
	handle("/html", body("text/html", `<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>checking your browser</body></html>`))
	cafe := `<rss version="2.0"><channel><title>T</title><item><title>Café crème</title><link>https://e.example/c</link></item></channel></rss>`
	handle("/utf8-as-latin1", body("application/rss+xml; charset=ISO-8859-1", cafe))
	handle("/latin1-as-utf8", body("application/rss+xml; charset=UTF-8", strings.NewReplacer("é", "\xe9", "è", "\xe8").Replace(cafe)))
	handle("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	handle("/loop/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/a", http.StatusMovedPermanently)
	})
	handle("/empty-feed", body("application/atom+xml", `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title><id>urn:q</id></feed>`))
	handle("/empty-body", body("application/rss+xml", ""))
	handle("/bare-items", body("application/rss+xml", `<rss version="2.0"><channel><title>Bare</title>
<item><title>Only a title</title></item>
<item><description>Only a description</description></item>
<item><title>Another title</title></item></channel></rss>`))
	handle("/dup-guids", body("application/rss+xml", `<rss version="2.0"><channel><title>Dups</title>
<item><guid>g1</guid><title>first</title></item>
<item><guid>g2</guid><title>second</title></item>
<item><guid>g1</guid><title>first again</title></item></channel></rss>`))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(body("application/rss+xml", rss2))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	defer close(stop) // runs first: hanging handlers return before Close waits on them

	// The client resolves names through the local NXDOMAIN server and
	// trusts only the system roots, not the test server's certificate.
	dns := nxdomainServer(t)
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dns)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Resolver: resolver}).DialContext}}
	f := newTestFetcher(Options{Client: client, Timeout: timeout})

	type check func(t *testing.T, res Result)
	items := func(n int) check {
		return func(t *testing.T, res Result) {
			if len(res.Items) != n {
				t.Errorf("got %d items, want %d", len(res.Items), n)
			}
		}
	}
	tests := []struct {
		name, url  string
		prev       accordwatch.FeedState
		wantKind   string // "" = success
		wantReason string // SERVER is replaced by the server URL
		check      check
	}{
		{name: "working RSS", url: "/ok", check: items(2)},
		{name: "working JSON Feed", url: "/ok-json", check: items(1)},
		{name: "hanging server", url: "/hang", wantKind: "timeout", wantReason: "timeout after 2s"},
		{name: "slow drip", url: "/drip", wantKind: "timeout", wantReason: "timeout after 2s"},
		{name: "500", url: "/status/500", wantKind: "http", wantReason: "HTTP 500 Internal Server Error"},
		{name: "404", url: "/status/404", wantKind: "http", wantReason: "HTTP 404 Not Found"},
		{name: "410", url: "/status/410", wantKind: "gone", wantReason: "gone: the server says this feed was removed (410)",
			check: func(t *testing.T, res Result) {
				if !res.State.Gone {
					t.Error("got Gone false, want true")
				}
			}},
		{name: "429 with Retry-After", url: "/429", wantKind: "http", wantReason: "HTTP 429 Too Many Requests (retry after 1h0m0s)",
			check: func(t *testing.T, res Result) {
				if res.RetryAfter != time.Hour {
					t.Errorf("got RetryAfter %v, want 1h", res.RetryAfter)
				}
			}},
		{name: "304", url: "/304", prev: accordwatch.FeedState{ETag: `"v1"`},
			check: func(t *testing.T, res Result) {
				if !res.NotModified || res.State.NotModified != 1 || len(res.Items) != 0 {
					t.Errorf("got NotModified %v (count %d) with %d items, want a 304 counted and no items", res.NotModified, res.State.NotModified, len(res.Items))
				}
			}},
		{name: "gzip bomb", url: "/gzip-bomb", wantKind: "too-large", wantReason: "response larger than 10 MiB"},
		{name: "50 MB body", url: "/50mb", wantKind: "too-large", wantReason: "response larger than 10 MiB"},
		{name: "50 MB body declared", url: "/50mb-declared", wantKind: "too-large", wantReason: "response larger than 10 MiB"},
		{name: "invalid XML", url: "/invalid-xml", wantKind: "parse", wantReason: "XML syntax error on line 3: expected element name after <"},
		{name: "HTML page linking its feed", url: "/html-alt", wantKind: "not-a-feed",
			wantReason: "not a feed: got an HTML page (text/html); feed may be at SERVER/blog/atom.xml"},
		{name: "HTML page", url: "/html", wantKind: "not-a-feed", wantReason: "not a feed: got an HTML page (text/html)"},
		{name: "UTF-8 labelled ISO-8859-1", url: "/utf8-as-latin1", check: title("Café crème")},
		{name: "ISO-8859-1 labelled UTF-8", url: "/latin1-as-utf8", check: title("Café crème")},
		{name: "redirect loop", url: "/loop/a", wantKind: "http", wantReason: "redirect loop: SERVER/loop/b redirects back to SERVER/loop/a"},
		{name: "TLS failure", url: "TLS", wantKind: "network", wantReason: "TLS error: certificate signed by unknown authority"},
		{name: "https to a plain-http server", url: "PLAIN-HTTPS", wantKind: "network", wantReason: "TLS error: the server answers plain HTTP on an https URL (try http://)"},
		{name: "DNS failure", url: "http://feeds.nowhere.invalid/rss", wantKind: "network", wantReason: "cannot resolve host feeds.nowhere.invalid"},
		{name: "empty feed", url: "/empty-feed", check: func(t *testing.T, res Result) {
			if len(res.Items) != 0 || res.State.Title != "Quiet" {
				t.Errorf("got %d items, title %q; want a success with 0 items titled Quiet", len(res.Items), res.State.Title)
			}
		}},
		{name: "empty body", url: "/empty-body", wantKind: "not-a-feed", wantReason: "not a feed: empty response body"},
		{name: "items without GUID, link or date", url: "/bare-items", check: func(t *testing.T, res Result) {
			if len(res.Items) != 3 {
				t.Fatalf("got %d items, want 3", len(res.Items))
			}
			ids := map[string]bool{}
			for _, it := range res.Items {
				if it.ID == "" || ids[it.ID] || !it.Published.Equal(testNow) || it.Link != "" {
					t.Errorf("got item ID %q Published %v Link %q, want a unique ID, the fetch time and no link", it.ID, it.Published, it.Link)
				}
				ids[it.ID] = true
			}
		}},
		{name: "duplicate GUIDs", url: "/dup-guids", check: func(t *testing.T, res Result) {
			var got []string
			for _, it := range res.Items {
				got = append(got, it.Title)
			}
			if strings.Join(got, "|") != "first|second" {
				t.Errorf("got items %q, want the first of each GUID: first, second", got)
			}
		}},
	}

	results := make([]Result, len(tests))
	errs := make([]error, len(tests))
	var wg sync.WaitGroup
	for i, tt := range tests {
		u := tt.url
		switch {
		case u == "TLS":
			u = tlsSrv.URL + "/feed"
		case u == "PLAIN-HTTPS":
			u = strings.Replace(srv.URL, "http://", "https://", 1) + "/ok"
		case strings.HasPrefix(u, "/"):
			u = srv.URL + u
		}
		tests[i].url = u
		wg.Go(func() {
			results[i], errs[i] = f.Fetch(context.Background(), accordwatch.Feed{URL: u}, tt.prev)
		})
	}
	wg.Wait()

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := results[i], errs[i]
			if res.State.Fetches != 1 || res.State.URL != tt.url {
				t.Errorf("got Fetches %d URL %q, want 1 %q", res.State.Fetches, res.State.URL, tt.url)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				if res.State.LastError != "" || res.State.ConsecutiveFailures != 0 {
					t.Errorf("got LastError %q failures %d, want healthy", res.State.LastError, res.State.ConsecutiveFailures)
				}
			} else {
				fe := fetchErr(t, err)
				want := strings.ReplaceAll(tt.wantReason, "SERVER", srv.URL)
				if fe.Kind != tt.wantKind || res.State.LastError != want {
					t.Errorf("got Kind %q LastError %q, want %q %q", fe.Kind, res.State.LastError, tt.wantKind, want)
				}
				if res.State.ConsecutiveFailures != 1 || len(res.Items) != 0 {
					t.Errorf("got failures %d and %d items, want 1 and none", res.State.ConsecutiveFailures, len(res.Items))
				}
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func title(want string) func(t *testing.T, res Result) {
	return func(t *testing.T, res Result) {
		if len(res.Items) != 1 || res.Items[0].Title != want {
			t.Errorf("got items %+v, want one titled %q", res.Items, want)
		}
	}
}
