-- What the console adds to cases (issue 12): where a case came from (chat,
-- a walk-in, a call), the name staff took down, the private mark and the
-- case a duplicate was merged into.
ALTER TABLE cases ADD COLUMN source TEXT NOT NULL DEFAULT 'wechat';
ALTER TABLE cases ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';

-- Photos staff hid (the file stays, for admins) and who uploaded a walk-in's
-- photo (openid is '' for those).
ALTER TABLE attachments ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

-- Senders staff blocked for abuse: their messages are still journaled and
-- their reports registered, but go to staff instead of a deputy.
CREATE TABLE blocked_senders (
	openid     TEXT PRIMARY KEY,
	reason     TEXT NOT NULL DEFAULT '',
	blocked_by TEXT NOT NULL,
	at         TIMESTAMP NOT NULL
);

-- Response templates staff pick from when answering, per category ('' for
-- any category).
CREATE TABLE response_templates (
	id         INTEGER PRIMARY KEY,
	category   TEXT NOT NULL DEFAULT '',
	title      TEXT NOT NULL,
	body       TEXT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMP NOT NULL
);

-- The console's list: newest first within a status, the notices of a case.
CREATE INDEX cases_by_status ON cases (status, id);
CREATE INDEX outbox_by_case ON outbox (case_id) WHERE case_id IS NOT NULL;
