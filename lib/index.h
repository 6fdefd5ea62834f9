/*
 * index.h - the SQLite index: Aktenplan, Akten, documents, metadata and
 * full text, derived from the journal.
 *
 * <archive>/index.sqlite (WAL) is a cache: everything in it follows from
 * the journal events and the objects they name, and `eakte reindex`
 * rebuilds it from them alone.  The schema is schema/index/NNN-*.sql,
 * applied in order as migrations (PRAGMA user_version = last applied).
 *
 * The index records how many events it has applied and the commit and
 * leaf hash of the last one.  Catch-up applies the events after that,
 * in one SQLite transaction per few thousand events; a crash between the
 * journal commit and the index update therefore only leaves the index
 * behind, and the next open catches up.  If the recorded position is not
 * in the journal (the journal was rewritten, or the index belongs to
 * another archive) the index is reported as drifted and must be rebuilt.
 *
 * Text extraction is a second stage: applying a filing marks the document
 * "pending"; eakte_index__extract() extracts and indexes pending text.  A
 * failed extraction is recorded with its reason and never blocks filing.
 */
#ifndef EAKTE_INDEX_H
#define EAKTE_INDEX_H

#include "archive.h"

#include <jansson.h>
#include <sqlite3.h>

#define EAKTE_INDEX_FILE "index.sqlite"

typedef struct eakte_index eakte_index;

/*
 * Open <archive>/index.sqlite.  With `writable` it is created if missing
 * and migrated to the current schema; read-only opens refuse an index
 * with an older schema (EAKTE_EVERSION: open it once for writing).
 * EAKTE_ECORRUPT if the file is not a usable database.
 */
int eakte_index__open(eakte_index **out, const char *archive_path, int writable);
void eakte_index__close(eakte_index *ix);

/* A storage error (I/O, disk full) SQLite met and handled itself since
 * the last call, anywhere in this process: 1 and its text in out, or 0. */
int eakte_index__take_storage_error(char *out, size_t len);

/* The same, as the archive's warning (eakte_archive_warning()). */
void eakte_index__warn_storage_error(eakte_archive *a);

/* The connection, for the search module. */
sqlite3 *eakte_index__db(eakte_index *ix);

/* Events applied so far, and the journal commit (hex) of the last one
 * ("" when none). */
int eakte_index__position(eakte_index *ix, uint64_t *applied, char head[GIT_OID_HEXSZ + 1]);

/*
 * Apply every journal event the index has not seen.  EAKTE_ECORRUPT
 * (with "drift" in the message) if the recorded position is not part of
 * this journal.
 */
int eakte_index__catch_up(eakte_index *ix, eakte_archive *a);

/* Extract and index the text of documents still pending (at most `max`,
 * 0 = all). */
/* Returns the number of documents handled (>= 0) or an error. */
int eakte_index__extract(eakte_index *ix, eakte_archive *a, size_t max);

/* Empty the index (for a rebuild). */
int eakte_index__clear(eakte_index *ix);

/* Open (creating or rebuilding a corrupt file) and catch up the index of
 * an archive opened for writing: a->index afterwards.  A corrupt index is
 * moved aside as index.sqlite.corrupt-<time> and rebuilt. */
int eakte_index__for_writer(eakte_index **out, eakte_archive *a);

/* What the writer needs to know before it writes an event. */
typedef struct {
	int64_t id;
	char plan[65];
	int closed;
	char closed_on[11];
	char created_on[11];     /* date of the akte-create event */
} eakte_index_akte;

int eakte_index__akte(eakte_index_akte *out, eakte_index *ix, const char *az);
int eakte_index__plan_exists(eakte_index *ix, const char *code);
int eakte_index__vorgang_exists(eakte_index *ix, int64_t akte_id, int64_t n);
int eakte_index__vorgang_next(int64_t *n, eakte_index *ix, int64_t akte_id);
int eakte_index__serial_next(int64_t *n, eakte_index *ix, const char *plan, int year);

typedef struct {
	int64_t latest;
	int64_t vorgang;        /* 0 if none */
	char akte[257];
	char *title;
	char *filename;
	char *meta;             /* canonical JSON object of the free metadata */
} eakte_index_doc;

int eakte_index__doc(eakte_index_doc *out, eakte_index *ix, const char *uuid);
void eakte_index__doc_free(eakte_index_doc *d);

/*
 * The index for a reader (search.c): opened, caught up with the journal
 * and (unless EAKTE_OPEN_NO_EXTRACT) the pending text extracted, when it
 * is writable; read as it is otherwise.  Cached in the archive.
 */
int eakte_search__reader_index(struct eakte_index **out, eakte_archive *a);

/* Step a prepared statement (finalized here, whatever happens) and turn
 * each row into a JSON object with members names[0..ncols).  types: NULL
 * to go by each value's SQLite type (integer, text), or one letter per
 * column, 'i' integer, 'b' boolean, 't' text; NULL values are null. */
int eakte_index__rows_json(json_t **out, sqlite3_stmt *st, const char *const *names, int ncols, const char *types);

#endif
