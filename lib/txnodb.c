/*
 * txnodb.c - tracking mempack backend; see txnodb.h.
 */
#include "txnodb.h"
#include "packs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>
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

static int cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

int eakte_txnodb__write_pack(eakte_txnodb *t, git_repository *repo)
{
	eakte_packw *w = NULL;
	char pack_dir[4200], name[41];
	size_t i, j;
	int rc;

	if (t->count == 0)
		return 0;
	if ((size_t)snprintf(pack_dir, sizeof(pack_dir), "%sobjects/pack", git_repository_path(repo)) >= sizeof(pack_dir))
		return eakte_error__set(EAKTE_EINVALID, "archive path too long: %s", git_repository_path(repo));
	/* The same object may have been written more than once (a tree that two
	 * updates produce alike): a pack holds it once.  Order does not matter. */
	qsort(t->written, t->count, sizeof(*t->written), cmp_oid);
	for (i = 1, j = 1; i < t->count; i++)
		if (!git_oid_equal(&t->written[j - 1], &t->written[i]))
			git_oid_cpy(&t->written[j++], &t->written[i]);
	t->count = j;
	if (t->count > UINT32_MAX)
		return eakte_error__set(EAKTE_EINVALID, "too many objects (%zu) for one transaction", t->count);
	if ((rc = eakte_packw__begin(&w, pack_dir, (uint32_t)t->count)) < 0)
		return eakte_error__wrap(rc, "writing the journal pack");
	for (i = 0; i < t->count && rc == 0; i++) {
		void *data = NULL;
		size_t len;
		git_object_t type;

		if (t->inner->read(&data, &len, &type, t->inner, &t->written[i]) < 0) {
			rc = eakte_error__set(EAKTE_EIO, "reading a new object back: %s",
				git_error_last() ? git_error_last()->message : "libgit2 error");
			break;
		}
		rc = eakte_packw__add(w, type, data, len);
		git_odb_backend_data_free(t->inner, data);
	}
	/* One syncfs: it also flushes the content objects written for this
	 * transaction, which must be durable before the journal names them. */
	if (rc == 0)
		rc = eakte_packw__finish(w, name, 1);
	eakte_packw__free(w);
	return rc < 0 ? eakte_error__wrap(rc, "writing the journal pack") : 0;
}

void eakte_txnodb__reset(eakte_txnodb *t)
{
	git_mempack_reset(t->inner);
	t->count = 0;
}
