-- PostgreSQL port of 007_event_audience.sql.
ALTER TABLE case_events ADD COLUMN audience TEXT NOT NULL DEFAULT 'staff';
UPDATE case_events SET audience = 'resident'
	WHERE type IN ('created', 'staff_requested', 'accepted', 'answered', 'progress', 'resolved', 'rated', 'reopened');
