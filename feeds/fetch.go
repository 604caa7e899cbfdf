package feeds

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/accordwatch/accordwatch"
)

// Defaults applied by New to zero Options fields.
const (
	defaultUserAgent    = "accordwatch/dev (+https://github.com/accordwatch/accordwatch)"
	defaultTimeout      = 30 * time.Second
	defaultMaxBytes     = 10 << 20
	defaultMaxRedirects = 5
	// connectTimeout bounds the TCP/TLS handshake of the built-in client so a
	// black-holed host fails fast even when Timeout is generous.
	connectTimeout = 10 * time.Second
)

// acceptHeader prefers feed types but accepts anything: many servers label
// feeds text/html or application/octet-stream.
const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Options configures a Fetcher. Zero fields take the documented defaults.
type Options struct {
	// UserAgent is sent with every request unless a feed sets its own. It
	// must name accordwatch so publishers can identify and contact us; New
	// appends the default when it does not.
	UserAgent string
	// Timeout bounds one whole request: connect, headers and body.
	Timeout time.Duration
	// MaxBytes caps a response body, counted after gzip decoding, and a
	// local feed file.
	MaxBytes int64
	// MaxRedirects is how many redirects one request may follow.
	MaxRedirects int
	// Client is used for HTTP when non-nil (tests inject one). Its
	// CheckRedirect is replaced by one enforcing MaxRedirects when nil.
	// An injected client is used as it is: the private-network guard is
	// part of the built-in client only.
	Client *http.Client
	// AllowPrivateNetworks lets the built-in client reach loopback,
	// private (RFC 1918, unique local), link-local, CGNAT and other
	// non-public addresses (config fetch.allow_private_networks). By
	// default a feed, a redirect, a saved permanent move or a discovery
	// probe that would connect to one fails with Kind "refused". Local
	// files and directories are not affected.
	AllowPrivateNetworks bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Articles extracts the article from a page fetched by Article; nil
	// makes every Article call fail with Kind "not-an-article".
	Articles ArticleExtractor
}

// Fetcher polls feeds. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	parser *gofeed.Parser
	guard  *dialGuard // nil when private networks are allowed or a client is injected
	limits docLimits
}

// New returns a Fetcher with defaults filled in.
func New(opts Options) *Fetcher {
	if opts.UserAgent == "" {
		opts.UserAgent = defaultUserAgent
	} else if !strings.Contains(strings.ToLower(opts.UserAgent), "accordwatch") {
		opts.UserAgent += " " + defaultUserAgent
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultMaxBytes
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = defaultMaxRedirects
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fetcher{opts: opts, parser: newParser(), limits: defaultLimits()}
	if opts.Client != nil {
		c := *opts.Client // a copy, so the caller's client is not modified
		if c.CheckRedirect == nil {
			c.CheckRedirect = f.checkRedirect
		}
		f.client = &c
	} else {
		dialer := net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
		transport := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   connectTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		if !opts.AllowPrivateNetworks {
			// The guard decides per dial, so redirects, discovery probes
			// and saved permanent moves are covered too (guard.go).
			f.guard = newDialGuard(dialer)
			transport.Proxy = f.guard.Proxy
			transport.DialContext = f.guard.DialContext
		}
		f.client = &http.Client{Transport: transport, CheckRedirect: f.checkRedirect}
	}
	return f
}

var (
	errTooManyRedirects = errors.New("too many redirects")
	errRedirectLoop     = errors.New("redirect loop")
	errDowngrade        = errors.New("refused: redirect from https to http")
)

// ownHeaders are the request headers fetchHTTP and get set themselves;
// every other header came from the feed's configuration.
var ownHeaders = []string{"User-Agent", "Accept", "If-None-Match", "If-Modified-Since"}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	// A loop is named as such: "too many redirects" would send the user
	// looking for a long chain rather than a misconfigured server.
	for _, v := range via {
		if v.URL.String() == req.URL.String() {
			return fmt.Errorf("%w: %s redirects back to %s", errRedirectLoop, accordwatch.RedactURL(via[len(via)-1].URL.String()), accordwatch.RedactURL(req.URL.String()))
		}
	}
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", errTooManyRedirects, f.opts.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to unsupported URL scheme %q", req.URL.Scheme)
	}
	// An https feed that redirects to http would hand its content (and
	// the request's headers) to anyone on the path; a publisher never
	// needs that, an attacker on the network does.
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme == "http" {
		return errDowngrade
	}
	// net/http copies every header of the first request to each hop and
	// strips only Authorization and cookies, and only when the host name
	// changes (not the port). A feed's headers (API keys, tokens) are
	// meant for the origin it was configured with: they are dropped on any
	// hop to another scheme, host or port, and so is the Referer, which
	// would tell that origin the previous URL, query included.
	if !sameOrigin(req.URL, via[0].URL) {
		for k := range req.Header {
			if !slices.Contains(ownHeaders, k) {
				req.Header.Del(k)
			}
		}
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (an absent port is the scheme's default).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// isDowngrade reports whether moving from one URL to another leaves https
// for plain http.
func isDowngrade(from, to string) bool {
	f, err1 := url.Parse(from)
	t, err2 := url.Parse(to)
	return err1 == nil && err2 == nil && strings.EqualFold(f.Scheme, "https") && strings.EqualFold(t.Scheme, "http")
}

// Result is the outcome of one poll of one feed.
type Result struct {
	// State is the previous state updated with this attempt.
	State accordwatch.FeedState
	// Items are normalised, deduplicated by ID, in feed order; Tags empty.
	Items []accordwatch.Item
	// NotModified is true when the server answered 304.
	NotModified bool
	// RetryAfter is the server's Retry-After on 429/503, 0 otherwise.
	RetryAfter time.Duration
	// Bytes is the size of the (decoded) body read.
	Bytes int64
	// MaxAge is how long the server says the response stays fresh: the
	// Cache-Control max-age of a 200 or 304 minus its Age header. 0 when
	// absent, already stale, or the server said no-cache or no-store.
	MaxAge time.Duration
	// TTL is the RSS <ttl> (minutes) of the feed parsed; 0 when absent or
	// not RSS.
	TTL time.Duration
	// PermanentRedirect is where the feed now lives when this successful
	// poll was redirected and the chain began with permanent redirects
	// (301/308): the target of the last permanent hop before any temporary
	// one (A -301-> B -302-> C gives B). "" otherwise. State.MovedTo is set
	// to it as well, so the next poll goes there directly.
	PermanentRedirect string
}

// FetchError explains why a poll failed. Kind is one of "network",
// "timeout", "http", "gone" (HTTP 410), "too-large", "parse", "not-a-feed",
// "file", "refused" (the private-network guard refused the address, or a
// redirect left https for http: retrying will not help).
type FetchError struct {
	// URL is the URL fetched, passed through accordwatch.RedactURL (no
	// password, no secret query parameter).
	URL        string
	Kind       string
	Status     int
	RetryAfter time.Duration
	// Err's message is the user-facing reason (also stored in
	// FeedState.LastError); it wraps the underlying cause when there is one.
	Err error
}

func (e *FetchError) Error() string { return "fetch feed " + e.URL + ": " + e.Reason() }

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }

// Reason is the failure in words a user can act on.
func (e *FetchError) Reason() string {
	if e.Err == nil {
		return e.Kind
	}
	return e.Err.Error()
}

// reason is an error whose message is a user-facing reason and which still
// unwraps to the technical cause for errors.Is/As.
type reason struct {
	msg   string
	cause error
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.cause }

func because(cause error, format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), cause: cause}
}

// Fetch polls one feed once. feed.URL is an http(s) URL, a file:// URL, or
// a local path to a file or a directory (all regular files in it, sorted,
// items merged and deduplicated by ID). It always returns a Result whose
// State is prev updated; err is non-nil on failure and is a *FetchError.
//
// When prev.MovedTo is set (a permanent redirect seen earlier) that URL is
// fetched instead; items keep feed.URL as their FeedURL and ID key, so a
// move never duplicates them. State counts the attempt (Fetches) and 304s
// (NotModified), sets Gone on HTTP 410 and clears it on the next success.
// NextCheckAt is left to the caller.
func (f *Fetcher) Fetch(ctx context.Context, feed accordwatch.Feed, prev accordwatch.FeedState) (Result, error) {
	now := f.opts.Now()
	res := Result{State: prev}
	res.State.URL = feed.URL
	res.State.LastAttempt = now
	res.State.Fetches++

	target := feed.URL
	// A MovedTo recorded for another URL (the feed was edited since) is
	// stale. One that leaves https for http is never followed (and is
	// forgotten): no redirect may do that, so it was not recorded by us.
	if prev.MovedTo != "" && (prev.URL == "" || prev.URL == feed.URL) {
		if isDowngrade(feed.URL, prev.MovedTo) {
			res.State.MovedTo = ""
		} else {
			target = prev.MovedTo
		}
	}

	var (
		out fetched
		err error
	)
	switch kind, loc := classifyURL(target); kind {
	case "http":
		out, err = f.fetchHTTP(ctx, feed, prev, loc)
	case "file":
		out, err = f.fetchPath(feed, loc.Path)
	case "invalid":
		// The parse error, not the URL: url.Error would quote it whole.
		err = &FetchError{Kind: "network", Err: fmt.Errorf("invalid URL: %s", loc.Opaque)}
	default:
		err = &FetchError{Kind: "file", Err: fmt.Errorf("unsupported feed URL %q: use http, https, file:// or a local path", loc.Scheme)}
	}
	res.Bytes = out.bytes
	res.RetryAfter = out.retryAfter
	if out.status != 0 {
		res.State.LastStatus = out.status
	}
	if err != nil {
		var fe *FetchError
		if !errors.As(err, &fe) {
			fe = &FetchError{Kind: "network", Err: err}
		}
		fe.URL = accordwatch.RedactURL(target)
		if fe.Kind == "gone" {
			res.State.Gone = true
		}
		res.State.ConsecutiveFailures++
		res.State.LastError = fe.Reason()
		return res, fe
	}

	res.State.LastSuccess = now
	res.State.ConsecutiveFailures = 0
	res.State.LastError = ""
	res.State.Gone = false
	res.MaxAge = out.maxAge
	res.TTL = out.ttl
	if out.permanent != "" && !isDowngrade(feed.URL, out.permanent) && !isDowngrade(target, out.permanent) {
		res.PermanentRedirect = out.permanent
		res.State.MovedTo = out.permanent
		if out.permanent == feed.URL {
			res.State.MovedTo = "" // moved back home
		}
	}
	if out.notModified {
		res.NotModified = true
		res.State.NotModified++
		if out.etag != "" {
			res.State.ETag = out.etag
		}
		if out.lastModified != "" {
			res.State.LastModified = out.lastModified
		}
		return res, nil
	}
	if out.http {
		// Validators are stored exactly as received, and dropped when the
		// server stopped sending them.
		res.State.ETag = out.etag
		res.State.LastModified = out.lastModified
	}
	if out.title != "" {
		res.State.Title = out.title
	}
	res.Items = out.items
	res.State.ItemsSeen += len(out.items)
	return res, nil
}

// fetched is what one fetch produced before it is folded into a Result.
type fetched struct {
	http         bool
	status       int
	notModified  bool
	etag         string
	lastModified string
	retryAfter   time.Duration
	bytes        int64
	maxAge       time.Duration
	ttl          time.Duration
	permanent    string
	title        string
	items        []accordwatch.Item
}

// classifyURL tells an http(s) URL from a local file reference. An http(s)
// URL that does not parse is "invalid", with the reason in Opaque.
func classifyURL(raw string) (string, *url.URL) {
	u, err := url.Parse(raw)
	if err != nil {
		lower := strings.ToLower(raw)
		if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return "invalid", &url.URL{Opaque: err.Error()}
		}
	}
	if err == nil {
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
			return "http", u
		case "file":
			p := u.Path
			if p == "" {
				p = u.Opaque
			}
			return "file", &url.URL{Path: p}
		case "":
		default:
			if len(u.Scheme) > 1 { // a one-letter scheme is a Windows drive
				return "unsupported", u
			}
		}
	}
	return "file", &url.URL{Path: raw}
}

func (f *Fetcher) fetchHTTP(ctx context.Context, feed accordwatch.Feed, prev accordwatch.FeedState, u *url.URL) (fetched, error) {
	out := fetched{http: true}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()

	req, err := newRequest(ctx, u.String())
	if err != nil {
		return out, err
	}
	// A feed's headers often carry a credential (Authorization, an API
	// key) for the host the operator configured. They go to that origin
	// only: not to where a saved permanent move points (checkRedirect
	// drops them on redirects to another origin).
	if configured, err := url.Parse(feed.URL); err == nil && sameOrigin(u, configured) {
		for k, v := range feed.Headers {
			// Setting Accept-Encoding ourselves would turn off the transport's
			// transparent gunzip and hand compressed bytes to the parser.
			if strings.EqualFold(k, "Accept-Encoding") {
				continue
			}
			req.Header.Set(k, v)
		}
	}
	ua := f.opts.UserAgent
	if feed.UserAgent != "" {
		ua = feed.UserAgent
	}
	req.Header.Set("User-Agent", ua)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", acceptHeader)
	}
	// Validators go back exactly as received: servers compare them byte for
	// byte (weak ETags keep their W/ prefix, dates are not re-formatted).
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}

	resp, err := f.client.Do(req)
	if err != nil {
		return out, f.transportError(parent, ctx, err)
	}
	defer func() {
		// Drain a little so the connection can be reused; never a whole body.
		io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()

	out.status = resp.StatusCode
	out.etag = resp.Header.Get("ETag")
	out.lastModified = resp.Header.Get("Last-Modified")

	switch {
	case resp.StatusCode == http.StatusNotModified:
		out.notModified = true
		out.maxAge = cacheMaxAge(resp.Header)
		out.permanent = permanentTarget(resp)
		return out, nil
	case resp.StatusCode == http.StatusGone:
		return out, &FetchError{Kind: "gone", Status: resp.StatusCode, Err: errors.New("gone: the server says this feed was removed (410)")}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), f.opts.Now())
		msg := httpStatusText(resp)
		if out.retryAfter > 0 {
			msg += fmt.Sprintf(" (retry after %s)", out.retryAfter)
		}
		return out, &FetchError{Kind: "http", Status: resp.StatusCode, RetryAfter: out.retryAfter, Err: errors.New(msg)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return out, &FetchError{Kind: "http", Status: resp.StatusCode, Err: errors.New(httpStatusText(resp))}
	}

	// resp.Uncompressed means the transport is gunzipping and ContentLength
	// is unknown; otherwise a declared length over the cap fails early.
	if !resp.Uncompressed && resp.ContentLength > f.opts.MaxBytes {
		return out, tooLarge(f.opts.MaxBytes)
	}
	body, err := readCapped(resp.Body, f.opts.MaxBytes)
	out.bytes = int64(len(body))
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return out, tooLarge(f.opts.MaxBytes)
		}
		return out, f.transportError(parent, ctx, err)
	}

	final := resp.Request.URL
	contentType := resp.Header.Get("Content-Type")
	p, err := f.parse(body, contentType, final, feed)
	if err != nil {
		return out, err
	}
	out.title = p.title
	out.items = p.items
	out.ttl = p.ttl
	out.maxAge = cacheMaxAge(resp.Header)
	out.permanent = permanentTarget(resp)
	return out, nil
}

// maxFreshness bounds MaxAge so absurd values cannot overflow a Duration;
// the caller caps intervals far below it anyway.
const maxFreshness = 365 * 24 * time.Hour

// cacheMaxAge is the remaining freshness a response grants (RFC 9111
// §4.2): max-age minus Age, 0 when absent, stale, no-cache or no-store.
func cacheMaxAge(h http.Header) time.Duration {
	maxAge := int64(-1)
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64); err == nil && n >= 0 {
					maxAge = n
				}
			}
		}
	}
	if maxAge <= 0 {
		return 0
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		maxAge -= age
	}
	if maxAge <= 0 {
		return 0
	}
	return min(time.Duration(min(maxAge, int64(maxFreshness/time.Second)))*time.Second, maxFreshness)
}

// permanentTarget walks the redirect chain that led to resp (each
// redirected request carries the response that caused it) and returns the
// target of the last hop of the leading run of 301/308, or "".
func permanentTarget(resp *http.Response) string {
	type hop struct {
		status int
		target string
	}
	var hops []hop // last hop first
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		hops = append(hops, hop{r.Response.StatusCode, r.URL.String()})
	}
	moved := ""
	for i := len(hops) - 1; i >= 0; i-- {
		if s := hops[i].status; s != http.StatusMovedPermanently && s != http.StatusPermanentRedirect {
			break
		}
		moved = hops[i].target
	}
	return moved
}

// newRequest builds a GET. Its error is a *FetchError whose reason does not
// repeat the URL (url.Error would, secrets included).
func newRequest(ctx context.Context, raw string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return nil, &FetchError{Kind: "network", Err: because(err, "invalid URL: %v", uerr.Err)}
		}
		return nil, &FetchError{Kind: "network", Err: because(err, "invalid URL: %v", err)}
	}
	return req, nil
}

// transportError maps a client or body-read error to a FetchError.
func (f *Fetcher) transportError(parent, ctx context.Context, err error) error {
	if re, ok := refusal(err); ok {
		return &FetchError{Kind: "refused", Err: because(err, "%s", re.Error())}
	}
	switch {
	case errors.Is(err, errDowngrade):
		return &FetchError{Kind: "refused", Err: because(err, "%s", errDowngrade.Error())}
	case parent.Err() != nil:
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			return &FetchError{Kind: "timeout", Err: because(err, "timeout: the poll's deadline passed")}
		}
		return &FetchError{Kind: "network", Err: because(err, "canceled")}
	case errors.Is(err, errRedirectLoop):
		return &FetchError{Kind: "http", Err: because(err, "%s", loopMessage(err))}
	case errors.Is(err, errTooManyRedirects):
		return &FetchError{Kind: "http", Err: because(err, "too many redirects (more than %d)", f.opts.MaxRedirects)}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return &FetchError{Kind: "timeout", Err: because(err, "timeout after %s", f.opts.Timeout)}
	}
	if msg, ok := tlsReason(err); ok {
		return &FetchError{Kind: "network", Err: because(err, "TLS error: %s", msg)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &FetchError{Kind: "network", Err: because(err, "cannot resolve host %s", dnsErr.Name)}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if opErr.Timeout() {
			return &FetchError{Kind: "timeout", Err: because(err, "connect timeout to %v", opErr.Addr)}
		}
		return &FetchError{Kind: "network", Err: because(err, "cannot connect: %v", opErr.Err)}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &FetchError{Kind: "timeout", Err: because(err, "timeout after %s", f.opts.Timeout)}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return &FetchError{Kind: "network", Err: because(err, "network error: %v", uerr.Err)}
	}
	return &FetchError{Kind: "network", Err: because(err, "network error: %v", err)}
}

// loopMessage is the checkRedirect error's own text, without the
// url.Error's "Get URL:" prefix.
func loopMessage(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// tlsReason describes a TLS failure in words, or reports false.
func tlsReason(err error) (string, bool) {
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		// x509 errors all read "x509: certificate …"; the prefix is noise.
		return strings.TrimPrefix(certErr.Err.Error(), "x509: "), true
	}
	// net/http turns a plain-HTTP answer to a TLS hello into this error,
	// which has no type of its own.
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "the server answers plain HTTP on an https URL (try http://)", true
	}
	var recErr tls.RecordHeaderError
	if errors.As(err, &recErr) {
		return "the server did not answer with TLS (is it plain http?)", true
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return "the server refused the handshake: " + strings.TrimPrefix(alert.Error(), "tls: "), true
	}
	return "", false
}

func httpStatusText(resp *http.Response) string {
	text := http.StatusText(resp.StatusCode)
	if text == "" {
		// Use the server's own phrase for codes Go does not know.
		text = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	}
	return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", resp.StatusCode, text))
}

// parseRetryAfter reads delay-seconds or an HTTP-date; 0 when absent,
// malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

var errTooLarge = errors.New("body exceeds the size cap")

// readCapped reads r fully, failing with errTooLarge past max bytes rather
// than silently truncating (a cut feed parses as garbage or half a feed).
func readCapped(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return body, err
	}
	if int64(len(body)) > max {
		return body[:max], errTooLarge
	}
	return body, nil
}

func tooLarge(max int64) *FetchError {
	return &FetchError{Kind: "too-large", Err: because(errTooLarge, "response larger than %s", formatSize(max))}
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// parsed is one parsed feed document.
type parsed struct {
	title string
	items []accordwatch.Item
	ttl   time.Duration
}

// parse normalises the encoding, parses the body and normalises the items.
// base resolves relative links (the final URL after redirects for HTTP).
func (f *Fetcher) parse(body []byte, contentType string, base *url.URL, feed accordwatch.Feed) (parsed, error) {
	norm := normalizeEncoding(body, contentType)
	if err := checkShape(norm, f.limits); err != nil {
		return parsed{}, err
	}
	pf, err := f.parser.Parse(bytes.NewReader(norm))
	if err != nil {
		return parsed{}, classifyParseError(err, body, contentType, base)
	}
	return parsed{
		title: HTMLToText(pf.Title),
		items: normalizeFeed(pf, feed, base, f.opts.Now()),
		ttl:   feedTTL(pf),
	}, nil
}

// classifyParseError tells "this is not a feed at all" (an HTML page, a WAF
// challenge, an empty body) from a broken feed.
func classifyParseError(err error, body []byte, contentType string, base *url.URL) error {
	if !errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			return &FetchError{Kind: "parse", Err: because(err, "invalid JSON Feed: %v", err)}
		}
		return &FetchError{Kind: "parse", Err: err}
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return &FetchError{Kind: "not-a-feed", Err: because(err, "not a feed: empty response body")}
	case looksLikeHTML(body, mediaType):
		msg := "not a feed: got an HTML page"
		if mediaType != "" {
			msg += " (" + mediaType + ")"
		}
		if alt := discoverFeed(body, base); alt != "" {
			msg += "; feed may be at " + accordwatch.RedactURL(alt)
		}
		return &FetchError{Kind: "not-a-feed", Err: because(err, "%s", msg)}
	default:
		msg := "not a feed: no RSS, Atom or JSON Feed found"
		if mediaType != "" {
			msg += " (" + mediaType + ")"
		}
		return &FetchError{Kind: "not-a-feed", Err: because(err, "%s", msg)}
	}
}

func looksLikeHTML(body []byte, mediaType string) bool {
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
		return true
	}
	return strings.HasPrefix(http.DetectContentType(body), "text/html")
}
