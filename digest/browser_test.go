package digest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// TestHTMLInChromium renders the fixture week's page in headless Chromium,
// checks that the SVG charts have one bar per principle and per state and
// one point per day, and saves a screenshot as a test artifact.
func TestHTMLInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium not installed at %s (CI installs it): %v", chromiumPath, err)
	}
	r, _ := buildFixture(t, "https://accord.example.org")
	var page bytes.Buffer
	if err := r.HTML(&page); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.WindowSize(1100, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible("#chart-daily")); err != nil {
		t.Fatalf("load the page: %v", err)
	}
	counts := []struct {
		what string
		js   string
		want int
	}{
		{"principle bars", `document.querySelectorAll("svg#chart-principle rect.bar").length`, len(r.ByPrinciple)},
		{"state bars", `document.querySelectorAll("svg#chart-state rect.bar").length`, len(r.ByState)},
		{"daily points", `document.querySelectorAll("svg#chart-daily circle").length`, len(r.Daily)},
		{"daily line", `document.querySelectorAll("svg#chart-daily polyline").length`, 1},
		{"scripts", `document.scripts.length`, 0},
		// The longest principle bar (no-offense, 4) is drawn widest.
		{"widest principle bar", `Math.round(Math.max(...[...document.querySelectorAll("svg#chart-principle rect.bar")].map(b => b.getBBox().width)))`, 240},
	}
	for _, c := range counts {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[int](c.js))
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, got, c.want)
		}
	}
	if len(r.ByPrinciple) != 4 || len(r.ByState) != 3 || len(r.Daily) != 7 {
		t.Fatalf("fixture: got %d principles, %d states, %d days, want 4, 3, 7", len(r.ByPrinciple), len(r.ByState), len(r.Daily))
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "Tech Accord weekly digest · 2026-W47" {
		t.Errorf("title: got %q, %v", title, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("ACCORDWATCH_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "digest-2026-W47.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
