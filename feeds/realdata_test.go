package feeds

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

// sharedFeeds holds real feed snapshots (see its README for their quirks).
const sharedFeeds = "../../shared/data/feeds"

// realNow is a fetch time after every snapshot (the newest is from 2026-07).
var realNow = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRealFeeds(t *testing.T) {
	if _, err := os.Stat(sharedFeeds); err != nil {
		t.Skipf("shared feed data not available: %v", err)
	}
	feeds, err := ExpandPath(sharedFeeds)
	if err != nil {
		t.Fatalf("ExpandPath: %v", err)
	}
	if len(feeds) < 10 {
		t.Fatalf("got %d feeds, want every snapshot file", len(feeds))
	}
	f := newTestFetcher(Options{Now: func() time.Time { return realNow }})
	// Snapshots with no parseable dates get the fetch time; every other one
	// must yield the feed's own dates, well before realNow.
	undated := map[string]bool{"heise-online-rss090-168a870": true}
	for _, feed := range feeds {
		t.Run(feed.Name, func(t *testing.T) {
			res, err := f.Fetch(context.Background(), feed, accordwatch.FeedState{})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(res.Items) == 0 {
				t.Fatal("got 0 items, want some")
			}
			if res.State.Title == "" {
				t.Error("got an empty feed title")
			}
			ids := map[string]bool{}
			for i, it := range res.Items {
				if it.ID == "" || ids[it.ID] {
					t.Errorf("item %d: got ID %q, want a non-empty unique ID", i, it.ID)
				}
				ids[it.ID] = true
				if strings.TrimSpace(it.Title) == "" {
					t.Errorf("item %d: got an empty title", i)
				}
				if !strings.HasPrefix(it.Link, "https://") && !strings.HasPrefix(it.Link, "http://") {
					t.Errorf("item %d (%q): got link %q, want an http(s) link", i, it.Title, it.Link)
				}
				if strings.Contains(it.Link, "utm_") {
					t.Errorf("item %d: got link %q with tracking parameters", i, it.Link)
				}
				if it.Published.IsZero() || it.Published.Location() != time.UTC || it.Published.After(realNow) || it.Published.Year() < 2000 {
					t.Errorf("item %d (%q): got Published %v, want a UTC time in 2000..now", i, it.Title, it.Published)
				}
				if !undated[feed.Name] && it.Published.Equal(realNow) {
					t.Errorf("item %d (%q): got the fetch time as Published, want the feed's date", i, it.Title)
				}
				for _, s := range []string{it.Title, it.Text} {
					if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
						t.Errorf("item %d: got invalid or replaced UTF-8 in %q", i, s[:min(len(s), 80)])
					}
					if strings.Contains(s, "<p>") || strings.Contains(s, "&amp;") {
						t.Errorf("item %d: got markup left in %q", i, s[:min(len(s), 80)])
					}
				}
			}
		})
	}
}

// TestRealFeedQuirks pins the snapshot quirks the README lists.
func TestRealFeedQuirks(t *testing.T) {
	if _, err := os.Stat(sharedFeeds); err != nil {
		t.Skipf("shared feed data not available: %v", err)
	}
	f := newTestFetcher(Options{Now: func() time.Time { return realNow }})
	tests := []struct {
		file      string
		wantTitle string    // of the first item
		wantPub   time.Time // of the first item; zero = fetch time
		wantText  string    // a substring of some item's text or title
	}{
		{"crowdstrike-blog-20250724.xml", "CrowdStrike Named a Leader and Fast Mover in GigaOm ISPM Radar", time.Date(2025, 7, 23, 5, 0, 0, 0, time.UTC), ""},
		{"proofpoint-news-20250724.xml", "TA829, UNK_GreenSec malware campaigns underpinned by same infrastructure", time.Date(2025, 7, 2, 13, 14, 54, 0, time.UTC), ""},
		{"heise-online-rss090-168a870.xml", "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen", time.Time{}, "Giganten-Hochzeit"},
		{"golem-de-iso-8859-1-20181028.xml", "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games", time.Date(2018, 10, 28, 12, 48, 0, 0, time.UTC), "wünschen"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := f.Fetch(context.Background(), accordwatch.Feed{URL: sharedFeeds + "/" + tt.file}, accordwatch.FeedState{})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			first := res.Items[0]
			want := tt.wantPub
			if want.IsZero() {
				want = realNow
			}
			if first.Title != tt.wantTitle || !first.Published.Equal(want) {
				t.Errorf("got first item %q at %v, want %q at %v", first.Title, first.Published, tt.wantTitle, want)
			}
			if tt.wantText != "" {
				found := false
				for _, it := range res.Items {
					found = found || strings.Contains(it.Title+" "+it.Text, tt.wantText)
				}
				if !found {
					t.Errorf("got no item containing %q", tt.wantText)
				}
			}
		})
	}
}
