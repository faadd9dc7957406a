-- Residents' privacy and the staff's marks on the register.
--   anonymous: the resident asked to stay anonymous to the deputy; every view
--              and export masks who they are and how to reach them.
--   erased_at: the resident's phone and openid were erased (the retention
--              period passed, or the resident asked); the case and its
--              numbers stay.
--   typical_*: staff chose the case as a typical case (典型案例) for the
--              monthly report.
ALTER TABLE cases ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN erased_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN typical_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN typical_note TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_typical ON cases (typical_at) WHERE typical_at IS NOT NULL;
-- The retention job looks for closed cases still holding contact details.
CREATE INDEX cases_erasable ON cases (status, resolved_at) WHERE erased_at IS NULL;
