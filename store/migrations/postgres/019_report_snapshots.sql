-- PostgreSQL port of 019_report_snapshots.sql.
CREATE TABLE report_snapshots (
	kind         TEXT NOT NULL,
	scope        TEXT NOT NULL,
	data         TEXT NOT NULL,
	generated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (kind, scope)
);
