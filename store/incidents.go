package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

var (
	// bucketIncidents maps an incident ID to the incident.
	// Since singletons are implicit (see Batch), it holds only incidents
	// that more than one item joined, and singletons written by older
	// versions.
	bucketIncidents = []byte("incidents")
	// bucketSignatures maps an item ID to the incident it joined. Older
	// versions also stored its near-duplicate signature (opaque JSON owned
	// by the caller) and a record for every item; see Batch.
	bucketSignatures = []byte("signatures")
	// bucketSingletons keys "time\x00…itemID" (time as big-endian Unix
	// nanoseconds) for items that started their own incident, so a restart
	// finds the recent ones in time order. Its keys are small and mostly
	// appended, which keeps the pages a commit touches few.
	bucketSingletons = []byte("singletons")
	// bucketThreads maps "channel\x00incidentID" to the Slack ref of the
	// incident's message there and when the channel last heard of it.
	bucketThreads  = []byte("threads")
	bucketSilences = []byte("silences")
)

// Member is one item's place in an incident.
type Member struct {
	ItemID     string `json:"item_id"`
	IncidentID string `json:"incident_id"`
	// Signature is set only in records of older versions; callers
	// recompute it from the item when it is empty.
	Signature json.RawMessage `json:"signature,omitempty"`
}

// ItemIncident is an item with the incident it is in: the one it joined,
// or the one named after it.
type ItemIncident struct {
	Item       accordwatch.Item
	IncidentID string
}

// Singleton is an item that started its own incident (incident ID = item
// ID) at Time, the item's time.
type Singleton struct {
	ItemID string
	Time   time.Time
}

// Batch is everything one pipeline step writes, in one transaction:
// items, the incidents they joined (whole, as updated), their members,
// the items that started their own incident, and the alerts they earned.
//
// Most incidents have one item, so they are implicit: the caller writes an
// incident only once a second item joins it, a member only when its
// incident is not named after the item, and a Singleton for every item
// that starts an incident; readers treat an unknown incident whose ID is a
// stored item's as that item's singleton.
type Batch struct {
	Items      []accordwatch.Item
	Incidents  []accordwatch.Incident
	Members    []Member
	Singletons []Singleton
	// SingletonsSince, when set, drops Singletons older than it and
	// forgets stored ones older than it: no restart will ask for them.
	SingletonsSince time.Time
	Alerts          []accordwatch.Alert
	// ArticlesPending marks items whose article is still being fetched
	// (see PendingArticle), in the same transaction as the items, so a
	// process that stops before the article arrives leaves a mark to
	// resume from. ArticlesDone clears the marks of items whose article
	// arrived or failed for good; it wins over a mark in the same batch.
	ArticlesPending []PendingArticle
	ArticlesDone    []string
}

// PendingArticle is an item committed before its article fetch finished.
// The mark is durable; its claim says who may fetch it now.
type PendingArticle struct {
	ItemID string
	// Since is when the item was first marked pending (kept on re-marking).
	Since time.Time
	// ClaimedUntil is until when the fetch that marked it, or the last
	// ClaimArticles to return it, owns the fetch; no claim returns it
	// before then. In the bbolt store, which one process owns, claims are
	// kept in that process's memory and end with it.
	ClaimedUntil time.Time
}

// singletonKey orders singletons by time, then item ID.
func singletonKey(t time.Time, itemID string) []byte {
	k := make([]byte, 8, 8+len(itemID))
	binary.BigEndian.PutUint64(k, timeBits(t))
	return append(k, itemID...)
}

// timeBits is t as an unsigned, order-preserving number (times before
// 1970 count as 1970).
func timeBits(t time.Time) uint64 {
	if n := t.UnixNano(); n > 0 {
		return uint64(n)
	}
	return 0
}

// maxForget bounds how many stale singletons one commit deletes, so a
// first commit after a long pause stays short.
const maxForget = 1000

func putSingletons(tx *bolt.Tx, l []Singleton, since time.Time) error {
	if len(l) == 0 && since.IsZero() {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketSingletons)
	if err != nil {
		return err
	}
	if !since.IsZero() {
		bound := singletonKey(since, "")
		var stale [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, bound) < 0 && len(stale) < maxForget; k, _ = c.Next() {
			stale = append(stale, bytes.Clone(k))
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, sg := range l {
		if !since.IsZero() && sg.Time.Before(since) {
			continue
		}
		if err := b.Put(singletonKey(sg.Time, sg.ItemID), nil); err != nil {
			return err
		}
	}
	return nil
}

// CommitBatch writes a batch atomically and returns the alerts actually
// added: an alert whose ID is already in the outbox, whatever its status, is
// skipped — that is what makes a re-run or a restart alert nothing twice.
func (s *Store) CommitBatch(b Batch) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	// Claimed before the marks are visible, so a ClaimArticles that sees
	// a new mark also sees its claim.
	s.claims.set(b.ArticlesPending, nil)
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
		if err := putSingletons(tx, b.Singletons, b.SingletonsSince); err != nil {
			return err
		}
		if err := s.markArticles(tx, b.ArticlesPending, b.ArticlesDone); err != nil {
			return err
		}
		var err error
		added, err = putAlerts(tx, b.Alerts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit batch: %w", err)
	}
	s.claims.set(nil, b.ArticlesDone)
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

// RecentIncidents returns up to limit stored incidents, the most recently
// seen first (ties by ID). Only incidents that more than one report
// joined are stored (see Batch), so these are the stories that were
// merged. It reads every stored incident: it serves the command line and
// the API, not the pipeline.
func (s *Store) RecentIncidents(limit int) ([]accordwatch.Incident, error) {
	var out []accordwatch.Incident
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			var inc accordwatch.Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return fmt.Errorf("incident %s: %w", k, err)
			}
			out = append(out, inc)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("recent incidents: %w", err)
	}
	slices.SortFunc(out, func(a, b accordwatch.Incident) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
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

// IncidentOf returns the ID of the incident an item joined as a later
// report; ok is false for an item that joined none (or started its own).
func (s *Store) IncidentOf(itemID string) (string, bool, error) {
	m, ok, err := s.MemberOf(itemID)
	return m.IncidentID, ok && m.IncidentID != "", err
}

// RecentMembers calls fn for the members of every stored incident last
// seen at or after since, to rebuild the clusterer after a restart. An item
// without a member record (the one the incident is named after) is passed
// as a member without signature. fn runs inside a read transaction and
// must not call the store.
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
				m := Member{ItemID: id, IncidentID: inc.ID}
				if raw := sb.Get([]byte(id)); raw != nil {
					if err := json.Unmarshal(raw, &m); err != nil {
						return err
					}
				}
				if err := fn(inc, m); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// RecentSingletons calls fn, oldest first, with the ID of every item that
// started its own incident at or after since (see Batch). fn runs inside a
// read transaction and must not call the store.
func (s *Store) RecentSingletons(since time.Time, fn func(itemID string) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSingletons)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(singletonKey(since, "")); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				continue
			}
			if err := fn(string(k[8:])); err != nil {
				return err
			}
		}
		return nil
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
