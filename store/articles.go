package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketArticlePending maps the ID of an item whose article fetch had not
// finished when the item was committed to when it was first marked (Unix
// nanoseconds, big-endian). The queue is short — the articles in flight
// at a stop — so claims scan it whole.
var bucketArticlePending = []byte("article_pending")

// articleClaims are the claims on pending articles. A bbolt file is owned
// by one process, so they live in that process's memory: a restart, the
// only way another process gets the file, forgets them, and the new
// process may resume every pending article at once.
type articleClaims struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (c *articleClaims) set(l []PendingArticle, done []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.until == nil {
		c.until = map[string]time.Time{}
	}
	for _, p := range l {
		c.until[p.ItemID] = p.ClaimedUntil
	}
	for _, id := range done {
		delete(c.until, id)
	}
}

// markArticles writes pending marks (keeping an existing mark's time) and
// then clears those in done.
func (s *Store) markArticles(tx *bolt.Tx, pending []PendingArticle, done []string) error {
	if len(pending) == 0 && len(done) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketArticlePending)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if p.ItemID == "" {
			return fmt.Errorf("pending article without item ID")
		}
		if b.Get([]byte(p.ItemID)) != nil {
			continue
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], timeBits(p.Since))
		if err := b.Put([]byte(p.ItemID), v[:]); err != nil {
			return err
		}
	}
	for _, id := range done {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// ClaimArticles returns up to limit pending articles whose claim ended by
// now, oldest mark first (ties by item ID), each claimed until until. ctx
// is unused: a bbolt read does not block.
func (s *Store) ClaimArticles(_ context.Context, now, until time.Time, limit int) ([]PendingArticle, error) {
	if limit <= 0 {
		return nil, nil
	}
	var all []PendingArticle
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketArticlePending)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("pending article %s: bad mark", k)
			}
			all = append(all, PendingArticle{ItemID: string(k), Since: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("claim pending articles: %w", err)
	}
	slices.SortFunc(all, func(a, b PendingArticle) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ItemID, b.ItemID)
	})
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	if s.claims.until == nil {
		s.claims.until = map[string]time.Time{}
	}
	var out []PendingArticle
	for _, p := range all {
		if len(out) == limit {
			break
		}
		if u, ok := s.claims.until[p.ItemID]; ok && u.After(now) {
			continue
		}
		p.ClaimedUntil = until
		s.claims.until[p.ItemID] = until
		out = append(out, p)
	}
	return out, nil
}
