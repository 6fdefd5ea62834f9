/*
 * search.c - reading the index: search, the Aktenplan, Akten, the tree,
 * document history.  Results are JSON (schemas in schema/).
 *
 * Search order.  "newest" walks the full-text index backwards in rowid
 * order (rowid = seq of the latest version's filing) and stops after
 * offset+limit hits, so its cost does not grow with the number of
 * matches.  "relevance" ranks by bm25 (title weighs 10, metadata and
 * Aktenzeichen 5, text 1) but only among the newest RANK_WINDOW matches:
 * scoring every match of a common word over a million documents takes
 * seconds (shared MEASURED.md).  docs/search.md says so.  The total is
 * counted exactly up to COUNT_CAP matches and reported as "at least" above.
 */
#include "archive.h"
#include "cjson.h"
#include "index.h"
#include "life.h"
#include "journal.h"
#include "query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RANK_WINDOW 5000
#define COUNT_CAP 10000
#define MAX_LIMIT 1000
#define MAX_OFFSET 100000
#define SQL_MAX 4096

/* The index for a reader: caught up when it can be written, else as it is. */
int eakte_search__reader_index(eakte_index **out, eakte_archive *a)
{
	eakte_index *ix = NULL;
	int rc;

	*out = NULL;
	if (a->index != NULL) {
		*out = a->index;
		return 0;
	}
	if (a->lock_fd >= 0)
		return eakte_index__for_writer(out, a);
	rc = eakte_index__open(&ix, a->path, 1);
	if (rc == 0) {
		/* Catching up includes the text, or a rebuilt index would find
		 * documents by their metadata only. */
		rc = eakte_index__catch_up(ix, a);
		if (rc == 0 && !(a->flags & EAKTE_OPEN_NO_EXTRACT) && (rc = eakte_index__extract(ix, a, 0)) > 0)
			rc = 0;
		if (rc < 0) {
			eakte_index__close(ix);
			return rc;
		}
	} else if (rc != EAKTE_ECORRUPT && rc != EAKTE_EVERSION) {
		/* No permission to write it (the daemon owns it): read it as it is. */
		if ((rc = eakte_index__open(&ix, a->path, 0)) < 0)
			return rc;
		snprintf(a->warning, sizeof(a->warning),
			"the index could not be brought up to date (no write access); results may lag behind the journal");
	}
	if (rc < 0)
		return eakte_error__wrap(rc, "the index is unusable; run `eakte reindex`");
	a->index = ix;
	*out = ix;
	return 0;
}

static int sql_fail(sqlite3 *db, const char *what)
{
	return eakte_error__set(EAKTE_EIO, "index: %s: %s", what, sqlite3_errmsg(db));
}

static int valid_day(const char *d)
{
	struct tm tm;
	char *end;

	char back[11];
	time_t t;

	if (strlen(d) != 10)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(d, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	/* strptime takes 2026-02-31; the round trip through timegm does not. */
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	return strcmp(back, d) == 0;
}

/* A growing SQL text with positional text parameters. */
typedef struct {
	char sql[SQL_MAX];
	size_t len;
	const char *params[64];
	int nparams;
	int overflow;
} query_buf;

static void qb_add(query_buf *q, const char *s)
{
	size_t n = strlen(s);

	if (q->len + n >= sizeof(q->sql)) {
		q->overflow = 1;
		return;
	}
	memcpy(q->sql + q->len, s, n + 1);
	q->len += n;
}

/* Append "?N" bound to text p. */
static void qb_param(query_buf *q, const char *p)
{
	char num[16];

	if (q->nparams == (int)EAKTE_ARRAY_SIZE(q->params)) {
		q->overflow = 1;
		return;
	}
	q->params[q->nparams++] = p;
	snprintf(num, sizeof(num), "?%d", q->nparams);
	qb_add(q, num);
}

/* Upper bound of the prefix range [p, end): the prefix with its last byte
 * incremented (TEXT compares bytewise under the BINARY collation). */
static char *prefix_end(const char *p)
{
	size_t n = strlen(p);
	char *e = strdup(p);

	if (e == NULL)
		return NULL;
	while (n > 0 && (unsigned char)e[n - 1] == 0xff)
		e[--n] = '\0';
	if (n > 0)
		e[n - 1] = (char)((unsigned char)e[n - 1] + 1);
	return e;
}

typedef struct {
	char *owned[16];
	int nowned;
} strpool;

static const char *pool_keep(strpool *p, char *s)
{
	if (s == NULL || p->nowned == (int)EAKTE_ARRAY_SIZE(p->owned)) {
		free(s);
		return NULL;
	}
	p->owned[p->nowned++] = s;
	return s;
}

static void pool_free(strpool *p)
{
	for (int i = 0; i < p->nowned; i++)
		free(p->owned[i]);
}

/* The WHERE conditions of the filters (after "WHERE 1"). */
static int add_filters(query_buf *q, strpool *pool, const eakte_search_options *o, char meta_keys[][EAKTE_MAX_META_KEY + 1])
{
	if (o->akte != NULL && o->akte[0] != '\0') {
		size_t n = strlen(o->akte);
		if (o->akte[n - 1] == '*') {
			char *pre = strndup(o->akte, n - 1);
			const char *p = pool_keep(pool, pre), *e = p ? pool_keep(pool, prefix_end(p)) : NULL;
			if (p == NULL || e == NULL)
				return eakte_error__oom("building a search");
			qb_add(q, " AND a.az >= ");
			qb_param(q, p);
			if (p[0] != '\0') {
				qb_add(q, " AND a.az < ");
				qb_param(q, e);
			}
		} else {
			qb_add(q, " AND a.az = ");
			qb_param(q, o->akte);
		}
	}
	if (o->plan != NULL && o->plan[0] != '\0') {
		char *dot = malloc(strlen(o->plan) + 2), *slash = malloc(strlen(o->plan) + 2);
		if (dot == NULL || slash == NULL) {
			free(dot);
			free(slash);
			return eakte_error__oom("building a search");
		}
		sprintf(dot, "%s.", o->plan);
		sprintf(slash, "%s/", o->plan);   /* '/' follows '.' */
		pool_keep(pool, dot);
		pool_keep(pool, slash);
		qb_add(q, " AND (a.plan = ");
		qb_param(q, o->plan);
		qb_add(q, " OR (a.plan >= ");
		qb_param(q, dot);
		qb_add(q, " AND a.plan < ");
		qb_param(q, slash);
		qb_add(q, "))");
	}
	if (o->from != NULL) {
		if (!valid_day(o->from))
			return eakte_error__set(EAKTE_EINVALID, "--from \"%s\" is not a date YYYY-MM-DD", o->from);
		qb_add(q, " AND d.date >= ");
		qb_param(q, o->from);
	}
	if (o->to != NULL) {
		if (!valid_day(o->to))
			return eakte_error__set(EAKTE_EINVALID, "--to \"%s\" is not a date YYYY-MM-DD", o->to);
		qb_add(q, " AND d.date <= ");
		qb_param(q, o->to);
	}
	if (o->mime != NULL && o->mime[0] != '\0') {
		size_t n = strlen(o->mime);
		if (strchr(o->mime, '/') == NULL)
			return eakte_error__set(EAKTE_EINVALID, "--type \"%s\" is not a MIME type like application/pdf or image/*", o->mime);
		if (o->mime[n - 1] == '*') {
			const char *p = pool_keep(pool, strndup(o->mime, n - 1)), *e = p ? pool_keep(pool, prefix_end(p)) : NULL;
			if (p == NULL || e == NULL)
				return eakte_error__oom("building a search");
			qb_add(q, " AND d.mime >= ");
			qb_param(q, p);
			qb_add(q, " AND d.mime < ");
			qb_param(q, e);
		} else {
			qb_add(q, " AND d.mime = ");
			qb_param(q, o->mime);
		}
	}
	if (o->meta_count > 16)
		return eakte_error__set(EAKTE_EINVALID, "at most 16 --meta filters");
	for (size_t i = 0; i < o->meta_count; i++) {
		const char *s = o->meta[i], *eq = s ? strchr(s, '=') : NULL;
		size_t kl = eq ? (size_t)(eq - s) : 0;
		if (eq == NULL || kl == 0 || kl > EAKTE_MAX_META_KEY)
			return eakte_error__set(EAKTE_EINVALID, "--meta \"%.40s\" is not KEY=VALUE", s ? s : "");
		memcpy(meta_keys[i], s, kl);
		meta_keys[i][kl] = '\0';
		qb_add(q, " AND EXISTS (SELECT 1 FROM doc_meta m WHERE m.doc_id = d.id AND m.key = ");
		qb_param(q, meta_keys[i]);
		qb_add(q, " AND m.value = ");
		qb_param(q, eq + 1);
		qb_add(q, ")");
	}
	return 0;
}

static int bind_all(sqlite3_stmt *st, const query_buf *q)
{
	for (int i = 0; i < q->nparams; i++)
		if (sqlite3_bind_text(st, i + 1, q->params[i], -1, SQLITE_STATIC) != SQLITE_OK)
			return -1;
	return 0;
}

/* A snippet for display: whitespace runs (line breaks of the text) become
 * one space; cut at a character boundary if longer than the buffer. */
static const char *one_line(char *out, size_t len, const char *in)
{
	size_t n = 0;
	int space = 0;

	for (; in != NULL && *in && n + 1 < len; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			space = 1;
			continue;
		}
		if (space && n > 0 && n + 2 < len)
			out[n++] = ' ';
		space = 0;
		out[n++] = (char)c;
	}
	while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80 && in != NULL && *in)
		n--;                       /* drop a cut-off multi-byte tail */
	if (n > 0 && in != NULL && *in && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
		n--;
	out[n] = '\0';
	return out;
}

static int has_filter(const eakte_search_options *o)
{
	return (o->akte && o->akte[0]) || (o->plan && o->plan[0]) || o->from || o->to || (o->mime && o->mime[0]) ||
	       o->meta_count > 0;
}

int eakte_search(char **out, eakte_archive *a, const eakte_search_options *o)
{
	eakte_index *ix;
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	query_buf where, q;
	strpool pool;
	char meta_keys[16][EAKTE_MAX_META_KEY + 1], *fts = NULL, num[64];
	const char *sort;
	size_t limit;
	int64_t total = 0, cutoff = -1;
	int text, rc, src;
	json_t *res = NULL, *hits = NULL;

	*out = NULL;
	memset(&pool, 0, sizeof(pool));
	memset(&where, 0, sizeof(where));
	if (o == NULL || o->version != EAKTE_SEARCH_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_search_options missing or of an unsupported version");
	sort = o->sort ? o->sort : "newest";
	if (strcmp(sort, "newest") != 0 && strcmp(sort, "oldest") != 0 && strcmp(sort, "relevance") != 0)
		return eakte_error__set(EAKTE_EINVALID, "--sort \"%s\": use newest, oldest or relevance", sort);
	limit = o->limit ? o->limit : 20;
	if (limit > MAX_LIMIT || o->offset > MAX_OFFSET)
		return eakte_error__set(EAKTE_EINVALID, "--limit may be at most %d and --offset at most %d", MAX_LIMIT, MAX_OFFSET);
	text = o->query != NULL && o->query_len > 0;
	if (text) {
		if ((rc = eakte_query__translate(&fts, o->query, o->query_len)) < 0)
			return rc;
	} else if (!has_filter(o)) {
		return eakte_error__set(EAKTE_EINVALID, "give a search query, or at least one filter (--akte, --plan, --from, --to, --type, --meta)");
	}
	if (!text && strcmp(sort, "relevance") == 0) {
		free(fts);
		return eakte_error__set(EAKTE_EINVALID, "--sort relevance needs a search query");
	}
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		goto out;
	db = eakte_index__db(ix);

	/* FROM/WHERE shared by the count, the cutoff and the page. */
	if (text) {
		qb_add(&where, " FROM fts f JOIN doc d ON d.ftsrow = f.rowid JOIN akte a ON a.id = d.akte_id WHERE fts MATCH ");
		qb_param(&where, fts);
	} else {
		qb_add(&where, " FROM doc d JOIN akte a ON a.id = d.akte_id WHERE 1");
	}
	if ((rc = add_filters(&where, &pool, o, meta_keys)) < 0)
		goto out;
	if (where.overflow) {
		rc = eakte_error__set(EAKTE_EINVALID, "the search has too many filters");
		goto out;
	}

	/* Total, exact up to COUNT_CAP.  Without filters every full-text row
	 * is one document, so the full-text index alone counts (no joins). */
	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT count(*) FROM (SELECT 1");
	if (text && !has_filter(o)) {
		qb_add(&q, " FROM fts WHERE fts MATCH ?1");
		q.params[0] = fts;
		q.nparams = 1;
	} else {
		qb_add(&q, where.sql);
		memcpy(q.params, where.params, sizeof(where.params));
		q.nparams = where.nparams;
	}
	snprintf(num, sizeof(num), " LIMIT %d)", COUNT_CAP + 1);
	qb_add(&q, num);
	if (sqlite3_prepare_v2(db, q.sql, -1, &st, NULL) != SQLITE_OK || bind_all(st, &q) < 0) {
		rc = sql_fail(db, "preparing the search");
		goto out;
	}
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = sql_fail(db, "counting matches");
		goto out;
	}
	total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	/* Relevance ranks the newest RANK_WINDOW matches only. */
	if (strcmp(sort, "relevance") == 0 && total > RANK_WINDOW) {
		memset(&q, 0, sizeof(q));
		qb_add(&q, "SELECT f.rowid");
		qb_add(&q, where.sql);
		snprintf(num, sizeof(num), " ORDER BY f.rowid DESC LIMIT 1 OFFSET %d", RANK_WINDOW - 1);
		qb_add(&q, num);
		memcpy(q.params, where.params, sizeof(where.params));
		q.nparams = where.nparams;
		if (sqlite3_prepare_v2(db, q.sql, -1, &st, NULL) != SQLITE_OK || bind_all(st, &q) < 0) {
			rc = sql_fail(db, "preparing the search");
			goto out;
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			cutoff = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}

	memset(&q, 0, sizeof(q));
	qb_add(&q, "SELECT d.uuid, d.latest, a.az, d.vorgang, d.title, d.filename, d.mime, d.date, d.filed_at, d.size, ");
	qb_add(&q, text ? "snippet(fts, -1, '[', ']', ' … ', 12)" : "''");
	qb_add(&q, where.sql);
	if (cutoff >= 0) {
		snprintf(num, sizeof(num), " AND f.rowid >= %" PRId64, cutoff);
		qb_add(&q, num);
	}
	if (strcmp(sort, "relevance") == 0)
		qb_add(&q, " ORDER BY bm25(fts, 10.0, 5.0, 5.0, 1.0), f.rowid DESC");
	else if (text)
		qb_add(&q, strcmp(sort, "oldest") == 0 ? " ORDER BY f.rowid ASC" : " ORDER BY f.rowid DESC");
	else
		qb_add(&q, strcmp(sort, "oldest") == 0 ? " ORDER BY d.ftsrow ASC" : " ORDER BY d.ftsrow DESC");
	snprintf(num, sizeof(num), " LIMIT %zu OFFSET %zu", limit, o->offset);
	qb_add(&q, num);
	memcpy(q.params, where.params, sizeof(where.params));
	q.nparams = where.nparams;
	if (q.overflow) {
		rc = eakte_error__set(EAKTE_EINVALID, "the search has too many filters");
		goto out;
	}
	if (sqlite3_prepare_v2(db, q.sql, -1, &st, NULL) != SQLITE_OK || bind_all(st, &q) < 0) {
		rc = sql_fail(db, "preparing the search");
		goto out;
	}
	res = json_object();
	hits = json_array();
	if (res == NULL || hits == NULL) {
		rc = eakte_error__oom("building search results");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		char snip[2048];
		json_t *h = json_object();
		if (h == NULL ||
		    json_object_set_new(h, "id", json_string((const char *)sqlite3_column_text(st, 0))) < 0 ||
		    json_object_set_new(h, "version", json_integer(sqlite3_column_int64(st, 1))) < 0 ||
		    json_object_set_new(h, "akte", json_string((const char *)sqlite3_column_text(st, 2))) < 0 ||
		    (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		     json_object_set_new(h, "vorgang", json_integer(sqlite3_column_int64(st, 3))) < 0) ||
		    json_object_set_new(h, "title", json_string((const char *)sqlite3_column_text(st, 4))) < 0 ||
		    json_object_set_new(h, "filename", json_string((const char *)sqlite3_column_text(st, 5))) < 0 ||
		    json_object_set_new(h, "mime", json_string((const char *)sqlite3_column_text(st, 6))) < 0 ||
		    json_object_set_new(h, "date", json_string((const char *)sqlite3_column_text(st, 7))) < 0 ||
		    json_object_set_new(h, "filed_at", json_string((const char *)sqlite3_column_text(st, 8))) < 0 ||
		    json_object_set_new(h, "size", json_integer(sqlite3_column_int64(st, 9))) < 0 ||
		    json_object_set_new(h, "snippet", json_string(one_line(snip, sizeof(snip),
			    (const char *)sqlite3_column_text(st, 10)))) < 0 ||
		    json_array_append_new(hits, h) < 0) {
			json_decref(h);
			rc = eakte_error__oom("building search results");
			goto out;
		}
	}
	if (src != SQLITE_DONE) {
		rc = sql_fail(db, "searching");
		goto out;
	}
	if (json_object_set_new(res, "schema", json_string("eakte.search/1")) < 0 ||
	    json_object_set_new(res, "total", json_integer(total > COUNT_CAP ? COUNT_CAP : total)) < 0 ||
	    json_object_set_new(res, "total_exact", json_boolean(total <= COUNT_CAP)) < 0 ||
	    json_object_set_new(res, "sort", json_string(sort)) < 0 ||
	    json_object_set_new(res, "ranked_window", cutoff >= 0 ? json_integer(RANK_WINDOW) : json_null()) < 0 ||
	    json_object_set_new(res, "limit", json_integer((json_int_t)limit)) < 0 ||
	    json_object_set_new(res, "offset", json_integer((json_int_t)o->offset)) < 0 ||
	    json_object_set(res, "hits", hits) < 0) {
		rc = eakte_error__oom("building search results");
		goto out;
	}
	rc = eakte_cjson__dump(out, NULL, res);
out:
	sqlite3_finalize(st);
	json_decref(res);
	json_decref(hits);
	pool_free(&pool);
	free(fts);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Listings                                                            */
/* ------------------------------------------------------------------ */

/* Run sql with text parameters and turn each row into a JSON object with
 * the given member names (column types decide: integer, text or null). */
static int rows_json(json_t **out, sqlite3 *db, const char *sql, const char *const *names, int ncols,
	const char *p1, const char *p2)
{
	sqlite3_stmt *st;

	*out = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, "preparing a listing");
	if (p1)
		sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	if (p2)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
	return eakte_index__rows_json(out, st, names, ncols, NULL);
}

/* retention -1 is shown as "unbefristet". */
static void fix_retention(json_t *arr)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		json_t *r = json_object_get(o, "retention");
		if (json_is_integer(r) && json_integer_value(r) < 0)
			json_object_set_new(o, "retention", json_string("unbefristet"));
	}
}

static int dump_obj(char **out, json_t *o)
{
	int rc = eakte_cjson__dump(out, NULL, o);
	json_decref(o);
	return rc;
}

int eakte_plan_json(char **out, eakte_archive *a, const char *code)
{
	static const char *const cols[] = { "code", "title", "parent", "retention", "value", "akten" };
	eakte_index *ix;
	json_t *entries, *res;
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if (code == NULL) {
		rc = rows_json(&entries, eakte_index__db(ix),
			"SELECT p.code, p.title, p.parent, p.retention, p.value, "
			"(SELECT count(*) FROM akte a WHERE a.plan = p.code) FROM plan p ORDER BY p.code",
			cols, 6, NULL, NULL);
		if (rc < 0)
			return rc;
		fix_retention(entries);
		res = json_pack("{s:s, s:o}", "schema", "eakte.plan/1", "entries", entries);
		return res ? dump_obj(out, res) : eakte_error__oom("listing the Aktenplan");
	}
	{
		static const char *const acols[] = { "az", "title", "closed_on" };
		json_t *children, *akten, *entry;
		rc = rows_json(&entries, eakte_index__db(ix),
			"SELECT p.code, p.title, p.parent, p.retention, p.value, "
			"(SELECT count(*) FROM akte a WHERE a.plan = p.code) FROM plan p WHERE p.code = ?1",
			cols, 6, code, NULL);
		if (rc < 0)
			return rc;
		if (json_array_size(entries) == 0) {
			json_decref(entries);
			return eakte_error__set(EAKTE_ENOTFOUND, "Aktenplan code %s does not exist; see `eakte plan ls`", code);
		}
		fix_retention(entries);
		entry = json_incref(json_array_get(entries, 0));
		json_decref(entries);
		if ((rc = rows_json(&children, eakte_index__db(ix),
			     "SELECT p.code, p.title, p.parent, p.retention, p.value, "
			     "(SELECT count(*) FROM akte a WHERE a.plan = p.code) FROM plan p WHERE p.parent = ?1 ORDER BY p.code",
			     cols, 6, code, NULL)) < 0) {
			json_decref(entry);
			return rc;
		}
		fix_retention(children);
		if ((rc = rows_json(&akten, eakte_index__db(ix),
			     "SELECT az, title, closed_on FROM akte WHERE plan = ?1 ORDER BY az", acols, 3, code, NULL)) < 0) {
			json_decref(entry);
			json_decref(children);
			return rc;
		}
		if (json_object_set_new(entry, "children", children) < 0 || json_object_set_new(entry, "akten_list", akten) < 0 ||
		    json_object_set_new(entry, "schema", json_string("eakte.plan-entry/1")) < 0) {
			json_decref(entry);
			return eakte_error__oom("showing a plan entry");
		}
		return dump_obj(out, entry);
	}
}

int eakte_akte_json(char **out, eakte_archive *a, const char *az)
{
	static const char *const cols[] = { "az", "plan", "plan_title", "title", "created_at", "created_seq", "actor",
		"closed_on", "retention", "value" };
	static const char *const vcols[] = { "vorgang", "title", "documents" };
	static const char *const dcols[] = { "id", "version", "vorgang", "title", "filename", "mime", "date", "size" };
	eakte_index *ix;
	json_t *rows, *akte, *vs, *ds;
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if ((rc = rows_json(&rows, eakte_index__db(ix),
		     "SELECT a.az, a.plan, p.title, a.title, a.created_at, a.created_seq, a.actor, a.closed_on, "
		     "p.retention, p.value FROM akte a LEFT JOIN plan p ON p.code = a.plan WHERE a.az = ?1",
		     cols, 10, az, NULL)) < 0)
		return rc;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return eakte_error__set(EAKTE_ENOTFOUND, "Akte %s does not exist; see `eakte akte ls`", az);
	}
	fix_retention(rows);
	akte = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if ((rc = rows_json(&vs, eakte_index__db(ix),
		     "SELECT v.n, v.title, (SELECT count(*) FROM doc d WHERE d.akte_id = v.akte_id AND d.vorgang = v.n) "
		     "FROM vorgang v JOIN akte a ON a.id = v.akte_id WHERE a.az = ?1 ORDER BY v.n", vcols, 3, az, NULL)) < 0) {
		json_decref(akte);
		return rc;
	}
	if ((rc = rows_json(&ds, eakte_index__db(ix),
		     "SELECT d.uuid, d.latest, d.vorgang, d.title, d.filename, d.mime, d.date, d.size "
		     "FROM doc d JOIN akte a ON a.id = d.akte_id WHERE a.az = ?1 ORDER BY d.ftsrow", dcols, 8, az, NULL)) < 0) {
		json_decref(akte);
		json_decref(vs);
		return rc;
	}
	if ((rc = eakte_life__akte_json(eakte_index__db(ix), az, akte)) < 0) {
		json_decref(akte);
		json_decref(vs);
		json_decref(ds);
		return rc;
	}
	if (json_object_set_new(akte, "vorgaenge", vs) < 0 || json_object_set_new(akte, "documents", ds) < 0 ||
	    json_object_set_new(akte, "schema", json_string("eakte.akte/1")) < 0) {
		json_decref(akte);
		return eakte_error__oom("showing an Akte");
	}
	return dump_obj(out, akte);
}

int eakte_akte_list_json(char **out, eakte_archive *a, const char *plan, int state)
{
	static const char *const cols[] = { "az", "plan", "title", "created_at", "closed_on", "documents" };
	eakte_index *ix;
	json_t *rows, *res;
	char sql[512];
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if (plan != NULL && (rc = eakte_index__plan_exists(ix, plan)) <= 0)
		return rc < 0 ? rc : eakte_error__set(EAKTE_ENOTFOUND, "Aktenplan code %s does not exist; see `eakte plan ls`", plan);
	/* A code includes its sub-codes ('/' sorts right after '.'). */
	snprintf(sql, sizeof(sql),
		"SELECT a.az, a.plan, a.title, a.created_at, a.closed_on, "
		"(SELECT count(*) FROM doc d WHERE d.akte_id = a.id) FROM akte a "
		"WHERE (?1 IS NULL OR a.plan = ?1 OR (a.plan >= ?1 || '.' AND a.plan < ?1 || '/')) %s "
		"ORDER BY a.az",
		state == 1 ? "AND a.closed_on IS NULL" : state == 2 ? "AND a.closed_on IS NOT NULL" : "");
	if ((rc = rows_json(&rows, eakte_index__db(ix), sql, cols, 6, plan, NULL)) < 0)
		return rc;
	res = json_pack("{s:s, s:o}", "schema", "eakte.akten/1", "akten", rows);
	return res ? dump_obj(out, res) : eakte_error__oom("listing Akten");
}

int eakte_tree_json(char **out, eakte_archive *a)
{
	static const char *const pcols[] = { "code", "title", "parent", "retention", "value" };
	static const char *const acols[] = { "az", "plan", "title", "closed_on", "documents", "vorgaenge" };
	eakte_index *ix;
	json_t *plan, *akten, *res;
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if ((rc = rows_json(&plan, eakte_index__db(ix),
		     "SELECT code, title, parent, retention, value FROM plan ORDER BY code", pcols, 5, NULL, NULL)) < 0)
		return rc;
	fix_retention(plan);
	if ((rc = rows_json(&akten, eakte_index__db(ix),
		     "SELECT a.az, a.plan, a.title, a.closed_on, (SELECT count(*) FROM doc d WHERE d.akte_id = a.id), "
		     "(SELECT count(*) FROM vorgang v WHERE v.akte_id = a.id) FROM akte a ORDER BY a.plan, a.az",
		     acols, 6, NULL, NULL)) < 0) {
		json_decref(plan);
		return rc;
	}
	res = json_pack("{s:s, s:o, s:o}", "schema", "eakte.tree/1", "plan", plan, "akten", akten);
	return res ? dump_obj(out, res) : eakte_error__oom("listing the tree");
}

int eakte_doc_history_json(char **out, eakte_archive *a, const char *doc)
{
	eakte_index *ix;
	sqlite3_stmt *st;
	json_t *events, *res;
	int rc, src;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0 || (rc = eakte_journal__load_index(a)) < 0)
		return rc;
	if (sqlite3_prepare_v2(eakte_index__db(ix),
		    "SELECT e.seq FROM doc_event e JOIN doc d ON d.id = e.doc_id WHERE d.uuid = ?1 ORDER BY e.seq",
		    -1, &st, NULL) != SQLITE_OK)
		return sql_fail(eakte_index__db(ix), "reading the history");
	sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
	events = json_array();
	if (events == NULL) {
		sqlite3_finalize(st);
		return eakte_error__oom("reading the history");
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		eakte_jcommit c;
		json_t *ev = NULL;
		if (seq >= a->index_len) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "index drift: event %" PRIu64 " is not in the journal; run `eakte reindex`", seq);
			break;
		}
		if ((rc = eakte_journal__read_commit(&c, a, &a->commits[seq])) < 0)
			break;
		if (c.json == NULL || eakte_cjson__parse(&ev, c.json, c.len, EAKTE_EVENT_MAX) < 0 ||
		    json_array_append_new(events, ev) < 0) {
			eakte_journal__jcommit_free(&c);
			rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " cannot be read; run `eakte verify`", seq);
			break;
		}
		eakte_journal__jcommit_free(&c);
	}
	sqlite3_finalize(st);
	if (rc == 0 && src != SQLITE_DONE)
		rc = sql_fail(eakte_index__db(ix), "reading the history");
	if (rc == 0 && json_array_size(events) == 0)
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s is not in the archive", doc);
	if (rc < 0) {
		json_decref(events);
		return rc;
	}
	res = json_pack("{s:s, s:s, s:o}", "schema", "eakte.history/1", "id", doc, "events", events);
	return res ? dump_obj(out, res) : eakte_error__oom("reading the history");
}

int eakte_doc_index_json(char **out, eakte_archive *a, const char *doc)
{
	static const char *const vcols[] = { "version", "seq", "time", "actor", "sha256", "size", "mime" };
	static const char *const dcols[] = { "vorgang", "text_status", "text_reason", "date" };
	eakte_index *ix;
	json_t *vs, *ds, *res;
	int rc;

	*out = NULL;
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	if ((rc = rows_json(&ds, eakte_index__db(ix),
		     "SELECT vorgang, text_status, text_reason, date FROM doc WHERE uuid = ?1", dcols, 4, doc, NULL)) < 0)
		return rc;
	if (json_array_size(ds) == 0) {
		json_decref(ds);
		return eakte_error__set(EAKTE_ENOTFOUND, "document %s is not in the index; run `eakte reindex` if `eakte show` finds it", doc);
	}
	if ((rc = rows_json(&vs, eakte_index__db(ix),
		     "SELECT v.version, v.seq, v.time, v.actor, v.sha256, v.size, v.mime FROM version v "
		     "JOIN doc d ON d.id = v.doc_id WHERE d.uuid = ?1 ORDER BY v.version", vcols, 7, doc, NULL)) < 0) {
		json_decref(ds);
		return rc;
	}
	res = json_incref(json_array_get(ds, 0));
	json_decref(ds);
	if (json_object_set_new(res, "versions", vs) < 0) {
		json_decref(res);
		return eakte_error__oom("reading the index");
	}
	return dump_obj(out, res);
}

int eakte_doc_find_content(char id_out[EAKTE_ID_LEN + 1], eakte_archive *a, const char *az, const char *sha256_hex)
{
	eakte_index *ix;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, src;

	id_out[0] = '\0';
	if (az == NULL || sha256_hex == NULL || strlen(sha256_hex) != EAKTE_HASH_HEX_LEN)
		return eakte_error__set(EAKTE_EINVALID, "looking for content needs an Aktenzeichen and a SHA-256 in hex");
	if ((rc = eakte_search__reader_index(&ix, a)) < 0)
		return rc;
	db = eakte_index__db(ix);
	/* Any version of any document of the Akte with these bytes. */
	if (sqlite3_prepare_v2(db, "SELECT d.uuid FROM doc d JOIN akte k ON k.id = d.akte_id "
			       "JOIN version v ON v.doc_id = d.id WHERE k.az = ?1 AND v.sha256 = ?2 "
			       "ORDER BY d.id LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, "looking for content");
	sqlite3_bind_text(st, 1, az, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256_hex, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		snprintf(id_out, EAKTE_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 1;
	} else if (src == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sql_fail(db, "looking for content");
	}
	sqlite3_finalize(st);
	return rc;
}
