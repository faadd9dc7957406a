-- The replay guard's memory in SQLite: every (timestamp, nonce) a plaintext
-- request or a URL verification was accepted with (their signatures do not
-- cover the body), and the hash of what came with it, kept until the
-- timestamp leaves the accepted window. Redis is the guard while it answers;
-- this is what every process shares when it does not, and it already knows
-- the pairs seen before an outage began. Written in the journal's
-- transaction, so it costs no commit of its own.
CREATE TABLE nonces (
	key       TEXT PRIMARY KEY,
	body_hash TEXT NOT NULL,
	until     TIMESTAMP NOT NULL
) WITHOUT ROWID;
CREATE INDEX nonces_by_until ON nonces (until);

-- Wrong binding codes are limited across all WeChat users and per code, not
-- only per user: both count failures by time.
CREATE INDEX bind_failures_by_at ON bind_failures (at);

-- /readyz proves the database takes writes by writing this row.
CREATE TABLE readiness (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	checked_at TIMESTAMP NOT NULL
);
