-- Articles in flight, and article fetches in the per-host cap.

-- An item committed before its article fetch finished is marked here in
-- the same transaction; the mark goes when the article arrives or fails
-- for good, so a replica that stops in between leaves it for another to
-- resume. claim_until_ns (Unix nanoseconds, the replicas' clocks) is until
-- when the replica that marked it, or last claimed it, owns the fetch;
-- claims take rows FOR UPDATE SKIP LOCKED, so one replica gets each.
CREATE TABLE article_pending (
	item_id        text COLLATE "C" PRIMARY KEY,
	since_ns       bigint NOT NULL,
	claim_until_ns bigint NOT NULL DEFAULT 0
);
CREATE INDEX article_pending_since ON article_pending (since_ns, item_id);

-- A slot of the per-host cap held by an article fetch. Taken under the
-- same advisory lock as feed leases and counted together with them, so
-- polling.per_host bounds a host's feed and article requests across every
-- replica. A slot is deleted after its fetch; a dead replica's slots
-- expire at until_ns (the replicas' clocks).
CREATE TABLE host_slots (
	id       bigserial PRIMARY KEY,
	host     text COLLATE "C" NOT NULL,
	owner    text COLLATE "C" NOT NULL,
	until_ns bigint NOT NULL
);
CREATE INDEX host_slots_host ON host_slots (host, until_ns);
