-- The directory, imported from configs/directory.yaml and categories.yaml by
-- `lianxin import` (and on first start). Rows are never deleted: cases keep
-- pointing at a deputy or station that left, which is marked inactive.
-- `data` is the whole record as JSON; the columns beside it are for queries.
CREATE TABLE stations (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	parent     TEXT NOT NULL DEFAULT '',
	data       TEXT NOT NULL,
	position   INTEGER NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE deputies (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	station_id TEXT NOT NULL,
	head       INTEGER NOT NULL DEFAULT 0,
	data       TEXT NOT NULL,
	position   INTEGER NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1,
	openid     TEXT UNIQUE, -- the WeChat user bound with 绑定 CODE
	bound_at   TIMESTAMP,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE departments (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	data       TEXT NOT NULL,
	position   INTEGER NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE categories (
	key        TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	data       TEXT NOT NULL,
	position   INTEGER NOT NULL,
	active     INTEGER NOT NULL DEFAULT 1,
	updated_at TIMESTAMP NOT NULL
);

-- Bumped by every import that changes something, so running services notice.
CREATE TABLE directory_meta (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	version     INTEGER NOT NULL,
	imported_at TIMESTAMP NOT NULL
);

-- One-time codes a deputy sends as 绑定 CODE. Only the hash is kept.
CREATE TABLE deputy_invites (
	code_hash  TEXT PRIMARY KEY,
	deputy_id  TEXT NOT NULL REFERENCES deputies (id),
	expires_at TIMESTAMP NOT NULL,
	used_at    TIMESTAMP,
	created_at TIMESTAMP NOT NULL
);

-- Failed 绑定 attempts, for rate limiting guesses.
CREATE TABLE bind_failures (
	id     INTEGER PRIMARY KEY,
	openid TEXT NOT NULL,
	at     TIMESTAMP NOT NULL
);
CREATE INDEX bind_failures_by_openid ON bind_failures (openid, at);
