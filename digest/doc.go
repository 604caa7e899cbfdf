// Package digest builds the weekly report on how the Tech Accord is
// holding up, and renders it. Its one job: turn index queries over a date
// range (default an ISO week) into a Report — totals and change, counts by
// principle, state, actor, signatory and attack type, the top incidents,
// first-seen actors and signatories, quiet signatories, unhealthy feeds
// and the user's saved-search sections — with the query that reproduces
// every count, and render it as Markdown, a self-contained HTML page with
// inline SVG charts, or JSON. Runner makes it a weekly job that runs once
// per week, catching up a run missed while the daemon was down.
//
// It owns no third-party dependency: it reads the index through the small
// Searcher interface, and Slack rendering lives in notify.
package digest
