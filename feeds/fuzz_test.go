package feeds

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{
		"", "plain", "<p>a</p><script>x</script>", "&lt;!channel&gt;", "<svg><svg></svg>",
		"a\x00b\xff", "<pre>a\nb</pre>", "<img alt='&amp;'>", "<table><td>x", "&#0;&#xD800;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("HTMLToText(%q) = %q: invalid UTF-8", s, out)
		}
		if strings.TrimSpace(out) != out || strings.Contains(out, "\n\n\n") || strings.Contains(out, "  ") {
			t.Fatalf("HTMLToText(%q) = %q: whitespace not collapsed", s, out)
		}
		for _, r := range out {
			if r != '\n' && r < 0x20 {
				t.Fatalf("HTMLToText(%q) = %q: control character %U", s, out, r)
			}
		}
	})
}

// FuzzNormalize feeds arbitrary bodies through encoding repair, gofeed and
// the normaliser: no panic, and every item it yields is well-formed.
func FuzzNormalize(f *testing.F) {
	f.Add([]byte(rss2), "application/rss+xml")
	f.Add([]byte(atom1), "application/atom+xml")
	f.Add([]byte(jsonFeed), "application/feed+json")
	f.Add([]byte("<rss version=\"2.0\"><channel><item><title>\xe9</title><link>/x</link></item></channel></rss>"), "text/xml; charset=iso-8859-1")
	if small, err := os.ReadFile(filepath.Join(sharedFeeds, "crowdstrike-blog-20250724.xml")); err == nil {
		f.Add(small, "")
	}
	base, _ := url.Parse("https://fuzz.example/feed/")
	fe := New(Options{Now: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		p, err := fe.parse(body, contentType, base, accordwatch.Feed{URL: "https://fuzz.example/feed/"})
		if err != nil {
			return
		}
		if p.ttl < 0 {
			t.Fatalf("got TTL %v, want >= 0", p.ttl)
		}
		seen := map[string]bool{}
		for _, it := range p.items {
			if len(it.ID) != 64 || seen[it.ID] {
				t.Fatalf("got ID %q, want a unique 64-char hex ID", it.ID)
			}
			seen[it.ID] = true
			for _, s := range []string{it.Title, it.Text, it.Link, it.FeedName, it.GUID} {
				if !utf8.ValidString(s) {
					t.Fatalf("got invalid UTF-8 %q", s)
				}
			}
			if it.Link != "" && !strings.HasPrefix(it.Link, "http://") && !strings.HasPrefix(it.Link, "https://") {
				t.Fatalf("got link %q, want http(s) or empty", it.Link)
			}
			if it.Published.IsZero() || it.Published.After(testNow.Add(futureSlack)) || it.Published.Location() != time.UTC {
				t.Fatalf("got Published %v, want a UTC time not after now+1h", it.Published)
			}
		}
	})
}

func BenchmarkParseNormalize(b *testing.B) {
	for _, name := range []string{"cisa-cybersecurity-advisories-20250724.xml", "microsoft-security-blog-20250724.xml"} {
		body, err := os.ReadFile(filepath.Join(sharedFeeds, name))
		if err != nil {
			b.Skipf("shared feed data not available: %v", err)
		}
		base, _ := url.Parse("https://example.com/feed")
		f := New(Options{})
		feed := accordwatch.Feed{URL: base.String()}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if p, err := f.parse(body, "application/rss+xml", base, feed); err != nil || len(p.items) == 0 {
					b.Fatalf("parse: %d items, %v", len(p.items), err)
				}
			}
		})
	}
}

func BenchmarkHTMLToText(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(sharedFeeds, "dustri-org-artificial-truth-rss-20240310.xml"))
	if err != nil {
		b.Skipf("shared feed data not available: %v", err)
	}
	s := string(body)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		HTMLToText(s)
	}
}
