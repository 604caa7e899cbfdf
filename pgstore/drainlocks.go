package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// drainLockPrefix namespaces the advisory locks of outbox destinations.
const drainLockPrefix = "accordwatch drain "

// DrainLocks chooses one drainer per outbox destination among replicas
// (monitor.ChannelLocks): session advisory locks, one per spelling of a
// destination, held on a connection of their own. A lock stays with its
// replica for as long as the replica lives, so one process paces each
// Slack channel; when the process dies its connection ends and the
// server frees its locks — at once for a killed process, within about
// half a minute (see dedicatedConn) for a lost machine. It is safe
// for concurrent use.
type DrainLocks struct {
	s *Store
	// owner names this process in the alerts' delivery claims.
	owner string
	mu    sync.Mutex
	conn  *pgx.Conn
	held  map[string]bool
}

// DrainLocks returns the store's destination locks, the same for every
// call (two handles in one process would each refuse the other's locks).
// Close frees them.
func (s *Store) DrainLocks() *DrainLocks {
	s.drainOnce.Do(func() {
		var b [8]byte
		rand.Read(b[:])
		s.drain = &DrainLocks{s: s, owner: hex.EncodeToString(b[:]), held: map[string]bool{}}
	})
	return s.drain
}

// Hold takes the locks of every spelling in group, one destination, and
// reports whether this process holds them all. When another process
// holds any of them, it gives back every lock of the group it had, so
// two replicas that each hold one spelling of a destination (one learned
// the channel's ID before the other) do not block each other forever.
func (l *DrainLocks) Hold(ctx context.Context, group []string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.connect(ctx); err != nil {
		return false, err
	}
	keys := slices.Compact(slices.Sorted(slices.Values(group)))
	for _, k := range keys {
		if l.held[k] {
			continue
		}
		var ok bool
		if err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", drainLockPrefix+k).Scan(&ok); err != nil {
			l.drop(ctx)
			return false, fmt.Errorf("take the outbox lock of %q: %w", k, err)
		}
		if !ok {
			for _, k := range keys {
				if l.held[k] {
					if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", drainLockPrefix+k); err != nil {
						l.drop(ctx)
						return false, fmt.Errorf("give back the outbox lock of %q: %w", k, err)
					}
					delete(l.held, k)
				}
			}
			return false, nil
		}
		l.held[k] = true
	}
	return true, nil
}

// Claim reserves the open alert id for this process to post, until the
// store's AlertClaim from now (the database's clock), and reports whether
// it got it: false when the alert is no longer open or another process's
// claim on it has not expired. The row is locked with SKIP LOCKED, so a
// claim never waits for another replica's. Recording the alert's outcome
// (UpdateAlert, SaveAlerts) ends the claim. The channel lock already makes
// this process the channel's only drainer; the claim covers the moments
// when that lock changes hands under a post in flight.
func (l *DrainLocks) Claim(ctx context.Context, id string) (bool, error) {
	var got string
	err := l.s.pool.QueryRow(ctx, `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1e9)::bigint AS ns)
		UPDATE alerts SET claim_owner = $2, claim_until_ns = (SELECT ns FROM now) + $3
		WHERE id = (
			SELECT id FROM alerts
			WHERE id = $1 AND open AND (claim_owner IS NULL OR claim_owner = $2 OR claim_until_ns <= (SELECT ns FROM now))
			FOR UPDATE SKIP LOCKED
		)
		RETURNING id`, id, l.owner, l.s.alertClaim.Nanoseconds()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim alert %s: %w", id, err)
	}
	return true, nil
}

// connect opens the lock connection, or proves the open one alive: when
// it died, so did its locks, and Hold must take them again.
func (l *DrainLocks) connect(ctx context.Context) error {
	if l.conn != nil {
		if err := l.conn.Ping(ctx); err == nil {
			return nil
		}
		l.drop(ctx)
	}
	conn, err := l.s.dedicatedConn(ctx)
	if err != nil {
		return fmt.Errorf("outbox locks: %w", err)
	}
	l.conn = conn
	return nil
}

// drop closes the lock connection, which frees whatever locks it held.
func (l *DrainLocks) drop(ctx context.Context) {
	if l.conn != nil {
		l.conn.Close(context.WithoutCancel(ctx))
	}
	l.conn = nil
	clear(l.held)
}

// Close frees every lock this process holds, at once: closing the
// connection alone would free them only when the server's backend has
// exited, a moment later.
func (l *DrainLocks) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	}
	l.drop(context.Background())
	return nil
}
