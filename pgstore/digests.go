package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/jackc/pgx/v5"
)

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

func readDigest(ctx context.Context, tx pgx.Tx, week string) (accordwatch.DigestRecord, bool, error) {
	var raw []byte
	err := tx.QueryRow(ctx, "SELECT doc FROM digests WHERE week = $1", week).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return accordwatch.DigestRecord{}, false, nil
	}
	if err != nil {
		return accordwatch.DigestRecord{}, false, err
	}
	var rec accordwatch.DigestRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return accordwatch.DigestRecord{}, false, fmt.Errorf("bad record: %w", err)
	}
	return rec, true, nil
}

func writeDigest(ctx context.Context, tx pgx.Tx, week string, rec accordwatch.DigestRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO digests (week, doc) VALUES ($1, $2) ON CONFLICT (week) DO UPDATE SET doc = EXCLUDED.doc", week, raw)
	return err
}

// ClaimDigest starts posting week's digest, at now, by the rules of
// accordwatch.ClaimDigest: a week already sent is not claimed
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
		var next accordwatch.DigestRecord
		next, claimed, interrupted, sentAt, err = accordwatch.ClaimDigest(old, ok, session, now, force)
		if err != nil || !claimed {
			return err
		}
		return writeDigest(ctx, tx, week, next)
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
		return writeDigest(ctx, tx, week, accordwatch.ConfirmedDigest(at))
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
		if err != nil || !ok {
			return err
		}
		switch next, keep, change := accordwatch.ReleaseDigest(rec); {
		case !change:
			return nil
		case keep:
			return writeDigest(ctx, tx, week, next)
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
	var rec accordwatch.DigestRecord
	found, err := s.getDoc("SELECT doc FROM digests WHERE week = $1", &rec, week)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest %s sent: %w", week, err)
	}
	if !found || rec.State != accordwatch.DigestSent {
		return time.Time{}, false, nil
	}
	return rec.SentAt, true, nil
}
