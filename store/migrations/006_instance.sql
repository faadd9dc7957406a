-- This database's identity. Conversations in Redis are kept under it, so a
-- fresh database (a new install, a test, sim) pointed at a Redis that served
-- another one starts with no half-finished drafts, held locks or remembered
-- message ids of that other one. Processes sharing this file share the id,
-- and with it their conversations.
CREATE TABLE instance (
    id TEXT NOT NULL
);
INSERT INTO instance (id) VALUES (lower(hex(randomblob(6))));
