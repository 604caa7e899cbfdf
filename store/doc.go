// Package store is accordwatch's source of truth: a bbolt file under
// data_dir holding every item with its tags, the IDs already seen, each
// feed's state (validators and health) and the alert outbox. The search
// index is derived from it and can always be rebuilt from it. It owns
// go.etcd.io/bbolt.
package store
