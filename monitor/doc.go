// Package monitor runs accordwatch's pipeline — fetch, classify, index,
// store, match alert rules, deliver through the outbox — and the cron
// schedules that trigger it. The pipeline (pipeline.go) is testable
// without a scheduler; schedule.go owns robfig/cron.
package monitor
