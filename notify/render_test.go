package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/accordwatch/accordwatch"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"AT&T", "AT&amp;T"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<@U123> <https://evil.example|click>", "&lt;@U123&gt; &lt;https://evil.example|click&gt;"},
		// Already-escaped input is escaped again: feed text arrives decoded,
		// so an entity in it is literal text the reader should see.
		{"&amp;", "&amp;amp;"},
		{`it's "quoted" *bold*`, `it's "quoted" *bold*`},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short unchanged", "abc", 5, "abc"},
		{"exact unchanged", "abcde", 5, "abcde"},
		{"cut plain", "abcdef", 5, "abcd…"},
		{"runes not bytes", "ééééééé", 4, "ééé…"},
		{"emoji", "🔴🔴🔴🔴", 3, "🔴🔴…"},
		{"cut inside &amp; backs off", "ab&amp;cd", 5, "ab…"},
		{"cut inside &lt; backs off", "a&lt;bcdef", 4, "a…"},
		{"cut right after entity keeps it", "a&gt;bcdef", 6, "a&gt;…"},
		{"cut right before entity", "abc&amp;", 4, "abc…"},
		{"entity only", "&amp;&amp;", 3, "…"},
		{"zero", "abc", 0, ""},
		{"one", "abc", 1, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fit(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("fit(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if c := utf8.RuneCountInString(got); c > tt.n {
				t.Errorf("fit(%q, %d) has %d runes, want ≤ %d", tt.in, tt.n, c, tt.n)
			}
		})
	}
}

// TestFitNeverCutsEntities truncates escaped hostile text at every length.
func TestFitNeverCutsEntities(t *testing.T) {
	s := Escape("a<b&c>d<<&&>>é<!channel>")
	for n := 0; n <= utf8.RuneCountInString(s)+1; n++ {
		got := fit(s, n)
		if c := utf8.RuneCountInString(got); c > n {
			t.Fatalf("fit(_, %d) has %d runes", n, c)
		}
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("fit(_, %d) = %q contains a raw < or >", n, got)
		}
		body := strings.TrimSuffix(got, ellipsis)
		for i := 0; i < len(body); i++ {
			if body[i] != '&' {
				continue
			}
			rest := body[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("fit(_, %d) = %q cuts an entity at byte %d", n, got, i)
			}
		}
	}
}

func TestSlackURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://example.com/a", "https://example.com/a"},
		{"http://example.com/", "http://example.com/"},
		{"HTTPS://example.com/x", "HTTPS://example.com/x"},
		{"https://example.com/a|b", "https://example.com/a%7Cb"},
		{"https://example.com/?q=<x>", "https://example.com/?q=%3Cx%3E"},
		{"https://example.com/?a=1&b=2", "https://example.com/?a=1&amp;b=2"},
		{"https://example.com/a b", "https://example.com/a%20b"},
		{"javascript:alert(1)", ""},
		{"JavaScript:alert(1)", ""},
		{"data:text/html,<b>x</b>", ""},
		{"ftp://example.com/file", ""},
		{"https:///no-host", ""},
		{"/relative/path", ""},
		{"", ""},
		{"https://example.com/" + strings.Repeat("a", maxLinkURL), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := slackURL(tt.in); got != tt.want {
				t.Errorf("slackURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStateLines(t *testing.T) {
	tests := []struct {
		name string
		tags accordwatch.Tags
		want string
	}{
		{"none", accordwatch.Tags{}, ""},
		{"state-linked only", accordwatch.Tags{StateLinked: true}, "state-linked"},
		{"attributed by", accordwatch.Tags{
			States:      []string{"Russia", "China"},
			Attribution: []accordwatch.Attribution{{State: "China", Strength: "suspected"}, {State: "Russia", Strength: "attributed", By: "Microsoft"}},
		}, "Russia (attributed by Microsoft)|China (suspected)"},
		{"unnamed state", accordwatch.Tags{
			StateLinked: true,
			Attribution: []accordwatch.Attribution{{Strength: "linked", By: "CISA"}},
		}, "unnamed state (linked by CISA)"},
		{"state without attribution", accordwatch.Tags{States: []string{"Iran"}}, "Iran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(stateLines(tt.tags), "|"); got != tt.want {
				t.Errorf("stateLines = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRenderLimits renders edge-case items and checks every text object
// against Slack's limits and the escaping invariants.
func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("A&B<C>", 400)
	tests := []struct {
		name        string
		item        accordwatch.Item
		wantHeader  string // prefix of the header text
		wantSection string // prefix of the section text
	}{
		{"long hostile title", accordwatch.Item{Title: long, Link: "https://example.com/x", Text: long, Tags: accordwatch.Tags{Severity: 55}},
			"🟠 55 · A&amp;B&lt;C&gt;", "<https://example.com/x|A&amp;B&lt;C&gt;"},
		{"empty title", accordwatch.Item{Link: "https://example.com/x", Tags: accordwatch.Tags{Severity: 30}},
			"🟡 30 · " + untitled, "<https://example.com/x|" + untitled + ">"},
		{"no link", accordwatch.Item{Title: "AT&T breach"}, "⚪ 0 · AT&amp;T breach", "AT&amp;T breach"},
		{"link with pipe and brackets", accordwatch.Item{Title: "t", Link: "https://example.com/a|b?q=<x>"},
			"⚪ 0 · t", "<https://example.com/a%7Cb?q=%3Cx%3E|t>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := render(accordwatch.Alert{Rule: "r"}, tt.item)
			raw, err := json.Marshal(msg.Blocks)
			if err != nil {
				t.Fatal(err)
			}
			var blocks []any
			if err := json.Unmarshal(raw, &blocks); err != nil {
				t.Fatal(err)
			}
			checkBlocks(t, msg.Text, blocks)
			objs := textObjects(blocks, "")
			if got := objs[0].text; !strings.HasPrefix(got, tt.wantHeader) {
				t.Errorf("header = %q, want prefix %q", got, tt.wantHeader)
			}
			if got := objs[1].text; !strings.HasPrefix(got, tt.wantSection) {
				t.Errorf("section = %q, want prefix %q", got, tt.wantSection)
			}
		})
	}
}
