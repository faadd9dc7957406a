-- PostgreSQL port of 002_media_outbox.sql.
ALTER TABLE attachments ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN via TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_pending_by_recipient ON outbox (recipient, id) WHERE status = 'pending';
