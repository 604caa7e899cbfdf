package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accordwatch/accordwatch"
)

func TestFeedsImportRealOPMLThenExport(t *testing.T) {
	const opml = "../../../shared/data/opml/CyberSecurityRSS.opml"
	if _, err := os.Stat(opml); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	cfg := writeConfig(t, t.TempDir(), "data_dir: data\n")
	code, out, errOut := run(t, nil, "", "feeds", "import", opml, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1278 feeds in the file; imported 1263, 0 already known, 15 skipped") || !strings.Contains(out, "duplicate (15)") || !strings.Contains(out, "line ") {
		t.Errorf("import report:\n%s", out)
	}
	// A second import changes nothing and says so.
	code, out, _ = run(t, nil, "", "feeds", "import", opml, "--config", cfg)
	if code != 0 || !strings.Contains(out, "imported 0, 1263 already known") {
		t.Errorf("re-import: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "", "feeds", "--json", "--config", cfg)
	var fl struct {
		Feeds []accordwatch.FeedHealth `json:"feeds"`
	}
	if err := json.Unmarshal([]byte(out), &fl); code != 0 || err != nil || len(fl.Feeds) != 1263 {
		t.Fatalf("feeds --json: exit %d, err %v, %d feeds", code, err, len(fl.Feeds))
	}
	tagged := 0
	for _, f := range fl.Feeds {
		if len(f.Feed.Tags) > 0 && f.Feed.Source == "opml" {
			tagged++
		}
	}
	if tagged < 1000 {
		t.Errorf("only %d imported feeds carry their category as a tag", tagged)
	}
	// Export and import into a fresh data dir: the same feeds.
	exported := filepath.Join(t.TempDir(), "out.opml")
	if code, _, errOut := run(t, nil, "", "feeds", "export", "--out", exported, "--config", cfg); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	cfg2 := writeConfig(t, t.TempDir(), "data_dir: data\n")
	code, out, _ = run(t, nil, "", "feeds", "import", exported, "--config", cfg2)
	if code != 0 || !strings.Contains(out, "imported 1263,") {
		t.Errorf("round trip: exit %d\n%s", code, out)
	}
}

func TestFeedsAddDiscoversAndRemove(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><link rel="alternate" type="application/rss+xml" href="%s/news.rss"></head><body>Blog</body></html>`, srv.URL)
		case "/news.rss":
			body, _ := os.ReadFile("testdata/news.rss")
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg := writeConfig(t, t.TempDir(), "data_dir: data\nfetch:\n  allow_private_networks: true\n")
	code, out, errOut := run(t, nil, "", "feeds", "add", srv.URL+"/", "--tag", "vendor", "--config", cfg)
	if code != 0 || !strings.Contains(out, `added "Test Security Newsroom" `+srv.URL+"/news.rss") {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run(t, nil, "", "feeds", "add", srv.URL+"/news.rss", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "already registered") {
		t.Errorf("adding twice: exit %d, %q", code, errOut)
	}
	code, _, errOut = run(t, nil, "", "feeds", "add", srv.URL+"/nothing-here", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "404") {
		t.Errorf("no feed: exit %d, %q", code, errOut)
	}
	// run --once polls registered feeds too.
	code, out, _ = run(t, nil, "", "run", "--once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "Test Security Newsroom") {
		t.Errorf("run --once did not poll the added feed:\n%s", out)
	}
	code, out, _ = run(t, nil, "", "feeds", "remove", srv.URL+"/news.rss", "--config", cfg)
	if code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("remove: exit %d %s", code, out)
	}
	code, _, errOut = run(t, nil, "", "run", "--once", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "no feeds to poll") {
		t.Errorf("after remove: exit %d, %q", code, errOut)
	}
}
