-- «Me too» (同一件, issue 14): residents who joined an open case as the same
-- problem, and the grid workers who reported a case for a resident; both
-- are told its progress. source_key is the message that joined.
CREATE TABLE case_supporters (
	id         INTEGER PRIMARY KEY,
	case_id    INTEGER NOT NULL REFERENCES cases (id),
	openid     TEXT NOT NULL,
	phone      TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL DEFAULT '',
	role       TEXT NOT NULL DEFAULT 'resident',
	source_key TEXT UNIQUE,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (case_id, openid)
);
CREATE INDEX case_supporters_by_openid ON case_supporters (openid, case_id);

-- Nearby open cases of a category: the offer's query.
CREATE INDEX cases_nearby ON cases (category, created_at, lat) WHERE lat <> 0;
