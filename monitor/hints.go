package monitor

import (
	"time"

	"github.com/accordwatch/accordwatch/feeds"
)

// hintsOf reads the server's scheduling hints and a permanent redirect
// from a fetch result.
func hintsOf(res feeds.Result) (maxAge, ttl time.Duration, movedTo string) {
	return res.MaxAge, res.TTL, res.PermanentRedirect
}
