-- Supervision (督办): when each reminder and overdue notice went out, so
-- several processes send each exactly once.
ALTER TABLE cases ADD COLUMN accept_reminded_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN accept_overdue_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN resolve_reminded_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN resolve_overdue_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN accepted_at TIMESTAMP;
CREATE INDEX cases_open_due ON cases (status, accept_due, resolve_due);
-- The newest case of a station (routing's round-robin) and a station's register.
CREATE INDEX cases_by_station ON cases (station_id, id);
