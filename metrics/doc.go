// Package metrics exposes accordwatch's counters in the Prometheus text
// format at /metrics: fetches by result, bytes, items, fetch latency (so
// the conditional-GET hit ratio is not_modified / all), and feed health.
// It owns github.com/prometheus/client_golang, on a private registry.
package metrics
