-- Each deputy's open cases, kept by triggers so routing's "fewest open"
-- reads one row per candidate instead of counting their cases on every new
-- case. Open means registered, accepted, forwarded or reopened (as in
-- lianxin.Status.Open). Triggers keep it right whatever statement moves a
-- case: a new case, a status change, a reassignment, a deletion.
CREATE TABLE deputy_open_cases (
    deputy_id TEXT PRIMARY KEY,
    open      INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO deputy_open_cases (deputy_id, open)
    SELECT assignee_id, COUNT(*) FROM cases
    WHERE assignee_id <> '' AND status IN ('registered', 'accepted', 'forwarded', 'reopened')
    GROUP BY assignee_id;

CREATE TRIGGER cases_open_on_insert AFTER INSERT ON cases
    WHEN NEW.assignee_id <> '' AND NEW.status IN ('registered', 'accepted', 'forwarded', 'reopened')
BEGIN
    INSERT INTO deputy_open_cases (deputy_id, open) VALUES (NEW.assignee_id, 1)
        ON CONFLICT (deputy_id) DO UPDATE SET open = open + 1;
END;

CREATE TRIGGER cases_open_on_leave AFTER UPDATE OF status, assignee_id ON cases
    WHEN OLD.assignee_id <> '' AND OLD.status IN ('registered', 'accepted', 'forwarded', 'reopened')
BEGIN
    UPDATE deputy_open_cases SET open = open - 1 WHERE deputy_id = OLD.assignee_id;
END;

CREATE TRIGGER cases_open_on_enter AFTER UPDATE OF status, assignee_id ON cases
    WHEN NEW.assignee_id <> '' AND NEW.status IN ('registered', 'accepted', 'forwarded', 'reopened')
BEGIN
    INSERT INTO deputy_open_cases (deputy_id, open) VALUES (NEW.assignee_id, 1)
        ON CONFLICT (deputy_id) DO UPDATE SET open = open + 1;
END;

CREATE TRIGGER cases_open_on_delete AFTER DELETE ON cases
    WHEN OLD.assignee_id <> '' AND OLD.status IN ('registered', 'accepted', 'forwarded', 'reopened')
BEGIN
    UPDATE deputy_open_cases SET open = open - 1 WHERE deputy_id = OLD.assignee_id;
END;
