-- Console accounts (issue 12). Passwords are argon2id hashes in PHC form
-- ($argon2id$v=19$m=...,t=...,p=...$salt$hash); deputies who sign in from
-- WeChat have an account with no password.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'deputy')),
	station_id    TEXT NOT NULL DEFAULT '',
	deputy_id     TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    TIMESTAMP NOT NULL,
	updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_by_deputy ON users (deputy_id) WHERE deputy_id <> '';

-- Signed-in sessions, shared by every serve process. The cookie holds a
-- random token; only its SHA-256 is stored, so a copy of the database does
-- not sign anyone in.
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	created_at TIMESTAMP NOT NULL,
	last_seen  TIMESTAMP NOT NULL,
	addr       TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen);

-- Failed sign-ins, per user name and per address, for rate limiting that
-- holds across processes.
CREATE TABLE login_failures (
	id       INTEGER PRIMARY KEY,
	username TEXT NOT NULL,
	addr     TEXT NOT NULL,
	at       TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE INDEX login_failures_by_addr ON login_failures (addr, at);

-- Every staff action and every view of a resident's full phone number,
-- written in the same transaction as what it records.
CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY,
	at      TIMESTAMP NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	detail  TEXT NOT NULL DEFAULT '',
	addr    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_subject ON audit_log (subject, id);
CREATE INDEX audit_by_actor ON audit_log (actor, id);
