package feeds

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rssWith(title string, items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>` + title + `</title><link>https://site.example/</link>`)
	for _, it := range items {
		b.WriteString(`<item><title>` + it + `</title><guid>` + it + `</guid><link>` + strings.ToLower(it) + `.html</link></item>`)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "one.xml")
	writeFile(t, file, rssWith("One", "A", "B"))

	for _, u := range []string{file, "file://" + filepath.ToSlash(file)} {
		t.Run(u, func(t *testing.T) {
			res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: u}, accordwatch.FeedState{ETag: `"x"`})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(res.Items) != 2 || res.State.Title != "One" || res.State.ItemsSeen != 2 {
				t.Fatalf("got %d items, title %q, ItemsSeen %d; want 2, One, 2", len(res.Items), res.State.Title, res.State.ItemsSeen)
			}
			// Relative links in a file resolve against the feed's own site.
			if want := "https://site.example/a.html"; res.Items[0].Link != want {
				t.Errorf("got link %q, want %q", res.Items[0].Link, want)
			}
			if res.Items[0].FeedURL != u || res.Items[0].FeedName != "One" {
				t.Errorf("got FeedURL %q FeedName %q, want %q One", res.Items[0].FeedURL, res.Items[0].FeedName, u)
			}
			if res.State.ETag != `"x"` || res.State.LastStatus != 0 {
				t.Errorf("got ETag %q status %d, want HTTP state untouched", res.State.ETag, res.State.LastStatus)
			}
		})
	}
}

func TestFetchDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "2026-02.xml"), rssWith("Archive", "C", "B"))
	writeFile(t, filepath.Join(dir, "2026-01.xml"), rssWith("Archive", "A", "B"))
	writeFile(t, filepath.Join(dir, ".hidden.xml"), "garbage")
	writeFile(t, filepath.Join(dir, "README.md"), "# notes")
	writeFile(t, filepath.Join(dir, "list.opml"), "<opml/>")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub", "x.xml"), rssWith("Sub", "S"))

	res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{Name: "arch", URL: dir}, accordwatch.FeedState{})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var titles []string
	for _, it := range res.Items {
		titles = append(titles, it.Title)
	}
	// Files in name order, B only once.
	if want := []string{"A", "B", "C"}; !slices.Equal(titles, want) {
		t.Errorf("got items %q, want %q", titles, want)
	}

	t.Run("a broken file fails the fetch and is named", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "2026-03.xml"), "<rss><channel><item>")
		res, err := newTestFetcher(Options{}).Fetch(context.Background(), accordwatch.Feed{URL: dir}, accordwatch.FeedState{})
		fe := fetchErr(t, err)
		if fe.Kind != "parse" || !strings.HasPrefix(res.State.LastError, "2026-03.xml: XML syntax error") {
			t.Errorf("got Kind %q LastError %q, want parse / 2026-03.xml: XML syntax error…", fe.Kind, res.State.LastError)
		}
	})
}

func TestFetchFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.xml")
	writeFile(t, big, rssWith("Big", strings.Repeat("x", 5000)))
	empty := t.TempDir()
	tests := []struct {
		name, url, kind, reason string
	}{
		{"missing", filepath.Join(dir, "nope.xml"), "file", "no such file or directory: " + filepath.Join(dir, "nope.xml")},
		{"too large", big, "too-large", "file big.xml larger than 4 KiB"},
		{"empty dir", empty, "file", "no feed files in directory " + empty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := newTestFetcher(Options{MaxBytes: 4096}).Fetch(context.Background(), accordwatch.Feed{URL: tt.url}, accordwatch.FeedState{})
			fe := fetchErr(t, err)
			if fe.Kind != tt.kind || res.State.LastError != tt.reason || res.State.ConsecutiveFailures != 1 {
				t.Errorf("got Kind %q LastError %q failures %d, want %q %q 1", fe.Kind, res.State.LastError, res.State.ConsecutiveFailures, tt.kind, tt.reason)
			}
		})
	}
}

func TestExpandPath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b-feed.xml", "a.rss", "noext", ".hidden.xml", "README", "notes.md", "x.TXT", "list.opml"} {
		writeFile(t, filepath.Join(dir, name), "x")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.rss"), filepath.Join(dir, "link.xml")); err != nil {
		t.Fatal(err)
	}

	t.Run("directory", func(t *testing.T) {
		got, err := ExpandPath(dir)
		if err != nil {
			t.Fatalf("ExpandPath: %v", err)
		}
		want := []accordwatch.Feed{
			{Name: "a", URL: filepath.Join(dir, "a.rss")},
			{Name: "b-feed", URL: filepath.Join(dir, "b-feed.xml")},
			{Name: "noext", URL: filepath.Join(dir, "noext")},
		}
		if !slices.EqualFunc(got, want, func(a, b accordwatch.Feed) bool { return a.Name == b.Name && a.URL == b.URL }) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("relative file", func(t *testing.T) {
		t.Chdir(dir)
		got, err := ExpandPath("b-feed.xml")
		if err != nil {
			t.Fatalf("ExpandPath: %v", err)
		}
		if len(got) != 1 || got[0].Name != "b-feed" || got[0].URL != filepath.Join(dir, "b-feed.xml") {
			t.Errorf("got %+v, want one feed b-feed at its absolute path", got)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := ExpandPath(filepath.Join(dir, "nope")); err == nil {
			t.Error("got nil error, want one for a missing path")
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		if _, err := ExpandPath(t.TempDir()); err == nil {
			t.Error("got nil error, want one for a directory without feed files")
		}
	})
}
