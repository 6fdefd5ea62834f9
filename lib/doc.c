/*
 * doc.c - looking up documents, reading their content (re-verified on the
 * way out), walking the journal, and the archive's checkpoint and key.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "journal.h"
#include "life.h"
#include "note.h"
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define META_MAX (32u << 20)

struct eakte_doc {
	char id[EAKTE_ID_LEN + 1];
	unsigned int version;
	eakte_ev event;
	eakte_ev_file refs;
	json_t *meta;              /* the metadata object */
	const char *title;
	const char *filename;
	char sha256[EAKTE_HASH_HEX_LEN + 1];
	const char **keys;         /* sorted metadata keys */
	size_t nkeys;
};

void eakte_doc_free(eakte_doc *doc)
{
	if (doc == NULL)
		return;
	eakte_event__free(&doc->event);
	json_decref(doc->meta);
	free(doc->keys);
	free(doc);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The newest version of document `id` in the state, and the seq of its
 * newest metadata change (m<seq>.event), or -1. */
static int latest_version(unsigned int *out, int64_t *meta_seq, eakte_archive *a, const char *id)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;
	char path[128];
	size_t i;
	unsigned int best = 0;
	int rc = 0, grc;

	*meta_seq = -1;
	eakte_journal__doc_dir(path, sizeof(path), id);
	if (git_commit_lookup(&c, a->repo, &a->state_commit) < 0 || git_commit_tree(&root, c) < 0) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
		goto out;
	}
	grc = git_tree_entry_bypath(&e, root, path);
	if (grc == GIT_ENOTFOUND) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s is not in the archive", id);
		goto out;
	}
	if (grc < 0 || git_tree_lookup(&sub, a->repo, git_tree_entry_id(e)) < 0) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
		goto out;
	}
	for (i = 0; i < git_tree_entrycount(sub); i++) {
		const char *name = git_tree_entry_name(git_tree_entry_byindex(sub, i));
		char *end;
		if (name[0] == 'm') {
			long long seq = strtoll(name + 1, &end, 10);
			if (strcmp(end, ".event") == 0 && seq > *meta_seq)
				*meta_seq = seq;
			continue;
		}
		unsigned long v = strtoul(name, &end, 10);
		if (strcmp(end, ".event") == 0 && v > best && v < 1000000)
			best = (unsigned int)v;
	}
	if (best == 0)
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s has no version in the archive state", id);
	if (*out == 0 || rc < 0)
		*out = best;
	else if (*out > best)
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s has no version %u (the latest is %u)", id, *out, best);
out:
	git_tree_free(sub);
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

static int read_blob(char **out, size_t *len, eakte_archive *a, const uint8_t raw[EAKTE_OID_LEN], size_t max)
{
	git_oid oid;
	git_blob *blob;

	*out = NULL;
	git_oid_fromraw(&oid, raw);
	if (git_blob_lookup(&blob, a->repo, &oid) < 0)
		return eakte_archive__git_error(EAKTE_ECORRUPT, "reading a metadata object");
	if ((size_t)git_blob_rawsize(blob) > max) {
		git_blob_free(blob);
		return eakte_error__set(EAKTE_ECORRUPT, "metadata object is larger than %zu bytes", max);
	}
	*len = (size_t)git_blob_rawsize(blob);
	*out = malloc(*len + 1);
	if (*out == NULL) {
		git_blob_free(blob);
		return eakte_error__oom("reading metadata");
	}
	memcpy(*out, git_blob_rawcontent(blob), *len);
	(*out)[*len] = '\0';
	git_blob_free(blob);
	return 0;
}

int eakte_doc_lookup(eakte_doc **out, eakte_archive *a, const char *id)
{
	return eakte_doc_lookup_version(out, a, id, 0);
}

/* Read the metadata object `path` and check it against the SHA-256 in
 * the "meta" reference of event ev. */
static int read_checked_meta(char **buf, size_t *len, eakte_archive *a, const char *path, const eakte_ev *ev,
	const char *id)
{
	uint8_t oid[EAKTE_OID_LEN], sha[EAKTE_HASH_LEN], want[EAKTE_HASH_LEN];
	const char *hex = json_string_value(json_object_get(json_object_get(ev->root, "meta"), "sha256"));
	int rc;

	if (hex == NULL || eakte_hex__decode(want, EAKTE_HASH_LEN, hex, strlen(hex)) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 " has a malformed metadata reference", ev->seq);
	if ((rc = eakte_state__entry(oid, a, path)) < 0 || (rc = read_blob(buf, len, a, oid, META_MAX)) < 0)
		return rc;
	if ((rc = eakte_sha256__buf(sha, *buf, *len)) < 0)
		return rc;
	if (memcmp(sha, want, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata of document %s does not match the SHA-256 in event %" PRIu64 "; run `eakte verify`",
			id, ev->seq);
	return 0;
}

int eakte_doc_lookup_version(eakte_doc **out, eakte_archive *a, const char *id, unsigned int version)
{
	eakte_doc *d;
	char path[256], *buf = NULL;
	size_t len;
	int64_t meta_seq;
	json_t *kv;
	const char *key;
	json_t *val;
	int rc;

	*out = NULL;
	if (id == NULL || !eakte_event__valid_doc_id(id))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a document id (36 characters, like 0192f3a4-...)",
			id ? id : "");
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return eakte_error__oom("looking up a document");
	strcpy(d->id, id);
	d->version = version;
	if ((rc = latest_version(&d->version, &meta_seq, a, id)) < 0 &&
	    (rc = eakte_dispose__doc_missing(a, id, rc)) < 0)
		goto fail;
	eakte_journal__doc_path(path, sizeof(path), id, d->version, "event");
	if ((rc = eakte_state__read(&buf, &len, a, path, EAKTE_EVENT_MAX)) < 0 ||
	    (rc = eakte_event__parse(&d->event, buf, len)) < 0 ||
	    (rc = eakte_event__file_refs(&d->refs, &d->event)) < 0)
		goto fail;
	free(buf);
	buf = NULL;
	if (meta_seq > (int64_t)d->event.seq && version == 0) {
		/* The metadata was changed after this version was filed. */
		eakte_ev mev;
		char dir[128];
		eakte_journal__doc_dir(dir, sizeof(dir), id);
		snprintf(path, sizeof(path), "%s/m%" PRId64 ".event", dir, meta_seq);
		if ((rc = eakte_state__read(&buf, &len, a, path, EAKTE_EVENT_MAX)) < 0 ||
		    (rc = eakte_event__parse(&mev, buf, len)) < 0)
			goto fail;
		free(buf);
		buf = NULL;
		snprintf(path, sizeof(path), "%s/m%" PRId64 ".meta", dir, meta_seq);
		rc = read_checked_meta(&buf, &len, a, path, &mev, id);
		eakte_event__free(&mev);
		if (rc < 0)
			goto fail;
	} else {
		eakte_journal__doc_path(path, sizeof(path), id, d->version, "meta");
		if ((rc = read_checked_meta(&buf, &len, a, path, &d->event, id)) < 0)
			goto fail;
	}
	if ((rc = eakte_cjson__parse(&d->meta, buf, len, META_MAX)) < 0 ||
	    (rc = eakte_cjson__get_string(&d->title, d->meta, "title")) < 0 ||
	    (rc = eakte_cjson__get_string(&d->filename, d->meta, "filename")) < 0)
		goto fail;
	kv = json_object_get(d->meta, "meta");
	if (!json_is_object(kv)) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "metadata of document %s has no \"meta\" object", id);
		goto fail;
	}
	d->keys = malloc((json_object_size(kv) + 1) * sizeof(*d->keys));
	if (d->keys == NULL) {
		rc = eakte_error__oom("reading metadata");
		goto fail;
	}
	json_object_foreach(kv, key, val) {
		if (json_is_string(val))
			d->keys[d->nkeys++] = key;
	}
	qsort(d->keys, d->nkeys, sizeof(*d->keys), cmp_str);
	eakte_hex__encode(d->sha256, d->refs.content_sha256, EAKTE_HASH_LEN);
	free(buf);
	*out = d;
	return 0;
fail:
	free(buf);
	eakte_doc_free(d);
	return rc;
}

const char *eakte_doc_id(const eakte_doc *d) { return d->id; }
const char *eakte_doc_akte(const eakte_doc *d) { return d->refs.akte; }
const char *eakte_doc_title(const eakte_doc *d) { return d->title; }
const char *eakte_doc_filename(const eakte_doc *d) { return d->filename; }
const char *eakte_doc_mime(const eakte_doc *d) { return d->refs.mime; }
const char *eakte_doc_sha256(const eakte_doc *d) { return d->sha256; }
uint64_t eakte_doc_size(const eakte_doc *d) { return d->refs.size; }
unsigned int eakte_doc_version(const eakte_doc *d) { return d->version; }
uint64_t eakte_doc_seq(const eakte_doc *d) { return d->event.seq; }
const char *eakte_doc_filed_at(const eakte_doc *d) { return d->event.time; }
const char *eakte_doc_actor(const eakte_doc *d) { return d->event.actor; }
size_t eakte_doc_meta_count(const eakte_doc *d) { return d->nkeys; }

int eakte_doc_meta(const eakte_doc *d, size_t i, const char **key, const char **value)
{
	if (i >= d->nkeys)
		return eakte_error__set(EAKTE_EINVALID, "metadata index %zu out of range", i);
	*key = d->keys[i];
	*value = json_string_value(json_object_get(json_object_get(d->meta, "meta"), d->keys[i]));
	return 0;
}

int eakte_doc_to_json(char **out, const eakte_doc *d)
{
	char oid[EAKTE_OID_HEX_LEN + 1];
	json_t *o = json_object();
	json_t *kv = json_deep_copy(json_object_get(d->meta, "meta"));
	int rc;

	*out = NULL;
	eakte_hex__encode(oid, d->refs.content_oid, EAKTE_OID_LEN);
	if (o == NULL || kv == NULL ||
	    json_object_set_new(o, "schema", json_string("eakte.doc/1")) < 0 ||
	    json_object_set_new(o, "id", json_string(d->id)) < 0 ||
	    json_object_set_new(o, "version", json_integer(d->version)) < 0 ||
	    json_object_set_new(o, "akte", json_string(d->refs.akte)) < 0 ||
	    json_object_set_new(o, "title", json_string(d->title)) < 0 ||
	    json_object_set_new(o, "filename", json_string(d->filename)) < 0 ||
	    json_object_set_new(o, "mime", json_string(d->refs.mime)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)d->refs.size)) < 0 ||
	    json_object_set_new(o, "sha256", json_string(d->sha256)) < 0 ||
	    json_object_set_new(o, "oid", json_string(oid)) < 0 ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)d->event.seq)) < 0 ||
	    json_object_set_new(o, "filed_at", json_string(d->event.time)) < 0 ||
	    json_object_set_new(o, "actor", json_string(d->event.actor)) < 0 ||
	    json_object_set(o, "meta", kv) < 0) {
		json_decref(o);
		json_decref(kv);
		return eakte_error__oom("encoding a document as JSON");
	}
	rc = eakte_cjson__dump(out, NULL, o);
	json_decref(o);
	json_decref(kv);
	return rc;
}

static int sink_fd(const uint8_t *buf, size_t len, void *payload)
{
	const char *p = (const char *)buf;
	int fd = *(int *)payload;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot write the document out");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int eakte_doc_read_to_fd(eakte_archive *a, const eakte_doc *d, int fd)
{
	eakte_obj_info info;
	char expected[EAKTE_HASH_HEX_LEN + 1], actual[EAKTE_HASH_HEX_LEN + 1];
	int rc;

	rc = eakte_obj__read(&info, a->objects_fd, d->refs.content_oid, sink_fd, &fd);
	if (rc == EAKTE_ENOTFOUND) {
		/* Not loose (someone repacked store.git): read through libgit2. */
		git_oid oid;
		git_blob *blob;
		git_oid_fromraw(&oid, d->refs.content_oid);
		if (git_blob_lookup(&blob, a->repo, &oid) < 0)
			return eakte_error__set(EAKTE_ECORRUPT,
				"the content of document %s (object %s) is missing from store.git; run `eakte verify`",
				d->id, git_oid_tostr_s(&oid));
		info.size = (uint64_t)git_blob_rawsize(blob);
		rc = eakte_sha256__buf(info.sha256, git_blob_rawcontent(blob), (size_t)info.size);
		if (rc == 0)
			rc = sink_fd(git_blob_rawcontent(blob), (size_t)info.size, &fd);
		git_blob_free(blob);
	}
	if (rc < 0)
		return rc;
	if (memcmp(info.sha256, d->refs.content_sha256, EAKTE_HASH_LEN) != 0 || info.size != d->refs.size) {
		eakte_hex__encode(expected, d->refs.content_sha256, EAKTE_HASH_LEN);
		eakte_hex__encode(actual, info.sha256, EAKTE_HASH_LEN);
		return eakte_error__set(EAKTE_ECORRUPT,
			"the content of document %s does not match its filing event %" PRIu64 ": SHA-256 expected=%s actual=%s",
			d->id, d->event.seq, expected, actual);
	}
	return 0;
}

int eakte_journal_foreach(eakte_archive *a, uint64_t from_seq, eakte_event_cb cb, void *payload)
{
	uint64_t i;
	int rc;

	if ((rc = eakte_journal__load_index(a)) < 0)
		return rc;
	for (i = from_seq; i < a->index_len; i++) {
		eakte_jcommit c;
		eakte_ev ev;
		eakte_event pub;
		char leaf[EAKTE_HASH_HEX_LEN + 1], commit[GIT_OID_HEXSZ + 1];

		if ((rc = eakte_journal__read_commit(&c, a, &a->commits[i])) < 0)
			return rc;
		if (c.json == NULL) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 ": %s; run `eakte verify`", i, c.problem);
			eakte_journal__jcommit_free(&c);
			return rc;
		}
		if ((rc = eakte_event__parse(&ev, c.json, c.len)) < 0) {
			eakte_journal__jcommit_free(&c);
			return eakte_error__wrap(rc, "journal event %" PRIu64, i);
		}
		eakte_hex__encode(leaf, a->leaves[i], EAKTE_HASH_LEN);
		git_oid_tostr(commit, sizeof(commit), &a->commits[i]);
		pub.seq = ev.seq;
		pub.json = c.json;
		pub.json_len = c.len;
		pub.action = ev.action;
		pub.time = ev.time;
		pub.actor = ev.actor;
		pub.subject = ev.subject;
		pub.leaf_hash = leaf;
		pub.commit = commit;
		rc = cb(&pub, payload);
		eakte_event__free(&ev);
		eakte_journal__jcommit_free(&c);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int eakte_checkpoint_latest(char **out, eakte_archive *a)
{
	size_t len;

	return eakte_state__read(out, &len, a, "checkpoint", EAKTE_NOTE_MAX);
}

int eakte_archive_verifier_key(char **out, eakte_archive *a)
{
	return eakte_note__verifier_key(out, a->origin, a->pub);
}
