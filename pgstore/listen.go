package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels the schema's triggers send on (0002_replicas.sql).
const (
	// ItemsChanged is sent by every statement that inserts or updates
	// items.
	ItemsChanged = "accordwatch_items"
	// AlertsQueued is sent by every statement that adds to the outbox.
	AlertsQueued = "accordwatch_alerts"
)

// dedicatedConn opens a connection outside the pool, for what must stay
// on one session: LISTEN, and session advisory locks. Keepalives make the
// server notice a vanished client in seconds rather than hours, which
// frees its locks.
func (s *Store) dedicatedConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	for k, v := range map[string]string{"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"} {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		err = fmt.Errorf("connect: %w", err)
		if cfg.Password != "" {
			err = &redactedError{err: err, password: cfg.Password}
		}
		return nil, err
	}
	return conn, nil
}

// listenRetryMax caps the wait between attempts to listen again.
const listenRetryMax = 30 * time.Second

// Listen calls fn after every notification on channel until ctx is done,
// and once each time it starts listening, because what was sent while it
// was not listening is lost. It listens on a connection of its own; when
// that fails it tells onErr (if set) and listens again, waiting longer
// after each failure up to 30s. It returns when ctx is done.
func (s *Store) Listen(ctx context.Context, channel string, fn func(), onErr func(error)) {
	wait := 250 * time.Millisecond
	for {
		err := s.listenOnce(ctx, channel, fn)
		if ctx.Err() != nil {
			return
		}
		if onErr != nil {
			onErr(fmt.Errorf("listen on %s: %w", channel, err))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, listenRetryMax)
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, fn func()) error {
	conn, err := s.dedicatedConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	fn()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		fn()
	}
}
