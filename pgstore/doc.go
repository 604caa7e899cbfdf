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
// The database URL may hold a password: it is an accordwatch.Secret, never
// logged, and removed from every error this package returns.
//
// It owns github.com/jackc/pgx/v5.
package pgstore
