-- The incident lock's fencing number. A replica that takes the incident
-- lock (a session advisory lock) bumps epoch on the lock's connection; its
-- commit of incident decisions reads the row FOR UPDATE and goes ahead
-- only if epoch is still the one it set. If its lock session died in
-- between and another replica took the lock, the number has moved and the
-- commit fails (its feeds are fetched again); if the other replica comes
-- second, its bump waits for the commit and its catch-up then sees it.
CREATE TABLE incident_fence (
	id    int PRIMARY KEY CHECK (id = 1),
	epoch bigint NOT NULL
);
INSERT INTO incident_fence (id, epoch) VALUES (1, 0);
