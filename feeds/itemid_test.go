package feeds

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// Item IDs are pinned: the store dedupes and the outbox keys alerts by
// them, so a change to how they are computed would re-alert every stored
// item after an upgrade. These golden files hold the IDs of our own
// fixtures (every way an ID is keyed: RSS GUIDs, permalink GUIDs, Atom
// ids, link-only items with tracking parameters, title-only items) and
// of the first items of each real feed file. If this test fails, the
// change is a migration: say so in the release notes and map old IDs to
// new ones in the store before regenerating with -update.

type pinnedID struct {
	File  string `json:"file"`
	N     int    `json:"n"`
	Title string `json:"title,omitempty"`
	GUID  string `json:"guid,omitempty"`
	Link  string `json:"link,omitempty"`
	ID    string `json:"id"`
}

func pinIDs(t *testing.T, files []string, perFile int) []pinnedID {
	t.Helper()
	f := New(Options{})
	var out []pinnedID
	for _, path := range files {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		// A fixed feed URL per file: the ID hashes it, and a temp path or
		// a test server's port would change it run to run.
		feedURL := "https://feeds.example.net/" + name
		base, _ := url.Parse(feedURL)
		p, err := f.parse(body, "", base, accordwatch.Feed{Name: name, URL: feedURL})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, it := range p.items {
			if i == perFile {
				break
			}
			out = append(out, pinnedID{File: name, N: i, Title: it.Title, GUID: it.GUID, Link: it.Link, ID: it.ID})
		}
	}
	return out
}

func checkPinned(t *testing.T, golden string, got []pinnedID) {
	t.Helper()
	raw, _ := json.MarshalIndent(got, "", "  ")
	raw = append(raw, '\n')
	if *update {
		if err := os.WriteFile(golden, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var wantIDs []pinnedID
	if err := json.Unmarshal(want, &wantIDs); err != nil {
		t.Fatal(err)
	}
	if len(wantIDs) != len(got) {
		t.Fatalf("got %d items, %s pins %d", len(got), golden, len(wantIDs))
	}
	for i := range got {
		if got[i] != wantIDs[i] {
			t.Errorf("item %d changed identity:\n got  %+v\n want %+v", i, got[i], wantIDs[i])
		}
	}
}

func TestItemIDsArePinned(t *testing.T) {
	got := pinIDs(t, []string{"testdata/ids/identity.rss", "testdata/ids/identity.atom"}, 100)
	checkPinned(t, "testdata/ids/identity.golden.json", got)
	// The fixtures mean what they say: tracking parameters, fragments and
	// host case do not change a link-only item's identity, so the second
	// telling of story 1003 is the same item and the feed keeps one.
	for _, p := range got {
		if strings.HasPrefix(p.Title, "Link-only item, same story") {
			t.Errorf("story 1003 without tracking parameters got its own ID %s", p.ID)
		}
		if strings.HasPrefix(p.Title, "Link-only item with tracking") && p.Link != "https://news.example.org/story/1003?id=7" {
			t.Errorf("canonical link %q", p.Link)
		}
	}
}

func TestRealFeedItemIDsArePinned(t *testing.T) {
	dir := "../../shared/data/feeds"
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not present", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	// Only positions and IDs (hashes) are kept: the feed files' own text
	// stays in ../shared/data.
	got := pinIDs(t, files, 3)
	for i := range got {
		got[i].Title, got[i].GUID, got[i].Link = "", "", ""
	}
	checkPinned(t, "testdata/ids/real.golden.json", got)
}

// TestItemsCarryNoFeedCredentials: every item repeats its feed's URL and
// travels to the store, the API and alerts; a private feed's password and
// token stay out of it while the ID still keys on the full URL.
func TestItemsCarryNoFeedCredentials(t *testing.T) {
	body, err := os.ReadFile("testdata/ids/identity.rss")
	if err != nil {
		t.Fatal(err)
	}
	feedURL := "https://alice:TOPSECRET1@feeds.example.net/rss?token=TOPSECRET2"
	base, _ := url.Parse(feedURL)
	p, err := New(Options{}).parse(body, "", base, accordwatch.Feed{URL: feedURL})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range p.items {
		if strings.Contains(it.FeedURL, "TOPSECRET") {
			t.Errorf("item %s carries %q", it.ID, it.FeedURL)
		}
	}
	if got, want := p.items[0].ID, ItemID(feedURL, "urn:example:story:1001", "", "", time.Time{}); got != want {
		t.Errorf("ID %s no longer keys on the configured URL (want %s)", got, want)
	}
}
