package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/article"
)

// articleErr is err as a *FetchError, or the test fails.
func articleErr(t *testing.T, text string, err error) *FetchError {
	t.Helper()
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("got %q, %v; want a *FetchError", text, err)
	}
	return fe
}

// A public article link that redirects to an internal address is refused
// at dial time, like a feed's redirect: no request reaches the internal
// server. 127.0.0.2 stands for the public site (see guardedFetcher).
func TestArticleRedirectToPrivateRefused(t *testing.T) {
	noProxy(t)
	var internalHits atomic.Int32
	internal := serve(t, func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, articlePage("Internal wiki: the admin password is hunter2."))
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/story", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, articlePage("Microsoft tied the attack to the GRU."))
	})
	for _, code := range []int{http.StatusFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect} {
		mux.HandleFunc("/r"+strconv.Itoa(code), func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, internal.URL+"/wiki", code)
		})
	}
	public := publicLoopback(t, mux)
	f := guardedFetcher()
	f.opts.Articles = article.New(article.Options{})
	feed := accordwatch.Feed{URL: public.URL + "/feed"}

	if text, err := f.Article(context.Background(), feed, public.URL+"/story"); err != nil || !strings.Contains(text, "GRU") {
		t.Fatalf("public page: got %q, %v; want its article", text, err)
	}
	for _, code := range []int{http.StatusFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			text, err := f.Article(context.Background(), feed, fmt.Sprintf("%s/r%d", public.URL, code))
			fe := articleErr(t, text, err)
			if want := refusedReason("127.0.0.1", "loopback"); fe.Kind != "refused" || fe.Reason() != want {
				t.Errorf("got kind %q reason %q, want refused %q", fe.Kind, fe.Reason(), want)
			}
		})
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("got %d requests on the internal server, want none", n)
	}
}

// A PDF, an image or any other non-page answer is refused on its
// Content-Type before the body is read. The server sends the first bytes
// and then holds the body open until the client goes away: reading the
// body would end in a timeout instead of "not-html".
func TestArticleRefusedOnContentType(t *testing.T) {
	tests := []struct {
		contentType, magic, want string
	}{
		{"application/pdf", "%PDF-1.7\n", "not a web page (application/pdf)"},
		{"image/png", "\x89PNG\r\n\x1a\n", "not a web page (image/png)"},
		{"image/jpeg; charset=binary", "\xff\xd8\xff\xe0", "not a web page (image/jpeg)"},
		{"application/zip", "PK\x03\x04", "not a web page (application/zip)"},
	}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.Header().Set("Content-Type", tests[i].contentType)
		w.Write([]byte(tests[i].magic + strings.Repeat("\x00", 64<<10)))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	f := newArticleFetcher(Options{Timeout: 5 * time.Second})
	for i, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			text, err := f.Article(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, fmt.Sprintf("%s/%d", srv.URL, i))
			fe := articleErr(t, text, err)
			if fe.Kind != "not-html" || fe.Reason() != tt.want {
				t.Errorf("got kind %q reason %q, want not-html %q", fe.Kind, fe.Reason(), tt.want)
			}
		})
	}
}

// A 50 MB page is cut off at the body-size cap (10 MiB by default),
// whether it says its length up front or streams without one, and the
// fetch stops reading: the server cannot push the whole 50 MB.
func TestArticleFiftyMegabytePage(t *testing.T) {
	const size = 50 << 20
	var written atomic.Int64
	chunk := []byte(strings.Repeat("<p>word word word word word</p>\n", 1<<10)) // 32 KiB
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/declared" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		w.Write([]byte("<html><body>"))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	})
	f := newArticleFetcher(Options{Timeout: time.Minute})
	for _, path := range []string{"/declared", "/streamed"} {
		t.Run(path, func(t *testing.T) {
			written.Store(0)
			text, err := f.Article(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, srv.URL+path)
			fe := articleErr(t, text, err)
			if fe.Kind != "too-large" || fe.Reason() != "response larger than 10 MiB" {
				t.Errorf("got kind %q reason %q, want too-large", fe.Kind, fe.Reason())
			}
			// Socket buffers take a few MiB more than was read; the rest
			// of the 50 MB is never sent.
			if n := written.Load(); n >= size/2 {
				t.Errorf("server wrote %d bytes, want the fetch to stop reading near the cap", n)
			}
		})
	}
}

// Pages in legacy encodings are decoded before extraction, whether the
// charset comes in the header, in a <meta> or not at all (Windows-1252,
// as browsers assume).
func TestArticleLegacyEncodings(t *testing.T) {
	tests := []struct {
		name, contentType, meta, third string
		encode                         func(string) (string, error)
	}{
		{"windows-1252 without any label", "text/html", "",
			"Der Angriff auf die Stadtwerke in Köln wurde dem russischen Geheimdienst zugeschrieben.",
			charmap.Windows1252.NewEncoder().String},
		{"koi8-r in the header", "text/html; charset=koi8-r", "",
			"Атаку на энергосеть приписали группе Sandworm, заявили в Microsoft.",
			charmap.KOI8R.NewEncoder().String},
		{"windows-1251 in a meta", "text/html", `<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">`,
			"Атаку на энергосеть приписали группе Sandworm, заявили в Microsoft.",
			charmap.Windows1251.NewEncoder().String},
		{"shift_jis in a meta", "text/html", `<meta charset="shift_jis">`,
			"攻撃はラザルスによるものとマイクロソフトが発表した。",
			japanese.ShiftJIS.NewEncoder().String},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := strings.Replace(articlePage(tt.third), `<meta charset="utf-8">`, tt.meta, 1)
			raw, err := tt.encode(page)
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write([]byte(raw))
			})
			text, err := newArticleFetcher(Options{}).Article(context.Background(), accordwatch.Feed{URL: srv.URL + "/feed"}, srv.URL+"/story")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tt.third) {
				t.Errorf("text not decoded: %q", text)
			}
		})
	}
}
