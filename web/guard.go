package web

import (
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/accordwatch/accordwatch"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// Listen is the address the server actually listens on
	// (ln.Addr().String() or the configured host:port); a host name in it
	// is allowed.
	Listen string
	// AllowedHosts are further names the server answers to: config's
	// allowed_hosts and the host of digest.base_url. A port, surrounding
	// brackets and a trailing dot are ignored; case does not matter.
	AllowedHosts []string
	// SignedPaths are exact paths whose handler authenticates every
	// request with a signature (Slack's POST /slack/commands). They skip
	// the host check only: a page that rebinds its name to us cannot sign,
	// and Slack (or a tunnel in front of us) sends whatever public name
	// the app was set up with.
	SignedPaths []string
	// Token is the API bearer token; a request carrying it passes the
	// cross-site checks, since a browser cannot attach it cross-site.
	Token  accordwatch.Secret
	Logger *slog.Logger
}

// Guard returns middleware that puts the daemon's browser-facing defenses
// in front of every handler on the listener:
//
//   - Host allow-list, against DNS rebinding: a page on attacker.example
//     can repoint its own name at 127.0.0.1 and then read our answers as
//     same-origin. Only requests whose Host (port ignored, any case) is an
//     IP literal, localhost or *.localhost, the listen host or an allowed
//     name are answered; others get 421 Misdirected Request. IP literals
//     are safe because rebinding needs a DNS name, and browsers resolve
//     *.localhost to loopback themselves.
//   - Cross-site request forgery: every method other than GET, HEAD and
//     OPTIONS from another site (Sec-Fetch-Site, else Origin against Host)
//     is refused with 403, unless it carries the bearer token.
//   - Under /api/, those methods must also send Content-Type
//     application/json (415 otherwise): browsers cannot send that
//     cross-site without a CORS preflight, which we never answer, so this
//     holds even for a browser that sends neither header. A request with
//     no body and no Content-Type (`accordwatch silence expire`) passes,
//     since it carries nothing for a forged form to fill in and the
//     cross-origin check still applies to it.
func Guard(o GuardOptions) func(http.Handler) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	allowed := map[string]bool{}
	if h, _, err := net.SplitHostPort(o.Listen); err == nil && h != "" {
		allowed[normalHost(h)] = true
	}
	for _, h := range o.AllowedHosts {
		if n := normalHost(h); n != "" {
			allowed[n] = true
		}
	}
	signed := map[string]bool{}
	for _, p := range o.SignedPaths {
		signed[p] = true
	}
	cop := http.NewCrossOriginProtection()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// /healthz is exempt: orchestrators probe it by service or pod
			// names nobody lists, and a failing probe restarts the daemon
			// in a loop. It needs no token and says only "ok", the
			// version and the uptime — nothing a rebinding page could use
			// beyond what any client that reaches the port already sees.
			healthz := r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
			if !healthz && !signed[r.URL.Path] && !hostAllowed(r.Host, allowed) {
				host := normalHost(r.Host)
				o.Logger.Warn("refused a request for a host this server does not answer to", "host", host, "path", r.URL.Path, "remote", r.RemoteAddr)
				writeError(w, http.StatusMisdirectedRequest, "this server does not answer to host "+quote(host)+
					"; if that is its name, add it to allowed_hosts in config.yaml")
				return
			}
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				next.ServeHTTP(w, r)
				return
			}
			if o.Token.IsSet() && bearerOK(o.Token, r) {
				next.ServeHTTP(w, r)
				return
			}
			if err := cop.Check(r); err != nil {
				o.Logger.Warn("refused a cross-site request", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "err", err)
				writeError(w, http.StatusForbidden, "cross-site request refused: "+err.Error())
				return
			}
			if strings.HasPrefix(r.URL.Path, "/api/") {
				if msg, ok := jsonRequest(r); !ok {
					writeError(w, http.StatusUnsupportedMediaType, msg)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// jsonRequest reports whether an unsafe request may reach a JSON API
// handler: it declares Content-Type application/json, or it has no body
// and no Content-Type at all. msg says what is wrong otherwise.
func jsonRequest(r *http.Request) (msg string, ok bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return "", true
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return "", true
	}
	if ct == "" {
		ct = "none"
	}
	return "send the body as JSON with Content-Type: application/json (got " + quote(ct) + ")", false
}

// hostAllowed applies Guard's host rule to a Host header.
func hostAllowed(hostport string, allowed map[string]bool) bool {
	h := normalHost(hostport)
	switch {
	case h == "":
		// HTTP/1.0 without Host: not a browser, and not worth guessing.
		return false
	case h == "localhost" || strings.HasSuffix(h, ".localhost"):
		return true
	case allowed[h]:
		return true
	}
	_, err := netip.ParseAddr(h)
	return err == nil
}

// normalHost lower-cases a Host header or configured name and drops its
// port, IPv6 brackets and trailing dot: "Example.COM.:8080" → "example.com",
// "[::1]:80" → "::1".
func normalHost(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimPrefix(strings.TrimSuffix(s, "]"), "[")
	return strings.TrimSuffix(s, ".")
}

// quote keeps an attacker-chosen value readable and on one line in a
// message.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s) + `"`
}
