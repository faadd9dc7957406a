-- PostgreSQL port of 004_supervision.sql.
ALTER TABLE cases ADD COLUMN accept_reminded_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN accept_overdue_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN resolve_reminded_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN resolve_overdue_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN accepted_at TIMESTAMPTZ;
CREATE INDEX cases_open_due ON cases (status, accept_due, resolve_due);
CREATE INDEX cases_by_station ON cases (station_id, id);
