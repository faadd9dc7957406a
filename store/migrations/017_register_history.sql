-- The register's history, kept by triggers so that every path that changes a
-- case (chat, console, CLI, a future import) records it without knowing:
-- each handling round of a case (the first from registration, another from
-- each 重办) with its deadlines and when it was accepted and closed; who had
-- the case when; every rating. The numbers are computed from these as of a
-- moment (the end of a month), so a month's figures stay what they were when
-- the report is regenerated later, whatever happened to its cases since.
CREATE TABLE case_rounds (
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    round       INTEGER NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    accept_due  TIMESTAMP,
    resolve_due TIMESTAMP,
    accepted_at TIMESTAMP, -- first taken up: accepted, answered, forwarded or resolved
    closed_at   TIMESTAMP,
    outcome     TEXT NOT NULL DEFAULT '', -- '' while open, then 'resolved' or 'cancelled'
    PRIMARY KEY (case_id, round)
) WITHOUT ROWID;
-- A period's figures start from the cases open in it: those not closed
-- before it began.
CREATE INDEX case_rounds_by_closed ON case_rounds (closed_at);

CREATE TABLE case_assignees (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    deputy_id TEXT NOT NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX case_assignees_by_case ON case_assignees (case_id, id);

CREATE TABLE case_ratings (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    rating  TEXT NOT NULL,
    at      TIMESTAMP NOT NULL
);
CREATE INDEX case_ratings_by_case ON case_ratings (case_id, at);
CREATE INDEX case_ratings_by_at ON case_ratings (at);

-- A deputy's record (履职档案) reads their own timeline entries by year.
CREATE INDEX case_events_by_actor ON case_events (actor, at);
-- The register by registration time (a month's export, the trend).
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at);

-- Cases registered before this migration: their rounds, as far as the
-- timeline tells (a round per 重办; deadlines from the case's current ones).
INSERT INTO case_rounds (case_id, round, started_at, accept_due, resolve_due, accepted_at, closed_at, outcome)
SELECT s.case_id, s.round, s.started_at,
    CASE WHEN c.accept_due IS NULL THEN NULL ELSE
        strftime('%Y-%m-%d %H:%M:%S+00:00', julianday(s.started_at) + julianday(c.accept_due) - julianday(s.last_start)) END,
    CASE WHEN c.resolve_due IS NULL THEN NULL ELSE
        strftime('%Y-%m-%d %H:%M:%S+00:00', julianday(s.started_at) + julianday(c.resolve_due) - julianday(s.last_start)) END,
    (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = s.case_id AND e.type IN ('accepted', 'answered', 'forwarded', 'resolved')
        AND e.at >= s.started_at AND (s.next_start IS NULL OR e.at < s.next_start)),
    COALESCE((SELECT MIN(e.at) FROM case_events e WHERE e.case_id = s.case_id AND e.type = 'resolved'
        AND e.at >= s.started_at AND (s.next_start IS NULL OR e.at < s.next_start)),
        CASE WHEN s.next_start IS NULL AND c.status = 'cancelled' THEN c.updated_at END),
    CASE WHEN EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = s.case_id AND e.type = 'resolved'
        AND e.at >= s.started_at AND (s.next_start IS NULL OR e.at < s.next_start)) THEN 'resolved'
        WHEN s.next_start IS NULL AND c.status = 'cancelled' THEN 'cancelled' ELSE '' END
FROM (
    SELECT case_id, started_at,
        ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY started_at) AS round,
        LEAD(started_at) OVER (PARTITION BY case_id ORDER BY started_at) AS next_start,
        MAX(started_at) OVER (PARTITION BY case_id) AS last_start
    FROM (SELECT id AS case_id, created_at AS started_at FROM cases
          UNION ALL SELECT case_id, at FROM case_events WHERE type = 'reopened')
) s JOIN cases c ON c.id = s.case_id;

INSERT INTO case_assignees (case_id, deputy_id, at)
    SELECT id, assignee_id, created_at FROM cases WHERE assignee_id <> '';

-- Ratings: the timeline's (its text is the label residents were shown), or
-- the case's own when the timeline has none.
INSERT INTO case_ratings (case_id, rating, at)
    SELECT case_id, CASE text WHEN '满意' THEN 'satisfied' WHEN '基本满意' THEN 'fairly_satisfied' ELSE 'unsatisfied' END, at
    FROM case_events WHERE type = 'rated' AND text IN ('满意', '基本满意', '不满意');
INSERT INTO case_ratings (case_id, rating, at)
    SELECT id, satisfaction, updated_at FROM cases c WHERE satisfaction <> ''
    AND NOT EXISTS (SELECT 1 FROM case_ratings g WHERE g.case_id = c.id);

CREATE TRIGGER case_rounds_on_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_rounds (case_id, round, started_at, accept_due, resolve_due, accepted_at, closed_at, outcome)
    VALUES (NEW.id, 1, NEW.created_at, NEW.accept_due, NEW.resolve_due,
        CASE WHEN NEW.status IN ('accepted', 'forwarded', 'resolved') THEN NEW.created_at END,
        CASE WHEN NEW.status IN ('resolved', 'cancelled') THEN NEW.created_at END,
        CASE WHEN NEW.status IN ('resolved', 'cancelled') THEN NEW.status ELSE '' END);
END;

-- 重办 starts a new round with the deadlines the same update set.
CREATE TRIGGER case_rounds_on_reopen AFTER UPDATE OF status ON cases
    WHEN NEW.status = 'reopened' AND OLD.status <> 'reopened'
BEGIN
    INSERT INTO case_rounds (case_id, round, started_at, accept_due, resolve_due)
    SELECT NEW.id, MAX(round) + 1, NEW.updated_at, NEW.accept_due, NEW.resolve_due
    FROM case_rounds WHERE case_id = NEW.id;
END;

CREATE TRIGGER case_rounds_on_accept AFTER UPDATE OF status ON cases
    WHEN NEW.status IN ('accepted', 'forwarded', 'resolved') AND OLD.status <> NEW.status
BEGIN
    UPDATE case_rounds SET accepted_at = NEW.updated_at
    WHERE case_id = NEW.id AND accepted_at IS NULL
      AND round = (SELECT MAX(round) FROM case_rounds WHERE case_id = NEW.id);
END;

CREATE TRIGGER case_rounds_on_close AFTER UPDATE OF status ON cases
    WHEN NEW.status IN ('resolved', 'cancelled') AND OLD.status <> NEW.status
BEGIN
    UPDATE case_rounds SET closed_at = NEW.updated_at, outcome = NEW.status
    WHERE case_id = NEW.id AND closed_at IS NULL
      AND round = (SELECT MAX(round) FROM case_rounds WHERE case_id = NEW.id);
END;

-- A deadline moved on its own (an extension granted by staff) moves the
-- current round's; a 重办's new deadlines are taken by case_rounds_on_reopen.
CREATE TRIGGER case_rounds_on_due AFTER UPDATE OF accept_due, resolve_due ON cases
    WHEN OLD.status = NEW.status
BEGIN
    UPDATE case_rounds SET accept_due = NEW.accept_due, resolve_due = NEW.resolve_due
    WHERE case_id = NEW.id AND round = (SELECT MAX(round) FROM case_rounds WHERE case_id = NEW.id);
END;

CREATE TRIGGER case_assignees_on_insert AFTER INSERT ON cases
    WHEN NEW.assignee_id <> ''
BEGIN
    INSERT INTO case_assignees (case_id, deputy_id, at) VALUES (NEW.id, NEW.assignee_id, NEW.created_at);
END;

CREATE TRIGGER case_assignees_on_update AFTER UPDATE OF assignee_id ON cases
    WHEN NEW.assignee_id <> OLD.assignee_id
BEGIN
    INSERT INTO case_assignees (case_id, deputy_id, at) VALUES (NEW.id, NEW.assignee_id, NEW.updated_at);
END;

CREATE TRIGGER case_ratings_on_update AFTER UPDATE OF satisfaction ON cases
    WHEN NEW.satisfaction <> ''
BEGIN
    INSERT INTO case_ratings (case_id, rating, at) VALUES (NEW.id, NEW.satisfaction, NEW.updated_at);
END;
