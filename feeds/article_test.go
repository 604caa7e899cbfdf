package feeds

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/article"
)

// articlePage is a news page whose story names its attribution only in
// paragraph three, wrapped in the navigation and footer of a real site.
func articlePage(third string) string {
	para := strings.Repeat("The company said the intrusion was detected by its security team and contained within hours, and that customers had been told. ", 3)
	return `<!doctype html><html><head><meta charset="utf-8"><title>Breach at a supplier</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav>
<article><h1>Breach at a supplier</h1>
<p>` + para + `</p>
<p>` + para + `</p>
<p>` + third + ` ` + para + `</p>
</article><footer>Subscribe to our newsletter. Copyright Example News.</footer>
<script>var tracker = "<p>not text</p>";</script></body></html>`
}

func newArticleFetcher(opts Options) *Fetcher {
	opts.AllowPrivateNetworks = true
	opts.Articles = article.New(article.Options{})
	return New(opts)
}

func TestArticle(t *testing.T) {
	var gotUA, gotAuth, gotAccept string
	mux := http.NewServeMux()
	mux.HandleFunc("/story", func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAuth, gotAccept = r.UserAgent(), r.Header.Get("Authorization"), r.Header.Get("Accept")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(articlePage("Microsoft tied the attack to the GRU.")))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	other := httptest.NewServer(mux) // another origin: another port
	defer other.Close()

	f := newArticleFetcher(Options{})
	feed := accordwatch.Feed{URL: srv.URL + "/feed", UserAgent: "accordwatch-test/1", Headers: map[string]string{"Authorization": "Bearer secret"}}

	text, err := f.Article(context.Background(), feed, srv.URL+"/story")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Microsoft tied the attack to the GRU.") {
		t.Errorf("text lacks paragraph three: %q", text)
	}
	for _, bad := range []string{"<", "not text", "Home"} {
		if strings.Contains(text, bad) {
			t.Errorf("text holds %q: %q", bad, text)
		}
	}
	if gotUA != "accordwatch-test/1" {
		t.Errorf("User-Agent: got %q, want the feed's", gotUA)
	}
	if gotAuth != "Bearer secret" {
		t.Errorf("same origin: got Authorization %q, want the feed's", gotAuth)
	}
	if !strings.HasPrefix(gotAccept, "text/html") {
		t.Errorf("Accept: got %q, want text/html first", gotAccept)
	}

	if _, err := f.Article(context.Background(), feed, other.URL+"/story"); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "" {
		t.Errorf("other origin: got Authorization %q, want none", gotAuth)
	}
}

func TestArticleFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body><p>"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never finishes
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body><p>"))
		chunk := bytes.Repeat([]byte("word "), 1<<12)
		for range 200 { // 4 MB, over the 1 MB cap below
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/paywall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><body><h1>Breach at a supplier</h1><p>Subscribe to continue reading.</p><p>Already a subscriber? Sign in.</p></body></html>`))
	})
	mux.HandleFunc("/report.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.7 ..."))
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(strings.Repeat("<div>", 200_000)))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	f := newArticleFetcher(Options{Timeout: 300 * time.Millisecond, MaxBytes: 1 << 20})
	feed := accordwatch.Feed{URL: srv.URL + "/feed"}
	tests := []struct {
		path, kind, reason string
	}{
		{"/missing", "http", "HTTP 404 Not Found"},
		{"/slow", "timeout", "timeout"},
		{"/huge", "too-large", "response larger than 1 MiB"},
		{"/paywall", "not-an-article", "not an article"},
		{"/report.pdf", "not-html", "not a web page (application/pdf)"},
		{"/bomb", "not-an-article", "page structure over a limit"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			text, err := f.Article(context.Background(), feed, srv.URL+tt.path)
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("got %q, %v; want a *FetchError", text, err)
			}
			if fe.Kind != tt.kind || !strings.Contains(fe.Reason(), tt.reason) {
				t.Errorf("got kind %q reason %q, want %q containing %q", fe.Kind, fe.Reason(), tt.kind, tt.reason)
			}
		})
	}

	for _, link := range []string{"javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/a", ""} {
		_, err := f.Article(context.Background(), feed, link)
		var fe *FetchError
		if !errors.As(err, &fe) || fe.Kind != "unsupported" {
			t.Errorf("link %q: got %v, want Kind unsupported", link, err)
		}
	}
}

// The guard covers article pages and their redirects like feeds: a
// public-looking link that lands on loopback is refused at dial time.
func TestArticlePrivateNetworkRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(articlePage("x")))
	}))
	defer srv.Close()
	f := New(Options{Articles: article.New(article.Options{})})
	_, err := f.Article(context.Background(), accordwatch.Feed{URL: "https://news.example/feed"}, srv.URL+"/story")
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Kind != "refused" {
		t.Errorf("got %v, want Kind refused", err)
	}
}

func TestArticleLegacyCharset(t *testing.T) {
	page := strings.Replace(articlePage("Der Angriff wurde dem russischen Geheimdienst zugeschrieben, sagte ein Sprecher in Zürich."), `<meta charset="utf-8">`, `<meta charset="iso-8859-1">`, 1)
	latin1, err := charmap.ISO8859_1.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, contentType := range []string{"text/html", "text/html; charset=iso-8859-1"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write([]byte(latin1))
		}))
		text, err := newArticleFetcher(Options{}).Article(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, srv.URL+"/story")
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "in Zürich.") {
			t.Errorf("%s: text not decoded: %q", contentType, text)
		}
	}
}

func TestOPMLArticleSetting(t *testing.T) {
	list := []accordwatch.Feed{
		{Name: "A", URL: "https://a.example/feed", Article: accordwatch.ArticleAlways},
		{Name: "B", URL: "https://b.example/feed"},
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "t", list); err != nil {
		t.Fatal(err)
	}
	got, _, err := ParseOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Article != accordwatch.ArticleAlways || got[1].Article != "" {
		t.Errorf("round trip: got %+v", got)
	}
	in := `<opml version="2.0"><body><outline text="x" xmlUrl="https://x.example/f" article="NEVER"/><outline text="y" xmlUrl="https://y.example/f" article="often"/></body></opml>`
	got, _, err = ParseOPML(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Article != accordwatch.ArticleNever || got[1].Article != "" {
		t.Errorf("import: got %q and %q, want never and the default", got[0].Article, got[1].Article)
	}
}
