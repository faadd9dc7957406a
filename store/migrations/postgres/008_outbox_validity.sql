-- PostgreSQL port of 008_outbox_validity.sql.
ALTER TABLE outbox ADD COLUMN valid_while TEXT NOT NULL DEFAULT '';
