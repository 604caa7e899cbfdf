package article

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckShape(t *testing.T) {
	tests := []struct {
		name string
		page string
		want error
	}{
		{"plain", "<html><body><p>one<p>two<p>three</body></html>", nil},
		{"unclosed paragraphs", "<div>" + strings.Repeat("<p><b>x</b> y", 5000) + "</div>", nil},
		{"deep nesting", strings.Repeat("<div>", maxDepth+1), ErrTooComplex},
		{"many elements", strings.Repeat("<br>", maxElements+1), ErrTooComplex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.page))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestExtractRejects(t *testing.T) {
	x := New(Options{})
	paywall := `<html><head><title>Story</title></head><body><h1>Story</h1>
<p>Subscribe to continue reading.</p><p>Already a subscriber? Sign in.</p></body></html>`
	if _, err := x.Extract([]byte(paywall), nil); !errors.Is(err, ErrNotArticle) {
		t.Errorf("paywall: got %v, want ErrNotArticle", err)
	}
	bomb := strings.Repeat("<div>", 100_000) + "text"
	if _, err := x.Extract([]byte(bomb), nil); !errors.Is(err, ErrTooComplex) {
		t.Errorf("bomb: got %v, want ErrTooComplex", err)
	}
}

func TestExtractArticle(t *testing.T) {
	para := strings.Repeat("The quick brown fox reported the breach to the national CERT on Monday, officials said. ", 4)
	page := `<html><head><title>Breach</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Breach</h1><p>` + para + `</p><p>` + para + `</p><p>Microsoft tied the intrusion to APT28, a unit of the GRU. ` + para + `</p></article>
<footer>Copyright &copy; Example</footer><script>var x = "<p>not text</p>";</script></body></html>`
	art, err := New(Options{}).Extract([]byte(page), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(art.Text, "Microsoft tied the intrusion to APT28") {
		t.Errorf("text lacks paragraph three: %q", art.Text)
	}
	for _, bad := range []string{"<", "not text", "Copyright"} {
		if strings.Contains(art.Text, bad) {
			t.Errorf("text contains %q: %q", bad, art.Text)
		}
	}
}

func TestClean(t *testing.T) {
	got := Clean("  a \t b\n\n\n\n c\x00d \n e\xff")
	want := "a b\n\nc d\ne\uFFFD"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
