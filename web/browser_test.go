package web

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium; "" when it is not installed.
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// artifactDir is where screenshots go: $ACCORDWATCH_ARTIFACTS when set
// (CI uploads it), else the test's temp dir.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("ACCORDWATCH_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowser drives the real pages in headless Chromium: search, facet,
// item page, the hostile item, and screenshots at laptop and phone width.
func TestBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("chromium not found at /usr/bin/chromium or in PATH; install it (apt-get install -y chromium) to run the browser test")
	}
	srv := newPageServer(t, "")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// Any JavaScript dialog (alert, confirm) means feed text ran as script.
	var dialogs atomic.Int32
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}))
	defer cancelCtx()
	// Start the browser on the long-lived context (a timeout on the first
	// Run would end the browser), then bound the whole test.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dir := artifactDir(t)

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// navigate runs actions that load a new page and waits for it.
	navigate := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, actions...)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if resp.Status != 200 {
			t.Fatalf("%s: got HTTP %d, want 200", step, resp.Status)
		}
	}
	eval := func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	titles := func() []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.hit h2 a')].map(a => a.textContent)`))
		if err != nil {
			t.Fatalf("read hit titles: %v", err)
		}
		slices.Sort(v)
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}

	// 1. The front page lists the newest items.
	navigate("open /", chromedp.Navigate(srv.URL+"/"))
	if got := len(titles()); got != len(pageItems()) {
		t.Errorf("front page: got %d hits, want %d", got, len(pageItems()))
	}

	// 2. Type a query and submit the form.
	navigate("search", chromedp.SendKeys(chromedp.CSS("#q"), "espionage"), chromedp.Submit(chromedp.CSS("#q")))
	want := []string{
		"Microsoft disrupts APT28 phishing campaign against European ministries",
		"Volt Typhoon prepositioned in US water utilities, CISA and Microsoft warn",
	}
	if got := titles(); !slices.Equal(got, want) {
		t.Errorf("after typing espionage: got hits %q, want %q", got, want)
	}
	if got := eval(`document.querySelectorAll('.hit mark').length > 0`); got != true {
		t.Error("got no highlighted snippet")
	}
	shot("search-laptop.png")

	// 3. Click the Russia facet: results narrow and the box shows the clause.
	navigate("click facet", chromedp.Click(`//aside//h2[text()="State"]/following-sibling::ul//a[starts-with(normalize-space(.), "Russia")]`))
	if got := titles(); !slices.Equal(got, want[:1]) {
		t.Errorf("after the Russia facet: got hits %q, want %q", got, want[:1])
	}
	q, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#q")))
	if err != nil {
		t.Fatal(err)
	}
	if wantQ := `espionage state:"Russia"`; q != wantQ {
		t.Errorf("query box after the facet: got %q, want %q", q, wantQ)
	}
	if got := eval(`location.search`).(string); !strings.Contains(got, url.QueryEscape(`state:"Russia"`)) {
		t.Errorf("URL after the facet: got %q, want the clause in it", got)
	}

	// 4. Open the result: the item page shows the evidence table.
	navigate("open item", chromedp.Click(chromedp.CSS(".hit h2 a")))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll('table.evidence tbody tr')].map(r => [...r.cells].map(c => c.textContent))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || !slices.ContainsFunc(rows, func(r []string) bool {
		return slices.Equal(r, []string{"state:Russia", "Russian espionage group APT28", "summary@19", "actor-state"})
	}) {
		t.Errorf("evidence table: got %q, want 6 rows including state:Russia", rows)
	}
	shot("item-laptop.png")

	// 5. The hostile item renders inert.
	navigate("open hostile item", chromedp.Navigate(srv.URL+"/items/hostile"))
	checks := []struct{ name, expr string }{
		{"no script elements", `document.querySelectorAll('script').length === 0`},
		{"no img from the title", `document.querySelectorAll('img').length === 0`},
		{"title shown literally", `document.querySelector('h1').textContent === ` + jsString(hostileTitle)},
		{"javascript: link is not a link", `![...document.querySelectorAll('a[href]')].some(a => a.protocol === 'javascript:')`},
		{"javascript: link shown as text", `document.querySelector('.source.inert').textContent === ` + jsString(hostileLink)},
		{"mention shown literally", `document.querySelector('.text').textContent.startsWith('<!channel>')`},
	}
	for _, c := range checks {
		if got := eval(c.expr); got != true {
			t.Errorf("hostile item: %s: got %v", c.name, got)
		}
	}

	// 6. The hostile item in a results list, at phone width.
	run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	navigate("search cisco", chromedp.Navigate(srv.URL+"/?q="+url.QueryEscape("signatory:cisco")))
	if got := eval(`document.querySelectorAll('script').length === 0 && [...document.querySelectorAll('.hit h2 a')].some(a => a.textContent === ` + jsString(hostileTitle) + `)`); got != true {
		t.Error("results with the hostile item: got a script element or a mangled title")
	}
	// Below 800px the facets sit under the results.
	if got := eval(`document.querySelector('aside.facets').getBoundingClientRect().top > document.querySelector('ol.hits').getBoundingClientRect().bottom`); got != true {
		t.Error("phone: facets are not below the results")
	}
	if got := eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != true {
		t.Error("phone: the page scrolls sideways")
	}
	shot("search-phone.png")

	if n := dialogs.Load(); n != 0 {
		t.Errorf("got %d JavaScript dialogs, want none", n)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
