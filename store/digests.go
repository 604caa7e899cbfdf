package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketDigests maps an ISO week ("2026-W47") to when its digest was sent
// (RFC 3339). It is created by the methods below, not by Open, so that
// it exists only once a digest was recorded.
var bucketDigests = []byte("digests")

// MarkDigestSent records that week's digest as sent at at. It is atomic:
// of two calls for one week, exactly one gets first=true, and a week
// already recorded keeps its first time.
func (s *Store) MarkDigestSent(week string, at time.Time) (first bool, err error) {
	if week == "" {
		return false, fmt.Errorf("mark digest sent: empty week")
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDigests)
		if err != nil {
			return err
		}
		if b.Get([]byte(week)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(week), []byte(at.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return false, fmt.Errorf("mark digest %s sent: %w", week, err)
	}
	return first, nil
}

// DigestSent reports whether week's digest was sent, and when.
func (s *Store) DigestSent(week string) (at time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDigests)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(week))
		if v == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return fmt.Errorf("bad time %q: %w", v, err)
		}
		at, ok = t, true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest %s sent: %w", week, err)
	}
	return at, ok, nil
}
