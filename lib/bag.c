/*
 * bag.c - the BagIt 1.0 validator (see bag.h for the validity rules).
 *
 * Why a hand-written reader of bagit.txt and the manifests: they are
 * line formats of a few rules (RFC 8493), there is no C library for them
 * in Debian, and the checks must be exact (the Library of Congress
 * conformance suite fails bags that lenient readers accept).
 */
#include "bag.h"
#include "encode.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	unsigned int bit;
	const char *name;
	size_t len;
} algs[4] = {
	{ EAKTE_BAG_MD5, "md5", 16 },
	{ EAKTE_BAG_SHA1, "sha1", 20 },
	{ EAKTE_BAG_SHA256, "sha256", 32 },
	{ EAKTE_BAG_SHA512, "sha512", 64 },
};

static const EVP_MD *alg_md(size_t i)
{
	switch (i) {
	case 0: return EVP_md5();
	case 1: return EVP_sha1();
	case 2: return EVP_sha256();
	default: return EVP_sha512();
	}
}

static uint8_t *file_digest(eakte_bag_file *f, size_t i)
{
	switch (i) {
	case 0: return f->md5;
	case 1: return f->sha1;
	case 2: return f->sha256;
	default: return f->sha512;
	}
}

/* The length of the well-formed UTF-8 sequence at p (2-4 bytes) and its
 * code point, or 0. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
	uint32_t c;

	if (n == 0 || p[0] > 0xf4)
		return 0;
	c = p[0] & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void eakte_bag__printable(char *out, size_t outlen, const char *name)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	/* Names in messages: readable German (umlauts as they are), but no
	 * control characters (C0, C1), no invalid bytes and no bidirectional
	 * overrides that would make a terminal show another name. */
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && o + 11 < outlen; p++) {
		uint32_t cp;
		size_t n;
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			out[o++] = (char)*p;
		} else if (*p >= 0x80 && (n = utf8_seq(p, &cp)) > 0 && cp >= 0xa0 &&
			   !(cp >= 0x200e && cp <= 0x200f) && !(cp >= 0x202a && cp <= 0x202e) &&
			   !(cp >= 0x2066 && cp <= 0x2069) && cp != 0x2028 && cp != 0x2029) {
			memcpy(out + o, p, n);
			o += n;
			p += n - 1;
		} else {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		}
	}
	out[o] = '\0';
}

int eakte_bag__init(eakte_bag *bag, unsigned int which, size_t max_files, uint64_t keep_max)
{
	memset(bag, 0, sizeof(*bag));
	bag->algs = which;
	bag->max_files = max_files;
	bag->keep_max = keep_max;
	for (size_t i = 0; i < 4; i++) {
		if (!(which & algs[i].bit))
			continue;
		if ((bag->ctx[i] = EVP_MD_CTX_new()) == NULL) {
			eakte_bag__free(bag);
			return eakte_error__oom("a digest context");
		}
	}
	return 0;
}

void eakte_bag__free(eakte_bag *bag)
{
	if (bag == NULL)
		return;
	for (size_t i = 0; i < bag->count; i++) {
		free(bag->files[i].path);
		free(bag->files[i].data);
	}
	free(bag->files);
	for (size_t i = 0; i < 4; i++)
		EVP_MD_CTX_free(bag->ctx[i]);
	memset(bag, 0, sizeof(*bag));
}

static int valid_utf8(const char *s, size_t n)
{
	json_t *probe = json_stringn(s, n);

	if (probe == NULL)
		return 0;
	json_decref(probe);
	return 1;
}

int eakte_bag__check_name(const char *path)
{
	char shown[256];
	size_t n = strlen(path);
	const char *p, *q;

	eakte_bag__printable(shown, sizeof(shown), path);
	if (n == 0)
		return eakte_error__set(EAKTE_EVERIFY, "a member has an empty name");
	if (n > EAKTE_BAG_PATH_MAX)
		return eakte_error__set(EAKTE_EVERIFY, "member name \"%.60s...\" is %zu bytes long, the limit is %d",
			shown, n, EAKTE_BAG_PATH_MAX);
	if (path[0] == '/')
		return eakte_error__set(EAKTE_EVERIFY, "member \"%s\" has an absolute name", shown);
	for (p = path; ; p = q + 1) {
		size_t len;
		q = strchr(p, '/');
		len = q ? (size_t)(q - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return eakte_error__set(EAKTE_EVERIFY, "member \"%s\" has a \"..\" component (path traversal)", shown);
		if ((len == 1 && p[0] == '.') || (len == 0 && q != NULL))
			return eakte_error__set(EAKTE_EVERIFY, "member \"%s\" has an empty or \".\" path component", shown);
		if (q == NULL)
			break;
	}
	if (!valid_utf8(path, n))
		return eakte_error__set(EAKTE_EVERIFY, "member name \"%s\" is not valid UTF-8", shown);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f)
			return eakte_error__set(EAKTE_EVERIFY, "member name \"%s\" contains a control character", shown);
	}
	return 0;
}

int eakte_bag__begin(eakte_bag *bag, const char *path, int keep)
{
	eakte_bag_file *f;
	int rc;

	if (bag->open)
		return eakte_error__set(EAKTE_EINVALID, "bag: a file is still open");
	if ((rc = eakte_bag__check_name(path)) < 0)
		return rc;
	if (bag->count == bag->max_files)
		return eakte_error__set(EAKTE_EVERIFY, "more than %zu members; the limit protects the verifier's memory",
			bag->max_files);
	if (bag->count == bag->cap) {
		size_t cap = bag->cap ? bag->cap * 2 : 64;
		eakte_bag_file *nf = realloc(bag->files, cap * sizeof(*nf));
		if (nf == NULL)
			return eakte_error__oom("the list of bag members");
		bag->files = nf;
		bag->cap = cap;
	}
	f = &bag->files[bag->count];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		return eakte_error__oom("a member name");
	bag->count++;
	bag->sorted = 0;
	for (size_t i = 0; i < 4; i++)
		if (bag->ctx[i] != NULL && EVP_DigestInit_ex(bag->ctx[i], alg_md(i), NULL) != 1)
			return eakte_error__set(EAKTE_EIO, "cannot start a %s digest", algs[i].name);
	bag->keep = keep;
	bag->keep_cap = 0;
	bag->open = 1;
	return 0;
}

int eakte_bag__update(eakte_bag *bag, const void *buf, size_t len)
{
	eakte_bag_file *f = &bag->files[bag->count - 1];
	char shown[256];

	if (!bag->open)
		return eakte_error__set(EAKTE_EINVALID, "bag: no file is open");
	if (len == 0)
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (bag->ctx[i] != NULL && EVP_DigestUpdate(bag->ctx[i], buf, len) != 1)
			return eakte_error__set(EAKTE_EIO, "cannot compute a %s digest", algs[i].name);
	f->size += len;
	if (!bag->keep)
		return 0;
	if (f->len + len > EAKTE_BAG_TAG_MAX || bag->kept + len > bag->keep_max) {
		eakte_bag__printable(shown, sizeof(shown), f->path);
		return eakte_error__set(EAKTE_EVERIFY, "member \"%s\" is larger than %u bytes or the package's small files exceed %" PRIu64
			" bytes in all; an eakte package has no such member", shown, EAKTE_BAG_TAG_MAX, bag->keep_max);
	}
	if (f->len + len + 1 > bag->keep_cap) {
		size_t cap = bag->keep_cap ? bag->keep_cap : 4096;
		char *nd;
		while (cap < f->len + len + 1)
			cap *= 2;
		if ((nd = realloc(f->data, cap)) == NULL)
			return eakte_error__oom("a tag file");
		f->data = nd;
		bag->keep_cap = cap;
	}
	memcpy(f->data + f->len, buf, len);
	f->len += len;
	f->data[f->len] = '\0';
	bag->kept += len;
	return 0;
}

int eakte_bag__end(eakte_bag *bag)
{
	eakte_bag_file *f = &bag->files[bag->count - 1];

	if (!bag->open)
		return eakte_error__set(EAKTE_EINVALID, "bag: no file is open");
	bag->open = 0;
	for (size_t i = 0; i < 4; i++)
		if (bag->ctx[i] != NULL && EVP_DigestFinal_ex(bag->ctx[i], file_digest(f, i), NULL) != 1)
			return eakte_error__set(EAKTE_EIO, "cannot finish a %s digest", algs[i].name);
	if (bag->keep && f->data == NULL) {
		if ((f->data = calloc(1, 1)) == NULL)
			return eakte_error__oom("a tag file");
	}
	return 0;
}

static int cmp_file(const void *x, const void *y)
{
	return strcmp(((const eakte_bag_file *)x)->path, ((const eakte_bag_file *)y)->path);
}

const eakte_bag_file *eakte_bag__find(const eakte_bag *bag, const char *path)
{
	eakte_bag_file key;

	if (!bag->sorted || bag->count == 0)
		return NULL;
	key.path = (char *)(uintptr_t)path;
	return bsearch(&key, bag->files, bag->count, sizeof(*bag->files), cmp_file);
}

static eakte_bag_file *find_mut(eakte_bag *bag, const char *path)
{
	return (eakte_bag_file *)(uintptr_t)eakte_bag__find(bag, path);
}

/* Next line of f's data (LF, CR or CRLF ends it); 0 at the end. */
static int next_line(const char **line, size_t *len, const eakte_bag_file *f, size_t *pos)
{
	size_t i = *pos;

	if (i >= f->len)
		return 0;
	*line = f->data + i;
	while (i < f->len && f->data[i] != '\n' && f->data[i] != '\r')
		i++;
	*len = (size_t)(i - *pos);
	if (i < f->len && f->data[i] == '\r') {
		i++;
		if (i < f->len && f->data[i] == '\n')
			i++;
	} else if (i < f->len) {
		i++;
	}
	*pos = i;
	return 1;
}

/* Split "Label: value" (RFC 8493 2.2.2): no ':' in the label, no
 * whitespace around it, one space or tab after the colon. */
static int split_element(const char *line, size_t len, size_t *label_len, const char **value, size_t *value_len)
{
	const char *colon = memchr(line, ':', len);

	if (colon == NULL || colon == line)
		return -1;
	*label_len = (size_t)(colon - line);
	if (line[0] == ' ' || line[0] == '\t' || line[*label_len - 1] == ' ' || line[*label_len - 1] == '\t')
		return -1;
	*value = colon + 1;
	*value_len = len - *label_len - 1;
	if (*value_len > 0) {
		if (**value != ' ' && **value != '\t')
			return -1;
		(*value)++;
		(*value_len)--;
	}
	return 0;
}

static int check_bagit_txt(const eakte_bag_file *f)
{
	static const char *const labels[2] = { "BagIt-Version", "Tag-File-Character-Encoding" };
	const char *line, *value;
	size_t len, pos = 0, label_len, value_len, n = 0;

	if (f->len >= 3 && memcmp(f->data, "\xef\xbb\xbf", 3) == 0)
		return eakte_error__set(EAKTE_EVERIFY, "bagit.txt starts with a byte order mark, which RFC 8493 forbids");
	while (next_line(&line, &len, f, &pos)) {
		if (n == 2)
			return eakte_error__set(EAKTE_EVERIFY, "bagit.txt has more than its two lines");
		if (split_element(line, len, &label_len, &value, &value_len) < 0 || label_len != strlen(labels[n]) ||
		    memcmp(line, labels[n], label_len) != 0)
			return eakte_error__set(EAKTE_EVERIFY, "bagit.txt line %zu must be \"%s: ...\" (exactly, without spaces around the label)",
				n + 1, labels[n]);
		if (value_len == 0 || value[value_len - 1] == ' ' || value[value_len - 1] == '\t' || value[0] == ' ' || value[0] == '\t')
			return eakte_error__set(EAKTE_EVERIFY, "bagit.txt: the value of %s is empty or has surrounding whitespace", labels[n]);
		if (n == 0 && !(value_len == 3 && memcmp(value, "1.0", 3) == 0))
			return eakte_error__set(EAKTE_EVERIFY, "bagit.txt: BagIt-Version %.*s is not supported (only 1.0, RFC 8493)",
				(int)(value_len > 20 ? 20 : value_len), value);
		if (n == 1 && !(value_len == 5 && strncasecmp(value, "UTF-8", 5) == 0))
			return eakte_error__set(EAKTE_EVERIFY, "bagit.txt: Tag-File-Character-Encoding %.*s is not supported (only UTF-8)",
				(int)(value_len > 20 ? 20 : value_len), value);
		n++;
	}
	if (n != 2)
		return eakte_error__set(EAKTE_EVERIFY, "bagit.txt must have two lines (BagIt-Version, Tag-File-Character-Encoding)");
	return 0;
}

static int check_bag_info(const eakte_bag_file *f, uint64_t payload_bytes, uint64_t payload_files)
{
	const char *line, *value;
	size_t len, pos = 0, label_len, value_len, n = 0;

	while (next_line(&line, &len, f, &pos)) {
		n++;
		if (len == 0)
			return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt line %zu is empty", n);
		if (line[0] == ' ' || line[0] == '\t') {
			if (n == 1)
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt line 1 is a continuation line");
			continue;
		}
		if (split_element(line, len, &label_len, &value, &value_len) < 0)
			return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt line %zu is not \"Label: value\"", n);
		if (label_len == 12 && strncasecmp(line, "Payload-Oxum", 12) == 0) {
			char buf[64], *end, *dot;
			uint64_t bytes, files;
			if (value_len == 0 || value_len >= sizeof(buf))
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt: malformed Payload-Oxum");
			memcpy(buf, value, value_len);
			buf[value_len] = '\0';
			dot = strchr(buf, '.');
			if (dot == NULL || buf[0] < '0' || buf[0] > '9' || dot[1] < '0' || dot[1] > '9')
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt: malformed Payload-Oxum \"%s\"", buf);
			*dot = '\0';
			errno = 0;
			bytes = strtoull(buf, &end, 10);
			if (*end != '\0' || errno != 0)
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt: malformed Payload-Oxum");
			files = strtoull(dot + 1, &end, 10);
			if (*end != '\0' || errno != 0)
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt: malformed Payload-Oxum");
			if (bytes != payload_bytes || files != payload_files)
				return eakte_error__set(EAKTE_EVERIFY, "bag-info.txt: Payload-Oxum expected=%" PRIu64 ".%" PRIu64
					" actual=%" PRIu64 ".%" PRIu64, bytes, files, payload_bytes, payload_files);
		}
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a manifest path (%0A, %0D, %25; RFC 8493 2.1.3). */
static int decode_path(char *out, size_t outlen, const char *in, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			int v = hexval(in[i + 1]) * 16 + hexval(in[i + 2]);
			if (v == '\n' || v == '\r' || v == '%') {
				c = (char)v;
				i += 2;
			}
		}
		if (o + 1 >= outlen || c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int check_manifest(eakte_bag *bag, const eakte_bag_file *m, size_t alg, int tag)
{
	const char *line;
	size_t len, pos = 0, n = 0;
	char path[EAKTE_BAG_PATH_MAX + 1], shown[256];
	uint8_t want[64];
	int rc;

	for (size_t i = 0; i < bag->count; i++)
		bag->files[i].listed = 0;
	while (next_line(&line, &len, m, &pos)) {
		size_t h = 0, p;
		eakte_bag_file *f;
		n++;
		if (len == 0)
			continue;
		while (h < len && line[h] != ' ' && line[h] != '\t')
			h++;
		p = h;
		while (p < len && (line[p] == ' ' || line[p] == '\t'))
			p++;
		if (h != 2 * algs[alg].len || p == h || p == len)
			return eakte_error__set(EAKTE_EVERIFY, "%s line %zu is not \"<%s checksum> <path>\"", m->path, n, algs[alg].name);
		if (eakte_hex__decode(want, algs[alg].len, line, h) < 0)
			return eakte_error__set(EAKTE_EVERIFY, "%s line %zu: the checksum is not hex", m->path, n);
		if (decode_path(path, sizeof(path), line + p, len - p) < 0)
			return eakte_error__set(EAKTE_EVERIFY, "%s line %zu: the path is too long or contains NUL", m->path, n);
		if ((rc = eakte_bag__check_name(path)) < 0)
			return eakte_error__wrap(rc, "%s line %zu", m->path, n);
		eakte_bag__printable(shown, sizeof(shown), path);
		if (tag ? (strncmp(path, "data/", 5) == 0 || strncmp(path, "tagmanifest-", 12) == 0)
			: strncmp(path, "data/", 5) != 0)
			return eakte_error__set(EAKTE_EVERIFY, "%s line %zu: %s may not be listed in a %s manifest", m->path, n, shown,
				tag ? "tag" : "payload");
		f = find_mut(bag, path);
		if (f == NULL)
			return eakte_error__set(EAKTE_EVERIFY, "%s lists %s, which is not in the bag", m->path, shown);
		if (f->listed)
			return eakte_error__set(EAKTE_EVERIFY, "%s lists %s twice", m->path, shown);
		f->listed = 1;
		if (memcmp(file_digest(f, alg), want, algs[alg].len) != 0) {
			char actual[129];
			eakte_hex__encode(actual, file_digest(f, alg), algs[alg].len);
			return eakte_error__set(EAKTE_EVERIFY, "%s: %s does not match: %s expected=%.*s actual=%s", m->path, shown,
				algs[alg].name, (int)h, line, actual);
		}
	}
	if (!tag) {
		for (size_t i = 0; i < bag->count; i++) {
			if (strncmp(bag->files[i].path, "data/", 5) == 0 && !bag->files[i].listed) {
				eakte_bag__printable(shown, sizeof(shown), bag->files[i].path);
				return eakte_error__set(EAKTE_EVERIFY, "payload file %s is not listed in %s", shown, m->path);
			}
		}
	}
	return 0;
}

/* Which algorithm a manifest name names: index, -1 not a manifest, -2 unknown. */
static int manifest_alg(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix), n = strlen(path);

	if (strncmp(path, prefix, pl) != 0 || strchr(path, '/') != NULL || n < pl + 4 || strcmp(path + n - 4, ".txt") != 0)
		return -1;
	for (size_t i = 0; i < 4; i++)
		if (n - pl - 4 == strlen(algs[i].name) && memcmp(path + pl, algs[i].name, n - pl - 4) == 0)
			return (int)i;
	return -2;
}

int eakte_bag__validate(eakte_bag *bag)
{
	const eakte_bag_file *bt, *bi;
	uint64_t payload_bytes = 0, payload_files = 0;
	char shown[256];
	int manifests = 0, rc;

	if (bag->open)
		return eakte_error__set(EAKTE_EINVALID, "bag: a file is still open");
	if (bag->count > 0)
		qsort(bag->files, bag->count, sizeof(*bag->files), cmp_file);
	bag->sorted = 1;
	for (size_t i = 0; i + 1 < bag->count; i++) {
		if (strcmp(bag->files[i].path, bag->files[i + 1].path) == 0) {
			eakte_bag__printable(shown, sizeof(shown), bag->files[i].path);
			return eakte_error__set(EAKTE_EVERIFY, "member %s occurs twice", shown);
		}
	}
	/* A file and a directory of the same name ("a" and "a/b"). */
	for (size_t i = 0; i + 1 < bag->count; i++) {
		size_t n = strlen(bag->files[i].path);
		for (size_t j = i + 1; j < bag->count && strncmp(bag->files[j].path, bag->files[i].path, n) == 0; j++) {
			if (bag->files[j].path[n] == '/') {
				eakte_bag__printable(shown, sizeof(shown), bag->files[i].path);
				return eakte_error__set(EAKTE_EVERIFY, "member %s is both a file and a directory", shown);
			}
		}
	}
	if ((bt = eakte_bag__find(bag, "bagit.txt")) == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "bagit.txt is missing: this is not a BagIt bag");
	if (bt->data == NULL)
		return eakte_error__set(EAKTE_EINVALID, "bag: bagit.txt was not kept");
	if ((rc = check_bagit_txt(bt)) < 0)
		return rc;
	if (eakte_bag__find(bag, "fetch.txt") != NULL)
		return eakte_error__set(EAKTE_EVERIFY, "fetch.txt: bags with files to fetch are not supported; every file must be in the bag");
	for (size_t i = 0; i < bag->count; i++) {
		const eakte_bag_file *f = &bag->files[i];
		if (strncmp(f->path, "data/", 5) == 0) {
			payload_bytes += f->size;
			payload_files++;
			continue;
		}
		/* "Other tag files" (RFC 8493 2.2.4) have a format of their own
		 * (an xdomea primary file is one): only the tag manifest's
		 * checksum concerns them. */
		if (!eakte_bag__bagit_tag_file(f->path))
			continue;
		if (f->data == NULL)
			return eakte_error__set(EAKTE_EINVALID, "bag: tag file %s was not kept", f->path);
		if (!valid_utf8(f->data, f->len)) {
			eakte_bag__printable(shown, sizeof(shown), f->path);
			return eakte_error__set(EAKTE_EVERIFY, "tag file %s is not valid UTF-8", shown);
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *prefix = pass == 0 ? "manifest-" : "tagmanifest-";
		for (size_t i = 0; i < bag->count; i++) {
			const eakte_bag_file *f = &bag->files[i];
			int alg = manifest_alg(f->path, prefix);
			if (alg == -1)
				continue;
			eakte_bag__printable(shown, sizeof(shown), f->path);
			if (alg == -2 || !(bag->algs & algs[alg].bit))
				return eakte_error__set(EAKTE_EVERIFY, "%s: unsupported checksum algorithm (supported: %s)", shown,
					bag->algs == EAKTE_BAG_ALL ? "md5, sha1, sha256, sha512" : "sha256");
			if ((rc = check_manifest(bag, f, (size_t)alg, pass)) < 0)
				return rc;
			if (pass == 0)
				manifests++;
		}
	}
	if (manifests == 0)
		return eakte_error__set(EAKTE_EVERIFY, "the bag has no payload manifest (manifest-<algorithm>.txt)");
	/* After the manifests, so that a changed file is named by them. */
	if ((bi = eakte_bag__find(bag, "bag-info.txt")) != NULL && (rc = check_bag_info(bi, payload_bytes, payload_files)) < 0)
		return rc;
	return 0;
}

int eakte_bag__bagit_tag_file(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "bagit.txt") == 0 || strcmp(name, "bag-info.txt") == 0 || strcmp(name, "fetch.txt") == 0 ||
		(n > 13 && strncmp(name, "manifest-", 9) == 0 && strcmp(name + n - 4, ".txt") == 0) ||
		(n > 16 && strncmp(name, "tagmanifest-", 12) == 0 && strcmp(name + n - 4, ".txt") == 0);
}

/* ------------------------------------------------------------------ */
/* Directory front end                                                 */
/* ------------------------------------------------------------------ */

#define DIR_DEPTH_MAX 64

static int feed_fd(eakte_bag *bag, int fd, const char *rel)
{
	char buf[65536];
	int rc;

	if ((rc = eakte_bag__begin(bag, rel, strncmp(rel, "data/", 5) != 0)) < 0)
		return rc;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot read %s", rel);
		if (r == 0)
			break;
		if ((rc = eakte_bag__update(bag, buf, (size_t)r)) < 0)
			return rc;
	}
	return eakte_bag__end(bag);
}

static int walk(eakte_bag *bag, int dirfd, const char *prefix, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = 0, fd;

	if (depth > DIR_DEPTH_MAX)
		return eakte_error__set(EAKTE_EVERIFY, "directory %s is nested more than %d levels deep", prefix, DIR_DEPTH_MAX);
	if ((fd = dup(dirfd)) < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot read directory %s", prefix[0] ? prefix : ".");
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot read directory %s", prefix[0] ? prefix : ".");
	}
	while (rc == 0) {
		char rel[EAKTE_BAG_PATH_MAX + 2];
		struct stat st;
		int cfd;
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read directory %s", prefix[0] ? prefix : ".");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(rel, sizeof(rel), "%s%s", prefix, de->d_name) >= sizeof(rel)) {
			rc = eakte_error__set(EAKTE_EVERIFY, "a path under %s is longer than %d bytes", prefix, EAKTE_BAG_PATH_MAX);
			break;
		}
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot stat %s", rel);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			size_t n = strlen(rel);
			if (n + 1 >= sizeof(rel)) {
				rc = eakte_error__set(EAKTE_EVERIFY, "path %s is too long", rel);
				break;
			}
			rel[n] = '/';
			rel[n + 1] = '\0';
			if ((cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot open directory %s", rel);
				break;
			}
			rc = walk(bag, cfd, rel, depth + 1);
			close(cfd);
		} else if (S_ISREG(st.st_mode)) {
			if ((cfd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot open %s", rel);
				break;
			}
			rc = feed_fd(bag, cfd, rel);
			close(cfd);
		} else {
			char shown[256];
			eakte_bag__printable(shown, sizeof(shown), rel);
			rc = eakte_error__set(EAKTE_EVERIFY, "%s is not a regular file or directory (symlinks and devices are refused)", shown);
		}
	}
	closedir(d);
	return rc;
}

int eakte_bag__from_dir(eakte_bag *bag, const char *dir)
{
	int fd, rc;
	struct stat st;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return eakte_error__set_errno(errno == ENOENT ? EAKTE_ENOTFOUND : EAKTE_EIO, errno, "cannot open bag directory %s", dir);
	rc = walk(bag, fd, "", 0);
	if (rc == 0 && (fstatat(fd, "data", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
		rc = eakte_error__set(EAKTE_EVERIFY, "the bag has no data/ directory");
	close(fd);
	return rc;
}
