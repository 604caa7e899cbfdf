package feeds

import (
	"net/url"
	"testing"
	"time"
)

func TestCanonicalLink(t *testing.T) {
	base, _ := url.Parse("https://News.example.com/section/feed.xml?x=1")
	tests := []struct {
		name, raw string
		base      *url.URL
		want      string
	}{
		{"already canonical", "https://example.com/a/b?id=1", nil, "https://example.com/a/b?id=1"},
		{"scheme and host case", "HTTPS://Example.COM/Path/Case", nil, "https://example.com/Path/Case"},
		{"fragment dropped", "https://example.com/a#comments", nil, "https://example.com/a"},
		{"utm only", "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", nil, "https://example.com/a"},
		{"utm mixed keeps order", "https://example.com/a?b=2&utm_source=rss&a=1&UTM_Term=z", nil, "https://example.com/a?b=2&a=1"},
		{"fbclid gclid", "https://example.com/a?fbclid=abc&p=1&gclid=def", nil, "https://example.com/a?p=1"},
		{"mailchimp", "https://example.com/a?mc_cid=1&mc_eid=2", nil, "https://example.com/a"},
		{"matomo and webtrekk", "https://example.com/a?pk_campaign=feed&pk_kwd=x&wt_mc=rss.ho", nil, "https://example.com/a"},
		{"value encoding kept", "https://example.com/s?q=a+b%2Fc&utm_x=1", nil, "https://example.com/s?q=a+b%2Fc"},
		{"tracker-like value kept", "https://example.com/s?ref=utm_source", nil, "https://example.com/s?ref=utm_source"},
		{"default https port", "https://example.com:443/a", nil, "https://example.com/a"},
		{"default http port", "http://example.com:80/a", nil, "http://example.com/a"},
		{"other port kept", "https://example.com:8443/a", nil, "https://example.com:8443/a"},
		{"empty path", "https://example.com", nil, "https://example.com/"},
		{"empty query marker", "https://example.com/a?", nil, "https://example.com/a"},
		{"ipv6", "http://[2001:DB8::1]:80/x", nil, "http://[2001:db8::1]/x"},
		{"relative path", "../other/post?utm_source=x", base, "https://news.example.com/other/post"},
		{"root relative", "/p/1", base, "https://news.example.com/p/1"},
		{"protocol relative", "//cdn.Example.org/x", base, "https://cdn.example.org/x"},
		{"whitespace", "  https://example.com/a \n", nil, "https://example.com/a"},
		{"relative without base", "/p/1", nil, ""},
		{"javascript", "javascript:alert(1)", base, ""},
		{"mailto", "mailto:a@example.com", nil, ""},
		{"file", "file:///etc/passwd", nil, ""},
		{"data", "data:text/html,hi", base, ""},
		{"empty", "", base, ""},
		{"garbage", "http://[::1", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalLink(tt.raw, tt.base); got != tt.want {
				t.Errorf("CanonicalLink(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestItemID(t *testing.T) {
	pub := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	const feed = "https://example.com/feed"
	ref := ItemID(feed, "guid-1", "https://example.com/a", "Title", pub)
	if len(ref) != 64 {
		t.Fatalf("got ID %q, want 64 hex characters", ref)
	}
	tests := []struct {
		name     string
		id       string
		wantSame bool
	}{
		{"same inputs", ItemID(feed, "guid-1", "https://example.com/a", "Title", pub), true},
		{"guid wins over link, title and date", ItemID(feed, "guid-1", "https://example.com/b", "Other", pub.Add(time.Hour)), true},
		{"guid is trimmed", ItemID(feed, " guid-1\n", "", "", time.Time{}), true},
		{"other feed", ItemID("https://other.example/feed", "guid-1", "https://example.com/a", "Title", pub), false},
		{"other guid", ItemID(feed, "guid-2", "https://example.com/a", "Title", pub), false},
		{"guid text equal to a link key", ItemID(feed, "", "guid-1", "Title", pub), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := tt.id == ref; same != tt.wantSame {
				t.Errorf("got same=%v (%s vs %s), want %v", same, tt.id, ref, tt.wantSame)
			}
		})
	}

	t.Run("link then title and date", func(t *testing.T) {
		a := ItemID(feed, "", "https://example.com/a", "T", pub)
		if a != ItemID(feed, "", "https://example.com/a", "Changed title", pub.Add(time.Hour)) {
			t.Errorf("got different IDs for the same link, want the link to decide")
		}
		b := ItemID(feed, "", "", "T", pub)
		if b == ItemID(feed, "", "", "T", pub.Add(time.Second)) || b == ItemID(feed, "", "", "U", pub) {
			t.Errorf("got equal IDs for different title/date, want them to differ")
		}
		plus1 := pub.In(time.FixedZone("CET", 3600))
		if b != ItemID(feed, "", "", "T", plus1) {
			t.Errorf("got different IDs for the same instant in two zones, want equal")
		}
	})
}

func TestParseLooseDate(t *testing.T) {
	tests := []struct {
		raw  string
		want time.Time
		ok   bool
	}{
		{"Jul 24, 2025 05:47:25+0000", time.Date(2025, 7, 24, 5, 47, 25, 0, time.UTC), true},
		{"Jul 23, 2025 00:00:00-0500", time.Date(2025, 7, 23, 5, 0, 0, 0, time.UTC), true},
		{"2025-07-02 13:14:54", time.Date(2025, 7, 2, 13, 14, 54, 0, time.UTC), true},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, ok := parseLooseDate(tt.raw)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("parseLooseDate(%q) = %v, %v; want %v, %v", tt.raw, got, ok, tt.want, tt.ok)
			}
		})
	}
}
