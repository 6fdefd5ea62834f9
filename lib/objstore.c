/*
 * objstore.c - streaming loose-object writer and verifying reader.
 */
#include "objstore.h"
#include "encode.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#define CHUNK (1u << 20)

typedef struct {
	EVP_MD_CTX *sha1;
	EVP_MD_CTX *sha256;
} hashers;

static int hashers_init(hashers *h)
{
	h->sha1 = EVP_MD_CTX_new();
	h->sha256 = EVP_MD_CTX_new();
	if (h->sha1 == NULL || h->sha256 == NULL ||
	    EVP_DigestInit_ex(h->sha1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) != 1)
		return eakte_error__set(EAKTE_ENOMEM, "cannot set up SHA-1/SHA-256 hashing");
	return 0;
}

static void hashers_free(hashers *h)
{
	EVP_MD_CTX_free(h->sha1);
	EVP_MD_CTX_free(h->sha256);
}

static void object_path(char out[EAKTE_OID_HEX_LEN + 2], const uint8_t oid[EAKTE_OID_LEN])
{
	char hex[EAKTE_OID_HEX_LEN + 1];

	eakte_hex__encode(hex, oid, EAKTE_OID_LEN);
	memcpy(out, hex, 2);
	out[2] = '/';
	memcpy(out + 3, hex + 2, EAKTE_OID_HEX_LEN - 2);
	out[EAKTE_OID_HEX_LEN + 1] = '\0';
}

int eakte_obj__exists(int objects_fd, const uint8_t oid[EAKTE_OID_LEN])
{
	char path[EAKTE_OID_HEX_LEN + 2];

	object_path(path, oid);
	return faccessat(objects_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

typedef struct {
	int objects_fd;
	int fd;
	char tmp[64];        /* name of the temporary file, "" for an O_TMPFILE */
	z_stream z;
	int z_ready;
	uint8_t *out;
	hashers h;
	int h_ready;
} writer;

static int writer_open(writer *w, int objects_fd, int level)
{
	uint8_t rnd[8];
	char hex[17];
	int zrc;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->objects_fd = objects_fd;
	w->out = malloc(CHUNK);
	if (w->out == NULL)
		return eakte_error__oom("allocating an object write buffer");
	if (hashers_init(&w->h) < 0)
		return EAKTE_ENOMEM;
	w->h_ready = 1;
	zrc = deflateInit(&w->z, level);
	if (zrc != Z_OK)
		return eakte_error__set(EAKTE_ENOMEM, "cannot initialise zlib (level %d): %d", level, zrc);
	w->z_ready = 1;
	/*
	 * An unnamed O_TMPFILE inode, linked into place when complete: no
	 * directory entry is created or renamed (so parallel writers do not
	 * queue on the objects/ directory lock), an existing object makes the
	 * link fail with EEXIST instead of being replaced, and a crash leaves
	 * no temporary file behind.  Named temporary files are the fallback
	 * for file systems without O_TMPFILE or a system without /proc.
	 */
	if (access("/proc/self/fd", X_OK) == 0) {
		w->fd = openat(objects_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
		if (w->fd >= 0)
			return 0;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return eakte_error__set(EAKTE_EIO, "cannot get random bytes for a temporary name");
	eakte_hex__encode(hex, rnd, sizeof(rnd));
	snprintf(w->tmp, sizeof(w->tmp), "tmp_obj_%s", hex);
	w->fd = openat(objects_fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (w->fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno,
			"cannot create temporary object file objects/%s", w->tmp);
	return 0;
}

static void writer_discard(writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlinkat(w->objects_fd, w->tmp, 0);
	w->tmp[0] = '\0';
	if (w->z_ready)
		deflateEnd(&w->z);
	if (w->h_ready)
		hashers_free(&w->h);
	free(w->out);
	w->out = NULL;
	w->z_ready = w->h_ready = 0;
}

/* Feed uncompressed object bytes (header or content); finish ends the stream. */
static int writer_feed(writer *w, const void *buf, size_t len, int finish)
{
	w->z.next_in = (Bytef *)buf;
	w->z.avail_in = (uInt)len;
	for (;;) {
		size_t have;
		int zrc;

		w->z.next_out = w->out;
		w->z.avail_out = CHUNK;
		zrc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (zrc == Z_STREAM_ERROR)
			return eakte_error__set(EAKTE_EIO, "zlib deflate failed");
		have = CHUNK - w->z.avail_out;
		if (have > 0) {
			int rc = eakte_fs__write_all(w->fd, w->out, have, "a content object");
			if (rc < 0)
				return rc;
		}
		if (finish ? zrc == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
			return 0;
	}
}

static int writer_header(writer *w, uint64_t size)
{
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %" PRIu64, size);

	/* The NUL terminator is part of the header. */
	if (EVP_DigestUpdate(w->h.sha1, hdr, (size_t)n + 1) != 1)
		return eakte_error__set(EAKTE_EIO, "SHA-1 update failed");
	return writer_feed(w, hdr, (size_t)n + 1, 0);
}

static int writer_content(writer *w, const void *buf, size_t len)
{
	if (EVP_DigestUpdate(w->h.sha1, buf, len) != 1 || EVP_DigestUpdate(w->h.sha256, buf, len) != 1)
		return eakte_error__set(EAKTE_EIO, "hash update failed");
	return writer_feed(w, buf, len, 0);
}

/* Create the fan-out directory of `path` ("xx/..."). */
static int make_fanout(int objects_fd, char *path, eakte_obj_dirty *dirty)
{
	int rc = 0;

	path[2] = '\0';
	if (mkdirat(objects_fd, path, 0755) == 0)
		dirty->objects = 1;
	else if (errno != EEXIST)
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot create object directory objects/%s", path);
	path[2] = '/';
	return rc;
}

static int place_tmpfile(writer *w, char *path, eakte_obj_dirty *dirty)
{
	char proc[64];
	int rc, tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	for (tries = 0; tries < 2; tries++) {
		if (linkat(AT_FDCWD, proc, w->objects_fd, path, AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST) {
			/* EEXIST: the same bytes are already stored (git names by content). */
			rc = close(w->fd);
			w->fd = -1;
			if (rc != 0)
				return eakte_error__set_errno(EAKTE_EIO, errno, "cannot close content object objects/%s", path);
			return 0;
		}
		if (errno != ENOENT || tries > 0)
			break;
		if ((rc = make_fanout(w->objects_fd, path, dirty)) < 0)
			return rc;
	}
	return eakte_error__set_errno(EAKTE_EIO, errno, "cannot link content object objects/%s", path);
}

static int place_named(writer *w, char *path, eakte_obj_dirty *dirty)
{
	int rc, tries;

	/* The same bytes already stored: writer_discard() removes the temporary. */
	if (faccessat(w->objects_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (close(w->fd) != 0) {
		w->fd = -1;
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot close content object objects/%s", path);
	}
	w->fd = -1;
	for (tries = 0; tries < 2; tries++) {
		if (renameat(w->objects_fd, w->tmp, w->objects_fd, path) == 0) {
			w->tmp[0] = '\0';
			return 0;
		}
		if (errno != ENOENT || tries > 0)
			break;
		if ((rc = make_fanout(w->objects_fd, path, dirty)) < 0)
			return rc;
	}
	return eakte_error__set_errno(EAKTE_EIO, errno, "cannot move content object into objects/%s", path);
}

static int writer_commit(writer *w, eakte_obj_info *info, eakte_obj_dirty *dirty)
{
	char path[EAKTE_OID_HEX_LEN + 2];
	unsigned int len;
	int rc;

	if ((rc = writer_feed(w, "", 0, 1)) < 0)
		return rc;
	if (EVP_DigestFinal_ex(w->h.sha1, info->oid, &len) != 1 ||
	    EVP_DigestFinal_ex(w->h.sha256, info->sha256, &len) != 1)
		return eakte_error__set(EAKTE_EIO, "hash finalisation failed");
	object_path(path, info->oid);
	/* No fsync here: eakte_obj__sync() makes the whole batch durable at once. */
	rc = w->tmp[0] ? place_named(w, path, dirty) : place_tmpfile(w, path, dirty);
	if (rc < 0)
		return rc;
	dirty->fanout[info->oid[0]] = 1;
	return 0;
}

static ssize_t read_some(int fd, uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* Fill buf as far as possible (short only at end of file). */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read_some(fd, buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int eakte_obj__write_fd(eakte_obj_info *info, int objects_fd, int fd, eakte_mime *mime,
	eakte_obj_dirty *dirty, const char *what)
{
	struct stat st;
	off_t pos;
	uint64_t size, done = 0;
	uint8_t *buf;
	ssize_t n;
	writer w;
	int rc, level = 1;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) != 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot stat %s", what);
	if (!S_ISREG(st.st_mode))
		return eakte_error__set(EAKTE_EINVALID, "%s is not a regular file", what);
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0 || pos > st.st_size)
		pos = 0;
	size = (uint64_t)(st.st_size - pos);
	buf = malloc(CHUNK);
	if (buf == NULL)
		return eakte_error__oom("allocating a read buffer");
	(void)posix_fadvise(fd, pos, 0, POSIX_FADV_SEQUENTIAL);
	n = read_full(fd, buf, size < CHUNK ? (size_t)size : CHUNK);
	if (n < 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read %s", what);
		free(buf);
		return rc;
	}
	strcpy(info->mime, "application/octet-stream");
	if (mime != NULL) {
		size_t sniff = (size_t)n < EAKTE_MIME_SNIFF ? (size_t)n : EAKTE_MIME_SNIFF;
		if ((rc = eakte_mime__detect(mime, buf, sniff, info->mime)) < 0) {
			free(buf);
			return rc;
		}
		level = eakte_mime__is_compressed(info->mime) ? 0 : 1;
	}
	if ((rc = writer_open(&w, objects_fd, level)) < 0)
		goto out;
	if ((rc = writer_header(&w, size)) < 0)
		goto out;
	while (n > 0) {
		if (done + (uint64_t)n > size) {
			rc = eakte_error__set(EAKTE_EINVALID, "%s grew while it was being filed; file it again once it is complete", what);
			goto out;
		}
		if ((rc = writer_content(&w, buf, (size_t)n)) < 0)
			goto out;
		done += (uint64_t)n;
		n = read_full(fd, buf, CHUNK);
		if (n < 0) {
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read %s", what);
			goto out;
		}
	}
	if (done != size) {
		rc = eakte_error__set(EAKTE_EINVALID, "%s shrank while it was being filed (%" PRIu64 " of %" PRIu64 " bytes); file it again once it is complete",
			what, done, size);
		goto out;
	}
	info->size = size;
	rc = writer_commit(&w, info, dirty);
out:
	writer_discard(&w);
	free(buf);
	return rc;
}

int eakte_obj__write_mem(eakte_obj_info *info, int objects_fd, const void *buf, size_t len,
	int level, eakte_obj_dirty *dirty)
{
	writer w;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = writer_open(&w, objects_fd, level)) == 0 &&
	    (rc = writer_header(&w, len)) == 0 &&
	    (rc = writer_content(&w, buf, len)) == 0) {
		info->size = len;
		rc = writer_commit(&w, info, dirty);
	}
	writer_discard(&w);
	return rc;
}

int eakte_obj__sync(int objects_fd, const eakte_obj_dirty *dirty)
{
	int i, any = dirty->objects;

	for (i = 0; i < 256 && !any; i++)
		any = dirty->fanout[i];
	if (!any)
		return 0;
	/*
	 * One flush for the whole batch: syncfs() writes back every object
	 * file, its rename and the fan-out directories, and (since Linux 5.8)
	 * reports any writeback error that happened since the last call on
	 * this file system.  A batch of 1,000 documents costs one device
	 * flush instead of 1,000 (docs/format.md, "Write order").
	 */
	if (syncfs(objects_fd) != 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot flush the new objects to disk (syncfs)");
	return 0;
}

int eakte_obj__read(eakte_obj_info *info, int objects_fd, const uint8_t oid[EAKTE_OID_LEN],
	eakte_obj_sink sink, void *payload)
{
	char path[EAKTE_OID_HEX_LEN + 2];
	uint8_t *in = NULL, *out = NULL, sha1[EAKTE_OID_LEN];
	z_stream z;
	hashers h = { 0 };
	int fd, rc = 0, zrc = Z_OK, z_ready = 0, header_done = 0;
	uint64_t size = 0, done = 0;
	char hdr[32];
	size_t hdr_len = 0;
	unsigned int len;

	memset(info, 0, sizeof(*info));
	memcpy(info->oid, oid, EAKTE_OID_LEN);
	object_path(path, oid);
	fd = openat(objects_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return eakte_error__set(EAKTE_ENOTFOUND, "object %s is not stored as a loose object", path);
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open object objects/%s", path);
	}
	memset(&z, 0, sizeof(z));
	in = malloc(CHUNK);
	out = malloc(CHUNK);
	if (in == NULL || out == NULL) {
		rc = eakte_error__oom("allocating object read buffers");
		goto out;
	}
	if ((rc = hashers_init(&h)) < 0)
		goto out;
	if (inflateInit(&z) != Z_OK) {
		rc = eakte_error__set(EAKTE_ENOMEM, "cannot initialise zlib inflate");
		goto out;
	}
	z_ready = 1;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (zrc != Z_STREAM_END) {
		ssize_t n = read_some(fd, in, CHUNK);
		if (n < 0) {
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read object objects/%s", path);
			goto out;
		}
		if (n == 0) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s is truncated (zlib stream ends early)", path);
			goto out;
		}
		z.next_in = in;
		z.avail_in = (uInt)n;
		while (z.avail_in > 0 && zrc != Z_STREAM_END) {
			uint8_t *p = out;
			size_t have;

			z.next_out = out;
			z.avail_out = CHUNK;
			zrc = inflate(&z, Z_NO_FLUSH);
			if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
				rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s does not inflate: %s",
					path, z.msg ? z.msg : "zlib error");
				goto out;
			}
			have = CHUNK - z.avail_out;
			if (EVP_DigestUpdate(h.sha1, out, have) != 1) {
				rc = eakte_error__set(EAKTE_EIO, "SHA-1 update failed");
				goto out;
			}
			while (!header_done && have > 0) {
				char c = (char)*p++;
				have--;
				if (hdr_len + 1 >= sizeof(hdr)) {
					rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s has an over-long header", path);
					goto out;
				}
				hdr[hdr_len++] = c;
				if (c == '\0') {
					char *end;
					header_done = 1;
					if (strncmp(hdr, "blob ", 5) != 0 || hdr[5] < '0' || hdr[5] > '9') {
						rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s is not a blob", path);
						goto out;
					}
					errno = 0;
					size = strtoull(hdr + 5, &end, 10);
					if (errno != 0 || *end != '\0' || (hdr[5] == '0' && hdr[6] != '\0')) {
						rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s has a malformed size", path);
						goto out;
					}
				}
			}
			if (have > 0) {
				if (done + have > size) {
					rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s holds more bytes than its header says (%" PRIu64 ")", path, size);
					goto out;
				}
				done += have;
				if (EVP_DigestUpdate(h.sha256, p, have) != 1) {
					rc = eakte_error__set(EAKTE_EIO, "SHA-256 update failed");
					goto out;
				}
				if (sink != NULL && (rc = sink(p, have, payload)) != 0)
					goto out;
			}
		}
	}
	if (!header_done || done != size) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s holds %" PRIu64 " bytes, its header says %" PRIu64,
			path, done, size);
		goto out;
	}
	if (EVP_DigestFinal_ex(h.sha1, sha1, &len) != 1 || EVP_DigestFinal_ex(h.sha256, info->sha256, &len) != 1) {
		rc = eakte_error__set(EAKTE_EIO, "hash finalisation failed");
		goto out;
	}
	if (memcmp(sha1, oid, EAKTE_OID_LEN) != 0) {
		char actual[EAKTE_OID_HEX_LEN + 1], expected[EAKTE_OID_HEX_LEN + 1];
		eakte_hex__encode(actual, sha1, EAKTE_OID_LEN);
		eakte_hex__encode(expected, oid, EAKTE_OID_LEN);
		rc = eakte_error__set(EAKTE_ECORRUPT, "object objects/%s is corrupt: SHA-1 expected=%s actual=%s",
			path, expected, actual);
		goto out;
	}
	info->size = size;
out:
	if (z_ready)
		inflateEnd(&z);
	hashers_free(&h);
	free(in);
	free(out);
	close(fd);
	return rc;
}

int eakte_obj__remove(int objects_fd, const uint8_t oid[EAKTE_OID_LEN], eakte_obj_dirty *dirty)
{
	char path[EAKTE_OID_HEX_LEN + 2];

	object_path(path, oid);
	if (unlinkat(objects_fd, path, 0) != 0 && errno != ENOENT)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot remove object objects/%s", path);
	dirty->fanout[oid[0]] = 1;
	return 0;
}
