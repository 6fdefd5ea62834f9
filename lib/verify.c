/*
 * verify.c - verification of the whole archive (docs/verification.md).
 *
 * Order of the checks, each stopping at the first failure, which is named:
 *   1. journal: for each event k in order: commit shape (one parent, one
 *      event.json), canonical bytes, seq == k, prev == leaf(k-1), the
 *      genesis event at 0, the commit's SSHSIG signature by the genesis key;
 *   2. keys/signing.pub.pem is the genesis key;
 *   3. the latest checkpoint: signature, origin, size <= journal size, root
 *      == MTH of the first `size` events;
 *   4. --since: the old checkpoint's signature and an RFC 9162 consistency
 *      proof from it to the journal;
 *   5. state against journal: every document entry is the one its event
 *      names, every filed document is present;
 *   6. unless quick: every content and metadata object re-hashed (SHA-1
 *      name and the SHA-256 recorded in the event).
 * Nothing read from the state tree or caches is trusted: everything is
 * checked against the signed journal.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "fsutil.h"
#include "index.h"
#include "journal.h"
#include "life.h"
#include "note.h"
#include "package.h"
#include "sshsig.h"
#include "state.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define CONTENT_THREADS 8

struct eakte_verify_report {
	int ok;
	char failure[2048];
	char kind[16];
	int64_t seq;                /* event named by the failure, or -1 */
	uint64_t events, objects, bytes;
	uint64_t checkpoint_size;
	uint64_t uncovered;
	uint64_t since_size;
	int since;
	char origin[256];
};

typedef struct {
	char doc[EAKTE_ID_LEN + 1];
	int64_t version;
	uint64_t seq;
	uint8_t content_oid[EAKTE_OID_LEN], content_sha[EAKTE_HASH_LEN];
	uint8_t meta_oid[EAKTE_OID_LEN], meta_sha[EAKTE_HASH_LEN];
	uint8_t event_oid[EAKTE_OID_LEN];
	uint64_t size;
	int seen;                   /* bit 1 content, 2 meta, 4 event */
	uint64_t disposed;          /* the dispose event that removed it, or 0 */
} filed;

/* A metadata object named by a records event (meta, akte-create,
 * vorgang-create): where the state keeps it, and its hashes. */
typedef struct {
	char path[192];
	uint64_t seq;
	uint8_t oid[EAKTE_OID_LEN], sha[EAKTE_HASH_LEN];
	uint64_t disposed;          /* the dispose event that removed it, or 0 */
} metaref;

typedef struct {
	eakte_archive *a;
	eakte_verify_report *r;
	metaref *metas;
	size_t nmetas, capmetas;
	const eakte_verify_options *opts;
	eakte_hash *leaves;
	uint64_t n;
	filed *files;
	size_t nfiles, capfiles;
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	char origin[256];
	uint64_t state_size;
	uint64_t n_docs;            /* documents (first versions) filed */
	uint64_t gone_docs, gone_versions; /* of them disposed of */
	eakte_lifev *life;          /* disposals (lifeverify.c) */
	pthread_mutex_t git_mu;     /* libgit2 reads from the content workers, one at a time */
} vctx;

static int fail(vctx *v, const char *kind, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(vctx *v, const char *kind, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (!v->r->ok)
		return 1;
	v->r->ok = 0;
	snprintf(v->r->kind, sizeof(v->r->kind), "%s", kind);
	v->r->seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->r->failure, sizeof(v->r->failure), fmt, ap);
	va_end(ap);
	return 1;
}

static void progress(vctx *v, const char *phase, uint64_t done, uint64_t total)
{
	if (v->opts->progress != NULL)
		v->opts->progress(phase, done, total, v->opts->payload);
}

static int cmp_filed(const void *x, const void *y)
{
	const filed *a = x, *b = y;
	int c = strcmp(a->doc, b->doc);

	if (c != 0)
		return c;
	return a->version < b->version ? -1 : a->version > b->version;
}

static filed *find_filed(vctx *v, const char *doc, int64_t version)
{
	filed key;

	memset(&key, 0, sizeof(key));
	snprintf(key.doc, sizeof(key.doc), "%s", doc);
	key.version = version;
	return bsearch(&key, v->files, v->nfiles, sizeof(filed), cmp_filed);
}

static int record_meta(vctx *v, const eakte_ev *ev)
{
	const json_t *ref = json_object_get(ev->root, "meta");
	const char *oid = json_string_value(json_object_get(ref, "oid"));
	const char *sha = json_string_value(json_object_get(ref, "sha256"));
	const char *az = json_string_value(json_object_get(ev->root, "akte"));
	const char *doc = json_string_value(json_object_get(ev->root, "doc"));
	metaref *m;

	if (v->nmetas == v->capmetas) {
		size_t cap = v->capmetas ? v->capmetas * 2 : 256;
		metaref *p = realloc(v->metas, cap * sizeof(*p));
		if (p == NULL)
			return eakte_error__oom("verifying");
		v->metas = p;
		v->capmetas = cap;
	}
	m = &v->metas[v->nmetas];
	memset(m, 0, sizeof(*m));
	if (oid == NULL || sha == NULL || eakte_hex__decode(m->oid, EAKTE_OID_LEN, oid, strlen(oid)) < 0 ||
	    eakte_hex__decode(m->sha, EAKTE_HASH_LEN, sha, strlen(sha)) < 0)
		return fail(v, "event", (int64_t)ev->seq, "event %" PRIu64 ": malformed \"meta\" reference", ev->seq);
	if (strcmp(ev->action, "meta") == 0) {
		if (doc == NULL || !eakte_event__valid_doc_id(doc))
			return fail(v, "event", (int64_t)ev->seq, "event %" PRIu64 ": malformed doc", ev->seq);
		char dir[128];
		eakte_journal__doc_dir(dir, sizeof(dir), doc);
		snprintf(m->path, sizeof(m->path), "%s/m%" PRIu64 ".meta", dir, ev->seq);
	} else {
		char name[64];
		if (az == NULL)
			return fail(v, "event", (int64_t)ev->seq, "event %" PRIu64 ": names no Akte", ev->seq);
		if (strcmp(ev->action, "akte-create") == 0)
			snprintf(name, sizeof(name), "akte.meta");
		else
			snprintf(name, sizeof(name), "vorgang-%" PRId64 ".meta",
				(int64_t)json_integer_value(json_object_get(ev->root, "vorgang")));
		if (eakte_journal__akte_path(m->path, sizeof(m->path), az, name) < 0)
			return fail(v, "event", (int64_t)ev->seq, "event %" PRIu64 ": %s", ev->seq, eakte_error_last());
	}
	m->seq = ev->seq;
	v->nmetas++;
	return 0;
}

/* The metadata objects of records events: present in the state and
 * matching their signed SHA-256 (they are small: read whole). */
static void check_metas(vctx *v)
{
	for (size_t i = 0; i < v->nmetas && v->r->ok; i++) {
		metaref *m = &v->metas[i];
		uint8_t oid[EAKTE_OID_LEN], sha[EAKTE_HASH_LEN];
		char e[EAKTE_HASH_HEX_LEN + 1], act[EAKTE_HASH_HEX_LEN + 1];
		git_oid goid;
		git_blob *blob;

		if (m->seq >= v->state_size)
			continue; /* filed after the state was last written */
		if (m->disposed > 0) {
			if (m->disposed < v->state_size && eakte_state__entry(oid, v->a, m->path) == 0) {
				fail(v, "state", (int64_t)m->disposed, "event %" PRIu64 " disposed of the metadata object of event %"
					PRIu64 " (%s), but it is still in the archive state", m->disposed, m->seq, m->path);
				return;
			}
			continue;
		}
		if (eakte_state__entry(oid, v->a, m->path) < 0) {
			fail(v, "object", (int64_t)m->seq, "the metadata object of event %" PRIu64 " (%s) is missing from the archive "
				"and no disposal event records its removal", m->seq, m->path);
			return;
		}
		if (memcmp(oid, m->oid, EAKTE_OID_LEN) != 0) {
			eakte_hex__encode(e, m->oid, EAKTE_OID_LEN);
			eakte_hex__encode(act, oid, EAKTE_OID_LEN);
			fail(v, "object", (int64_t)m->seq, "event %" PRIu64 ": metadata object expected=%s actual=%s (the object was replaced)",
				m->seq, e, act);
			return;
		}
		if (v->opts->quick)
			continue;
		git_oid_fromraw(&goid, oid);
		if (git_blob_lookup(&blob, v->a->repo, &goid) < 0) {
			fail(v, "object", (int64_t)m->seq, "event %" PRIu64 ": metadata object %s cannot be read: %s",
				m->seq, git_oid_tostr_s(&goid), git_error_last() ? git_error_last()->message : "unknown error");
			return;
		}
		if (eakte_sha256__buf(sha, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
			git_blob_free(blob);
			fail(v, "object", (int64_t)m->seq, "event %" PRIu64 ": %s", m->seq, eakte_error_last());
			return;
		}
		v->r->objects++;
		v->r->bytes += (uint64_t)git_blob_rawsize(blob);
		git_blob_free(blob);
		if (memcmp(sha, m->sha, EAKTE_HASH_LEN) != 0) {
			eakte_hex__encode(e, m->sha, EAKTE_HASH_LEN);
			eakte_hex__encode(act, sha, EAKTE_HASH_LEN);
			fail(v, "object", (int64_t)m->seq, "event %" PRIu64 ": metadata object SHA-256 expected=%s actual=%s",
				m->seq, e, act);
			return;
		}
	}
}

static int record_file(vctx *v, const eakte_ev *ev, const char *json, size_t len)
{
	eakte_ev_file f;
	filed *x;
	git_oid blob;
	int rc;

	if ((rc = eakte_event__file_refs(&f, ev)) < 0)
		return fail(v, "event", (int64_t)ev->seq, "event %" PRIu64 ": %s", ev->seq, eakte_error_last());
	if (v->nfiles == v->capfiles) {
		size_t cap = v->capfiles ? v->capfiles * 2 : 1024;
		filed *p = realloc(v->files, cap * sizeof(*p));
		if (p == NULL)
			return eakte_error__oom("verifying");
		v->files = p;
		v->capfiles = cap;
	}
	x = &v->files[v->nfiles++];
	memset(x, 0, sizeof(*x));
	snprintf(x->doc, sizeof(x->doc), "%s", f.doc);
	x->version = f.version;
	x->seq = ev->seq;
	if (f.version == 1)
		v->n_docs++;
	x->size = f.size;
	memcpy(x->content_oid, f.content_oid, EAKTE_OID_LEN);
	memcpy(x->content_sha, f.content_sha256, EAKTE_HASH_LEN);
	memcpy(x->meta_oid, f.meta_oid, EAKTE_OID_LEN);
	memcpy(x->meta_sha, f.meta_sha256, EAKTE_HASH_LEN);
	if (git_odb_hash(&blob, json, len, GIT_OBJECT_BLOB) < 0)
		return eakte_archive__git_error(EAKTE_EIO, "hashing an event");
	memcpy(x->event_oid, blob.id, EAKTE_OID_LEN);
	return 0;
}

static int check_genesis(vctx *v, const eakte_ev *ev)
{
	const json_t *key;
	const char *alg, *pub, *origin;

	if (strcmp(ev->action, "genesis") != 0)
		return fail(v, "event", 0, "event 0: action expected=genesis actual=%s", ev->action);
	if (eakte_cjson__get_object(&key, ev->root, "key") < 0 || eakte_cjson__get_string(&alg, key, "alg") < 0 ||
	    eakte_cjson__get_string(&pub, key, "public") < 0 || eakte_cjson__get_string(&origin, ev->root, "origin") < 0 ||
	    strcmp(alg, "ed25519") != 0 ||
	    eakte_base64__decode_exact(v->pub, EAKTE_ED25519_PUB_LEN, pub, strlen(pub)) < 0 ||
	    strlen(origin) >= sizeof(v->origin))
		return fail(v, "event", 0, "event 0: the genesis event does not name an Ed25519 key and an origin");
	strcpy(v->origin, origin);
	return 0;
}

/* Step 1. Returns <0 on errors that stop verification, else 0 (with the
 * report marked failed if a check failed). */
static int check_journal(vctx *v)
{
	git_oid head, *list = NULL;
	uint64_t n, i;
	eakte_import_check imp = { NULL, NULL, NULL };
	int rc;

	if ((rc = eakte_journal__head(&head, v->a)) < 0) {
		fail(v, "journal", -1, "%s", eakte_error_last());
		return 0;
	}
	if ((rc = eakte_journal__list(&list, &n, v->a, &head, NULL)) < 0) {
		fail(v, "journal", -1, "cannot walk the journal: %s", eakte_error_last());
		return 0;
	}
	v->leaves = malloc((n ? n : 1) * sizeof(*v->leaves));
	if (v->leaves == NULL) {
		free(list);
		return eakte_error__oom("verifying the journal");
	}
	for (i = 0; i < n && v->r->ok; i++) {
		eakte_jcommit c;
		eakte_ev ev;
		char prev[EAKTE_HASH_HEX_LEN + 1], hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &list[i]);
		if ((rc = eakte_journal__read_commit(&c, v->a, &list[i])) < 0) {
			fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): %s", i, hex, eakte_error_last());
			break;
		}
		if (c.problem != NULL || c.json == NULL) {
			fail(v, "event", (int64_t)i, "event %" PRIu64 ": %s", i, c.problem ? c.problem : "no event");
		} else if (c.parents > 1) {
			fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s) has %u parents; the journal must be linear", i, hex, c.parents);
		} else if (eakte_event__parse(&ev, c.json, c.len) < 0) {
			fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): %s", i, hex, eakte_error_last());
		} else {
			if (i == 0)
				strcpy(prev, "0000000000000000000000000000000000000000000000000000000000000000");
			else
				eakte_hex__encode(prev, v->leaves[i - 1], EAKTE_HASH_LEN);
			if (ev.seq != i)
				fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): seq expected=%" PRIu64 " actual=%" PRIu64
					" (an event was inserted, removed or reordered)", i, hex, i, ev.seq);
			else if (strcmp(ev.prev, prev) != 0)
				fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): prev expected=%s actual=%s", i, hex, prev, ev.prev);
			else if (i == 0)
				check_genesis(v, &ev);
			else if (strcmp(ev.action, "genesis") == 0)
				fail(v, "event", (int64_t)i, "event %" PRIu64 ": a second genesis event", i);
			if (v->r->ok) {
				if (c.signature == NULL)
					fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): the commit is not signed", i, hex);
				else if (eakte_sshsig__verify(c.signature, c.signature_len, EAKTE_SIG_NAMESPACE,
						(const uint8_t *)c.signed_data, c.signed_len, v->pub) < 0)
					fail(v, "event", (int64_t)i, "event %" PRIu64 " (commit %s): signature does not verify with the archive key: %s",
						i, hex, eakte_error_last());
			}
			if (v->r->ok && (strcmp(ev.action, "meta") == 0 || strcmp(ev.action, "akte-create") == 0 ||
					 strcmp(ev.action, "vorgang-create") == 0) && (rc = record_meta(v, &ev)) < 0) {
				eakte_event__free(&ev);
				eakte_journal__jcommit_free(&c);
				free(list);
				eakte_import__check_free(&imp);
				return rc;
			}
			if (v->r->ok && (rc = eakte_lifev__event(v->life, &ev)) < 0) {
				eakte_event__free(&ev);
				eakte_journal__jcommit_free(&c);
				free(list);
				return rc;
			}
			if (v->r->ok && strcmp(ev.action, "file") == 0 && (rc = record_file(v, &ev, c.json, c.len)) < 0) {
				eakte_event__free(&ev);
				eakte_journal__jcommit_free(&c);
				free(list);
				eakte_import__check_free(&imp);
				return rc;
			}
			/* Imported events against their originals (docs/format.md). */
			if (v->r->ok && (rc = eakte_import__check_event(&imp, &ev)) < 0) {
				if (rc != EAKTE_EVERIFY) {
					eakte_event__free(&ev);
					eakte_journal__jcommit_free(&c);
					free(list);
					eakte_import__check_free(&imp);
					return rc;
				}
				fail(v, "event", (int64_t)i, "event %" PRIu64 " (%s): %s", i, ev.action, eakte_error_last());
			}
			eakte_event__free(&ev);
			eakte_merkle__leaf_hash(v->leaves[i], c.json, c.len);
		}
		eakte_journal__jcommit_free(&c);
		v->r->events = i + 1;
		if ((i & 1023) == 0)
			progress(v, "journal", i, n);
	}
	progress(v, "journal", n, n);
	v->n = n;
	free(list);
	eakte_import__check_free(&imp);
	if (v->nfiles > 1)
		qsort(v->files, v->nfiles, sizeof(filed), cmp_filed);
	return 0;
}

static void check_key_file(vctx *v)
{
	char *pem = NULL;
	size_t len;
	eakte_key *key = NULL;
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	int kfd = openat(v->a->dirfd, "keys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (kfd < 0) {
		fail(v, "key", -1, "keys/ is missing from the archive");
		return;
	}
	if (eakte_fs__read_small(&pem, &len, kfd, "signing.pub.pem", 65536) < 0 ||
	    eakte_key__from_public_pem(&key, pem, len) < 0) {
		fail(v, "key", -1, "keys/signing.pub.pem: %s", eakte_error_last());
	} else {
		eakte_key__public_raw(key, pub);
		if (memcmp(pub, v->pub, sizeof(pub)) != 0) {
			char e64[64], a64[64];
			eakte_base64__encode_to(e64, v->pub, sizeof(pub));
			eakte_base64__encode_to(a64, pub, sizeof(pub));
			fail(v, "key", 0, "keys/signing.pub.pem is not the key named in the genesis event: expected=%s actual=%s (the key was replaced)",
				e64, a64);
		}
	}
	eakte_key__free(key);
	free(pem);
	close(kfd);
}

static void check_checkpoint(vctx *v)
{
	char *note = NULL;
	size_t len, text_len;
	eakte_checkpoint cp;
	eakte_hash root;

	if (eakte_checkpoint_latest(&note, v->a) < 0) {
		fail(v, "checkpoint", -1, "no checkpoint in the archive state: %s", eakte_error_last());
		return;
	}
	len = strlen(note);
	if (eakte_note__verify(&text_len, note, len, v->origin, v->pub) < 0) {
		fail(v, "checkpoint", -1, "the latest checkpoint is not signed by the archive key: %s", eakte_error_last());
	} else if (eakte_checkpoint__parse(&cp, note, text_len) < 0) {
		fail(v, "checkpoint", -1, "the latest checkpoint is malformed: %s", eakte_error_last());
	} else if (strcmp(cp.origin, v->origin) != 0) {
		fail(v, "checkpoint", -1, "checkpoint origin expected=%s actual=%s", v->origin, cp.origin);
	} else if (cp.size > v->n) {
		fail(v, "checkpoint", (int64_t)v->n, "the signed checkpoint covers %" PRIu64 " events but the journal has only %" PRIu64
			": the journal was truncated after event %" PRIu64, cp.size, v->n, v->n ? v->n - 1 : 0);
	} else {
		eakte_merkle__root(root, (const eakte_hash *)v->leaves, cp.size);
		if (memcmp(root, cp.root, EAKTE_HASH_LEN) != 0) {
			char e[64], a[64];
			eakte_base64__encode_to(e, cp.root, EAKTE_HASH_LEN);
			eakte_base64__encode_to(a, root, EAKTE_HASH_LEN);
			fail(v, "checkpoint", -1, "Merkle root of the first %" PRIu64 " events expected=%s (signed checkpoint) actual=%s",
				cp.size, e, a);
		}
		v->r->checkpoint_size = cp.size;
		v->r->uncovered = v->n - cp.size;
	}
	free(note);
}

static void check_since(vctx *v)
{
	eakte_checkpoint old;
	eakte_hash root, *proof = NULL;
	size_t text_len, count = 0;

	v->r->since = 1;
	if (eakte_note__verify(&text_len, v->opts->since, v->opts->since_len, v->origin, v->pub) < 0) {
		fail(v, "since", -1, "the saved checkpoint is not signed by this archive's key: %s", eakte_error_last());
		return;
	}
	if (eakte_checkpoint__parse(&old, v->opts->since, text_len) < 0) {
		fail(v, "since", -1, "the saved checkpoint is malformed: %s", eakte_error_last());
		return;
	}
	v->r->since_size = old.size;
	if (old.size > v->n) {
		fail(v, "since", (int64_t)v->n, "the journal has %" PRIu64 " events, fewer than the %" PRIu64
			" of the saved checkpoint: it was truncated after event %" PRIu64, v->n, old.size, v->n ? v->n - 1 : 0);
		return;
	}
	if (old.size == 0) {
		fail(v, "since", -1, "the saved checkpoint has size 0 and proves nothing");
		return;
	}
	eakte_merkle__root(root, (const eakte_hash *)v->leaves, v->n);
	if (eakte_merkle__consistency_proof(&proof, &count, (const eakte_hash *)v->leaves, old.size, v->n) < 0 ||
	    eakte_merkle__verify_consistency(old.size, v->n, (const eakte_hash *)proof, count, old.root, root) < 0) {
		/* Name the first event that differs where we can: the old tree's
		 * leaves are unknown, so report the smallest prefix that does not match. */
		fail(v, "since", -1, "the journal does not extend the saved checkpoint of size %" PRIu64
			" (RFC 9162 consistency proof fails): events before %" PRIu64 " were rewritten", old.size, old.size);
	}
	free(proof);
}

typedef struct {
	vctx *v;
} state_walk;

static int state_entry(const char *doc, int64_t version, const char *suffix, const uint8_t oid[EAKTE_OID_LEN], void *payload)
{
	vctx *v = payload;
	filed *f = find_filed(v, doc, version);
	const uint8_t *expected;
	char e[EAKTE_OID_HEX_LEN + 1], a[EAKTE_OID_HEX_LEN + 1];
	int bit;

	if (f == NULL) {
		fail(v, "state", -1, "document %s version %lld is in the archive state but no event filed it", doc, (long long)version);
		return 1;
	}
	if (strcmp(suffix, "content") == 0) {
		expected = f->content_oid;
		bit = 1;
	} else if (strcmp(suffix, "meta") == 0) {
		expected = f->meta_oid;
		bit = 2;
	} else if (strcmp(suffix, "event") == 0) {
		expected = f->event_oid;
		bit = 4;
	} else {
		fail(v, "state", (int64_t)f->seq, "document %s: unexpected entry %lld.%s in the archive state", doc, (long long)version, suffix);
		return 1;
	}
	if (f->disposed > 0 && f->disposed < v->state_size) {
		fail(v, "state", (int64_t)f->disposed, "event %" PRIu64 " disposed of document %s, but its %lld.%s is still "
			"in the archive state", f->disposed, doc, (long long)version, suffix);
		return 1;
	}
	if (memcmp(expected, oid, EAKTE_OID_LEN) != 0) {
		eakte_hex__encode(e, expected, EAKTE_OID_LEN);
		eakte_hex__encode(a, oid, EAKTE_OID_LEN);
		fail(v, "object", (int64_t)f->seq, "document %s (event %" PRIu64 "): %s object expected=%s actual=%s (the object was replaced)",
			doc, f->seq, suffix, e, a);
		return 1;
	}
	f->seen |= bit;
	return 0;
}

static void check_state(vctx *v)
{
	size_t i;
	int rc;

	if (v->a->state_mismatch) {
		fail(v, "state", (int64_t)v->a->state_size, "the archive state records %" PRIu64
			" events with a head commit that is not in the journal: the journal was rewritten", v->a->state_size);
		return;
	}
	rc = eakte_state__foreach_doc(v->a, state_entry, v);
	if (rc < 0) {
		fail(v, "state", -1, "cannot read the archive state: %s", eakte_error_last());
		return;
	}
	if (!v->r->ok)
		return;
	for (i = 0; i < v->nfiles; i++) {
		filed *f = &v->files[i];
		if (f->seq >= v->state_size)
			continue; /* filed after the state was last written (an interrupted write) */
		if (f->disposed > 0)
			continue; /* removed by a dispose event that verified */
		if (f->seen != 7) {
			fail(v, "object", (int64_t)f->seq, "document %s (filed in event %" PRIu64 ") is missing from the archive and no disposal event records its removal",
				f->doc, f->seq);
			return;
		}
	}
}

/*
 * Re-hash one object.  Returns 0 if it matches, 1 if not (msg says how),
 * or a negative error code (the error text is this thread's).
 */
static int hash_object(vctx *v, const filed *f, const uint8_t oid[EAKTE_OID_LEN], const uint8_t sha[EAKTE_HASH_LEN],
	const char *what, int packed, uint64_t *bytes, char *msg, size_t msg_len)
{
	eakte_obj_info info;
	char e[EAKTE_HASH_HEX_LEN + 1], a[EAKTE_HASH_HEX_LEN + 1], name[EAKTE_OID_HEX_LEN + 1];
	int rc;

	eakte_hex__encode(name, oid, EAKTE_OID_LEN);
	/* Content is a loose object (streamed); metadata sits in a pack. */
	rc = packed ? EAKTE_ENOTFOUND : eakte_obj__read(&info, v->a->objects_fd, oid, NULL, NULL);
	if (rc == EAKTE_ENOTFOUND) {
		/* Packed, or store.git was repacked by hand: read it through libgit2. */
		git_oid g;
		git_blob *blob;
		git_oid_fromraw(&g, oid);
		pthread_mutex_lock(&v->git_mu);
		if (git_blob_lookup(&blob, v->a->repo, &g) < 0) {
			pthread_mutex_unlock(&v->git_mu);
			snprintf(msg, msg_len, "document %s (event %" PRIu64 "): %s object %s is missing and no disposal "
				"event records its removal", f->doc, f->seq, what, name);
			return 1;
		}
		info.size = (uint64_t)git_blob_rawsize(blob);
		rc = eakte_sha256__buf(info.sha256, git_blob_rawcontent(blob), (size_t)info.size);
		git_blob_free(blob);
		pthread_mutex_unlock(&v->git_mu);
	}
	if (rc == EAKTE_ECORRUPT) {
		snprintf(msg, msg_len, "document %s (event %" PRIu64 "): %s", f->doc, f->seq, eakte_error_last());
		return 1;
	}
	if (rc < 0)
		return rc;
	*bytes = info.size;
	if (memcmp(info.sha256, sha, EAKTE_HASH_LEN) != 0) {
		eakte_hex__encode(e, sha, EAKTE_HASH_LEN);
		eakte_hex__encode(a, info.sha256, EAKTE_HASH_LEN);
		snprintf(msg, msg_len, "document %s (event %" PRIu64 "): %s object %s SHA-256 expected=%s actual=%s",
			f->doc, f->seq, what, name, e, a);
		return 1;
	}
	return 0;
}

/* Content checks run on every core: re-hashing is CPU-bound (inflate and
 * SHA-1 with collision detection, see shared MEASURED.md).  Documents are
 * taken in journal order and the failure with the lowest seq is reported,
 * so the result does not depend on thread timing. */
typedef struct {
	vctx *v;
	pthread_mutex_t mu;
	size_t next, n;
	size_t fail_at;             /* index of the earliest failure, n if none */
	char fail_msg[2048];
	int rc;                     /* first hard error */
	char err_msg[2048];
	uint64_t objects, bytes, done;
} content_pool;

static void *content_worker(void *arg)
{
	content_pool *p = arg;
	char msg[2048];

	for (;;) {
		filed *f;
		uint64_t b1 = 0, b2 = 0;
		size_t i;
		int r;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		if (i >= p->n || i > p->fail_at || p->rc < 0) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_unlock(&p->mu);
		f = &p->v->files[i];
		if (f->seen == 0)
			continue;
		r = hash_object(p->v, f, f->content_oid, f->content_sha, "content", 0, &b1, msg, sizeof(msg));
		if (r == 0)
			r = hash_object(p->v, f, f->meta_oid, f->meta_sha, "metadata", 1, &b2, msg, sizeof(msg));
		pthread_mutex_lock(&p->mu);
		if (r < 0 && p->rc == 0) {
			p->rc = r;
			snprintf(p->err_msg, sizeof(p->err_msg), "%s", eakte_error_last());
		} else if (r > 0 && i < p->fail_at) {
			p->fail_at = i;
			memcpy(p->fail_msg, msg, sizeof(msg));
		} else if (r == 0) {
			p->objects += 2;
			p->bytes += b1 + b2;
		}
		if ((++p->done & 255) == 0)
			progress(p->v, "content", p->done, p->n);
		pthread_mutex_unlock(&p->mu);
	}
}

static int cmp_seq(const void *x, const void *y)
{
	const filed *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int check_content(vctx *v)
{
	content_pool p;
	pthread_t threads[CONTENT_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int i, nthreads = ncpu < 1 ? 1 : ncpu > CONTENT_THREADS ? CONTENT_THREADS : (int)ncpu, started = 0;

	if (v->nfiles > 1)
		qsort(v->files, v->nfiles, sizeof(filed), cmp_seq);
	memset(&p, 0, sizeof(p));
	p.v = v;
	p.n = v->nfiles;
	p.fail_at = v->nfiles;
	pthread_mutex_init(&p.mu, NULL);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&threads[started], NULL, content_worker, &p) == 0)
			started++;
	if (started == 0)
		content_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&p.mu);
	v->r->objects += p.objects;
	v->r->bytes += p.bytes;
	if (p.rc < 0)
		return eakte_error__set(p.rc, "%s", p.err_msg);
	if (p.fail_at < v->nfiles)
		fail(v, "object", (int64_t)v->files[p.fail_at].seq, "%s", p.fail_msg);
	progress(v, "content", v->nfiles, v->nfiles);
	return 0;
}

/*
 * The index is derived, but an index that disagrees with the journal gives
 * wrong answers to searches: report it.  An index that merely lags behind
 * (a crash after the journal commit) is not drift: it catches up on open.
 */
static void check_index(vctx *v)
{
	eakte_index *ix = NULL;
	sqlite3_stmt *st = NULL;
	uint64_t applied, versions = 0;
	char head[GIT_OID_HEXSZ + 1], hex[GIT_OID_HEXSZ + 1];
	int64_t n_docs = -1, n_versions = -1;
	int rc;

	rc = eakte_index__open(&ix, v->a->path, 0);
	if (rc == EAKTE_ENOTFOUND) {
		fail(v, "index", -1, "index drift: index.sqlite is missing; it is derived from the journal: "
			"`eakte reindex` (or the next write) rebuilds it");
		return;
	}
	if (rc < 0) {
		fail(v, "index", -1, "index drift: index.sqlite is unusable (%s); `eakte reindex` rebuilds it", eakte_error_last());
		return;
	}
	if (sqlite3_prepare_v2(eakte_index__db(ix), "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		fail(v, "index", -1, "index drift: index.sqlite is damaged (%s); `eakte reindex` rebuilds it",
			st && sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(eakte_index__db(ix)));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = eakte_index__position(ix, &applied, head)) < 0) {
		fail(v, "index", -1, "index drift: %s; `eakte reindex` rebuilds it", eakte_error_last());
		goto out;
	}
	if (applied > v->n) {
		fail(v, "index", (int64_t)v->n, "index drift: the index has applied %" PRIu64 " events, the journal has %" PRIu64
			"; `eakte reindex` rebuilds it", applied, v->n);
		goto out;
	}
	if (applied == 0)
		goto out;
	if (eakte_journal__load_index(v->a) < 0 || v->a->index_len < applied) {
		fail(v, "index", -1, "cannot read the journal to compare the index: %s", eakte_error_last());
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &v->a->commits[applied - 1]);
	if (strcmp(hex, head) != 0) {
		fail(v, "index", (int64_t)applied - 1, "index drift: the index's event %" PRIu64 " is commit %s, the journal's is %s; "
			"`eakte reindex` rebuilds it", applied - 1, head, hex);
		goto out;
	}
	if (applied < v->n)
		goto out; /* behind, not wrong: it catches up */
	versions = v->nfiles - v->gone_versions;
	if (sqlite3_prepare_v2(eakte_index__db(ix), "SELECT (SELECT count(*) FROM doc), (SELECT count(*) FROM version)",
		    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		n_docs = sqlite3_column_int64(st, 0);
		n_versions = sqlite3_column_int64(st, 1);
	}
	if (n_versions != (int64_t)versions || n_docs != (int64_t)(v->n_docs - v->gone_docs))
		fail(v, "index", -1, "index drift: the index lists %" PRId64 " documents in %" PRId64 " versions, the journal "
			"%" PRIu64 " in %" PRIu64 " (not counting disposed ones); `eakte reindex` rebuilds it", n_docs, n_versions,
			v->n_docs - v->gone_docs, versions);
out:
	sqlite3_finalize(st);
	eakte_index__close(ix);
}

/* Dispose events against the journal; then excuse what they removed. */
static int check_disposals(vctx *v)
{
	char msg[1024];
	int64_t seq = -1;
	int rc = eakte_lifev__check(v->life, msg, sizeof(msg), &seq);

	if (rc < 0)
		return rc;
	if (rc > 0) {
		fail(v, "event", seq, "%s", msg);
		return 0;
	}
	for (size_t i = 0; i < v->nfiles; i++) {
		filed *f = &v->files[i];
		if ((f->disposed = eakte_lifev__doc_disposed(v->life, f->doc)) > 0) {
			v->gone_versions++;
			if (f->version == 1)
				v->gone_docs++;
		}
	}
	for (size_t i = 0; i < v->nmetas; i++)
		v->metas[i].disposed = eakte_lifev__meta_disposed(v->life, v->metas[i].seq);
	return 0;
}

int eakte_verify(eakte_verify_report **out, eakte_archive *a, const eakte_verify_options *opts)
{
	eakte_verify_options defaults = EAKTE_VERIFY_OPTIONS_INIT;
	vctx v;
	int rc = 0;

	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != EAKTE_VERIFY_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_verify_options version %u is not supported", opts->version);
	if (opts->since != NULL && opts->since_len > EAKTE_NOTE_MAX)
		return eakte_error__set(EAKTE_EINVALID, "the saved checkpoint is larger than 1 MiB");
	memset(&v, 0, sizeof(v));
	pthread_mutex_init(&v.git_mu, NULL);
	v.a = a;
	v.opts = opts;
	v.r = calloc(1, sizeof(*v.r));
	if (v.r == NULL)
		return eakte_error__oom("verifying");
	v.r->ok = 1;
	v.r->seq = -1;
	v.state_size = a->state_size;
	if ((rc = eakte_lifev__new(&v.life)) < 0) {
		free(v.r);
		pthread_mutex_destroy(&v.git_mu);
		return rc;
	}
	if ((rc = check_journal(&v)) < 0)
		goto out;
	if (v.r->ok && (rc = check_disposals(&v)) < 0)
		goto out;
	snprintf(v.r->origin, sizeof(v.r->origin), "%s", v.origin);
	if (v.r->ok)
		check_key_file(&v);
	if (v.r->ok)
		check_checkpoint(&v);
	if (v.r->ok && opts->since != NULL)
		check_since(&v);
	if (v.r->ok)
		check_state(&v);
	if (v.r->ok)
		check_metas(&v);
	if (v.r->ok && !opts->quick)
		rc = check_content(&v);
	if (rc == 0 && v.r->ok)
		check_index(&v);
out:
	pthread_mutex_destroy(&v.git_mu);
	eakte_lifev__free(v.life);
	free(v.leaves);
	free(v.files);
	free(v.metas);
	if (rc < 0) {
		free(v.r);
		return rc;
	}
	*out = v.r;
	return 0;
}

void eakte_verify_report_free(eakte_verify_report *r)
{
	free(r);
}

int eakte_verify_report_ok(const eakte_verify_report *r) { return r->ok; }
const char *eakte_verify_report_failure(const eakte_verify_report *r) { return r->failure; }
uint64_t eakte_verify_report_events(const eakte_verify_report *r) { return r->events; }
uint64_t eakte_verify_report_objects(const eakte_verify_report *r) { return r->objects; }
uint64_t eakte_verify_report_bytes(const eakte_verify_report *r) { return r->bytes; }

int eakte_verify_report_to_json(char **out, const eakte_verify_report *r)
{
	json_t *o = json_object(), *cp = json_object(), *f = NULL;
	int rc;

	*out = NULL;
	if (o == NULL || cp == NULL)
		goto oom;
	if (json_object_set_new(o, "schema", json_string("eakte.verify/1")) < 0 ||
	    json_object_set_new(o, "ok", json_boolean(r->ok)) < 0 ||
	    json_object_set_new(o, "origin", json_string(r->origin)) < 0 ||
	    json_object_set_new(o, "events", json_integer((json_int_t)r->events)) < 0 ||
	    json_object_set_new(o, "objects", json_integer((json_int_t)r->objects)) < 0 ||
	    json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes)) < 0 ||
	    json_object_set_new(cp, "size", json_integer((json_int_t)r->checkpoint_size)) < 0 ||
	    json_object_set_new(cp, "uncovered_events", json_integer((json_int_t)r->uncovered)) < 0 ||
	    json_object_set(o, "checkpoint", cp) < 0)
		goto oom;
	if (r->since && json_object_set_new(o, "since_size", json_integer((json_int_t)r->since_size)) < 0)
		goto oom;
	if (!r->ok) {
		f = json_object();
		if (f == NULL || json_object_set_new(f, "kind", json_string(r->kind)) < 0 ||
		    json_object_set_new(f, "message", json_string(r->failure)) < 0 ||
		    json_object_set_new(f, "seq", r->seq >= 0 ? json_integer(r->seq) : json_null()) < 0 ||
		    json_object_set(o, "failure", f) < 0)
			goto oom;
	}
	rc = eakte_cjson__dump(out, NULL, o);
	json_decref(o);
	json_decref(cp);
	json_decref(f);
	return rc;
oom:
	json_decref(o);
	json_decref(cp);
	json_decref(f);
	return eakte_error__oom("encoding the verification report");
}
