package main

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/accordwatch/accordwatch/pgstore"
	"github.com/accordwatch/accordwatch/store"
)

// envDatabaseURL selects the PostgreSQL store. It may hold a password, so
// it is read as a Secret and never printed.
const envDatabaseURL = "ACCORDWATCH_DATABASE_URL"

// appStore is what the commands need of the source of truth. The bbolt
// store under data_dir and the PostgreSQL store both satisfy it.
type appStore interface {
	monitor.Store
	Created() time.Time
	Close() error
	CountItems() (int, error)
	EachItem(func(accordwatch.Item) error) error
	RegisteredFeeds() ([]accordwatch.Feed, error)
	AddFeeds([]accordwatch.Feed) (added, dups []accordwatch.Feed, err error)
	RemoveFeed(url string) (bool, error)
	AddSilence(accordwatch.Silence) error
	RecentIncidents(limit int) ([]accordwatch.Incident, error)
	IncidentOf(itemID string) (string, bool, error)
	ExpireSilence(id string, now time.Time) (accordwatch.Silence, bool, error)
	ClaimDigest(week string, now time.Time, force bool) (claimed, interrupted bool, sentAt time.Time, err error)
	ConfirmDigest(week string, at time.Time) error
	ReleaseDigest(week string) error
	DigestSent(week string) (time.Time, bool, error)
}

var (
	_ appStore = (*store.Store)(nil)
	_ appStore = (*pgstore.Store)(nil)
)

// feedSource is what feed listings need of a store.
type feedSource interface {
	RegisteredFeeds() ([]accordwatch.Feed, error)
	FeedState(url string) (accordwatch.FeedState, bool, error)
}

// databaseURL is ACCORDWATCH_DATABASE_URL; unset means bbolt.
func (e *env) databaseURL() accordwatch.Secret {
	return accordwatch.Secret(e.getenv(envDatabaseURL))
}

// openDatabase opens the PostgreSQL store, applying pending migrations.
// Only call it when dbURL is set.
func openDatabase(ctx context.Context, dbURL accordwatch.Secret) (*pgstore.Store, error) {
	return pgstore.Open(ctx, dbURL, pgstore.Options{})
}

// openStore opens the store the app runs on: PostgreSQL when dbURL is
// set, else the bbolt file under data_dir, whose lock names its holder.
func openStore(ctx context.Context, cfg *config.Config, dbURL accordwatch.Secret) (appStore, error) {
	if dbURL.IsSet() {
		// An alert a dead replica was posting waits two lease periods
		// before another replica posts it (see pgstore.DrainLocks.Claim).
		return pgstore.Open(ctx, dbURL, pgstore.Options{AlertClaim: 2 * cfg.Polling.LeasePeriod.Duration})
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, storeFile), store.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, lockedError(cfg.DataDir, err)
		}
		return nil, err
	}
	return st, nil
}
