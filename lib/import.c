/*
 * import.c - taking an export package from another archive into this one
 * (docs/format.md "Imported events").
 *
 * Order:
 *   1. the package is read and verified as a whole (package.c); anything
 *      that does not verify is refused before anything is written;
 *   2. the target is checked: the Aktenzeichen is new here, its Aktenplan
 *      code exists;
 *   3. the package is read a second time and each document version is
 *      streamed into an unnamed file and from there into the object store
 *      (as filing does: type detection, zlib level by type), re-hashed and
 *      compared with what step 1 verified; the format policy applies;
 *      the objects are made durable (one syncfs);
 *   4. one transaction appends the `import` event and the replayed events;
 *      the journal ref move is the commit point, as for every write.
 * A failure before 4 leaves at most unreferenced objects (as a failed
 * batch does); nothing is filed.
 */
#include "archive.h"
#include "cjson.h"
#include "conf.h"
#include "encode.h"
#include "event.h"
#include "fsutil.h"
#include "index.h"
#include "journal.h"
#include "mime.h"
#include "package.h"
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
	char member[160];
	eakte_obj_info info;
	int have;
} imported_content;

typedef struct {
	eakte_archive *a;
	const eakte_pkg *p;
	imported_content *c;     /* one per file event of the package, in event order */
	size_t nc;
	eakte_mime *mime;
	eakte_obj_dirty dirty;
	int tmp;                 /* the member being received */
	imported_content *cur;
	char err[512];
} importer;

static imported_content *content_for(importer *im, const char *name)
{
	for (size_t i = 0; i < im->nc; i++)
		if (strcmp(im->c[i].member, name) == 0)
			return &im->c[i];
	return NULL;
}

static int unnamed_file(int dirfd)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = memfd_create("eakte-import", MFD_CLOEXEC);
	return fd;
}

static int member_cb(const char *name, const void *data, size_t len, void *payload)
{
	importer *im = payload;
	int rc;

	if (im->tmp < 0) {
		if ((im->cur = content_for(im, name)) == NULL)
			return eakte_error__set(EAKTE_EVERIFY, "%s appeared in the package's second reading only", name);
		if (im->cur->have)
			return eakte_error__set(EAKTE_EVERIFY, "%s appears twice", name);
		if ((im->tmp = unnamed_file(im->a->objects_fd)) < 0)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot create a temporary file for %s", name);
	}
	if (data != NULL)
		return eakte_fs__write_all(im->tmp, data, len, name);
	/* The member is complete: into the store, as filing does. */
	if (lseek(im->tmp, 0, SEEK_SET) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot rewind the temporary file of %s", name);
	} else {
		rc = eakte_obj__write_fd(&im->cur->info, im->a->objects_fd, im->tmp, im->mime, &im->dirty, name);
		im->cur->have = rc == 0;
	}
	close(im->tmp);
	im->tmp = -1;
	return rc;
}

/* The "hash" lines of a proof, as a JSON array of base64 strings. */
static json_t *proof_hashes(const char *proof)
{
	json_t *a = json_array();
	const char *p = proof;

	while (a != NULL && (p = strstr(p, "\nhash ")) != NULL) {
		const char *end = strchr(p + 6, '\n');
		if (end == NULL || json_array_append_new(a, json_stringn(p + 6, (size_t)(end - p - 6))) < 0) {
			json_decref(a);
			return NULL;
		}
		p = end;
	}
	return a;
}

/* {"origin","seq","event","proof"}: the original event and its proof. */
static json_t *imported_ref(const eakte_pkg *p, const eakte_pkg_event *e)
{
	char path[64], *ev64 = NULL;
	const eakte_bag_file *pf;
	json_t *ref;

	snprintf(path, sizeof(path), "data/journal/%" PRIu64 ".proof", e->seq);
	if ((pf = eakte_bag__find(&p->bag, path)) == NULL || eakte_base64__encode(&ev64, (const uint8_t *)e->json, e->len) < 0)
		return NULL;
	ref = json_pack("{s:s, s:I, s:s, s:o}", "origin", p->origin, "seq", (json_int_t)e->seq, "event", ev64,
		"proof", proof_hashes(pf->data));
	free(ev64);
	return ref;
}

/* The original metadata object an event names (verified by package.c). */
static json_t *original_meta(const eakte_pkg *p, const eakte_pkg_event *e)
{
	const char *sha = json_string_value(json_object_get(json_object_get(e->ev.root, "meta"), "sha256"));
	const eakte_bag_file *f;
	char path[128];
	json_t *o = NULL;

	if (sha == NULL)
		return NULL;
	snprintf(path, sizeof(path), "data/objects/%s.json", sha);
	if ((f = eakte_bag__find(&p->bag, path)) == NULL || eakte_cjson__parse(&o, f->data, f->len, EAKTE_EVENT_MAX) < 0)
		return NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A new metadata object: the original's descriptive fields with this
 * archive's Aktenzeichen and document id (salted anew by put_meta). */
static int new_meta(json_t **ref, eakte_archive *a, const json_t *orig, const char *az, const char *doc,
	int64_t version, int64_t vorgang)
{
	json_t *m = json_object();
	int rc;

	*ref = NULL;
	if (m == NULL)
		return eakte_error__oom("a metadata object");
	if (doc != NULL) {
		json_t *title = json_object_get(orig, "title"), *fn = json_object_get(orig, "filename"), *kv = json_object_get(orig, "meta");
		if (!json_is_string(title) || !json_is_string(fn) || !json_is_object(kv)) {
			json_decref(m);
			return eakte_error__set(EAKTE_EVERIFY, "a document's metadata object in the package lacks title, filename or meta");
		}
		if (json_object_set_new(m, "doc", json_string(doc)) < 0 || json_object_set_new(m, "version", json_integer(version)) < 0 ||
		    json_object_set(m, "title", title) < 0 || json_object_set(m, "filename", fn) < 0 || json_object_set(m, "meta", kv) < 0) {
			json_decref(m);
			return eakte_error__oom("a metadata object");
		}
	} else {
		json_t *title = json_object_get(orig, "title");
		if (!json_is_string(title)) {
			json_decref(m);
			return eakte_error__set(EAKTE_EVERIFY, "an Akte or Vorgang metadata object in the package has no title");
		}
		if (json_object_set(m, "title", title) < 0 || (vorgang > 0 && json_object_set_new(m, "vorgang", json_integer(vorgang)) < 0)) {
			json_decref(m);
			return eakte_error__oom("a metadata object");
		}
	}
	if (json_object_set_new(m, "akte", json_string(az)) < 0) {
		json_decref(m);
		return eakte_error__oom("a metadata object");
	}
	rc = eakte_records__put_meta(ref, a, m);
	json_decref(m);
	return rc;
}

/* The new event for package event e, or NULL in *out when e is not replayed. */
static int replay(json_t **out, importer *im, const eakte_pkg_event *e, const char *az, json_t *docs, size_t *ci)
{
	const eakte_pkg *p = im->p;
	const char *act = e->ev.action;
	json_t *ev = NULL, *ref = NULL, *orig = NULL, *meta = NULL;
	int64_t version = 0, vorgang = 0;
	const char *doc = NULL, *newdoc = NULL;
	int rc = 0;

	*out = NULL;
	if (strcmp(act, "akte-create") != 0 && strcmp(act, "vorgang-create") != 0 && strcmp(act, "file") != 0 &&
	    strcmp(act, "meta") != 0 && strcmp(act, "akte-close") != 0 && strcmp(act, "akte-reopen") != 0)
		return 0;
	if ((ref = imported_ref(p, e)) == NULL || (ev = json_pack("{s:s, s:s, s:O}", "action", act, "akte", az, "imported", ref)) == NULL) {
		rc = eakte_error__oom("an imported event");
		goto out;
	}
	if (strcmp(act, "meta") == 0 || strcmp(act, "file") == 0) {
		char id[EAKTE_ID_LEN + 1];
		if (eakte_cjson__get_string(&doc, e->ev.root, "doc") < 0 || eakte_cjson__get_int(&version, e->ev.root, "version") < 0) {
			rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/%" PRIu64 ".json lacks doc or version", e->seq);
			goto out;
		}
		newdoc = json_string_value(json_object_get(docs, doc));
		if (newdoc == NULL) {
			if (strcmp(act, "meta") == 0) {
				rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/%" PRIu64 ".json changes document %s before it is filed", e->seq, doc);
				goto out;
			}
			if ((rc = eakte_event__new_doc_id(id)) < 0 || json_object_set_new(docs, doc, json_string(id)) < 0) {
				rc = rc < 0 ? rc : eakte_error__oom("a document id");
				goto out;
			}
			newdoc = json_string_value(json_object_get(docs, doc));
		}
		if (strcmp(act, "meta") == 0)
			json_object_del(ev, "akte");
		if (json_object_set_new(ev, "doc", json_string(newdoc)) < 0 || json_object_set_new(ev, "version", json_integer(version)) < 0) {
			rc = eakte_error__oom("an imported event");
			goto out;
		}
	}
	if (strcmp(act, "akte-create") == 0 && json_object_set(ev, "plan", json_object_get(e->ev.root, "plan")) < 0)
		rc = eakte_error__oom("an imported event");
	if ((strcmp(act, "vorgang-create") == 0 || strcmp(act, "file") == 0) &&
	    eakte_cjson__get_int(&vorgang, e->ev.root, "vorgang") == 0 && json_object_set_new(ev, "vorgang", json_integer(vorgang)) < 0)
		rc = eakte_error__oom("an imported event");
	if (strcmp(act, "akte-close") == 0 && json_object_set(ev, "date", json_object_get(e->ev.root, "date")) < 0)
		rc = eakte_error__oom("an imported event");
	if (rc < 0)
		goto out;
	if (json_object_get(e->ev.root, "meta") != NULL) {
		if ((orig = original_meta(p, e)) == NULL) {
			rc = eakte_error__set(EAKTE_EVERIFY, "the metadata object of data/journal/%" PRIu64 ".json is not a JSON object", e->seq);
			goto out;
		}
		if ((rc = new_meta(&meta, im->a, orig, az, newdoc, version, strcmp(act, "vorgang-create") == 0 ? vorgang : 0)) < 0)
			goto out;
		if (json_object_set(ev, "meta", meta) < 0) {
			rc = eakte_error__oom("an imported event");
			goto out;
		}
	}
	if (strcmp(act, "file") == 0) {
		imported_content *c = &im->c[(*ci)++];
		char sha[EAKTE_HASH_HEX_LEN + 1], oid[EAKTE_OID_HEX_LEN + 1];
		eakte_hex__encode(sha, c->info.sha256, EAKTE_HASH_LEN);
		eakte_hex__encode(oid, c->info.oid, EAKTE_OID_LEN);
		if (json_object_set_new(ev, "content", json_pack("{s:s, s:s, s:I, s:s}", "sha256", sha, "oid", oid,
			"size", (json_int_t)c->info.size, "mime", c->info.mime)) < 0) {
			rc = eakte_error__oom("an imported event");
			goto out;
		}
	}
	*out = ev;
	ev = NULL;
out:
	json_decref(ev);
	json_decref(ref);
	json_decref(orig);
	json_decref(meta);
	return rc;
}

static int check_target(eakte_archive *a, const eakte_pkg *p, const char *az)
{
	eakte_index *ix;
	eakte_index_akte existing;
	const char *plan = NULL;
	int rc;

	if ((rc = eakte_records__check_az(az)) < 0)
		return rc;
	if ((rc = eakte_index__for_writer(&ix, a)) < 0)
		return rc;
	rc = eakte_index__akte(&existing, ix, az);
	if (rc == 0)
		return eakte_error__set(EAKTE_EEXISTS, "Akte %s exists already in this archive; import it under another Aktenzeichen with --as NEW-AZ", az);
	if (rc != EAKTE_ENOTFOUND)
		return rc;
	eakte_error__clear();
	for (size_t i = 0; i < p->nevents; i++)
		if (strcmp(p->events[i].ev.action, "akte-create") == 0)
			plan = json_string_value(json_object_get(p->events[i].ev.root, "plan"));
	if (plan == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "the package's akte-create event names no Aktenplan code");
	if ((rc = eakte_index__plan_exists(ix, plan)) < 0)
		return rc;
	if (rc == 0)
		return eakte_error__set(EAKTE_ENOTFOUND, "Aktenplan code %s of the imported Akte does not exist in this archive; "
			"import the Aktenplan first (`eakte plan import`)", plan);
	return 0;
}

int eakte_import(eakte_import_result *res, eakte_archive *a, int fd, const eakte_import_options *o)
{
	importer im;
	eakte_pkg *p = NULL;
	eakte_txn *t = NULL;
	json_t *docs = NULL, *ev = NULL;
	const char *az;
	size_t ci = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&im, 0, sizeof(im));
	im.tmp = -1;
	if (o == NULL || o->version != EAKTE_IMPORT_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_import_options missing or of an unsupported version");
	if (a->lock_fd < 0 || a->key == NULL)
		return eakte_error__set(EAKTE_EINVALID, "an import needs the archive opened for writing");
	if (o->actor != NULL && (rc = eakte_records__check_text("the actor", o->actor, 255, 0)) < 0)
		return rc;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return eakte_error__set_errno(EAKTE_EINVALID, errno, "the package must be a regular file (it is read twice)");
	/* 1. */
	if ((rc = eakte_package__read(&p, fd, "the package", &o->package)) < 0)
		return rc;
	az = o->as != NULL ? o->as : p->akte;
	/* 2. */
	if ((rc = check_target(a, p, az)) < 0)
		goto out;
	/* 3. */
	for (size_t i = 0; i < p->nevents; i++)
		if (strcmp(p->events[i].ev.action, "file") == 0)
			im.nc++;
	if ((im.c = calloc(im.nc ? im.nc : 1, sizeof(*im.c))) == NULL || (docs = json_object()) == NULL) {
		rc = eakte_error__oom("an import");
		goto out;
	}
	for (size_t i = 0, k = 0; i < p->nevents; i++) {
		eakte_ev_file fr;
		if (strcmp(p->events[i].ev.action, "file") != 0)
			continue;
		if ((rc = eakte_event__file_refs(&fr, &p->events[i].ev)) < 0)
			goto out;
		snprintf(im.c[k++].member, sizeof(im.c[0].member), "data/documents/%s/%" PRId64 ".content", fr.doc, fr.version);
	}
	im.a = a;
	im.p = p;
	if ((rc = eakte_mime__new(&im.mime)) < 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read the package again");
		goto out;
	}
	if ((rc = eakte_package__stream(fd, "data/documents/", &o->package, member_cb, &im)) < 0)
		goto out;
	for (size_t i = 0, k = 0; i < p->nevents; i++) {
		eakte_ev_file fr;
		imported_content *c;
		if (strcmp(p->events[i].ev.action, "file") != 0)
			continue;
		c = &im.c[k++];
		if ((rc = eakte_event__file_refs(&fr, &p->events[i].ev)) < 0)
			goto out;
		if (!c->have || c->info.size != fr.size || memcmp(c->info.sha256, fr.content_sha256, EAKTE_HASH_LEN) != 0) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s changed between the verification and the import; nothing was imported", c->member);
			goto out;
		}
		if (!eakte_conf__format_allowed(&a->conf, c->info.mime)) {
			char allowed[1024];
			eakte_conf__formats_text(allowed, sizeof(allowed), &a->conf);
			rc = eakte_error__set(EAKTE_EPOLICY, "%s is %s, which the archive's format policy does not allow (allowed: %s); "
				"nothing was imported", c->member, c->info.mime, allowed);
			goto out;
		}
	}
	if ((rc = eakte_obj__sync(a->objects_fd, &im.dirty)) < 0)
		goto out;
	/* 4. */
	if ((rc = eakte_txn__begin(&t, a)) < 0)
		goto out;
	{
		char sha[EAKTE_HASH_HEX_LEN + 1], root[64], *vkey = NULL;
		const eakte_bag_file *cp = eakte_bag__find(&p->bag, "data/journal/checkpoint");
		eakte_hex__encode(sha, p->sha256, EAKTE_HASH_LEN);
		eakte_base64__encode_to(root, p->cp.root, EAKTE_HASH_LEN);
		if ((rc = eakte_note__verifier_key(&vkey, p->origin, p->pub)) < 0)
			goto out;
		ev = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:{s:I, s:s, s:s}, s:{s:s, s:I}}}", "action", "import", "akte", az,
			"source", "origin", p->origin, "akte", p->akte, "key", vkey, "fingerprint", p->fingerprint,
			"checkpoint", "size", (json_int_t)p->cp.size, "root", root, "note", cp->data,
			"package", "sha256", sha, "size", (json_int_t)p->size);
		free(vkey);
		if (ev == NULL || (o->actor != NULL && json_object_set_new(ev, "actor", json_string(o->actor)) < 0)) {
			rc = eakte_error__oom("the import event");
			goto out;
		}
		if ((rc = eakte_txn__append(t, ev, &res->seq)) < 0)
			goto out;
		json_decref(ev);
		ev = NULL;
		res->events = 1;
	}
	for (size_t i = 0; i < p->nevents; i++) {
		if ((rc = replay(&ev, &im, &p->events[i], az, docs, &ci)) < 0)
			goto out;
		if (ev == NULL)
			continue;
		if (o->actor != NULL && json_object_set_new(ev, "actor", json_string(o->actor)) < 0) {
			rc = eakte_error__oom("an imported event");
			goto out;
		}
		if ((rc = eakte_txn__append(t, ev, NULL)) < 0)
			goto out;
		json_decref(ev);
		ev = NULL;
		res->events++;
	}
	if ((rc = eakte_txn__commit(t)) < 0)
		goto out;
	res->documents = im.nc;
	snprintf(res->az, sizeof(res->az), "%s", az);
	snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", p->fingerprint);
	rc = eakte_records__after_commit(a);
out:
	eakte_txn__free(t);
	if (rc < 0)
		eakte_txnodb__reset(a->txnodb);
	if (im.tmp >= 0)
		close(im.tmp);
	eakte_mime__free(im.mime);
	free(im.c);
	json_decref(ev);
	json_decref(docs);
	eakte_package__free(p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checking imported events (eakte verify)                             */
/* ------------------------------------------------------------------ */

void eakte_import__check_free(eakte_import_check *st)
{
	free(st->origin);
	free(st->vkey);
	free(st->note);
	memset(st, 0, sizeof(*st));
}

static int set_source(eakte_import_check *st, const eakte_ev *ev)
{
	const json_t *src = json_object_get(ev->root, "source");
	const char *origin = json_string_value(json_object_get(src, "origin"));
	const char *vkey = json_string_value(json_object_get(src, "key"));
	const char *note = json_string_value(json_object_get(json_object_get(src, "checkpoint"), "note"));
	char name[EAKTE_NOTE_NAME_MAX + 1];
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	uint32_t id;
	size_t text_len;

	eakte_import__check_free(st);
	if (origin == NULL || vkey == NULL || note == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "the import event lacks its source's origin, key or checkpoint");
	if (eakte_note__parse_verifier_key(name, pub, &id, vkey) < 0 || strcmp(name, origin) != 0 ||
	    eakte_note__verify(&text_len, note, strlen(note), name, pub) < 0)
		return eakte_error__set(EAKTE_EVERIFY, "the import event's source checkpoint is not signed by its source key (origin %s)", origin);
	if ((st->origin = strdup(origin)) == NULL || (st->vkey = strdup(vkey)) == NULL || (st->note = strdup(note)) == NULL) {
		eakte_import__check_free(st);
		return eakte_error__oom("checking an import");
	}
	return 0;
}

/* Members that must be the same in the replayed and the original event. */
static int same_member(const json_t *a, const json_t *b, const char *key)
{
	return json_equal(json_object_get(a, key), json_object_get(b, key)) ||
	       (json_object_get(a, key) == NULL && json_object_get(b, key) == NULL);
}

int eakte_import__check_event(eakte_import_check *st, const eakte_ev *ev)
{
	const json_t *imp = json_object_get(ev->root, "imported"), *h;
	const char *origin, *ev64;
	json_int_t seq;
	eakte_proof_result res;
	eakte_ev orig;
	uint8_t *bytes = NULL;
	size_t nbytes, i;
	char *text = NULL;
	int rc = 0, n;

	if (strcmp(ev->action, "import") == 0)
		return set_source(st, ev);
	if (imp == NULL)
		return 0;
	origin = json_string_value(json_object_get(imp, "origin"));
	ev64 = json_string_value(json_object_get(imp, "event"));
	seq = json_integer_value(json_object_get(imp, "seq"));
	if (st->vkey == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "it carries an imported original but follows no valid import event");
	if (origin == NULL || ev64 == NULL || !json_is_array(json_object_get(imp, "proof")) || strcmp(origin, st->origin) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "its imported original is malformed or not from the import's source %s", st->origin);
	/* The proof text of docs/verification.md, rebuilt from the event. */
	{
		size_t cap = 64 + strlen(ev64) + json_array_size(json_object_get(imp, "proof")) * 52 + strlen(st->note) + 1, pos;
		if ((text = malloc(cap)) == NULL)
			return eakte_error__oom("checking an import");
		pos = (size_t)snprintf(text, cap, "eakte inclusion proof v1\nindex %" JSON_INTEGER_FORMAT "\nevent %s\n", seq, ev64);
		json_array_foreach(json_object_get(imp, "proof"), i, h) {
			const char *b64 = json_string_value(h);
			if (b64 == NULL || strlen(b64) > 44) {
				free(text);
				return eakte_error__set(EAKTE_EVERIFY, "its imported original's proof is malformed");
			}
			n = snprintf(text + pos, cap - pos, "hash %s\n", b64);
			pos += (size_t)n;
		}
		snprintf(text + pos, cap - pos, "\n%s", st->note);
	}
	rc = eakte_proof_verify(&res, text, strlen(text), st->vkey);
	free(text);
	if (rc < 0)
		return eakte_error__wrap(EAKTE_EVERIFY, "its imported original (origin %s, event %" JSON_INTEGER_FORMAT ") is not proven by the import's checkpoint",
			st->origin, seq);
	if (eakte_base64__decode(&bytes, &nbytes, ev64, strlen(ev64)) < 0 || eakte_event__parse(&orig, (const char *)bytes, nbytes) < 0) {
		free(bytes);
		return eakte_error__set(EAKTE_EVERIFY, "its imported original is not an event");
	}
	if (strcmp(orig.action, ev->action) != 0) {
		rc = eakte_error__set(EAKTE_EVERIFY, "it is a %s event but its imported original is a %s event", ev->action, orig.action);
	} else if (!same_member(ev->root, orig.root, "version") || !same_member(ev->root, orig.root, "date") ||
		   !same_member(ev->root, orig.root, "plan") ||
		   ((strcmp(ev->action, "vorgang-create") == 0 || strcmp(ev->action, "file") == 0) &&
		    !same_member(ev->root, orig.root, "vorgang"))) {
		rc = eakte_error__set(EAKTE_EVERIFY, "it does not match its imported original (origin %s, event %" JSON_INTEGER_FORMAT
			"): version, Vorgang, date or plan differ", st->origin, seq);
	} else if (strcmp(ev->action, "file") == 0) {
		const json_t *c = json_object_get(ev->root, "content"), *oc = json_object_get(orig.root, "content");
		if (!same_member(c, oc, "sha256") || !same_member(c, oc, "size"))
			rc = eakte_error__set(EAKTE_EVERIFY, "its content is not that of its imported original (origin %s, event %" JSON_INTEGER_FORMAT
				"): SHA-256 expected=%s actual=%s", st->origin, seq,
				json_string_value(json_object_get(oc, "sha256")) ? json_string_value(json_object_get(oc, "sha256")) : "?",
				json_string_value(json_object_get(c, "sha256")) ? json_string_value(json_object_get(c, "sha256")) : "?");
	}
	eakte_event__free(&orig);
	free(bytes);
	return rc;
}
