-- Reception days in practice (接待日, issue 14): the duty roster kept in the
-- console, bookings made in chat and walk-ins added on the day, the
-- reminders sent before a reception day (one per station and day), and the
-- queue that gives residents their station's WeChat tag, which mass sends
-- go to. The mass sends themselves stay in mass_sends (027).

-- One row per deputy on duty at a station on a day; a day with rows
-- overrides the directory's recurring reception of that day.
CREATE TABLE reception_roster (
	id         INTEGER PRIMARY KEY,
	station_id TEXT NOT NULL,
	day        TEXT NOT NULL,
	deputy_id  TEXT NOT NULL,
	start_at   TEXT NOT NULL,
	end_at     TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (station_id, day, deputy_id)
);
CREATE INDEX reception_roster_by_day ON reception_roster (day, station_id);

-- Bookings (kind booking, slot set) and walk-ins (kind walkin). source_key
-- is the message that confirmed a booking, so a retried message books once.
CREATE TABLE reception_bookings (
	id           INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL,
	station_id   TEXT NOT NULL,
	day          TEXT NOT NULL,
	slot         TEXT NOT NULL DEFAULT '',
	openid       TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL DEFAULT '',
	phone        TEXT NOT NULL DEFAULT '',
	topic        TEXT NOT NULL,
	status       TEXT NOT NULL,
	case_number  TEXT NOT NULL DEFAULT '',
	deputy_id    TEXT NOT NULL DEFAULT '',
	source_key   TEXT UNIQUE,
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	cancelled_at TIMESTAMP
);
CREATE INDEX reception_bookings_by_day ON reception_bookings (station_id, day, slot, status);
CREATE INDEX reception_bookings_by_openid ON reception_bookings (openid, day);

-- A reception day's reminder to its station's residents: queued (the mass
-- send), or not sent because the month's quota was used up.
CREATE TABLE reception_reminders (
	station_id   TEXT NOT NULL,
	day          TEXT NOT NULL,
	status       TEXT NOT NULL,
	mass_send_id INTEGER,
	created_at   TIMESTAMP NOT NULL,
	PRIMARY KEY (station_id, day)
);

-- Residents to be given a station's tag in WeChat (tags/members/
-- batchtagging), a queue leased like the outbox.
CREATE TABLE resident_tags (
	id           INTEGER PRIMARY KEY,
	openid       TEXT NOT NULL,
	tag          TEXT NOT NULL,
	status       TEXT NOT NULL DEFAULT 'pending',
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt TIMESTAMP NOT NULL,
	lease_owner  TEXT NOT NULL DEFAULT '',
	lease_until  TIMESTAMP,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	tagged_at    TIMESTAMP,
	UNIQUE (openid, tag)
);
CREATE INDEX resident_tags_due ON resident_tags (status, next_attempt);
-- The cases changed lately, whose residents the reception loop tags.
CREATE INDEX cases_by_updated ON cases (updated_at);
