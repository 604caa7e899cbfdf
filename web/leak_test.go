package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
	"github.com/accordwatch/accordwatch/index"
)

// A feed with a credential in every place a feed can hold one.
const (
	secretFeedURL = "https://alice:TOPSECRET@feeds.example/x?token=TOPSECRET2&lang=en"
	secretMovedTo = "https://feeds.example/y?api_key=TOPSECRET4"
	secretHeader  = "Bearer TOPSECRET3"
)

func TestNoCredentialsInResponses(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	it := accordwatch.Item{
		ID: "private-1", FeedURL: secretFeedURL, FeedName: "Private intel", Link: "https://feeds.example/posts/1",
		Title: "Volt Typhoon in water utilities", Text: "Volt Typhoon kept access for months.",
		Published: fixedNow.Add(-time.Hour), Tags: accordwatch.Tags{Actors: []string{"Volt Typhoon"}, Severity: 70},
	}
	if err := ix.Add(context.Background(), []accordwatch.Item{it}); err != nil {
		t.Fatal(err)
	}
	items := mapItems{it.ID: it}
	feeds := fixedFeeds{{
		Feed: accordwatch.Feed{Name: "Private intel", URL: secretFeedURL, Headers: map[string]string{"Authorization": secretHeader, "X-Team": "blue"}},
		State: accordwatch.FeedState{
			URL: secretFeedURL, MovedTo: secretMovedTo, ConsecutiveFailures: 1,
			// A poll's reason may quote the URL it fetched.
			LastError: `invalid URL: parse "` + secretFeedURL + `": bad; also Get "https://alice:***@feeds.example/x?token=TOPSECRET2": EOF; sent Bearer TOPSECRET3`,
		},
	}}
	h := Handler(Options{Searcher: ix, Items: items, Feeds: feeds})
	get := func(path string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s: got %d %s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	bodies := map[string]string{}
	for _, p := range []string{
		"/api/feeds",
		"/api/items/private-1",
		"/api/search?q=" + url.QueryEscape("volt typhoon"),
		"/api/search?q=" + url.QueryEscape(`feed:"Private intel"`),
		"/items/private-1",
		"/?q=" + url.QueryEscape("volt typhoon"),
		"/",
	} {
		bodies[p] = get(p)
	}
	for p, body := range bodies {
		for _, sec := range []string{"TOPSECRET", "TOPSECRET2", "TOPSECRET3", "TOPSECRET4"} {
			if strings.Contains(body, sec) {
				t.Errorf("GET %s: body contains %q:\n%.2000s", p, sec, body)
			}
		}
	}
	if !strings.Contains(bodies["/api/search?q="+url.QueryEscape("volt typhoon")], "private-1") {
		t.Error("search found nothing, so it proves nothing")
	}

	// What is left is still useful: which account, which feed, which headers.
	var got struct {
		Feeds []struct {
			Feed struct {
				URL         string            `json:"url"`
				Headers     map[string]string `json:"headers"`
				HeaderNames []string          `json:"header_names"`
			} `json:"feed"`
			State accordwatch.FeedState `json:"state"`
		} `json:"feeds"`
	}
	if err := json.Unmarshal([]byte(bodies["/api/feeds"]), &got); err != nil || len(got.Feeds) != 1 {
		t.Fatalf("decode /api/feeds: %v %s", err, bodies["/api/feeds"])
	}
	f := got.Feeds[0]
	if f.Feed.URL != accordwatch.RedactURL(secretFeedURL) || !strings.Contains(f.Feed.URL, "alice") || !strings.Contains(f.Feed.URL, "lang=en") {
		t.Errorf("feed url: got %q, want %q", f.Feed.URL, accordwatch.RedactURL(secretFeedURL))
	}
	if f.Feed.Headers != nil || strings.Join(f.Feed.HeaderNames, ",") != "Authorization,X-Team" {
		t.Errorf("headers: got %v and names %v, want names only", f.Feed.Headers, f.Feed.HeaderNames)
	}
	if f.State.URL != accordwatch.RedactURL(secretFeedURL) || f.State.MovedTo != accordwatch.RedactURL(secretMovedTo) || f.State.ConsecutiveFailures != 1 {
		t.Errorf("state: got %+v", f.State)
	}
	if !strings.Contains(f.State.LastError, "invalid URL") {
		t.Errorf("last error: got %q, want the reason kept", f.State.LastError)
	}
	var item accordwatch.Item
	if err := json.Unmarshal([]byte(bodies["/api/items/private-1"]), &item); err != nil {
		t.Fatal(err)
	}
	if item.FeedURL != accordwatch.RedactURL(secretFeedURL) || item.Link != it.Link || item.Title != it.Title {
		t.Errorf("item: got feed_url %q link %q, want the redacted feed URL and the link as stored", item.FeedURL, item.Link)
	}
	if items["private-1"].FeedURL != secretFeedURL {
		t.Error("the stored item was changed")
	}
}

// TestNoCredentialsInDigest: the digest lists failing feeds with their
// last error, which may quote the feed URL; /api/digest must not carry it.
func TestNoCredentialsInDigest(t *testing.T) {
	feeds := fixedFeeds{{
		Feed: accordwatch.Feed{Name: "Private intel", URL: secretFeedURL, Headers: map[string]string{"Authorization": secretHeader}},
		State: accordwatch.FeedState{
			URL: secretFeedURL, MovedTo: secretMovedTo, ConsecutiveFailures: 3,
			UnhealthySince: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), LastAttempt: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC),
			LastError: `invalid URL: parse "` + secretFeedURL + `": bad; sent Bearer TOPSECRET3 to ` + secretMovedTo,
		},
	}}
	h := DigestHandler(DigestOptions{
		Searcher: emptySearcher{}, Feeds: feeds,
		Digest: digest.Options{Now: func() time.Time { return fixedNow }, Location: time.UTC},
	})
	for _, format := range []string{"json", "md", "html"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/digest?week=2026-W47&format="+format, nil))
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "invalid URL") {
			t.Fatalf("%s: got %d %.500s, want 200 listing the failing feed", format, rec.Code, body)
		}
		if strings.Contains(body, "TOPSECRET") {
			t.Errorf("%s: digest contains a credential:\n%.3000s", format, body)
		}
	}
}
