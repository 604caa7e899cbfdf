package feeds

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/accordwatch/accordwatch"
)

// fetchPath reads a local feed file, or every feed file of a directory (an
// archive replayed offline). A file that fails to parse fails the whole
// fetch, naming the file: a silently skipped file would look like a quiet
// day in the archive.
func (f *Fetcher) fetchPath(feed accordwatch.Feed, path string) (fetched, error) {
	var out fetched
	info, err := os.Stat(path)
	if err != nil {
		return out, &FetchError{Kind: "file", Err: fileReason(err, path)}
	}
	files := []string{path}
	if info.IsDir() {
		files, err = feedFiles(path)
		if err != nil {
			return out, &FetchError{Kind: "file", Err: fileReason(err, path)}
		}
		if len(files) == 0 {
			return out, &FetchError{Kind: "file", Err: fmt.Errorf("no feed files in directory %s", path)}
		}
	}

	seen := make(map[string]bool)
	for _, name := range files {
		body, err := f.readFile(name)
		out.bytes += int64(len(body))
		if err != nil {
			return out, err
		}
		p, err := f.parse(body, "", fileURL(name), feed)
		if err != nil {
			var fe *FetchError
			if errors.As(err, &fe) && len(files) > 1 {
				fe.Err = because(fe.Err, "%s: %s", filepath.Base(name), fe.Reason())
			}
			return out, err
		}
		if out.title == "" {
			out.title = p.title
		}
		for _, it := range p.items {
			if !seen[it.ID] {
				seen[it.ID] = true
				out.items = append(out.items, it)
			}
		}
	}
	return out, nil
}

func (f *Fetcher) readFile(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, &FetchError{Kind: "file", Err: fileReason(err, name)}
	}
	defer fh.Close()
	body, err := readCapped(fh, f.opts.MaxBytes)
	if errors.Is(err, errTooLarge) {
		fe := tooLarge(f.opts.MaxBytes)
		fe.Err = because(fe.Err, "file %s larger than %s", filepath.Base(name), formatSize(f.opts.MaxBytes))
		return body, fe
	}
	if err != nil {
		return body, &FetchError{Kind: "file", Err: fileReason(err, name)}
	}
	return body, nil
}

func fileReason(err error, path string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return because(err, "no such file or directory: %s", path)
	case errors.Is(err, fs.ErrPermission):
		return because(err, "permission denied: %s", path)
	}
	return because(err, "read %s: %v", path, err)
}

// fileURL is the base for relative links in a local file. It only matters
// when the feed gives no absolute link of its own; CanonicalLink drops
// file: links, so relative links in such files are left empty.
func fileURL(name string) *url.URL {
	abs, err := filepath.Abs(name)
	if err != nil {
		abs = name
	}
	return &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
}

// feedFiles lists the regular, non-hidden, non-documentation files of dir,
// sorted by name.
func feedFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.Type().IsRegular() || skipFile(e.Name()) {
			continue
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	slices.Sort(files)
	return files, nil
}

// skipFile reports whether a directory entry is not a feed: hidden files,
// READMEs, notes and feed lists.
func skipFile(name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(name, ".") || strings.HasPrefix(lower, "readme") {
		return true
	}
	switch filepath.Ext(lower) {
	case ".md", ".txt", ".opml":
		return true
	}
	return false
}

// ExpandPath turns a --feeds argument into feeds: a file gives one feed, a
// directory one feed per regular file in it (not recursive; hidden files,
// READMEs, *.md, *.txt and *.opml skipped). Each feed is named after its
// file name without extension; its URL is the file's absolute path.
func ExpandPath(path string) ([]accordwatch.Feed, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("expand feeds path %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("expand feeds path: %w", err)
	}
	files := []string{abs}
	if info.IsDir() {
		files, err = feedFiles(abs)
		if err != nil {
			return nil, fmt.Errorf("expand feeds path: %w", err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("expand feeds path %s: no feed files in directory", path)
		}
	} else if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("expand feeds path %s: not a regular file or directory", path)
	}
	out := make([]accordwatch.Feed, 0, len(files))
	for _, name := range files {
		base := filepath.Base(name)
		out = append(out, accordwatch.Feed{
			Name: strings.TrimSuffix(base, filepath.Ext(base)),
			URL:  name,
		})
	}
	return out, nil
}
