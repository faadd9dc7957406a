-- Residents who have written to the official account. last_inbound decides
-- whether the 48-hour customer-service window is open.
CREATE TABLE residents (
	openid       TEXT PRIMARY KEY,
	phone        TEXT NOT NULL DEFAULT '',
	first_seen   TIMESTAMP NOT NULL,
	last_inbound TIMESTAMP NOT NULL,
	subscribed   INTEGER NOT NULL DEFAULT 1
);

-- Every accepted inbound message, written before anything else happens to it,
-- so nothing a resident sent is lost even when Redis is down. It doubles as
-- the transcript staff read. (account, msg_key) is WeChat's retry identity.
CREATE TABLE journal (
	id          INTEGER PRIMARY KEY,
	account     TEXT NOT NULL,
	msg_key     TEXT NOT NULL,
	openid      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	content     TEXT NOT NULL DEFAULT '',
	media_id    TEXT NOT NULL DEFAULT '',
	payload     TEXT NOT NULL,
	sent_at     TIMESTAMP NOT NULL,
	received_at TIMESTAMP NOT NULL,
	outcome     TEXT NOT NULL,
	reply       TEXT NOT NULL DEFAULT '',
	UNIQUE (account, msg_key)
);
CREATE INDEX journal_by_openid ON journal (openid, id);
CREATE INDEX journal_unsettled ON journal (outcome, id) WHERE outcome IN ('received', 'deferred');

-- Per-day case number sequence: KQ20261127-0007 is the 7th case of that day.
CREATE TABLE case_counters (
	day  TEXT PRIMARY KEY,
	last INTEGER NOT NULL
);

CREATE TABLE cases (
	id           INTEGER PRIMARY KEY,
	number       TEXT NOT NULL UNIQUE,
	source_key   TEXT UNIQUE, -- the message that submitted it: resubmitting is idempotent
	openid       TEXT NOT NULL,
	status       TEXT NOT NULL,
	category     TEXT NOT NULL,
	station_id   TEXT NOT NULL DEFAULT '',
	assignee_id  TEXT NOT NULL DEFAULT '',
	description  TEXT NOT NULL,
	lat          REAL NOT NULL DEFAULT 0,
	lng          REAL NOT NULL DEFAULT 0,
	loc_label    TEXT NOT NULL DEFAULT '',
	address      TEXT NOT NULL DEFAULT '',
	phone        TEXT NOT NULL DEFAULT '',
	needs_staff  INTEGER NOT NULL DEFAULT 0,
	satisfaction TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL,
	accept_due   TIMESTAMP,
	resolve_due  TIMESTAMP,
	resolved_at  TIMESTAMP
);
CREATE INDEX cases_by_openid ON cases (openid, id);
CREATE INDEX cases_by_assignee ON cases (assignee_id, status);

CREATE TABLE case_events (
	id      INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases (id),
	type    TEXT NOT NULL,
	actor   TEXT NOT NULL,
	text    TEXT NOT NULL DEFAULT '',
	at      TIMESTAMP NOT NULL
);
CREATE INDEX case_events_by_case ON case_events (case_id, id);

-- Photos and voice messages. A row exists from the moment the message
-- arrives (case_id NULL while the report is a draft), so the media queue can
-- fetch it within WeChat's 3-day limit whether or not the report is finished.
CREATE TABLE attachments (
	id           INTEGER PRIMARY KEY,
	case_id      INTEGER REFERENCES cases (id),
	openid       TEXT NOT NULL,
	msg_key      TEXT NOT NULL UNIQUE,
	kind         TEXT NOT NULL,
	media_id     TEXT NOT NULL,
	pic_url      TEXT NOT NULL DEFAULT '',
	recognition  TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT 'pending',
	path         TEXT NOT NULL DEFAULT '',
	thumb_path   TEXT NOT NULL DEFAULT '',
	sha256       TEXT NOT NULL DEFAULT '',
	mime         TEXT NOT NULL DEFAULT '',
	size         INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL, -- WeChat keeps media 3 days
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX attachments_by_case ON attachments (case_id, id);
CREATE INDEX attachments_due ON attachments (status, next_attempt) WHERE status = 'pending';

-- Outbox: everything to be sent out (customer-service messages, template
-- messages, robot posts), written in the same transaction as the change that
-- causes it. idem_key makes enqueueing idempotent; the lease lets several
-- processes share the queue without sending twice.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	idem_key     TEXT NOT NULL UNIQUE,
	kind         TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	payload      TEXT NOT NULL,
	case_id      INTEGER,
	status       TEXT NOT NULL DEFAULT 'pending',
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TIMESTAMP NOT NULL,
	lease_owner  TEXT NOT NULL DEFAULT '',
	lease_until  TIMESTAMP,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	sent_at      TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt) WHERE status = 'pending';
