package monitor

import (
	"hash/fnv"
	"sync"

	"github.com/accordwatch/accordwatch"
)

// seenCache remembers, per feed, the items of its last stored fetch (ID and
// a hash of the content hash). Most of a feed's items are the same from
// one poll to the next; asking the store about each of them would read
// every stored item back through bbolt's mmap on every round, which keeps
// the whole file resident. Only items the cache does not vouch for go to
// Store.Diff. It holds one entry per item currently in some feed, so it
// stays as large as the feeds are, not as the archive.
type seenCache struct {
	mu     sync.Mutex
	byFeed map[string]map[string]uint64
}

func newSeenCache() *seenCache { return &seenCache{byFeed: map[string]map[string]uint64{}} }

func contentKey(h string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(h))
	return f.Sum64()
}

// unknown returns the positions of items that are not in the feed's last
// stored fetch with the same content.
func (c *seenCache) unknown(feedURL string, items []accordwatch.Item) []int {
	c.mu.Lock()
	known := c.byFeed[feedURL]
	c.mu.Unlock()
	var out []int
	for i, it := range items {
		if h, ok := known[it.ID]; !ok || h != contentKey(it.ContentHash) {
			out = append(out, i)
		}
	}
	return out
}

// remember records a fetch whose new and changed items are stored.
func (c *seenCache) remember(feedURL string, items []accordwatch.Item) {
	m := make(map[string]uint64, len(items))
	for _, it := range items {
		m[it.ID] = contentKey(it.ContentHash)
	}
	c.mu.Lock()
	c.byFeed[feedURL] = m
	c.mu.Unlock()
}
