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
		r.reg.MustRegister(feedHealthCollector{o.FeedHealth})
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

var (
	feedsDesc     = prometheus.NewDesc("accordwatch_feeds", "Feeds known.", nil, nil)
	unhealthyDesc = prometheus.NewDesc("accordwatch_feeds_unhealthy", "Feeds whose last attempt failed.", nil, nil)
)

// feedHealthCollector reads feed health once per scrape for both gauges.
type feedHealthCollector struct{ health func() (total, unhealthy int) }

func (c feedHealthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- feedsDesc
	ch <- unhealthyDesc
}

func (c feedHealthCollector) Collect(ch chan<- prometheus.Metric) {
	total, unhealthy := c.health()
	ch <- prometheus.MustNewConstMetric(feedsDesc, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(unhealthyDesc, prometheus.GaugeValue, float64(unhealthy))
}
