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

// maxForget bounds how many stale singletons one commit deletes, so a
// first commit after a long pause stays short (as in the bbolt store).
const maxForget = 1000

// CommitBatch writes a batch atomically (see store.Batch) and returns the
// alerts actually added: an alert whose ID is already in the outbox,
// whatever its status, is skipped.
func (s *Store) CommitBatch(b store.Batch) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	err := s.tx(func(ctx context.Context, tx pgx.Tx) error {
		if len(b.Incidents) > 0 || len(b.Members) > 0 {
			if err := checkFence(ctx, tx, s.fence.Load()); err != nil {
				return err
			}
		}
		if err := putItems(ctx, tx, b.Items); err != nil {
			return err
		}
		q := &pgx.Batch{}
		for _, inc := range b.Incidents {
			raw, err := json.Marshal(inc)
			if err != nil {
				return err
			}
			q.Queue("INSERT INTO incidents (id, last_seen_ns, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET last_seen_ns = EXCLUDED.last_seen_ns, doc = EXCLUDED.doc",
				inc.ID, nanos(inc.LastSeen), raw)
		}
		for _, m := range b.Members {
			raw, err := json.Marshal(m)
			if err != nil {
				return err
			}
			q.Queue("INSERT INTO members (item_id, incident_id, doc) VALUES ($1, $2, $3) ON CONFLICT (item_id) DO UPDATE SET incident_id = EXCLUDED.incident_id, doc = EXCLUDED.doc",
				m.ItemID, m.IncidentID, raw)
		}
		if !b.SingletonsSince.IsZero() {
			q.Queue(`DELETE FROM singletons WHERE (at_ns, item_id) IN (
				SELECT at_ns, item_id FROM singletons WHERE at_ns < $1 ORDER BY at_ns, item_id LIMIT $2)`,
				timeBits(b.SingletonsSince), maxForget)
		}
		for _, sg := range b.Singletons {
			if !b.SingletonsSince.IsZero() && sg.Time.Before(b.SingletonsSince) {
				continue
			}
			q.Queue("INSERT INTO singletons (at_ns, item_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", timeBits(sg.Time), sg.ItemID)
		}
		if q.Len() > 0 {
			if err := tx.SendBatch(ctx, q).Close(); err != nil {
				return err
			}
		}
		if err := markArticles(ctx, tx, b.ArticlesPending, b.ArticlesDone); err != nil {
			return err
		}
		var err error
		added, err = putAlerts(ctx, tx, b.Alerts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit batch: %w", err)
	}
	return added, nil
}

// Incident returns one incident; ok is false when unknown.
func (s *Store) Incident(id string) (inc accordwatch.Incident, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM incidents WHERE id = $1", &inc, id)
	return inc, ok, err
}

// RecentIncidents returns up to limit stored incidents, the most recently
// seen first (ties by ID); limit 0 means all. Only incidents that more
// than one report joined are stored (see store.Batch).
func (s *Store) RecentIncidents(limit int) ([]accordwatch.Incident, error) {
	q := "SELECT doc FROM incidents ORDER BY last_seen_ns DESC, id"
	args := []any{}
	if limit > 0 {
		q += " LIMIT $1"
		args = append(args, limit)
	}
	l, err := listDocs[accordwatch.Incident](s, q, args...)
	if err != nil {
		return nil, fmt.Errorf("recent incidents: %w", err)
	}
	return l, nil
}

// MemberOf returns the incident an item joined; ok is false when none.
func (s *Store) MemberOf(itemID string) (m store.Member, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM members WHERE item_id = $1", &m, itemID)
	return m, ok, err
}

// IncidentOf returns the ID of the incident an item joined as a later
// report; ok is false for an item that joined none (or started its own).
func (s *Store) IncidentOf(itemID string) (string, bool, error) {
	m, ok, err := s.MemberOf(itemID)
	return m.IncidentID, ok && m.IncidentID != "", err
}

// RecentMembers calls fn for the members of every stored incident last
// seen at or after since, incidents by ID, members in the incident's
// order. An item without a member record is passed as a member without
// signature. Everything is read before fn is first called, so fn may call
// the store.
func (s *Store) RecentMembers(since time.Time, fn func(accordwatch.Incident, store.Member) error) error {
	incs, err := listDocs[accordwatch.Incident](s, "SELECT doc FROM incidents WHERE last_seen_ns >= $1 ORDER BY id", nanos(since))
	if err != nil {
		return fmt.Errorf("recent incidents: %w", err)
	}
	var ids []string
	for _, inc := range incs {
		ids = append(ids, inc.ItemIDs...)
	}
	members := map[string]store.Member{}
	if len(ids) > 0 {
		l, err := listDocs[store.Member](s, "SELECT doc FROM members WHERE item_id = ANY($1)", ids)
		if err != nil {
			return fmt.Errorf("recent members: %w", err)
		}
		for _, m := range l {
			members[m.ItemID] = m
		}
	}
	for _, inc := range incs {
		for _, id := range inc.ItemIDs {
			m, ok := members[id]
			if !ok {
				m = store.Member{ItemID: id, IncidentID: inc.ID}
			}
			if err := fn(inc, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// RecentSingletons calls fn, oldest first (ties by item ID), with the ID
// of every item that started its own incident at or after since. The IDs
// are read before fn is first called.
func (s *Store) RecentSingletons(since time.Time, fn func(itemID string) error) error {
	ctx, cancel := s.op()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT item_id FROM singletons WHERE at_ns >= $1 ORDER BY at_ns, item_id", timeBits(since))
	if err != nil {
		return fmt.Errorf("recent singletons: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("recent singletons: %w", err)
	}
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// Thread returns the incident's message in a channel; ok is false when the
// channel has not been told about the incident yet.
func (s *Store) Thread(channel, incidentID string) (th store.Thread, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM threads WHERE channel = $1 AND incident_id = $2", &th, channel, incidentID)
	return th, ok, err
}

// SetThread records (or refreshes) an incident's message in a channel.
func (s *Store) SetThread(channel, incidentID string, th store.Thread) error {
	raw, err := json.Marshal(th)
	if err != nil {
		return err
	}
	ctx, cancel := s.op()
	defer cancel()
	_, err = s.pool.Exec(ctx, "INSERT INTO threads (channel, incident_id, doc) VALUES ($1, $2, $3) ON CONFLICT (channel, incident_id) DO UPDATE SET doc = EXCLUDED.doc",
		channel, incidentID, raw)
	return err
}

// AddSilence stores a silence (replacing one with its ID); its ID must be
// set.
func (s *Store) AddSilence(sl accordwatch.Silence) error {
	if sl.ID == "" {
		return errors.New("silence without ID")
	}
	raw, err := json.Marshal(sl)
	if err != nil {
		return err
	}
	ctx, cancel := s.op()
	defer cancel()
	_, err = s.pool.Exec(ctx, "INSERT INTO silences (id, created_ns, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET created_ns = EXCLUDED.created_ns, doc = EXCLUDED.doc",
		sl.ID, nanos(sl.Created), raw)
	return err
}

// Silences lists every silence, oldest first, ties by ID.
func (s *Store) Silences() ([]accordwatch.Silence, error) {
	return listDocs[accordwatch.Silence](s, "SELECT doc FROM silences ORDER BY created_ns, id")
}

// ExpireSilence ends a silence now; ok is false when the ID is unknown.
func (s *Store) ExpireSilence(id string, now time.Time) (sl accordwatch.Silence, ok bool, err error) {
	err = s.tx(func(ctx context.Context, tx pgx.Tx) error {
		var raw []byte
		err := tx.QueryRow(ctx, "SELECT doc FROM silences WHERE id = $1 FOR UPDATE", id).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		if err := json.Unmarshal(raw, &sl); err != nil {
			return err
		}
		if sl.Expires.After(now) {
			sl.Expires = now
		}
		if raw, err = json.Marshal(sl); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE silences SET doc = $2 WHERE id = $1", id, raw)
		return err
	})
	return sl, ok, err
}
