-- Suggestions (建议, issue 14) made from groups of similar cases, with their
-- cases and their own timeline.
CREATE TABLE suggestions (
	id         INTEGER PRIMARY KEY,
	title      TEXT NOT NULL,
	summary    TEXT NOT NULL,
	category   TEXT NOT NULL DEFAULT '',
	station_id TEXT NOT NULL DEFAULT '',
	deputy_id  TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL,
	outcome    TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	closed_at  TIMESTAMP
);

CREATE TABLE suggestion_cases (
	suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
	case_id       INTEGER NOT NULL REFERENCES cases (id),
	PRIMARY KEY (suggestion_id, case_id)
);
CREATE INDEX suggestion_cases_by_case ON suggestion_cases (case_id);

CREATE TABLE suggestion_events (
	id            INTEGER PRIMARY KEY,
	suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
	type          TEXT NOT NULL,
	actor         TEXT NOT NULL,
	text          TEXT NOT NULL DEFAULT '',
	at            TIMESTAMP NOT NULL
);
CREATE INDEX suggestion_events_by_suggestion ON suggestion_events (suggestion_id, id);
