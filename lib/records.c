/*
 * records.c - the records structure: Aktenplan import, Akten, Vorgänge,
 * zdA and reopening, metadata changes.  Each change is one journal event;
 * descriptive text (titles, metadata) goes into a salted metadata object
 * named by hash, like a document's metadata (docs/format.md).
 *
 * Every operation checks against the index (caught up under the writer
 * lock, so it reflects the whole journal) before it writes, and brings the
 * index up to date after the journal commit.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "index.h"
#include "journal.h"
#include "life.h"
#include "plan.h"
#include "records.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAX_AZ 256

int eakte_records__check_text(const char *what, const char *s, size_t max, int multiline)
{
	size_t i, n = strlen(s);
	json_t *probe;

	if (n > max)
		return eakte_error__set(EAKTE_EINVALID, "%s is %zu bytes long, the limit is %zu", what, n, max);
	probe = json_stringn(s, n);
	if (probe == NULL)
		return eakte_error__set(EAKTE_EINVALID, "%s is not valid UTF-8", what);
	json_decref(probe);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
			return eakte_error__set(EAKTE_EINVALID, "%s contains a control character (byte %zu)", what, i);
	}
	return 0;
}

int eakte_records__check_az(const char *az)
{
	size_t n;
	int rc;

	if (az == NULL || az[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "no Aktenzeichen given");
	if ((rc = eakte_records__check_text("the Aktenzeichen", az, MAX_AZ, 0)) < 0)
		return rc;
	n = strlen(az);
	if (az[0] == ' ' || az[n - 1] == ' ' || strchr(az, '*') != NULL)
		return eakte_error__set(EAKTE_EINVALID,
			"Aktenzeichen \"%s\" may not start or end with a space or contain '*'", az);
	return 0;
}

/* The index, caught up, for a write. */
static int writer_index(eakte_index **ix, eakte_archive *a)
{
	if (a == NULL || a->lock_fd < 0 || a->key == NULL)
		return eakte_error__set(EAKTE_EINVALID, "this needs the archive opened for writing");
	return eakte_index__for_writer(ix, a);
}

int eakte_records__put_meta(json_t **ref_out, eakte_archive *a, json_t *obj)
{
	uint8_t salt[16], sha[EAKTE_HASH_LEN];
	char salt64[32], sha_hex[EAKTE_HASH_HEX_LEN + 1], oid_hex[GIT_OID_HEXSZ + 1], *buf = NULL;
	size_t len;
	git_oid oid;
	json_t *ref = NULL;
	int rc;

	*ref_out = NULL;
	/* The salt makes the hash in the journal reveal nothing about the values. */
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return eakte_error__set(EAKTE_EIO, "cannot get random bytes for the metadata salt");
	eakte_base64__encode_to(salt64, salt, sizeof(salt));
	if (json_object_set_new(obj, "salt", json_string(salt64)) < 0 ||
	    json_object_set_new(obj, "v", json_integer(1)) < 0)
		return eakte_error__oom("building a metadata object");
	if ((rc = eakte_cjson__dump(&buf, &len, obj)) < 0)
		return rc;
	if ((rc = eakte_txnodb__put(a->txnodb, &oid, buf, len, GIT_OBJECT_BLOB)) < 0)
		goto out;
	if ((rc = eakte_sha256__buf(sha, buf, len)) < 0)
		goto out;
	eakte_hex__encode(sha_hex, sha, EAKTE_HASH_LEN);
	git_oid_tostr(oid_hex, sizeof(oid_hex), &oid);
	ref = json_object();
	if (ref == NULL || json_object_set_new(ref, "sha256", json_string(sha_hex)) < 0 ||
	    json_object_set_new(ref, "oid", json_string(oid_hex)) < 0) {
		json_decref(ref);
		rc = eakte_error__oom("building a metadata reference");
		goto out;
	}
	*ref_out = ref;
out:
	free(buf);
	return rc;
}

int eakte_records__after_commit(eakte_archive *a)
{
	int rc;

	/* The events are durable; an index that cannot follow now catches up
	 * on the next open, so this is a warning, not a failure. */
	if (a->index == NULL)
		return 0;
	rc = eakte_index__catch_up(a->index, a);
	if (rc < 0) {
		snprintf(a->warning, sizeof(a->warning),
			"the index was not updated (%s); it catches up on the next open", eakte_error_last());
		eakte_index__close(a->index);
		a->index = NULL;
	}
	return 0;
}

/* Append one event in its own transaction and update the index. */
int eakte_records__commit_event(eakte_archive *a, json_t *ev, const char *actor, uint64_t *seq)
{
	eakte_txn *t = NULL;
	int rc;

	if (actor != NULL) {
		if ((rc = eakte_records__check_text("the actor", actor, 255, 0)) < 0)
			return rc;
		if (json_object_set_new(ev, "actor", json_string(actor)) < 0)
			return eakte_error__oom("building an event");
	}
	if ((rc = eakte_txn__begin(&t, a)) < 0)
		return rc;
	rc = eakte_txn__append(t, ev, seq);
	if (rc == 0)
		rc = eakte_txn__commit(t);
	eakte_txn__free(t);
	if (rc < 0)
		return rc;
	return eakte_records__after_commit(a);
}

/* ------------------------------------------------------------------ */
/* Aktenplan                                                           */
/* ------------------------------------------------------------------ */

static int plan_known(const char *code, void *ctx)
{
	/* 1 known, 0 unknown, negative: an index error, passed up unchanged */
	return eakte_index__plan_exists(ctx, code);
}

int eakte_plan_import(eakte_archive *a, const char *buf, size_t len, const char *name, const char *actor,
	size_t *count)
{
	eakte_index *ix;
	eakte_plan plan;
	json_t *ev = NULL, *entries = NULL;
	int rc;

	if (count != NULL)
		*count = 0;
	if ((rc = writer_index(&ix, a)) < 0)
		return rc;
	if ((rc = eakte_plan__parse(&plan, buf, len, name ? name : "the Aktenplan")) < 0)
		return rc;
	if ((rc = eakte_plan__check(&plan, plan_known, ix, name ? name : "the Aktenplan")) < 0 ||
	    (rc = eakte_plan__to_json(&entries, &plan)) < 0)
		goto out;
	ev = json_object();
	if (ev == NULL || json_object_set_new(ev, "action", json_string("plan")) < 0 ||
	    json_object_set(ev, "entries", entries) < 0) {
		rc = eakte_error__oom("building a plan event");
		goto out;
	}
	if ((rc = eakte_records__commit_event(a, ev, actor, NULL)) < 0)
		goto out;
	if (count != NULL)
		*count = plan.count;
out:
	json_decref(ev);
	json_decref(entries);
	eakte_plan__free(&plan);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Akten and Vorgänge                                                  */
/* ------------------------------------------------------------------ */

static int local_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

int eakte_akte_create(eakte_archive *a, const eakte_akte_options *o, char **az_out)
{
	eakte_index *ix;
	eakte_index_akte existing;
	char az[MAX_AZ + 1];
	json_t *ev = NULL, *meta = NULL, *ref = NULL;
	int rc;

	*az_out = NULL;
	if (o == NULL || o->version != EAKTE_AKTE_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_akte_options missing or of an unsupported version");
	if (o->plan == NULL || o->plan[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "no Aktenplan code given (--plan CODE); every Akte belongs to the Aktenplan");
	if ((rc = writer_index(&ix, a)) < 0)
		return rc;
	if ((rc = eakte_index__plan_exists(ix, o->plan)) < 0)
		return rc;
	if (rc == 0)
		return eakte_error__set(EAKTE_ENOTFOUND, "Aktenplan code %s does not exist; see `eakte plan ls` or import it with `eakte plan import`",
			o->plan);
	if (o->title != NULL && (rc = eakte_records__check_text("the title", o->title, EAKTE_MAX_TITLE, 0)) < 0)
		return rc;
	if (o->az != NULL) {
		if ((rc = eakte_records__check_az(o->az)) < 0)
			return rc;
		snprintf(az, sizeof(az), "%s", o->az);
	} else {
		int64_t serial;
		int year = local_year();
		if ((rc = eakte_index__serial_next(&serial, ix, o->plan, year)) < 0)
			return rc;
		/* A hand-given Aktenzeichen of this form under another plan code
		 * is not in the serial counter: step over it. */
		for (int tries = 0; ; tries++) {
			snprintf(az, sizeof(az), "%s-%d/%04" PRId64, o->plan, year, serial);
			rc = eakte_index__akte(&existing, ix, az);
			if (rc == EAKTE_ENOTFOUND)
				break;
			if (rc < 0)
				return rc;
			if (tries == 100000)
				return eakte_error__set(EAKTE_EEXISTS, "no free serial for %s in %d", o->plan, year);
			serial++;
		}
	}
	rc = eakte_index__akte(&existing, ix, az);
	if (rc == 0)
		return eakte_error__set(EAKTE_EEXISTS, "Akte %s exists already", az);
	if (rc != EAKTE_ENOTFOUND)
		return rc;
	eakte_error__clear();
	meta = json_object();
	ev = json_object();
	if (meta == NULL || ev == NULL || json_object_set_new(meta, "akte", json_string(az)) < 0 ||
	    json_object_set_new(meta, "title", json_string(o->title ? o->title : "")) < 0) {
		rc = eakte_error__oom("building an Akte");
		goto out;
	}
	if ((rc = eakte_records__put_meta(&ref, a, meta)) < 0)
		goto out;
	if (json_object_set_new(ev, "action", json_string("akte-create")) < 0 ||
	    json_object_set_new(ev, "akte", json_string(az)) < 0 ||
	    json_object_set_new(ev, "plan", json_string(o->plan)) < 0 ||
	    json_object_set(ev, "meta", ref) < 0) {
		rc = eakte_error__oom("building an akte-create event");
		goto out;
	}
	if ((rc = eakte_records__commit_event(a, ev, o->actor, NULL)) < 0)
		goto out;
	*az_out = strdup(az);
	if (*az_out == NULL)
		rc = eakte_error__oom("returning the Aktenzeichen");
out:
	if (rc < 0)
		eakte_txnodb__reset(a->txnodb);
	json_decref(ev);
	json_decref(meta);
	json_decref(ref);
	return rc;
}

int eakte_vorgang_create(eakte_archive *a, const char *az, const char *title, const char *actor, int64_t *n_out)
{
	eakte_index *ix;
	eakte_index_akte akte;
	int64_t n;
	json_t *ev = NULL, *meta = NULL, *ref = NULL;
	int rc;

	if (n_out != NULL)
		*n_out = 0;
	if ((rc = writer_index(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0)
		return rc;
	if (title != NULL && (rc = eakte_records__check_text("the title", title, EAKTE_MAX_TITLE, 0)) < 0)
		return rc;
	if ((rc = eakte_index__akte(&akte, ix, az)) < 0 ||
	    (rc = eakte_life__refuse_disposed(ix, az, "nothing can be added to it")) < 0)
		return rc;
	if (akte.closed)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was closed (zdA) on %s; reopen it with `eakte akte reopen %s` first",
			az, akte.closed_on, az);
	if ((rc = eakte_index__vorgang_next(&n, ix, akte.id)) < 0)
		return rc;
	meta = json_object();
	ev = json_object();
	if (meta == NULL || ev == NULL || json_object_set_new(meta, "akte", json_string(az)) < 0 ||
	    json_object_set_new(meta, "vorgang", json_integer(n)) < 0 ||
	    json_object_set_new(meta, "title", json_string(title ? title : "")) < 0) {
		rc = eakte_error__oom("building a Vorgang");
		goto out;
	}
	if ((rc = eakte_records__put_meta(&ref, a, meta)) < 0)
		goto out;
	if (json_object_set_new(ev, "action", json_string("vorgang-create")) < 0 ||
	    json_object_set_new(ev, "akte", json_string(az)) < 0 ||
	    json_object_set_new(ev, "vorgang", json_integer(n)) < 0 ||
	    json_object_set(ev, "meta", ref) < 0) {
		rc = eakte_error__oom("building a vorgang-create event");
		goto out;
	}
	if ((rc = eakte_records__commit_event(a, ev, actor, NULL)) == 0 && n_out != NULL)
		*n_out = n;
out:
	if (rc < 0)
		eakte_txnodb__reset(a->txnodb);
	json_decref(ev);
	json_decref(meta);
	json_decref(ref);
	return rc;
}

static int valid_date(const char *d)
{
	struct tm tm;
	char *end;
	char back[11];

	if (d == NULL || strlen(d) != 10)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(d, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	/* strptime accepts 2026-02-31; a round trip through timegm does not. */
	{
		time_t t = timegm(&tm);
		struct tm n;
		gmtime_r(&t, &n);
		strftime(back, sizeof(back), "%Y-%m-%d", &n);
	}
	return strcmp(back, d) == 0;
}

int eakte_akte_close(eakte_archive *a, const char *az, const char *date, const char *actor)
{
	eakte_index *ix;
	eakte_index_akte akte;
	char today[11];
	json_t *ev;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if ((rc = writer_index(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0 ||
	    (rc = eakte_index__akte(&akte, ix, az)) < 0)
		return rc;
	localtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (date == NULL)
		date = today;
	if (!valid_date(date))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a date of the form YYYY-MM-DD", date);
	if (strcmp(date, today) > 0)
		return eakte_error__set(EAKTE_EINVALID, "the zdA date %s is in the future", date);
	if (akte.closed)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was already closed (zdA) on %s", az, akte.closed_on);
	/* A date before the Akte was created in eakte is allowed: paper files
	 * taken over from before the eAkte were closed when they were. */
	ev = json_object();
	if (ev == NULL || json_object_set_new(ev, "action", json_string("akte-close")) < 0 ||
	    json_object_set_new(ev, "akte", json_string(az)) < 0 ||
	    json_object_set_new(ev, "date", json_string(date)) < 0) {
		json_decref(ev);
		return eakte_error__oom("building an akte-close event");
	}
	rc = eakte_records__commit_event(a, ev, actor, NULL);
	json_decref(ev);
	return rc;
}

int eakte_akte_reopen(eakte_archive *a, const char *az, const char *actor)
{
	eakte_index *ix;
	eakte_index_akte akte;
	json_t *ev;
	int rc;

	if ((rc = writer_index(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0 ||
	    (rc = eakte_index__akte(&akte, ix, az)) < 0)
		return rc;
	if ((rc = eakte_life__refuse_disposed(ix, az, "it cannot be reopened")) < 0)
		return rc;
	if (!akte.closed)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s is open; only a closed Akte can be reopened", az);
	ev = json_object();
	if (ev == NULL || json_object_set_new(ev, "action", json_string("akte-reopen")) < 0 ||
	    json_object_set_new(ev, "akte", json_string(az)) < 0) {
		json_decref(ev);
		return eakte_error__oom("building an akte-reopen event");
	}
	rc = eakte_records__commit_event(a, ev, actor, NULL);
	json_decref(ev);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */
/* ------------------------------------------------------------------ */

int eakte_journal_refusal(eakte_archive *a, const char *actor, const char *op, const char *reason)
{
	json_t *ev;
	int rc;

	if (a == NULL || a->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "recording a refusal needs the archive opened for writing");
	if ((rc = eakte_records__check_text("the refused operation", op, 64, 0)) < 0 ||
	    (rc = eakte_records__check_text("the reason", reason, 1024, 0)) < 0)
		return rc;
	ev = json_pack("{s:s, s:s, s:s}", "action", "refused", "op", op, "reason", reason);
	if (ev == NULL)
		return eakte_error__oom("building a refused event");
	rc = eakte_records__commit_event(a, ev, actor, NULL);
	json_decref(ev);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Metadata changes                                                    */
/* ------------------------------------------------------------------ */

int eakte_records__valid_key(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > EAKTE_MAX_META_KEY)
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int eakte_records__check_unique_keys(const char *const *items, size_t count)
{
	/* Within one call a key given twice is a mistake, not an update. */
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < i; j++) {
			const char *a = items[i], *b = items[j];
			size_t la, lb;
			if (a == NULL || b == NULL)
				continue;
			la = strcspn(a, "=");
			lb = strcspn(b, "=");
			if (la == lb && memcmp(a, b, la) == 0)
				return eakte_error__set(EAKTE_EINVALID, "metadata key %.*s is given twice", (int)la, a);
		}
	}
	return 0;
}

int eakte_records__apply_kv(json_t *kv, const char *const *items, size_t count, int allow_remove)
{
	size_t i;
	int rc;

	if (count > EAKTE_MAX_META_COUNT)
		return eakte_error__set(EAKTE_EINVALID, "%zu metadata entries given, the limit is %d", count,
			EAKTE_MAX_META_COUNT);
	for (i = 0; i < count; i++) {
		const char *s = items[i], *eq = s ? strchr(s, '=') : NULL;
		char key[EAKTE_MAX_META_KEY + 1], what[EAKTE_MAX_META_KEY + 32];

		if (eq == NULL || !eakte_records__valid_key(s, (size_t)(eq - s)))
			return eakte_error__set(EAKTE_EINVALID,
				"metadata \"%.40s\" is not KEY=VALUE with a KEY of 1-128 characters A-Z a-z 0-9 _ - .",
				s ? s : "(null)");
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = '\0';
		snprintf(what, sizeof(what), "metadata value of %s", key);
		if ((rc = eakte_records__check_text(what, eq + 1, EAKTE_MAX_META_VALUE, 1)) < 0)
			return rc;
		if (eq[1] == '\0' && allow_remove) {
			json_object_del(kv, key);
			continue;
		}
		if (json_object_set_new(kv, key, json_string(eq + 1)) < 0)
			return eakte_error__oom("building metadata");
	}
	if (json_object_size(kv) > EAKTE_MAX_META_COUNT)
		return eakte_error__set(EAKTE_EINVALID, "a document may have at most %d metadata entries",
			EAKTE_MAX_META_COUNT);
	return 0;
}

int eakte_meta_set(eakte_archive *a, const char *doc, const char *title, const char *const *items, size_t count,
	const char *actor)
{
	eakte_index *ix;
	eakte_index_doc d;
	json_t *kv = NULL, *meta = NULL, *ev = NULL, *ref = NULL;
	int rc;

	if ((rc = writer_index(&ix, a)) < 0)
		return rc;
	if (doc == NULL || !eakte_event__valid_doc_id(doc))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a document id", doc ? doc : "");
	if (count == 0 && title == NULL)
		return eakte_error__set(EAKTE_EINVALID, "nothing to change: give KEY=VALUE (KEY= removes) or --title");
	if (title != NULL && (rc = eakte_records__check_text("the title", title, EAKTE_MAX_TITLE, 0)) < 0)
		return rc;
	if ((rc = eakte_index__doc(&d, ix, doc)) < 0)
		return eakte_dispose__doc_missing(a, doc, rc);
	{
		eakte_index_akte akte;
		if ((rc = eakte_index__akte(&akte, ix, d.akte)) < 0)
			goto out;
		if (akte.closed) {
			rc = eakte_error__set(EAKTE_EPOLICY, "document %s is in Akte %s, closed (zdA) on %s; reopen it with "
				"`eakte akte reopen %s` to change metadata", doc, d.akte, akte.closed_on, d.akte);
			goto out;
		}
	}
	if ((rc = eakte_records__check_unique_keys(items, count)) < 0 ||
	    (rc = eakte_cjson__parse(&kv, d.meta, strlen(d.meta), EAKTE_EVENT_MAX * 32)) < 0)
		goto out;
	{
		json_t *before = json_deep_copy(kv);
		if (before == NULL) {
			rc = eakte_error__oom("changing metadata");
			goto out;
		}
		rc = eakte_records__apply_kv(kv, items, count, 1);
		if (rc == 0 && json_equal(before, kv) && (title == NULL || strcmp(title, d.title) == 0))
			rc = eakte_error__set(EAKTE_EINVALID, "nothing changes: document %s has this metadata already", doc);
		json_decref(before);
		if (rc < 0)
			goto out;
	}
	meta = json_object();
	ev = json_object();
	if (meta == NULL || ev == NULL || json_object_set_new(meta, "doc", json_string(doc)) < 0 ||
	    json_object_set_new(meta, "version", json_integer(d.latest)) < 0 ||
	    json_object_set_new(meta, "akte", json_string(d.akte)) < 0 ||
	    json_object_set_new(meta, "title", json_string(title ? title : d.title)) < 0 ||
	    json_object_set_new(meta, "filename", json_string(d.filename)) < 0 ||
	    json_object_set(meta, "meta", kv) < 0) {
		rc = eakte_error__oom("building metadata");
		goto out;
	}
	if ((rc = eakte_records__put_meta(&ref, a, meta)) < 0)
		goto out;
	if (json_object_set_new(ev, "action", json_string("meta")) < 0 ||
	    json_object_set_new(ev, "doc", json_string(doc)) < 0 ||
	    json_object_set_new(ev, "version", json_integer(d.latest)) < 0 ||
	    json_object_set(ev, "meta", ref) < 0) {
		rc = eakte_error__oom("building a meta event");
		goto out;
	}
	rc = eakte_records__commit_event(a, ev, actor, NULL);
out:
	if (rc < 0 && a->txnodb != NULL)
		eakte_txnodb__reset(a->txnodb);
	eakte_index__doc_free(&d);
	json_decref(kv);
	json_decref(meta);
	json_decref(ev);
	json_decref(ref);
	return rc;
}

int eakte_extract_pending(eakte_archive *a, size_t max)
{
	eakte_index *ix;
	int rc;

	if (a != NULL && a->lock_fd < 0) {
		if ((rc = eakte_search__reader_index(&ix, a)) < 0)
			return rc;
	} else if ((rc = writer_index(&ix, a)) < 0) {
		return rc;
	}
	if ((rc = eakte_index__extract(ix, a, max)) >= 0)
		eakte_index__warn_storage_error(a);
	return rc;
}


int eakte_reindex(eakte_archive *a)
{
	eakte_index *ix;
	int rc;

	if ((rc = writer_index(&ix, a)) < 0)
		return rc;
	if ((rc = eakte_index__clear(ix)) < 0 || (rc = eakte_index__catch_up(ix, a)) < 0)
		return eakte_error__wrap(rc, "rebuilding the index");
	rc = eakte_index__extract(ix, a, 0);
	/* The rebuild marked every disposal's removal as pending again: check
	 * it now (idempotent) rather than leave it to the next writer. */
	eakte_dispose__purge_pending(a, ix);
	return rc < 0 ? rc : 0;
}

const char *eakte_archive_warning(const eakte_archive *a)
{
	return a->warning;
}
