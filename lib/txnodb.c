/*
 * txnodb.c - tracking mempack backend; see txnodb.h.
 */
#include "txnodb.h"

#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <git2/sys/odb_backend.h>

struct eakte_txnodb {
	git_odb_backend parent;   /* must be first: libgit2 passes &parent */
	git_odb_backend *inner;   /* the mempack */
	git_oid *written;
	size_t count, cap;
};

static int t_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	eakte_txnodb *t = (eakte_txnodb *)b;
	return t->inner->read(data, len, type, t->inner, oid);
}

static int t_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *oid)
{
	eakte_txnodb *t = (eakte_txnodb *)b;
	return t->inner->read_header(len, type, t->inner, oid);
}

static int t_exists(git_odb_backend *b, const git_oid *oid)
{
	eakte_txnodb *t = (eakte_txnodb *)b;
	return t->inner->exists(t->inner, oid);
}

static int t_write(git_odb_backend *b, const git_oid *oid, const void *data, size_t len, git_object_t type)
{
	eakte_txnodb *t = (eakte_txnodb *)b;
	int rc;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		git_oid *p = realloc(t->written, cap * sizeof(*p));
		if (p == NULL) {
			git_error_set_oom();
			return -1;
		}
		t->written = p;
		t->cap = cap;
	}
	if ((rc = t->inner->write(t->inner, oid, data, len, type)) < 0)
		return rc;
	git_oid_cpy(&t->written[t->count++], oid);
	return 0;
}

int eakte_txnodb__put(eakte_txnodb *t, git_oid *out, const void *data, size_t len, git_object_t type)
{
	if (git_odb_hash(out, data, len, type) < 0 || t_write(&t->parent, out, data, len, type) < 0)
		return eakte_error__set(EAKTE_EIO, "cannot store a journal object: %s",
			git_error_last() ? git_error_last()->message : "libgit2 error");
	return 0;
}

static void t_free(git_odb_backend *b)
{
	eakte_txnodb *t = (eakte_txnodb *)b;

	t->inner->free(t->inner);
	free(t->written);
	free(t);
}

int eakte_txnodb__attach(eakte_txnodb **out, git_odb *odb)
{
	eakte_txnodb *t;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return eakte_error__oom("setting up the object writer");
	if (git_odb_init_backend(&t->parent, GIT_ODB_BACKEND_VERSION) < 0 || git_mempack_new(&t->inner) < 0) {
		free(t);
		return eakte_error__set(EAKTE_EIO, "cannot create the in-memory object store: %s",
			git_error_last() ? git_error_last()->message : "libgit2 error");
	}
	t->parent.read = t_read;
	t->parent.read_header = t_read_header;
	t->parent.exists = t_exists;
	t->parent.write = t_write;
	t->parent.free = t_free;
	if (git_odb_add_backend(odb, &t->parent, 1000) < 0) {
		t_free(&t->parent);
		return eakte_error__set(EAKTE_EIO, "cannot add the in-memory object store: %s",
			git_error_last() ? git_error_last()->message : "libgit2 error");
	}
	*out = t;
	return 0;
}

/* Pack object header: type and size as git's variable-length integer. */
static size_t pack_header(uint8_t *out, git_object_t type, size_t size)
{
	size_t n = 0;
	uint8_t c = (uint8_t)(((unsigned)type << 4) | (size & 0x0f));

	size >>= 4;
	while (size) {
		out[n++] = c | 0x80;
		c = size & 0x7f;
		size >>= 7;
	}
	out[n++] = c;
	return n;
}

typedef struct {
	uint8_t *ptr;    /* the growing pack */
	size_t size, cap;
	EVP_MD_CTX *sha1;
} pack_out;

static int pack_reserve(pack_out *p, size_t more)
{
	if (p->size + more > p->cap) {
		size_t cap = p->cap ? p->cap : 65536;
		uint8_t *np;
		while (cap < p->size + more)
			cap *= 2;
		np = realloc(p->ptr, cap);
		if (np == NULL) {
			git_error_set_oom();
			return -1;
		}
		p->ptr = np;
		p->cap = cap;
	}
	return 0;
}

static int pack_add(pack_out *p, const void *data, size_t len)
{
	if (pack_reserve(p, len) < 0)
		return -1;
	memcpy(p->ptr + p->size, data, len);
	p->size += len;
	return EVP_DigestUpdate(p->sha1, data, len) == 1 ? 0 : -1;
}

/*
 * Build the pack ourselves instead of with git_packbuilder: its delta
 * search and zlib level 6 made packing the journal objects of a large
 * batch cost more than writing the documents.  Objects are written whole
 * (no deltas), deflated at level 1.  Format: "PACK", version 2, count,
 * each object as header + zlib stream, SHA-1 of all that.
 */
static int build_pack(pack_out *p, eakte_txnodb *t)
{
	uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 }, oh[16];
	uint8_t *zbuf = NULL;
	size_t i, zcap = 0;
	uint32_t count = (uint32_t)t->count;
	int rc = 0;

	hdr[8] = (uint8_t)(count >> 24);
	hdr[9] = (uint8_t)(count >> 16);
	hdr[10] = (uint8_t)(count >> 8);
	hdr[11] = (uint8_t)count;
	if (pack_add(p, hdr, sizeof(hdr)) < 0)
		return -1;
	for (i = 0; i < t->count && rc == 0; i++) {
		void *data = NULL;
		size_t len;
		git_object_t type;
		uLongf zlen;

		if (t->inner->read(&data, &len, &type, t->inner, &t->written[i]) < 0)
			return -1;
		zlen = compressBound((uLong)len);
		if (zlen > zcap) {
			uint8_t *nz = realloc(zbuf, zlen);
			if (nz == NULL) {
				git_odb_backend_data_free(t->inner, data);
				free(zbuf);
				git_error_set_oom();
				return -1;
			}
			zbuf = nz;
			zcap = zlen;
		}
		if (compress2(zbuf, &zlen, data, (uLong)len, 1) != Z_OK)
			rc = -1;
		else if (pack_add(p, oh, pack_header(oh, type, len)) < 0 || pack_add(p, zbuf, zlen) < 0)
			rc = -1;
		git_odb_backend_data_free(t->inner, data);
	}
	free(zbuf);
	if (rc == 0) {
		uint8_t sum[20];
		unsigned int n;
		if (EVP_DigestFinal_ex(p->sha1, sum, &n) != 1 || pack_reserve(p, 20) < 0)
			return -1;
		memcpy(p->ptr + p->size, sum, 20);
		p->size += 20;
	}
	return rc;
}

static int cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

int eakte_txnodb__write_pack(eakte_txnodb *t, git_repository *repo, git_odb *odb)
{
	pack_out pack = { NULL, 0, 0, NULL };
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	size_t i, j;
	int rc = 0;

	(void)repo;
	if (t->count == 0)
		return 0;
	/* The same object may have been written more than once (a tree that two
	 * updates produce alike): a pack holds it once.  Order does not matter. */
	qsort(t->written, t->count, sizeof(*t->written), cmp_oid);
	for (i = 1, j = 1; i < t->count; i++)
		if (!git_oid_equal(&t->written[j - 1], &t->written[i]))
			git_oid_cpy(&t->written[j++], &t->written[i]);
	t->count = j;
	memset(&stats, 0, sizeof(stats));
	pack.sha1 = EVP_MD_CTX_new();
	if (pack.sha1 == NULL || EVP_DigestInit_ex(pack.sha1, EVP_sha1(), NULL) != 1 ||
	    build_pack(&pack, t) < 0 ||
	    git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
	    wp->append(wp, pack.ptr, pack.size, &stats) < 0 || wp->commit(wp, &stats) < 0)
		rc = -1;
	if (wp != NULL)
		wp->free(wp);
	free(pack.ptr);
	EVP_MD_CTX_free(pack.sha1);
	if (rc < 0)
		return eakte_error__set(EAKTE_EIO, "writing the journal pack: %s",
			git_error_last() ? git_error_last()->message : "libgit2 error");
	if (git_odb_refresh(odb) < 0)
		return eakte_error__set(EAKTE_EIO, "re-reading the object database: %s",
			git_error_last() ? git_error_last()->message : "libgit2 error");
	return 0;
}

void eakte_txnodb__reset(eakte_txnodb *t)
{
	git_mempack_reset(t->inner);
	t->count = 0;
}
