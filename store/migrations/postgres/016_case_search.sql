-- PostgreSQL port of 016_case_search.sql. The same bigram text as SQLite's
-- FTS4 table (store.SearchText), and its pieces as an array under a GIN
-- index: a search narrows to the cases holding all of a word's bigrams
-- through the index, then checks the phrase in body (dialect.searchCond).
-- No text-search configuration or locale is involved, so Chinese is cut
-- exactly as on SQLite.
CREATE TABLE case_search (
	docid BIGINT PRIMARY KEY,
	body  TEXT NOT NULL,
	grams TEXT[] NOT NULL
);
CREATE INDEX case_search_grams ON case_search USING GIN (grams);
