package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
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

// DigestPoster posts a digest on request; *digest.Runner implements it.
// It must be safe for concurrent use. A week already posted is refused
// with *digest.AlreadyPostedError unless force.
type DigestPoster interface {
	Post(ctx context.Context, from, to time.Time, force bool) (*digest.Report, digest.Posted, error)
}

// DigestPostOptions configure DigestPostHandler.
type DigestPostOptions struct {
	Poster DigestPoster
	// Location reads the request's week and dates; default UTC.
	Location *time.Location
	// Now picks the default range (the previous week); default time.Now.
	Now func() time.Time
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token  accordwatch.Secret
	Logger *slog.Logger
	// Timeout bounds building and posting one digest, Slack's rate limits
	// included; default 5 minutes.
	Timeout time.Duration
}

// DigestPostRequest is the body of POST /api/digest/post: a week or a
// from/to range of dates (to included) as `accordwatch digest` takes
// them, neither meaning the previous week; Force posts a week again.
type DigestPostRequest struct {
	Week  string `json:"week,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// DigestPostResponse is its 200 answer: what was posted, and the report.
type DigestPostResponse struct {
	Posted digest.Posted  `json:"posted"`
	Report *digest.Report `json:"report"`
}

// DigestConflict is its 409 answer, for a week already posted.
type DigestConflict struct {
	Error    string    `json:"error"`
	Week     string    `json:"week"`
	PostedAt time.Time `json:"posted_at"`
}

// DigestPostHandler serves POST /api/digest/post, so `accordwatch digest
// --post` posts through the daemon while it owns the store, and the week
// is recorded where the daemon's own schedule looks. It changes state, so
// it takes only JSON and a bearer token when one is set; mount it behind
// Guard, which refuses it cross-site. Answers: 200 DigestPostResponse, 400
// for a bad body or range, 409 DigestConflict for a week already posted,
// 500 with the reason when building or posting failed.
//
// A post, once started, runs to its end even if the client goes away: cut
// off between Slack's answer and the record, it would leave a digest
// delivered but not recorded, to be posted again.
func DigestPostHandler(o DigestPostOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return requireBearer(o.Token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		// Checked here as well as in Guard, as for silences: a JSON body
		// smuggled in a form or text/plain post must not be read.
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "send the request as JSON with Content-Type: application/json")
			return
		}
		var req DigestPostRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "body: "+err.Error())
			return
		}
		from, to, err := digest.ParseRange(req.Week, req.From, req.To, o.Now(), o.Location)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(o.Timeout + digestSendTime))
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), o.Timeout)
		defer cancel()
		rep, posted, err := o.Poster.Post(ctx, from, to, req.Force)
		if ap, ok := errors.AsType[*digest.AlreadyPostedError](err); ok {
			writeJSON(w, http.StatusConflict, DigestConflict{Error: ap.Error(), Week: ap.Week, PostedAt: ap.At})
			return
		}
		if err != nil {
			// The reason is the client's to see: the sender's errors carry
			// no token or webhook URL.
			o.Logger.Error("post digest", "err", err)
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, DigestPostResponse{Posted: posted, Report: rep})
	}))
}
