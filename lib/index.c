/*
 * index.c - the SQLite index: schema migrations, applying journal events,
 * text extraction, and the lookups a writer needs.  See index.h.
 */
#include "index.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "extract.h"
#include "ftsde.h"
#include "journal.h"
#include "life.h"
#include "plan.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pthread.h>
#include <zlib.h>

#include "index_migrations.h"

/* Events applied per SQLite transaction during catch-up. */
#define APPLY_CHUNK 4096
#define META_MAX (32u << 20)

struct eakte_index {
	sqlite3 *db;
	int writable;
	char *path;
	/* Prepared once per handle, not per catch-up: a writer catches up
	 * after every commit, and preparing took as long as applying. */
	sqlite3_stmt **apply;     /* applier statements, S_COUNT of them */
	sqlite3_stmt *position;   /* SELECT applied, head FROM position */
};

static int db_error(eakte_index *ix, int code, const char *what)
{
	return eakte_error__set(code, "index %s: %s: %s", ix->path, what, sqlite3_errmsg(ix->db));
}

static int exec(eakte_index *ix, const char *sql, const char *what)
{
	int src = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);

	if (src == SQLITE_OK)
		return 0;
	if (src == SQLITE_CORRUPT || src == SQLITE_NOTADB)
		return db_error(ix, EAKTE_ECORRUPT, what);
	if (src == SQLITE_BUSY)
		return db_error(ix, EAKTE_ELOCKED, what);
	return db_error(ix, EAKTE_EIO, what);
}

static int prepare(eakte_index *ix, sqlite3_stmt **st, const char *sql)
{
	int src = sqlite3_prepare_v2(ix->db, sql, -1, st, NULL);

	if (src == SQLITE_OK)
		return 0;
	*st = NULL;
	return db_error(ix, src == SQLITE_CORRUPT || src == SQLITE_NOTADB ? EAKTE_ECORRUPT : EAKTE_EIO,
		"preparing a statement");
}

/* Step a statement that returns no row. */
static int step_done(eakte_index *ix, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);

	sqlite3_reset(st);
	if (src == SQLITE_DONE || src == SQLITE_ROW)
		return 0;
	return db_error(ix, src == SQLITE_CORRUPT ? EAKTE_ECORRUPT : EAKTE_EIO, what);
}

static int migrate(eakte_index *ix)
{
	sqlite3_stmt *st;
	int version, rc;
	size_t i;

	if ((rc = prepare(ix, &st, "PRAGMA user_version")) < 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_error(ix, EAKTE_ECORRUPT, "reading the schema version");
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)EAKTE_ARRAY_SIZE(eakte_index_migrations))
		return eakte_error__set(EAKTE_EVERSION,
			"index %s has schema version %d, newer than this eakte knows (%zu); use a newer eakte or run `eakte reindex`",
			ix->path, version, EAKTE_ARRAY_SIZE(eakte_index_migrations));
	if (version == (int)EAKTE_ARRAY_SIZE(eakte_index_migrations))
		return 0;
	if (!ix->writable)
		return eakte_error__set(EAKTE_EVERSION,
			"index %s has schema version %d and needs migrating to %zu; run any writing command or `eakte reindex`",
			ix->path, version, EAKTE_ARRAY_SIZE(eakte_index_migrations));
	for (i = (size_t)version; i < EAKTE_ARRAY_SIZE(eakte_index_migrations); i++) {
		char pragma[64];
		if ((rc = exec(ix, "BEGIN IMMEDIATE", "starting a migration")) < 0)
			return rc;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
		if ((rc = exec(ix, eakte_index_migrations[i], "applying a schema migration")) < 0 ||
		    (rc = exec(ix, pragma, "recording the schema version")) < 0 ||
		    (rc = exec(ix, "COMMIT", "committing a migration")) < 0) {
			sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
			return eakte_error__wrap(rc, "migration %zu", i + 1);
		}
	}
	return 0;
}

/*
 * Storage errors that SQLite handles itself - above all a failed fsync in
 * an automatic WAL checkpoint, which it leaves for the next checkpoint to
 * retry - never reach a caller.  Nothing of the index is lost then (the
 * WAL still holds it), but a disk that fails must not go unnoticed: its
 * error log (process-wide) records the last one, and a writer's tidy
 * reports it as a warning (eakte_index__take_storage_error()).
 */
static pthread_mutex_t storage_mu = PTHREAD_MUTEX_INITIALIZER;
static char storage_error[256];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void sqlite_log(void *unused, int code, const char *msg)
{
	int primary = code & 0xff;

	(void)unused;
	if (primary != SQLITE_IOERR && primary != SQLITE_FULL)
		return;
	pthread_mutex_lock(&storage_mu);
	snprintf(storage_error, sizeof(storage_error), "%s (SQLite error %d)", msg ? msg : "", code);
	pthread_mutex_unlock(&storage_mu);
}

static void install_log(void)
{
	/* Fails (SQLITE_MISUSE) when the program started SQLite before: then
	 * such errors stay SQLite's own business, as before. */
	(void)sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
}

void eakte_index__warn_storage_error(eakte_archive *a)
{
	char err[256];

	if (eakte_index__take_storage_error(err, sizeof(err)))
		snprintf(a->warning, sizeof(a->warning), "the index's database met a storage error and "
			"will try again (nothing is lost; check the disk): %s", err);
}

int eakte_index__take_storage_error(char *out, size_t len)
{
	int any;

	pthread_mutex_lock(&storage_mu);
	any = storage_error[0] != '\0';
	if (any) {
		snprintf(out, len, "%s", storage_error);
		storage_error[0] = '\0';
	}
	pthread_mutex_unlock(&storage_mu);
	return any;
}

int eakte_index__open(eakte_index **out, const char *archive_path, int writable)
{
	eakte_index *ix;
	size_t n = strlen(archive_path) + sizeof("/" EAKTE_INDEX_FILE);
	int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
	int src, rc;

	*out = NULL;
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL || (ix->path = malloc(n)) == NULL) {
		free(ix);
		return eakte_error__oom("opening the index");
	}
	snprintf(ix->path, n, "%s/%s", archive_path, EAKTE_INDEX_FILE);
	ix->writable = writable;
	if (!writable && access(ix->path, F_OK) != 0) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "the archive has no index (%s); run `eakte reindex`", ix->path);
		goto fail;
	}
	pthread_once(&log_once, install_log);
	src = sqlite3_open_v2(ix->path, &ix->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = eakte_error__set(EAKTE_EIO, "cannot open the index %s: %s", ix->path,
			ix->db ? sqlite3_errmsg(ix->db) : sqlite3_errstr(src));
		goto fail;
	}
	sqlite3_busy_timeout(ix->db, 30000);
	sqlite3_extended_result_codes(ix->db, 0);
	/* The index is derived: a lost last transaction is re-applied by
	 * catch-up, so synchronous=NORMAL (no fsync per commit in WAL) is safe. */
	if ((rc = exec(ix, "PRAGMA foreign_keys = OFF", "setting up")) < 0)
		goto fail;
	if (writable && ((rc = exec(ix, "PRAGMA journal_mode = WAL", "switching to WAL")) < 0 ||
			 (rc = exec(ix, "PRAGMA synchronous = NORMAL", "setting up")) < 0))
		goto fail;
	if ((rc = eakte_ftsde__register(ix->db)) < 0 || (rc = migrate(ix)) < 0)
		goto fail;
	*out = ix;
	return 0;
fail:
	eakte_index__close(ix);
	return rc;
}

static void finalize_cached(eakte_index *ix);

void eakte_index__close(eakte_index *ix)
{
	if (ix == NULL)
		return;
	finalize_cached(ix);
	sqlite3_close_v2(ix->db);
	free(ix->path);
	free(ix);
}

sqlite3 *eakte_index__db(eakte_index *ix)
{
	return ix->db;
}

int eakte_index__position(eakte_index *ix, uint64_t *applied, char head[GIT_OID_HEXSZ + 1])
{
	sqlite3_stmt *st;
	int rc = 0, src;

	*applied = 0;
	head[0] = '\0';
	if (ix->position == NULL &&
	    (rc = prepare(ix, &ix->position, "SELECT applied, head FROM position WHERE id = 1")) < 0)
		return rc;
	st = ix->position;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		*applied = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(head, GIT_OID_HEXSZ + 1, "%s", h ? h : "");
	} else if (src != SQLITE_DONE) {
		rc = db_error(ix, EAKTE_ECORRUPT, "reading the journal position");
	}
	sqlite3_reset(st);
	return rc;
}

int eakte_index__clear(eakte_index *ix)
{
	int rc;

	if ((rc = exec(ix, "BEGIN IMMEDIATE", "clearing")) < 0)
		return rc;
	rc = exec(ix,
		"DELETE FROM position; DELETE FROM plan; DELETE FROM akte; DELETE FROM serial;"
		"DELETE FROM vorgang; DELETE FROM doc; DELETE FROM version; DELETE FROM doc_meta;"
		"DELETE FROM doc_event; DELETE FROM fts_content;" EAKTE_LIFE_CLEAR_SQL
		"INSERT INTO fts (fts) VALUES ('delete-all');", "clearing");
	if (rc == 0)
		rc = exec(ix, "COMMIT", "clearing");
	if (rc < 0)
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Applying events                                                     */
/* ------------------------------------------------------------------ */

/* Statements used while applying; prepared once per index handle. */
enum {
	S_PLAN, S_AKTE_INS, S_AKTE_ID, S_AKTE_CLOSE, S_SERIAL, S_VORGANG,
	S_DOC_INS, S_DOC_GET, S_DOC_VERSION, S_DOC_META_UPD, S_VERSION, S_META_DEL, S_META_INS,
	S_EVENT, S_FTS_GET, S_FTS_DEL, S_FTSC_DEL, S_FTSC_INS, S_FTS_INS, S_POSITION,
	S_COUNT
};

static const char *const apply_sql[S_COUNT] = {
	[S_PLAN] = "INSERT INTO plan (code, title, parent, retention, value, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (code) DO UPDATE SET title = ?2, parent = ?3, retention = ?4, value = ?5, seq = ?6",
	[S_AKTE_INS] = "INSERT INTO akte (az, plan, title, created_seq, created_at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_AKTE_ID] = "SELECT id, title FROM akte WHERE az = ?1",
	[S_AKTE_CLOSE] = "UPDATE akte SET closed_on = ?2, closed_seq = ?3 WHERE id = ?1",
	[S_SERIAL] = "INSERT INTO serial (plan, year, last) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (plan, year) DO UPDATE SET last = max(last, ?3)",
	[S_VORGANG] = "INSERT INTO vorgang (akte_id, n, title, created_seq) VALUES (?1, ?2, ?3, ?4)",
	[S_DOC_INS] = "INSERT INTO doc (uuid, akte_id, vorgang, latest, ftsrow, title, filename, mime, size, sha256, "
		"date, filed_at, changed_at, meta, text_status) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, 'pending')",
	[S_DOC_GET] = "SELECT d.id, d.ftsrow, d.latest, a.az || ' ' || a.title, d.filed_at FROM doc d JOIN akte a ON a.id = d.akte_id WHERE d.uuid = ?1",
	[S_DOC_VERSION] = "UPDATE doc SET latest = ?2, ftsrow = ?3, mime = ?4, size = ?5, sha256 = ?6, title = ?7, "
		"filename = ?8, meta = ?9, date = ?10, changed_at = ?11, text_status = 'pending', text_reason = '' WHERE id = ?1",
	[S_DOC_META_UPD] = "UPDATE doc SET title = ?2, filename = ?3, meta = ?4, date = ?5, changed_at = ?6 WHERE id = ?1",
	[S_VERSION] = "INSERT INTO version (doc_id, version, seq, time, actor, sha256, size, mime, oid) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_META_DEL] = "DELETE FROM doc_meta WHERE doc_id = ?1",
	[S_META_INS] = "INSERT INTO doc_meta (doc_id, key, value) VALUES (?1, ?2, ?3)",
	[S_EVENT] = "INSERT OR IGNORE INTO doc_event (doc_id, seq) VALUES (?1, ?2)",
	[S_FTS_GET] = "SELECT title, meta, az, body FROM fts_content WHERE rowid = ?1",
	[S_FTS_DEL] = "INSERT INTO fts (fts, rowid, title, meta, az, body) VALUES ('delete', ?1, ?2, ?3, ?4, ?5)",
	[S_FTSC_DEL] = "DELETE FROM fts_content WHERE rowid = ?1",
	[S_FTSC_INS] = "INSERT INTO fts_content (rowid, title, meta, az, body) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FTS_INS] = "INSERT INTO fts (rowid, title, meta, az, body) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_POSITION] = "INSERT INTO position (id, applied, head, last_leaf) VALUES (1, ?1, ?2, ?3) "
		"ON CONFLICT (id) DO UPDATE SET applied = ?1, head = ?2, last_leaf = ?3",
};

typedef struct {
	eakte_index *ix;
	eakte_archive *a;
	sqlite3_stmt *st[S_COUNT];
	json_t *disposed;        /* Aktenzeichen disposed of in the journal (life.h), read when needed */
} applier;

static void finalize_cached(eakte_index *ix)
{
	if (ix->apply != NULL) {
		for (int i = 0; i < S_COUNT; i++)
			sqlite3_finalize(ix->apply[i]);
		free(ix->apply);
		ix->apply = NULL;
	}
	sqlite3_finalize(ix->position);
	ix->position = NULL;
}

/* The statements stay prepared in the handle: only reset them, so that
 * none holds a read snapshot (which would stop WAL checkpoints). */
static void applier_free(applier *ap)
{
	for (int i = 0; i < S_COUNT; i++)
		if (ap->st[i] != NULL) {
			sqlite3_reset(ap->st[i]);
			sqlite3_clear_bindings(ap->st[i]);
		}
	json_decref(ap->disposed);
	ap->disposed = NULL;
}

static int applier_init(applier *ap, eakte_index *ix, eakte_archive *a)
{
	int rc;

	memset(ap, 0, sizeof(*ap));
	ap->ix = ix;
	ap->a = a;
	if (ix->apply == NULL) {
		sqlite3_stmt **st = calloc(S_COUNT, sizeof(*st));
		if (st == NULL)
			return eakte_error__oom("preparing the index update");
		for (int i = 0; i < S_COUNT; i++)
			if ((rc = prepare(ix, &st[i], apply_sql[i])) < 0) {
				for (int k = 0; k < i; k++)
					sqlite3_finalize(st[k]);
				free(st);
				return rc;
			}
		ix->apply = st;
	}
	memcpy(ap->st, ix->apply, sizeof(ap->st));
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Read a metadata object named by an event and check its SHA-256. */
static int read_meta(json_t **out, eakte_archive *a, const json_t *ref, uint64_t seq)
{
	const char *sha_hex, *oid_hex;
	uint8_t sha[EAKTE_HASH_LEN], want[EAKTE_HASH_LEN];
	git_oid oid;
	git_blob *blob;
	int rc;

	*out = NULL;
	if (!json_is_object(ref) || (rc = eakte_cjson__get_string(&sha_hex, ref, "sha256")) < 0 ||
	    (rc = eakte_cjson__get_string(&oid_hex, ref, "oid")) < 0 ||
	    eakte_hex__decode(want, EAKTE_HASH_LEN, sha_hex, strlen(sha_hex)) < 0 ||
	    git_oid_fromstrn(&oid, oid_hex, strlen(oid_hex)) < 0 || strlen(oid_hex) != GIT_OID_HEXSZ)
		return eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 " has a malformed \"meta\" reference", seq);
	if (git_blob_lookup(&blob, a->repo, &oid) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata object %s of event %" PRIu64
			" is missing from store.git; run `eakte verify`", oid_hex, seq);
	if ((size_t)git_blob_rawsize(blob) > META_MAX) {
		git_blob_free(blob);
		return eakte_error__set(EAKTE_ECORRUPT, "metadata object %s is too large", oid_hex);
	}
	if ((rc = eakte_sha256__buf(sha, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) < 0) {
		git_blob_free(blob);
		return rc;
	}
	if (memcmp(sha, want, EAKTE_HASH_LEN) != 0) {
		git_blob_free(blob);
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata object of event %" PRIu64
			" does not match its SHA-256; run `eakte verify`", seq);
	}
	rc = eakte_cjson__parse(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), META_MAX);
	git_blob_free(blob);
	return rc;
}

/*
 * read_meta() for an event of Akte `az` (or of document `doc`): when the
 * object is gone because a later event disposed of the Akte (a rebuild
 * after a disposal), an empty placeholder; the dispose event removes the
 * rows again.
 */
static int read_meta_of(json_t **out, applier *ap, const eakte_ev *ev, const char *az, const char *doc)
{
	const json_t *ref = json_object_get(ev->root, "meta");
	const char *oid_hex = json_string_value(json_object_get(ref, "oid"));
	char azbuf[300] = "";
	git_oid oid;
	int rc = read_meta(out, ap->a, ref, ev->seq), r2;

	if (rc != EAKTE_ECORRUPT || oid_hex == NULL || strlen(oid_hex) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(&oid, oid_hex) < 0 || git_odb_exists(ap->a->odb, &oid))
		return rc;
	if (az == NULL && doc != NULL) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(ap->ix->db, "SELECT a.az FROM doc d JOIN akte a ON a.id = d.akte_id WHERE d.uuid = ?1",
			    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, doc, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(azbuf, sizeof(azbuf), "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		az = azbuf;
	}
	if (az == NULL || az[0] == '\0')
		return rc;
	r2 = eakte_life__disposed_later(&ap->disposed, ap->a, az);
	if (r2 <= 0)
		return r2 < 0 ? r2 : eakte_error__set(rc, "the metadata object %s of event %" PRIu64
			" is missing from store.git and no disposal event records its removal; run `eakte verify`", oid_hex, ev->seq);
	eakte_error__clear();
	*out = json_pack("{s:s, s:s, s:{}}", "title", "", "filename", "", "meta");
	return *out ? 0 : eakte_error__oom("indexing a disposed record");
}

/* The id of Akte az; *label (if wanted) gets "AZ TITLE" for the full-text
 * index, so that documents are found by the name of their Akte too. */
static int akte_id_label(int64_t *id, char **label, applier *ap, const char *az, uint64_t seq)
{
	sqlite3_stmt *st = ap->st[S_AKTE_ID];
	int src;

	bind_text(st, 1, az);
	src = sqlite3_step(st);
	*id = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (src == SQLITE_ROW && label != NULL) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		size_t n = strlen(az) + strlen(t ? t : "") + 2;
		*label = malloc(n);
		if (*label == NULL) {
			sqlite3_reset(st);
			return eakte_error__oom("indexing a document");
		}
		snprintf(*label, n, "%s %s", az, t ? t : "");
	}
	sqlite3_reset(st);
	if (src == SQLITE_ROW)
		return 0;
	if (src == SQLITE_DONE)
		return eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 " names Akte %s, which no earlier event created", seq, az);
	return db_error(ap->ix, EAKTE_EIO, "looking up an Akte");
}

static int akte_id(int64_t *id, applier *ap, const char *az, uint64_t seq)
{
	return akte_id_label(id, NULL, ap, az, seq);
}

static int apply_plan(applier *ap, const eakte_ev *ev)
{
	eakte_plan plan;
	size_t i;
	int rc;

	if ((rc = eakte_plan__from_json(&plan, json_object_get(ev->root, "entries"))) < 0)
		return eakte_error__wrap(rc, "plan event %" PRIu64, ev->seq);
	for (i = 0; i < plan.count && rc == 0; i++) {
		sqlite3_stmt *st = ap->st[S_PLAN];
		char value[2] = { plan.entries[i].value, '\0' };
		bind_text(st, 1, plan.entries[i].code);
		bind_text(st, 2, plan.entries[i].title);
		bind_text(st, 3, plan.entries[i].parent);
		sqlite3_bind_int(st, 4, plan.entries[i].retention);
		bind_text(st, 5, value);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)ev->seq);
		rc = step_done(ap->ix, st, "recording a plan entry");
	}
	eakte_plan__free(&plan);
	return rc;
}

/* If az is a generated Aktenzeichen <plan>-<year>/<serial>, remember the
 * serial, so that a generated one is never issued twice. */
static int note_serial(applier *ap, const char *az, const char *plan)
{
	size_t n = strlen(plan);
	const char *p = az + n;
	char *end;
	long year, serial;

	if (strncmp(az, plan, n) != 0 || *p != '-')
		return 0;
	year = strtol(p + 1, &end, 10);
	if (end != p + 5 || *end != '/' || year < 1000)
		return 0;
	serial = strtol(end + 1, &end, 10);
	if (*end != '\0' || serial < 1)
		return 0;
	sqlite3_bind_text(ap->st[S_SERIAL], 1, plan, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ap->st[S_SERIAL], 2, year);
	sqlite3_bind_int64(ap->st[S_SERIAL], 3, serial);
	return step_done(ap->ix, ap->st[S_SERIAL], "recording an Aktenzeichen serial");
}

static int apply_akte_create(applier *ap, const eakte_ev *ev)
{
	const char *az, *plan, *title;
	json_t *meta = NULL;
	sqlite3_stmt *st = ap->st[S_AKTE_INS];
	int rc;

	if ((rc = eakte_cjson__get_string(&az, ev->root, "akte")) < 0 ||
	    (rc = eakte_cjson__get_string(&plan, ev->root, "plan")) < 0 ||
	    (rc = read_meta_of(&meta, ap, ev, az, NULL)) < 0 ||
	    (rc = eakte_cjson__get_string(&title, meta, "title")) < 0)
		goto out;
	bind_text(st, 1, az);
	bind_text(st, 2, plan);
	bind_text(st, 3, title);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ev->seq);
	bind_text(st, 5, ev->time);
	bind_text(st, 6, ev->actor);
	if ((rc = step_done(ap->ix, st, "recording an Akte")) < 0)
		goto out;
	rc = note_serial(ap, az, plan);
out:
	json_decref(meta);
	return rc < 0 ? eakte_error__wrap(rc, "akte-create event %" PRIu64, ev->seq) : 0;
}

static int apply_vorgang(applier *ap, const eakte_ev *ev)
{
	const char *az, *title;
	int64_t n, id;
	json_t *meta = NULL;
	sqlite3_stmt *st = ap->st[S_VORGANG];
	int rc;

	if ((rc = eakte_cjson__get_string(&az, ev->root, "akte")) < 0 ||
	    (rc = eakte_cjson__get_int(&n, ev->root, "vorgang")) < 0 ||
	    (rc = akte_id(&id, ap, az, ev->seq)) < 0 ||
	    (rc = read_meta_of(&meta, ap, ev, az, NULL)) < 0 ||
	    (rc = eakte_cjson__get_string(&title, meta, "title")) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, n);
	bind_text(st, 3, title);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ev->seq);
	rc = step_done(ap->ix, st, "recording a Vorgang");
out:
	json_decref(meta);
	return rc;
}

static int apply_close(applier *ap, const eakte_ev *ev, int close)
{
	const char *az, *date = NULL;
	int64_t id;
	sqlite3_stmt *st = ap->st[S_AKTE_CLOSE];
	int rc;

	if ((rc = eakte_cjson__get_string(&az, ev->root, "akte")) < 0 ||
	    (close && (rc = eakte_cjson__get_string(&date, ev->root, "date")) < 0) ||
	    (rc = akte_id(&id, ap, az, ev->seq)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, date);
	if (close)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->seq);
	else
		sqlite3_bind_null(st, 3);
	return step_done(ap->ix, st, "recording zdA");
}

/* The text of metadata values, for the full-text index. */
static int meta_text(char **out, const json_t *kv)
{
	const char *key;
	json_t *val;
	size_t n = 1, off = 0;
	char *s;

	json_object_foreach((json_t *)kv, key, val)
		n += json_string_length(val) + 1;
	s = malloc(n);
	if (s == NULL)
		return eakte_error__oom("indexing metadata");
	json_object_foreach((json_t *)kv, key, val) {
		size_t l = json_string_length(val);
		memcpy(s + off, json_string_value(val), l);
		off += l;
		s[off++] = '\n';
	}
	s[off] = '\0';
	*out = s;
	return 0;
}

/* "date" metadata if it is a valid YYYY-MM-DD, else the date of `time`. */
static void doc_date(char out[11], const json_t *kv, const char *time)
{
	const char *d = json_string_value(json_object_get(kv, "date"));
	struct tm tm;

	if (d != NULL && strlen(d) == 10) {
		char *end;
		memset(&tm, 0, sizeof(tm));
		end = strptime(d, "%Y-%m-%d", &tm);
		if (end != NULL && *end == '\0') {
			memcpy(out, d, 11);
			return;
		}
	}
	snprintf(out, 11, "%.10s", time);
}

static int doc_meta_rows(applier *ap, int64_t doc_id, const json_t *kv)
{
	const char *key;
	json_t *val;
	int rc;

	sqlite3_bind_int64(ap->st[S_META_DEL], 1, doc_id);
	if ((rc = step_done(ap->ix, ap->st[S_META_DEL], "replacing metadata")) < 0)
		return rc;
	json_object_foreach((json_t *)kv, key, val) {
		sqlite3_stmt *st = ap->st[S_META_INS];
		sqlite3_bind_int64(st, 1, doc_id);
		bind_text(st, 2, key);
		bind_text(st, 3, json_string_value(val));
		if ((rc = step_done(ap->ix, st, "recording metadata")) < 0)
			return rc;
	}
	return 0;
}

/* Remove full-text row `rowid`, returning its body (kept across metadata
 * changes) in *body (malloc'ed, may be NULL if not wanted). */
static int fts_remove(applier *ap, int64_t rowid, char **body)
{
	sqlite3_stmt *get = ap->st[S_FTS_GET], *del = ap->st[S_FTS_DEL];
	int src, rc = 0;

	if (body != NULL)
		*body = NULL;
	sqlite3_bind_int64(get, 1, rowid);
	src = sqlite3_step(get);
	if (src == SQLITE_ROW) {
		sqlite3_bind_int64(del, 1, rowid);
		for (int i = 0; i < 4; i++)
			sqlite3_bind_value(del, i + 2, sqlite3_column_value(get, i));
		if (body != NULL) {
			*body = strdup((const char *)sqlite3_column_text(get, 3));
			if (*body == NULL)
				rc = eakte_error__oom("re-indexing a document");
		}
		if (rc == 0)
			rc = step_done(ap->ix, del, "removing a full-text row");
	} else if (src != SQLITE_DONE) {
		rc = db_error(ap->ix, EAKTE_EIO, "reading a full-text row");
	}
	sqlite3_reset(get);
	if (rc == 0) {
		sqlite3_bind_int64(ap->st[S_FTSC_DEL], 1, rowid);
		rc = step_done(ap->ix, ap->st[S_FTSC_DEL], "removing a full-text row");
	}
	return rc;
}

static int fts_add(eakte_index *ix, sqlite3_stmt *ins_content, sqlite3_stmt *ins_fts, int64_t rowid,
	const char *title, const char *meta, const char *az, const char *body)
{
	int rc;

	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st = k == 0 ? ins_content : ins_fts;
		sqlite3_bind_int64(st, 1, rowid);
		bind_text(st, 2, title);
		bind_text(st, 3, meta);
		bind_text(st, 4, az);
		bind_text(st, 5, body);
		if ((rc = step_done(ix, st, "adding to the full-text index")) < 0)
			return rc;
	}
	return 0;
}

static int doc_event(applier *ap, int64_t doc_id, uint64_t seq)
{
	sqlite3_bind_int64(ap->st[S_EVENT], 1, doc_id);
	sqlite3_bind_int64(ap->st[S_EVENT], 2, (sqlite3_int64)seq);
	return step_done(ap->ix, ap->st[S_EVENT], "recording a document event");
}

static int apply_file(applier *ap, const eakte_ev *ev)
{
	eakte_ev_file f;
	json_t *meta = NULL;
	const json_t *kv;
	const char *title, *filename;
	char sha[EAKTE_HASH_HEX_LEN + 1], oid[EAKTE_OID_HEX_LEN + 1], date[11], *mtext = NULL, *kvjson = NULL;
	char *label = NULL;
	int64_t akte, vorgang = 0, doc_id = 0;
	sqlite3_stmt *st;
	int rc;

	if ((rc = eakte_event__file_refs(&f, ev)) < 0 ||
	    (rc = akte_id_label(&akte, &label, ap, f.akte, ev->seq)) < 0 ||
	    (rc = read_meta_of(&meta, ap, ev, f.akte, NULL)) < 0 ||
	    (rc = eakte_cjson__get_string(&title, meta, "title")) < 0 ||
	    (rc = eakte_cjson__get_string(&filename, meta, "filename")) < 0)
		goto out;
	if (json_is_integer(json_object_get(ev->root, "vorgang")))
		vorgang = json_integer_value(json_object_get(ev->root, "vorgang"));
	kv = json_object_get(meta, "meta");
	if (!json_is_object(kv)) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "the metadata of event %" PRIu64 " has no \"meta\" object", ev->seq);
		goto out;
	}
	if ((rc = meta_text(&mtext, kv)) < 0 || (rc = eakte_cjson__dump(&kvjson, NULL, kv)) < 0)
		goto out;
	eakte_hex__encode(sha, f.content_sha256, EAKTE_HASH_LEN);
	eakte_hex__encode(oid, f.content_oid, EAKTE_OID_LEN);
	doc_date(date, kv, ev->time);
	if (f.version == 1) {
		st = ap->st[S_DOC_INS];
		bind_text(st, 1, f.doc);
		sqlite3_bind_int64(st, 2, akte);
		if (vorgang > 0)
			sqlite3_bind_int64(st, 3, vorgang);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, 1);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->seq);
		bind_text(st, 6, title);
		bind_text(st, 7, filename);
		bind_text(st, 8, f.mime);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)f.size);
		bind_text(st, 10, sha);
		bind_text(st, 11, date);
		bind_text(st, 12, ev->time);
		bind_text(st, 13, kvjson);
		if ((rc = step_done(ap->ix, st, "recording a document")) < 0)
			goto out;
		doc_id = sqlite3_last_insert_rowid(ap->ix->db);
	} else {
		int64_t old_fts;
		st = ap->st[S_DOC_GET];
		bind_text(st, 1, f.doc);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			rc = eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 " files version %" PRId64
				" of document %s, which no earlier event filed", ev->seq, f.version, f.doc);
			goto out;
		}
		doc_id = sqlite3_column_int64(st, 0);
		old_fts = sqlite3_column_int64(st, 1);
		/* Without a "date", a document is dated by its first filing. */
		doc_date(date, kv, (const char *)sqlite3_column_text(st, 4));
		sqlite3_reset(st);
		if ((rc = fts_remove(ap, old_fts, NULL)) < 0)
			goto out;
		st = ap->st[S_DOC_VERSION];
		sqlite3_bind_int64(st, 1, doc_id);
		sqlite3_bind_int64(st, 2, f.version);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->seq);
		bind_text(st, 4, f.mime);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)f.size);
		bind_text(st, 6, sha);
		bind_text(st, 7, title);
		bind_text(st, 8, filename);
		bind_text(st, 9, kvjson);
		bind_text(st, 10, date);
		bind_text(st, 11, ev->time);
		if ((rc = step_done(ap->ix, st, "recording a new version")) < 0)
			goto out;
	}
	st = ap->st[S_VERSION];
	sqlite3_bind_int64(st, 1, doc_id);
	sqlite3_bind_int64(st, 2, f.version);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->seq);
	bind_text(st, 4, ev->time);
	bind_text(st, 5, ev->actor);
	bind_text(st, 6, sha);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)f.size);
	bind_text(st, 8, f.mime);
	bind_text(st, 9, oid);
	if ((rc = step_done(ap->ix, st, "recording a version")) < 0 ||
	    (rc = doc_meta_rows(ap, doc_id, kv)) < 0 || (rc = doc_event(ap, doc_id, ev->seq)) < 0)
		goto out;
	rc = fts_add(ap->ix, ap->st[S_FTSC_INS], ap->st[S_FTS_INS], (int64_t)ev->seq, title, mtext, label, "");
out:
	free(label);
	free(mtext);
	free(kvjson);
	json_decref(meta);
	return rc < 0 ? eakte_error__wrap(rc, "file event %" PRIu64, ev->seq) : 0;
}

static int apply_meta(applier *ap, const eakte_ev *ev)
{
	const char *uuid, *title, *filename;
	json_t *meta = NULL;
	const json_t *kv;
	char date[11], *mtext = NULL, *kvjson = NULL, *body = NULL, az[EAKTE_MAX_TITLE + 300];
	int64_t doc_id, fts;
	sqlite3_stmt *st;
	int rc;

	if ((rc = eakte_cjson__get_string(&uuid, ev->root, "doc")) < 0 ||
	    (rc = read_meta_of(&meta, ap, ev, NULL, uuid)) < 0 ||
	    (rc = eakte_cjson__get_string(&title, meta, "title")) < 0 ||
	    (rc = eakte_cjson__get_string(&filename, meta, "filename")) < 0)
		goto out;
	kv = json_object_get(meta, "meta");
	if (!json_is_object(kv)) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "the metadata of event %" PRIu64 " has no \"meta\" object", ev->seq);
		goto out;
	}
	st = ap->st[S_DOC_GET];
	bind_text(st, 1, uuid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		rc = eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 " changes document %s, which no earlier event filed",
			ev->seq, uuid);
		goto out;
	}
	doc_id = sqlite3_column_int64(st, 0);
	fts = sqlite3_column_int64(st, 1);
	snprintf(az, sizeof(az), "%s", (const char *)sqlite3_column_text(st, 3));
	/* Without a "date", a document is dated by its first filing. */
	doc_date(date, kv, (const char *)sqlite3_column_text(st, 4));
	sqlite3_reset(st);
	if ((rc = meta_text(&mtext, kv)) < 0 || (rc = eakte_cjson__dump(&kvjson, NULL, kv)) < 0)
		goto out;
	st = ap->st[S_DOC_META_UPD];
	sqlite3_bind_int64(st, 1, doc_id);
	bind_text(st, 2, title);
	bind_text(st, 3, filename);
	bind_text(st, 4, kvjson);
	bind_text(st, 5, date);
	bind_text(st, 6, ev->time);
	if ((rc = step_done(ap->ix, st, "changing metadata")) < 0 ||
	    (rc = doc_meta_rows(ap, doc_id, kv)) < 0 || (rc = doc_event(ap, doc_id, ev->seq)) < 0 ||
	    (rc = fts_remove(ap, fts, &body)) < 0)
		goto out;
	rc = fts_add(ap->ix, ap->st[S_FTSC_INS], ap->st[S_FTS_INS], fts, title, mtext, az, body ? body : "");
out:
	free(body);
	free(mtext);
	free(kvjson);
	json_decref(meta);
	return rc < 0 ? eakte_error__wrap(rc, "meta event %" PRIu64, ev->seq) : 0;
}

static int apply_event(applier *ap, const char *json, size_t len, uint64_t seq)
{
	eakte_ev ev;
	int rc;

	if ((rc = eakte_event__parse(&ev, json, len)) < 0)
		return eakte_error__wrap(rc, "journal event %" PRIu64, seq);
	if (ev.seq != seq)
		rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has seq %" PRIu64, seq, ev.seq);
	else if (strcmp(ev.action, "file") == 0)
		rc = apply_file(ap, &ev);
	else if (strcmp(ev.action, "meta") == 0)
		rc = apply_meta(ap, &ev);
	else if (strcmp(ev.action, "plan") == 0)
		rc = apply_plan(ap, &ev);
	else if (strcmp(ev.action, "akte-create") == 0)
		rc = apply_akte_create(ap, &ev);
	else if (strcmp(ev.action, "vorgang-create") == 0)
		rc = apply_vorgang(ap, &ev);
	else if (strcmp(ev.action, "akte-close") == 0)
		rc = apply_close(ap, &ev, 1);
	else if (strcmp(ev.action, "akte-reopen") == 0 && (rc = apply_close(ap, &ev, 0)) == 0)
		rc = eakte_life__apply(ap->ix->db, &ev);
	else if (strcmp(ev.action, "akte-reopen") != 0 && eakte_life__is_event(ev.action))
		rc = eakte_life__apply(ap->ix->db, &ev);
	/* Other actions (genesis, ...) do not change what the index holds. */
	eakte_event__free(&ev);
	return rc;
}

/* The event.json blob of journal commit `id`: the index needs only the
 * event, not the signature (verify checks those). */
static int event_blob(git_blob **out, eakte_archive *a, const git_oid *id, uint64_t seq)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	const git_tree_entry *e;
	int rc = 0;

	*out = NULL;
	if (git_commit_lookup(&c, a->repo, id) < 0 || git_commit_tree(&t, c) < 0) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading a journal commit");
		goto out;
	}
	e = git_tree_entry_byname(t, "event.json");
	if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has no event.json; run `eakte verify`", seq);
		goto out;
	}
	if (git_blob_lookup(out, a->repo, git_tree_entry_id(e)) < 0)
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading a journal event");
	else if ((size_t)git_blob_rawsize(*out) > EAKTE_EVENT_MAX) {
		git_blob_free(*out);
		*out = NULL;
		rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " is larger than 1 MiB; run `eakte verify`", seq);
	}
out:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

int eakte_index__catch_up(eakte_index *ix, eakte_archive *a)
{
	applier ap;
	uint64_t applied, i;
	char head[GIT_OID_HEXSZ + 1], hex[GIT_OID_HEXSZ + 1], leaf[EAKTE_HASH_HEX_LEN + 1];
	int rc, in_txn = 0;

	{
		/* The common case, nothing new, must not read the whole journal
		 * index (52 bytes per event): compare the head commit only. */
		git_oid jhead;
		if ((rc = eakte_index__position(ix, &applied, head)) < 0)
			return rc;
		if (applied > 0 && eakte_journal__head(&jhead, a) == 0) {
			git_oid_tostr(hex, sizeof(hex), &jhead);
			if (strcmp(hex, head) == 0)
				return 0;
		}
	}
	if ((rc = eakte_journal__load_index(a)) < 0)
		return rc;
	if ((rc = exec(ix, "BEGIN IMMEDIATE", "starting catch-up")) < 0)
		return rc;
	in_txn = 1;
	if ((rc = eakte_index__position(ix, &applied, head)) < 0)
		goto fail;
	if (applied > a->index_len && a->lock_fd < 0) {
		/* A reader's view of the journal is older than what a writer has
		 * applied since: nothing to do. */
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (applied > a->index_len) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "index drift: the index has applied %" PRIu64
			" events but the journal has only %" PRIu64 "; run `eakte reindex`", applied, a->index_len);
		goto fail;
	}
	if (applied > 0) {
		git_oid_tostr(hex, sizeof(hex), &a->commits[applied - 1]);
		if (strcmp(hex, head) != 0) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "index drift: the index's event %" PRIu64
				" is commit %s, the journal's is %s; run `eakte reindex`", applied - 1, head, hex);
			goto fail;
		}
	}
	if (applied == a->index_len) {
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if ((rc = applier_init(&ap, ix, a)) < 0)
		goto fail;
	for (i = applied; i < a->index_len; i++) {
		git_blob *blob = NULL;
		if ((rc = event_blob(&blob, a, &a->commits[i], i)) < 0)
			break;
		rc = apply_event(&ap, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), i);
		git_blob_free(blob);
		if (rc < 0)
			break;
		if ((i + 1) % APPLY_CHUNK == 0 || i + 1 == a->index_len) {
			git_oid_tostr(hex, sizeof(hex), &a->commits[i]);
			eakte_hex__encode(leaf, a->leaves[i], EAKTE_HASH_LEN);
			sqlite3_bind_int64(ap.st[S_POSITION], 1, (sqlite3_int64)(i + 1));
			bind_text(ap.st[S_POSITION], 2, hex);
			bind_text(ap.st[S_POSITION], 3, leaf);
			if ((rc = step_done(ix, ap.st[S_POSITION], "recording the journal position")) < 0 ||
			    (rc = exec(ix, "COMMIT", "committing catch-up")) < 0)
				break;
			in_txn = 0;
			if (i + 1 < a->index_len) {
				if ((rc = exec(ix, "BEGIN IMMEDIATE", "continuing catch-up")) < 0)
					break;
				in_txn = 1;
			}
		}
	}
	applier_free(&ap);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (in_txn)
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Text extraction                                                     */
/* ------------------------------------------------------------------ */

/*
 * A pull reader over a loose blob for the extractor: inflates as it is
 * read, so memory stays bounded for a document of any size.  No hash check
 * here: the index only reads; `eakte verify` and `eakte get` check hashes.
 * A packed object (someone repacked store.git) is read through libgit2.
 */
typedef struct {
	int fd;
	z_stream zs;
	int zs_ready;
	int header_done;
	int end;
	uint8_t in[64 * 1024];
	git_odb_object *packed;
	size_t packed_off;
} obj_reader;

static int reader_open(obj_reader *r, eakte_archive *a, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1], path[GIT_OID_HEXSZ + 2];

	memset(r, 0, sizeof(*r));
	git_oid_tostr(hex, sizeof(hex), oid);
	snprintf(path, sizeof(path), "%.2s/%s", hex, hex + 2);
	r->fd = openat(a->objects_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0) {
		if (git_odb_read(&r->packed, a->odb, oid) < 0)
			return eakte_archive__git_error(EAKTE_ECORRUPT, "reading a document for text extraction");
		return 0;
	}
	if (inflateInit(&r->zs) != Z_OK) {
		close(r->fd);
		r->fd = -1;
		return eakte_error__oom("reading a document for text extraction");
	}
	r->zs_ready = 1;
	return 0;
}

static void reader_close(obj_reader *r)
{
	if (r->zs_ready)
		inflateEnd(&r->zs);
	if (r->fd >= 0)
		close(r->fd);
	git_odb_object_free(r->packed);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Inflate up to len bytes into buf; 0 at the end. */
static long inflate_some(obj_reader *r, uint8_t *buf, size_t len)
{
	for (;;) {
		int zrc;
		if (r->end)
			return 0;
		if (r->zs.avail_in == 0) {
			ssize_t n = read(r->fd, r->in, sizeof(r->in));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return eakte_error__set_errno(EAKTE_EIO, errno, "reading a content object");
			if (n == 0)
				return eakte_error__set(EAKTE_ECORRUPT, "a content object ends early; run `eakte verify`");
			r->zs.next_in = r->in;
			r->zs.avail_in = (uInt)n;
		}
		r->zs.next_out = buf;
		r->zs.avail_out = (uInt)(len > (1u << 30) ? 1u << 30 : len);
		zrc = inflate(&r->zs, Z_NO_FLUSH);
		if (zrc == Z_STREAM_END)
			r->end = 1;
		else if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return eakte_error__set(EAKTE_ECORRUPT, "a content object does not inflate; run `eakte verify`");
		if (r->zs.next_out != buf)
			return (long)(r->zs.next_out - buf);
	}
}

static long read_object(void *ctx, void *buf, size_t len)
{
	obj_reader *r = ctx;

	if (r->packed != NULL) {
		size_t size = git_odb_object_size(r->packed), n = size - r->packed_off;
		if (n > len)
			n = len;
		memcpy(buf, (const uint8_t *)git_odb_object_data(r->packed) + r->packed_off, n);
		r->packed_off += n;
		return (long)n;
	}
	while (!r->header_done) {
		/* Skip "blob <size>\0" one byte at a time: it is short. */
		uint8_t c;
		long n = inflate_some(r, &c, 1);
		if (n <= 0)
			return n < 0 ? n : eakte_error__set(EAKTE_ECORRUPT, "a content object has no header");
		if (c == '\0')
			r->header_done = 1;
	}
	return inflate_some(r, buf, len);
}

/* Documents taken for extraction at a time, and the text a group may
 * hold in memory before it is written. */
#define EXTRACT_GROUP 32
#define EXTRACT_GROUP_BYTES (32u << 20)

typedef struct {
	int64_t id, fts;
	uint64_t size;
	char mime[EAKTE_MIME_MAX];
	char oid[GIT_OID_HEXSZ + 1];
	eakte_extract_result res;
	int done;
} pending_doc;

/* Extract one document's text, holding no lock on the index: external
 * extractors may take their time while writers go on. */
static int extract_text(pending_doc *p, eakte_archive *a, const eakte_extract_limits *lim)
{
	obj_reader r;
	git_oid oid;
	int rc;

	memset(&p->res, 0, sizeof(p->res));
	p->done = 1;
	if (git_oid_fromstr(&oid, p->oid) < 0) {
		p->res.status = EAKTE_EXTRACT_FAILED;
		snprintf(p->res.reason, sizeof(p->res.reason), "the index names a malformed object id %s", p->oid);
		return 0;
	}
	if (strcmp(p->mime, "application/pdf") == 0 && p->size > lim->max_input) {
		/* Known from the index: no need to read it to find out. */
		p->res.status = EAKTE_EXTRACT_FAILED;
		snprintf(p->res.reason, sizeof(p->res.reason), "the document is larger than the %llu MiB extraction limit",
			(unsigned long long)(lim->max_input >> 20));
		return 0;
	}
	if (reader_open(&r, a, &oid) < 0) {
		p->res.status = EAKTE_EXTRACT_FAILED;
		snprintf(p->res.reason, sizeof(p->res.reason), "the content object %s cannot be read", p->oid);
		return 0;
	}
	rc = eakte_extract__run(&p->res, p->mime, read_object, &r, lim);
	reader_close(&r);
	if (rc == EAKTE_ENOMEM)
		return rc;
	if (rc < 0) {
		/* A damaged object: recorded here, and verify names it. */
		eakte_extract__result_free(&p->res);
		memset(&p->res, 0, sizeof(p->res));
		p->res.status = EAKTE_EXTRACT_FAILED;
		snprintf(p->res.reason, sizeof(p->res.reason), "%s", eakte_error_last());
	}
	return 0;
}

/* Write extracted text, unless the document changed meanwhile (a new
 * version, or someone else extracted it): then it stays as it is. */
static int store_text(eakte_index *ix, const pending_doc *p, sqlite3_stmt *claim, sqlite3_stmt *del,
	sqlite3_stmt *cupd, sqlite3_stmt *ins)
{
	const eakte_extract_result *res = &p->res;
	const char *status = res->status == EAKTE_EXTRACT_OK ? "ok" : res->status == EAKTE_EXTRACT_NONE ? "none" : "failed";
	char reason[300];
	int rc;

	snprintf(reason, sizeof(reason), "%s", res->status != EAKTE_EXTRACT_OK ? res->reason :
		res->truncated ? "text truncated at the extraction limit" : "");
	sqlite3_bind_int64(claim, 1, p->id);
	sqlite3_bind_int64(claim, 2, p->fts);
	sqlite3_bind_text(claim, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(claim, 4, reason, -1, SQLITE_TRANSIENT);
	if ((rc = step_done(ix, claim, "recording the text status")) < 0)
		return rc;
	if (sqlite3_changes(ix->db) != 1 || res->status != EAKTE_EXTRACT_OK || res->len == 0)
		return 0;
	/* Replace the full-text row with one that has the body. */
	sqlite3_bind_int64(del, 1, p->fts);
	sqlite3_bind_int64(cupd, 1, p->fts);
	sqlite3_bind_text(cupd, 2, res->text, (int)res->len, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 1, p->fts);
	if ((rc = step_done(ix, del, "re-indexing text")) < 0 || (rc = step_done(ix, cupd, "storing text")) < 0)
		return rc;
	return step_done(ix, ins, "indexing text");
}

int eakte_index__extract(eakte_index *ix, eakte_archive *a, size_t max)
{
	sqlite3_stmt *sel = NULL, *claim = NULL, *del = NULL, *cupd = NULL, *ins = NULL;
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	pending_doc *group;
	size_t done = 0;
	int rc, src;

	lim.pdftotext = a->conf.pdftotext[0] ? a->conf.pdftotext : NULL;
	lim.timeout_ms = a->conf.extract_timeout_ms;
	group = calloc(EXTRACT_GROUP, sizeof(*group));
	if (group == NULL)
		return eakte_error__oom("extracting text");
	if ((rc = prepare(ix, &sel, "SELECT d.id, d.ftsrow, d.mime, v.oid, d.size FROM doc d "
			      "JOIN version v ON v.doc_id = d.id AND v.version = d.latest "
			      "WHERE d.text_status = 'pending' ORDER BY d.id LIMIT ?1")) < 0 ||
	    (rc = prepare(ix, &claim, "UPDATE doc SET text_status = ?3, text_reason = ?4 "
			  "WHERE id = ?1 AND ftsrow = ?2 AND text_status = 'pending'")) < 0 ||
	    (rc = prepare(ix, &del, "INSERT INTO fts (fts, rowid, title, meta, az, body) "
			  "SELECT 'delete', rowid, title, meta, az, body FROM fts_content WHERE rowid = ?1")) < 0 ||
	    (rc = prepare(ix, &cupd, "UPDATE fts_content SET body = ?2 WHERE rowid = ?1")) < 0 ||
	    (rc = prepare(ix, &ins, "INSERT INTO fts (rowid, title, meta, az, body) "
			  "SELECT rowid, title, meta, az, body FROM fts_content WHERE rowid = ?1")) < 0)
		goto out;
	for (;;) {
		size_t n = 0, i, bytes = 0;

		/* Take a group without holding the write lock... */
		sqlite3_bind_int(sel, 1, EXTRACT_GROUP);
		while (n < EXTRACT_GROUP && (src = sqlite3_step(sel)) == SQLITE_ROW) {
			pending_doc *p = &group[n++];
			memset(p, 0, sizeof(*p));
			p->id = sqlite3_column_int64(sel, 0);
			p->fts = sqlite3_column_int64(sel, 1);
			snprintf(p->mime, sizeof(p->mime), "%s", (const char *)sqlite3_column_text(sel, 2));
			snprintf(p->oid, sizeof(p->oid), "%s", (const char *)sqlite3_column_text(sel, 3));
			p->size = (uint64_t)sqlite3_column_int64(sel, 4);
		}
		sqlite3_reset(sel);
		if (n == 0)
			break;
		/* ... extract without it ... */
		for (i = 0; i < n && rc == 0; i++) {
			if (bytes > EXTRACT_GROUP_BYTES || (max > 0 && done + i >= max))
				break;
			rc = extract_text(&group[i], a, &lim);
			bytes += group[i].res.len;
		}
		/* ... and write what was extracted in one transaction. */
		if (rc == 0 && (rc = exec(ix, "BEGIN IMMEDIATE", "indexing text")) == 0) {
			for (size_t k = 0; k < n && rc == 0; k++)
				if (group[k].done)
					rc = store_text(ix, &group[k], claim, del, cupd, ins);
			if (rc == 0)
				rc = exec(ix, "COMMIT", "indexing text");
			if (rc < 0)
				sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		}
		for (size_t k = 0; k < n; k++)
			eakte_extract__result_free(&group[k].res);
		done += i;
		if (rc < 0 || (max > 0 && done >= max))
			break;
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(claim);
	sqlite3_finalize(del);
	sqlite3_finalize(cupd);
	sqlite3_finalize(ins);
	free(group);
	if (rc < 0)
		return rc;
	return done > INT_MAX ? INT_MAX : (int)done;
}

/* ------------------------------------------------------------------ */
/* The writer's index                                                  */
/* ------------------------------------------------------------------ */

static int move_aside(eakte_archive *a)
{
	char from[64], to[96];
	time_t now = time(NULL);

	for (const char *suffix = ""; ; ) {
		snprintf(from, sizeof(from), "%s%s", EAKTE_INDEX_FILE, suffix);
		snprintf(to, sizeof(to), "%s.corrupt-%lld%s", EAKTE_INDEX_FILE, (long long)now, suffix);
		if (renameat(a->dirfd, from, a->dirfd, to) != 0 && errno != ENOENT)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot move the corrupt index %s aside", from);
		if (suffix[0] == '\0')
			suffix = "-wal";
		else if (strcmp(suffix, "-wal") == 0)
			suffix = "-shm";
		else
			break;
	}
	return 0;
}

int eakte_index__for_writer(eakte_index **out, eakte_archive *a)
{
	eakte_index *ix = NULL;
	int rc;

	*out = NULL;
	if (a->index != NULL) {
		/* Cheap when nothing is new: one position read. */
		if ((rc = eakte_index__catch_up(a->index, a)) < 0)
			return rc;
		*out = a->index;
		eakte_dispose__purge_pending(a, a->index);
		return 0;
	}
	rc = eakte_index__open(&ix, a->path, 1);
	if (rc == EAKTE_ECORRUPT) {
		/* The index is derived: a damaged one is set aside (for whoever
		 * wants to look at it) and rebuilt from the journal. */
		if ((rc = move_aside(a)) < 0)
			return rc;
		a->index_rebuilt = 1;
		rc = eakte_index__open(&ix, a->path, 1);
	}
	if (rc < 0)
		return rc;
	rc = eakte_index__catch_up(ix, a);
	if (rc == EAKTE_ECORRUPT) {
		a->index_rebuilt = 1;
		if ((rc = eakte_index__clear(ix)) == 0)
			rc = eakte_index__catch_up(ix, a);
	}
	if (rc < 0) {
		eakte_index__close(ix);
		return rc;
	}
	a->index = ix;
	*out = ix;
	/* A disposal whose removal a crash interrupted is finished now; if it
	 * fails again, that is a warning and the next writer tries. */
	eakte_dispose__purge_pending(a, ix);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lookups for writers                                                 */
/* ------------------------------------------------------------------ */

int eakte_index__akte(eakte_index_akte *out, eakte_index *ix, const char *az)
{
	sqlite3_stmt *st;
	int rc, src;

	memset(out, 0, sizeof(*out));
	if ((rc = prepare(ix, &st, "SELECT id, plan, closed_on, substr(created_at, 1, 10) FROM akte WHERE az = ?1")) < 0)
		return rc;
	bind_text(st, 1, az);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->plan, sizeof(out->plan), "%s", (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			out->closed = 1;
			snprintf(out->closed_on, sizeof(out->closed_on), "%s", (const char *)sqlite3_column_text(st, 2));
		}
		snprintf(out->created_on, sizeof(out->created_on), "%s", (const char *)sqlite3_column_text(st, 3));
	} else if (src == SQLITE_DONE) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "Akte %s does not exist; create it with `eakte akte create --plan CODE --az %s`",
			az, az);
	} else {
		rc = db_error(ix, EAKTE_EIO, "looking up an Akte");
	}
	sqlite3_finalize(st);
	return rc;
}

static int exists(eakte_index *ix, const char *sql, const char *text, int64_t n1, int64_t n2)
{
	sqlite3_stmt *st;
	int rc, src;

	if ((rc = prepare(ix, &st, sql)) < 0)
		return rc;
	if (text != NULL)
		bind_text(st, 1, text);
	else {
		sqlite3_bind_int64(st, 1, n1);
		sqlite3_bind_int64(st, 2, n2);
	}
	src = sqlite3_step(st);
	rc = src == SQLITE_ROW ? 1 : src == SQLITE_DONE ? 0 : db_error(ix, EAKTE_EIO, "looking something up");
	sqlite3_finalize(st);
	return rc;
}

int eakte_index__plan_exists(eakte_index *ix, const char *code)
{
	return exists(ix, "SELECT 1 FROM plan WHERE code = ?1", code, 0, 0);
}

int eakte_index__vorgang_exists(eakte_index *ix, int64_t akte_id, int64_t n)
{
	return exists(ix, "SELECT 1 FROM vorgang WHERE akte_id = ?1 AND n = ?2", NULL, akte_id, n);
}

static int max_plus_one(int64_t *n, eakte_index *ix, const char *sql, const char *text, int64_t num)
{
	sqlite3_stmt *st;
	int rc, src;

	*n = 1;
	if ((rc = prepare(ix, &st, sql)) < 0)
		return rc;
	if (text != NULL) {
		bind_text(st, 1, text);
		sqlite3_bind_int64(st, 2, num);
	} else {
		sqlite3_bind_int64(st, 1, num);
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0) + 1;
	else if (src != SQLITE_DONE)
		rc = db_error(ix, EAKTE_EIO, "reading a counter");
	sqlite3_finalize(st);
	return rc;
}

int eakte_index__vorgang_next(int64_t *n, eakte_index *ix, int64_t akte_id)
{
	return max_plus_one(n, ix, "SELECT coalesce(max(n), 0) FROM vorgang WHERE akte_id = ?1", NULL, akte_id);
}

int eakte_index__serial_next(int64_t *n, eakte_index *ix, const char *plan, int year)
{
	return max_plus_one(n, ix, "SELECT coalesce(max(last), 0) FROM serial WHERE plan = ?1 AND year = ?2", plan, year);
}

int eakte_index__doc(eakte_index_doc *out, eakte_index *ix, const char *uuid)
{
	sqlite3_stmt *st;
	int rc, src;

	memset(out, 0, sizeof(*out));
	if ((rc = prepare(ix, &st, "SELECT d.latest, coalesce(d.vorgang, 0), a.az, d.title, d.filename, d.meta "
			      "FROM doc d JOIN akte a ON a.id = d.akte_id WHERE d.uuid = ?1")) < 0)
		return rc;
	bind_text(st, 1, uuid);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->latest = sqlite3_column_int64(st, 0);
		out->vorgang = sqlite3_column_int64(st, 1);
		snprintf(out->akte, sizeof(out->akte), "%s", (const char *)sqlite3_column_text(st, 2));
		out->title = strdup((const char *)sqlite3_column_text(st, 3));
		out->filename = strdup((const char *)sqlite3_column_text(st, 4));
		out->meta = strdup((const char *)sqlite3_column_text(st, 5));
		if (out->title == NULL || out->filename == NULL || out->meta == NULL) {
			eakte_index__doc_free(out);
			rc = eakte_error__oom("looking up a document");
		}
	} else if (src == SQLITE_DONE) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s is not in the archive", uuid);
	} else {
		rc = db_error(ix, EAKTE_EIO, "looking up a document");
	}
	sqlite3_finalize(st);
	return rc;
}

void eakte_index__doc_free(eakte_index_doc *d)
{
	free(d->title);
	free(d->filename);
	free(d->meta);
	memset(d, 0, sizeof(*d));
}

int eakte_index__rows_json(json_t **out, sqlite3_stmt *st, const char *const *names, int ncols, const char *types)
{
	sqlite3 *db = sqlite3_db_handle(st);
	json_t *arr = json_array();
	int src;

	*out = NULL;
	if (arr == NULL) {
		sqlite3_finalize(st);
		return eakte_error__oom("listing");
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(arr, o) < 0)
			goto oom;
		for (int c = 0; c < ncols; c++) {
			json_t *v;
			int t = sqlite3_column_type(st, c);
			if (t == SQLITE_NULL)
				v = json_null();
			else if (types != NULL ? types[c] == 'b' : 0)
				v = json_boolean(sqlite3_column_int64(st, c));
			else if (types != NULL ? types[c] == 'i' : t == SQLITE_INTEGER)
				v = json_integer(sqlite3_column_int64(st, c));
			else
				v = json_string((const char *)sqlite3_column_text(st, c));
			if (v == NULL || json_object_set_new(o, names[c], v) < 0)
				goto oom;
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE) {
		json_decref(arr);
		return eakte_error__set(EAKTE_EIO, "index: listing: %s", sqlite3_errmsg(db));
	}
	*out = arr;
	return 0;
oom:
	sqlite3_finalize(st);
	json_decref(arr);
	return eakte_error__oom("listing");
}
