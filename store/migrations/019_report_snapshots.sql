-- The figures of a finished period as first generated (a month's report, a
-- deputy's year), so the report handed upward reads the same whenever it is
-- printed again, even after cases were moved, re-categorised or erased.
CREATE TABLE report_snapshots (
    kind         TEXT NOT NULL, -- 'monthly'
    scope        TEXT NOT NULL, -- '2026-10' or '2026-10/pingtanjie'
    data         TEXT NOT NULL, -- JSON
    generated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, scope)
) WITHOUT ROWID;
