package monitor

import (
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"
)

// outcome is what one attempt tells the scheduler about when to return.
type outcome struct {
	// failures is the run of consecutive failures including this attempt;
	// 0 means the attempt succeeded.
	failures int
	// gone: the server answered 410.
	gone bool
	// Server hints; 0 when absent.
	retryAfter, maxAge, ttl time.Duration
}

// limits bound every interval.
type limits struct {
	min, max, maxBackoff time.Duration
}

// jitterFrac is the feed's fixed place in [0, 1), from a hash of its URL:
// deterministic, so a restart does not reshuffle, and spread, so a
// thousand feeds on "@every 15m" do not all fire on the same second.
func jitterFrac(url string) float64 {
	h := fnv.New64a()
	h.Write([]byte(url))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// maxJitter is the share of a feed's interval its jitter may add.
const maxJitter = 0.10

// period is the schedule's interval around now: the gap between its next
// two firings (for "@every 15m", 15 minutes).
func period(s cron.Schedule, now time.Time) time.Duration {
	n1 := s.Next(now)
	if n1.IsZero() {
		return 0
	}
	n2 := s.Next(n1)
	if n2.IsZero() {
		return 0
	}
	return n2.Sub(n1)
}

// jitterFor is the feed's jitter for a base interval.
func jitterFor(frac float64, base time.Duration) time.Duration {
	return time.Duration(frac * maxJitter * float64(base))
}

// nextCheck decides when a feed is polled again after an attempt that
// ended at now. On success it is the schedule's next firing plus the
// feed's jitter, pushed later when the server asked for it (Retry-After,
// Cache-Control max-age, RSS ttl). On failure it backs off exponentially
// from the schedule's interval, up to lim.maxBackoff; a feed that is gone
// waits lim.max. Whatever the rule, the result lies between
// max(lim.min, feedMin) and lim.max after now: hints and backoff never
// make a feed poll more often than its minimum, and nothing is dropped.
func nextCheck(now time.Time, s cron.Schedule, frac float64, feedMin time.Duration, o outcome, lim limits) time.Time {
	floor := max(lim.min, feedMin)
	ceil := max(lim.max, floor)
	base := period(s, now)
	var d time.Duration
	switch {
	case o.gone:
		d = ceil
	case o.failures > 0:
		capAt := min(lim.maxBackoff, ceil)
		b := max(base, floor)
		d = b
		for i := 1; i < o.failures && d < capAt; i++ {
			d *= 2
		}
		d = min(d, capAt) + jitterFor(frac, b)
		d = max(d, o.retryAfter)
	default:
		next := s.Next(now)
		if next.IsZero() {
			d = ceil
		} else {
			d = next.Sub(now) + jitterFor(frac, base)
		}
		d = max(d, o.retryAfter, o.maxAge, o.ttl)
	}
	d = min(max(d, floor), ceil)
	return now.Add(d)
}
