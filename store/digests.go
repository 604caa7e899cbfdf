package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketDigests maps an ISO week ("2026-W47") to its digest's delivery
// record (digestRecord as JSON; stores written before claims hold just
// the RFC 3339 time it was sent). It is created by the methods below, not
// by Open, so that it exists only once a digest was claimed.
var bucketDigests = []byte("digests")

// Digest record states.
const (
	digestPosting = "posting"
	digestSent    = "sent"
)

// digestRecord is one week's delivery record.
type digestRecord struct {
	// State is "posting" from ClaimDigest until ConfirmDigest, then "sent".
	State string `json:"state"`
	// Session is the process that claimed it (see session).
	Session   string    `json:"session,omitempty"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	// PrevSentAt is when a week re-posted with force was posted before;
	// ReleaseDigest puts it back if the new post fails.
	PrevSentAt time.Time `json:"prev_sent_at,omitzero"`
}

// session names this process in the claims it writes. It is what tells a
// claim still being posted apart from one whose poster died: bbolt lets
// one process at a time open the file for writing, so a claim written
// under another session was left by a process that no longer has the
// store, and will never confirm or release it. Process IDs cannot serve:
// in a container every start is PID 1. It is random, made once per
// process, and never changes: the process's identity, not configuration.
var session = rand.Text()

// ClaimDigest starts posting week's digest, at now. It checks the week and
// records the claim in one transaction, so of two concurrent claims at most
// one gets claimed=true, and the caller must then post and call
// ConfirmDigest once Slack accepted it, or ReleaseDigest if it did not.
//
//   - A week already sent is not claimed: claimed=false, sentAt says when.
//     With force it is claimed again (sentAt still says when), and that
//     earlier time comes back if the new post is released.
//   - A week being posted by this process (claimed, not yet confirmed or
//     released) is an error unless force.
//   - A week claimed by a process that stopped before it confirmed or
//     released is taken over, with interrupted=true: that poster may have
//     crashed after Slack accepted the digest and before it was recorded.
//
// That last case is a choice: a digest is delivered at least once, like
// alerts, never at most once. Posting it again risks a duplicate in the
// short window between Slack's answer and ConfirmDigest's commit; skipping
// it would risk a week with no digest at all whenever a post failed in
// flight, which nobody would notice.
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
		rec := digestRecord{State: digestPosting, Session: session, ClaimedAt: now.UTC()}
		switch {
		case !ok:
		case old.State == digestSent:
			sentAt = old.SentAt
			if !force {
				return nil
			}
			rec.PrevSentAt = old.SentAt
		case old.Session == session && !force:
			return fmt.Errorf("it is being posted since %s", old.ClaimedAt.Format(time.RFC3339))
		default:
			// Posting, by a process gone (or by this one, and forced).
			interrupted = old.Session != session
			rec.PrevSentAt = old.PrevSentAt
		}
		claimed = true
		return writeDigest(b, week, rec)
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
		return writeDigest(b, week, digestRecord{State: digestSent, SentAt: at.UTC()})
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
		if err != nil || !ok || rec.State != digestPosting {
			return err
		}
		if !rec.PrevSentAt.IsZero() {
			return writeDigest(b, week, digestRecord{State: digestSent, SentAt: rec.PrevSentAt})
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
		if err != nil || !found || rec.State != digestSent {
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

func readDigest(b *bolt.Bucket, week string) (digestRecord, bool, error) {
	v := b.Get([]byte(week))
	if v == nil {
		return digestRecord{}, false, nil
	}
	if !bytes.HasPrefix(v, []byte("{")) {
		// Written before claims: the time the week was sent.
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return digestRecord{}, false, fmt.Errorf("bad time %q: %w", v, err)
		}
		return digestRecord{State: digestSent, SentAt: t}, true, nil
	}
	var rec digestRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return digestRecord{}, false, fmt.Errorf("bad record: %w", err)
	}
	return rec, true, nil
}

func writeDigest(b *bolt.Bucket, week string, rec digestRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(week), v)
}
