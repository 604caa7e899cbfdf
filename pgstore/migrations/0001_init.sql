-- The first schema: every piece of state the bbolt store keeps, one table
-- per bbolt bucket. Values whose shape belongs to the module root (items,
-- feed states, alerts, incidents, silences) are kept whole as json, next to
-- the columns the store looks them up or orders them by. json, not jsonb:
-- it keeps the text exactly as encoded and accepts \u0000, which feed text
-- can carry and jsonb refuses.
--
-- Identifiers use the "C" collation so that every ORDER BY matches bbolt's
-- byte order. Times that order rows are Unix nanoseconds (bigint), as exact
-- as Go's time.Time; timestamptz would round them to microseconds.

CREATE TABLE meta (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);

-- item_changes numbers every insert and update of an item, so that a
-- replica's indexer can follow what changed since it last looked.
CREATE SEQUENCE item_changes;

CREATE TABLE items (
	id           text COLLATE "C" PRIMARY KEY,
	-- When the item was first fetched (kept across updates); NULL if unknown.
	fetched_ns   bigint,
	content_hash text NOT NULL,
	change_seq   bigint NOT NULL DEFAULT nextval('item_changes'),
	doc          json NOT NULL
);
CREATE INDEX items_change_seq ON items (change_seq);

CREATE TABLE feed_states (
	url text COLLATE "C" PRIMARY KEY,
	doc json NOT NULL
);

-- Feeds added outside config.yaml (OPML import, feeds add).
CREATE TABLE registered_feeds (
	url text COLLATE "C" PRIMARY KEY,
	doc json NOT NULL
);

-- The alert outbox. open is true while the alert is pending or overflow.
CREATE TABLE alerts (
	id         text COLLATE "C" PRIMARY KEY,
	created_ns bigint NOT NULL,
	open       boolean NOT NULL,
	doc        json NOT NULL
);
CREATE INDEX alerts_created ON alerts (created_ns, id);
CREATE INDEX alerts_open ON alerts (created_ns, id) WHERE open;

-- Incidents that more than one item joined (singletons are implicit).
CREATE TABLE incidents (
	id           text COLLATE "C" PRIMARY KEY,
	last_seen_ns bigint NOT NULL,
	doc          json NOT NULL
);
CREATE INDEX incidents_last_seen ON incidents (last_seen_ns);

-- The incident each item joined, when it is not named after the item.
CREATE TABLE members (
	item_id     text COLLATE "C" PRIMARY KEY,
	incident_id text COLLATE "C" NOT NULL,
	doc         json NOT NULL
);

-- Items that started their own incident, by time (nanoseconds, times
-- before 1970 as 0).
CREATE TABLE singletons (
	at_ns   bigint NOT NULL,
	item_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (at_ns, item_id)
);

-- Where an incident's message sits in a channel.
CREATE TABLE threads (
	channel     text COLLATE "C" NOT NULL,
	incident_id text COLLATE "C" NOT NULL,
	doc         json NOT NULL,
	PRIMARY KEY (channel, incident_id)
);

CREATE TABLE silences (
	id         text COLLATE "C" PRIMARY KEY,
	created_ns bigint NOT NULL,
	doc        json NOT NULL
);

-- One row per ISO week whose digest was claimed or sent.
CREATE TABLE digests (
	week text COLLATE "C" PRIMARY KEY,
	doc  json NOT NULL
);
