/*
 * bag.h - BagIt 1.0 bags (RFC 8493): the validator, fed one file at a time.
 *
 * A bag is valid if and only if (RFC 8493 sections 2 and 3, as checked here):
 *   (1) bagit.txt exists and is exactly two elements, "BagIt-Version: 1.0"
 *       and "Tag-File-Character-Encoding: UTF-8", each "Label: value" with
 *       no whitespace around the label or after the value, no BOM;
 *   (2) at least one payload manifest manifest-<alg>.txt exists, alg one of
 *       md5, sha1, sha256, sha512 (one the caller computes);
 *   (3) every manifest line is "<hex checksum><whitespace><path>", the path
 *       relative, without "." or ".." components, with %0A %0D %25
 *       decoded; payload manifests list only data/..., tag manifests never
 *       data/... nor a tag manifest; no path is listed twice in one manifest;
 *   (4) every listed file exists and has the listed checksum;
 *   (5) every payload file (data/...) is listed in every payload manifest;
 *   (6) bag-info.txt, if present, is well formed (labels, continuation
 *       lines) and its Payload-Oxum, if present, matches the payload;
 *   (7) there is no fetch.txt (holey bags are not supported: everything
 *       must be in the bag to be verified);
 *   (8) every tag file is valid UTF-8.
 * Member names themselves (absolute, "..", duplicates, UTF-8, length) are
 * checked as they arrive, before anything is hashed.
 *
 * The caller streams each file through begin/update/end; the bag keeps
 * each file's digests and, when asked, its bytes (tag files, small files
 * the caller wants to read later) within a total limit, so that memory is
 * bounded however large the payload is.
 */
#ifndef EAKTE_BAG_H
#define EAKTE_BAG_H

#include "common.h"

#include <openssl/evp.h>

#define EAKTE_BAG_MD5 1u
#define EAKTE_BAG_SHA1 2u
#define EAKTE_BAG_SHA256 4u
#define EAKTE_BAG_SHA512 8u
#define EAKTE_BAG_ALL 15u

/* 1 for the tag files BagIt itself defines (bagit.txt, bag-info.txt,
 * fetch.txt, manifest-*.txt, tagmanifest-*.txt): text the validator reads,
 * so it must keep them; other tag files are only checksummed. */
int eakte_bag__bagit_tag_file(const char *name);

#define EAKTE_BAG_PATH_MAX 1024          /* bytes of a member name */
#define EAKTE_BAG_TAG_MAX (64u << 20)    /* largest tag file kept (akte.json, an xdomea message: about 1 KiB per version) */

typedef struct {
	char *path;              /* relative, '/'-separated */
	uint64_t size;
	uint8_t md5[16], sha1[20], sha256[32], sha512[64];
	char *data;              /* kept bytes (NUL-terminated) or NULL */
	size_t len;
	int listed;              /* scratch for the validator */
} eakte_bag_file;

typedef struct {
	eakte_bag_file *files;
	size_t count, cap;
	unsigned int algs;       /* digests computed for every file */
	size_t max_files;
	uint64_t keep_max;       /* total bytes that may be kept */
	uint64_t kept;
	int sorted;
	/* The file being fed. */
	EVP_MD_CTX *ctx[4];
	int keep;
	size_t keep_cap;
	int open;
} eakte_bag;

/* algs: which digests to compute (EAKTE_BAG_*). */
int eakte_bag__init(eakte_bag *bag, unsigned int algs, size_t max_files, uint64_t keep_max);
void eakte_bag__free(eakte_bag *bag);

/*
 * Check a member name: not empty, relative, no "", "." or ".." component,
 * valid UTF-8 without control characters, at most EAKTE_BAG_PATH_MAX bytes.
 * EAKTE_EVERIFY with a message naming it otherwise.
 */
int eakte_bag__check_name(const char *path);

/* Start file `path` (checked with eakte_bag__check_name); keep: keep its
 * bytes (at most EAKTE_BAG_TAG_MAX and within keep_max). */
int eakte_bag__begin(eakte_bag *bag, const char *path, int keep);
int eakte_bag__update(eakte_bag *bag, const void *buf, size_t len);
int eakte_bag__end(eakte_bag *bag);

/* Validate the bag; EAKTE_EVERIFY with a message naming the first bad
 * item.  Duplicate names are found here too. */
int eakte_bag__validate(eakte_bag *bag);

/* The file named `path` (after eakte_bag__validate), or NULL. */
const eakte_bag_file *eakte_bag__find(const eakte_bag *bag, const char *path);

/* Feed every regular file under directory `dir` (symlinks, devices and
 * the like are refused, names are checked); tag files (outside data/)
 * are kept. */
int eakte_bag__from_dir(eakte_bag *bag, const char *dir);

/* Printable form of an untrusted name for messages: printable ASCII and
 * well-formed UTF-8 letters as they are; control characters (C0, C1),
 * invalid bytes, a backslash and bidirectional controls as \xNN bytes.
 * out gets at most outlen-1 bytes and never a partial character. */
void eakte_bag__printable(char *out, size_t outlen, const char *name);

#endif
