package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// claimLock is the transaction advisory lock every claim takes: the
// per-host cap counts leases held by other replicas, and two claims
// counting at once could each see room for the same last slot. Claims are
// one short transaction, so serialising them costs little. The key is
// "feedleas" as a big-endian number, fixed forever.
const claimLock int64 = 0x666565646c656173

// LeaseOptions configure a replica's feed leases.
type LeaseOptions struct {
	// Owner names the replica in the lease rows; it must differ between
	// replicas (host name and process ID, say).
	Owner string
	// Period is how long a lease lasts without renewal, and so how long a
	// dead replica's feeds wait before another takes them; default 60s.
	Period time.Duration
	// PerHost caps the feeds of one host leased at once across all
	// replicas; default 2.
	PerHost int
	// Retry is when a feed that could not be claimed because of the
	// per-host cap (or the claim's limit) is worth asking for again;
	// default 2s.
	Retry time.Duration
}

// Leases shares the polling of feeds among replicas (monitor.FeedLeaser):
// a replica polls a feed only while it holds the feed's lease. It is safe
// for concurrent use.
type Leases struct {
	s *Store
	o LeaseOptions
}

// Leases returns this replica's lease handle on the store.
func (s *Store) Leases(o LeaseOptions) (*Leases, error) {
	if o.Owner == "" {
		return nil, errors.New("pgstore: leases need an owner name")
	}
	if o.Period <= 0 {
		o.Period = 60 * time.Second
	}
	if o.PerHost <= 0 {
		o.PerHost = 2
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	return &Leases{s: s, o: o}, nil
}

// Period is how long a lease lasts without renewal.
func (l *Leases) Period() time.Duration { return l.o.Period }

// Claim leases, until now plus the period, at most limit of the feeds in
// hosts (URL → the host its requests go to): those whose lease is free,
// expired or already this replica's, that are due by the shared record
// (next_check_ns), within the per-host cap counted over every replica's
// unexpired leases, earliest due first. For each feed it did not claim,
// retry says when to ask again: when it is next due, when the lease
// another replica holds expires, or after LeaseOptions.Retry when only the
// cap or limit stood in the way.
func (l *Leases) Claim(ctx context.Context, hosts map[string]string, limit int, now time.Time) (claimed []string, retry map[string]time.Time, err error) {
	if len(hosts) == 0 || limit <= 0 {
		return nil, nil, nil
	}
	urls := make([]string, 0, len(hosts))
	for u := range hosts {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	hs := make([]string, len(urls))
	for i, u := range urls {
		hs[i] = hosts[u]
	}
	at := nanos(now)
	retry = map[string]time.Time{}
	err = pgx.BeginFunc(ctx, l.s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", claimLock); err != nil {
			return err
		}
		// A feed seen for the first time is due; a feed whose requests
		// moved to another host counts against its new host from now on.
		if _, err := tx.Exec(ctx, `INSERT INTO feed_leases (url, host) SELECT * FROM unnest($1::text[], $2::text[])
			ON CONFLICT (url) DO UPDATE SET host = EXCLUDED.host WHERE feed_leases.host <> EXCLUDED.host`, urls, hs); err != nil {
			return err
		}
		// cand: the free, due feeds, locked (a row being renewed or
		// released right now is skipped, not waited for). held: what
		// other replicas hold of those hosts, feed leases and article
		// fetches' slots (TryHost) together. A candidate gets a lease
		// when its rank within its host, after the held ones, is within
		// the cap.
		rows, err := tx.Query(ctx, `WITH cand AS (
				SELECT url, host, next_check_ns FROM feed_leases
				WHERE url = ANY($1) AND next_check_ns <= $2 AND (owner IS NULL OR lease_until_ns <= $2 OR owner = $3)
				ORDER BY next_check_ns, url
				FOR UPDATE SKIP LOCKED
			), held AS (
				SELECT host, sum(n) AS n FROM (
					SELECT host, count(*) AS n FROM feed_leases
					WHERE owner IS NOT NULL AND lease_until_ns > $2 AND host IN (SELECT host FROM cand) AND url NOT IN (SELECT url FROM cand)
					GROUP BY host
					UNION ALL
					SELECT host, count(*) FROM host_slots
					WHERE until_ns > $2 AND host IN (SELECT host FROM cand)
					GROUP BY host
				) both_kinds GROUP BY host
			), ranked AS (
				SELECT c.url, c.next_check_ns,
					coalesce(h.n, 0) + row_number() OVER (PARTITION BY c.host ORDER BY c.next_check_ns, c.url) AS slot
				FROM cand c LEFT JOIN held h USING (host)
			), pick AS (
				SELECT url FROM ranked WHERE slot <= $4 ORDER BY next_check_ns, url LIMIT $5
			)
			UPDATE feed_leases f SET owner = $3, lease_until_ns = $6
			FROM pick WHERE f.url = pick.url
			RETURNING f.url`, urls, at, l.o.Owner, l.o.PerHost, limit, nanos(now.Add(l.o.Period)))
		if err != nil {
			return err
		}
		if claimed, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		rest := slices.DeleteFunc(slices.Clone(urls), func(u string) bool { return slices.Contains(claimed, u) })
		if len(rest) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, "SELECT url, next_check_ns, owner IS NOT NULL AND owner <> $2, lease_until_ns FROM feed_leases WHERE url = ANY($1)", rest, l.o.Owner)
		if err != nil {
			return err
		}
		var u string
		var next, until int64
		var other bool
		_, err = pgx.ForEachRow(rows, []any{&u, &next, &other, &until}, func() error {
			t := now.Add(l.o.Retry)
			switch {
			case next > at:
				t = time.Unix(0, next)
			case other && until > at:
				t = time.Unix(0, until)
			}
			retry[u] = t.UTC()
			return nil
		})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("claim %d feeds: %w", len(urls), err)
	}
	slices.Sort(claimed)
	return claimed, retry, nil
}

// Renew extends this replica's leases on urls to now plus the period and
// returns those another replica holds now (this one stalled past the
// period). A lease released meanwhile is neither renewed nor lost.
func (l *Leases) Renew(ctx context.Context, urls []string, now time.Time) (lost []string, err error) {
	if len(urls) == 0 {
		return nil, nil
	}
	// The outer SELECT sees the rows as before the UPDATE: those it
	// renews are this replica's, so only other owners remain.
	rows, err := l.s.pool.Query(ctx, `WITH renewed AS (
			UPDATE feed_leases SET lease_until_ns = $3 WHERE url = ANY($1) AND owner = $2 RETURNING url
		)
		SELECT url FROM feed_leases WHERE url = ANY($1) AND owner <> $2 ORDER BY url`, urls, l.o.Owner, nanos(now.Add(l.o.Period)))
	if err != nil {
		return nil, fmt.Errorf("renew %d feed leases: %w", len(urls), err)
	}
	lost, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("renew %d feed leases: %w", len(urls), err)
	}
	return lost, nil
}

// Release gives up this replica's lease on url and records when the feed
// is next due. A lease that another replica took meanwhile is left alone.
func (l *Leases) Release(ctx context.Context, url string, next time.Time) error {
	_, err := l.s.pool.Exec(ctx, `UPDATE feed_leases SET owner = NULL, lease_until_ns = 0, next_check_ns = $3
		WHERE url = $1 AND owner = $2`, url, l.o.Owner, nanos(next))
	if err != nil {
		return fmt.Errorf("release feed lease: %w", err)
	}
	return nil
}

// TryHost takes a slot on host for an article fetch, until until, if the
// per-host cap leaves one free as of now (monitor.HostLeaser); ok is false
// when it does not. It counts the other replicas' unexpired feed leases
// and slots on host — a lease for its whole poll, since this replica
// cannot see when another's fetch ended — plus mine, this replica's own
// requests on host as it counts them itself (the asking fetch included):
// its own leases would overcount, as its poll holds the lease long after
// the feed's fetch. mine is called under the advisory lock the feed
// claims take, so neither a claim (this replica's or another's) nor
// another TryHost can slip in between the count and the slot.
func (l *Leases) TryHost(ctx context.Context, host string, mine func() int, now, until time.Time) (slot int64, ok bool, err error) {
	at := nanos(now)
	err = pgx.BeginFunc(ctx, l.s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", claimLock); err != nil {
			return err
		}
		// A dead replica's slots, expired, go on the way.
		if _, err := tx.Exec(ctx, "DELETE FROM host_slots WHERE host = $1 AND until_ns <= $2", host, at); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM feed_leases WHERE host = $1 AND owner IS NOT NULL AND owner <> $3 AND lease_until_ns > $2) +
				(SELECT count(*) FROM host_slots WHERE host = $1 AND owner <> $3 AND until_ns > $2)`, host, at, l.o.Owner).Scan(&n); err != nil {
			return err
		}
		if n+mine() > l.o.PerHost {
			return nil
		}
		ok = true
		return tx.QueryRow(ctx, "INSERT INTO host_slots (host, owner, until_ns) VALUES ($1, $2, $3) RETURNING id",
			host, l.o.Owner, nanos(until)).Scan(&slot)
	})
	if err != nil {
		return 0, false, fmt.Errorf("take a slot on %s: %w", host, err)
	}
	return slot, ok, nil
}

// ReleaseHost gives back a slot TryHost took.
func (l *Leases) ReleaseHost(ctx context.Context, slot int64) error {
	if _, err := l.s.pool.Exec(ctx, "DELETE FROM host_slots WHERE id = $1", slot); err != nil {
		return fmt.Errorf("release host slot: %w", err)
	}
	return nil
}
