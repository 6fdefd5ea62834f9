/*
 * txnodb.c - tracking mempack backend; see txnodb.h.
 */
#include "txnodb.h"

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

int eakte_txnodb__write_pack(eakte_txnodb *t, git_repository *repo, git_odb *odb)
{
	git_packbuilder *pb = NULL;
	git_buf pack = GIT_BUF_INIT;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	size_t i;
	int rc = 0;

	if (t->count == 0)
		return 0;
	memset(&stats, 0, sizeof(stats));
	if (git_packbuilder_new(&pb, repo) < 0) {
		rc = -1;
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	for (i = 0; i < t->count && rc == 0; i++)
		rc = git_packbuilder_insert(pb, &t->written[i], NULL);
	if (rc < 0 || git_packbuilder_write_buf(&pack, pb) < 0 ||
	    git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
	    wp->append(wp, pack.ptr, pack.size, &stats) < 0 || wp->commit(wp, &stats) < 0)
		rc = -1;
out:
	if (wp != NULL)
		wp->free(wp);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
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
