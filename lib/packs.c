/*
 * packs.c - writer-controlled pack rescans and pack consolidation; see packs.h.
 */
#include "packs.h"
#include "encode.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

/* libgit2's own priorities (odb.h, not public): packs before loose objects. */
#define PACKED_PRIORITY 2
#define LOOSE_PRIORITY 1

struct eakte_packs {
	git_odb_backend parent;   /* must be first: libgit2 passes &parent */
	git_odb_backend *inner;   /* libgit2's pack backend */
	int held;
};

static git_odb_backend *inner_of(git_odb_backend *b)
{
	return ((eakte_packs *)b)->inner;
}

static int w_read(void **d, size_t *l, git_object_t *t, git_odb_backend *b, const git_oid *o)
{
	return inner_of(b)->read(d, l, t, inner_of(b), o);
}

static int w_read_prefix(git_oid *f, void **d, size_t *l, git_object_t *t, git_odb_backend *b,
	const git_oid *o, size_t n)
{
	return inner_of(b)->read_prefix(f, d, l, t, inner_of(b), o, n);
}

static int w_read_header(size_t *l, git_object_t *t, git_odb_backend *b, const git_oid *o)
{
	return inner_of(b)->read_header(l, t, inner_of(b), o);
}

static int w_exists(git_odb_backend *b, const git_oid *o)
{
	return inner_of(b)->exists(inner_of(b), o);
}

static int w_exists_prefix(git_oid *f, git_odb_backend *b, const git_oid *o, size_t n)
{
	return inner_of(b)->exists_prefix(f, inner_of(b), o, n);
}

static int w_freshen(git_odb_backend *b, const git_oid *o)
{
	return inner_of(b)->freshen(inner_of(b), o);
}

static int w_foreach(git_odb_backend *b, git_odb_foreach_cb cb, void *payload)
{
	return inner_of(b)->foreach(inner_of(b), cb, payload);
}

static int w_writepack(git_odb_writepack **out, git_odb_backend *b, git_odb *odb,
	git_indexer_progress_cb cb, void *payload)
{
	return inner_of(b)->writepack(out, inner_of(b), odb, cb, payload);
}

/* The rescan libgit2 runs after every miss; skipped while a writer holds it. */
static int w_refresh(git_odb_backend *b)
{
	eakte_packs *p = (eakte_packs *)b;

	if (p->held)
		return 0;
	return p->inner->refresh(p->inner);
}

static void w_free(git_odb_backend *b)
{
	eakte_packs *p = (eakte_packs *)b;

	p->inner->free(p->inner);
	free(p);
}

static int odb_error(const char *what)
{
	const git_error *e = git_error_last();
	return eakte_error__set(EAKTE_EIO, "%s: %s", what, e ? e->message : "libgit2 error");
}

int eakte_packs__open(eakte_packs **out, git_odb **out_odb, git_repository *repo, const char *objects_dir)
{
	git_odb *odb = NULL;
	git_odb_backend *loose = NULL;
	eakte_packs *p;

	*out = NULL;
	*out_odb = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return eakte_error__oom("opening the object database");
	if (git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION) < 0 ||
	    git_odb_backend_pack(&p->inner, objects_dir) < 0) {
		free(p);
		return odb_error("opening the packs of store.git");
	}
	p->parent.read = w_read;
	p->parent.read_prefix = w_read_prefix;
	p->parent.read_header = w_read_header;
	p->parent.exists = w_exists;
	p->parent.exists_prefix = w_exists_prefix;
	p->parent.freshen = w_freshen;
	p->parent.foreach = w_foreach;
	p->parent.writepack = w_writepack;
	p->parent.refresh = w_refresh;
	p->parent.free = w_free;
	/* Loose objects as libgit2 sets them up itself: zlib level 1 would be
	 * ours, but libgit2 writes none (the transaction store takes them). */
	if (git_odb_new(&odb) < 0) {
		w_free(&p->parent);
		return odb_error("creating the object database");
	}
	if (git_odb_add_backend(odb, &p->parent, PACKED_PRIORITY) < 0) {
		w_free(&p->parent);
		git_odb_free(odb);
		return odb_error("adding the pack store");
	}
	p->inner->odb = odb;
	if (git_odb_backend_loose(&loose, objects_dir, -1, 1, 0, 0) < 0 ||
	    git_odb_add_backend(odb, loose, LOOSE_PRIORITY) < 0) {
		if (loose != NULL && loose->odb == NULL)
			loose->free(loose);
		git_odb_free(odb);
		return odb_error("adding the loose object store");
	}
	git_repository_set_odb(repo, odb);
	*out = p;
	*out_odb = odb;
	return 0;
}

void eakte_packs__hold(eakte_packs *p, int held)
{
	p->held = held;
}

int eakte_packs__rescan(eakte_packs *p)
{
	if (p->inner->refresh(p->inner) < 0)
		return odb_error("re-reading store.git/objects/pack");
	return 0;
}

/* ---- consolidation ---- */

typedef struct {
	char name[46];        /* "pack-<40 hex>" */
	off_t size;
	git_odb_backend *one; /* the pack alone, while merging */
} pack_entry;

static int cmp_size(const void *a, const void *b)
{
	const pack_entry *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Packs in objects/pack with their .idx and without a .keep. */
static int list_packs(int pack_fd, pack_entry **out, size_t *n_out)
{
	pack_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int dfd;

	*out = NULL;
	*n_out = 0;
	dfd = dup(pack_fd);
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot read store.git/objects/pack");
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		char other[64];
		struct stat st;
		size_t len = strlen(de->d_name);

		/* Temporary files of a pack writer that crashed: only the writer,
		 * who holds the lock and is not writing a pack now, makes them. */
		if (strncmp(de->d_name, "tmp_pack_", 9) == 0 || strncmp(de->d_name, "tmp_idx_", 8) == 0) {
			unlinkat(pack_fd, de->d_name, 0);
			continue;
		}
		if (len != 5 + 40 + 5 || strncmp(de->d_name, "pack-", 5) != 0 || strcmp(de->d_name + 45, ".pack") != 0)
			continue;
		memcpy(other, de->d_name, 45);
		strcpy(other + 45, ".idx");
		if (faccessat(pack_fd, other, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		strcpy(other + 45, ".keep");
		if (faccessat(pack_fd, other, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (fstatat(pack_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			pack_entry *nv = realloc(v, nc * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return eakte_error__oom("listing packs");
			}
			v = nv;
			cap = nc;
		}
		memcpy(v[n].name, de->d_name, 45);
		v[n].name[45] = '\0';
		v[n].size = st.st_size;
		v[n].one = NULL;
		n++;
	}
	if (errno != 0) {
		int e = errno;
		free(v);
		closedir(d);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot read store.git/objects/pack");
	}
	closedir(d);
	*out = v;
	*n_out = n;
	return 0;
}

/*
 * How many of the smallest packs to merge so that the packs, sorted by
 * size, form a geometric sequence with factor 2 again (git repack
 * --geometric's rule): packs above the split each weigh at least twice
 * everything below them.
 */
static size_t geometric_split(const pack_entry *v, size_t n)
{
	size_t i, split;
	unsigned long long total = 0;

	if (n < 2)
		return 0;
	for (i = n - 1; i > 0; i--)
		if ((unsigned long long)v[i].size < 2ULL * (unsigned long long)v[i - 1].size)
			break;
	split = i ? i + 1 : 0;
	for (i = 0; i < split; i++)
		total += (unsigned long long)v[i].size;
	for (i = split; i < n; i++) {
		if ((unsigned long long)v[i].size >= 2ULL * total)
			break;
		total += (unsigned long long)v[i].size;
		split++;
	}
	return split < 2 ? 0 : split;
}

/* ---- writing a pack ---- */

/*
 * The pack goes to a temporary file in objects/pack and its .idx (version
 * 2) is written here from what the writer already knows - each object's
 * id, offset and the CRC-32 of its entry - rather than by libgit2's
 * indexer, which inflates and hashes every object of the pack again.  The
 * .pack is renamed into place before the .idx: a pack is invisible until
 * its index appears, so a crash leaves either nothing or a complete pair.
 */

#define PACKW_BUF (1u << 20)

typedef struct {
	uint8_t oid[20];
	uint32_t crc;
	uint64_t offset;
} packw_obj;

struct eakte_packw {
	int dir_fd;
	int fd;               /* the temporary .pack */
	char tmp[64];         /* its name in dir_fd */
	EVP_MD_CTX *sha1;
	z_stream z;
	int z_ready;
	uint8_t *buf;         /* pack bytes not yet written */
	size_t len;
	uint64_t written;     /* pack bytes so far (buffered or not) */
	uint8_t *zbuf;
	size_t zcap;
	packw_obj *objs;
	uint32_t n, count;    /* added so far / announced */
};

static int packw_flush(eakte_packw *w)
{
	int rc;

	if (w->len == 0)
		return 0;
	if (EVP_DigestUpdate(w->sha1, w->buf, w->len) != 1)
		return eakte_error__set(EAKTE_ENOMEM, "hashing a pack");
	if ((rc = eakte_fs__write_all(w->fd, w->buf, w->len, "a new pack in store.git/objects/pack")) < 0)
		return rc;
	w->len = 0;
	return 0;
}

static int packw_put(eakte_packw *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	w->written += len;
	while (len > 0) {
		size_t n = PACKW_BUF - w->len < len ? PACKW_BUF - w->len : len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len == PACKW_BUF) {
			int rc = packw_flush(w);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

void eakte_packw__free(eakte_packw *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(w->dir_fd, w->tmp, 0);
	}
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	EVP_MD_CTX_free(w->sha1);
	if (w->z_ready)
		deflateEnd(&w->z);
	free(w->buf);
	free(w->zbuf);
	free(w->objs);
	free(w);
}

/* A temporary file in dir_fd named like git's own (tmp_pack_*), which
 * pack listings ignore. */
static int tmp_create(int dir_fd, char name[64], const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[8];

	for (int attempt = 0; attempt < 16; attempt++) {
		int fd;
		if (RAND_bytes(r, sizeof(r)) != 1)
			return eakte_error__set(EAKTE_ENOMEM, "no random bytes for a temporary pack name");
		int k = snprintf(name, 64, "%s", prefix);
		for (size_t i = 0; i < sizeof(r); i++) {
			name[k++] = hex[r[i] >> 4];
			name[k++] = hex[r[i] & 15];
		}
		name[k] = '\0';
		fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot create store.git/objects/pack/%s", name);
	}
	return eakte_error__set(EAKTE_EIO, "cannot find a free temporary name in store.git/objects/pack");
}

int eakte_packw__begin(eakte_packw **out, const char *pack_dir, uint32_t count)
{
	uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	eakte_packw *w;
	int rc;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return eakte_error__oom("starting a pack");
	w->fd = -1;
	w->dir_fd = open(pack_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w->dir_fd < 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot open %s", pack_dir);
		eakte_packw__free(w);
		return rc;
	}
	w->buf = malloc(PACKW_BUF);
	w->objs = malloc(((size_t)count + 1) * sizeof(*w->objs));
	w->sha1 = EVP_MD_CTX_new();
	if (w->buf == NULL || w->objs == NULL || w->sha1 == NULL || EVP_DigestInit_ex(w->sha1, EVP_sha1(), NULL) != 1) {
		eakte_packw__free(w);
		return eakte_error__oom("starting a pack");
	}
	/* Level 1: the objects are small and written once; level 6 cost
	 * more than writing the documents.  One stream, reset per object:
	 * deflateInit allocates and clears 256 KiB each time, and memLevel 4
	 * keeps the hash table that every reset clears at 4 KiB. */
	if (deflateInit2(&w->z, 1, Z_DEFLATED, 15, 4, Z_DEFAULT_STRATEGY) != Z_OK) {
		eakte_packw__free(w);
		return eakte_error__set(EAKTE_ENOMEM, "cannot initialise zlib for a pack");
	}
	w->z_ready = 1;
	if ((w->fd = tmp_create(w->dir_fd, w->tmp, "tmp_pack_")) < 0) {
		rc = w->fd;
		w->fd = -1;
		eakte_packw__free(w);
		return rc;
	}
	for (int i = 0; i < 4; i++)
		hdr[8 + i] = (uint8_t)(count >> (24 - 8 * i));
	w->count = count;
	if ((rc = packw_put(w, hdr, sizeof(hdr))) < 0) {
		eakte_packw__free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Record an entry that is about to be written at the current offset. */
static packw_obj *packw_next(eakte_packw *w)
{
	if (w->n == w->count) {
		eakte_error__set(EAKTE_EIO, "more objects than announced in a pack");
		return NULL;
	}
	w->objs[w->n].offset = w->written;
	return &w->objs[w->n];
}

int eakte_packw__add(eakte_packw *w, git_object_t type, const void *data, size_t len)
{
	uint8_t hdr[16];
	size_t n = 0, size = len;
	uint8_t c = (uint8_t)(((unsigned)type << 4) | (size & 0x0f));
	packw_obj *o = packw_next(w);
	git_oid oid;
	uLong bound;
	size_t zlen;
	int rc;

	if (o == NULL)
		return EAKTE_EIO;
	if (git_odb_hash(&oid, data, len, type) < 0)
		return odb_error("hashing an object for a pack");
	memcpy(o->oid, oid.id, 20);
	/* Type and size as git's variable-length integer. */
	size >>= 4;
	while (size) {
		hdr[n++] = c | 0x80;
		c = size & 0x7f;
		size >>= 7;
	}
	hdr[n++] = c;
	bound = deflateBound(&w->z, (uLong)len);
	if (bound > w->zcap) {
		uint8_t *nz = realloc(w->zbuf, bound);
		if (nz == NULL)
			return eakte_error__oom("compressing an object for a pack");
		w->zbuf = nz;
		w->zcap = bound;
	}
	if (deflateReset(&w->z) != Z_OK)
		return eakte_error__set(EAKTE_ENOMEM, "resetting zlib");
	w->z.next_in = (Bytef *)data;
	w->z.avail_in = (uInt)len;
	w->z.next_out = w->zbuf;
	w->z.avail_out = (uInt)w->zcap;
	if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
		return eakte_error__set(EAKTE_ENOMEM, "compressing an object for a pack");
	zlen = w->zcap - w->z.avail_out;
	o->crc = (uint32_t)crc32(crc32(0L, hdr, (uInt)n), w->zbuf, (uInt)zlen);
	if ((rc = packw_put(w, hdr, n)) < 0 || (rc = packw_put(w, w->zbuf, zlen)) < 0)
		return rc;
	w->n++;
	return 0;
}

int eakte_packw__add_raw(eakte_packw *w, const uint8_t oid[20], uint32_t crc, const void *entry, size_t len)
{
	packw_obj *o = packw_next(w);
	int rc;

	if (o == NULL)
		return EAKTE_EIO;
	/* The source pack's index recorded the CRC-32 of this entry: a copy
	 * that does not match is a damaged source, never merged. */
	if ((uint32_t)crc32_z(0L, entry, len) != crc) {
		char hex[41];
		eakte_hex__encode(hex, oid, 20);
		return eakte_error__set(EAKTE_ECORRUPT, "object %s in a pack does not match the CRC-32 its index "
			"recorded; run `eakte verify`", hex);
	}
	memcpy(o->oid, oid, 20);
	o->crc = crc;
	if ((rc = packw_put(w, entry, len)) < 0)
		return rc;
	w->n++;
	return 0;
}

static int cmp_obj(const void *x, const void *y)
{
	return memcmp(((const packw_obj *)x)->oid, ((const packw_obj *)y)->oid, 20);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Write the version 2 index of the finished pack to a new temporary file. */
static int packw_write_idx(eakte_packw *w, const uint8_t sum[20], char tmp[64], int fsync_it)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	uint8_t *buf = NULL, isum[20];
	size_t big = 0, len, at = 0;
	unsigned int sl;
	int fd = -1, rc = 0;

	tmp[0] = '\0';
	for (uint32_t i = 0; i < w->n; i++)
		if (w->objs[i].offset >= 0x80000000u)
			big++;
	len = 8 + 1024 + (size_t)w->n * 28 + big * 8 + 40;
	buf = malloc(len);
	if (h == NULL || buf == NULL) {
		rc = eakte_error__oom("writing a pack index");
		goto out;
	}
	memcpy(buf, "\377tOc\0\0\0\2", 8);
	at = 8;
	for (unsigned b = 0, i = 0; b < 256; b++) {
		while (i < w->n && w->objs[i].oid[0] <= b)
			i++;
		put32(buf + at, i);
		at += 4;
	}
	for (uint32_t i = 0; i < w->n; i++, at += 20)
		memcpy(buf + at, w->objs[i].oid, 20);
	for (uint32_t i = 0; i < w->n; i++, at += 4)
		put32(buf + at, w->objs[i].crc);
	big = 0;
	for (uint32_t i = 0; i < w->n; i++, at += 4)
		put32(buf + at, w->objs[i].offset < 0x80000000u ? (uint32_t)w->objs[i].offset
			: 0x80000000u | (uint32_t)big++);
	for (uint32_t i = 0; i < w->n; i++)
		if (w->objs[i].offset >= 0x80000000u) {
			put32(buf + at, (uint32_t)(w->objs[i].offset >> 32));
			put32(buf + at + 4, (uint32_t)w->objs[i].offset);
			at += 8;
		}
	memcpy(buf + at, sum, 20);
	at += 20;
	if (EVP_DigestInit_ex(h, EVP_sha1(), NULL) != 1 || EVP_DigestUpdate(h, buf, at) != 1 ||
	    EVP_DigestFinal_ex(h, isum, &sl) != 1) {
		rc = eakte_error__set(EAKTE_ENOMEM, "hashing a pack index");
		goto out;
	}
	memcpy(buf + at, isum, 20);
	at += 20;
	if ((fd = tmp_create(w->dir_fd, tmp, "tmp_idx_")) < 0) {
		rc = fd;
		fd = -1;
		tmp[0] = '\0';
		goto out;
	}
	if ((rc = eakte_fs__write_all(fd, buf, at, "a new pack index in store.git/objects/pack")) < 0)
		goto out;
	if (fsync_it && fsync(fd) != 0)
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot make a new pack index durable (fsync)");
out:
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot write a new pack index");
	if (rc < 0 && tmp[0]) {
		unlinkat(w->dir_fd, tmp, 0);
		tmp[0] = '\0';
	}
	EVP_MD_CTX_free(h);
	free(buf);
	return rc;
}

int eakte_packw__finish(eakte_packw *w, char name[41], int whole_fs)
{
	uint8_t sum[20];
	char tmp_idx[64], final[64];
	unsigned int sl;
	int rc;

	if (w->n != w->count)
		return eakte_error__set(EAKTE_EIO, "%u objects missing from a pack", w->count - w->n);
	if ((rc = packw_flush(w)) < 0)
		return rc;
	if (EVP_DigestFinal_ex(w->sha1, sum, &sl) != 1)
		return eakte_error__set(EAKTE_ENOMEM, "hashing a pack");
	/* The trailer: the SHA-1 of everything before it; it names the pack. */
	if ((rc = eakte_fs__write_all(w->fd, sum, sizeof(sum), "a new pack in store.git/objects/pack")) < 0)
		return rc;
	if (!whole_fs && fsync(w->fd) != 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot make a new pack durable (fsync)");
	qsort(w->objs, w->n, sizeof(*w->objs), cmp_obj);
	for (uint32_t i = 1; i < w->n; i++)
		if (memcmp(w->objs[i - 1].oid, w->objs[i].oid, 20) == 0)
			return eakte_error__set(EAKTE_EIO, "an object was added twice to a pack");
	if ((rc = packw_write_idx(w, sum, tmp_idx, !whole_fs)) < 0)
		return rc;
	eakte_hex__encode(name, sum, sizeof(sum));
	snprintf(final, sizeof(final), "pack-%s.pack", name);
	if (renameat(w->dir_fd, w->tmp, w->dir_fd, final) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot name the new pack objects/pack/%s", final);
		unlinkat(w->dir_fd, tmp_idx, 0);
		return rc;
	}
	close(w->fd);
	w->fd = -1;
	snprintf(final, sizeof(final), "pack-%s.idx", name);
	if (renameat(w->dir_fd, tmp_idx, w->dir_fd, final) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot name the new pack index objects/pack/%s", final);
		unlinkat(w->dir_fd, tmp_idx, 0);
		return rc;
	}
	if (whole_fs) {
		/* One flush for the pack, its index, their names and whatever
		 * the caller wrote before on this file system. */
		if (syncfs(w->dir_fd) != 0)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot flush the new pack and objects to disk (syncfs)");
		return 0;
	}
	return eakte_fs__fsync_dir(w->dir_fd, "store.git/objects/pack");
}

/* ---- the object ids of a pack, from its .idx (version 2) ---- */

typedef struct {
	void *map;
	size_t len;
	uint32_t n;
	const uint8_t *oids;  /* n sorted object ids */
	const uint8_t *crcs;  /* their entries' CRC-32s */
	uint32_t next;        /* merge position */
	/* For copying entries as they are: the .pack mapped, and where each
	 * object's entry (in id order) starts and ends in it. */
	void *pack;
	size_t pack_len;
	uint64_t *start, *end;
} idx_view;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Map objects/pack/<path> read-only; `kind` and `min` for the error when
 * it is shorter than any such file can be. */
static int map_file(void **map, size_t *len, int pack_fd, const char *path, size_t min, const char *kind)
{
	struct stat st;
	int fd;

	fd = openat(pack_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot open objects/pack/%s", path);
	}
	if (st.st_size < (off_t)min) {
		close(fd);
		return eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s is too short for %s", path, kind);
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot map objects/pack/%s", path);
	}
	return 0;
}

static int idx_open(idx_view *v, int pack_fd, const char *name)
{
	char path[64];
	int rc;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s.idx", name);
	if ((rc = map_file(&v->map, &v->len, pack_fd, path, 8 + 1024 + 40, "a pack index")) < 0)
		return rc;
	const uint8_t *b = v->map;
	if (memcmp(b, "\377tOc", 4) != 0 || be32(b + 4) != 2)
		return eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s is not a version 2 pack index", path);
	v->n = be32(b + 8 + 255 * 4);
	if ((uint64_t)v->n * 28 + 8 + 1024 + 40 > v->len)
		return eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s is truncated (%u objects)", path, v->n);
	v->oids = b + 8 + 1024;
	v->crcs = v->oids + (size_t)v->n * 20;
	return 0;
}

static void idx_close(idx_view *v)
{
	if (v->map != NULL)
		munmap(v->map, v->len);
	if (v->pack != NULL)
		munmap(v->pack, v->pack_len);
	free(v->start);
	free(v->end);
	v->map = v->pack = NULL;
	v->start = v->end = NULL;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Map the .pack of an opened .idx and find each entry's extent: entries
 * lie back to back, so an entry ends where the next one (by offset)
 * starts, the last one at the trailing checksum.  Offsets that do not fit
 * the pack are corruption: the merge then stops before removing anything.
 */
static int idx_entries(idx_view *v, int pack_fd, const char *name)
{
	const uint8_t *b = v->map;
	const uint8_t *offs = b + 8 + 1024 + (size_t)v->n * 24;
	const uint8_t *big = offs + (size_t)v->n * 4;
	uint64_t *sorted = NULL;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "%s.pack", name);
	if ((rc = map_file(&v->pack, &v->pack_len, pack_fd, path, 12 + 20, "a pack")) < 0)
		return rc;
	v->start = malloc((size_t)v->n * sizeof(uint64_t) + 1);
	v->end = malloc((size_t)v->n * sizeof(uint64_t) + 1);
	sorted = malloc((size_t)v->n * sizeof(uint64_t) + 1);
	if (v->start == NULL || v->end == NULL || sorted == NULL) {
		free(sorted);
		return eakte_error__oom("merging packs");
	}
	for (uint32_t i = 0; i < v->n; i++) {
		uint32_t o = be32(offs + (size_t)i * 4);
		uint64_t off = o;
		if (o & 0x80000000u) {
			size_t k = o & 0x7fffffffu;
			if ((size_t)(big - b) + (k + 1) * 8 + 40 > v->len) {
				rc = eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s.idx: a large offset lies outside the index", name);
				goto out;
			}
			off = (uint64_t)be32(big + k * 8) << 32 | be32(big + k * 8 + 4);
		}
		if (off < 12 || off >= v->pack_len - 20) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s.idx: an offset lies outside the pack", name);
			goto out;
		}
		v->start[i] = off;
		sorted[i] = off;
	}
	qsort(sorted, v->n, sizeof(uint64_t), cmp_u64);
	for (uint32_t i = 0; i < v->n; i++) {
		/* The end is the smallest start above this one. */
		size_t lo = 0, hi = v->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (sorted[mid] <= v->start[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		v->end[i] = lo < v->n ? sorted[lo] : v->pack_len - 20;
		if (lo > 0 && lo < v->n && sorted[lo - 1] == sorted[lo]) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "objects/pack/%s.idx: two objects at one offset", name);
			goto out;
		}
	}
out:
	free(sorted);
	return rc;
}

/* The pack holding the smallest object id not yet taken, or -1 at the end. */
static int merge_next(idx_view *v, size_t k)
{
	int best = -1;

	for (size_t i = 0; i < k; i++) {
		if (v[i].next >= v[i].n)
			continue;
		if (best < 0 || memcmp(v[i].oids + (size_t)v[i].next * 20,
				v[best].oids + (size_t)v[best].next * 20, 20) < 0)
			best = (int)i;
	}
	return best;
}

/* Advance every pack past the object id `oid` (it may be in several). */
static void merge_skip(idx_view *v, size_t k, const uint8_t *oid)
{
	for (size_t i = 0; i < k; i++)
		while (v[i].next < v[i].n && memcmp(v[i].oids + (size_t)v[i].next * 20, oid, 20) <= 0)
			v[i].next++;
}

static int remove_pack(int pack_fd, const char *name)
{
	static const char *const ext[] = { ".idx", ".pack", ".rev" };
	char path[64];

	/* The .idx first: without it the pack is invisible to a rescan. */
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", name, ext[i]);
		if (unlinkat(pack_fd, path, 0) != 0 && errno != ENOENT)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot remove the merged pack objects/pack/%s", path);
	}
	return 0;
}

/*
 * Merge packs v[0..k) into one.  Their object ids are walked in order
 * (a k-way merge of the sorted .idx tables), so an object in several of
 * them is written once (libgit2's indexer refuses duplicates) with
 * memory independent of the number of objects.
 */
static int merge_packs(pack_entry *v, size_t k, int pack_fd, const char *pack_dir,
	int (*keep)(const git_oid *oid, void *payload), void *payload)
{
	idx_view *ix = NULL;
	eakte_packw *w = NULL;
	git_odb_backend *merged = NULL;
	char path[4400], hex[41];
	uint64_t count = 0;
	size_t i;
	int rc = 0, src;

	ix = calloc(k, sizeof(*ix));
	if (ix == NULL)
		return eakte_error__oom("merging packs");
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s.idx", pack_dir, v[i].name);
		if ((rc = idx_open(&ix[i], pack_fd, v[i].name)) < 0 ||
		    (rc = idx_entries(&ix[i], pack_fd, v[i].name)) < 0)
			goto out;
		if (git_odb_backend_one_pack(&v[i].one, path) < 0) {
			rc = odb_error("opening a pack to merge");
			goto out;
		}
	}
	while ((src = merge_next(ix, k)) >= 0) {
		git_oid oid;
		memcpy(oid.id, ix[src].oids + (size_t)ix[src].next * 20, 20);
		if (keep == NULL || keep(&oid, payload))
			count++;
		merge_skip(ix, k, oid.id);
	}
	if (count == 0 || count > UINT32_MAX) {
		rc = eakte_error__set(EAKTE_EIO, "the packs to merge hold %llu objects", (unsigned long long)count);
		goto out;
	}
	for (i = 0; i < k; i++)
		ix[i].next = 0;
	if ((rc = eakte_packw__begin(&w, pack_dir, (uint32_t)count)) < 0)
		goto out;
	while ((src = merge_next(ix, k)) >= 0) {
		git_odb_backend *b = v[src].one;
		git_oid oid;
		void *data = NULL;
		size_t len;
		git_object_t type;

		memcpy(oid.id, ix[src].oids + (size_t)ix[src].next * 20, 20);
		if (keep != NULL && !keep(&oid, payload)) {
			merge_skip(ix, k, oid.id);
			continue;
		}
		{
			/* A whole object (not a delta, whose base may sit in another
			 * pack) is copied compressed as it is: no inflate and deflate
			 * again.  Its CRC-32 is checked against the source index, so
			 * a damaged entry fails the merge before anything is removed. */
			const uint8_t *e = (const uint8_t *)ix[src].pack + ix[src].start[ix[src].next];
			unsigned kind = (e[0] >> 4) & 7;
			if (kind >= GIT_OBJECT_COMMIT && kind <= GIT_OBJECT_TAG) {
				rc = eakte_packw__add_raw(w, oid.id, be32(ix[src].crcs + (size_t)ix[src].next * 4), e,
					(size_t)(ix[src].end[ix[src].next] - ix[src].start[ix[src].next]));
				if (rc < 0)
					goto out;
				merge_skip(ix, k, oid.id);
				continue;
			}
		}
		if (b->read(&data, &len, &type, b, &oid) < 0) {
			rc = odb_error("reading an object to merge");
			goto out;
		}
		rc = eakte_packw__add(w, type, data, len);
		git_odb_backend_data_free(b, data);
		if (rc < 0)
			goto out;
		merge_skip(ix, k, oid.id);
	}
	if ((rc = eakte_packw__finish(w, hex, 0)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/pack-%s.idx", pack_dir, hex);
	if (git_odb_backend_one_pack(&merged, path) < 0) {
		rc = odb_error("opening the merged pack");
		goto out;
	}
	/* Nothing is removed unless every object is in the new pack, durably. */
	for (i = 0; i < k; i++) {
		git_oid oid;
		for (uint32_t j = 0; j < ix[i].n; j++) {
			memcpy(oid.id, ix[i].oids + (size_t)j * 20, 20);
			if ((keep == NULL || keep(&oid, payload)) && !merged->exists(merged, &oid)) {
				rc = eakte_error__set(EAKTE_EIO, "the merged pack pack-%s lacks objects of %s; "
					"nothing was removed", hex, v[i].name);
				goto out;
			}
		}
	}
	if ((rc = eakte_fs__fsync_dir(pack_fd, "store.git/objects/pack")) < 0)
		goto out;
	for (i = 0; i < k && rc == 0; i++)
		if (strcmp(v[i].name + 5, hex) != 0)
			rc = remove_pack(pack_fd, v[i].name);
	if (rc == 0)
		rc = eakte_fs__fsync_dir(pack_fd, "store.git/objects/pack");
out:
	if (merged != NULL)
		merged->free(merged);
	for (i = 0; i < k; i++) {
		idx_close(&ix[i]);
		if (v[i].one != NULL) {
			v[i].one->free(v[i].one);
			v[i].one = NULL;
		}
	}
	free(ix);
	eakte_packw__free(w);
	return rc;
}

int eakte_packs__consolidate(const char *objects_dir, int objects_fd, size_t threshold, size_t *merged)
{
	pack_entry *v = NULL;
	size_t n = 0, k;
	char pack_dir[4200];
	int pack_fd, rc;

	*merged = 0;
	pack_fd = openat(objects_fd, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pack_fd < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open store.git/objects/pack");
	if ((rc = list_packs(pack_fd, &v, &n)) < 0)
		goto out;
	qsort(v, n, sizeof(*v), cmp_size);
	/* Packs of EAKTE_PACK_BIG and more stay as they are: each is already
	 * worth its lookup, and merging them would rewrite the bulk of the
	 * journal again and again for nothing. */
	while (n > 0 && v[n - 1].size >= EAKTE_PACK_BIG)
		n--;
	if (n <= threshold)
		goto out;
	k = geometric_split(v, n);
	if (k == 0)
		goto out;
	if ((size_t)snprintf(pack_dir, sizeof(pack_dir), "%s/pack", objects_dir) >= sizeof(pack_dir)) {
		rc = eakte_error__set(EAKTE_EINVALID, "archive path too long: %s", objects_dir);
		goto out;
	}
	if ((rc = merge_packs(v, k, pack_fd, pack_dir, NULL, NULL)) < 0)
		goto out;
	*merged = k;
out:
	free(v);
	close(pack_fd);
	return rc;
}

int eakte_packs__rewrite(const char *objects_dir, int objects_fd, int (*keep)(const git_oid *oid, void *payload),
	void *payload)
{
	pack_entry *v = NULL;
	size_t n = 0;
	char pack_dir[4200];
	int pack_fd, rc;

	pack_fd = openat(objects_fd, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pack_fd < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open store.git/objects/pack");
	if ((rc = list_packs(pack_fd, &v, &n)) < 0)
		goto out;
	if ((size_t)snprintf(pack_dir, sizeof(pack_dir), "%s/pack", objects_dir) >= sizeof(pack_dir)) {
		rc = eakte_error__set(EAKTE_EINVALID, "archive path too long: %s", objects_dir);
		goto out;
	}
	/* All of them, big ones too: any pack may hold what must go. */
	if (n > 0)
		rc = merge_packs(v, n, pack_fd, pack_dir, keep, payload);
out:
	free(v);
	close(pack_fd);
	return rc;
}
