-- PostgreSQL port of 011_staff_queue.sql.
CREATE TABLE district (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	data       TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX cases_staff_queue ON cases (station_id, id)
	WHERE needs_staff AND status IN ('registered', 'accepted', 'forwarded', 'reopened');
