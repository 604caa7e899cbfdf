package feeds

import (
	"net/url"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "  plain   text\there ", "plain text here"},
		{"inline tags", "AT&T <b>breach</b> &amp; <i>x</i>", "AT&T breach & x"},
		{"slack mention stays decoded", "&lt;!channel&gt; hello &lt;@U123&gt;", "<!channel> hello <@U123>"},
		{"numeric entities", "Caf&#233; &#x2014; &quot;q&quot; &nbsp;x", "Café — \"q\" x"},
		{"script dropped", "before<script>var x = '<p>no</p>';</script>after", "beforeafter"},
		{"style dropped", "<style>p { color: red }</style><p>text</p>", "text"},
		{"nested svg dropped", "a<svg><g><svg><text>no</text></svg>still no</g></svg>b", "ab"},
		{"self-closing script does not eat the rest", "a<script src=x.js />b", "ab"},
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
		{"br and div", "line<br>next<br/>third<div>block</div>", "line\nnext\nthird\nblock"},
		{"list", "<ul><li>a</li><li>b</li></ul>after", "a\nb\n\nafter"},
		{"headings", "<h2>Summary</h2>Body", "Summary\n\nBody"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"image alt", `see <img src="x.png" alt="diagram"> here`, "see diagram here"},
		{"comments dropped", "a<!-- secret -->b", "ab"},
		{"whitespace between blocks collapsed", "<p>  a  </p>\n\n\n<p>\n b \n</p>", "a\n\nb"},
		{"plain text keeps its line breaks", "one\n  two\n\n\n\nthree", "one\ntwo\n\nthree"},
		{"plain text with entities", "Tom &amp; Jerry\nNext", "Tom & Jerry\nNext"},
		{"source newlines in html are spaces", "<p>one\ntwo</p>", "one two"},
		{"pre keeps line breaks", "<pre>a\nb</pre>c", "a\nb\n\nc"},
		{"control characters dropped", "a\x00b\x1bc\u200bd", "abcd"},
		{"invalid utf-8 repaired", "bad \xff byte", "bad \uFFFD byte"},
		{"unclosed tag", "text <b>bold", "text bold"},
		{"escaped html shown as text", "&lt;p&gt;x&lt;/p&gt;", "<p>x</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTMLToText(tt.in); got != tt.want {
				t.Errorf("HTMLToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDiscoverFeed(t *testing.T) {
	base, _ := url.Parse("https://blog.example.com/posts/")
	tests := []struct {
		name, page, want string
	}{
		{"rss", `<head><link rel="alternate" type="application/rss+xml" href="feed.xml"></head>`, "https://blog.example.com/posts/feed.xml"},
		{"json feed", `<head><link rel=alternate type=application/feed+json href=/feed.json></head>`, "https://blog.example.com/feed.json"},
		{"first feed wins", `<link rel="alternate" type="text/html" href="/fr/"><link rel="alternate" type="application/atom+xml" href="/a.xml"><link rel="alternate" type="application/rss+xml" href="/r.xml">`, "https://blog.example.com/a.xml"},
		{"not alternate", `<link rel="stylesheet" type="application/rss+xml" href="/x">`, ""},
		{"javascript href", `<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">`, ""},
		{"none", `<html><body>hi</body></html>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := discoverFeed([]byte(tt.page), base); got != tt.want {
				t.Errorf("discoverFeed = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTitleTextKeepsNonHTMLMarkup(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<!channel> Cisco & <@U024BE7LH> <https://evil.example|click here>", "<!channel> Cisco & <@U024BE7LH> <https://evil.example|click here>"},
		{"AT&T <b>breach</b> hits <i>millions</i>", "AT&T breach hits millions"},
		{"<Company> confirms breach", "<Company> confirms breach"},
		{"Patch <!-- a comment --> now", "Patch now"},
		{"<script>alert(1)</script>Title", "Title"},
		{"Plain &amp; simple", "Plain & simple"},
	}
	for _, tt := range tests {
		if got := TitleText(tt.in); got != tt.want {
			t.Errorf("TitleText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Descriptions are HTML: non-HTML markup there is dropped, as before.
	if got := HTMLToText("<p>a <!channel> b</p>"); got != "a b" {
		t.Errorf("HTMLToText dropped nothing: %q", got)
	}
}
