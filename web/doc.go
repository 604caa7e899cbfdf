// Package web serves accordwatch's HTTP interface: the JSON search API
// that the CLI and other tools use, item lookup, health and metrics, and
// the server-rendered search page (html/template, no JavaScript) with its
// item pages. It owns net/http routing, the embedded templates, and the
// defenses of the daemon's listener: Guard (host allow-list against DNS
// rebinding, cross-site request refusal, JSON-only API writes), NewServer
// and LimitListener (timeouts, header and connection limits), in-memory
// browser sessions with budgeted sign-in, and the views that keep feed
// credentials out of every answer.
//
// Routes: GET / (search page), GET /items/{id} (item and its evidence),
// POST /login and /logout (session cookie for browsers when a token is
// set), GET /static/style.css, GET /healthz, GET /api/search,
// GET /api/items/{id}, GET /api/feeds, GET /metrics; SilencesHandler and
// DigestHandler serve /api/silences, /api/digest and POST /api/digest/post.
package web
