package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/digest"
)

// DigestOptions configure DigestHandler.
type DigestOptions struct {
	Searcher Searcher
	// Feeds adds the unhealthy feeds to the digest when set.
	Feeds Feeds
	// Digest holds the zone, base URL and saved sections (its Now is
	// the clock for the default range).
	Digest digest.Options
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token  accordwatch.Secret
	Logger *slog.Logger
	// Timeout bounds building one digest; default 30s. The handler sets
	// its connection's write deadline from it, so it may exceed the
	// server's WriteTimeout.
	Timeout time.Duration
}

// digestSendTime is how long DigestHandler allows for sending a built
// digest, on top of DigestOptions.Timeout.
const digestSendTime = 30 * time.Second

// DigestHandler serves GET /api/digest?week=2026-W47 (or from=&to= dates,
// to inclusive; neither = the previous week) &format=json|md|html
// (default json), so `accordwatch digest` works while serve owns the
// index. A bad range or format is a 400 with the reason.
func DigestHandler(o DigestOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Digest.Now == nil {
		o.Digest.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		if o.Token.IsSet() && !bearerOK(o.Token, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="accordwatch"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		q := r.URL.Query()
		format := q.Get("format")
		if format == "" {
			format = "json"
		}
		if format != "json" && format != "md" && format != "html" {
			writeError(w, http.StatusBadRequest, "format: want json, md or html")
			return
		}
		from, to, err := digest.ParseRange(q.Get("week"), q.Get("from"), q.Get("to"), o.Digest.Now(), o.Digest.Location)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		// A digest may take longer than the server's WriteTimeout allows
		// other requests; give this one its own budget plus time to send
		// the page. Writers that cannot set deadlines (tests) are fine.
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(o.Timeout + digestSendTime))
		ctx, cancel := context.WithTimeout(r.Context(), o.Timeout)
		defer cancel()
		var feeds digest.FeedHealthSource
		if o.Feeds != nil {
			feeds = o.Feeds // digest.Build redacts what it shows
		}
		rep, err := digest.Build(ctx, o.Searcher, feeds, from, to, o.Digest)
		if err != nil {
			o.Logger.Error("build digest", "err", err)
			writeError(w, http.StatusInternalServerError, "could not build the digest")
			return
		}
		var buf bytes.Buffer
		switch format {
		case "json":
			err = rep.JSON(&buf)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		case "md":
			err = rep.Markdown(&buf)
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		case "html":
			err = rep.HTML(&buf)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// The page is self-contained: no scripts, no fetches.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
		}
		if err != nil {
			o.Logger.Error("render digest", "format", format, "err", err)
			writeError(w, http.StatusInternalServerError, "could not render the digest")
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(buf.Bytes())
	})
}
