package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options wire gauges that are read at scrape time.
type Options struct {
	// FeedHealth returns the number of feeds and how many are failing.
	FeedHealth func() (total, unhealthy int)
}

// Registry holds accordwatch's metrics. It is safe for concurrent use.
type Registry struct {
	reg     *prometheus.Registry
	fetches *prometheus.CounterVec
	bytes   prometheus.Counter
	items   prometheus.Counter
	took    prometheus.Histogram
}

// New registers the metrics on a private registry, so nothing global is
// touched and tests can make as many as they like.
func New(o Options) *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accordwatch_feed_fetches_total",
			Help: "Feed fetch attempts by result: ok, not_modified, or error_<kind>.",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accordwatch_feed_bytes_total",
			Help: "Decoded feed bytes read.",
		}),
		items: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accordwatch_feed_items_total",
			Help: "Items parsed from feeds (new or not).",
		}),
		took: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "accordwatch_feed_fetch_seconds",
			Help:    "Time to fetch and parse one feed.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
	}
	r.reg.MustRegister(r.fetches, r.bytes, r.items, r.took,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.FeedHealth != nil {
		r.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accordwatch_feeds", Help: "Feeds known."},
				func() float64 { n, _ := o.FeedHealth(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accordwatch_feeds_unhealthy", Help: "Feeds whose last attempt failed."},
				func() float64 { _, n := o.FeedHealth(); return float64(n) }),
		)
	}
	return r
}

// Fetched records one fetch attempt (it implements monitor.Metrics).
func (r *Registry) Fetched(result string, bytes int64, items int, took time.Duration) {
	r.fetches.WithLabelValues(result).Inc()
	r.bytes.Add(float64(bytes))
	r.items.Add(float64(items))
	r.took.Observe(took.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}
