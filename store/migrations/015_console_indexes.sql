-- Indexes for the console's list and queues over a large register
-- (BenchmarkConsole100k: 100,000 cases).
-- Open cases, with every column the queue counts, the status counts and the
-- SLA colours read, so counting them reads this index alone and never the
-- closed cases.
CREATE INDEX cases_open ON cases (status, station_id, assignee_id, needs_staff, accepted_at, accept_due, resolve_due, category)
	WHERE status IN ('registered', 'accepted', 'forwarded', 'reopened');
-- Resolved and waiting for the resident's rating.
CREATE INDEX cases_awaiting_rating ON cases (resolved_at, station_id, assignee_id) WHERE status = 'resolved' AND satisfaction = '';
-- The per-status counts of a station's list, and with a category.
CREATE INDEX cases_by_station_status ON cases (station_id, status);
CREATE INDEX cases_by_station_category ON cases (station_id, category, status);
-- A date range of the register.
CREATE INDEX cases_by_created ON cases (created_at);
-- Search by a short number (…-0007) or the last four digits of the phone.
CREATE INDEX cases_number_last4 ON cases (substr(number, -4));
CREATE INDEX cases_phone_last4 ON cases (substr(phone, -4));
