package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

// bucketDigests maps an ISO week ("2026-W47") to its digest's delivery
// record (accordwatch.DigestRecord as JSON; stores written before claims hold just
// the RFC 3339 time it was sent). It is created by the methods below, not
// by Open, so that it exists only once a digest was claimed.
var bucketDigests = []byte("digests")

// session names this process in the claims it writes. It is what tells a
// claim still being posted apart from one whose poster died: bbolt lets
// one process at a time open the file for writing, so a claim written
// under another session was left by a process that no longer has the
// store, and will never confirm or release it. Process IDs cannot serve:
// in a container every start is PID 1. It is random, made once per
// process, and never changes: the process's identity, not configuration.
var session = rand.Text()

// ClaimDigest starts posting week's digest, at now, by the rules of
// accordwatch.ClaimDigest, checking and recording the claim in one
// transaction: of two concurrent claims at most one gets claimed=true, and
// the caller must then post and call ConfirmDigest once Slack accepted it,
// or ReleaseDigest if it did not.
func (s *Store) ClaimDigest(week string, now time.Time, force bool) (claimed, interrupted bool, sentAt time.Time, err error) {
	if week == "" {
		return false, false, time.Time{}, fmt.Errorf("claim digest: empty week")
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDigests)
		if err != nil {
			return err
		}
		old, ok, err := readDigest(b, week)
		if err != nil {
			return err
		}
		var next accordwatch.DigestRecord
		next, claimed, interrupted, sentAt, err = accordwatch.ClaimDigest(old, ok, session, now, force)
		if err != nil || !claimed {
			return err
		}
		return writeDigest(b, week, next)
	})
	if err != nil {
		return false, false, time.Time{}, fmt.Errorf("claim digest %s: %w", week, err)
	}
	return claimed, interrupted, sentAt, nil
}

// ConfirmDigest records week's digest as sent at at, whatever the record
// said: Slack has it, so the week must not be posted again.
func (s *Store) ConfirmDigest(week string, at time.Time) error {
	if week == "" {
		return fmt.Errorf("confirm digest: empty week")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDigests)
		if err != nil {
			return err
		}
		return writeDigest(b, week, accordwatch.ConfirmedDigest(at))
	})
	if err != nil {
		return fmt.Errorf("confirm digest %s: %w", week, err)
	}
	return nil
}

// ReleaseDigest gives up a claim whose post failed, so the week can be
// posted again: a week re-posted with force is sent again as before, a
// week never sent has no record. A week already confirmed is kept.
func (s *Store) ReleaseDigest(week string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDigests)
		if b == nil {
			return nil
		}
		rec, ok, err := readDigest(b, week)
		if err != nil || !ok {
			return err
		}
		switch next, keep, change := accordwatch.ReleaseDigest(rec); {
		case !change:
			return nil
		case keep:
			return writeDigest(b, week, next)
		}
		return b.Delete([]byte(week))
	})
	if err != nil {
		return fmt.Errorf("release digest %s: %w", week, err)
	}
	return nil
}

// DigestSent reports whether week's digest was sent, and when. A week
// claimed but not confirmed is not sent.
func (s *Store) DigestSent(week string) (at time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDigests)
		if b == nil {
			return nil
		}
		rec, found, err := readDigest(b, week)
		if err != nil || !found || rec.State != accordwatch.DigestSent {
			return err
		}
		at, ok = rec.SentAt, true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest %s sent: %w", week, err)
	}
	return at, ok, nil
}

func readDigest(b *bolt.Bucket, week string) (accordwatch.DigestRecord, bool, error) {
	v := b.Get([]byte(week))
	if v == nil {
		return accordwatch.DigestRecord{}, false, nil
	}
	if !bytes.HasPrefix(v, []byte("{")) {
		// Written before claims: the time the week was sent.
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return accordwatch.DigestRecord{}, false, fmt.Errorf("bad time %q: %w", v, err)
		}
		return accordwatch.DigestRecord{State: accordwatch.DigestSent, SentAt: t}, true, nil
	}
	var rec accordwatch.DigestRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return accordwatch.DigestRecord{}, false, fmt.Errorf("bad record: %w", err)
	}
	return rec, true, nil
}

func writeDigest(b *bolt.Bucket, week string, rec accordwatch.DigestRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(week), v)
}
