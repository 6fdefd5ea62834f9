-- eakte index, migration 4: retention, legal holds, four-eyes disposal,
-- exports (docs/format.md, "Retention, holds and disposal").
--
-- Everything here follows from the journal events retention-set,
-- hold-set, hold-release, dispose-propose, dispose and export; `eakte
-- reindex` rebuilds it.

-- Per Akte: the retention set by a retention-set event (years, -1 =
-- unbefristet; NULL: the Aktenplan code's), the latest akte-reopen (a
-- proposal older than it is stale), and the dispose event that ended it.
-- A table of its own rather than columns of `akte`, so that this migration
-- can run again over itself (IF NOT EXISTS throughout).
CREATE TABLE IF NOT EXISTS akte_life (
	akte_id INTEGER PRIMARY KEY REFERENCES akte (id),
	retention INTEGER,
	retention_seq INTEGER,
	reopened_seq INTEGER,
	disposed_seq INTEGER
);

-- Legal holds (Loeschsperren); the id is the seq of the hold-set event.
CREATE TABLE IF NOT EXISTS hold (
	seq INTEGER PRIMARY KEY,
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	reason TEXT NOT NULL,
	case_id TEXT,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	released_seq INTEGER,            -- the hold-release event, NULL while active
	released_at TEXT,
	released_by TEXT,
	release_reason TEXT
);
CREATE INDEX IF NOT EXISTS hold_akte ON hold (akte_id, released_seq);

-- Disposal proposals; the id is the seq of the dispose-propose event.
CREATE TABLE IF NOT EXISTS proposal (
	seq INTEGER PRIMARY KEY,
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	reason TEXT NOT NULL,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	approved_seq INTEGER             -- the dispose event, NULL while open
);
CREATE INDEX IF NOT EXISTS proposal_akte ON proposal (akte_id);

-- Export events (written by `eakte export`): disposal of an Akte of
-- archival value A or B needs one after its zdA.
CREATE TABLE IF NOT EXISTS export (
	seq INTEGER PRIMARY KEY,
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	format TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	time TEXT NOT NULL,
	actor TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS export_akte ON export (akte_id, seq);

-- Dispose events.  `purged` is 1 once the objects they removed are gone
-- from store.git and their words from this index; a writer finishes the
-- others (a crash after the commit point).
CREATE TABLE IF NOT EXISTS disposal (
	seq INTEGER PRIMARY KEY,
	akte_id INTEGER NOT NULL REFERENCES akte (id),
	proposal INTEGER NOT NULL,
	proposed_by TEXT NOT NULL,
	time TEXT NOT NULL,
	actor TEXT NOT NULL,
	purged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS disposal_pending ON disposal (seq) WHERE purged = 0;

-- Tombstones of disposed documents, so that `eakte get` can say when and
-- by which event a document went.
CREATE TABLE IF NOT EXISTS disposed_doc (
	uuid TEXT PRIMARY KEY,
	seq INTEGER NOT NULL
) WITHOUT ROWID;

-- Content objects a dispose event removes from store.git (their ids come
-- from the filing events); deleted when the removal is done.
CREATE TABLE IF NOT EXISTS disposed_object (
	seq INTEGER NOT NULL,
	oid TEXT NOT NULL,
	PRIMARY KEY (seq, oid)
) WITHOUT ROWID;
