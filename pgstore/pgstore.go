package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options control Open.
type Options struct {
	// Timeout bounds each store operation (the store's methods take no
	// context); default 30s.
	Timeout time.Duration
	// MaxConns bounds the connection pool; default pgxpool's (at least 4).
	MaxConns int32
	// AlertClaim is how long a replica reserves an alert it is about to
	// post (see DrainLocks.Claim): longer than a post and its record take,
	// and how long a dead replica's post in flight waits before another
	// replica retries it. Default 2m.
	AlertClaim time.Duration
}

// Store is safe for concurrent use, within a process and across processes
// sharing the database.
type Store struct {
	pool       *pgxpool.Pool
	timeout    time.Duration
	alertClaim time.Duration
	// life is the store's own lifetime: Close cancels it, which ends
	// every operation still running.
	life context.Context
	stop context.CancelFunc
	// drain is the process's outbox locks, made on first use (DrainLocks)
	// and freed by Close.
	drainOnce sync.Once
	drain     *DrainLocks
	// fence is the incident lock's fencing number while this process
	// holds the lock, 0 otherwise (LockIncidents, checkFence).
	fence atomic.Int64
}

// Open connects to the database at url, applies pending migrations and
// returns the store. ctx bounds the connection and the migrations only.
func Open(ctx context.Context, url accordwatch.Secret, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.AlertClaim <= 0 {
		opts.AlertClaim = 2 * time.Minute
	}
	pool, err := connectPool(ctx, url, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, redact(url, fmt.Errorf("pgstore: migrate: %w", err))
	}
	created, _ := time.Now().UTC().MarshalText()
	if _, err := pool.Exec(ctx, "INSERT INTO meta (key, value) VALUES ('created', $1) ON CONFLICT (key) DO NOTHING", string(created)); err != nil {
		pool.Close()
		return nil, redact(url, fmt.Errorf("pgstore: open: %w", err))
	}
	life, stop := context.WithCancel(context.Background())
	return &Store{pool: pool, timeout: opts.Timeout, alertClaim: opts.AlertClaim, life: life, stop: stop}, nil
}

// Migrate applies pending migrations, as Open does, and returns how many.
func Migrate(ctx context.Context, url accordwatch.Secret) (int, error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	n, err := migrate(ctx, pool)
	if err != nil {
		return n, redact(url, fmt.Errorf("pgstore: migrate: %w", err))
	}
	return n, nil
}

func connect(ctx context.Context, url accordwatch.Secret) (*pgxpool.Pool, error) {
	return connectPool(ctx, url, 0)
}

// connectPool opens a pool and proves the server answers. Parse errors
// are replaced by a fixed message: pgx keeps the raw URL in them.
func connectPool(ctx context.Context, url accordwatch.Secret, maxConns int32) (*pgxpool.Pool, error) {
	if !url.IsSet() {
		return nil, errors.New("pgstore: no database URL")
	}
	cfg, err := pgxpool.ParseConfig(url.Reveal())
	if err != nil {
		return nil, fmt.Errorf("pgstore: database URL %s is not a valid postgres:// URL or key=value string", accordwatch.RedactURL(url.Reveal()))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(url, fmt.Errorf("pgstore: connect: %w", err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, redact(url, fmt.Errorf("pgstore: connect to %s: %w", describe(cfg.ConnConfig), err))
	}
	return pool, nil
}

// describe names a server without its credentials.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s as %s", c.Host, c.Port, c.Database, c.User)
}

// redactedError hides the database password in an error's text while
// keeping the error chain for errors.Is and errors.As.
type redactedError struct {
	err      error
	password string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.password, "xxxxx")
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its text cannot show the password url holds.
func redact(dbURL accordwatch.Secret, err error) error {
	if err == nil {
		return nil
	}
	pw := password(dbURL.Reveal())
	if pw == "" {
		return err
	}
	return &redactedError{err: err, password: pw}
}

// password extracts the password of a postgres:// URL or a key=value
// connection string, best effort.
func password(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		return pw
	}
	for _, f := range strings.Fields(raw) {
		if v, ok := strings.CutPrefix(f, "password="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// Close ends running operations and closes the pool.
func (s *Store) Close() error {
	s.drainOnce.Do(func() {}) // orders the read below after DrainLocks
	if s.drain != nil {
		s.drain.Close()
	}
	s.stop()
	s.pool.Close()
	return nil
}

// op is the context of one store operation.
func (s *Store) op() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.life, s.timeout)
}

// tx runs fn in one transaction of one operation.
func (s *Store) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.op()
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// Created is when this database was first opened by accordwatch.
func (s *Store) Created() time.Time {
	ctx, cancel := s.op()
	defer cancel()
	var v string
	var t time.Time
	if s.pool.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'created'").Scan(&v) == nil {
		t.UnmarshalText([]byte(v))
	}
	return t
}

// nanos is t in Unix nanoseconds, clamped to int64, so that rows order as
// their times do (the zero time sorts first).
func nanos(t time.Time) int64 {
	if t.Before(time.Unix(0, math.MinInt64)) {
		return math.MinInt64
	}
	if t.After(time.Unix(0, math.MaxInt64)) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

// timeBits is the bbolt store's singleton time: nanoseconds, times before
// 1970 counting as 1970.
func timeBits(t time.Time) int64 {
	if n := nanos(t); n > 0 {
		return n
	}
	return 0
}

// Diff reports, for each item, whether it is new, changed (same ID, other
// content hash) or unchanged, without writing anything.
func (s *Store) Diff(items []accordwatch.Item) ([]store.Change, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	ctx, cancel := s.op()
	defer cancel()
	hashes := make(map[string]string, len(items))
	rows, err := s.pool.Query(ctx, "SELECT id, content_hash FROM items WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, fmt.Errorf("diff items: %w", err)
	}
	var id, hash string
	if _, err := pgx.ForEachRow(rows, []any{&id, &hash}, func() error {
		hashes[id] = hash
		return nil
	}); err != nil {
		return nil, fmt.Errorf("diff items: %w", err)
	}
	out := make([]store.Change, len(items))
	for i, it := range items {
		h, ok := hashes[it.ID]
		switch {
		case !ok:
			out[i] = store.New
		case h != it.ContentHash:
			out[i] = store.Changed
		}
	}
	return out, nil
}

// putItems inserts or replaces items, keeping each stored item's first
// fetched time, and gives each a new change number.
func putItems(ctx context.Context, tx pgx.Tx, items []accordwatch.Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		if it.ID == "" {
			return errors.New("item without ID")
		}
		ids[i] = it.ID
	}
	// Change numbers are taken by one transaction at a time, the lock held
	// until it commits, so they become visible in order: an indexer that
	// has read up to n never later finds a smaller number committed (see
	// ChangesSince). Commits of items are serialised across replicas.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", itemChangesLock); err != nil {
		return err
	}
	// Lock the rows being replaced, so two writers cannot both keep a
	// stale first-fetched time.
	fetched := map[string]int64{}
	rows, err := tx.Query(ctx, "SELECT id, fetched_ns FROM items WHERE id = ANY($1) AND fetched_ns IS NOT NULL ORDER BY id FOR UPDATE", ids)
	if err != nil {
		return err
	}
	var id string
	var ns int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &ns}, func() error {
		fetched[id] = ns
		return nil
	}); err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, it := range items {
		if ns, ok := fetched[it.ID]; ok {
			it.Fetched = time.Unix(0, ns).UTC()
		}
		raw, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("encode item %s: %w", it.ID, err)
		}
		var fns *int64
		if !it.Fetched.IsZero() {
			n := nanos(it.Fetched)
			fns = &n
			// A later item in this batch with the same ID keeps this time.
			fetched[it.ID] = n
		}
		b.Queue(`INSERT INTO items (id, fetched_ns, content_hash, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET fetched_ns = EXCLUDED.fetched_ns, content_hash = EXCLUDED.content_hash,
				doc = EXCLUDED.doc, change_seq = nextval('item_changes')`, it.ID, fns, it.ContentHash, raw)
	}
	return tx.SendBatch(ctx, b).Close()
}

// Item returns one item; ok is false when it is unknown.
func (s *Store) Item(id string) (it accordwatch.Item, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM items WHERE id = $1", &it, id)
	if err != nil {
		return it, false, fmt.Errorf("read item %s: %w", id, err)
	}
	return it, ok, nil
}

// getDoc reads one json document into v; ok is false when no row matched.
func (s *Store) getDoc(query string, v any, args ...any) (ok bool, err error) {
	ctx, cancel := s.op()
	defer cancel()
	var raw []byte
	err = s.pool.QueryRow(ctx, query, args...).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(raw, v)
}

// listDocs reads every row's json document, decoding each with add.
func listDocs[T any](s *Store, query string, args ...any) ([]T, error) {
	ctx, cancel := s.op()
	defer cancel()
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []T
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&raw}, func() error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// eachItemPage is how many items EachItem reads per query.
const eachItemPage = 1000

// EachItem calls fn for every stored item in ID order, stopping at the
// first error fn returns. It reads in pages, so no transaction stays open
// while fn works (a reindex of millions of items).
func (s *Store) EachItem(fn func(accordwatch.Item) error) error {
	last := ""
	for {
		page, err := listDocs[accordwatch.Item](s, "SELECT doc FROM items WHERE id > $1 ORDER BY id LIMIT $2", last, eachItemPage)
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		for _, it := range page {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(page) < eachItemPage {
			return nil
		}
		last = page[len(page)-1].ID
	}
}

// CountItems returns how many items are stored.
func (s *Store) CountItems() (int, error) {
	ctx, cancel := s.op()
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n)
	return n, err
}

// FeedState returns a feed's state; ok is false for a feed never polled.
func (s *Store) FeedState(url string) (st accordwatch.FeedState, ok bool, err error) {
	ok, err = s.getDoc("SELECT doc FROM feed_states WHERE url = $1", &st, url)
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
	ctx, cancel := s.op()
	defer cancel()
	_, err = s.pool.Exec(ctx, "INSERT INTO feed_states (url, doc) VALUES ($1, $2) ON CONFLICT (url) DO UPDATE SET doc = EXCLUDED.doc", st.URL, raw)
	if err != nil {
		return fmt.Errorf("save feed state %s: %w", accordwatch.RedactURL(st.URL), err)
	}
	return nil
}

// FeedStates lists every known feed's state, by URL.
func (s *Store) FeedStates() ([]accordwatch.FeedState, error) {
	out, err := listDocs[accordwatch.FeedState](s, "SELECT doc FROM feed_states ORDER BY url")
	if err != nil {
		return nil, fmt.Errorf("list feed states: %w", err)
	}
	return out, nil
}

// AddFeeds registers feeds defined outside the config. A feed whose URL is
// already registered is not changed and is returned in dups.
func (s *Store) AddFeeds(list []accordwatch.Feed) (added, dups []accordwatch.Feed, err error) {
	err = s.tx(func(ctx context.Context, tx pgx.Tx) error {
		for _, f := range list {
			if f.URL == "" {
				return errors.New("feed without URL")
			}
			raw, err := json.Marshal(f)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, "INSERT INTO registered_feeds (url, doc) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING", f.URL, raw)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				dups = append(dups, f)
				continue
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
	out, err := listDocs[accordwatch.Feed](s, "SELECT doc FROM registered_feeds ORDER BY url")
	if err != nil {
		return nil, fmt.Errorf("list registered feeds: %w", err)
	}
	return out, nil
}

// RemoveFeed unregisters a feed added outside the config; ok is false
// when it was not registered. Its state and items stay.
func (s *Store) RemoveFeed(url string) (ok bool, err error) {
	ctx, cancel := s.op()
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM registered_feeds WHERE url = $1", url)
	if err != nil {
		return false, fmt.Errorf("remove feed %s: %w", accordwatch.RedactURL(url), err)
	}
	return tag.RowsAffected() > 0, nil
}
