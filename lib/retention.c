/*
 * retention.c - retention (Aufbewahrung) and legal holds (Löschsperren):
 * the retention-set, hold-set and hold-release events, how the index
 * applies them and the other lifecycle events (life.h), and the reads
 * `retention show`, `retention due` and `hold ls`.
 */
#include "lifeint.h"

#include "cjson.h"
#include "records.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Shared helpers (lifeint.h)                                          */
/* ------------------------------------------------------------------ */

int eakte_life__valid_date(const char *d)
{
	struct tm tm;
	char *end, back[11];
	time_t t;

	if (d == NULL || strlen(d) != 10)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(d, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	/* strptime takes 2026-02-30; the round trip through timegm does not. */
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	return strcmp(back, d) == 0;
}

void eakte_life__today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int eakte_life__uid_of(const char *actor, char *out, size_t len)
{
	const char *p, *colon;

	if (actor == NULL || strncmp(actor, "unix:", 5) != 0)
		return 0;
	p = actor + 5;
	colon = strchr(p, ':');
	snprintf(out, len, "%.*s", (int)(colon ? (size_t)(colon - p) : strlen(p)), p);
	return out[0] != '\0';
}

int eakte_life__db_error(sqlite3 *db, const char *what)
{
	return eakte_error__set(EAKTE_EIO, "index: %s: %s", what, sqlite3_errmsg(db));
}

int eakte_life__akte_get(life_akte *out, sqlite3 *db, const char *az)
{
	sqlite3_stmt *st;
	int src, rc = 0;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db,
		    "SELECT a.id, a.plan, a.closed_on, coalesce(a.closed_seq, -1), coalesce(l.reopened_seq, -1), "
		    "coalesce(l.disposed_seq, 0), l.retention, coalesce(l.retention_seq, -1), coalesce(p.retention, 0), "
		    "coalesce(p.value, 'V') FROM akte a LEFT JOIN plan p ON p.code = a.plan "
		    "LEFT JOIN akte_life l ON l.akte_id = a.id WHERE a.az = ?1",
		    -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking up an Akte");
	sqlite3_bind_text(st, 1, az, -1, SQLITE_TRANSIENT);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->az, sizeof(out->az), "%s", az);
		snprintf(out->plan, sizeof(out->plan), "%s", (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			out->closed = 1;
			snprintf(out->closed_on, sizeof(out->closed_on), "%s", (const char *)sqlite3_column_text(st, 2));
		}
		out->closed_seq = sqlite3_column_int64(st, 3);
		out->reopened_seq = sqlite3_column_int64(st, 4);
		out->disposed_seq = (uint64_t)sqlite3_column_int64(st, 5);
		out->plan_retention = (int)sqlite3_column_int64(st, 8);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			out->retention = (int)sqlite3_column_int64(st, 6);
			out->retention_seq = sqlite3_column_int64(st, 7);
		} else {
			out->retention = out->plan_retention;
			out->retention_seq = -1;
		}
		out->value = ((const char *)sqlite3_column_text(st, 9))[0];
		if (out->closed && out->retention >= 0) {
			/* closed_on is YYYY-MM-DD and retention at most 200 years. */
			int y = (atoi(out->closed_on) % 10000) + (out->retention % 1000);
			snprintf(out->end, sizeof(out->end), "%04d-12-31", y);
			snprintf(out->due_from, sizeof(out->due_from), "%04d-01-01", y + 1);
		}
	} else if (src == SQLITE_DONE) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "Akte %s does not exist; see `eakte akte ls`", az);
	} else {
		rc = eakte_life__db_error(db, "looking up an Akte");
	}
	sqlite3_finalize(st);
	return rc;
}

int eakte_life__commit(eakte_archive *a, json_t *ev, const char *actor, uint64_t *seq)
{
	return eakte_records__commit_event(a, ev, actor, seq);
}

int eakte_life__writer(eakte_index **ix, eakte_archive *a)
{
	if (a == NULL || a->lock_fd < 0 || a->key == NULL)
		return eakte_error__set(EAKTE_EINVALID, "this needs the archive opened for writing");
	return eakte_index__for_writer(ix, a);
}

int eakte_life__check_reason(const char *reason)
{
	if (reason == NULL || reason[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "a reason is required (--reason TEXT): it is kept in the journal "
			"for as long as the archive exists, so it must not contain personal data");
	return eakte_records__check_text("the reason", reason, EAKTE_LIFE_MAX_REASON, 0);
}

int eakte_life__refuse_disposed(eakte_index *ix, const char *az, const char *what)
{
	life_akte k;
	int rc = eakte_life__akte_get(&k, eakte_index__db(ix), az);

	if (rc < 0)
		return rc == EAKTE_ENOTFOUND ? 0 : rc;
	if (k.disposed_seq > 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was disposed of by event %" PRIu64 "; %s", az,
			k.disposed_seq, what);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Applying events to the index                                        */
/* ------------------------------------------------------------------ */

int eakte_life__is_event(const char *action)
{
	static const char *const names[] = { "retention-set", "hold-set", "hold-release", "dispose-propose",
		"dispose", "export", "akte-reopen" };

	for (size_t i = 0; i < EAKTE_ARRAY_SIZE(names); i++)
		if (strcmp(action, names[i]) == 0)
			return 1;
	return 0;
}

/* Run sql with ?1..?n bound to the given values: 'i' int64, 't' text
 * (NULL binds NULL). */
static int run(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int src;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "preparing a lifecycle statement");
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, sqlite3_int64));
		else {
			const char *s = va_arg(ap, const char *);
			if (s == NULL)
				sqlite3_bind_null(st, i + 1);
			else
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
		}
	}
	va_end(ap);
	do
		src = sqlite3_step(st);
	while (src == SQLITE_ROW);
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? 0 : eakte_life__db_error(db, "applying a lifecycle event");
}

static int ev_akte(int64_t *id, sqlite3 *db, const eakte_ev *ev, const char **az_out)
{
	const char *az;
	sqlite3_stmt *st;
	int src;

	if (eakte_cjson__get_string(&az, ev->root, "akte") < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "%s event %" PRIu64 " names no Akte", ev->action, ev->seq);
	if (az_out)
		*az_out = az;
	if (sqlite3_prepare_v2(db, "SELECT id FROM akte WHERE az = ?1", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking up an Akte");
	sqlite3_bind_text(st, 1, az, -1, SQLITE_TRANSIENT);
	src = sqlite3_step(st);
	*id = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (src == SQLITE_ROW)
		return 0;
	if (src == SQLITE_DONE)
		return eakte_error__set(EAKTE_ECORRUPT, "%s event %" PRIu64 " names Akte %s, which no earlier event created",
			ev->action, ev->seq, az);
	return eakte_life__db_error(db, "looking up an Akte");
}

static int apply_dispose(sqlite3 *db, const eakte_ev *ev, int64_t akte)
{
	const json_t *removed = json_object_get(ev->root, "removed"), *docs = json_object_get(removed, "docs"), *d;
	int64_t proposal = 0;
	const char *proposed_by = json_string_value(json_object_get(ev->root, "proposed_by"));
	size_t i;
	int rc;

	if (eakte_cjson__get_int(&proposal, ev->root, "proposal") < 0 || proposed_by == NULL || !json_is_array(docs))
		return eakte_error__set(EAKTE_ECORRUPT, "dispose event %" PRIu64 " is malformed", ev->seq);
	/* The words must not survive in freed pages: zero what is deleted. */
	if ((rc = run(db, "PRAGMA secure_delete = ON", "")) < 0)
		return rc;
	json_array_foreach(docs, i, d) {
		const char *doc = json_string_value(json_object_get(d, "doc"));
		if (doc == NULL)
			return eakte_error__set(EAKTE_ECORRUPT, "dispose event %" PRIu64 " lists a document without id", ev->seq);
		if ((rc = run(db, "INSERT OR IGNORE INTO disposed_doc (uuid, seq) VALUES (?1, ?2)", "ti", doc,
			     (sqlite3_int64)ev->seq)) < 0)
			return rc;
	}
	if ((rc = run(db, "INSERT OR IGNORE INTO disposed_object (seq, oid) SELECT ?2, v.oid FROM version v "
			  "JOIN doc d ON d.id = v.doc_id WHERE d.akte_id = ?1", "ii", (sqlite3_int64)akte,
		     (sqlite3_int64)ev->seq)) < 0 ||
	    (rc = run(db, "INSERT INTO fts (fts, rowid, title, meta, az, body) SELECT 'delete', c.rowid, c.title, c.meta, "
			  "c.az, c.body FROM fts_content c JOIN doc d ON d.ftsrow = c.rowid WHERE d.akte_id = ?1", "i",
		     (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM fts_content WHERE rowid IN (SELECT ftsrow FROM doc WHERE akte_id = ?1)", "i",
		     (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM doc_meta WHERE doc_id IN (SELECT id FROM doc WHERE akte_id = ?1)", "i",
		     (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM doc_event WHERE doc_id IN (SELECT id FROM doc WHERE akte_id = ?1)", "i",
		     (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM version WHERE doc_id IN (SELECT id FROM doc WHERE akte_id = ?1)", "i",
		     (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM doc WHERE akte_id = ?1", "i", (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "DELETE FROM vorgang WHERE akte_id = ?1", "i", (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "UPDATE akte SET title = '' WHERE id = ?1", "i", (sqlite3_int64)akte)) < 0 ||
	    (rc = run(db, "INSERT INTO akte_life (akte_id, disposed_seq) VALUES (?1, ?2) "
			  "ON CONFLICT (akte_id) DO UPDATE SET disposed_seq = ?2", "ii", (sqlite3_int64)akte,
		     (sqlite3_int64)ev->seq)) < 0 ||
	    (rc = run(db, "UPDATE proposal SET approved_seq = ?2 WHERE seq = ?1", "ii", (sqlite3_int64)proposal,
		     (sqlite3_int64)ev->seq)) < 0)
		return rc;
	return run(db, "INSERT OR REPLACE INTO disposal (seq, akte_id, proposal, proposed_by, time, actor, purged) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)", "iiitt" "t", (sqlite3_int64)ev->seq, (sqlite3_int64)akte,
		(sqlite3_int64)proposal, proposed_by, ev->time, ev->actor);
}

int eakte_life__apply(sqlite3 *db, const eakte_ev *ev)
{
	const char *action = ev->action, *reason = json_string_value(json_object_get(ev->root, "reason"));
	int64_t akte;
	int rc;

	if ((rc = ev_akte(&akte, db, ev, NULL)) < 0)
		return rc;
	if (strcmp(action, "akte-reopen") == 0)
		return run(db, "INSERT INTO akte_life (akte_id, reopened_seq) VALUES (?1, ?2) "
			"ON CONFLICT (akte_id) DO UPDATE SET reopened_seq = ?2", "ii", (sqlite3_int64)akte, (sqlite3_int64)ev->seq);
	if (strcmp(action, "retention-set") == 0) {
		const json_t *r = json_object_get(ev->root, "retention");
		int64_t years = json_is_integer(r) ? json_integer_value(r) : -1;
		if (!json_is_integer(r) && !(json_is_string(r) && strcmp(json_string_value(r), "unbefristet") == 0))
			return eakte_error__set(EAKTE_ECORRUPT, "retention-set event %" PRIu64 " has a malformed retention", ev->seq);
		return run(db, "INSERT INTO akte_life (akte_id, retention, retention_seq) VALUES (?1, ?2, ?3) "
			"ON CONFLICT (akte_id) DO UPDATE SET retention = ?2, retention_seq = ?3", "iii", (sqlite3_int64)akte,
			(sqlite3_int64)years, (sqlite3_int64)ev->seq);
	}
	if (strcmp(action, "hold-set") == 0)
		return run(db, "INSERT OR REPLACE INTO hold (seq, akte_id, reason, case_id, time, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			"iitttt", (sqlite3_int64)ev->seq, (sqlite3_int64)akte, reason ? reason : "",
			json_string_value(json_object_get(ev->root, "case")), ev->time, ev->actor);
	if (strcmp(action, "hold-release") == 0) {
		int64_t hold;
		if (eakte_cjson__get_int(&hold, ev->root, "hold") < 0)
			return eakte_error__set(EAKTE_ECORRUPT, "hold-release event %" PRIu64 " names no hold", ev->seq);
		return run(db, "UPDATE hold SET released_seq = ?2, released_at = ?3, released_by = ?4, release_reason = ?5 "
			"WHERE seq = ?1", "iittt", (sqlite3_int64)hold, (sqlite3_int64)ev->seq, ev->time, ev->actor,
			reason ? reason : "");
	}
	if (strcmp(action, "dispose-propose") == 0)
		return run(db, "INSERT OR REPLACE INTO proposal (seq, akte_id, reason, time, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
			"iittt", (sqlite3_int64)ev->seq, (sqlite3_int64)akte, reason ? reason : "", ev->time, ev->actor);
	if (strcmp(action, "export") == 0) {
		const json_t *pkg = json_object_get(ev->root, "package");
		const char *format = json_string_value(json_object_get(ev->root, "format"));
		const char *sha = json_string_value(json_object_get(pkg, "sha256"));
		if (format == NULL || sha == NULL)
			return eakte_error__set(EAKTE_ECORRUPT, "export event %" PRIu64 " has no format or package", ev->seq);
		return run(db, "INSERT OR REPLACE INTO export (seq, akte_id, format, sha256, size, time, actor) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "iittitt", (sqlite3_int64)ev->seq, (sqlite3_int64)akte, format,
			sha, (sqlite3_int64)json_integer_value(json_object_get(pkg, "size")), ev->time, ev->actor);
	}
	if (strcmp(action, "dispose") == 0)
		return apply_dispose(db, ev, akte);
	return 0;
}

int eakte_life__disposed_later(json_t **cache, eakte_archive *a, const char *az)
{
	uint64_t i;
	int rc;

	if (*cache == NULL) {
		json_t *set = json_object();
		if (set == NULL)
			return eakte_error__oom("reading the journal for disposals");
		if ((rc = eakte_journal__load_index(a)) < 0) {
			json_decref(set);
			return rc;
		}
		/* The commit message names the action ("dispose <seq> <az>"): only
		 * those events need to be read. */
		for (i = 0; i < a->index_len; i++) {
			git_commit *c;
			const char *msg;
			if (git_commit_lookup(&c, a->repo, &a->commits[i]) < 0) {
				json_decref(set);
				return eakte_archive__git_error(EAKTE_ECORRUPT, "reading a journal commit");
			}
			msg = git_commit_message(c);
			if (msg != NULL && strncmp(msg, "dispose ", 8) == 0) {
				eakte_jcommit jc;
				eakte_ev ev;
				if ((rc = eakte_journal__read_commit(&jc, a, &a->commits[i])) < 0) {
					git_commit_free(c);
					json_decref(set);
					return rc;
				}
				if (jc.json != NULL && eakte_event__parse(&ev, jc.json, jc.len) == 0) {
					const char *daz = json_string_value(json_object_get(ev.root, "akte"));
					if (strcmp(ev.action, "dispose") == 0 && daz != NULL &&
					    json_object_set_new(set, daz, json_integer((json_int_t)ev.seq)) < 0)
						rc = eakte_error__oom("reading the journal for disposals");
					eakte_event__free(&ev);
				}
				eakte_journal__jcommit_free(&jc);
			}
			git_commit_free(c);
			if (rc < 0) {
				json_decref(set);
				return rc;
			}
		}
		*cache = set;
	}
	return json_object_get(*cache, az) != NULL;
}

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

int eakte_retention_set(eakte_archive *a, const char *az, int years, const char *reason, const char *actor)
{
	eakte_index *ix;
	life_akte k;
	json_t *ev;
	int rc;

	if ((rc = eakte_life__writer(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0)
		return rc;
	if (years != EAKTE_RETENTION_UNBEFRISTET && (years < 0 || years > 200))
		return eakte_error__set(EAKTE_EINVALID, "a retention of %d years is out of range: give 0 to 200 years or "
			"unbefristet", years);
	if ((rc = eakte_life__check_reason(reason)) < 0 || (rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0)
		return rc;
	if (k.disposed_seq > 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was disposed of by event %" PRIu64 "; its retention cannot change",
			az, k.disposed_seq);
	ev = json_pack("{s:s, s:s, s:o, s:s}", "action", "retention-set", "akte", az, "retention",
		years < 0 ? json_string("unbefristet") : json_integer(years), "reason", reason);
	if (ev == NULL)
		return eakte_error__oom("building a retention-set event");
	rc = eakte_life__commit(a, ev, actor, NULL);
	json_decref(ev);
	return rc;
}

static json_t *retention_value(int years)
{
	return years < 0 ? json_string("unbefristet") : json_integer(years);
}

/* Rows of a query as JSON objects; 'i' integer, 't' text, 'b' boolean
 * columns as named. */
static int rows(json_t **out, sqlite3 *db, const char *sql, const char *const *names, const char *types,
	const char *bind_t, int64_t bind_i)
{
	sqlite3_stmt *st;

	*out = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "preparing a listing");
	if (bind_t != NULL)
		sqlite3_bind_text(st, 1, bind_t, -1, SQLITE_TRANSIENT);
	else if (bind_i >= 0)
		sqlite3_bind_int64(st, 1, bind_i);
	else
		sqlite3_bind_null(st, 1);
	return eakte_index__rows_json(out, st, names, (int)strlen(types), types);
}

static const char *const hold_cols[] = { "id", "akte", "reason", "case", "time", "actor", "released_seq",
	"released_at", "released_by", "release_reason" };
#define HOLD_TYPES "ittttti" "ttt"
#define HOLD_SELECT "SELECT h.seq, a.az, h.reason, h.case_id, h.time, h.actor, h.released_seq, h.released_at, " \
	"h.released_by, h.release_reason FROM hold h JOIN akte a ON a.id = h.akte_id "

int eakte_life__active_holds(json_t **out, sqlite3 *db, int64_t akte_id)
{
	return rows(out, db, HOLD_SELECT "WHERE h.akte_id = ?1 AND h.released_seq IS NULL ORDER BY h.seq", hold_cols,
		HOLD_TYPES, NULL, akte_id);
}

static int dump(char **out, json_t *o)
{
	int rc;

	if (o == NULL)
		return eakte_error__oom("building JSON");
	rc = eakte_cjson__dump(out, NULL, o);
	json_decref(o);
	return rc;
}

int eakte_life__retention_obj(json_t **out, sqlite3 *db, const life_akte *k, const char *today)
{
	json_t *o, *holds = NULL;
	int rc;

	*out = NULL;
	if ((rc = eakte_life__active_holds(&holds, db, k->id)) < 0)
		return rc;
	o = json_pack("{s:s, s:s, s:s#, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"az", k->az, "plan", k->plan, "value", &k->value, 1,
		"retention", retention_value(k->retention),
		"plan_retention", retention_value(k->plan_retention),
		"set_by", k->retention_seq >= 0 ? json_integer(k->retention_seq) : json_null(),
		"closed_on", k->closed ? json_string(k->closed_on) : json_null(),
		"end", k->end[0] ? json_string(k->end) : json_null(),
		"due_from", k->due_from[0] ? json_string(k->due_from) : json_null(),
		"ended", json_boolean(k->end[0] && strcmp(k->end, today) < 0),
		"holds", holds);
	if (o == NULL)
		return eakte_error__oom("describing a retention");
	if (json_object_set_new(o, "state", json_string(k->disposed_seq ? "disposed" : k->closed ? "closed" : "open")) < 0 ||
	    json_object_set_new(o, "disposed_by", k->disposed_seq ? json_integer((json_int_t)k->disposed_seq) : json_null()) < 0) {
		json_decref(o);
		return eakte_error__oom("describing a retention");
	}
	*out = o;
	return 0;
}

int eakte_retention_json(char **out, eakte_archive *a, const char *az)
{
	eakte_index *ix;
	life_akte k;
	json_t *o;
	char today[11];
	int rc;

	*out = NULL;
	if ((rc = eakte_records__check_az(az)) < 0 || (rc = eakte_search__reader_index(&ix, a)) < 0 ||
	    (rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0)
		return rc;
	eakte_life__today(today);
	if ((rc = eakte_life__retention_obj(&o, eakte_index__db(ix), &k, today)) < 0)
		return rc;
	if (k.retention_seq >= 0) {
		json_t *set = NULL;
		/* The index keeps only the seq of the retention-set event; its
		 * actor, time and reason come from the journal. */
		if ((rc = eakte_journal__load_index(a)) == 0 && (uint64_t)k.retention_seq < a->index_len) {
			eakte_jcommit jc;
			eakte_ev ev;
			if ((rc = eakte_journal__read_commit(&jc, a, &a->commits[k.retention_seq])) == 0) {
				if (jc.json != NULL && eakte_event__parse(&ev, jc.json, jc.len) == 0) {
					set = json_pack("{s:I, s:s, s:s, s:O}", "seq", (json_int_t)ev.seq, "time", ev.time,
						"actor", ev.actor, "reason", json_object_get(ev.root, "reason"));
					eakte_event__free(&ev);
				}
				eakte_journal__jcommit_free(&jc);
			}
		}
		if (rc < 0) {
			json_decref(o);
			return rc;
		}
		if (set != NULL && json_object_set_new(o, "set", set) < 0) {
			json_decref(o);
			return eakte_error__oom("describing a retention");
		}
	}
	if (json_object_set_new(o, "schema", json_string("eakte.retention/1")) < 0) {
		json_decref(o);
		return eakte_error__oom("describing a retention");
	}
	return dump(out, o);
}

int eakte_retention_due_json(char **out, eakte_archive *a, const char *at)
{
	eakte_index *ix;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *list, *res;
	char today[11];
	int rc, src;

	*out = NULL;
	eakte_life__today(today);
	if (at == NULL)
		at = today;
	if (!eakte_life__valid_date(at))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a date of the form YYYY-MM-DD", at);
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	db = eakte_index__db(ix);
	list = json_array();
	if (list == NULL)
		return eakte_error__oom("listing due Akten");
	/* Retention ends on Y+N-12-31: due at `at` when Y+N < year(at). */
	if (sqlite3_prepare_v2(db,
		    "SELECT a.az FROM akte a LEFT JOIN plan p ON p.code = a.plan LEFT JOIN akte_life l ON l.akte_id = a.id "
		    "WHERE a.closed_on IS NOT NULL AND l.disposed_seq IS NULL "
		    "AND coalesce(l.retention, p.retention, 0) >= 0 "
		    "AND CAST(substr(a.closed_on, 1, 4) AS INTEGER) + coalesce(l.retention, p.retention, 0) < ?1 "
		    "ORDER BY a.closed_on, a.az", -1, &st, NULL) != SQLITE_OK) {
		json_decref(list);
		return eakte_life__db_error(db, "listing due Akten");
	}
	sqlite3_bind_int(st, 1, atoi(at));
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		life_akte k;
		json_t *o = NULL, *exp = NULL, *props = NULL;
		const char *az = (const char *)sqlite3_column_text(st, 0);
		static const char *const ecols[] = { "seq", "format", "time" };
		static const char *const pcols[] = { "id", "actor", "time", "reason" };

		if ((rc = eakte_life__akte_get(&k, db, az)) < 0 ||
		    (rc = eakte_life__retention_obj(&o, db, &k, at)) < 0 ||
		    (rc = rows(&exp, db, "SELECT seq, format, time FROM export WHERE akte_id = ?1 ORDER BY seq", ecols, "itt",
			     NULL, k.id)) < 0 ||
		    (rc = rows(&props, db, "SELECT seq, actor, time, reason FROM proposal WHERE akte_id = ?1 AND "
			     "approved_seq IS NULL ORDER BY seq", pcols, "ittt", NULL, k.id)) < 0) {
			json_decref(o);
			json_decref(exp);
			sqlite3_finalize(st);
			json_decref(list);
			return rc;
		}
		{
			/* Only exports after the zdA count for disposal. */
			json_t *after = json_array(), *e;
			size_t i;
			int bad = after == NULL;
			json_array_foreach(exp, i, e)
				if (!bad && json_integer_value(json_object_get(e, "seq")) > k.closed_seq)
					bad = json_array_append(after, e) < 0;
			json_decref(exp);
			if (bad)
				json_decref(after);
			/* jansson's *_new calls take the reference even when they fail. */
			if (bad || json_object_set_new(o, "exports", after) < 0)
				rc = -1;
			if (json_object_set_new(o, "proposals", props) < 0)
				rc = -1;
		}
		if (rc < 0)
			json_decref(o);
		if (rc < 0 || json_array_append_new(list, o) < 0) {
			sqlite3_finalize(st);
			json_decref(list);
			return eakte_error__oom("listing due Akten");
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE) {
		json_decref(list);
		return eakte_life__db_error(db, "listing due Akten");
	}
	res = json_pack("{s:s, s:s, s:o}", "schema", "eakte.retention-due/1", "at", at, "akten", list);
	return dump(out, res);
}

/* ------------------------------------------------------------------ */
/* Legal holds                                                         */
/* ------------------------------------------------------------------ */

int eakte_hold_set(eakte_archive *a, const char *az, const char *reason, const char *case_id, const char *actor,
	uint64_t *hold_out)
{
	eakte_index *ix;
	life_akte k;
	json_t *ev;
	uint64_t seq;
	int rc;

	if (hold_out != NULL)
		*hold_out = 0;
	if ((rc = eakte_life__writer(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0 ||
	    (rc = eakte_life__check_reason(reason)) < 0)
		return rc;
	if (case_id != NULL && (case_id[0] == '\0' ||
		(rc = eakte_records__check_text("the case id", case_id, EAKTE_LIFE_MAX_CASE, 0)) < 0))
		return case_id[0] == '\0' ? eakte_error__set(EAKTE_EINVALID, "the case id is empty") : rc;
	if ((rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0)
		return rc;
	if (k.disposed_seq > 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was disposed of by event %" PRIu64 "; there is nothing left to hold",
			az, k.disposed_seq);
	ev = json_pack("{s:s, s:s, s:s}", "action", "hold-set", "akte", az, "reason", reason);
	if (ev == NULL || (case_id != NULL && json_object_set_new(ev, "case", json_string(case_id)) < 0)) {
		json_decref(ev);
		return eakte_error__oom("building a hold-set event");
	}
	rc = eakte_life__commit(a, ev, actor, &seq);
	json_decref(ev);
	if (rc == 0 && hold_out != NULL)
		*hold_out = seq;
	return rc;
}

int eakte_hold_release(eakte_archive *a, const char *az, uint64_t hold, const char *reason, const char *actor)
{
	eakte_index *ix;
	life_akte k;
	sqlite3_stmt *st;
	json_t *ev;
	int rc, src, released = 0;

	if ((rc = eakte_life__writer(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0 ||
	    (rc = eakte_life__check_reason(reason)) < 0 ||
	    (rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0)
		return rc;
	if (sqlite3_prepare_v2(eakte_index__db(ix), "SELECT released_seq FROM hold WHERE seq = ?1 AND akte_id = ?2",
		    -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(eakte_index__db(ix), "looking up a hold");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)hold);
	sqlite3_bind_int64(st, 2, k.id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		released = (int)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (src == SQLITE_DONE)
		return eakte_error__set(EAKTE_ENOTFOUND, "Akte %s has no hold %" PRIu64 "; see `eakte hold ls %s`", az, hold, az);
	if (src != SQLITE_ROW)
		return eakte_life__db_error(eakte_index__db(ix), "looking up a hold");
	if (released)
		return eakte_error__set(EAKTE_EPOLICY, "hold %" PRIu64 " of Akte %s was already released by event %d", hold, az,
			released);
	ev = json_pack("{s:s, s:s, s:I, s:s}", "action", "hold-release", "akte", az, "hold", (json_int_t)hold,
		"reason", reason);
	if (ev == NULL)
		return eakte_error__oom("building a hold-release event");
	rc = eakte_life__commit(a, ev, actor, NULL);
	json_decref(ev);
	return rc;
}

int eakte_hold_list_json(char **out, eakte_archive *a, const char *az, int all)
{
	eakte_index *ix;
	json_t *list;
	char sql[512];
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if (az != NULL) {
		life_akte k;
		if ((rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0)
			return rc;
	}
	snprintf(sql, sizeof(sql), HOLD_SELECT "WHERE (?1 IS NULL OR a.az = ?1) %s ORDER BY h.seq",
		all ? "" : "AND h.released_seq IS NULL");
	if ((rc = rows(&list, eakte_index__db(ix), sql, hold_cols, HOLD_TYPES, az, -1)) < 0)
		return rc;
	return dump(out, json_pack("{s:s, s:o}", "schema", "eakte.holds/1", "holds", list));
}

/* ------------------------------------------------------------------ */
/* The Akte's JSON                                                     */
/* ------------------------------------------------------------------ */

int eakte_life__akte_json(sqlite3 *db, const char *az, json_t *akte)
{
	life_akte k;
	json_t *d = json_null();
	int rc;

	if ((rc = eakte_life__akte_get(&k, db, az)) < 0)
		return rc;
	if (k.disposed_seq > 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT seq, proposal, proposed_by, time, actor FROM disposal WHERE seq = ?1",
			    -1, &st, NULL) != SQLITE_OK)
			return eakte_life__db_error(db, "reading a disposal");
		sqlite3_bind_int64(st, 1, (sqlite3_int64)k.disposed_seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			d = json_pack("{s:I, s:I, s:s, s:s, s:s}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
				"proposal", (json_int_t)sqlite3_column_int64(st, 1),
				"proposed_by", (const char *)sqlite3_column_text(st, 2),
				"time", (const char *)sqlite3_column_text(st, 3), "actor", (const char *)sqlite3_column_text(st, 4));
		sqlite3_finalize(st);
	}
	if (d == NULL || json_object_set_new(akte, "disposed", d) < 0 ||
	    json_object_set_new(akte, "retention_end", k.end[0] ? json_string(k.end) : json_null()) < 0)
		return eakte_error__oom("showing an Akte");
	return 0;
}
