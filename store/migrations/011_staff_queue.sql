-- The district office's settings (its name, hours and staff), imported from
-- directory.yaml with the rest of the directory: one row.
CREATE TABLE district (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	data       TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

-- The staff queues: open cases waiting for a person (人工, returned by every
-- deputy, no station), per station. Only those rows are in the index.
CREATE INDEX cases_staff_queue ON cases (station_id, id)
	WHERE needs_staff = 1 AND status IN ('registered', 'accepted', 'forwarded', 'reopened');
