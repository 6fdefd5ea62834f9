-- eakte index, migration 1: the initial schema.
--
-- The index is a cache derived from the journal (docs/format.md, "The
-- index"): `eakte reindex` rebuilds it from the journal alone.  Migrations
-- are applied in file-name order, each in one transaction, and
-- PRAGMA user_version records the last one applied.  Never edit a
-- migration that has shipped; add the next file instead.

-- Position in the journal: the last event applied and its leaf hash, so
-- that a rewritten journal is noticed rather than silently mixed in.
CREATE TABLE position (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	applied INTEGER NOT NULL,        -- number of events applied (next seq)
	head TEXT NOT NULL,              -- journal commit of event applied-1
	last_leaf TEXT NOT NULL          -- its leaf hash (hex)
);

-- Aktenplan (file plan).
CREATE TABLE plan (
	code TEXT PRIMARY KEY,
	title TEXT NOT NULL,
	parent TEXT,
	retention INTEGER NOT NULL,      -- years; -1 = unbefristet
	value TEXT NOT NULL CHECK (value IN ('A', 'B', 'V')),
	seq INTEGER NOT NULL             -- event that last set it
) WITHOUT ROWID;

-- Akten.  `az` is the Aktenzeichen.
CREATE TABLE akte (
	id INTEGER PRIMARY KEY,
	az TEXT NOT NULL UNIQUE,
	plan TEXT NOT NULL,
	title TEXT NOT NULL,
	created_seq INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	closed_on TEXT,                  -- zdA date (YYYY-MM-DD) or NULL while open
	closed_seq INTEGER
);
CREATE INDEX akte_plan ON akte (plan, az);

-- Serials of generated Aktenzeichen <code>-<year>/<serial>: never reused.
CREATE TABLE serial (
	plan TEXT NOT NULL,
	year INTEGER NOT NULL,
	last INTEGER NOT NULL,
	PRIMARY KEY (plan, year)
) WITHOUT ROWID;

CREATE TABLE vorgang (
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	n INTEGER NOT NULL,
	title TEXT NOT NULL,
	created_seq INTEGER NOT NULL,
	PRIMARY KEY (akte_id, n)
) WITHOUT ROWID;

-- Documents; one row per document, describing its latest version and its
-- current metadata.  `ftsrow` is the row of the full-text index: the seq of
-- the latest version's filing event, so that newest-first is rowid order.
CREATE TABLE doc (
	id INTEGER PRIMARY KEY,
	uuid TEXT NOT NULL UNIQUE,
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	vorgang INTEGER,
	latest INTEGER NOT NULL,
	ftsrow INTEGER NOT NULL UNIQUE,
	title TEXT NOT NULL,
	filename TEXT NOT NULL,
	mime TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	date TEXT NOT NULL,              -- metadata "date" if a valid date, else the filing date
	filed_at TEXT NOT NULL,          -- time of the first version
	changed_at TEXT NOT NULL,        -- time of the latest event about it
	meta TEXT NOT NULL,              -- current free metadata, canonical JSON object
	text_status TEXT NOT NULL,       -- 'ok', 'none', 'failed', 'pending'
	text_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX doc_akte ON doc (akte_id, ftsrow);
CREATE INDEX doc_date ON doc (date);
CREATE INDEX doc_mime ON doc (mime);

CREATE TABLE version (
	doc_id INTEGER NOT NULL REFERENCES doc (id),
	version INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	mime TEXT NOT NULL,
	oid TEXT NOT NULL,               -- git blob id of the content
	PRIMARY KEY (doc_id, version)
) WITHOUT ROWID;

CREATE TABLE doc_meta (
	doc_id INTEGER NOT NULL REFERENCES doc (id),
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (doc_id, key)
) WITHOUT ROWID;
CREATE INDEX doc_meta_kv ON doc_meta (key, value);

-- Every event about a document, for `show --history`.
CREATE TABLE doc_event (
	doc_id INTEGER NOT NULL REFERENCES doc (id),
	seq INTEGER NOT NULL,
	PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;

-- Full text: the searchable text of each document (title, metadata values,
-- Aktenzeichen, extracted text), kept so that snippets can be shown.
CREATE TABLE fts_content (
	rowid INTEGER PRIMARY KEY,
	title TEXT NOT NULL,
	meta TEXT NOT NULL,
	az TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE VIRTUAL TABLE fts USING fts5 (
	title, meta, az, body,
	content = 'fts_content', content_rowid = 'rowid',
	tokenize = 'eakte_de', prefix = '2 3'
);
