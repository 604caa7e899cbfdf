// Package monitor runs accordwatch's pipeline — fetch, classify, index,
// group into incidents, match alert rules, store, deliver through the
// outbox — and the schedules that trigger it. It owns robfig/cron.
//
// The pipeline (pipeline.go, writer.go) is testable without a scheduler:
// fetch workers parse and classify in parallel, and one writer commits the
// new items of many feeds in grouped index batches and store
// transactions. alerting.go decides, in that same transaction, which
// incident each new item joins (through an incident.Clusterer) and what
// each channel is told: one incident message per channel and incident,
// follow-ups for later sources, silenced and rate-capped alerts recorded
// but held back. drain.go delivers the outbox by kind — incident messages
// record their Slack thread, follow-ups are threaded under it and update
// it, rate-capped alerts become one summary per channel — and marks an
// alert sent only after the notifier accepted it.
//
// schedule.go polls feeds through a dispatcher (dispatch.go: one timer
// over a heap of next checks, a bounded worker pool with a per-host cap)
// whose intervals follow pure rules (interval.go), runs the outbox drain
// (on new alerts, at start, when a deferred alert is due, and every 30 s)
// and the periodic jobs on robfig/cron.
//
// article.go fetches the articles of new summary-only items beside the
// poll; one still on its way at the commit is marked pending in that
// commit and cleared by the commit that adds it, and resume.go fetches
// the marks no process finished (a stop, a crash) at start and every
// 5 minutes, claiming each so one process fetches it.
//
// Replicas sharing one database (PostgreSQL) use small interfaces,
// all unset on bbolt: a FeedLeaser (lease.go) lets a dispatcher poll only
// the feeds whose lease it holds, renewed while polling and released with
// the next check, and a HostLeaser (article.go) holds article fetches to
// the same per-host cap; ChannelLocks (outboxshare.go) gives each outbox
// destination one drainer; an IndexTail (indextail.go) follows the
// store's item change sequence into the local index. IncidentSync
// (incidentsync.go) makes each commit's incident decisions under one
// database-wide lock, after the clusterer has learned what the other
// replicas committed, and AlertHistory lets the rate caps count their
// alerts too.
package monitor
