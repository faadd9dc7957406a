-- PostgreSQL port of 006_instance.sql.
CREATE TABLE instance (
	id TEXT NOT NULL
);
INSERT INTO instance (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12));
