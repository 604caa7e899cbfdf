package feeds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"

	"golang.org/x/net/http/httpproxy"
)

// The private-network guard keeps a feed URL, a redirect, a saved permanent
// move or a discovery probe from making accordwatch reach a service that
// only trusts its own network: a cloud metadata endpoint (169.254.169.254),
// an admin page on localhost, a router, the other hosts of the LAN. Feed
// URLs come from OPML files and from publishers' redirects, so they are not
// trusted.
//
// It checks the address actually dialled, after DNS resolution, in the
// dialer's Control hook, which runs once per connection attempt after the
// socket exists and before it connects. A name that resolves to a private
// address, a DNS answer that changes between two lookups (rebinding), a
// redirect to an internal address and a literal IP in any URL are all
// caught by the same check, and nothing is sent before it passes.

// guardAdvice ends every refusal: the one setting that allows it.
const guardAdvice = "set fetch.allow_private_networks to poll internal feeds"

// refusedError is a connection the guard did not allow.
type refusedError struct {
	addr netip.Addr
	kind string // "loopback", "private", …, as blockedKind names it
}

func (e *refusedError) Error() string {
	article := "a"
	if e.kind == "unspecified" {
		article = "an"
	}
	return fmt.Sprintf("refused: %s is %s %s address; %s", e.addr, article, e.kind, guardAdvice)
}

// Prefixes netip has no predicate for.
var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // RFC 1122 "this network"
	sharedCGNAT = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 carrier-grade NAT
	reserved4   = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112 "future use"
	siteLocal6  = netip.MustParsePrefix("fec0::/10")     // RFC 3879, deprecated but routable on old LANs
	nat64       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052 well-known NAT64 prefix
	broadcast4  = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// blockedKind names the kind of non-public address ip is, or returns ""
// for an address the guard lets through.
//
// 198.18.0.0/15 (benchmarking) is deliberately not refused: proxies that
// answer DNS with "fake IPs" (Clash, Surge and similar) hand out addresses
// from it for every public host.
func blockedKind(ip netip.Addr) string {
	// ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d.
	ip = ip.Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		// A NAT64 gateway forwards 64:ff9b::a.b.c.d to a.b.c.d, on the
		// gateway's network: judge the IPv4 address it stands for.
		b := ip.As16()
		if kind := blockedKind(netip.AddrFrom4([4]byte(b[12:]))); kind != "" {
			return kind + " (NAT64)"
		}
		return ""
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.Is4() && ip.IsPrivate():
		return "private"
	case ip.IsPrivate():
		return "unique local"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case sharedCGNAT.Contains(ip):
		return "shared (CGNAT)"
	case thisNetwork.Contains(ip):
		return `"this network" (0.0.0.0/8)`
	case ip == broadcast4:
		return "broadcast"
	case reserved4.Contains(ip):
		return "reserved (240.0.0.0/4)"
	case siteLocal6.Contains(ip):
		return "site-local"
	}
	return ""
}

// dialGuard is the built-in client's dialer when private networks are not
// allowed. It is safe for concurrent use.
//
// With a proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, read once by New) the
// transport dials the proxy, not the feed's host, and the proxy resolves
// and connects to the target itself. The proxy is configured by the
// operator, so dialling it is allowed even when it sits on a private
// address (it usually does); what it may reach is then the proxy's egress
// policy to enforce, since the target's address is never known here. The
// one check still possible is made: a URL whose host is a literal non-public
// IP is refused before it is handed to the proxy. httpproxy never proxies
// localhost or loopback addresses, so those are dialled, and refused, here.
type dialGuard struct {
	dialer *net.Dialer // checks every address in Control
	direct *net.Dialer // for the proxies only
	proxy  func(*url.URL) (*url.URL, error)
	// proxies holds the host:port of every proxy the proxy function has
	// chosen (the form the transport dials), so those dials skip the check.
	// A feed URL naming that same host and port is dialled unchecked too:
	// it is the operator's proxy either way.
	proxies sync.Map
	// public, when set, lets a test treat an address as public (say
	// 127.0.0.2) so that a "public" test server can redirect to a private
	// one. Set it before the first request.
	public func(netip.Addr) bool
}

func newDialGuard(base net.Dialer) *dialGuard {
	g := &dialGuard{proxy: httpproxy.FromEnvironment().ProxyFunc()}
	direct := base
	g.direct = &direct
	guarded := base
	guarded.Control = g.control
	g.dialer = &guarded
	return g
}

// control runs before every connect with the resolved "ip:port".
func (g *dialGuard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP address (a Unix socket, say): it cannot be judged, so
		// it is refused; the transport never dials one for a feed.
		return fmt.Errorf("refused: cannot check the address %q", address)
	}
	return g.check(ap.Addr())
}

func (g *dialGuard) check(ip netip.Addr) error {
	if g.public != nil && g.public(ip) {
		return nil
	}
	if kind := blockedKind(ip); kind != "" {
		return &refusedError{addr: ip.Unmap().WithZone(""), kind: kind}
	}
	return nil
}

// DialContext dials addr, checking it unless it is a proxy the proxy
// function chose.
func (g *dialGuard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, ok := g.proxies.Load(addr); ok {
		return g.direct.DialContext(ctx, network, addr)
	}
	return g.dialer.DialContext(ctx, network, addr)
}

// Proxy is the transport's proxy function: the environment's choice, with
// literal non-public IPs refused before they reach a proxy.
func (g *dialGuard) Proxy(req *http.Request) (*url.URL, error) {
	p, err := g.proxy(req.URL)
	if err != nil || p == nil {
		return p, err
	}
	if ip, perr := netip.ParseAddr(req.URL.Hostname()); perr == nil {
		if err := g.check(ip); err != nil {
			return nil, err
		}
	}
	g.proxies.Store(proxyAddr(p), true)
	return p, nil
}

// proxyAddr is the host:port net/http dials for a proxy URL (its
// canonicalAddr): the URL's port, else the scheme's default.
func proxyAddr(p *url.URL) string {
	port := p.Port()
	if port == "" {
		switch p.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(p.Hostname(), port)
}

// refusal finds the guard's refusal in a client error.
func refusal(err error) (*refusedError, bool) {
	var re *refusedError
	return re, errors.As(err, &re)
}
