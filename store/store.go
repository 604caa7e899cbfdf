package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/accordwatch/accordwatch"
	bolt "go.etcd.io/bbolt"
)

// ErrLocked means another process holds the store file.
var ErrLocked = errors.New("store is in use by another process")

var (
	bucketItems  = []byte("items")
	bucketFeeds  = []byte("feeds")
	bucketOutbox = []byte("outbox")
	bucketMeta   = []byte("meta")
	// bucketFeedList holds feeds added outside config.yaml (OPML import,
	// feeds add), keyed by URL.
	bucketFeedList = []byte("feedlist")
	// bucketHashes maps an item ID to its first-fetched time and content
	// hash, so Diff and saves need not read (and decompress) whole items.
	bucketHashes = []byte("hashes")
	// bucketOpenAlerts indexes the outbox entries still in play (pending
	// or overflow), so a drain reads those and not the whole history the
	// outbox keeps for deduplication.
	bucketOpenAlerts = []byte("open_alerts")
)

// schemaVersion guards against opening a file written by an incompatible
// future version.
const schemaVersion = "1"

// Options control Open.
type Options struct {
	// Timeout bounds the wait for the file lock; default 2s.
	Timeout time.Duration
	// ReadOnly opens a shared lock (for CLI commands that only read).
	ReadOnly bool
}

// Store is safe for concurrent use; bbolt serialises writers.
type Store struct {
	db   *bolt.DB
	path string
	// claims are this process's claims on pending articles (articles.go).
	claims articleClaims
}

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if opts.ReadOnly {
		return s, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := indexOpenAlerts(tx); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketItems, bucketFeeds, bucketOutbox, bucketMeta, bucketFeedList, bucketHashes,
			bucketIncidents, bucketSignatures, bucketThreads, bucketSilences} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get([]byte("schema"))
		if v != nil && string(v) != schemaVersion {
			return fmt.Errorf("schema version %s, this build reads %s", v, schemaVersion)
		}
		if v == nil {
			// A new store: remember when monitoring began, so nothing
			// reports on a week it did not watch.
			created, _ := time.Now().UTC().MarshalText()
			if err := meta.Put([]byte("created"), created); err != nil {
				return err
			}
		}
		return meta.Put([]byte("schema"), []byte(schemaVersion))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Created is when this store was first created; zero for stores made
// before it was recorded.
func (s *Store) Created() time.Time {
	var t time.Time
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get([]byte("created")); v != nil {
			t.UnmarshalText(v)
		}
		return nil
	})
	return t
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file's path.
func (s *Store) Path() string { return s.path }

// Change says what saving an item did.
type Change int

// Changes reported by Classify-then-Save callers.
const (
	Unchanged Change = iota
	New
	Changed
)

func (c Change) String() string {
	return [...]string{"unchanged", "new", "changed"}[c]
}

// Diff reports, for each item, whether it is new, changed (same ID, other
// content hash) or unchanged, without writing anything. The pipeline uses
// it to classify only what needs classifying.
func (s *Store) Diff(items []accordwatch.Item) ([]Change, error) {
	out := make([]Change, len(items))
	err := s.db.View(func(tx *bolt.Tx) error {
		for i, it := range items {
			_, hash, ok := seenItem(tx, it.ID)
			switch {
			case !ok:
				out[i] = New
			case hash != it.ContentHash:
				out[i] = Changed
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff items: %w", err)
	}
	return out, nil
}

// seenItem returns a stored item's first-fetched time and content hash
// from the small hashes bucket, falling back to the item itself for items
// written before that bucket existed.
func seenItem(tx *bolt.Tx, id string) (fetched time.Time, hash string, ok bool) {
	if v := tx.Bucket(bucketHashes).Get([]byte(id)); len(v) >= 8 {
		return time.Unix(0, int64(binary.BigEndian.Uint64(v[:8]))).UTC(), string(v[8:]), true
	}
	raw := tx.Bucket(bucketItems).Get([]byte(id))
	if raw == nil {
		return time.Time{}, "", false
	}
	var it accordwatch.Item
	if decodeItem(raw, &it) != nil {
		return time.Time{}, "", true
	}
	return it.Fetched, it.ContentHash, true
}

// Stored items are JSON compressed with DEFLATE behind a one-byte marker:
// news text and evidence compress about 3:1, and the store file is
// memory-mapped, so its size is resident memory. Plain JSON (from older
// files) still reads.
const itemDeflate = 0x01

func encodeItem(it accordwatch.Item) ([]byte, error) {
	raw, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 16)
	buf.WriteByte(itemDeflate)
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeItem(raw []byte, it *accordwatch.Item) error {
	if len(raw) > 0 && raw[0] == itemDeflate {
		zr := flate.NewReader(bytes.NewReader(raw[1:]))
		defer zr.Close()
		return json.NewDecoder(zr).Decode(it)
	}
	return json.Unmarshal(raw, it)
}

func putItems(tx *bolt.Tx, items []accordwatch.Item) error {
	b := tx.Bucket(bucketItems)
	for _, it := range items {
		if it.ID == "" {
			return errors.New("item without ID")
		}
		if fetched, _, ok := seenItem(tx, it.ID); ok && !fetched.IsZero() {
			it.Fetched = fetched
		}
		raw, err := encodeItem(it)
		if err != nil {
			return fmt.Errorf("encode item %s: %w", it.ID, err)
		}
		if err := b.Put([]byte(it.ID), raw); err != nil {
			return err
		}
		seen := make([]byte, 8, 8+len(it.ContentHash))
		binary.BigEndian.PutUint64(seen, uint64(it.Fetched.UnixNano()))
		if err := tx.Bucket(bucketHashes).Put([]byte(it.ID), append(seen, it.ContentHash...)); err != nil {
			return err
		}
	}
	return nil
}

// Item returns one item; ok is false when it is unknown.
func (s *Store) Item(id string) (it accordwatch.Item, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketItems).Get([]byte(id))
		if raw == nil {
			return nil
		}
		ok = true
		return decodeItem(raw, &it)
	})
	if err != nil {
		return it, false, fmt.Errorf("read item %s: %w", id, err)
	}
	return it, ok, nil
}

// EachItem calls fn for every stored item in ID order, stopping at the
// first error fn returns.
func (s *Store) EachItem(fn func(accordwatch.Item) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketItems).ForEach(func(k, v []byte) error {
			var it accordwatch.Item
			if err := decodeItem(v, &it); err != nil {
				return fmt.Errorf("decode item %s: %w", k, err)
			}
			return fn(it)
		})
	})
}

// CountItems returns how many items are stored.
func (s *Store) CountItems() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketItems).Stats().KeyN
		return nil
	})
	return n, err
}

// FeedState returns a feed's state; ok is false for a feed never polled.
func (s *Store) FeedState(url string) (st accordwatch.FeedState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketFeeds).Get([]byte(url))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &st)
	})
	if err != nil {
		return st, false, fmt.Errorf("read feed state %s: %w", accordwatch.RedactURL(url), err)
	}
	return st, ok, nil
}

// SaveFeedState records a feed's state after a poll.
func (s *Store) SaveFeedState(st accordwatch.FeedState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode feed state: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeeds).Put([]byte(st.URL), raw)
	})
	if err != nil {
		return fmt.Errorf("save feed state %s: %w", accordwatch.RedactURL(st.URL), err)
	}
	return nil
}

// FeedStates lists every known feed's state, by URL.
func (s *Store) FeedStates() ([]accordwatch.FeedState, error) {
	var out []accordwatch.FeedState
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeeds).ForEach(func(_, v []byte) error {
			var st accordwatch.FeedState
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list feed states: %w", err)
	}
	return out, nil
}

func putAlerts(tx *bolt.Tx, alerts []accordwatch.Alert) ([]accordwatch.Alert, error) {
	var added []accordwatch.Alert
	b := tx.Bucket(bucketOutbox)
	for _, a := range alerts {
		if b.Get([]byte(a.ID)) != nil {
			continue
		}
		if a.Status == "" {
			a.Status = accordwatch.AlertPending
		}
		if err := putAlert(tx, a); err != nil {
			return nil, err
		}
		added = append(added, a)
	}
	return added, nil
}

// isOpen reports whether an alert is still in play.
func isOpen(a accordwatch.Alert) bool {
	return a.Status == accordwatch.AlertPending || a.Status == accordwatch.AlertOverflow
}

// putAlert writes an outbox entry and keeps the open-alerts index in step.
func putAlert(tx *bolt.Tx, a accordwatch.Alert) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	if err := tx.Bucket(bucketOutbox).Put([]byte(a.ID), raw); err != nil {
		return err
	}
	open := tx.Bucket(bucketOpenAlerts)
	if isOpen(a) {
		return open.Put([]byte(a.ID), nil)
	}
	return open.Delete([]byte(a.ID))
}

// indexOpenAlerts creates the open-alerts index, filling it from the
// outbox when a store written before it existed is opened.
func indexOpenAlerts(tx *bolt.Tx) error {
	if tx.Bucket(bucketOpenAlerts) != nil {
		return nil
	}
	open, err := tx.CreateBucket(bucketOpenAlerts)
	if err != nil {
		return err
	}
	outbox := tx.Bucket(bucketOutbox)
	if outbox == nil {
		return nil
	}
	return outbox.ForEach(func(k, v []byte) error {
		var a accordwatch.Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if isOpen(a) {
			return open.Put(k, nil)
		}
		return nil
	})
}

// OpenAlerts lists the alerts still in play (pending or overflow), oldest
// first; the whole outbox is Alerts.
func (s *Store) OpenAlerts() ([]accordwatch.Alert, error) {
	var out []accordwatch.Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		outbox, open := tx.Bucket(bucketOutbox), tx.Bucket(bucketOpenAlerts)
		if open == nil {
			// A read-only open of a store older than the index.
			return outbox.ForEach(func(_, v []byte) error {
				var a accordwatch.Alert
				if err := json.Unmarshal(v, &a); err != nil {
					return err
				}
				if isOpen(a) {
					out = append(out, a)
				}
				return nil
			})
		}
		return open.ForEach(func(k, _ []byte) error {
			var a accordwatch.Alert
			if err := json.Unmarshal(outbox.Get(k), &a); err != nil {
				return fmt.Errorf("decode alert %s: %w", k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	sortAlerts(out)
	return out, nil
}

// Alerts lists the whole outbox, oldest first.
func (s *Store) Alerts() ([]accordwatch.Alert, error) {
	var out []accordwatch.Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var a accordwatch.Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	sortAlerts(out)
	return out, nil
}

// sortAlerts orders alerts oldest first, ties by ID.
func sortAlerts(out []accordwatch.Alert) {
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
}

// UpdateAlert records a delivery attempt's outcome.
func (s *Store) UpdateAlert(a accordwatch.Alert) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox).Get([]byte(a.ID)) == nil {
			return fmt.Errorf("alert %s is not in the outbox", a.ID)
		}
		return putAlert(tx, a)
	})
	if err != nil {
		return fmt.Errorf("update alert %s: %w", a.ID, err)
	}
	return nil
}

// AddFeeds registers feeds defined outside the config. A feed whose URL is
// already registered is not changed and is returned in dups.
func (s *Store) AddFeeds(list []accordwatch.Feed) (added, dups []accordwatch.Feed, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeedList)
		for _, f := range list {
			if f.URL == "" {
				return errors.New("feed without URL")
			}
			if b.Get([]byte(f.URL)) != nil {
				dups = append(dups, f)
				continue
			}
			raw, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(f.URL), raw); err != nil {
				return err
			}
			added = append(added, f)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("add feeds: %w", err)
	}
	return added, dups, nil
}

// RegisteredFeeds lists the feeds added outside the config, by URL.
func (s *Store) RegisteredFeeds() ([]accordwatch.Feed, error) {
	var out []accordwatch.Feed
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeedList).ForEach(func(_, v []byte) error {
			var f accordwatch.Feed
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list registered feeds: %w", err)
	}
	return out, nil
}

// RemoveFeed unregisters a feed added outside the config; ok is false
// when it was not registered. Its state and items stay.
func (s *Store) RemoveFeed(url string) (ok bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeedList)
		ok = b.Get([]byte(url)) != nil
		return b.Delete([]byte(url))
	})
	if err != nil {
		return false, fmt.Errorf("remove feed %s: %w", accordwatch.RedactURL(url), err)
	}
	return ok, nil
}
