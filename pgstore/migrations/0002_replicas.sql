-- What several replicas sharing one database need beyond the bbolt
-- store's state: feed leases, and a wake-up for the replicas' indexers.

-- One row per feed any replica has tried to claim. A replica polls a feed
-- only while it holds the feed's lease: owner is that replica and
-- lease_until_ns (Unix nanoseconds, the replicas' clocks) is in the future.
-- A released or expired lease is free again. next_check_ns is when the
-- feed is next due, written on release, so that a replica whose own
-- schedule says "due" does not poll a feed another replica just polled.
-- host is the per-host politeness cap's key, counted across replicas.
CREATE TABLE feed_leases (
	url            text COLLATE "C" PRIMARY KEY,
	host           text COLLATE "C" NOT NULL,
	next_check_ns  bigint NOT NULL DEFAULT 0,
	owner          text COLLATE "C",
	lease_until_ns bigint NOT NULL DEFAULT 0
);
CREATE INDEX feed_leases_held ON feed_leases (host, lease_until_ns) WHERE owner IS NOT NULL;

-- Every statement that writes items wakes the indexers that LISTEN on
-- accordwatch_items; they then read items by change_seq. The payload is
-- empty: PostgreSQL folds identical notifications of one transaction into
-- one, and the sequence, not the message, says what changed.
CREATE FUNCTION accordwatch_items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('accordwatch_items', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER items_changed AFTER INSERT OR UPDATE ON items
	FOR EACH STATEMENT EXECUTE FUNCTION accordwatch_items_changed();

-- Every statement that adds to the outbox wakes the replicas' drains:
-- the replica holding the alert's channel delivers it (see
-- pgstore.DrainLocks), whichever replica queued it.
CREATE FUNCTION accordwatch_alerts_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('accordwatch_alerts', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER alerts_queued AFTER INSERT ON alerts
	FOR EACH STATEMENT EXECUTE FUNCTION accordwatch_alerts_queued();

-- A replica about to post an alert claims its row first (pgstore.DrainLocks
-- Claim): claim_owner and claim_until_ns (the database's clock) keep any
-- other replica from posting it meanwhile, even one that took over the
-- channel because this replica's lock connection broke. Recording the
-- outcome clears the claim; a dead replica's claim expires.
ALTER TABLE alerts
	ADD COLUMN claim_owner text COLLATE "C",
	ADD COLUMN claim_until_ns bigint NOT NULL DEFAULT 0;
