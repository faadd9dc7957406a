-- PostgreSQL port of 018_privacy_typical.sql.
ALTER TABLE cases ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN erased_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN typical_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN typical_note TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_typical ON cases (typical_at) WHERE typical_at IS NOT NULL;
CREATE INDEX cases_erasable ON cases (status, resolved_at) WHERE erased_at IS NULL;
