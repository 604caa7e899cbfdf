package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch"
)

// fakeClock is an injectable clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const sessionToken = "s3cret-t0ken"

// sessionApp is Handler with a token, a fake clock and short sessions.
type sessionApp struct {
	h     http.Handler
	clock *fakeClock
}

func newSessionApp(t *testing.T, o Options) *sessionApp {
	t.Helper()
	ix, store := newPageIndex(t)
	c := &fakeClock{t: fixedNow}
	o.Searcher, o.Items, o.Token, o.Now = ix, store, sessionToken, c.Now
	return &sessionApp{h: Handler(o), clock: c}
}

// login posts the sign-in form from remote and returns the answer and the
// session cookie it set, if any.
func (a *sessionApp) login(token, remote string) (*httptest.ResponseRecorder, string) {
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"token": {token}, "next": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.MaxAge > 0 {
			return rec, c.Value
		}
	}
	return rec, ""
}

// page fetches the search page with a session cookie and returns the status.
func (a *sessionApp) page(cookie string) int {
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec.Code
}

func (a *sessionApp) logout(cookie string) int {
	req := httptest.NewRequest("POST", "/logout", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec.Code
}

func mustLogin(t *testing.T, a *sessionApp, remote string) string {
	t.Helper()
	rec, cookie := a.login(sessionToken, remote)
	if rec.Code != http.StatusSeeOther || cookie == "" {
		t.Fatalf("sign-in: got %d and cookie %q, want 303 and a cookie", rec.Code, cookie)
	}
	return cookie
}

func TestSessionEndsAtLogout(t *testing.T) {
	a := newSessionApp(t, Options{})
	cookie := mustLogin(t, a, "192.0.2.1:1000")
	other := mustLogin(t, a, "192.0.2.1:1000")
	if got := a.page(cookie); got != 200 {
		t.Fatalf("signed in: got %d, want 200", got)
	}
	if got := a.logout(cookie); got != http.StatusSeeOther {
		t.Fatalf("sign-out: got %d, want 303", got)
	}
	// A copy of the cookie kept from before the sign-out is dead too.
	if got := a.page(cookie); got != http.StatusUnauthorized {
		t.Errorf("cookie from before sign-out: got %d, want 401", got)
	}
	if got := a.page(other); got != 200 {
		t.Errorf("another session: got %d, want 200 (sign-out ends only its own)", got)
	}
}

func TestSessionExpires(t *testing.T) {
	a := newSessionApp(t, Options{SessionTTL: time.Hour})
	rec, cookie := a.login(sessionToken, "192.0.2.1:1000")
	if cookie == "" {
		t.Fatalf("got %d and no cookie", rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.MaxAge != 3600 {
			t.Errorf("got cookie Max-Age %d, want 3600", c.MaxAge)
		}
	}
	a.clock.Advance(time.Hour - time.Second)
	if got := a.page(cookie); got != 200 {
		t.Errorf("just before expiry: got %d, want 200", got)
	}
	// Use does not extend a session: the expiry is absolute.
	a.clock.Advance(time.Second)
	if got := a.page(cookie); got != http.StatusUnauthorized {
		t.Errorf("at expiry: got %d, want 401", got)
	}
}

func TestSessionDefaultTTL(t *testing.T) {
	a := newSessionApp(t, Options{})
	cookie := mustLogin(t, a, "192.0.2.1:1000")
	a.clock.Advance(12*time.Hour - time.Minute)
	if got := a.page(cookie); got != 200 {
		t.Errorf("after 11h59m: got %d, want 200", got)
	}
	a.clock.Advance(time.Minute)
	if got := a.page(cookie); got != http.StatusUnauthorized {
		t.Errorf("after 12h: got %d, want 401", got)
	}
}

func TestSessionIDs(t *testing.T) {
	a := newSessionApp(t, Options{})
	seen := map[string]bool{}
	for range 20 {
		c := mustLogin(t, a, "192.0.2.1:1000")
		if len(c) != 43 { // 32 bytes, base64url without padding
			t.Errorf("got a %d-character session id %q, want 43", len(c), c)
		}
		if strings.Contains(c, sessionToken) || seen[c] {
			t.Errorf("got session id %q: carries the token or repeats", c)
		}
		seen[c] = true
	}
	// The old scheme's cookie was HMAC(token, fixed text): the same for
	// everyone, forever. No value derivable from the token opens a page.
	if got := a.page("forged"); got != http.StatusUnauthorized {
		t.Errorf("forged cookie: got %d, want 401", got)
	}
}

func TestSessionCap(t *testing.T) {
	a := newSessionApp(t, Options{MaxSessions: 2})
	first := mustLogin(t, a, "192.0.2.1:1000")
	a.clock.Advance(time.Second)
	second := mustLogin(t, a, "192.0.2.1:1000")
	a.clock.Advance(time.Second)
	third := mustLogin(t, a, "192.0.2.1:1000")
	if got := a.page(first); got != http.StatusUnauthorized {
		t.Errorf("oldest session past the cap: got %d, want 401", got)
	}
	for _, c := range []string{second, third} {
		if got := a.page(c); got != 200 {
			t.Errorf("newer session: got %d, want 200", got)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	a := newSessionApp(t, Options{})
	const remote = "192.0.2.7:5555"
	for i := 1; i <= loginClientBurst; i++ {
		if rec, _ := a.login("wrong", remote); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token #%d: got %d, want 401", i, rec.Code)
		}
	}
	rec, _ := a.login("wrong", remote)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("6th wrong token within a minute: got %d, want 429", rec.Code)
	}
	ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("got Retry-After %q, want 1–60 seconds", rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "Too many failed sign-ins") {
		t.Errorf("got a page without the reason: %s", rec.Body)
	}
	// The right token does not get through the pause: a guesser would
	// otherwise learn which guess was right from the answer.
	if rec, cookie := a.login(sessionToken, remote); rec.Code != http.StatusTooManyRequests || cookie != "" {
		t.Errorf("right token during the pause: got %d and cookie %q, want 429 and none", rec.Code, cookie)
	}
	// Another address still signs in.
	mustLogin(t, a, "198.51.100.1:1")
	// An IPv6 neighbour in the same /64 shares the budget.
	for range loginClientBurst {
		a.login("wrong", "[2001:db8::1]:1")
	}
	if rec, _ := a.login(sessionToken, "[2001:db8::2]:1"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same /64: got %d, want 429", rec.Code)
	}
	a.clock.Advance(time.Minute)
	mustLogin(t, a, remote)
}

func TestLoginGlobalLimit(t *testing.T) {
	a := newSessionApp(t, Options{})
	// One failure each from many addresses: no single one is over budget.
	for i := range loginGlobalBurst {
		if rec, _ := a.login("wrong", "203.0.113."+strconv.Itoa(i)+":1"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("spray #%d: got %d, want 401", i, rec.Code)
		}
	}
	if rec, _ := a.login("wrong", "198.51.100.99:1"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("spray past the global budget: got %d, want 429", rec.Code)
	}
	a.clock.Advance(time.Minute)
	mustLogin(t, a, "198.51.100.99:1")
}

func TestLoginSuccessIsNotCounted(t *testing.T) {
	a := newSessionApp(t, Options{})
	for range 3 * loginClientBurst {
		mustLogin(t, a, "192.0.2.1:1000")
	}
}

// TestLoginConcurrentGuesses: guesses sent all at once are booked before
// the token is checked, so no more than the budget get an answer.
func TestLoginConcurrentGuesses(t *testing.T) {
	a := newSessionApp(t, Options{})
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			rec, _ := a.login("wrong", "192.0.2.50:1")
			mu.Lock()
			codes[rec.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] != loginClientBurst || codes[http.StatusTooManyRequests] != 20-loginClientBurst {
		t.Errorf("got answers %v, want %d×401 and %d×429", codes, loginClientBurst, 20-loginClientBurst)
	}
}

func TestLoginWithoutTokenIsNotLimited(t *testing.T) {
	h := Handler(Options{Searcher: &fixedSearcher{}, Items: mapItems{}, Token: accordwatch.Secret("")})
	for i := range 10 {
		req := httptest.NewRequest("POST", "/login", strings.NewReader("next=%2F"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("#%d: got %d, want 303", i, rec.Code)
		}
	}
}

// TestSignInFormsRefuseCrossSite: Handler checks its own form posts even
// when it is mounted without Guard.
func TestSignInFormsRefuseCrossSite(t *testing.T) {
	a := newSessionApp(t, Options{})
	cookie := mustLogin(t, a, "192.0.2.1:1000")
	for _, path := range []string{"/login", "/logout"} {
		req := httptest.NewRequest("POST", path, strings.NewReader("token="+sessionToken))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || len(rec.Result().Cookies()) != 0 {
			t.Errorf("POST %s from another site: got %d with cookies %v, want 403 and none", path, rec.Code, rec.Result().Cookies())
		}
	}
	if got := a.page(cookie); got != 200 {
		t.Errorf("session after a forged sign-out: got %d, want 200", got)
	}
}
