// Package notify delivers alerts to Slack. It owns github.com/slack-go/slack
// (and uses golang.org/x/time/rate for per-channel pacing): it renders an
// alert as Block Kit with every piece of feed text escaped and truncated to
// Slack's limits, posts it with a bot token (chat.postMessage) or an incoming
// webhook, or, with no Slack credentials, appends it to a JSON Lines file.
//
// Send makes exactly one attempt and classifies failures in a *SendError
// (permanent, or retry after a delay); retries belong to the caller's outbox.
// No slack-go type leaves this package.
package notify
