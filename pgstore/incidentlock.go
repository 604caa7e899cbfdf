package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
	"github.com/jackc/pgx/v5"
)

// incidentLock is the session advisory lock under which a replica decides
// the incidents of a commit (see LockIncidents). The key is "incident" as
// a big-endian number, fixed forever.
const incidentLock int64 = 0x696e636964656e74

// ErrIncidentLockLost is CommitBatch's error when the incident lock this
// process took was lost (its session ended) and another replica has
// taken it since: the decisions may repeat that replica's, so nothing is
// committed, and the feeds are fetched again.
var ErrIncidentLockLost = errors.New("incident lock lost to another replica before the commit")

// checkFence, inside a commit of incident decisions, locks the fencing
// row until the commit ends and fails when another replica has taken the
// incident lock since this process took it. Without a held lock (epoch 0:
// the single-process path, or tests) there is nothing to check.
func checkFence(ctx context.Context, tx pgx.Tx, epoch int64) error {
	if epoch == 0 {
		return nil
	}
	var now int64
	if err := tx.QueryRow(ctx, "SELECT epoch FROM incident_fence WHERE id = 1 FOR UPDATE").Scan(&now); err != nil {
		return fmt.Errorf("check the incident lock: %w", err)
	}
	if now != epoch {
		return fmt.Errorf("%w (fencing number %d, now %d)", ErrIncidentLockLost, epoch, now)
	}
	return nil
}

// LockIncidents waits, at most the store's timeout, for the database-wide
// incident lock and returns its release (monitor.IncidentSync). A replica
// holds it while it catches up with the incidents other replicas
// committed, assigns its own items and commits them, so two reports of
// one story seen by two replicas at once make one incident and one
// channel message. The lock is a session lock on a pooled connection kept
// out of the pool until unlock: it dies with the connection, so a killed
// replica never leaves it held. unlock never fails: a lock it cannot give
// back is freed by closing its connection. While it is held, a commit of
// incident decisions (CommitBatch with Incidents or Members) goes ahead
// only if no other replica has taken the lock since (ErrIncidentLockLost).
func (s *Store) LockIncidents(ctx context.Context) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("take the incident lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", incidentLock); err != nil {
		// A wait cut short may have left the session in any state: close
		// it rather than hand it back to the pool.
		conn.Hijack().Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("take the incident lock: %w", err)
	}
	// The fencing number (migration 0004): CommitBatch checks it, so a
	// commit whose lock session died meanwhile cannot land after another
	// replica decided the same stories.
	var epoch int64
	if err := conn.QueryRow(ctx, "UPDATE incident_fence SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch").Scan(&epoch); err != nil {
		conn.Hijack().Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("take the incident lock: fencing number: %w", err)
	}
	s.fence.Store(epoch)
	return func() {
		s.fence.CompareAndSwap(epoch, 0)
		uctx, cancel := s.op()
		defer cancel()
		var ok bool
		if err := conn.QueryRow(uctx, "SELECT pg_advisory_unlock($1)", incidentLock).Scan(&ok); err != nil || !ok {
			conn.Hijack().Close(uctx)
			return
		}
		conn.Release()
	}, nil
}

// IncidentChangesSince returns up to limit items whose latest change is
// numbered above after, in change order, each with the incident it is in
// (the one it joined, else the one named after it), and the number of the
// last one returned (after itself when none). It is ChangesSince for the
// replicas' incident clusterers: read under the incident lock, it is
// everything other replicas decided since the caller last looked.
func (s *Store) IncidentChangesSince(ctx context.Context, after int64, limit int) (changes []store.ItemIncident, last int64, err error) {
	rows, err := s.pool.Query(ctx, `SELECT i.change_seq, coalesce(m.incident_id, i.id), i.doc
		FROM items i LEFT JOIN members m ON m.item_id = i.id
		WHERE i.change_seq > $1 ORDER BY i.change_seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("read incident changes after %d: %w", after, err)
	}
	last = after
	var seq int64
	var incidentID string
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &incidentID, &raw}, func() error {
		var it accordwatch.Item
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("decode item at change %d: %w", seq, err)
		}
		changes = append(changes, store.ItemIncident{Item: it, IncidentID: incidentID})
		last = seq
		return nil
	})
	if err != nil {
		return nil, after, fmt.Errorf("read incident changes after %d: %w", after, err)
	}
	return changes, last, nil
}

// AlertsSince returns the outbox entries created at or after since,
// oldest first (ties by ID). Read under the incident lock, it is what
// every replica queued in a rate cap's window (monitor.AlertHistory).
func (s *Store) AlertsSince(ctx context.Context, since time.Time) ([]accordwatch.Alert, error) {
	rows, err := s.pool.Query(ctx, "SELECT doc FROM alerts WHERE created_ns >= $1 ORDER BY created_ns, id", nanos(since))
	if err != nil {
		return nil, fmt.Errorf("read alerts since %s: %w", since.Format(time.RFC3339), err)
	}
	var out []accordwatch.Alert
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&raw}, func() error {
		var a accordwatch.Alert
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read alerts since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}
