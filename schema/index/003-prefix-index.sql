-- eakte index, migration 3: prefix index for 2 to 6 characters.
--
-- A prefix query longer than the longest indexed prefix makes FTS5 merge
-- the posting lists of every word that starts with it; at 500,000
-- documents 4-6 character prefixes took up to 85 ms (p99 of newest-first
-- search 62 ms, goal 50).  Indexing prefixes up to 6 characters brings
-- them under 1 ms for about 30 % more index (tests/bench/RESULTS-search.md).
-- The text itself stays in fts_content; the full-text index is rebuilt
-- from it.
DROP TABLE fts;
CREATE VIRTUAL TABLE fts USING fts5 (
	title, meta, az, body,
	content = 'fts_content', content_rowid = 'rowid',
	tokenize = 'eakte_de', prefix = '2 3 4 5 6'
);
INSERT INTO fts (fts) VALUES ('rebuild');
