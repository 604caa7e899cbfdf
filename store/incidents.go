package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

var (
	// bucketIncidents maps an incident ID to the incident.
	bucketIncidents = []byte("incidents")
	// bucketSignatures maps an item ID to the incident it joined and its
	// near-duplicate signature (opaque JSON owned by the caller), so the
	// clusterer can be rebuilt after a restart.
	bucketSignatures = []byte("signatures")
	// bucketThreads maps "channel\x00incidentID" to the Slack ref of the
	// incident's message there and when the channel last heard of it.
	bucketThreads  = []byte("threads")
	bucketSilences = []byte("silences")
)

// Member is one item's place in an incident.
type Member struct {
	ItemID     string          `json:"item_id"`
	IncidentID string          `json:"incident_id"`
	Signature  json.RawMessage `json:"signature,omitempty"`
}

// Batch is everything one pipeline step writes, in one transaction:
// items, the incidents they joined (whole, as updated), their members'
// signatures, and the alerts they earned.
type Batch struct {
	Items     []accordwatch.Item
	Incidents []accordwatch.Incident
	Members   []Member
	Alerts    []accordwatch.Alert
}

// CommitBatch writes a batch atomically and returns the alerts actually
// added (see Enqueue).
func (s *Store) CommitBatch(b Batch) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putItems(tx, b.Items); err != nil {
			return err
		}
		ib := tx.Bucket(bucketIncidents)
		for _, inc := range b.Incidents {
			raw, err := json.Marshal(inc)
			if err != nil {
				return err
			}
			if err := ib.Put([]byte(inc.ID), raw); err != nil {
				return err
			}
		}
		sb := tx.Bucket(bucketSignatures)
		for _, m := range b.Members {
			raw, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := sb.Put([]byte(m.ItemID), raw); err != nil {
				return err
			}
		}
		var err error
		added, err = putAlerts(tx, b.Alerts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit batch: %w", err)
	}
	return added, nil
}

// Incident returns one incident; ok is false when unknown.
func (s *Store) Incident(id string) (inc accordwatch.Incident, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketIncidents).Get([]byte(id))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &inc)
	})
	return inc, ok, err
}

// MemberOf returns the incident an item joined; ok is false when none.
func (s *Store) MemberOf(itemID string) (m Member, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketSignatures).Get([]byte(itemID))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &m)
	})
	return m, ok, err
}

// RecentMembers calls fn for the members of every incident last seen at or
// after since, to rebuild the clusterer after a restart.
func (s *Store) RecentMembers(since time.Time, fn func(accordwatch.Incident, Member) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		ib := tx.Bucket(bucketIncidents)
		sb := tx.Bucket(bucketSignatures)
		return ib.ForEach(func(_, v []byte) error {
			var inc accordwatch.Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return err
			}
			if inc.LastSeen.Before(since) {
				return nil
			}
			for _, id := range inc.ItemIDs {
				raw := sb.Get([]byte(id))
				if raw == nil {
					continue
				}
				var m Member
				if err := json.Unmarshal(raw, &m); err != nil {
					return err
				}
				if err := fn(inc, m); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// Thread is where an incident's message sits in a channel.
type Thread struct {
	Ref string `json:"ref"`
	// LastPosted is when the channel last got a message about the incident.
	LastPosted time.Time `json:"last_posted"`
}

func threadKey(channel, incidentID string) []byte { return []byte(channel + "\x00" + incidentID) }

// Thread returns the incident's message in a channel; ok is false when the
// channel has not been told about the incident yet.
func (s *Store) Thread(channel, incidentID string) (th Thread, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketThreads).Get(threadKey(channel, incidentID))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &th)
	})
	return th, ok, err
}

// SetThread records (or refreshes) an incident's message in a channel.
func (s *Store) SetThread(channel, incidentID string, th Thread) error {
	raw, err := json.Marshal(th)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThreads).Put(threadKey(channel, incidentID), raw)
	})
}

// AddSilence stores a silence; its ID must be set.
func (s *Store) AddSilence(sl accordwatch.Silence) error {
	if sl.ID == "" {
		return errors.New("silence without ID")
	}
	raw, err := json.Marshal(sl)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSilences).Put([]byte(sl.ID), raw)
	})
}

// Silences lists every silence, oldest first.
func (s *Store) Silences() ([]accordwatch.Silence, error) {
	var out []accordwatch.Silence
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSilences).ForEach(func(_, v []byte) error {
			var sl accordwatch.Silence
			if err := json.Unmarshal(v, &sl); err != nil {
				return err
			}
			out = append(out, sl)
			return nil
		})
	})
	sortSilences(out)
	return out, err
}

// ExpireSilence ends a silence now; ok is false when the ID is unknown.
func (s *Store) ExpireSilence(id string, now time.Time) (sl accordwatch.Silence, ok bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSilences)
		raw := b.Get([]byte(id))
		if raw == nil {
			return nil
		}
		ok = true
		if err := json.Unmarshal(raw, &sl); err != nil {
			return err
		}
		if sl.Expires.After(now) {
			sl.Expires = now
		}
		raw, err := json.Marshal(sl)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), raw)
	})
	return sl, ok, err
}

func sortSilences(l []accordwatch.Silence) {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Created.Before(l[j].Created) })
}
