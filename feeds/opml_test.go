package feeds

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/accordwatch/accordwatch"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const sharedOPML = "../../shared/data/opml"

var duplicateOf = regexp.MustCompile(`^duplicate of line (\d+)$`)

func TestParseOPMLRealFiles(t *testing.T) {
	tests := []struct {
		path          string
		wantSkipped   int // all of them duplicates in these files
		wantCategory  string
		wantNameInSet string // a non-ASCII name that must survive
	}{
		{filepath.Join(sharedOPML, "CyberSecurityRSS.opml"), 15, "websecurity", "美团技术团队"},
		{filepath.Join(sharedOPML, "tiny.opml"), 1, "synthesis", "C0reFast记事本"},
		{"../../shared/data/feeds/sources/cyberfeedbites-cybersecnews-sources.opml", 0, "cybersecurity-news", "Akamai"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			raw, err := os.ReadFile(tt.path)
			if err != nil {
				t.Skipf("shared OPML not available: %v", err)
			}
			feeds, skipped, err := ParseOPML(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("ParseOPML: %v", err)
			}
			entries := strings.Count(string(raw), "xmlUrl=")
			if len(feeds)+len(skipped) != entries {
				t.Errorf("got %d imported + %d skipped, want all %d entries accounted for", len(feeds), len(skipped), entries)
			}
			if len(skipped) != tt.wantSkipped {
				t.Errorf("got %d skipped, want %d: %+v", len(skipped), tt.wantSkipped, skipped)
			}
			lines := strings.Split(string(raw), "\n")
			for _, s := range skipped {
				m := duplicateOf.FindStringSubmatch(s.Reason)
				if m == nil {
					t.Errorf("line %d: got reason %q, want a duplicate", s.Line, s.Reason)
					continue
				}
				first, _ := strconv.Atoi(m[1])
				if !strings.Contains(lines[s.Line-1], `"`+s.URL+`"`) {
					t.Errorf("got line %d for %s, but that line is %q", s.Line, s.URL, lines[s.Line-1])
				}
				if first >= s.Line || !sameFeedOnLine(lines[first-1], s.URL) {
					t.Errorf("%s (line %d): got duplicate of line %d = %q, want an earlier entry of the same feed", s.URL, s.Line, first, lines[first-1])
				}
			}
			names := map[string]bool{}
			tags := map[string]int{}
			for _, f := range feeds {
				names[f.Name] = true
				u, err := url.Parse(f.URL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || f.Name == "" || f.Source != "opml" || len(f.Tags) != 1 {
					t.Errorf("got feed %+v, want an http(s) URL, a name, Source opml and one category tag", f)
				}
				if len(f.Tags) > 0 {
					tags[f.Tags[0]]++
				}
			}
			if !names[tt.wantNameInSet] {
				t.Errorf("got no feed named %q", tt.wantNameInSet)
			}
			if tags[tt.wantCategory] == 0 {
				t.Errorf("got tags %v, want %q among them", tags, tt.wantCategory)
			}
		})
	}
}

// sameFeedOnLine reports whether an OPML line's xmlUrl names the same feed
// as u, up to scheme, case, trailing slash and tracking parameters.
func sameFeedOnLine(line, u string) bool {
	m := regexp.MustCompile(`xmlUrl="([^"]*)"`).FindStringSubmatch(line)
	if m == nil {
		return false
	}
	norm := func(s string) string {
		s = CanonicalLink(s, nil)
		s = s[strings.Index(s, "://")+3:]
		return strings.TrimSuffix(s, "/")
	}
	return norm(m[1]) == norm(u)
}

const oddOPML = `<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
<head><title>Odd</title></head>
<body>
  <outline text="Threat Intel" title="Threat Intel (ignored: text names categories)">
    <outline text="APT &amp; Nation-State">
      <outline title="Caf` + "\xe9" + ` S` + "\xe9" + `cu" text="other" xmlUrl="https://cafe.example/feed/" category="/Vendors/Blogs,News"/>
      <outline text="Text only&nbsp;name" xmlURL="HTTP://Text.Example:80/rss?utm_source=x&amp;id=1"/>
    </outline>
    <outline xmlUrl="https://noname.example/atom.xml"/>
    <outline text="Empty folder"/>
  </outline>
  <outline text="Bad ones">
    <outline text="FTP" xmlUrl="ftp://files.example/feed.xml"/>
    <outline text="Relative" xmlUrl="/feed.xml" htmlUrl="/"/>
    <outline text="Spaces in host" xmlUrl="http://exa mple.com/feed"/>
    <outline text="No host" xmlUrl="https:///feed"/>
    <outline text="Dup by scheme and slash" xmlUrl="http://cafe.example/feed"/>
    <outline text="Dup by case and trackers" xmlUrl="http://text.example/rss?id=1&amp;utm_medium=y#top"/>
    <outline text="Raw ampersand" xmlUrl="https://raw.example/q?a=1&b=2"/>
    <outline text="A link, not a feed" type="link" url="https://example.com/"/>
  </outline>
  <outline text="Top level" xmlUrl="https://top.example/feed"/>
</body>
</opml>`

func TestParseOPMLOddEntries(t *testing.T) {
	feeds, skipped, err := ParseOPML(strings.NewReader(oddOPML))
	if err != nil {
		t.Fatalf("ParseOPML: %v", err)
	}
	wantFeeds := []accordwatch.Feed{
		{Name: "Café Sécu", URL: "https://cafe.example/feed/", Tags: []string{"threat-intel", "apt-nation-state", "vendors", "blogs", "news"}, Source: "opml"},
		{Name: "Text only name", URL: "HTTP://Text.Example:80/rss?utm_source=x&id=1", Tags: []string{"threat-intel", "apt-nation-state"}, Source: "opml"},
		{Name: "noname.example", URL: "https://noname.example/atom.xml", Tags: []string{"threat-intel"}, Source: "opml"},
		{Name: "Raw ampersand", URL: "https://raw.example/q?a=1&b=2", Tags: []string{"bad-ones"}, Source: "opml"},
		{Name: "Top level", URL: "https://top.example/feed", Source: "opml"},
	}
	if diff := cmp.Diff(wantFeeds, feeds, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("feeds (-want +got):\n%s", diff)
	}
	wantSkipped := []Skipped{
		{Line: 11, Title: "Empty folder", Reason: "no xmlUrl"},
		{Line: 14, Title: "FTP", URL: "ftp://files.example/feed.xml", Reason: "not an http(s) URL"},
		{Line: 15, Title: "Relative", URL: "/feed.xml", Reason: "not an http(s) URL"},
		{Line: 16, Title: "Spaces in host", URL: "http://exa mple.com/feed", Reason: `invalid URL: invalid character " " in host name`},
		{Line: 17, Title: "No host", URL: "https:///feed", Reason: "invalid URL: no host"},
		{Line: 18, Title: "Dup by scheme and slash", URL: "http://cafe.example/feed", Reason: "duplicate of line 7"},
		{Line: 19, Title: "Dup by case and trackers", URL: "http://text.example/rss?id=1&utm_medium=y#top", Reason: "duplicate of line 8"},
		{Line: 21, Title: "A link, not a feed", Reason: "no xmlUrl"},
	}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestParseOPMLNotOPML(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"an RSS feed", "<?xml version=\"1.0\"?>\n\n<rss version=\"2.0\"><channel/></rss>", "parse OPML: line 3: not an OPML file: the root element is <rss>"},
		{"an HTML page", "<!DOCTYPE html>\n<html><body>hi</body></html>", "parse OPML: line 2: not an OPML file: the root element is <html>"},
		{"truncated", "<opml version=\"2.0\"><body>\n<outline text=\"a\">\n<outline text=\"b", "parse OPML: XML syntax error on line 3: unexpected EOF"},
		{"plain text", "just some words", "parse OPML: not an OPML file: no <opml> element"},
		{"empty", "", "parse OPML: not an OPML file: no <opml> element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, skipped, err := ParseOPML(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			if feeds != nil || skipped != nil {
				t.Errorf("got %d feeds and %d skipped with an error, want none", len(feeds), len(skipped))
			}
		})
	}
}

// outlineReader generates an OPML list of n feeds, one outline a line
// (the k-th on line k+1), without holding it in memory.
type outlineReader struct {
	n, next int
	buf     []byte
}

func (r *outlineReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		switch {
		case r.next == 0:
			r.buf = []byte(`<?xml version="1.0"?><opml version="2.0"><head><title>big</title></head><body>`)
		case r.next <= r.n:
			r.buf = fmt.Appendf(nil, "\n<outline text=\"feed %d\" xmlUrl=\"https://f%d.example/rss\"/>", r.next, r.next)
		case r.next == r.n+1:
			r.buf = []byte("\n</body></opml>\n")
		default:
			return 0, io.EOF
		}
		r.next++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func TestParseOPMLLimits(t *testing.T) {
	t.Run("at the outline limit", func(t *testing.T) {
		feeds, skipped, err := ParseOPML(&outlineReader{n: maxOPMLOutlines})
		if err != nil || len(feeds) != maxOPMLOutlines || len(skipped) != 0 {
			t.Fatalf("got %d feeds, %d skipped, %v; want all 10000", len(feeds), len(skipped), err)
		}
	})
	t.Run("300,000 outlines", func(t *testing.T) {
		feeds, _, err := ParseOPML(&outlineReader{n: 300_000})
		const want = "parse OPML: line 10002: more than 10000 outlines; import at most 10000 at a time"
		if err == nil || err.Error() != want {
			t.Fatalf("got %d feeds, error %v; want %q", len(feeds), err, want)
		}
		if feeds != nil {
			t.Errorf("got %d feeds with the error, want none", len(feeds))
		}
	})
	t.Run("categories nested 100 deep", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`<opml version="2.0"><body>`)
		for i := range 100 {
			fmt.Fprintf(&b, "\n<outline text=\"c%d\">", i)
		}
		b.WriteString(`<outline text="f" xmlUrl="https://f.example/rss"/>`)
		b.WriteString(strings.Repeat("</outline>", 100) + "</body></opml>")
		// opml and body are levels 1 and 2: the 63rd category, on line 64,
		// is level 65.
		const want = "parse OPML: line 64: elements nest deeper than 64 levels"
		if _, _, err := ParseOPML(strings.NewReader(b.String())); err == nil || err.Error() != want {
			t.Fatalf("got error %v, want %q", err, want)
		}
	})
}

func TestWriteOPML(t *testing.T) {
	feeds := []accordwatch.Feed{
		{Name: "Krebs on Security", URL: "https://krebsonsecurity.com/feed/", Tags: []string{"news"}},
		{Name: `Tom & "Jerry" <Sec>`, URL: "https://tj.example/rss?a=1&b=2", Tags: []string{"research", "malware", "apt"}},
		{Name: "No tags", URL: "https://untagged.example/atom.xml"},
		{Name: "绿盟科技技术博客", URL: "http://blog.nsfocus.net/feed/", Tags: []string{"research"}},
		{Name: "The Register", URL: "https://www.theregister.com/security/headlines.atom", Tags: []string{"news", "uk"}},
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "accordwatch feeds", feeds); err != nil {
		t.Fatalf("WriteOPML: %v", err)
	}
	golden := filepath.Join("testdata", "export.opml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("WriteOPML output (-golden +got):\n%s", diff)
	}

	back, skipped, err := ParseOPML(&buf)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("ParseOPML of our own output: %v, skipped %+v", err, skipped)
	}
	// Grouping by first tag reorders: the feeds come back category by category.
	wantBack := []accordwatch.Feed{feeds[0], feeds[4], feeds[1], feeds[3], feeds[2]}
	for i := range wantBack {
		wantBack[i].Source = "opml"
	}
	if diff := cmp.Diff(wantBack, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestOPMLRoundTripRealFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedOPML, "CyberSecurityRSS.opml"))
	if err != nil {
		t.Skipf("shared OPML not available: %v", err)
	}
	feeds, _, err := ParseOPML(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ParseOPML: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "export", feeds); err != nil {
		t.Fatalf("WriteOPML: %v", err)
	}
	back, skipped, err := ParseOPML(&buf)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("ParseOPML of the export: %v, %d skipped", err, len(skipped))
	}
	// The file's categories are contiguous, so grouping keeps the order.
	if diff := cmp.Diff(feeds, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-imported +re-imported):\n%s", diff)
	}
}

// FuzzParseOPML: no panic, and every imported feed is an http(s) URL with a
// name and slug tags.
func FuzzParseOPML(f *testing.F) {
	f.Add(oddOPML)
	f.Add(`<opml><body><outline text="a"><outline xmlUrl="http://x/"/></outline></body></opml>`)
	f.Add("<opml><body><outline xmlUrl='https://a.example/\x00'/>")
	f.Fuzz(func(t *testing.T, in string) {
		feeds, _, err := ParseOPML(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, fd := range feeds {
			if _, reason := checkFeedURL(fd.URL); reason != "" || fd.Name == "" || fd.Source != "opml" {
				t.Fatalf("got feed %+v (%s), want an http(s) URL, a name and Source opml", fd, reason)
			}
			for _, tag := range fd.Tags {
				if tag == "" || slug(tag) != tag {
					t.Fatalf("got tag %q, want a slug", tag)
				}
			}
		}
	})
}
