/*
 * objstore.h - content objects as git loose objects, streamed.
 *
 * On-disk format (git's): objects/<2 hex>/<38 hex> holds
 *     zlib( "blob " decimal(size) "\0" content )
 * named by SHA-1 of the uncompressed bytes.  eakte writes these files
 * itself rather than through libgit2 so that it can
 *   - hash SHA-1 (the git name) and SHA-256 (what the journal records) in
 *     one pass while streaming, with memory that does not grow with size;
 *   - choose the zlib level by content type: already-compressed formats
 *     are stored (level 0, produced by zlib itself, so a valid zlib stream
 *     that stock git reads), other content deflated at level 1.
 *
 * Write order: temporary file in objects/, rename into its fan-out
 * directory; one syncfs() then makes all of a batch's objects, their names
 * and directories durable: eakte_obj__sync(), or for filing the syncfs of
 * the journal pack that names them (txnodb.h).  Nothing refers to an
 * object before that returns.  An object that already exists is not
 * rewritten.
 *
 * Reading inflates, checks the header, the length and the SHA-1 name, and
 * computes SHA-256 on the way: a reader never sees unverified bytes
 * reported as good.
 */
#ifndef EAKTE_OBJSTORE_H
#define EAKTE_OBJSTORE_H

#include "common.h"
#include "mime.h"

#define EAKTE_OID_LEN 20
#define EAKTE_OID_HEX_LEN 40

typedef struct {
	uint8_t sha256[EAKTE_HASH_LEN];
	uint8_t oid[EAKTE_OID_LEN];
	uint64_t size;
	char mime[EAKTE_MIME_MAX];
} eakte_obj_info;

/* Directories touched by writes, to fsync once per batch. */
typedef struct {
	uint8_t fanout[256];
	uint8_t objects;
} eakte_obj_dirty;

/*
 * Stream the rest of regular file `fd` (from its current offset to the end
 * as fstat sees it) into a loose blob.  If `mime` is given the type is
 * detected and decides the zlib level; info->mime is set.  Fails with
 * EAKTE_EINVALID if the file changes size while being read.
 */
int eakte_obj__write_fd(eakte_obj_info *info, int objects_fd, int fd, eakte_mime *mime,
	eakte_obj_dirty *dirty, const char *what);

/* Write a blob from memory at zlib `level`. */
int eakte_obj__write_mem(eakte_obj_info *info, int objects_fd, const void *buf, size_t len,
	int level, eakte_obj_dirty *dirty);

/* Make every object written so far durable (one syncfs for the batch). */
int eakte_obj__sync(int objects_fd, const eakte_obj_dirty *dirty);

typedef int (*eakte_obj_sink)(const uint8_t *buf, size_t len, void *payload);

/*
 * Stream loose blob `oid` to `sink` (may be NULL), verifying it.
 * EAKTE_ENOTFOUND if there is no loose object file of that name (it may be
 * packed), EAKTE_ECORRUPT if it does not inflate, is not a blob, has the
 * wrong length or its SHA-1 does not match its name.  info->sha256 and
 * info->size are set.  A non-zero return from sink stops and is returned.
 */
int eakte_obj__read(eakte_obj_info *info, int objects_fd, const uint8_t oid[EAKTE_OID_LEN],
	eakte_obj_sink sink, void *payload);

/* 1 if a loose object of that name exists. */
int eakte_obj__exists(int objects_fd, const uint8_t oid[EAKTE_OID_LEN]);

/* Remove a loose object (for disposal); ENOTFOUND is not an error. */
int eakte_obj__remove(int objects_fd, const uint8_t oid[EAKTE_OID_LEN], eakte_obj_dirty *dirty);

#endif
