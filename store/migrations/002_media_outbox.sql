-- Leases on attachments, as the outbox already has: several serve processes
-- share the database, and a media worker claims a due attachment by setting
-- lease_owner/lease_until in the same statement that selects it, so no two
-- processes fetch the same media at once. A lease that runs out (its process
-- died) makes the row claimable again.
ALTER TABLE attachments ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN lease_until TIMESTAMP;

-- How a sent outbox message went out: 'custom' (customer-service message),
-- 'template' (directly, or as the fallback when the 48-hour window was
-- closed) or 'robot'.
ALTER TABLE outbox ADD COLUMN via TEXT NOT NULL DEFAULT '';

-- The outbox delivers each recipient's messages in order: a message is only
-- claimed when no earlier one to the same recipient is still pending. This
-- index answers "is there an earlier pending one" without a scan.
CREATE INDEX outbox_pending_by_recipient ON outbox (recipient, id) WHERE status = 'pending';
