package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/index"
)

// Searcher answers queries in the query language.
type Searcher interface {
	Search(ctx context.Context, req accordwatch.SearchRequest) (accordwatch.SearchResult, error)
}

// Items looks items up in the store.
type Items interface {
	Item(id string) (accordwatch.Item, bool, error)
}

// Feeds lists every feed with its health.
type Feeds interface {
	FeedHealth() ([]accordwatch.FeedHealth, error)
}

// Options configure the handler.
type Options struct {
	Searcher Searcher
	Items    Items
	// Incidents, when set, lets the item page show the incident an item
	// belongs to: its other reports and why this one joined.
	Incidents IncidentStore
	// Feeds serves /api/feeds when set.
	Feeds Feeds
	// Metrics serves /metrics when set (Prometheus text format).
	Metrics http.Handler
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every endpoint except /healthz. The HTML pages also accept the
	// session cookie that the sign-in form (POST /login) sets.
	Token   accordwatch.Secret
	Version string
	Logger  *slog.Logger
	// SearchTimeout bounds one search; default 10s.
	SearchTimeout time.Duration
	// SessionTTL is how long a sign-in lasts, from sign-in (not from last
	// use); default 12h. MaxSessions caps the live sign-ins kept in
	// memory; default 1000, the oldest going first.
	SessionTTL  time.Duration
	MaxSessions int
	// Now is the clock for sessions and sign-in budgets; default time.Now.
	Now func() time.Time
}

// Handler returns the HTTP handler.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SearchTimeout == 0 {
		o.SearchTimeout = 10 * time.Second
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pg, err := loadPages()
	if err != nil {
		// The templates are embedded and covered by tests, so this is a
		// programming error, not a runtime condition.
		panic("web: " + err.Error())
	}
	s := &server{o: o, started: time.Now(), pages: pg, sessions: newSessions(o.SessionTTL, o.MaxSessions), limiter: newLoginLimiter()}
	// Guard checks every state-changing request on the listener; the
	// sign-in forms check again here, so they stay safe if Handler is
	// ever mounted without it.
	forms := http.NewCrossOriginProtection()
	forms.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "Cross-site request refused", "This form can only be sent from accordwatch's own pages.")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /{$}", s.pageAuth(s.searchPage))
	mux.Handle("GET /items/{id}", s.pageAuth(s.itemPage))
	mux.Handle("POST /login", forms.Handler(http.HandlerFunc(s.login)))
	mux.Handle("POST /logout", forms.Handler(http.HandlerFunc(s.logout)))
	mux.HandleFunc("GET /static/style.css", s.stylesheet)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/", s.notFound)
	mux.Handle("GET /api/search", s.auth(http.HandlerFunc(s.search)))
	mux.Handle("GET /api/items/{id}", s.auth(http.HandlerFunc(s.item)))
	if o.Feeds != nil {
		mux.Handle("GET /api/feeds", s.auth(http.HandlerFunc(s.feeds)))
	}
	if o.Metrics != nil {
		mux.Handle("GET /metrics", s.auth(o.Metrics))
	}
	return mux
}

type server struct {
	o        Options
	started  time.Time
	pages    *pages
	sessions *sessions
	limiter  *loginLimiter
}

func (s *server) auth(next http.Handler) http.Handler { return requireBearer(s.o.Token, next) }

// requireBearer answers 401 unless the request carries token as a bearer
// token; with no token set everything passes. Every API handler uses it.
func requireBearer(token accordwatch.Secret, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token.IsSet() && !bearerOK(token, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="accordwatch"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerOK reports whether the request carries the right bearer token.
func (s *server) bearerOK(r *http.Request) bool { return bearerOK(s.o.Token, r) }

func bearerOK(token accordwatch.Secret, r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token.Reveal())) == 1
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.o.Version, "uptime_s": int(time.Since(s.started).Seconds())})
}

// search serves GET /api/search?q=&sort=&size=&from=&since=&after=&facets=.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := accordwatch.SearchRequest{Query: q.Get("q"), Sort: q.Get("sort")}
	if since := q.Get("since"); since != "" {
		// since= is shorthand for the query language's since: clause.
		req.Query = strings.TrimSpace(req.Query + " since:" + since)
	}
	var err error
	if req.Size, err = intParam(q.Get("size"), 20, 1, 1000); err != nil {
		writeError(w, http.StatusBadRequest, "size: "+err.Error())
		return
	}
	if req.From, err = intParam(q.Get("from"), 0, 0, 100000); err != nil {
		writeError(w, http.StatusBadRequest, "from: "+err.Error())
		return
	}
	req.After = q.Get("after") // search-after cursor from a previous page's "next"
	// facets= selects the facets counted: all (the default), none, or a
	// list; the index rejects unknown names as a bad request.
	req.Facets = q.Get("facets")
	if page := q.Get("page"); page != "" {
		p, err := intParam(page, 1, 1, 10000)
		if err != nil {
			writeError(w, http.StatusBadRequest, "page: "+err.Error())
			return
		}
		req.From = (p - 1) * req.Size
	}
	if req.Sort != "" && req.Sort != accordwatch.SortNewest && req.Sort != accordwatch.SortRelevance {
		writeError(w, http.StatusBadRequest, `sort: must be "newest" or "relevance"`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.SearchTimeout)
	defer cancel()
	res, err := s.o.Searcher.Search(ctx, req)
	if err != nil {
		var pe *index.ParseError
		if errors.As(err, &pe) || errors.Is(err, index.ErrBadRequest) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.o.Logger.Error("search failed", "q", req.Query, "err", err)
		writeError(w, http.StatusInternalServerError, "search failed; see the server log")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) item(w http.ResponseWriter, r *http.Request) {
	it, ok, err := s.o.Items.Item(r.PathValue("id"))
	if err != nil {
		s.o.Logger.Error("read item", "item_id", r.PathValue("id"), "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the item; see the server log")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "no item with that id")
		return
	}
	writeJSON(w, http.StatusOK, itemJSON(it))
}

func (s *server) feeds(w http.ResponseWriter, r *http.Request) {
	list, err := s.o.Feeds.FeedHealth()
	if err != nil {
		s.o.Logger.Error("list feeds", "err", err)
		writeError(w, http.StatusInternalServerError, "could not list feeds; see the server log")
		return
	}
	// FeedHealth marshals itself redacted, headers by name only.
	writeJSON(w, http.StatusOK, map[string]any{"feeds": list})
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.New("must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
