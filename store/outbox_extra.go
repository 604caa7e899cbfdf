package store

import (
	"encoding/json"
	"fmt"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

// Alert returns one outbox entry; ok is false when the ID is unknown. The
// monitor asks it whether a channel was already told about an incident
// (the incident alert's ID is stable per channel and incident).
func (s *Store) Alert(id string) (a accordwatch.Alert, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketOutbox).Get([]byte(id))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &a)
	})
	if err != nil {
		return accordwatch.Alert{}, false, fmt.Errorf("read alert %s: %w", id, err)
	}
	return a, ok, nil
}

// SaveAlerts enqueues add (skipping IDs already present, as CommitBatch does)
// and overwrites update (which must be present) in one transaction, so a
// summary message and the held-back alerts it stands for change together:
// a crash leaves either both or neither. It returns the alerts added.
func (s *Store) SaveAlerts(add, update []accordwatch.Alert) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if added, err = putAlerts(tx, add); err != nil {
			return err
		}
		b := tx.Bucket(bucketOutbox)
		for _, a := range update {
			if b.Get([]byte(a.ID)) == nil {
				return fmt.Errorf("alert %s is not in the outbox", a.ID)
			}
			if err := putAlert(tx, a); err != nil {
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
