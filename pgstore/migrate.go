package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema is a list of numbered SQL files, applied in order, each once,
// each in its own transaction together with its row in schema_migrations.
// A file, once released, never changes: a new schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_lock key that serialises migrations, so
// replicas starting together apply each file once (the key is "accordwa"
// as a big-endian number, fixed forever).
const migrationLock int64 = 0x6163636f72647761

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	sql     string
	// Applied is when it was applied; zero when it is pending.
	Applied time.Time
}

// migrations lists the embedded files in version order. Their names are
// NNNN_name.sql; a malformed or duplicate number is a build error caught by
// the tests.
func migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]bool{}
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		if seen[v] {
			return nil, fmt.Errorf("migration %s: version %d twice", e.Name(), v)
		}
		seen[v] = true
		raw, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, sql: string(raw)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// ErrNewerSchema means the database was migrated by a newer build.
var ErrNewerSchema = errors.New("pgstore: the database schema is newer than this build")

const createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies every pending migration under a session advisory lock,
// held on one connection for the whole run, and returns how many it
// applied. A database at a version this build does not know is refused
// (ErrNewerSchema) rather than written to.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	list, err := migrations()
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return 0, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done, or this
		// pooled connection would keep it.
		unlock, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlock, "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			conn.Conn().Close(unlock)
		}
	}()
	if _, err := conn.Exec(ctx, createMigrations); err != nil {
		return 0, err
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return 0, err
	}
	if latest := list[len(list)-1].Version; len(applied) > 0 {
		for v := range applied {
			if v > latest {
				return 0, fmt.Errorf("%w: it is at version %d, this build knows up to %d", ErrNewerSchema, v, latest)
			}
		}
	}
	n := 0
	for _, m := range list {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		n++
	}
	return n, nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]time.Time, error) {
	rows, err := conn.Query(ctx, "SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	out := map[int]time.Time{}
	var v int
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		out[v] = at.UTC()
		return nil
	})
	return out, err
}

// MigrationStatus lists every migration this build knows, with when each
// was applied (zero when pending), and the versions the database holds that
// this build does not know (a newer build migrated it). It changes
// nothing: it does not even create the bookkeeping table.
func MigrationStatus(ctx context.Context, url accordwatch.Secret) (list []Migration, unknown []int, err error) {
	pool, err := connect(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	defer pool.Close()
	list, err = migrations()
	if err != nil {
		return nil, nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, redact(url, fmt.Errorf("connect: %w", err))
	}
	defer conn.Release()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, nil, err
	}
	if !exists {
		return list, nil, nil
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return nil, nil, err
	}
	known := map[int]bool{}
	for i := range list {
		known[list[i].Version] = true
		list[i].Applied = applied[list[i].Version]
	}
	for v := range applied {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	sort.Ints(unknown)
	return list, unknown, nil
}
