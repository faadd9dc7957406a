-- Open311 GeoReport v2 clients (issue 14): each client (a 12345 hotline, a
-- web form) has an API key; only its hash is kept. Its name becomes the
-- source of the cases it files. Revoked keys stay for the record.
CREATE TABLE open311_keys (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	key_hash     TEXT NOT NULL UNIQUE,
	created_at   TIMESTAMP NOT NULL,
	revoked_at   TIMESTAMP,
	last_used_at TIMESTAMP
);
