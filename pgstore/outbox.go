package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accordwatch/accordwatch"
	"github.com/jackc/pgx/v5"
)

// isOpen reports whether an alert is still in play.
func isOpen(a accordwatch.Alert) bool {
	return a.Status == accordwatch.AlertPending || a.Status == accordwatch.AlertOverflow
}

// putAlerts inserts the alerts whose IDs are not in the outbox yet,
// whatever the stored one's status, and returns those it inserted. That
// skip is what makes a re-run, a restart or a second replica alert
// nothing twice: the primary key decides, not a read before the write.
func putAlerts(ctx context.Context, tx pgx.Tx, alerts []accordwatch.Alert) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	for _, a := range alerts {
		if a.Status == "" {
			a.Status = accordwatch.AlertPending
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode alert %s: %w", a.ID, err)
		}
		tag, err := tx.Exec(ctx, "INSERT INTO alerts (id, created_ns, open, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
			a.ID, nanos(a.Created), isOpen(a), raw)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			added = append(added, a)
		}
	}
	return added, nil
}

// updateAlert overwrites an outbox entry, which must exist, and ends its
// delivery claim.
func updateAlert(ctx context.Context, tx pgx.Tx, a accordwatch.Alert) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	// Recording an outcome ends a delivery's claim (DrainLocks.Claim).
	tag, err := tx.Exec(ctx, "UPDATE alerts SET created_ns = $2, open = $3, doc = $4, claim_owner = NULL, claim_until_ns = 0 WHERE id = $1",
		a.ID, nanos(a.Created), isOpen(a), raw)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("alert %s is not in the outbox", a.ID)
	}
	return nil
}

// Alert returns one outbox entry; ok is false when the ID is unknown.
func (s *Store) Alert(id string) (a accordwatch.Alert, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM alerts WHERE id = $1", &a, id)
	if err != nil {
		return accordwatch.Alert{}, false, fmt.Errorf("read alert %s: %w", id, err)
	}
	return a, ok, nil
}

// Alerts lists the whole outbox, oldest first, ties by ID.
func (s *Store) Alerts() ([]accordwatch.Alert, error) {
	out, err := listDocs[accordwatch.Alert](s, "SELECT doc FROM alerts ORDER BY created_ns, id")
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// OpenAlerts lists the alerts still in play (pending or overflow), oldest
// first, ties by ID.
func (s *Store) OpenAlerts() ([]accordwatch.Alert, error) {
	out, err := listDocs[accordwatch.Alert](s, "SELECT doc FROM alerts WHERE open ORDER BY created_ns, id")
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	return out, nil
}

// UpdateAlert records a delivery attempt's outcome. An alert that is not
// in the outbox is an error, never an insert.
func (s *Store) UpdateAlert(a accordwatch.Alert) error {
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error { return updateAlert(ctx, tx, a) })
	if err != nil {
		return fmt.Errorf("update alert %s: %w", a.ID, err)
	}
	return nil
}

// SaveAlerts enqueues add (skipping IDs already present, as CommitBatch
// does) and overwrites update (which must be present) in one transaction,
// and returns the alerts added.
func (s *Store) SaveAlerts(add, update []accordwatch.Alert) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if added, err = putAlerts(ctx, tx, add); err != nil {
			return err
		}
		for _, a := range update {
			if err := updateAlert(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save %d new and %d updated alerts: %w", len(add), len(update), err)
	}
	return added, nil
}
