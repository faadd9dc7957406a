-- Grid workers (网格员, issue 14): the grids of the directory (imported from
-- directory.yaml like stations; data is the whole grid with its workers as
-- JSON), the workers' WeChat bindings and their one-time binding codes.
CREATE TABLE grids (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	station_id TEXT NOT NULL,
	data       TEXT NOT NULL,
	position   INTEGER NOT NULL,
	active     BOOLEAN NOT NULL DEFAULT TRUE,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE grid_bindings (
	worker_id TEXT PRIMARY KEY,
	openid    TEXT NOT NULL UNIQUE,
	bound_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE grid_invites (
	code_hash  TEXT PRIMARY KEY,
	worker_id  TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL
);

-- The grid a case is in, and who reported it for the resident (grid:ID).
ALTER TABLE cases ADD COLUMN grid_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_by_grid ON cases (grid_id, id) WHERE grid_id <> '';
