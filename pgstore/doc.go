// Package pgstore is the PostgreSQL store: the same contract as the bbolt
// store (package store) — items with their tags, feed state, the feed
// list, incidents, threads, the alert outbox, silences and digests — kept
// in one database that several replicas can share. It is chosen by
// ACCORDWATCH_DATABASE_URL; without it accordwatch keeps using bbolt.
//
// The schema is embedded, versioned SQL (migrations/NNNN_name.sql) that
// Open applies under an advisory lock, so replicas starting at once apply
// each version once. Every change of an item takes a number from one
// sequence (items.change_seq), which a replica's indexer can follow.
//
// Replicas coordinate through the database only (0002_replicas.sql):
//   - Feed leases (leases.go): a row per feed with its owner, lease expiry
//     and next check. A claim is one transaction under an advisory lock:
//     it locks the free, due rows with FOR UPDATE SKIP LOCKED, ranks them
//     per host after the leases other replicas hold, and takes those
//     within the per-host cap. Expiry uses the replicas' clocks.
//   - Outbox destinations (drainlocks.go): a session advisory lock per
//     spelling of a channel, on a connection of its own, held for the
//     process's life; the server frees it when the process dies. Before
//     posting, the drainer claims the alert's row (FOR UPDATE SKIP LOCKED,
//     an owner and an expiry on the database's clock) and recording the
//     outcome clears the claim, so a lock that changes hands under a post
//     in flight cannot make a second post. Alert IDs are a hash of
//     (channel, incident), the outbox's primary key, so an alert is
//     queued once whichever replica queues it.
//   - Item changes (changes.go): writers take change numbers one
//     transaction at a time under an advisory lock, so numbers become
//     visible in order and a reader resuming from the last number it saw
//     misses nothing. Triggers NOTIFY accordwatch_items and
//     accordwatch_alerts; Listen wakes indexers and drains.
//   - Articles in flight (articles.go, 0003_articles.sql): an item
//     committed before its article arrived is marked pending in the same
//     transaction, claimed by its committer with an expiry; a replica
//     resuming takes expired marks FOR UPDATE SKIP LOCKED and claims them
//     anew, so each is fetched by one replica. Article fetches hold a
//     host slot (leases.go TryHost), taken under the feed claims' lock and
//     counted with the feed leases of that host.
//   - Incident decisions (incidentlock.go): a session advisory lock on a
//     pooled connection, held by one replica from before it assigns a
//     commit's incidents until after the commit. Under it the replica
//     reads the item changes since its last look, each with its incident
//     (IncidentChangesSince), and the last hour of the outbox for the
//     rate caps (AlertsSince). Taking the lock bumps a fencing number
//     (migration 0004); the commit of the decisions reads it FOR UPDATE
//     and fails (ErrIncidentLockLost) if another replica took the lock
//     after this one's session died, so decisions made without seeing
//     that replica's never land.
//
// The database URL may hold a password: it is an accordwatch.Secret, never
// logged, and removed from every error this package returns.
//
// It owns github.com/jackc/pgx/v5.
package pgstore
