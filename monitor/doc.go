// Package monitor runs accordwatch's pipeline — fetch, classify, index,
// store, match alert rules, deliver through the outbox — and the
// schedules that trigger it. The pipeline (pipeline.go, writer.go) is
// testable without a scheduler: fetch workers parse and classify in
// parallel, and one writer commits the new items of many feeds in grouped
// index batches and store transactions. schedule.go polls feeds through a
// dispatcher (dispatch.go: one timer over a heap of next checks, a bounded
// worker pool with a per-host cap) whose intervals follow pure rules
// (interval.go), and owns robfig/cron, used for the periodic jobs.
package monitor
