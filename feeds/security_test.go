package feeds

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/accordwatch/accordwatch"
)

// headerLog records the headers of every request a server got.
type headerLog struct {
	mu   sync.Mutex
	reqs []http.Header
}

func (l *headerLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Header.Clone())
}

func (l *headerLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.reqs...)
}

// TestFetchHeadersStayWithTheirOrigin: a feed's configured headers go to
// the scheme, host and port of its URL only, never to where a redirect or
// a saved permanent move points; the User-Agent goes everywhere.
func TestFetchHeadersStayWithTheirOrigin(t *testing.T) {
	var atB, atA headerLog
	b := serve(t, func(w http.ResponseWriter, r *http.Request) {
		atB.record(r)
		fmt.Fprint(w, rss2)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		atA.record(r)
		http.Redirect(w, r, b.URL+"/feed", http.StatusMovedPermanently) // another port
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		atA.record(r)
		http.Redirect(w, r, "/new", http.StatusMovedPermanently) // same origin
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		atA.record(r)
		fmt.Fprint(w, rss2)
	})
	a := serve(t, mux.ServeHTTP)
	headers := map[string]string{"Authorization": "Bearer SECRET-TOKEN", "X-Api-Key": "SECRET-KEY"}
	f := newTestFetcher(Options{})

	t.Run("moved to another origin", func(t *testing.T) {
		feed := accordwatch.Feed{URL: a.URL + "/feed", Headers: headers}
		first, err := f.Fetch(context.Background(), feed, accordwatch.FeedState{})
		if err != nil {
			t.Fatalf("first Fetch: %v", err)
		}
		if first.State.MovedTo != b.URL+"/feed" {
			t.Fatalf("got MovedTo %q, want %q", first.State.MovedTo, b.URL+"/feed")
		}
		second, err := f.Fetch(context.Background(), feed, first.State)
		if err != nil || len(second.Items) != 2 {
			t.Fatalf("second Fetch: %d items, %v", len(second.Items), err)
		}
		reqs := atB.all()
		if len(reqs) != 2 {
			t.Fatalf("got %d requests at B, want 2 (the redirect, then the saved move)", len(reqs))
		}
		for i, h := range reqs {
			for k := range headers {
				if h.Get(k) != "" {
					t.Errorf("request %d at B: got %s %q, want the header kept for A's origin", i+1, k, h.Get(k))
				}
			}
			if h.Get("User-Agent") != defaultUserAgent {
				t.Errorf("request %d at B: got User-Agent %q, want %q", i+1, h.Get("User-Agent"), defaultUserAgent)
			}
		}
		if got := atA.all(); len(got) != 1 || got[0].Get("Authorization") != headers["Authorization"] {
			t.Errorf("got %d requests at A, want one carrying the feed's headers", len(got))
		}
	})
	t.Run("moved within its origin", func(t *testing.T) {
		atA = headerLog{}
		feed := accordwatch.Feed{URL: a.URL + "/old", Headers: headers}
		first, err := f.Fetch(context.Background(), feed, accordwatch.FeedState{})
		if err != nil || first.State.MovedTo != a.URL+"/new" {
			t.Fatalf("first Fetch: MovedTo %q, %v", first.State.MovedTo, err)
		}
		if _, err := f.Fetch(context.Background(), feed, first.State); err != nil {
			t.Fatalf("second Fetch: %v", err)
		}
		reqs := atA.all() // /old, /new, /new
		if len(reqs) != 3 {
			t.Fatalf("got %d requests at A, want 3", len(reqs))
		}
		for i, h := range reqs {
			if h.Get("Authorization") != headers["Authorization"] || h.Get("X-Api-Key") != headers["X-Api-Key"] {
				t.Errorf("request %d: got Authorization %q X-Api-Key %q, want the feed's headers on its own origin", i+1, h.Get("Authorization"), h.Get("X-Api-Key"))
			}
		}
	})
}

// TestFetchRefusesHTTPSDowngrade: a redirect from https to http is refused
// and never recorded as a permanent move; a saved one is not followed.
func TestFetchRefusesHTTPSDowngrade(t *testing.T) {
	var plainHits headerLog
	plain := serve(t, func(w http.ResponseWriter, r *http.Request) {
		plainHits.record(r)
		fmt.Fprint(w, rss2)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/found", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/feed", http.StatusFound)
	})
	mux.HandleFunc("/feed", body("application/rss+xml", rss2))
	tlsSrv := newTLSServer(t, mux.ServeHTTP)
	f := newTestFetcher(Options{Client: tlsSrv.Client()})

	for _, path := range []string{"/moved", "/found"} {
		t.Run(path, func(t *testing.T) {
			feed := accordwatch.Feed{URL: tlsSrv.URL + path, Headers: map[string]string{"Authorization": "Bearer SECRET"}}
			res, err := f.Fetch(context.Background(), feed, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if want := "refused: redirect from https to http"; fe.Kind != "refused" || res.State.LastError != want {
				t.Errorf("got Kind %q LastError %q, want refused %q", fe.Kind, res.State.LastError, want)
			}
			if len(res.Items) != 0 || res.State.MovedTo != "" || res.PermanentRedirect != "" {
				t.Errorf("got %d items, MovedTo %q, PermanentRedirect %q; want none", len(res.Items), res.State.MovedTo, res.PermanentRedirect)
			}
		})
	}
	t.Run("a saved downgrade is not followed", func(t *testing.T) {
		feed := accordwatch.Feed{URL: tlsSrv.URL + "/feed"}
		prev := accordwatch.FeedState{URL: feed.URL, MovedTo: plain.URL + "/feed"}
		res, err := f.Fetch(context.Background(), feed, prev)
		if err != nil || len(res.Items) != 2 {
			t.Fatalf("got %d items, %v; want the https feed itself", len(res.Items), err)
		}
		if res.State.MovedTo != "" {
			t.Errorf("got MovedTo %q, want the downgrade forgotten", res.State.MovedTo)
		}
	})
	if n := len(plainHits.all()); n != 0 {
		t.Errorf("got %d requests over plain http, want none", n)
	}
	t.Run("an upgrade is followed and recorded", func(t *testing.T) {
		up := serve(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, tlsSrv.URL+"/feed", http.StatusMovedPermanently)
		})
		res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: up.URL + "/rss"}, accordwatch.FeedState{})
		if err != nil || res.State.MovedTo != tlsSrv.URL+"/feed" {
			t.Errorf("got MovedTo %q, %v; want the https URL recorded", res.State.MovedTo, err)
		}
	})
}

// TestFetchErrorsCarryNoSecrets: neither the password of a feed URL nor a
// token in its query reaches an error, a reason or the stored state, on
// any failure path.
func TestFetchErrorsCarryNoSecrets(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound) // keeps the query
	})
	mux.HandleFunc("/html", body("text/html", `<html><head><link rel="alternate" type="application/rss+xml" href="/rss?token=TOPSECRET3"></head></html>`))
	srv := serve(t, mux.ServeHTTP)
	withSecrets := func(path string) string {
		return strings.Replace(srv.URL, "http://", "http://alice:TOPSECRET@", 1) + path + "?token=TOPSECRET2&page=1"
	}
	closed := serve(t, http.NotFound)
	closed.Close()
	f := newTestFetcher(Options{})

	tests := []struct{ name, url string }{
		{"HTTP error", withSecrets("/500")},
		{"redirect loop", withSecrets("/loop")},
		{"HTML page linking a secret feed URL", withSecrets("/html")},
		{"connection refused", strings.Replace(closed.URL, "http://", "http://alice:TOPSECRET@", 1) + "/feed?token=TOPSECRET2"},
		{"invalid URL", "http://alice:TOPSECRET@example.com/%zz?token=TOPSECRET2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: tt.url}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			for _, s := range []string{err.Error(), fe.Reason(), fe.URL, res.State.LastError} {
				if strings.Contains(s, "TOPSECRET") {
					t.Errorf("got %q, want no secret in it", s)
				}
			}
			if tt.name != "invalid URL" && !strings.Contains(err.Error(), "alice") {
				t.Errorf("got %q, want the user name kept so the feed stays recognisable", err.Error())
			}
		})
	}
	t.Run("discover", func(t *testing.T) {
		_, err := f.Discover(context.Background(), withSecrets("/500"))
		if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("got %v, want an error without the secrets", err)
		}
	})
}
