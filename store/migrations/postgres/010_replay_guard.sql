-- PostgreSQL port of 010_replay_guard.sql.
CREATE TABLE nonces (
	key       TEXT PRIMARY KEY,
	body_hash TEXT NOT NULL,
	until     TIMESTAMPTZ NOT NULL
);
CREATE INDEX nonces_by_until ON nonces (until);

CREATE INDEX bind_failures_by_at ON bind_failures (at);

CREATE TABLE readiness (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	checked_at TIMESTAMPTZ NOT NULL
);
