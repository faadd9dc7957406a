-- PostgreSQL port of 015_console_indexes.sql. The last-four-digits indexes
-- are on right(col, 4), as the dialect's last4 writes it.
CREATE INDEX cases_open ON cases (status, station_id, assignee_id, needs_staff, accepted_at, accept_due, resolve_due, category)
	WHERE status IN ('registered', 'accepted', 'forwarded', 'reopened');
CREATE INDEX cases_awaiting_rating ON cases (resolved_at, station_id, assignee_id) WHERE status = 'resolved' AND satisfaction = '';
CREATE INDEX cases_by_station_status ON cases (station_id, status);
CREATE INDEX cases_by_station_category ON cases (station_id, category, status);
CREATE INDEX cases_by_created ON cases (created_at);
CREATE INDEX cases_number_last4 ON cases (right(number, 4));
CREATE INDEX cases_phone_last4 ON cases (right(phone, 4));
