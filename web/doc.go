// Package web serves accordwatch's HTTP interface: the JSON search API
// that the CLI and other tools use, item lookup, health and metrics, and
// the server-rendered search page (html/template, no JavaScript) with its
// item pages. It owns net/http routing and the embedded templates.
//
// Routes: GET / (search page), GET /items/{id} (item and its evidence),
// POST /login and /logout (session cookie for browsers when a token is
// set), GET /static/style.css, GET /healthz, GET /api/search,
// GET /api/items/{id}, GET /api/feeds, GET /metrics.
package web
