package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Digest record states, as in the bbolt store.
const (
	digestPosting = "posting"
	digestSent    = "sent"
)

// digestRecord is one week's delivery record (the bbolt store's shape).
type digestRecord struct {
	State      string    `json:"state"`
	Session    string    `json:"session,omitempty"`
	ClaimedAt  time.Time `json:"claimed_at,omitzero"`
	SentAt     time.Time `json:"sent_at,omitzero"`
	PrevSentAt time.Time `json:"prev_sent_at,omitzero"`
}

// session names this process in the claims it writes, as in the bbolt
// store: a claim under another session is taken over as interrupted.
//
// With one database shared by replicas that reading is too eager — another
// session may be a live replica still posting — so serving several
// replicas needs a claim that expires (a lease); until then the weekly
// digest should run on one replica. It is random, made once per process.
var session = rand.Text()

// digestLockKey is the namespace of the transaction advisory locks that
// serialise claims of one week: the row may not exist yet, so a row lock
// cannot serve.
const digestLockKey = "accordwatch.digest:"

func lockWeek(ctx context.Context, tx pgx.Tx, week string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", digestLockKey+week)
	return err
}

func readDigest(ctx context.Context, tx pgx.Tx, week string) (digestRecord, bool, error) {
	var raw []byte
	err := tx.QueryRow(ctx, "SELECT doc FROM digests WHERE week = $1", week).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return digestRecord{}, false, nil
	}
	if err != nil {
		return digestRecord{}, false, err
	}
	var rec digestRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return digestRecord{}, false, fmt.Errorf("bad record: %w", err)
	}
	return rec, true, nil
}

func writeDigest(ctx context.Context, tx pgx.Tx, week string, rec digestRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO digests (week, doc) VALUES ($1, $2) ON CONFLICT (week) DO UPDATE SET doc = EXCLUDED.doc", week, raw)
	return err
}

// ClaimDigest starts posting week's digest, at now, with the bbolt store's
// rules (see store.Store.ClaimDigest): a week already sent is not claimed
// unless force; a week being posted by this process is an error unless
// force; a week claimed by another session is taken over with
// interrupted=true. Of two concurrent claims at most one gets claimed=true.
func (s *Store) ClaimDigest(week string, now time.Time, force bool) (claimed, interrupted bool, sentAt time.Time, err error) {
	if week == "" {
		return false, false, time.Time{}, fmt.Errorf("claim digest: empty week")
	}
	err = s.tx(func(ctx context.Context, tx pgx.Tx) error {
		claimed, interrupted, sentAt = false, false, time.Time{}
		if err := lockWeek(ctx, tx, week); err != nil {
			return err
		}
		old, ok, err := readDigest(ctx, tx, week)
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
			interrupted = old.Session != session
			rec.PrevSentAt = old.PrevSentAt
		}
		claimed = true
		return writeDigest(ctx, tx, week, rec)
	})
	if err != nil {
		return false, false, time.Time{}, fmt.Errorf("claim digest %s: %w", week, err)
	}
	return claimed, interrupted, sentAt, nil
}

// ConfirmDigest records week's digest as sent at at, whatever the record
// said.
func (s *Store) ConfirmDigest(week string, at time.Time) error {
	if week == "" {
		return fmt.Errorf("confirm digest: empty week")
	}
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		if err := lockWeek(ctx, tx, week); err != nil {
			return err
		}
		return writeDigest(ctx, tx, week, digestRecord{State: digestSent, SentAt: at.UTC()})
	})
	if err != nil {
		return fmt.Errorf("confirm digest %s: %w", week, err)
	}
	return nil
}

// ReleaseDigest gives up a claim whose post failed: a week re-posted with
// force is sent again as before, a week never sent has no record. A week
// already confirmed is kept.
func (s *Store) ReleaseDigest(week string) error {
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		if err := lockWeek(ctx, tx, week); err != nil {
			return err
		}
		rec, ok, err := readDigest(ctx, tx, week)
		if err != nil || !ok || rec.State != digestPosting {
			return err
		}
		if !rec.PrevSentAt.IsZero() {
			return writeDigest(ctx, tx, week, digestRecord{State: digestSent, SentAt: rec.PrevSentAt})
		}
		_, err = tx.Exec(ctx, "DELETE FROM digests WHERE week = $1", week)
		return err
	})
	if err != nil {
		return fmt.Errorf("release digest %s: %w", week, err)
	}
	return nil
}

// DigestSent reports whether week's digest was sent, and when. A week
// claimed but not confirmed is not sent.
func (s *Store) DigestSent(week string) (at time.Time, ok bool, err error) {
	var rec digestRecord
	found, err := s.getDoc("SELECT doc FROM digests WHERE week = $1", &rec, week)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest %s sent: %w", week, err)
	}
	if !found || rec.State != digestSent {
		return time.Time{}, false, nil
	}
	return rec.SentAt, true, nil
}
