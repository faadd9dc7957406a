-- PostgreSQL port of 005_open_counts.sql: each deputy's open cases, kept by
-- triggers, one per SQLite trigger with the same firing rule (UPDATE OF
-- fires whenever the statement sets the column, changed or not, as in
-- SQLite).
CREATE TABLE deputy_open_cases (
	deputy_id TEXT PRIMARY KEY,
	open      INTEGER NOT NULL
);

INSERT INTO deputy_open_cases (deputy_id, open)
	SELECT assignee_id, COUNT(*) FROM cases
	WHERE assignee_id <> '' AND status IN ('registered', 'accepted', 'forwarded', 'reopened')
	GROUP BY assignee_id;

CREATE FUNCTION deputy_open_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO deputy_open_cases (deputy_id, open) VALUES (NEW.assignee_id, 1)
		ON CONFLICT (deputy_id) DO UPDATE SET open = deputy_open_cases.open + 1;
	RETURN NULL;
END
$$;

CREATE FUNCTION deputy_open_leave() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE deputy_open_cases SET open = open - 1 WHERE deputy_id = OLD.assignee_id;
	RETURN NULL;
END
$$;

CREATE TRIGGER cases_open_on_insert AFTER INSERT ON cases FOR EACH ROW
	WHEN (NEW.assignee_id <> '' AND NEW.status IN ('registered', 'accepted', 'forwarded', 'reopened'))
	EXECUTE FUNCTION deputy_open_enter();

-- Leave before enter (PostgreSQL fires a table's triggers in name order):
-- a case moved between deputies takes one from the first, then gives one
-- to the second.
CREATE TRIGGER cases_open_on_a_leave AFTER UPDATE OF status, assignee_id ON cases FOR EACH ROW
	WHEN (OLD.assignee_id <> '' AND OLD.status IN ('registered', 'accepted', 'forwarded', 'reopened'))
	EXECUTE FUNCTION deputy_open_leave();

CREATE TRIGGER cases_open_on_b_enter AFTER UPDATE OF status, assignee_id ON cases FOR EACH ROW
	WHEN (NEW.assignee_id <> '' AND NEW.status IN ('registered', 'accepted', 'forwarded', 'reopened'))
	EXECUTE FUNCTION deputy_open_enter();

CREATE TRIGGER cases_open_on_delete AFTER DELETE ON cases FOR EACH ROW
	WHEN (OLD.assignee_id <> '' AND OLD.status IN ('registered', 'accepted', 'forwarded', 'reopened'))
	EXECUTE FUNCTION deputy_open_leave();
