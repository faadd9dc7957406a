-- The console's search by words of a case (issue 12). Descriptions are
-- Chinese, without spaces between words, so the text is indexed as
-- overlapping two-character pieces (bigrams; see store/search.go) in
-- SQLite's built-in full-text index, and a searched word is matched as the
-- phrase of its bigrams: any part of the text two or more characters long is
-- found through the index instead of by reading every case. docid is the
-- case's id. Rows for cases registered before this migration are filled in
-- when the store opens.
CREATE VIRTUAL TABLE case_search USING fts4(body, tokenize=simple);
