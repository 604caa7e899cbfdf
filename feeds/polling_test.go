package feeds

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

const relFeed = `<rss version="2.0"><channel><title>T</title><item><title>Rel</title><link>post/1</link></item></channel></rss>`

func TestFetchPermanentRedirect(t *testing.T) {
	mux := http.NewServeMux()
	redirect := func(to string, code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
	}
	mux.HandleFunc("/p301", redirect("/p308", http.StatusMovedPermanently))
	mux.HandleFunc("/p308", redirect("/new/feed.xml", http.StatusPermanentRedirect))
	mux.HandleFunc("/mixed", redirect("/tmp", http.StatusMovedPermanently))
	mux.HandleFunc("/tmp", redirect("/new/feed.xml", http.StatusFound))
	mux.HandleFunc("/temp-first", redirect("/p308", http.StatusTemporaryRedirect))
	mux.HandleFunc("/to-404", redirect("/missing", http.StatusMovedPermanently))
	mux.HandleFunc("/new/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"e1"`)
		fmt.Fprint(w, relFeed)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the old URL must not be polled once moved", http.StatusTeapot)
	})
	srv := serve(t, mux.ServeHTTP)
	f := newTestFetcher(Options{})

	tests := []struct {
		name, path    string
		prev          accordwatch.FeedState
		wantPermanent string // path on srv, or ""
		wantErr       bool
	}{
		{name: "301 then 308", path: "/p301", wantPermanent: "/new/feed.xml"},
		{name: "301 then 302 stops at the temporary hop", path: "/mixed", wantPermanent: "/tmp"},
		{name: "temporary first", path: "/temp-first"},
		{name: "no redirect", path: "/new/feed.xml"},
		{name: "301 to a 404 is not recorded", path: "/to-404", wantErr: true},
		{name: "301 on a 304", path: "/p301", prev: accordwatch.FeedState{ETag: `"e1"`}, wantPermanent: "/new/feed.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := accordwatch.Feed{URL: srv.URL + tt.path}
			res, err := f.Fetch(context.Background(), feed, tt.prev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			want := ""
			if tt.wantPermanent != "" {
				want = srv.URL + tt.wantPermanent
			}
			if res.PermanentRedirect != want || res.State.MovedTo != want {
				t.Errorf("got PermanentRedirect %q MovedTo %q, want %q", res.PermanentRedirect, res.State.MovedTo, want)
			}
		})
	}

	t.Run("MovedTo is polled instead of the feed URL", func(t *testing.T) {
		feed := accordwatch.Feed{URL: srv.URL + "/old"}
		prev := accordwatch.FeedState{URL: feed.URL, MovedTo: srv.URL + "/new/feed.xml", LastError: "HTTP 500 Internal Server Error", ConsecutiveFailures: 1}
		res, err := f.Fetch(context.Background(), feed, prev)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(res.Items) != 1 {
			t.Fatalf("got %d items, want 1", len(res.Items))
		}
		it := res.Items[0]
		if want := srv.URL + "/new/post/1"; it.Link != want {
			t.Errorf("got link %q, want %q (resolved against the moved URL)", it.Link, want)
		}
		if it.FeedURL != feed.URL || it.ID != ItemID(feed.URL, "", it.Link, "Rel", time.Time{}) {
			t.Errorf("got FeedURL %q, want items keyed on the configured URL %q", it.FeedURL, feed.URL)
		}
		st := res.State
		if st.URL != feed.URL || st.MovedTo != prev.MovedTo || st.LastError != "" || st.LastStatus != 200 {
			t.Errorf("got URL %q MovedTo %q LastError %q status %d, want %q %q \"\" 200", st.URL, st.MovedTo, st.LastError, st.LastStatus, feed.URL, prev.MovedTo)
		}
	})
	t.Run("MovedTo of another URL is ignored", func(t *testing.T) {
		feed := accordwatch.Feed{URL: srv.URL + "/old"}
		prev := accordwatch.FeedState{URL: srv.URL + "/something-else", MovedTo: srv.URL + "/new/feed.xml"}
		_, err := f.Fetch(context.Background(), feed, prev)
		if fe := fetchErr(t, err); fe.Status != http.StatusTeapot {
			t.Errorf("got status %d, want %d from the configured URL", fe.Status, http.StatusTeapot)
		}
	})
}

func TestFetchGone(t *testing.T) {
	var gone atomic.Bool
	gone.Store(true)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return
		}
		fmt.Fprint(w, rss2)
	})
	f := newTestFetcher(Options{})
	feed := accordwatch.Feed{URL: srv.URL + "/feed"}
	prev := accordwatch.FeedState{ETag: `"x"`, ItemsSeen: 4, Fetches: 9}

	res, err := f.Fetch(context.Background(), feed, prev)
	fe := fetchErr(t, err)
	const want = "gone: the server says this feed was removed (410)"
	if fe.Kind != "gone" || fe.Status != 410 || res.State.LastError != want {
		t.Errorf("got Kind %q Status %d LastError %q, want gone 410 %q", fe.Kind, fe.Status, res.State.LastError, want)
	}
	if st := res.State; !st.Gone || st.ConsecutiveFailures != 1 || st.LastStatus != 410 || st.Fetches != 10 || st.ETag != `"x"` {
		t.Errorf("got Gone %v failures %d status %d fetches %d ETag %q, want true 1 410 10 \"x\"", st.Gone, st.ConsecutiveFailures, st.LastStatus, st.Fetches, st.ETag)
	}

	gone.Store(false)
	res, err = f.Fetch(context.Background(), feed, res.State)
	if err != nil {
		t.Fatalf("Fetch after the feed came back: %v", err)
	}
	if st := res.State; st.Gone || st.LastError != "" || st.ConsecutiveFailures != 0 || st.LastStatus != 200 {
		t.Errorf("got Gone %v LastError %q failures %d status %d, want false \"\" 0 200", st.Gone, st.LastError, st.ConsecutiveFailures, st.LastStatus)
	}
}

func TestFetchServerHints(t *testing.T) {
	rssTTL := func(ttl string) string {
		return `<rss version="2.0"><channel><title>T</title><ttl>` + ttl + `</ttl><item><title>a</title><link>https://e.example/a</link></item></channel></rss>`
	}
	tests := []struct {
		name, cacheControl, age, body string
		wantMaxAge, wantTTL           time.Duration
	}{
		{name: "nothing", body: rss2},
		{name: "max-age and ttl", cacheControl: "public, max-age=600", body: rssTTL("90"), wantMaxAge: 10 * time.Minute, wantTTL: 90 * time.Minute},
		{name: "Age is subtracted", cacheControl: "max-age=600", age: "100", body: rssTTL(" 60 "), wantMaxAge: 500 * time.Second, wantTTL: time.Hour},
		{name: "stale", cacheControl: "max-age=60", age: "120", body: rss2},
		{name: "no-cache wins", cacheControl: "max-age=600, no-cache", body: rss2},
		{name: "no-store wins", cacheControl: "no-store, max-age=600", body: rss2},
		{name: "garbage", cacheControl: "max-age=soon", body: rssTTL("often")},
		{name: "negative ttl", body: rssTTL("-5")},
		{name: "atom has no ttl", cacheControl: "max-age=30", body: atom1, wantMaxAge: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.cacheControl != "" {
					w.Header().Set("Cache-Control", tt.cacheControl)
				}
				if tt.age != "" {
					w.Header().Set("Age", tt.age)
				}
				fmt.Fprint(w, tt.body)
			})
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if res.MaxAge != tt.wantMaxAge || res.TTL != tt.wantTTL {
				t.Errorf("got MaxAge %v TTL %v, want %v %v", res.MaxAge, res.TTL, tt.wantMaxAge, tt.wantTTL)
			}
		})
	}
	t.Run("no max-age on errors", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=600")
			w.WriteHeader(http.StatusInternalServerError)
		})
		res, _ := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: srv.URL}, accordwatch.FeedState{})
		if res.MaxAge != 0 {
			t.Errorf("got MaxAge %v on a 500, want 0", res.MaxAge)
		}
	})
}

// TestFetchConcurrentStateIsolation runs many feeds through one Fetcher at
// once: each result carries only its own feed's state.
func TestFetchConcurrentStateIsolation(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n := strings.TrimPrefix(r.URL.Path, "/")
		if strings.HasSuffix(n, "5") {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", `"`+n+`"`)
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>feed %s</title><item><title>%s</title><link>https://e.example/%s</link></item></channel></rss>`, n, n, n)
	})
	f := newTestFetcher(Options{})
	const n = 40
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = f.Fetch(context.Background(), accordwatch.Feed{URL: fmt.Sprintf("%s/%d", srv.URL, i)}, accordwatch.FeedState{})
		})
	}
	wg.Wait()
	for i := range n {
		res, name := results[i], fmt.Sprint(i)
		if strings.HasSuffix(name, "5") {
			if errs[i] == nil || res.State.LastError != "HTTP 500 Internal Server Error" {
				t.Errorf("feed %d: got error %v LastError %q, want HTTP 500", i, errs[i], res.State.LastError)
			}
			continue
		}
		if errs[i] != nil || res.State.Title != "feed "+name || res.State.ETag != `"`+name+`"` || len(res.Items) != 1 || res.Items[0].Title != name {
			t.Errorf("feed %d: got error %v title %q ETag %q items %d, want its own feed", i, errs[i], res.State.Title, res.State.ETag, len(res.Items))
		}
	}
}
