-- When a queued notice still makes sense (lianxin.NoticeRule as JSON, ''
-- for always): "while case N is registered and assigned to D". The outbox
-- worker checks it against the case just before sending and drops the
-- notice when the case has moved on, so nobody gets stale instructions.
ALTER TABLE outbox ADD COLUMN valid_while TEXT NOT NULL DEFAULT '';
