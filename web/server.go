package web

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Server defaults. Every request the daemon serves is small and quick, so
// these are generous for real clients and short for a client that holds a
// connection open by sending slowly or not at all (slowloris).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	// DefaultWriteTimeout covers a search page; the digest, which can take
	// longer, extends its own deadline (DigestOptions.Timeout).
	DefaultWriteTimeout   = 60 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConns is LimitListener's cap when given n <= 0.
	DefaultMaxConns = 256
)

// ServerOptions override NewServer's limits; a zero field takes its
// default.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the answer.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends nothing more.
	IdleTimeout    time.Duration
	MaxHeaderBytes int
	// Logger receives the server's own errors (bad TLS handshakes, panics
	// in handlers) at warn level; nil discards them.
	Logger *slog.Logger
}

// NewServer returns an http.Server for h with every timeout and the header
// size bounded, so slow or stalled clients cannot hold connections
// forever. Serve it on LimitListener's listener to cap connections too.
func NewServer(h http.Handler, o ServerOptions) *http.Server {
	orDefault := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(o.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(o.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDefault(o.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDefault(o.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    o.MaxHeaderBytes,
	}
	if srv.MaxHeaderBytes <= 0 {
		srv.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.Logger != nil {
		srv.ErrorLog = slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)
	}
	return srv
}

// LimitListener caps ln at n connections open at once (DefaultMaxConns
// when n <= 0): past the cap, new connections wait in the kernel's queue
// until one closes, so a flood of them cannot exhaust file descriptors or
// memory. The timeouts of NewServer make sure held slots come free.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConns
	}
	return netutil.LimitListener(ln, n)
}
