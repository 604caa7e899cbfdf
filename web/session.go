package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sessions are the browser sign-ins: random IDs handed out by POST /login
// and kept here, in memory only, each with an absolute expiry. Nothing is
// persisted, so a restart signs everyone out — a deliberate trade: no
// session file to steal, and restarting is a way to revoke them all.
// Safe for concurrent use.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	// live maps the SHA-256 of a session ID to its expiry. Keying by the
	// hash keeps the map lookup's timing independent of the secret bytes
	// an attacker is guessing.
	live map[[sha256.Size]byte]time.Time
}

func newSessions(ttl time.Duration, max int) *sessions {
	return &sessions{ttl: ttl, max: max, live: map[[sha256.Size]byte]time.Time{}}
}

// create starts a session at now and returns its ID (32 random bytes,
// base64url) and expiry. At the cap, expired sessions go first and then
// the oldest, so memory stays bounded whoever keeps signing in.
func (s *sessions) create(now time.Time) (id string, expires time.Time, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("new session id: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(raw[:])
	expires = now.Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.live) >= s.max {
		s.pruneLocked(now)
	}
	for len(s.live) >= s.max {
		var oldest [sha256.Size]byte
		var oldestExp time.Time
		for k, exp := range s.live {
			if oldestExp.IsZero() || exp.Before(oldestExp) {
				oldest, oldestExp = k, exp
			}
		}
		delete(s.live, oldest)
	}
	s.live[sha256.Sum256([]byte(id))] = expires
	return id, expires, nil
}

// valid reports whether id is a live session at now.
func (s *sessions) valid(id string, now time.Time) bool {
	if id == "" {
		return false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.live[k]
	if ok && !now.Before(exp) {
		delete(s.live, k)
		return false
	}
	return ok
}

// revoke ends a session (sign-out); an unknown id is ignored.
func (s *sessions) revoke(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, sha256.Sum256([]byte(id)))
}

func (s *sessions) pruneLocked(now time.Time) {
	for k, exp := range s.live {
		if !now.Before(exp) {
			delete(s.live, k)
		}
	}
}

// Sign-in attempt budgets. The token is long and random, so these do not
// stop a lucky guess so much as make guessing hopeless and noisy: five
// failures per client per minute, and 30 per minute from everyone
// together, so spraying from many addresses is slowed as much. The price
// of the global budget is that a spray also locks out the real user for
// up to a minute; for a single-team tool that is the right way round.
const (
	loginClientBurst  = 5
	loginClientRefill = time.Minute / loginClientBurst
	loginGlobalBurst  = 30
	loginGlobalRefill = time.Minute / loginGlobalBurst
	// loginMaxClients bounds the per-client table; past it, clients that
	// have not failed lately are forgotten, and if that is not enough a
	// new client falls under the global budget alone.
	loginMaxClients = 10000
)

// loginLimiter counts failed sign-ins per client and overall. Safe for
// concurrent use.
type loginLimiter struct {
	mu      sync.Mutex
	clients map[netip.Prefix]*rate.Limiter
	global  *rate.Limiter
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{
		clients: map[netip.Prefix]*rate.Limiter{},
		global:  rate.NewLimiter(rate.Every(loginGlobalRefill), loginGlobalBurst),
	}
}

// begin books one attempt by client at now against both budgets before
// the token is checked, so concurrent guesses cannot all slip through
// before the first failure is counted. When a budget is spent it books
// nothing and returns how long until an attempt is allowed; the attempt
// must then be refused whatever token it carries. Otherwise the caller
// reports the outcome through done: a success gives the booking back
// (only failures count), a failure keeps it.
func (l *loginLimiter) begin(client netip.Prefix, now time.Time) (done func(ok bool), retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lims := []*rate.Limiter{l.global}
	if c := l.clientLocked(client, now); c != nil {
		lims = append(lims, c)
	}
	res := make([]*rate.Reservation, len(lims))
	for i, lim := range lims {
		res[i] = lim.ReserveN(now, 1)
		retry = max(retry, res[i].DelayFrom(now))
	}
	cancel := func() {
		for _, r := range res {
			r.CancelAt(now)
		}
	}
	if retry > 0 {
		cancel()
		return nil, retry
	}
	return func(ok bool) {
		if ok {
			cancel()
		}
	}, 0
}

func (l *loginLimiter) clientLocked(client netip.Prefix, now time.Time) *rate.Limiter {
	if lim, ok := l.clients[client]; ok {
		return lim
	}
	if len(l.clients) >= loginMaxClients {
		for k, lim := range l.clients {
			if lim.TokensAt(now) >= loginClientBurst {
				delete(l.clients, k)
			}
		}
		if len(l.clients) >= loginMaxClients {
			return nil
		}
	}
	lim := rate.NewLimiter(rate.Every(loginClientRefill), loginClientBurst)
	l.clients[client] = lim
	return lim
}

// clientKey is the budget a remote address draws on: its IPv4 address,
// or its IPv6 /64, since one host usually holds a whole /64. Behind a
// reverse proxy every client shares the proxy's budget; X-Forwarded-For
// is not trusted, as anyone can send it.
func clientKey(remoteAddr string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}
