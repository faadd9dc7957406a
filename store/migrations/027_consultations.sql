-- Consultations on draft regulations (立法联系点, issue 14): the draft and
-- its articles, residents' opinions on them, and the mass sends that push a
-- published draft to its audience (counted against the month's quota).
CREATE TABLE consultations (
	id           INTEGER PRIMARY KEY,
	title        TEXT NOT NULL,
	intro        TEXT NOT NULL DEFAULT '',
	station_id   TEXT NOT NULL DEFAULT '',
	audience     TEXT NOT NULL,
	deadline     TIMESTAMP NOT NULL,
	status       TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL,
	published_at TIMESTAMP,
	concluded_at TIMESTAMP
);
CREATE INDEX consultations_by_status ON consultations (status, id);

CREATE TABLE consultation_articles (
	consultation_id INTEGER NOT NULL REFERENCES consultations (id),
	seq             INTEGER NOT NULL,
	label           TEXT NOT NULL,
	chapter         TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL,
	recommendation  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (consultation_id, seq)
);

-- article_seq 0 is the draft as a whole. n numbers a consultation's
-- opinions from 1 (the number the resident is told). source_key is the
-- message that sent it, so a retried message records it once.
CREATE TABLE consultation_opinions (
	id              INTEGER PRIMARY KEY,
	consultation_id INTEGER NOT NULL REFERENCES consultations (id),
	n               INTEGER NOT NULL,
	article_seq     INTEGER NOT NULL DEFAULT 0,
	openid          TEXT NOT NULL DEFAULT '',
	deputy_id       TEXT NOT NULL DEFAULT '',
	name            TEXT NOT NULL DEFAULT '',
	phone           TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL,
	voice_id        INTEGER,
	late            INTEGER NOT NULL DEFAULT 0,
	merged_into     INTEGER NOT NULL DEFAULT 0,
	outcome         TEXT NOT NULL DEFAULT '',
	reason          TEXT NOT NULL DEFAULT '',
	source          TEXT NOT NULL DEFAULT 'chat',
	source_key      TEXT UNIQUE,
	created_at      TIMESTAMP NOT NULL,
	notified_at     TIMESTAMP,
	UNIQUE (consultation_id, n)
);
CREATE INDEX consultation_opinions_by_article ON consultation_opinions (consultation_id, article_seq, id);
CREATE INDEX consultation_opinions_by_deputy ON consultation_opinions (deputy_id, created_at) WHERE deputy_id <> '';
CREATE INDEX consultation_opinions_by_openid ON consultation_opinions (openid, id);

-- Mass sends (群发) by WeChat tag ('' = every follower), a durable queue
-- like the outbox: a worker claims due rows with a lease. month is the
-- stations' month the send counts in against the quota.
CREATE TABLE mass_sends (
	id           INTEGER PRIMARY KEY,
	purpose      TEXT NOT NULL UNIQUE,
	tag          TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL,
	month        TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT 'pending',
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TIMESTAMP NOT NULL,
	lease_owner  TEXT NOT NULL DEFAULT '',
	lease_until  TIMESTAMP,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	sent_at      TIMESTAMP
);
CREATE INDEX mass_sends_due ON mass_sends (status, next_attempt);
CREATE INDEX mass_sends_by_month ON mass_sends (month, tag);
