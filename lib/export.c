/*
 * export.c - writing export packages (layout and validity in package.h
 * and docs/format.md "Export packages").
 *
 * A read view: the latest signed checkpoint is read first and everything
 * in the package is cut at its size, so a writer appending meanwhile
 * changes nothing in it.  The events that concern the Akte are found by
 * one pass over the journal.  The package is written member by member to
 * the descriptor through libarchive; document content is streamed from the
 * object store (re-hashed on the way, the export fails if it does not
 * match its filing event), so memory does not grow with document size.
 * The manifests come last, when every digest is known.
 *
 * This file is compiled without the implicit include directory (see
 * lib/meson.build): "archive.h" is lib/archive.h, <archive.h> libarchive's.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "fsutil.h"
#include "event.h"
#include "journal.h"
#include "merkle.h"
#include "note.h"
#include "package.h"
#include "records.h"
#include "xdomea.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROOF_CHUNK 1024   /* proofs made in one pass over the tree: 2 MiB */

typedef struct {
	uint64_t seq;
	char *json;
	size_t len;
	eakte_ev ev;
} xevent;

typedef struct {
	eakte_archive *a;
	const char *az;
	char plan[256];
	xevent *ev;
	size_t n, cap;
	json_t *docs;            /* doc id -> true, for meta events */
	int found;
	/* the package being written */
	struct archive *ar;
	int fd;
	EVP_MD_CTX *sha;
	uint64_t bytes;
	char *manifest;          /* manifest-sha256.txt being built */
	size_t mlen, mcap;
	uint64_t payload_bytes, payload_files;
	time_t now;
	int format;
	int write_errno;
	const char *recipient;   /* xdomea: the public archive's name, or NULL */
	char *tags;              /* tag files beyond BagIt's own: "sha256  name\n" lines */
	size_t tlen, tcap;
} xctx;

const char *eakte_export__format_name(int format)
{
	return format == EAKTE_PACKAGE_XDOMEA ? "xdomea" : format == EAKTE_PACKAGE_ZIP ? "bagit-zip" : "bagit-tar";
}

static int is_zip(const xctx *x)
{
	return x->format == EAKTE_PACKAGE_ZIP || x->format == EAKTE_PACKAGE_XDOMEA;
}

static void xevents_free(xctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		eakte_event__free(&x->ev[i].ev);
		free(x->ev[i].json);
	}
	free(x->ev);
	x->ev = NULL;
	x->n = x->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Which events concern the Akte                                       */
/* ------------------------------------------------------------------ */

static int plan_has_code(const eakte_ev *ev, const char *code)
{
	json_t *entries = json_object_get(ev->root, "entries"), *e;
	size_t i;

	json_array_foreach(entries, i, e) {
		const char *c = json_string_value(json_object_get(e, "code"));
		if (c != NULL && strcmp(c, code) == 0)
			return 1;
	}
	return 0;
}

static int keep_event(xctx *x, uint64_t seq, const char *json, size_t len, int *kept)
{
	eakte_ev ev;
	const char *az, *doc;
	int want = 0, rc;

	*kept = 0;
	if ((rc = eakte_event__parse(&ev, json, len)) < 0)
		return eakte_error__wrap(EAKTE_ECORRUPT, "journal event %" PRIu64, seq);
	if (strcmp(ev.action, "genesis") == 0 || strcmp(ev.action, "plan") == 0) {
		want = 1;  /* plan events are filtered once the Akte's code is known */
	} else if (strcmp(ev.action, "meta") == 0) {
		want = eakte_cjson__get_string(&doc, ev.root, "doc") == 0 && json_object_get(x->docs, doc) != NULL;
	} else if (eakte_cjson__get_string(&az, ev.root, "akte") == 0 && strcmp(az, x->az) == 0) {
		want = 1;
		if (strcmp(ev.action, "akte-create") == 0) {
			const char *plan;
			x->found = 1;
			if (eakte_cjson__get_string(&plan, ev.root, "plan") == 0)
				snprintf(x->plan, sizeof(x->plan), "%s", plan);
		}
		if (strcmp(ev.action, "file") == 0 && eakte_cjson__get_string(&doc, ev.root, "doc") == 0 &&
		    json_object_set_new(x->docs, doc, json_true()) < 0) {
			eakte_event__free(&ev);
			return eakte_error__oom("the Akte's documents");
		}
	}
	if (!want) {
		eakte_event__free(&ev);
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		xevent *ne = realloc(x->ev, cap * sizeof(*ne));
		if (ne == NULL) {
			eakte_event__free(&ev);
			return eakte_error__oom("the Akte's events");
		}
		x->ev = ne;
		x->cap = cap;
	}
	x->ev[x->n].seq = seq;
	x->ev[x->n].len = len;
	x->ev[x->n].ev = ev;
	if ((x->ev[x->n].json = malloc(len + 1)) == NULL) {
		eakte_event__free(&ev);
		return eakte_error__oom("an event");
	}
	memcpy(x->ev[x->n].json, json, len);
	x->ev[x->n].json[len] = '\0';
	x->n++;
	*kept = 1;
	return 0;
}

static int collect(xctx *x, uint64_t size)
{
	size_t w = 0;
	int rc, kept;

	for (uint64_t seq = 0; seq < size; seq++) {
		eakte_jcommit c;
		if ((rc = eakte_journal__read_commit(&c, x->a, &x->a->commits[seq])) < 0)
			return rc;
		if (c.json == NULL) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 ": %s; run `eakte verify`", seq, c.problem);
			eakte_journal__jcommit_free(&c);
			return rc;
		}
		rc = keep_event(x, seq, c.json, c.len, &kept);
		eakte_journal__jcommit_free(&c);
		if (rc < 0)
			return rc;
	}
	if (!x->found)
		return eakte_error__set(EAKTE_ENOTFOUND, "Akte %s does not exist; see `eakte akte ls`", x->az);
	/* After a disposal nothing of the records is left to export: say so,
	 * rather than report the metadata objects as missing. */
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->ev[i].ev.action, "dispose") == 0)
			return eakte_error__set(EAKTE_EPOLICY, "Akte %s was disposed of on %.10s by event %" PRIu64
				" (proposal %" PRId64 "): its documents and metadata are gone; the packages exported before are "
				"what remains (`eakte log` lists their export events)", x->az, x->ev[i].ev.time, x->ev[i].seq,
				(int64_t)json_integer_value(json_object_get(x->ev[i].ev.root, "proposal")));
	/* Only the plan events that define the Akte's code. */
	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->ev[i].ev.action, "plan") == 0 && !plan_has_code(&x->ev[i].ev, x->plan)) {
			eakte_event__free(&x->ev[i].ev);
			free(x->ev[i].json);
			continue;
		}
		x->ev[w++] = x->ev[i];
	}
	x->n = w;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writing members                                                     */
/* ------------------------------------------------------------------ */

/*
 * A failed write is recorded in x->write_errno, which every step checks,
 * and not reported to libarchive: libarchive 3.6 leaks its block buffer
 * when freed in the fatal state a failed write callback puts it in.  What
 * follows the failure is discarded; the package file is removed anyway.
 */
static la_ssize_t write_cb(struct archive *ar, void *ud, const void *buf, size_t len)
{
	xctx *x = ud;
	size_t off = 0;

	(void)ar;
	if (x->write_errno != 0)
		return (la_ssize_t)len;
	while (off < len) {
		ssize_t w = write(x->fd, (const char *)buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->write_errno = w < 0 ? errno : EIO;
			return (la_ssize_t)len;
		}
		off += (size_t)w;
	}
	if (EVP_DigestUpdate(x->sha, buf, len) != 1) {
		x->write_errno = ENOMEM;
		return (la_ssize_t)len;
	}
	x->bytes += len;
	return (la_ssize_t)len;
}

static int ar_fail(xctx *x, const char *what)
{
	if (x->write_errno != 0)
		return eakte_error__set_errno(EAKTE_EIO, x->write_errno, "writing the package (%s)", what);
	return eakte_error__set(EAKTE_EIO, "writing the package (%s): %s", what,
		archive_error_string(x->ar) ? archive_error_string(x->ar) : "libarchive error");
}

/* Append "<sha256 hex>  <path>\n", a manifest line (RFC 8493 2.1.3), to a
 * growing buffer. */
static int line_add(char **buf, size_t *len, size_t *cap, const uint8_t sha[EAKTE_HASH_LEN], const char *path)
{
	size_t need = EAKTE_HASH_HEX_LEN + 2 + strlen(path) + 2;

	if (*len + need + 1 > *cap) {
		size_t nc = *cap ? *cap * 2 : 8192;
		char *nb;
		while (nc < *len + need + 1)
			nc *= 2;
		if ((nb = realloc(*buf, nc)) == NULL)
			return eakte_error__oom("a manifest");
		*buf = nb;
		*cap = nc;
	}
	eakte_hex__encode(*buf + *len, sha, EAKTE_HASH_LEN);
	*len += EAKTE_HASH_HEX_LEN;
	*len += (size_t)snprintf(*buf + *len, *cap - *len, "  %s\n", path);
	return 0;
}

static int manifest_add(xctx *x, const uint8_t sha[EAKTE_HASH_LEN], const char *path)
{
	return line_add(&x->manifest, &x->mlen, &x->mcap, sha, path);
}

/* A line of tagmanifest-sha256.txt for a tag file beyond BagIt's own. */
static int tag_add(xctx *x, const uint8_t sha[EAKTE_HASH_LEN], const char *path)
{
	return line_add(&x->tags, &x->tlen, &x->tcap, sha, path);
}

static int begin_member(xctx *x, const char *path, uint64_t size, int store)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (e == NULL)
		return eakte_error__oom("an archive entry");
	if (is_zip(x)) {
		/* Content is stored as filed (no ratio a reader would take for a
		 * bomb, and PDFs do not shrink); the small JSON files are deflated. */
		r = store ? archive_write_zip_set_compression_store(x->ar) : archive_write_zip_set_compression_deflate(x->ar);
		if (r != ARCHIVE_OK) {
			archive_entry_free(e);
			return ar_fail(x, path);
		}
	}
	/* Names are UTF-8 whatever the locale (libarchive would convert from
	 * the locale's character set, which is ASCII for a daemon). */
	archive_entry_set_pathname_utf8(e, path);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, x->now, 0);
	r = archive_write_header(x->ar, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK && x->write_errno == 0 ? 0 : ar_fail(x, path);
}

static int write_data(xctx *x, const void *buf, size_t len, const char *path)
{
	while (len > 0) {
		la_ssize_t w = archive_write_data(x->ar, buf, len);
		if (w <= 0 || x->write_errno != 0)
			return ar_fail(x, path);
		buf = (const char *)buf + w;
		len -= (size_t)w;
	}
	return 0;
}

/* A whole small member; payload members go into the manifest. */
static int put_mem(xctx *x, const char *path, const char *buf, size_t len)
{
	uint8_t sha[EAKTE_HASH_LEN];
	int rc;

	if ((rc = begin_member(x, path, len, 0)) < 0 || (rc = write_data(x, buf, len, path)) < 0)
		return rc;
	if (strncmp(path, "data/", 5) != 0)
		return 0;
	if ((rc = eakte_sha256__buf(sha, buf, len)) < 0)
		return rc;
	x->payload_bytes += len;
	x->payload_files++;
	return manifest_add(x, sha, path);
}

typedef struct {
	xctx *x;
	const char *path;
} sinkctx;

static int content_sink(const uint8_t *buf, size_t len, void *payload)
{
	sinkctx *s = payload;
	return write_data(s->x, buf, len, s->path);
}

static int tag_add(xctx *x, const uint8_t sha[EAKTE_HASH_LEN], const char *path);

/* The content of a document version, streamed from the object store and
 * checked against its filing event on the way: into the payload
 * (data/documents/...), or, with `member`, as a tag file of that name (an
 * xdomea primary file). */
static int put_content_as(xctx *x, const eakte_ev_file *fr, uint64_t seq, const char *member)
{
	char path[EAKTE_BAG_PATH_MAX + 1];
	eakte_obj_info info;
	sinkctx s = { x, path };
	int rc;

	if (member != NULL)
		snprintf(path, sizeof(path), "%s", member);
	else
		snprintf(path, sizeof(path), "data/documents/%s/%" PRId64 ".content", fr->doc, fr->version);
	if ((rc = begin_member(x, path, fr->size, 1)) < 0)
		return rc;
	rc = eakte_obj__read(&info, x->a->objects_fd, fr->content_oid, content_sink, &s);
	if (rc == EAKTE_ENOTFOUND) {
		/* Packed by someone (git gc): libgit2 reads packed blobs whole. */
		git_oid oid;
		git_blob *blob;
		git_oid_fromraw(&oid, fr->content_oid);
		if (git_blob_lookup(&blob, x->a->repo, &oid) < 0)
			return eakte_error__set(EAKTE_ECORRUPT, "the content of document %s version %" PRId64 " is missing from store.git; run `eakte verify`",
				fr->doc, fr->version);
		info.size = (uint64_t)git_blob_rawsize(blob);
		rc = eakte_sha256__buf(info.sha256, git_blob_rawcontent(blob), (size_t)info.size);
		if (rc == 0 && info.size == fr->size)
			rc = write_data(x, git_blob_rawcontent(blob), (size_t)info.size, path);
		git_blob_free(blob);
	}
	if (rc < 0)
		return rc;
	if (info.size != fr->size || memcmp(info.sha256, fr->content_sha256, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the content of document %s version %" PRId64 " does not match its filing event %" PRIu64
			"; run `eakte verify`", fr->doc, fr->version, seq);
	if (member != NULL)
		return tag_add(x, fr->content_sha256, path);
	x->payload_bytes += fr->size;
	x->payload_files++;
	return manifest_add(x, fr->content_sha256, path);
}

static int put_content(xctx *x, const eakte_ev_file *fr, uint64_t seq)
{
	return put_content_as(x, fr, seq, NULL);
}

/* The metadata object an event names, checked against the event. */
static int read_meta(json_t **obj_out, char **buf_out, size_t *len_out, xctx *x, const xevent *e)
{
	const json_t *m;
	const char *sha, *oidhex;
	git_oid oid;
	git_blob *blob;
	uint8_t actual[EAKTE_HASH_LEN];
	char hex[EAKTE_HASH_HEX_LEN + 1];
	int rc;

	*obj_out = NULL;
	*buf_out = NULL;
	if (eakte_cjson__get_object(&m, e->ev.root, "meta") < 0)
		return 0;
	if (eakte_cjson__get_string(&sha, m, "sha256") < 0 || eakte_cjson__get_string(&oidhex, m, "oid") < 0 ||
	    git_oid_fromstr(&oid, oidhex) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "event %" PRIu64 ": malformed meta reference", e->seq);
	if (git_blob_lookup(&blob, x->a->repo, &oid) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata object of event %" PRIu64 " is missing from store.git; run `eakte verify`",
			e->seq);
	*len_out = (size_t)git_blob_rawsize(blob);
	if ((*buf_out = malloc(*len_out + 1)) == NULL) {
		git_blob_free(blob);
		return eakte_error__oom("a metadata object");
	}
	memcpy(*buf_out, git_blob_rawcontent(blob), *len_out);
	(*buf_out)[*len_out] = '\0';
	git_blob_free(blob);
	if ((rc = eakte_sha256__buf(actual, *buf_out, *len_out)) < 0)
		return rc;
	eakte_hex__encode(hex, actual, EAKTE_HASH_LEN);
	if (strcmp(hex, sha) != 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata object of event %" PRIu64 " does not match it: SHA-256 expected=%s actual=%s",
			e->seq, sha, hex);
	if (eakte_cjson__parse(obj_out, *buf_out, *len_out, EAKTE_EVENT_MAX) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the metadata object of event %" PRIu64 " is not JSON", e->seq);
	return 0;
}

/* ------------------------------------------------------------------ */
/* akte.json: a description for people and for other tools; not       */
/* trusted by verification (everything in it is also in the objects). */
/* ------------------------------------------------------------------ */

static json_t *vorgang_entry(json_t *vorgaenge, int64_t n)
{
	json_t *v;
	size_t i;

	json_array_foreach(vorgaenge, i, v)
		if (json_integer_value(json_object_get(v, "n")) == n)
			return v;
	return NULL;
}

/* Set o[k] = v, null when v is missing (a convenience field, never trusted). */
static int setv(json_t *o, const char *k, json_t *v)
{
	return json_object_set(o, k, v != NULL ? v : json_null()) < 0;
}

static int describe(json_t *akte, json_t *docs_by_id, const xevent *e, const json_t *meta, const char *origin)
{
	const char *a = e->ev.action;
	const json_t *m;
	const char *doc;
	int64_t vn;
	int bad = 0;

	if (strcmp(a, "akte-create") == 0) {
		char day[11];
		snprintf(day, sizeof(day), "%.10s", e->ev.time);
		bad |= setv(akte, "title", json_object_get(meta, "title"));
		bad |= json_object_set_new(akte, "opened", json_string(day)) < 0;
		bad |= json_object_set_new(akte, "origin", json_string(origin)) < 0;
	} else if (strcmp(a, "plan") == 0) {
		json_t *entries = json_object_get(e->ev.root, "entries"), *en;
		size_t i;
		char code[256];
		/* A copy: replacing "plan" below frees the string it came from. */
		snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(json_object_get(akte, "plan"), "code")) ?
			json_string_value(json_object_get(json_object_get(akte, "plan"), "code")) : "");
		json_array_foreach(entries, i, en) {
			const char *c = json_string_value(json_object_get(en, "code"));
			if (c != NULL && strcmp(c, code) == 0) {
				bad |= json_object_set_new(akte, "plan", json_pack("{s:s, s:O?}", "code", c, "title", json_object_get(en, "title"))) < 0;
				bad |= setv(akte, "retention", json_object_get(en, "retention"));
				bad |= setv(akte, "value", json_object_get(en, "value"));
			}
		}
	} else if (strcmp(a, "retention-set") == 0) {
		bad |= setv(akte, "retention", json_object_get(e->ev.root, "retention"));
	} else if (strcmp(a, "akte-close") == 0) {
		bad |= setv(akte, "closed", json_object_get(e->ev.root, "date"));
	} else if (strcmp(a, "akte-reopen") == 0) {
		bad |= json_object_set_new(akte, "closed", json_null()) < 0;
	} else if (strcmp(a, "vorgang-create") == 0 && eakte_cjson__get_int(&vn, e->ev.root, "vorgang") == 0) {
		bad |= json_array_append_new(json_object_get(akte, "vorgaenge"),
			json_pack("{s:I, s:O?, s:[]}", "n", (json_int_t)vn, "title", json_object_get(meta, "title"), "documents")) < 0;
	} else if (strcmp(a, "file") == 0 && eakte_cjson__get_string(&doc, e->ev.root, "doc") == 0 &&
		   eakte_cjson__get_object(&m, e->ev.root, "content") == 0) {
		json_t *d = json_object_get(docs_by_id, doc), *ver;
		int64_t version = json_integer_value(json_object_get(e->ev.root, "version"));
		char member[160], day[11];
		if (d == NULL) {
			json_t *parent = json_object_get(akte, "documents");
			if (eakte_cjson__get_int(&vn, e->ev.root, "vorgang") == 0 && vorgang_entry(json_object_get(akte, "vorgaenge"), vn))
				parent = json_object_get(vorgang_entry(json_object_get(akte, "vorgaenge"), vn), "documents");
			d = json_pack("{s:s, s:[]}", "id", doc, "versions");
			if (d == NULL || json_array_append(parent, d) < 0 || json_object_set_new(docs_by_id, doc, d) < 0)
				return eakte_error__oom("akte.json");
		}
		snprintf(member, sizeof(member), "data/documents/%s/%" PRId64 ".content", doc, version);
		snprintf(day, sizeof(day), "%.10s", e->ev.time);
		ver = json_pack("{s:I, s:I, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:s, s:O?}", "version", (json_int_t)version,
			"seq", (json_int_t)e->seq, "filed", day, "title", json_object_get(meta, "title"),
			"filename", json_object_get(meta, "filename"), "mime", json_object_get(m, "mime"),
			"size", json_object_get(m, "size"), "sha256", json_object_get(m, "sha256"), "member", member,
			"meta", json_object_get(meta, "meta"));
		if (ver == NULL || json_array_append_new(json_object_get(d, "versions"), ver) < 0)
			return eakte_error__oom("akte.json");
		bad |= setv(d, "title", json_object_get(meta, "title"));
		bad |= setv(d, "meta", json_object_get(meta, "meta"));
	} else if (strcmp(a, "meta") == 0 && eakte_cjson__get_string(&doc, e->ev.root, "doc") == 0) {
		json_t *d = json_object_get(docs_by_id, doc);
		if (d != NULL) {
			bad |= setv(d, "title", json_object_get(meta, "title"));
			bad |= setv(d, "meta", json_object_get(meta, "meta"));
		}
	}
	return bad ? eakte_error__oom("akte.json") : 0;
}

/* ------------------------------------------------------------------ */

/* The read view: the latest signed checkpoint, checked against the
 * journal; everything exported is cut at its size. */
static int read_view(char **note, eakte_checkpoint *cp, eakte_archive *a)
{
	size_t text_len;
	eakte_hash root;
	int rc;

	if ((rc = eakte_checkpoint_latest(note, a)) < 0)
		return rc;
	if ((rc = eakte_note__verify(&text_len, *note, strlen(*note), a->origin, a->pub)) < 0 ||
	    (rc = eakte_checkpoint__parse(cp, *note, text_len)) < 0)
		return eakte_error__wrap(rc, "the latest checkpoint");
	if ((rc = eakte_journal__load_index(a)) < 0)
		return rc;
	if (cp->size > a->index_len)
		return eakte_error__set(EAKTE_ECORRUPT, "the checkpoint covers %" PRIu64 " events but the journal has %" PRIu64 "; run `eakte verify`",
			cp->size, a->index_len);
	eakte_merkle__root(root, (const eakte_hash *)a->leaves, cp->size);
	if (memcmp(root, cp->root, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_ECORRUPT, "the journal does not have the root of the latest checkpoint; run `eakte verify`");
	return 0;
}

static json_t *new_akte_json(const xctx *x, uint64_t size)
{
	return json_pack("{s:i, s:s, s:{s:s}, s:n, s:n, s:n, s:n, s:I, s:[], s:[]}", "v", 1, "az", x->az, "plan", "code", x->plan,
		"title", "retention", "value", "closed", "checkpoint", (json_int_t)size, "vorgaenge", "documents");
}

/* akte.json from the collected events (x->ev) and the objects they name. */
static int build_model(json_t **out, xctx *x, uint64_t size)
{
	json_t *akte = new_akte_json(x, size), *docs_by_id = json_object();
	int rc = 0;

	*out = NULL;
	if (akte == NULL || docs_by_id == NULL) {
		rc = eakte_error__oom("akte.json");
		goto out;
	}
	for (size_t i = 0; i < x->n && rc == 0; i++) {
		json_t *meta = NULL;
		char *buf = NULL;
		size_t len = 0;
		rc = read_meta(&meta, &buf, &len, x, &x->ev[i]);
		if (rc == 0)
			rc = describe(akte, docs_by_id, &x->ev[i], meta, x->a->origin);
		json_decref(meta);
		free(buf);
	}
	if (rc == 0) {
		*out = akte;
		akte = NULL;
	}
out:
	json_decref(akte);
	json_decref(docs_by_id);
	return rc;
}

/* ---- xdomea 0503 ---- */

static const xevent *event_at(const xctx *x, uint64_t seq)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->ev[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && x->ev[lo].seq == seq ? &x->ev[lo] : NULL;
}

/* A document of akte.json as the xdomea model wants it; each version's
 * primary file is remembered in `files` as [member, seq]. */
static int xd_doc(json_t **out, xctx *x, const json_t *d, json_t *files)
{
	json_t *doc = NULL, *versions = json_array();
	const json_t *v;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (versions == NULL)
		return eakte_error__oom("the xdomea model");
	json_array_foreach(json_object_get(d, "versions"), i, v) {
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *filename = json_string_value(json_object_get(v, "filename"));
		json_int_t version = json_integer_value(json_object_get(v, "version"));
		json_int_t seq = json_integer_value(json_object_get(v, "seq"));
		const xevent *e = event_at(x, (uint64_t)seq);
		char uuid[EAKTE_XDOMEA_UUID_LEN + 1], name[EAKTE_ID_LEN + 64], *member = NULL;
		json_t *m;

		snprintf(name, sizeof(name), "version\n%s\n%lld", id ? id : "", (long long)version);
		if (id == NULL || e == NULL || (rc = eakte_xdomea__uuid(uuid, x->a->origin, name)) < 0 ||
		    (rc = eakte_xdomea__member_name(&member, uuid, filename)) < 0) {
			if (rc == 0)
				rc = eakte_error__set(EAKTE_ECORRUPT, "akte.json names a version without its filing event");
			break;
		}
		m = json_pack("{s:I, s:s, s:O, s:s, s:O, s:O}", "version", version, "member", member,
			"mime", json_object_get(v, "mime"), "filed", e->ev.time, "size", json_object_get(v, "size"),
			"sha256", json_object_get(v, "sha256"));
		if (m != NULL && filename != NULL && json_object_set_new(m, "filename", json_string(filename)) < 0) {
			json_decref(m);
			m = NULL;
		}
		if (m == NULL || json_array_append_new(versions, m) < 0 ||
		    json_array_append_new(files, json_pack("[s, I]", member, seq)) < 0) {
			free(member);
			rc = eakte_error__oom("the xdomea model");
			break;
		}
		free(member);
	}
	if (rc == 0 && (doc = json_pack("{s:O, s:O, s:o}", "id", json_object_get(d, "id"), "title",
				json_object_get(d, "title"), "versions", versions)) == NULL)
		rc = eakte_error__oom("the xdomea model");
	else if (rc == 0)
		versions = NULL;
	json_decref(versions);
	*out = doc;
	return rc;
}

static int xd_docs(json_t **out, xctx *x, const json_t *docs, json_t *files)
{
	json_t *arr = json_array();
	const json_t *d;
	size_t i;
	int rc = 0;

	if (arr == NULL)
		return eakte_error__oom("the xdomea model");
	json_array_foreach(docs, i, d) {
		json_t *doc;
		if ((rc = xd_doc(&doc, x, d, files)) < 0)
			break;
		if (json_array_append_new(arr, doc) < 0) {
			rc = eakte_error__oom("the xdomea model");
			break;
		}
	}
	if (rc < 0) {
		json_decref(arr);
		arr = NULL;
	}
	*out = arr;
	return rc;
}

/* The xdomea model (xdomea.h) of the Akte that akte.json describes. */
static int xd_model(json_t **out, xctx *x, const json_t *akte, json_t *files)
{
	const char *az = json_string_value(json_object_get(akte, "az"));
	char msgid[EAKTE_ID_LEN + 1], created[32], uuid[EAKTE_XDOMEA_UUID_LEN + 1], name[600];
	json_t *model = NULL, *ak = NULL, *docs = NULL, *vgs = json_array(), *plan;
	const json_t *vg, *closed = json_object_get(akte, "closed");
	struct tm tm;
	size_t i;
	int rc;

	*out = NULL;
	if (vgs == NULL)
		return eakte_error__oom("the xdomea model");
	gmtime_r(&x->now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(name, sizeof(name), "akte\n%s", az ? az : "");
	if ((rc = eakte_event__new_doc_id(msgid)) < 0 || (rc = eakte_xdomea__uuid(uuid, x->a->origin, name)) < 0)
		goto out;
	json_array_foreach(json_object_get(akte, "vorgaenge"), i, vg) {
		char vu[EAKTE_XDOMEA_UUID_LEN + 1];
		json_t *vdocs, *v;
		snprintf(name, sizeof(name), "vorgang\n%s\n%lld", az ? az : "",
			(long long)json_integer_value(json_object_get(vg, "n")));
		if ((rc = eakte_xdomea__uuid(vu, x->a->origin, name)) < 0 ||
		    (rc = xd_docs(&vdocs, x, json_object_get(vg, "documents"), files)) < 0)
			goto out;
		v = json_pack("{s:O, s:O, s:s, s:o}", "n", json_object_get(vg, "n"), "title", json_object_get(vg, "title"),
			"uuid", vu, "documents", vdocs);
		if (v == NULL || json_array_append_new(vgs, v) < 0) {
			rc = eakte_error__oom("the xdomea model");
			goto out;
		}
	}
	if ((rc = xd_docs(&docs, x, json_object_get(akte, "documents"), files)) < 0)
		goto out;
	plan = json_pack("{s:O}", "code", json_object_get(json_object_get(akte, "plan"), "code"));
	if (plan != NULL && json_is_string(json_object_get(json_object_get(akte, "plan"), "title")))
		json_object_set(plan, "title", json_object_get(json_object_get(akte, "plan"), "title"));
	/* A paper file taken over may be closed (zdA) before it was created in
	 * eakte: its Laufzeit then begins no later than it ended. */
	const json_t *opened = json_object_get(akte, "opened");
	if (json_is_string(closed) && json_is_string(opened) && strcmp(json_string_value(closed), json_string_value(opened)) < 0)
		opened = closed;
	ak = json_pack("{s:O, s:O, s:s, s:o, s:O, s:O, s:O, s:O, s:O}", "az", json_object_get(akte, "az"),
		"title", json_object_get(akte, "title"), "uuid", uuid, "plan", plan, "opened", opened,
		"retention", json_object_get(akte, "retention"), "value", json_object_get(akte, "value"),
		"vorgaenge", vgs, "documents", docs);
	if (ak == NULL || (json_is_string(closed) && json_object_set(ak, "closed", (json_t *)closed) < 0)) {
		rc = eakte_error__oom("the xdomea model");
		goto out;
	}
	model = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "message_id", msgid, "created", created, "sender",
		"origin", x->a->origin, "name", x->a->origin, "akte", ak);
	if (model == NULL || (x->recipient != NULL &&
			json_object_set_new(model, "recipient", json_pack("{s:s}", "name", x->recipient)) < 0)) {
		rc = eakte_error__oom("the xdomea model");
		goto out;
	}
	*out = model;
	model = NULL;
out:
	json_decref(model);
	json_decref(ak);
	json_decref(docs);
	json_decref(vgs);
	return rc;
}

static int put_xdomea(xctx *x, const json_t *akte)
{
	json_t *model = NULL, *files = json_array(), *f;
	char *xml = NULL, *name = NULL;
	uint8_t sha[EAKTE_HASH_LEN];
	size_t len, i;
	int rc;

	if (files == NULL)
		return eakte_error__oom("the xdomea export");
	if ((rc = xd_model(&model, x, akte, files)) < 0)
		goto out;
	if ((rc = eakte_xdomea__0503(&xml, &len, model)) < 0) {
		/* The model comes from the signed events, not from the caller: a
		 * field the message cannot carry is eakte's fault (exit 5), named. */
		rc = eakte_error__wrap(rc == EAKTE_EINVALID ? EAKTE_EIO : rc,
			"the Akte cannot be written as an xdomea 0503 message (please report this)");
		goto out;
	}
	if ((rc = eakte_xdomea__message_name(&name, json_string_value(json_object_get(model, "message_id")))) < 0 ||
	    (rc = begin_member(x, name, len, 0)) < 0 || (rc = write_data(x, xml, len, name)) < 0 ||
	    (rc = eakte_sha256__buf(sha, xml, len)) < 0 || (rc = tag_add(x, sha, name)) < 0)
		goto out;
	json_array_foreach(files, i, f) {
		const char *member = json_string_value(json_array_get(f, 0));
		const xevent *e = event_at(x, (uint64_t)json_integer_value(json_array_get(f, 1)));
		eakte_ev_file fr;
		if (e == NULL || (rc = eakte_event__file_refs(&fr, &e->ev)) < 0) {
			if (rc == 0)
				rc = eakte_error__set(EAKTE_ECORRUPT, "a primary file without its filing event");
			goto out;
		}
		if ((rc = put_content_as(x, &fr, e->seq, member)) < 0)
			goto out;
	}
out:
	json_decref(model);
	json_decref(files);
	free(xml);
	free(name);
	return rc;
}

static int write_package(xctx *x, eakte_export_result *res)
{
	eakte_archive *a = x->a;
	char *note = NULL, *vkey = NULL, *pem = NULL, *tm = NULL, *proof = NULL, *aj = NULL, path[160];
	size_t note_len, tmlen = 0;
	eakte_checkpoint cp;
	eakte_key *pub = NULL;
	json_t *akte = NULL, *objects = NULL;
	eakte_hash (*proofs)[64] = NULL;
	size_t *counts = NULL;
	uint64_t *seqs = NULL;
	int rc;

	if ((rc = read_view(&note, &cp, a)) < 0)
		goto out;
	note_len = strlen(note);
	if ((rc = collect(x, cp.size)) < 0)
		goto out;
	res->checkpoint = cp.size;
	res->events = x->n;

	if ((x->ar = archive_write_new()) == NULL) {
		rc = eakte_error__oom("a package writer");
		goto out;
	}
	if ((is_zip(x) ? archive_write_set_format_zip(x->ar) : archive_write_set_format_pax_restricted(x->ar)) != ARCHIVE_OK ||
	    (!is_zip(x) && archive_write_set_bytes_in_last_block(x->ar, 1) != ARCHIVE_OK) ||
	    /* Original file names carry umlauts: say that names are UTF-8. */
	    (is_zip(x) && archive_write_set_format_option(x->ar, "zip", "hdrcharset", "UTF-8") != ARCHIVE_OK) ||
	    archive_write_open2(x->ar, x, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
		rc = ar_fail(x, "opening");
		goto out;
	}
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	if ((rc = put_mem(x, "bagit.txt", bagit, strlen(bagit))) < 0)
		goto out;
	if ((rc = build_model(&akte, x, cp.size)) < 0)
		goto out;
	if ((aj = json_dumps(akte, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		rc = eakte_error__oom("akte.json");
		goto out;
	}
	if ((rc = put_mem(x, "data/akte.json", aj, strlen(aj))) < 0)
		goto out;

	/* The journal: events, proofs, checkpoint, key.  The proofs are made
	 * PROOF_CHUNK at a time, each chunk in one pass over the tree. */
	if ((proofs = malloc(PROOF_CHUNK * sizeof(*proofs))) == NULL || (counts = malloc(PROOF_CHUNK * sizeof(*counts))) == NULL ||
	    (seqs = malloc(PROOF_CHUNK * sizeof(*seqs))) == NULL) {
		rc = eakte_error__oom("the inclusion proofs");
		goto out;
	}
	for (size_t c = 0; c < x->n; c += PROOF_CHUNK) {
		size_t k = x->n - c < PROOF_CHUNK ? x->n - c : PROOF_CHUNK;
		for (size_t i = 0; i < k; i++)
			seqs[i] = x->ev[c + i].seq;
		if ((rc = eakte_merkle__inclusion_proofs(proofs, counts, (const eakte_hash *)a->leaves, cp.size, seqs, k)) < 0)
			goto out;
		for (size_t i = 0; i < k; i++) {
			const xevent *e = &x->ev[c + i];
			snprintf(path, sizeof(path), "data/journal/%" PRIu64 ".json", e->seq);
			if ((rc = put_mem(x, path, e->json, e->len)) < 0)
				goto out;
			if ((rc = eakte_proof__format(&proof, e->seq, e->json, e->len, (const eakte_hash *)proofs[i], counts[i], note)) < 0)
				goto out;
			snprintf(path, sizeof(path), "data/journal/%" PRIu64 ".proof", e->seq);
			if ((rc = put_mem(x, path, proof, strlen(proof))) < 0)
				goto out;
			free(proof);
			proof = NULL;
		}
	}
	if ((rc = put_mem(x, "data/journal/checkpoint", note, note_len)) < 0 ||
	    (rc = eakte_note__verifier_key(&vkey, a->origin, a->pub)) < 0)
		goto out;
	{
		size_t n = strlen(vkey);
		char *v2 = realloc(vkey, n + 2);
		if (v2 == NULL) {
			rc = eakte_error__oom("the verifier key");
			goto out;
		}
		vkey = v2;
		memcpy(vkey + n, "\n", 2);
	}
	if ((rc = put_mem(x, "data/journal/note.vkey", vkey, strlen(vkey))) < 0 ||
	    (rc = eakte_key__from_public(&pub, a->pub)) < 0 || (rc = eakte_key__public_pem(&pem, pub)) < 0 ||
	    (rc = put_mem(x, "data/journal/signing.pub.pem", pem, strlen(pem))) < 0)
		goto out;

	/* Metadata objects and content. */
	if ((objects = json_object()) == NULL) {
		rc = eakte_error__oom("the object list");
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		const xevent *e = &x->ev[i];
		json_t *meta = NULL;
		char *buf = NULL;
		size_t len = 0;
		if ((rc = read_meta(&meta, &buf, &len, x, e)) == 0 && buf != NULL) {
			const char *sha = json_string_value(json_object_get(json_object_get(e->ev.root, "meta"), "sha256"));
			snprintf(path, sizeof(path), "data/objects/%s.json", sha);
			/* One object may be named twice (never in practice: salted). */
			if (json_object_get(objects, sha) == NULL) {
				if (json_object_set_new(objects, sha, json_true()) < 0)
					rc = eakte_error__oom("the object list");
				else
					rc = put_mem(x, path, buf, len);
			}
		}
		if (rc == 0 && strcmp(e->ev.action, "file") == 0) {
			eakte_ev_file fr;
			if ((rc = eakte_event__file_refs(&fr, &e->ev)) == 0 && (rc = put_content(x, &fr, e->seq)) == 0)
				res->documents++;
		}
		json_decref(meta);
		free(buf);
		if (rc < 0)
			goto out;
	}

	/* xdomea: the message and its primary files at the top level, as
	 * xdomea wants them; tag files of the bag, so the tag manifest covers
	 * them, and each primary file is a document version the proofs cover. */
	if (x->format == EAKTE_PACKAGE_XDOMEA && (rc = put_xdomea(x, akte)) < 0)
		goto out;

	/* Tag files last: their contents depend on everything above. */
	{
		char info[1024], day[11];
		struct tm day_tm;
		uint8_t sha[EAKTE_HASH_LEN];
		const char *tags[3];
		size_t tlen[3];
		gmtime_r(&x->now, &day_tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &day_tm);
		snprintf(info, sizeof(info),
			"Bag-Software-Agent: eakte %s\nBagging-Date: %s\nExternal-Identifier: %s\nEakte-Origin: %s\nEakte-Checkpoint-Size: %" PRIu64
			"\nPayload-Oxum: %" PRIu64 ".%" PRIu64 "\n",
			eakte_version(), day, x->az, a->origin, cp.size, x->payload_bytes, x->payload_files);
		if ((rc = put_mem(x, "bag-info.txt", info, strlen(info))) < 0 ||
		    (rc = put_mem(x, "manifest-sha256.txt", x->manifest ? x->manifest : "", x->mlen)) < 0)
			goto out;
		tags[0] = bagit;
		tlen[0] = strlen(bagit);
		tags[1] = info;
		tlen[1] = strlen(info);
		tags[2] = x->manifest ? x->manifest : "";
		tlen[2] = x->mlen;
		if ((tm = malloc(3 * (EAKTE_HASH_HEX_LEN + 32) + x->tlen + 1)) == NULL) {
			rc = eakte_error__oom("the tag manifest");
			goto out;
		}
		static const char *const names[3] = { "bagit.txt", "bag-info.txt", "manifest-sha256.txt" };
		for (size_t i = 0; i < 3; i++) {
			if ((rc = eakte_sha256__buf(sha, tags[i], tlen[i])) < 0)
				goto out;
			eakte_hex__encode(tm + tmlen, sha, EAKTE_HASH_LEN);
			tmlen += EAKTE_HASH_HEX_LEN;
			tmlen += (size_t)sprintf(tm + tmlen, "  %s\n", names[i]);
		}
		if (x->tlen > 0) {
			memcpy(tm + tmlen, x->tags, x->tlen);
			tmlen += x->tlen;
		}
		if ((rc = put_mem(x, "tagmanifest-sha256.txt", tm, tmlen)) < 0)
			goto out;
	}
	if (archive_write_close(x->ar) != ARCHIVE_OK || x->write_errno != 0) {
		rc = ar_fail(x, "closing");
		goto out;
	}
out:
	if (x->ar != NULL)
		archive_write_free(x->ar);
	x->ar = NULL;
	json_decref(akte);
	json_decref(objects);
	free(proofs);
	free(counts);
	free(seqs);
	eakte_key__free(pub);
	free(aj);
	free(tm);
	free(proof);
	free(pem);
	free(vkey);
	free(note);
	return rc;
}

static int check_opts(const eakte_export_options *o)
{
	if (o == NULL || o->version != EAKTE_EXPORT_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_export_options missing or of an unsupported version");
	if (o->akte == NULL || o->akte[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "no Aktenzeichen given");
	if (o->format != EAKTE_PACKAGE_TAR && o->format != EAKTE_PACKAGE_ZIP && o->format != EAKTE_PACKAGE_XDOMEA)
		return eakte_error__set(EAKTE_EINVALID, "unknown package format %d (tar, zip or xdomea)", o->format);
	if (o->recipient != NULL && eakte_records__check_text("the recipient", o->recipient, 1024, 0) < 0)
		return EAKTE_EINVALID;
	return eakte_records__check_az(o->akte);
}

int eakte_export_write(eakte_export_result *res, eakte_archive *a, const eakte_export_options *o, int fd)
{
	xctx x;
	uint8_t sha[EAKTE_HASH_LEN];
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = check_opts(o)) < 0)
		return rc;
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.az = o->akte;
	x.fd = fd;
	x.format = o->format;
	x.recipient = o->recipient;
	x.now = time(NULL);
	if ((x.docs = json_object()) == NULL || (x.sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(x.sha, EVP_sha256(), NULL) != 1) {
		rc = eakte_error__oom("an export");
		goto out;
	}
	if ((rc = write_package(&x, res)) < 0)
		goto out;
	if (EVP_DigestFinal_ex(x.sha, sha, NULL) != 1) {
		rc = eakte_error__set(EAKTE_EIO, "SHA-256 of the package failed");
		goto out;
	}
	eakte_hex__encode(res->sha256, sha, EAKTE_HASH_LEN);
	res->size = x.bytes;
out:
	xevents_free(&x);
	json_decref(x.docs);
	EVP_MD_CTX_free(x.sha);
	free(x.manifest);
	free(x.tags);
	return rc;
}

/* After a commit that failed past (or perhaps past) its commit point:
 * 1 if the journal on disk ends with this export's event. */
static int export_in_journal(eakte_archive *a, const eakte_export_result *res)
{
	eakte_jcommit c;
	eakte_ev ev;
	git_oid head;
	int in = 0;

	if (eakte_journal__head(&head, a) < 0 || eakte_journal__read_commit(&c, a, &head) < 0)
		return 0;
	if (c.json != NULL && eakte_event__parse(&ev, c.json, c.len) == 0) {
		const char *sha = json_string_value(json_object_get(json_object_get(ev.root, "package"), "sha256"));
		in = ev.seq == res->seq && strcmp(ev.action, "export") == 0 && sha != NULL && strcmp(sha, res->sha256) == 0;
		eakte_event__free(&ev);
	}
	eakte_journal__jcommit_free(&c);
	return in;
}

int eakte_export_record(eakte_archive *a, const eakte_export_options *o, eakte_export_result *res)
{
	eakte_txn *t = NULL;
	json_t *ev;
	int rc;

	if ((rc = check_opts(o)) < 0)
		return rc;
	if (a->lock_fd < 0 || a->key == NULL)
		return eakte_error__set(EAKTE_EINVALID, "recording an export needs the archive opened for writing");
	if (strlen(res->sha256) != EAKTE_HASH_HEX_LEN)
		return eakte_error__set(EAKTE_EINVALID, "the export result has no package SHA-256");
	ev = json_pack("{s:s, s:s, s:s, s:{s:s, s:I}, s:I}", "action", "export", "akte", o->akte, "format",
		eakte_export__format_name(o->format), "package", "sha256", res->sha256, "size",
		(json_int_t)res->size, "checkpoint", (json_int_t)res->checkpoint);
	if (ev == NULL)
		return eakte_error__oom("an export event");
	if (o->actor != NULL) {
		if ((rc = eakte_records__check_text("the actor", o->actor, 255, 0)) < 0 ||
		    json_object_set_new(ev, "actor", json_string(o->actor)) < 0) {
			json_decref(ev);
			return rc < 0 ? rc : eakte_error__oom("an export event");
		}
	}
	if ((rc = eakte_txn__begin(&t, a)) == 0) {
		rc = eakte_txn__append(t, ev, &res->seq);
		if (rc == 0)
			rc = eakte_txn__commit(t);
	}
	eakte_txn__free(t);
	json_decref(ev);
	if (rc < 0 && a->filed_state_lags && !export_in_journal(a, res)) {
		/* Perhaps in the journal: it cannot be read back now. */
		res->maybe_recorded = 1;
		return eakte_error__wrap(rc, "the export event may or may not be in the journal (check `eakte log`); "
			"the package is kept");
	}
	if (rc < 0 && a->filed_state_lags) {
		/* Past the commit point the export is recorded: what failed after
		 * it is repaired by the next write (or, if even the journal's
		 * durability is in doubt, the package may outlive its event, as
		 * after a crash).  Success with a warning, so that no caller
		 * removes a package its event names. */
		snprintf(a->warning, sizeof(a->warning), "the export is journaled, but: %s", eakte_error_last());
		return 0;
	}
	if (rc < 0)
		return rc;
	return eakte_records__after_commit(a);
}

int eakte_export(eakte_export_result *res, eakte_archive *a, const eakte_export_options *o, const char *path)
{
	char *tmp = NULL, *dcopy = NULL;
	int fd = -1, dfd = -1, rc, named = 0;
	size_t n;

	memset(res, 0, sizeof(*res));
	if ((rc = check_opts(o)) < 0)
		return rc;
	if (a->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "an export needs the archive opened for writing (it is journaled)");
	n = strlen(path) + 32;
	if ((tmp = malloc(n)) == NULL || (dcopy = strdup(path)) == NULL) {
		rc = eakte_error__oom("a file name");
		goto out;
	}
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = eakte_error__set_errno(errno == ENOENT ? EAKTE_ENOTFOUND : EAKTE_EIO, errno, "cannot open the directory of %s", path);
		goto out;
	}
	if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = eakte_error__set(EAKTE_EEXISTS, "%s exists; an export never replaces a file (remove it or choose another name)", path);
		goto out;
	}
	/* An unnamed file in the target directory: a crash leaves nothing
	 * behind, and the package gets its name only when complete.  Where
	 * O_TMPFILE is not supported, a named temporary file and rename(2). */
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(tmp, n, "%s.XXXXXX", path);
		if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot create a temporary file next to %s", path);
			goto out;
		}
		named = 1;
		if (fchmod(fd, 0644) < 0) {
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot set the mode of %s", tmp);
			goto fail;
		}
	} else if (fd < 0) {
		rc = eakte_error__set_errno(errno == EACCES ? EAKTE_EPOLICY : EAKTE_EIO, errno, "cannot create a file next to %s", path);
		goto out;
	}
	if ((rc = eakte_export_write(res, a, o, fd)) < 0)
		goto fail;
	if (fsync(fd) < 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot sync the package for %s", path);
		goto fail;
	}
	/* Never replace a file that appeared meanwhile: linkat(2) and
	 * RENAME_NOREPLACE both fail with EEXIST. */
	if (!named) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0) {
			rc = eakte_error__set_errno(errno == EEXIST ? EAKTE_EEXISTS : EAKTE_EIO, errno, "cannot create %s", path);
			goto fail;
		}
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		rc = eakte_error__set_errno(errno == EEXIST ? EAKTE_EEXISTS : EAKTE_EIO, errno, "cannot rename %s to %s", tmp, path);
		goto fail;
	}
	named = 0;
	if ((rc = eakte_fs__fsync_dir(dfd, path)) < 0) {
		unlink(path);
		goto out;
	}
	if ((rc = eakte_export_record(a, o, res)) < 0) {
		/* Without its record the package goes (disposal relies on the
		 * record, and a package the journal does not know is confusing).
		 * A record past its commit point is a success (with a warning);
		 * one that may be past it keeps the package: an export event
		 * never names a package that was removed. */
		if (!res->maybe_recorded)
			unlink(path);
		goto out;
	}
	goto out;
fail:
	if (named)
		unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dcopy);
	return rc;
}

int eakte_export__akte_model(json_t **out, eakte_archive *a, const char *az)
{
	xctx x;
	char *note = NULL;
	eakte_checkpoint cp;
	int rc;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.az = az;
	if ((rc = eakte_records__check_az(az)) < 0)
		return rc;
	if ((x.docs = json_object()) == NULL)
		return eakte_error__oom("akte.json");
	if ((rc = read_view(&note, &cp, a)) == 0 && (rc = collect(&x, cp.size)) == 0)
		rc = build_model(out, &x, cp.size);
	xevents_free(&x);
	json_decref(x.docs);
	free(note);
	return rc;
}
