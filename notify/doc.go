// Package notify delivers alerts to Slack and answers searches from Slack.
// It is the only package that imports github.com/slack-go/slack (including
// its socketmode package), and it uses golang.org/x/time/rate for
// per-channel pacing; no slack-go type leaves it.
//
// Alerts: it renders each alert kind (incident, threaded follow-up, rate-cap
// summary, in-place parent update, ops message) as Block Kit with every piece
// of feed text escaped and truncated to Slack's limits, and posts it with a
// bot token (chat.postMessage, chat.update) or an incoming webhook, which
// cannot thread or edit and so degrades follow-ups to separate messages.
// A generic JSON webhook signed with HMAC-SHA256 (VerifySignature) serves
// users not on Slack, alone or beside Slack. With no sink configured, alerts
// go to the log and a JSON Lines file.
//
// Send and UpdateParent make exactly one attempt and classify failures in a
// *SendError (permanent, or retry after a delay); retries belong to the
// caller's outbox.
//
// Search: SlashHandler (signed HTTP) and RunSocketMode answer "/accord
// QUERY" with the top results from a Searcher.
package notify
