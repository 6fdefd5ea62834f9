/*
 * life.h - the end of a record's life: retention, legal holds, four-eyes
 * disposal with physical removal (retention.c, dispose.c, lifeverify.c).
 *
 * Events (docs/format.md): retention-set, hold-set, hold-release,
 * dispose-propose, dispose; `export` (written by the export module) is
 * applied here too, because disposal of archival value A and B needs one.
 *
 * A dispose event and the state tree without the Akte's documents and
 * Akte/Vorgang metadata are one journal commit (the commit point).  The
 * physical removal that follows (loose content objects unlinked, packs
 * rewritten to what refs/heads/journal and refs/eakte/state reach, index
 * rows and full text gone) is the purge: idempotent, recorded as pending in
 * the index when the dispose event is applied, and finished by the next
 * writer if a crash interrupts it.
 */
#ifndef EAKTE_LIFE_H
#define EAKTE_LIFE_H

#include "archive.h"
#include "event.h"
#include "index.h"
#include "journal.h"

#include <jansson.h>
#include <sqlite3.h>

/* Longest reason (one line) and hold case id, bytes. */
#define EAKTE_LIFE_MAX_REASON 1024
#define EAKTE_LIFE_MAX_CASE 256

/* ---- index (index.c calls these) ---- */

/* 1 if the index applies events of this action through eakte_life__apply
 * (akte-reopen too, for the stale-proposal rule). */
int eakte_life__is_event(const char *action);

/* Apply one event inside the catch-up transaction. */
int eakte_life__apply(sqlite3 *db, const eakte_ev *ev);

/* Statements that empty the lifecycle tables (for a rebuild). */
#define EAKTE_LIFE_CLEAR_SQL \
	"DELETE FROM akte_life; DELETE FROM hold; DELETE FROM proposal; DELETE FROM export; DELETE FROM disposal;" \
	"DELETE FROM disposed_doc; DELETE FROM disposed_object;"

/*
 * During a rebuild the metadata objects of a disposed Akte are gone while
 * its earlier events are applied: 1 if a dispose event for `az` is in the
 * journal (so a missing metadata object is expected), 0 if not.  *cache
 * (a JSON object, NULL at first, freed by the caller with json_decref)
 * holds the disposed Aktenzeichen once the journal was read.
 */
int eakte_life__disposed_later(json_t **cache, eakte_archive *a, const char *az);

/* ---- journal.c: the state tree without the disposed Akte ---- */
int eakte_dispose__state_changes(eakte_txn *t, const eakte_ev *ev);

/* ---- writers ---- */

/* Finish the physical removal of every dispose event the index marks as
 * pending (called with the writer lock, after catch-up).  Failures leave
 * it pending and become a warning: the next writer tries again. */
int eakte_dispose__purge_pending(eakte_archive *a, eakte_index *ix);

/* EAKTE_EPOLICY if Akte az was disposed of (filing, reopening). */
int eakte_life__refuse_disposed(eakte_index *ix, const char *az, const char *what);

/* ---- readers ---- */

/* After a failed document lookup: if `doc` was disposed of, replace the
 * error by "document X was disposed of on DATE by event N (proposal M)"
 * (still EAKTE_ENOTFOUND); otherwise return rc unchanged. */
int eakte_dispose__doc_missing(eakte_archive *a, const char *doc, int rc);

/* Add "disposed" (or null) and "retention_end" to an Akte's JSON. */
int eakte_life__akte_json(sqlite3 *db, const char *az, json_t *akte);

/* ---- verification (lifeverify.c) ---- */
typedef struct eakte_lifev eakte_lifev;

int eakte_lifev__new(eakte_lifev **out);
void eakte_lifev__free(eakte_lifev *lv);
/* Record what an event (of any action) means for disposals. */
int eakte_lifev__event(eakte_lifev *lv, const eakte_ev *ev);
/* After the journal: every dispose event's `removed` list against what
 * was filed for its Akte, and its proposal (four-eyes).  0 if all match,
 * 1 with msg and *seq naming the failing event, <0 on errors. */
int eakte_lifev__check(eakte_lifev *lv, char *msg, size_t len, int64_t *seq);
/* The dispose event that removed document `doc` / the metadata object of
 * event `seq`, or 0. */
uint64_t eakte_lifev__doc_disposed(const eakte_lifev *lv, const char *doc);
uint64_t eakte_lifev__meta_disposed(const eakte_lifev *lv, uint64_t seq);

#endif
