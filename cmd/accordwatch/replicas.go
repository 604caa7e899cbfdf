package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/accordwatch/accordwatch/pgstore"
)

// indexPosFile, in the data dir, is the last item change (the database's
// change sequence) the local index holds, so a restarted replica catches
// up from there rather than from the start.
const indexPosFile = "index.pos"

// replicaName names this process in the database's lease rows: the host
// and process ID say where it runs, the random part keeps a restarted
// process (PID 1 again, in a container) from inheriting its predecessor's
// leases before they expire.
func replicaName() string {
	host, _ := os.Hostname()
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// shareFeeds makes sched poll only the feeds it leases, when the store is
// PostgreSQL and so possibly shared by several replicas. On bbolt (one
// process) it does nothing.
func shareFeeds(sched *monitor.Scheduler, a *app) error {
	if a.leases == nil {
		return nil
	}
	return sched.ShareFeeds(a.leases, a.leases.Period())
}

// feedLeases is this process's lease handle, under a name of its own.
func feedLeases(pg *pgstore.Store, cfg *config.Config) (*pgstore.Leases, error) {
	return pg.Leases(pgstore.LeaseOptions{Owner: replicaName(), PerHost: cfg.Polling.PerHost, Period: cfg.Polling.LeasePeriod.Duration})
}

// runPass is run --once's pass. On PostgreSQL it leases each feed as
// serve does, so a pass run beside serve replicas never polls a feed one
// of them is polling or has just polled, and the per-host cap holds
// across all of them.
func runPass(ctx context.Context, a *app, list []accordwatch.Feed) (monitor.PassReport, error) {
	if a.leases == nil {
		return a.pipeline.RunOnce(ctx, list)
	}
	return a.pipeline.RunOnceShared(ctx, list, a.leases, a.leases.Period())
}

// incidentSync is how replicas sharing a PostgreSQL database decide
// incidents together; nil on bbolt, where this process decides alone.
func incidentSync(st appStore) monitor.IncidentSync {
	if pg, ok := st.(*pgstore.Store); ok {
		return pg
	}
	return nil
}

// outboxLocks is how replicas sharing a PostgreSQL outbox split its
// channels; nil on bbolt, where this process delivers everything. (A nil
// *DrainLocks in the interface would not be nil.)
func outboxLocks(st appStore) monitor.ChannelLocks {
	if pg, ok := st.(*pgstore.Store); ok {
		return pg.DrainLocks()
	}
	return nil
}

// followDatabase starts what a replica on PostgreSQL runs beside its
// scheduler: the index tail, which adds the items every replica writes to
// the local index (woken by the database, with a catch-up every 30s),
// and a listener that drains the outbox as soon as any replica queues an
// alert, since this one may hold the alert's channel. The tasks end when
// ctx is done. On bbolt there is nothing to follow.
func followDatabase(ctx context.Context, a *app, sched *monitor.Scheduler, log *slog.Logger) ([]*task, error) {
	pg, ok := a.store.(*pgstore.Store)
	if !ok {
		return nil, nil
	}
	from := readIndexPos(a.cfg.DataDir)
	head, err := pg.LastChange(ctx)
	if err != nil {
		return nil, err
	}
	if from > head {
		// The database is not the one the index followed (restored from
		// a backup, or replaced): start over rather than skip its items.
		log.Warn("the index is ahead of the database; adding every item again", "index_change", from, "database_change", head)
		from = 0
	}
	if from < head {
		log.Info("index catching up with the database", "from_change", from, "to_change", head)
	}
	dir := a.cfg.DataDir
	tail, err := monitor.NewIndexTail(monitor.TailOptions{
		Changes: pg, Index: a.index, From: from,
		Save:   func(n int64) error { return writeIndexPos(dir, n) },
		Logger: log.With("component", "index-tail"),
	})
	if err != nil {
		return nil, err
	}
	warn := func(err error) { log.Warn("database notifications interrupted; listening again", "err", err) }
	return []*task{
		goTask("index tail", func() { tail.Run(ctx) }),
		goTask("item notifications", func() { pg.Listen(ctx, pgstore.ItemsChanged, tail.Wake, warn) }),
		goTask("outbox notifications", func() { pg.Listen(ctx, pgstore.AlertsQueued, sched.DrainNow, warn) }),
	}, nil
}

// lastChange is the database's latest item change, and whether the store
// has such a sequence at all (PostgreSQL).
func (a *app) lastChange(ctx context.Context) (int64, bool) {
	pg, ok := a.store.(*pgstore.Store)
	if !ok {
		return 0, false
	}
	n, err := pg.LastChange(ctx)
	if err != nil {
		a.log.Warn("could not read the database's change position; the index tail will add every item again", "err", err)
		return 0, true
	}
	return n, true
}

// saveIndexPos records the index position after a rebuild; a failure
// only costs re-adding items at the next start.
func (a *app) saveIndexPos(n int64) {
	if err := writeIndexPos(a.cfg.DataDir, n); err != nil {
		a.log.Warn("index position not saved; the next start adds every item again", "err", err)
	}
}

// readIndexPos is the saved index position, 0 when none (or unreadable:
// re-adding items is always safe).
func readIndexPos(dataDir string) int64 {
	raw, err := os.ReadFile(filepath.Join(dataDir, indexPosFile))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// writeIndexPos saves the index position, whole or not at all.
func writeIndexPos(dataDir string, n int64) error {
	tmp, err := os.CreateTemp(dataDir, indexPosFile+".*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(strconv.FormatInt(n, 10) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dataDir, indexPosFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save index position: %w", err)
	}
	return nil
}

// capHistory lets the rules' rate caps count every replica's alerts;
// nil on bbolt, where this process's are all there are.
func capHistory(st appStore) monitor.AlertHistory {
	if pg, ok := st.(*pgstore.Store); ok {
		return pg
	}
	return nil
}
