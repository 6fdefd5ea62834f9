/*
 * package.c - reading and verifying export packages (validity rules in
 * package.h).
 *
 * The package file is read once, as a stream, by libarchive; no member
 * name ever reaches the file system.  Every member is hashed on the way
 * (SHA-256) and only the small ones (tag files, events, proofs, metadata
 * objects, the checkpoint and keys: everything outside data/documents/)
 * are kept in memory, within a total limit, so memory does not grow with
 * the size of the documents.  The checks then run on what was kept.
 *
 * This file is compiled without the implicit include directory (see
 * lib/meson.build): "archive.h" is lib/archive.h, <archive.h> libarchive's.
 */
#include "package.h"
#include "cjson.h"
#include "encode.h"
#include "merkle.h"
#include "xdomea.h"

#include <archive.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_MEMBERS 100000u
#define DEFAULT_MAX_MEMBER (64ull << 30)
#define DEFAULT_MAX_TOTAL (256ull << 30)
#define DEFAULT_MAX_RATIO 100u
#define KEEP_MAX (256ull << 20)        /* small members kept in memory, in all */
#define RATIO_FLOOR (1u << 20)          /* small packages of JSON compress well */
#define MAX_PINNED 16

typedef struct {
	uint64_t members, member, total, ratio;
} limits;

static void get_limits(limits *l, const eakte_package_options *o)
{
	l->members = o && o->max_members ? o->max_members : DEFAULT_MAX_MEMBERS;
	l->member = o && o->max_member_size ? o->max_member_size : DEFAULT_MAX_MEMBER;
	l->total = o && o->max_total ? o->max_total : DEFAULT_MAX_TOTAL;
	l->ratio = o && o->max_ratio ? o->max_ratio : DEFAULT_MAX_RATIO;
}

void eakte_package__fingerprint(char out[64], const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	uint8_t blob[4 + 11 + 4 + EAKTE_ED25519_PUB_LEN], h[EAKTE_HASH_LEN];
	char b64[48];
	size_t n;

	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 4 + 11 + 4);
	memcpy(blob + 19, pub, EAKTE_ED25519_PUB_LEN);
	if (eakte_sha256__buf(h, blob, sizeof(blob)) < 0) {
		snprintf(out, 64, "SHA256:?");
		return;
	}
	eakte_base64__encode_to(b64, h, sizeof(h));
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(out, 64, "SHA256:%s", b64);
}

int eakte_package__parse_keys(uint8_t (*pubs)[EAKTE_ED25519_PUB_LEN], size_t max, size_t *n, const char *text, size_t len)
{
	char *copy, *line, *save = NULL;
	int rc = 0;

	*n = 0;
	if (len > (1u << 20))
		return eakte_error__set(EAKTE_EINVALID, "the pinned key file is larger than 1 MiB");
	if (memmem(text, len, "-----BEGIN PUBLIC KEY-----", 26) != NULL) {
		eakte_key *k = NULL;
		if ((rc = eakte_key__from_public_pem(&k, text, len)) < 0)
			return eakte_error__wrap(rc, "the pinned key (PEM)");
		eakte_key__public_raw(k, pubs[0]);
		eakte_key__free(k);
		*n = 1;
		return 0;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return eakte_error__oom("the pinned key");
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = strtok_r(copy, "\r\n", &save); line != NULL && *n < max; line = strtok_r(NULL, "\r\n", &save)) {
		char *p = line, *end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (strstr(line, "ssh-ed25519 ") != NULL) {
			uint8_t *blob = NULL;
			size_t blen;
			p = strstr(line, "ssh-ed25519 ") + 12;
			while (*p == ' ')
				p++;
			end = p;
			while (*end != '\0' && *end != ' ' && *end != '\t')
				end++;
			if (eakte_base64__decode(&blob, &blen, p, (size_t)(end - p)) < 0 || blen != 51 ||
			    memcmp(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) != 0) {
				free(blob);
				rc = eakte_error__set(EAKTE_EINVALID, "the pinned key: malformed ssh-ed25519 key");
				break;
			}
			memcpy(pubs[(*n)++], blob + 19, EAKTE_ED25519_PUB_LEN);
			free(blob);
		} else {
			char name[EAKTE_NOTE_NAME_MAX + 1];
			uint32_t id;
			end = p + strlen(p);
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (eakte_note__parse_verifier_key(name, pubs[*n], &id, p) < 0) {
				rc = eakte_error__set(EAKTE_EINVALID,
					"the pinned key is none of: a PEM public key, a C2SP verifier key (note.vkey), an ssh-ed25519 line");
				break;
			}
			(*n)++;
		}
	}
	free(copy);
	if (rc == 0 && *n == 0)
		rc = eakte_error__set(EAKTE_EINVALID, "the pinned key file holds no key");
	return rc;
}

/* ------------------------------------------------------------------ */
/* The stream                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
	const char *prefix;            /* stream mode: members to hand out */
	eakte_pkg_member_cb cb;
	void *payload;
	eakte_bag *bag;                /* read mode */
	EVP_MD_CTX *file_sha;          /* SHA-256 of the package file, when read as a stream */
	int fd;
	int seekable;                  /* a regular file: zip is read by its central directory */
	uint64_t file_size;
	uint64_t file_bytes;
	uint8_t buf[65536];
} reader;

static la_ssize_t read_cb(struct archive *ar, void *ud, const void **out)
{
	reader *r = ud;
	ssize_t n;

	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(ar, errno, "read: %s", strerror(errno));
		return -1;
	}
	if (r->file_sha != NULL && n > 0 && EVP_DigestUpdate(r->file_sha, r->buf, (size_t)n) != 1) {
		archive_set_error(ar, EIO, "SHA-256 failed");
		return -1;
	}
	r->file_bytes += (uint64_t)n;
	*out = r->buf;
	return n;
}

static la_int64_t seek_cb(struct archive *ar, void *ud, la_int64_t offset, int whence)
{
	reader *r = ud;
	off_t pos = lseek(r->fd, (off_t)offset, whence);

	if (pos < 0) {
		archive_set_error(ar, errno, "seek: %s", strerror(errno));
		return ARCHIVE_FATAL;
	}
	return (la_int64_t)pos;
}

#define XDOMEA_SUFFIX "_Aussonderung.Aussonderung.0503.xml"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A file at the top level of an xdomea export that is not a tag file of
 * the bag nor the message: a primary file (hashed, never kept). */
static int xdomea_primary(const char *name)
{
	return strchr(name, '/') == NULL && !eakte_bag__bagit_tag_file(name) && !ends_with(name, XDOMEA_SUFFIX);
}

static int run_names(reader *r, const char *label, const eakte_package_options *opts, const char **format);

/*
 * libarchive gives member names in the character set of the current
 * locale, and cannot give a non-ASCII name at all in the C locale that a
 * daemon or a script usually runs in ("Pathname cannot be converted").
 * Package names are UTF-8, so the reading thread (only it: uselocale)
 * switches to a UTF-8 character type while it reads.
 */
static int run(reader *r, const char *label, const eakte_package_options *opts, const char **format)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old = (locale_t)0;
	int rc;

	if (utf8 != (locale_t)0)
		old = uselocale(utf8);
	rc = run_names(r, label, opts, format);
	if (utf8 != (locale_t)0) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}

static int run_names(reader *r, const char *label, const eakte_package_options *opts, const char **format)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *e;
	limits lim;
	uint64_t total = 0, members = 0;
	char *data = NULL;
	int rc = 0;

	get_limits(&lim, opts);
	data = malloc(65536);
	if (ar == NULL || data == NULL) {
		archive_read_free(ar);
		free(data);
		return eakte_error__oom("a package reader");
	}
	archive_read_support_format_tar(ar);
	/* A zip file is read by its central directory, as unzip and every other
	 * tool reads it (a streaming reader sees only the local headers, which a
	 * crafted file can make disagree, and no file types); a zip from a pipe
	 * can only be read as a stream. */
	if (r->seekable) {
		archive_read_support_format_zip_seekable(ar);
		archive_read_set_seek_callback(ar, seek_cb);
	} else {
		archive_read_support_format_zip_streamable(ar);
	}
	if (archive_read_open2(ar, r, NULL, read_cb, NULL, NULL) != ARCHIVE_OK) {
		rc = eakte_error__set(EAKTE_EVERIFY, "%s is not a tar or zip file (or it is damaged): %s", label,
			archive_error_string(ar) ? archive_error_string(ar) : "unknown format");
		goto out;
	}
	for (;;) {
		const char *name;
		char nm[EAKTE_BAG_PATH_MAX + 2], shown[256];
		size_t n;
		int hr = archive_read_next_header(ar, &e), keep, want;
		uint64_t msize = 0;

		if (hr == ARCHIVE_EOF)
			break;
		if (hr < ARCHIVE_WARN) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s is damaged or truncated after %" PRIu64 " members: %s", label, members,
				archive_error_string(ar) ? archive_error_string(ar) : "unreadable header");
			goto out;
		}
		if (format != NULL && members == 0)
			*format = archive_format(ar) == ARCHIVE_FORMAT_ZIP || (archive_format(ar) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP
				? "bagit-zip" : "bagit-tar";
		if (++members > lim.members) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s has more than %" PRIu64 " members (limit)", label, lim.members);
			goto out;
		}
		name = archive_entry_pathname(e);
		if (name == NULL)
			name = archive_entry_pathname_utf8(e);
		if (name == NULL) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s: member %" PRIu64 " has no readable name (%s)", label, members,
				archive_error_string(ar) ? archive_error_string(ar) : "no name");
			goto out;
		}
		n = strlen(name);
		if (n > EAKTE_BAG_PATH_MAX) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s: member %" PRIu64 " has a name of %zu bytes, the limit is %d", label,
				members, n, EAKTE_BAG_PATH_MAX);
			goto out;
		}
		memcpy(nm, name, n + 1);
		eakte_bag__printable(shown, sizeof(shown), nm);
		if (archive_entry_filetype(e) == AE_IFDIR && archive_entry_hardlink(e) == NULL) {
			if (n > 0 && nm[n - 1] == '/')
				nm[--n] = '\0';
			if ((rc = eakte_bag__check_name(nm)) < 0)
				goto out;
			continue;
		}
		if ((rc = eakte_bag__check_name(nm)) < 0)
			goto out;
		if (archive_entry_hardlink(e) != NULL) {
			rc = eakte_error__set(EAKTE_EVERIFY, "member %s is a hard link; a package holds only regular files", shown);
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			rc = eakte_error__set(EAKTE_EVERIFY, "member %s is %s; a package holds only regular files", shown,
				archive_entry_filetype(e) == AE_IFLNK ? "a symbolic link" : "not a regular file");
			goto out;
		}
		if (archive_entry_is_encrypted(e)) {
			rc = eakte_error__set(EAKTE_EVERIFY, "member %s is encrypted", shown);
			goto out;
		}
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 && (uint64_t)archive_entry_size(e) > lim.member) {
			rc = eakte_error__set(EAKTE_EVERIFY, "member %s declares %" PRId64 " bytes, more than the limit of %" PRIu64,
				shown, (int64_t)archive_entry_size(e), lim.member);
			goto out;
		}
		want = r->prefix != NULL && strncmp(nm, r->prefix, strlen(r->prefix)) == 0;
		keep = strncmp(nm, "data/documents/", 15) != 0 && !xdomea_primary(nm);
		if (r->bag != NULL && (rc = eakte_bag__begin(r->bag, nm, keep)) < 0)
			goto out;
		for (;;) {
			la_ssize_t got = archive_read_data(ar, data, 65536);
			if (got == 0)
				break;
			if (got < 0) {
				rc = eakte_error__set(EAKTE_EVERIFY, "member %s cannot be read (damaged or truncated package): %s", shown,
					archive_error_string(ar) ? archive_error_string(ar) : "read error");
				goto out;
			}
			msize += (uint64_t)got;
			total += (uint64_t)got;
			if (msize > lim.member) {
				rc = eakte_error__set(EAKTE_EVERIFY, "member %s is larger than the limit of %" PRIu64 " bytes", shown, lim.member);
				goto out;
			}
			if (total > lim.total) {
				rc = eakte_error__set(EAKTE_EVERIFY, "%s unpacks to more than %" PRIu64 " bytes (limit)", label, lim.total);
				goto out;
			}
			if (total > RATIO_FLOOR && total / (r->seekable ? (r->file_size ? r->file_size : 1)
				: (r->file_bytes ? r->file_bytes : 1)) > lim.ratio) {
				rc = eakte_error__set(EAKTE_EVERIFY, "%s unpacks to more than %" PRIu64 " times its size at member %s (a compression bomb?)",
					label, lim.ratio, shown);
				goto out;
			}
			if (r->bag != NULL && (rc = eakte_bag__update(r->bag, data, (size_t)got)) < 0)
				goto out;
			if (want && (rc = r->cb(nm, data, (size_t)got, r->payload)) != 0)
				goto out;
		}
		if (r->bag != NULL && (rc = eakte_bag__end(r->bag)) < 0)
			goto out;
		if (want && (rc = r->cb(nm, NULL, 0, r->payload)) != 0)
			goto out;
	}
	/* Read to the end of the file, so that its hash covers all of it. */
	if (r->file_sha != NULL) {
		const void *dummy;
		la_ssize_t n;
		while ((n = read_cb(ar, r, &dummy)) > 0)
			;
		if (n < 0) {
			rc = eakte_error__set(EAKTE_EIO, "cannot read %s: %s", label, archive_error_string(ar));
			goto out;
		}
	}
out:
	archive_read_free(ar);
	free(data);
	return rc;
}

int eakte_package__stream(int fd, const char *prefix, const eakte_package_options *opts, eakte_pkg_member_cb cb,
	void *payload)
{
	reader *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return eakte_error__oom("a package reader");
	r->fd = fd;
	r->prefix = prefix;
	r->cb = cb;
	r->payload = payload;
	{
		/* As eakte_package__read() reads it: a zip by its central directory. */
		struct stat st;
		if (lseek(fd, 0, SEEK_CUR) == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			r->seekable = 1;
			r->file_size = (uint64_t)st.st_size;
		}
	}
	rc = run(r, "the package", opts, NULL);
	free(r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The checks                                                          */
/* ------------------------------------------------------------------ */

const eakte_pkg_event *eakte_package__event(const eakte_pkg *p, uint64_t seq)
{
	size_t lo = 0, hi = p->nevents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->events[mid].seq == seq)
			return &p->events[mid];
		if (p->events[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void eakte_package__free(eakte_pkg *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nevents; i++)
		eakte_event__free(&p->events[i].ev);
	free(p->events);
	eakte_bag__free(&p->bag);
	free(p);
}

static const eakte_bag_file *need(const eakte_pkg *p, const char *path, int *rc)
{
	const eakte_bag_file *f = eakte_bag__find(&p->bag, path);

	if (f == NULL)
		*rc = eakte_error__set(EAKTE_EVERIFY, "%s is missing from the package", path);
	return f;
}

/* seq from "data/journal/<seq>.<suffix>"; -1 if not of that form. */
static int journal_seq(uint64_t *seq, const char *path, const char *suffix)
{
	const char *p = path + 13, *dot;
	char *end;

	if (strncmp(path, "data/journal/", 13) != 0 || (dot = strchr(p, '.')) == NULL || strcmp(dot + 1, suffix) != 0 ||
	    dot == p || dot - p > 20 || (p[0] == '0' && dot - p > 1) || p[0] < '0' || p[0] > '9')
		return -1;
	errno = 0;
	*seq = strtoull(p, &end, 10);
	return end == dot && errno == 0 ? 0 : -1;
}

static int cmp_event(const void *x, const void *y)
{
	uint64_t a = ((const eakte_pkg_event *)x)->seq, b = ((const eakte_pkg_event *)y)->seq;
	return a < b ? -1 : a > b;
}

/* The metadata object an event's "meta" member names: present, with that SHA-256. */
static int check_meta_ref(eakte_pkg *p, const eakte_pkg_event *e, uint8_t *used)
{
	const json_t *m;
	const char *sha;
	char path[128];
	const eakte_bag_file *f;

	if (eakte_cjson__get_object(&m, e->ev.root, "meta") < 0)
		return 0;
	if (eakte_cjson__get_string(&sha, m, "sha256") < 0 || strlen(sha) != EAKTE_HASH_HEX_LEN)
		return eakte_error__set(EAKTE_EVERIFY, "event %" PRIu64 ": malformed meta reference", e->seq);
	snprintf(path, sizeof(path), "data/objects/%s.json", sha);
	if ((f = eakte_bag__find(&p->bag, path)) == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "%s (the metadata object of event %" PRIu64 ") is missing from the package",
			path, e->seq);
	{
		char actual[EAKTE_HASH_HEX_LEN + 1];
		eakte_hex__encode(actual, f->sha256, EAKTE_HASH_LEN);
		if (strcmp(actual, sha) != 0)
			return eakte_error__set(EAKTE_EVERIFY, "%s does not match event %" PRIu64 ": SHA-256 expected=%s actual=%s",
				path, e->seq, sha, actual);
	}
	used[f - p->bag.files] = 1;
	return 0;
}

static int check_file_event(eakte_pkg *p, const eakte_pkg_event *e, uint8_t *used)
{
	eakte_ev_file fr;
	char path[160], want[EAKTE_HASH_HEX_LEN + 1], actual[EAKTE_HASH_HEX_LEN + 1];
	const eakte_bag_file *f;
	int rc;

	if ((rc = eakte_event__file_refs(&fr, &e->ev)) < 0)
		return eakte_error__wrap(EAKTE_EVERIFY, "event %" PRIu64, e->seq);
	snprintf(path, sizeof(path), "data/documents/%s/%" PRId64 ".content", fr.doc, fr.version);
	if ((f = eakte_bag__find(&p->bag, path)) == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "%s (document %s version %" PRId64 ", event %" PRIu64 ") is missing from the package",
			path, fr.doc, fr.version, e->seq);
	eakte_hex__encode(want, fr.content_sha256, EAKTE_HASH_LEN);
	eakte_hex__encode(actual, f->sha256, EAKTE_HASH_LEN);
	if (f->size != fr.size || strcmp(want, actual) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "%s does not match its filing event %" PRIu64 ": SHA-256 expected=%s actual=%s, size expected=%" PRIu64
			" actual=%" PRIu64, path, e->seq, want, actual, fr.size, f->size);
	used[f - p->bag.files] = 1;
	p->documents++;
	return 0;
}

/* The proof must be of exactly the event bytes against exactly the package's checkpoint. */
static int check_proof(const eakte_pkg_event *e, const eakte_bag_file *proof, const eakte_bag_file *cp,
	const char *vkey)
{
	eakte_proof_result res;
	char *b64 = NULL, *line = NULL, *sep;
	size_t ll;
	int rc;

	if ((rc = eakte_proof_verify(&res, proof->data, proof->len, vkey)) < 0)
		return eakte_error__wrap(EAKTE_EVERIFY, "%s", proof->path);
	if (res.seq != e->seq)
		return eakte_error__set(EAKTE_EVERIFY, "%s proves event %" PRIu64 ", not %" PRIu64, proof->path, res.seq, e->seq);
	if ((rc = eakte_base64__encode(&b64, (const uint8_t *)e->json, e->len)) < 0)
		return rc;
	ll = strlen(b64) + 8;
	if ((line = malloc(ll + 1)) == NULL) {
		free(b64);
		return eakte_error__oom("checking a proof");
	}
	snprintf(line, ll + 1, "\nevent %s\n", b64);
	sep = memmem(proof->data, proof->len, "\n\n", 2);
	if (sep == NULL || memmem(proof->data, (size_t)(sep - proof->data) + 1, line, strlen(line)) == NULL)
		rc = eakte_error__set(EAKTE_EVERIFY, "%s is not a proof of the bytes of %s", proof->path, "its event file");
	else if (proof->len - (size_t)(sep + 2 - proof->data) != cp->len || memcmp(sep + 2, cp->data, cp->len) != 0)
		rc = eakte_error__set(EAKTE_EVERIFY, "%s is against another checkpoint than data/journal/checkpoint", proof->path);
	free(line);
	free(b64);
	return rc;
}

static int concerns(const eakte_pkg *p, const eakte_pkg_event *e, const json_t *docs)
{
	const char *az, *doc;

	if (strcmp(e->ev.action, "genesis") == 0 || strcmp(e->ev.action, "plan") == 0)
		return 1;
	if (strcmp(e->ev.action, "meta") == 0)
		return eakte_cjson__get_string(&doc, e->ev.root, "doc") == 0 && json_object_get(docs, doc) != NULL;
	return eakte_cjson__get_string(&az, e->ev.root, "akte") == 0 && strcmp(az, p->akte) == 0;
}

static int cmp_content(const void *x, const void *y)
{
	const eakte_bag_file *a = *(const eakte_bag_file *const *)x, *b = *(const eakte_bag_file *const *)y;
	int c = memcmp(a->sha256, b->sha256, sizeof(a->sha256));

	return c != 0 ? c : a->size < b->size ? -1 : a->size > b->size;
}

/* The Dateiname of every Primaerdokument in the message, in `names`
 * (name -> count). */
static int xdomea_names(json_t *names, const eakte_bag_file *msg)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr res = NULL;
	int rc = 0;

	/* No network, no entities expanded, no DTD loaded: the message is
	 * untrusted input. */
	eakte_xml__init();
	doc = xmlReadMemory(msg->data, (int)msg->len, msg->path, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING);
	if (doc == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "the xdomea message %s is not well-formed XML", msg->path);
	if ((ctx = xmlXPathNewContext(doc)) == NULL ||
	    xmlXPathRegisterNs(ctx, BAD_CAST "x", BAD_CAST "urn:xoev-de:xdomea:schema:3.0.0") != 0 ||
	    (res = xmlXPathEvalExpression(BAD_CAST "/x:Aussonderung.Aussonderung.0503//x:Primaerdokument/x:Dateiname", ctx)) == NULL) {
		rc = eakte_error__oom("reading the xdomea message");
		goto out;
	}
	if (xmlXPathNodeSetIsEmpty(res->nodesetval) &&
	    xmlDocGetRootElement(doc) != NULL && xmlStrcmp(xmlDocGetRootElement(doc)->name, BAD_CAST "Aussonderung.Aussonderung.0503") != 0) {
		rc = eakte_error__set(EAKTE_EVERIFY, "%s is not an xdomea 3.0.0 message 0503", msg->path);
		goto out;
	}
	for (int i = 0; res->nodesetval != NULL && i < res->nodesetval->nodeNr; i++) {
		xmlChar *t = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
		json_t *n;
		if (t == NULL) {
			rc = eakte_error__oom("reading the xdomea message");
			goto out;
		}
		n = json_object_get(names, (const char *)t);
		if (json_object_set_new(names, (const char *)t, json_integer(n ? json_integer_value(n) + 1 : 1)) < 0) {
			xmlFree(t);
			rc = eakte_error__oom("reading the xdomea message");
			goto out;
		}
		xmlFree(t);
	}
out:
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return rc;
}

/*
 * Rule (10): an xdomea export (EAKTE_PACKAGE_XDOMEA) carries, beside the
 * bag, the message <uuid>_Aussonderung.Aussonderung.0503.xml and the
 * primary files it names, at the top level.  Each must be listed in the
 * tag manifest (checked with rule 2), each primary file must have the
 * SHA-256 and size of a document version of the package (whose content
 * the events prove), and the message must name exactly these files.
 */
static int check_xdomea(eakte_pkg *p)
{
	const eakte_bag_file *msg = NULL, **docs = NULL;
	size_t ndocs = 0, nprimary = 0;
	json_t *names = NULL;
	char shown[256];
	int rc = 0;

	for (size_t i = 0; i < p->bag.count; i++) {
		const eakte_bag_file *f = &p->bag.files[i];
		if (strchr(f->path, '/') != NULL || !ends_with(f->path, XDOMEA_SUFFIX))
			continue;
		if (msg != NULL)
			return eakte_error__set(EAKTE_EVERIFY, "two xdomea messages in one package: %s and %s", msg->path, f->path);
		msg = f;
	}
	for (size_t i = 0; i < p->bag.count; i++)
		if (xdomea_primary(p->bag.files[i].path))
			nprimary++;
	if (msg == NULL && nprimary == 0)
		return 0;
	if (msg == NULL || msg->data == NULL)
		return eakte_error__set(EAKTE_EVERIFY, "the package has files beside the bag but no xdomea message (*%s) naming them",
			XDOMEA_SUFFIX);
	if ((names = json_object()) == NULL || (docs = malloc((p->bag.count + 1) * sizeof(*docs))) == NULL) {
		rc = eakte_error__oom("checking the xdomea files");
		goto out;
	}
	if ((rc = xdomea_names(names, msg)) < 0)
		goto out;
	for (size_t i = 0; i < p->bag.count; i++)
		if (strncmp(p->bag.files[i].path, "data/documents/", 15) == 0)
			docs[ndocs++] = &p->bag.files[i];
	qsort(docs, ndocs, sizeof(*docs), cmp_content);
	for (size_t i = 0; i < p->bag.count; i++) {
		const eakte_bag_file *f = &p->bag.files[i], *key = f;
		json_t *n;
		if (!xdomea_primary(f->path))
			continue;
		eakte_bag__printable(shown, sizeof(shown), f->path);
		if (ndocs == 0 || bsearch(&key, docs, ndocs, sizeof(*docs), cmp_content) == NULL) {
			rc = eakte_error__set(EAKTE_EVERIFY, "xdomea primary file %s is no document version of the package "
				"(its SHA-256 matches none)", shown);
			goto out;
		}
		n = json_object_get(names, f->path);
		if (n == NULL || json_integer_value(n) != 1) {
			rc = eakte_error__set(EAKTE_EVERIFY, "xdomea primary file %s is %s the message", shown,
				n == NULL ? "not named in" : "named more than once in");
			goto out;
		}
		json_object_del(names, f->path);
	}
	if (json_object_size(names) > 0) {
		eakte_bag__printable(shown, sizeof(shown), json_object_iter_key(json_object_iter(names)));
		rc = eakte_error__set(EAKTE_EVERIFY, "the xdomea message names primary file %s, which is not in the package", shown);
		goto out;
	}
	p->format = "xdomea";
out:
	json_decref(names);
	free(docs);
	return rc;
}

static int check(eakte_pkg *p, const eakte_package_options *opts, int *pinned)
{
	const eakte_bag_file *cpf, *vk, *pem, *aj, *tm;
	uint8_t *used = NULL;
	char *vkey = NULL, shown[256];
	eakte_key *pemkey = NULL;
	json_t *akte = NULL, *docs = NULL;
	size_t text_len, nev = 0;
	int rc = 0, have_create = 0;

	*pinned = -1;
	if ((rc = eakte_bag__validate(&p->bag)) < 0)
		return rc;
	if ((tm = need(p, "manifest-sha256.txt", &rc)) == NULL || (tm = need(p, "tagmanifest-sha256.txt", &rc)) == NULL)
		return rc;
	/* Rule (2): the tag manifest covers every tag file, so nothing
	 * outside data/ is unprotected. */
	for (size_t i = 0; i < p->bag.count; i++) {
		const eakte_bag_file *f = &p->bag.files[i];
		char needle[EAKTE_BAG_PATH_MAX + 4];
		if (strncmp(f->path, "data/", 5) == 0 || strcmp(f->path, "tagmanifest-sha256.txt") == 0)
			continue;
		if (strcmp(f->path, "bagit.txt") != 0 && strcmp(f->path, "bag-info.txt") != 0 &&
		    strcmp(f->path, "manifest-sha256.txt") != 0 && strchr(f->path, '/') != NULL) {
			eakte_bag__printable(shown, sizeof(shown), f->path);
			return eakte_error__set(EAKTE_EVERIFY, "unexpected member %s: an eakte package has no such tag file", shown);
		}
		snprintf(needle, sizeof(needle), " %s\n", f->path);
		if (strstr(tm->data, needle) == NULL)
			return eakte_error__set(EAKTE_EVERIFY, "tag file %s is not listed in tagmanifest-sha256.txt", f->path);
	}
	if ((cpf = need(p, "data/journal/checkpoint", &rc)) == NULL || (vk = need(p, "data/journal/note.vkey", &rc)) == NULL ||
	    (pem = need(p, "data/journal/signing.pub.pem", &rc)) == NULL || (aj = need(p, "data/akte.json", &rc)) == NULL)
		return rc;
	/* Rule (3): the key. */
	if ((vkey = strndup(vk->data, vk->len)) == NULL)
		return eakte_error__oom("the verifier key");
	vkey[strcspn(vkey, "\n")] = '\0';
	if ((rc = eakte_note__parse_verifier_key(p->origin, p->pub, &p->key_id, vkey)) < 0) {
		rc = eakte_error__wrap(EAKTE_EVERIFY, "data/journal/note.vkey");
		goto out;
	}
	eakte_package__fingerprint(p->fingerprint, p->pub);
	if ((rc = eakte_key__from_public_pem(&pemkey, pem->data, pem->len)) < 0) {
		rc = eakte_error__wrap(EAKTE_EVERIFY, "data/journal/signing.pub.pem");
		goto out;
	}
	{
		uint8_t raw[EAKTE_ED25519_PUB_LEN];
		eakte_key__public_raw(pemkey, raw);
		if (memcmp(raw, p->pub, sizeof(raw)) != 0) {
			rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/signing.pub.pem and data/journal/note.vkey are different keys");
			goto out;
		}
	}
	if ((rc = eakte_note__verify(&text_len, cpf->data, cpf->len, p->origin, p->pub)) < 0) {
		rc = eakte_error__wrap(EAKTE_EVERIFY, "data/journal/checkpoint: no valid signature by the package's key %s", p->fingerprint);
		goto out;
	}
	if ((rc = eakte_checkpoint__parse(&p->cp, cpf->data, text_len)) < 0) {
		rc = eakte_error__wrap(EAKTE_EVERIFY, "data/journal/checkpoint");
		goto out;
	}
	if (strcmp(p->cp.origin, p->origin) != 0) {
		rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/checkpoint: origin \"%s\" is not the key's name \"%s\"", p->cp.origin, p->origin);
		goto out;
	}
	/* Rule (9), before the rest, so that a foreign package is named as such. */
	if (opts != NULL && opts->key != NULL) {
		uint8_t pubs[MAX_PINNED][EAKTE_ED25519_PUB_LEN];
		size_t n;
		if ((rc = eakte_package__parse_keys(pubs, MAX_PINNED, &n, opts->key, opts->key_len)) < 0)
			goto out;
		*pinned = 0;
		for (size_t i = 0; i < n; i++)
			if (memcmp(pubs[i], p->pub, EAKTE_ED25519_PUB_LEN) == 0)
				*pinned = 1;
		if (!*pinned) {
			char want[64];
			eakte_package__fingerprint(want, pubs[0]);
			rc = eakte_error__set(EAKTE_EVERIFY, "the package is signed by %s (note key id %08x), not by the pinned key %s%s",
				p->fingerprint, p->key_id, want, n > 1 ? " (or the others given)" : "");
			goto out;
		}
	}
	/* akte.json names the Akte. */
	{
		const char *az;
		if (eakte_cjson__parse(&akte, aj->data, aj->len, EAKTE_BAG_TAG_MAX) < 0 || !json_is_object(akte) ||
		    eakte_cjson__get_string(&az, akte, "az") < 0 || strlen(az) >= sizeof(p->akte)) {
			rc = eakte_error__set(EAKTE_EVERIFY, "data/akte.json is not an object with the Aktenzeichen \"az\"");
			goto out;
		}
		snprintf(p->akte, sizeof(p->akte), "%s", az);
	}
	/* Rule (4): events and proofs. */
	for (size_t i = 0; i < p->bag.count; i++) {
		uint64_t seq;
		if (journal_seq(&seq, p->bag.files[i].path, "json") == 0)
			nev++;
	}
	if ((p->events = calloc(nev ? nev : 1, sizeof(*p->events))) == NULL || (used = calloc(p->bag.count, 1)) == NULL ||
	    (docs = json_object()) == NULL) {
		rc = eakte_error__oom("the package's events");
		goto out;
	}
	for (size_t i = 0; i < p->bag.count; i++) {
		const eakte_bag_file *f = &p->bag.files[i];
		eakte_pkg_event *e;
		uint64_t seq;
		if (journal_seq(&seq, f->path, "json") < 0)
			continue;
		e = &p->events[p->nevents++];
		e->seq = seq;
		e->json = f->data;
		e->len = f->len;
		if (eakte_event__parse(&e->ev, f->data, f->len) < 0) {
			rc = eakte_error__wrap(EAKTE_EVERIFY, "%s is not a canonical eakte event", f->path);
			goto out;
		}
		if (e->ev.seq != seq) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s holds event %" PRIu64, f->path, e->ev.seq);
			goto out;
		}
		eakte_merkle__leaf_hash(e->leaf, f->data, f->len);
		used[i] = 1;
	}
	if (p->nevents > 0)
		qsort(p->events, p->nevents, sizeof(*p->events), cmp_event);
	for (size_t i = 0; i < p->nevents; i++) {
		const eakte_pkg_event *e = &p->events[i];
		const eakte_bag_file *pf;
		char path[64];
		snprintf(path, sizeof(path), "data/journal/%" PRIu64 ".proof", e->seq);
		if ((pf = eakte_bag__find(&p->bag, path)) == NULL) {
			rc = eakte_error__set(EAKTE_EVERIFY, "%s (the inclusion proof of event %" PRIu64 ") is missing from the package", path, e->seq);
			goto out;
		}
		if (e->seq >= p->cp.size) {
			rc = eakte_error__set(EAKTE_EVERIFY, "event %" PRIu64 " is not covered by the package's checkpoint (size %" PRIu64 ")",
				e->seq, p->cp.size);
			goto out;
		}
		if ((rc = check_proof(e, pf, cpf, vkey)) < 0)
			goto out;
		used[pf - p->bag.files] = 1;
	}
	/* Rules (5), (7), (8). */
	for (size_t i = 0; i < p->nevents; i++) {
		const eakte_pkg_event *e = &p->events[i];
		if (strcmp(e->ev.action, "file") == 0) {
			const char *doc;
			if (eakte_cjson__get_string(&doc, e->ev.root, "doc") == 0 && json_object_set_new(docs, doc, json_true()) < 0) {
				rc = eakte_error__oom("the package's documents");
				goto out;
			}
		}
		if (!concerns(p, e, docs)) {
			rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/%" PRIu64 ".json (%s) does not concern Akte %s", e->seq, e->ev.action, p->akte);
			goto out;
		}
		if (strcmp(e->ev.action, "akte-create") == 0)
			have_create = 1;
		if (e->seq == 0) {
			const json_t *key;
			const char *origin, *pub64;
			uint8_t gpub[EAKTE_ED25519_PUB_LEN];
			if (strcmp(e->ev.action, "genesis") != 0 || eakte_cjson__get_string(&origin, e->ev.root, "origin") < 0 ||
			    eakte_cjson__get_object(&key, e->ev.root, "key") < 0 || eakte_cjson__get_string(&pub64, key, "public") < 0 ||
			    eakte_base64__decode_exact(gpub, sizeof(gpub), pub64, strlen(pub64)) < 0) {
				rc = eakte_error__set(EAKTE_EVERIFY, "data/journal/0.json is not a well-formed genesis event");
				goto out;
			}
			if (strcmp(origin, p->origin) != 0 || memcmp(gpub, p->pub, sizeof(gpub)) != 0) {
				rc = eakte_error__set(EAKTE_EVERIFY, "the package's key %s is not the genesis key of origin %s (event 0)",
					p->fingerprint, origin);
				goto out;
			}
		}
		if (strcmp(e->ev.action, "file") == 0 && (rc = check_file_event(p, e, used)) < 0)
			goto out;
		if ((rc = check_meta_ref(p, e, used)) < 0)
			goto out;
	}
	if (!have_create) {
		rc = eakte_error__set(EAKTE_EVERIFY, "the akte-create event of Akte %s is not in the package", p->akte);
		goto out;
	}
	/* Rule (6). */
	for (size_t i = 0; i < p->bag.count; i++) {
		const eakte_bag_file *f = &p->bag.files[i];
		if (strncmp(f->path, "data/", 5) != 0 || used[i] || f == cpf || f == vk || f == pem || f == aj)
			continue;
		eakte_bag__printable(shown, sizeof(shown), f->path);
		rc = eakte_error__set(EAKTE_EVERIFY, "unexpected member %s: named by no event of the package", shown);
		goto out;
	}
	for (size_t i = 0; i < p->bag.count; i++)
		if (strncmp(p->bag.files[i].path, "data/objects/", 13) == 0)
			p->objects++;
	/* Rule (10): what else lies at the top level is an xdomea message and
	 * its primary files, or nothing. */
	rc = check_xdomea(p);
out:
	free(used);
	free(vkey);
	eakte_key__free(pemkey);
	json_decref(akte);
	json_decref(docs);
	return rc;
}

static int read_package(eakte_pkg **out, int fd, const char *label, const eakte_package_options *opts, int *pinned)
{
	eakte_pkg *p = calloc(1, sizeof(*p));
	reader *r = calloc(1, sizeof(*r));
	limits lim;
	int rc;

	*out = NULL;
	*pinned = -1;
	if (p == NULL || r == NULL || (r->file_sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(r->file_sha, EVP_sha256(), NULL) != 1) {
		rc = eakte_error__oom("a package reader");
		goto out;
	}
	get_limits(&lim, opts);
	if ((rc = eakte_bag__init(&p->bag, EAKTE_BAG_SHA256, (size_t)lim.members, KEEP_MAX)) < 0)
		goto out;
	r->fd = fd;
	r->bag = &p->bag;
	p->format = "bagit-tar";
	{
		struct stat st;
		off_t start = lseek(fd, 0, SEEK_CUR);
		if (start == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			/* Hash the file in a pass of its own: the archive reader
			 * seeks.  The checks below then run on the same file. */
			for (;;) {
				ssize_t n = read(fd, r->buf, sizeof(r->buf));
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot read %s", label);
					goto out;
				}
				if (n == 0)
					break;
				if (EVP_DigestUpdate(r->file_sha, r->buf, (size_t)n) != 1) {
					rc = eakte_error__set(EAKTE_EIO, "SHA-256 of the package failed");
					goto out;
				}
				p->size += (uint64_t)n;
			}
			if (lseek(fd, 0, SEEK_SET) != 0) {
				rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot seek in %s", label);
				goto out;
			}
			r->seekable = 1;
			r->file_size = p->size;
			if (EVP_DigestFinal_ex(r->file_sha, p->sha256, NULL) != 1) {
				rc = eakte_error__set(EAKTE_EIO, "SHA-256 of the package failed");
				goto out;
			}
			EVP_MD_CTX_free(r->file_sha);
			r->file_sha = NULL;
		}
	}
	if ((rc = run(r, label, opts, &p->format)) < 0)
		goto out;
	if (!r->seekable) {
		if (EVP_DigestFinal_ex(r->file_sha, p->sha256, NULL) != 1) {
			rc = eakte_error__set(EAKTE_EIO, "SHA-256 of the package failed");
			goto out;
		}
		p->size = r->file_bytes;
	}
	rc = check(p, opts, pinned);
out:
	if (r != NULL)
		EVP_MD_CTX_free(r->file_sha);
	free(r);
	/* Even a package that failed goes back: the report names its key. */
	*out = p;
	return rc;
}

int eakte_package__read(eakte_pkg **out, int fd, const char *label, const eakte_package_options *opts)
{
	int pinned, rc;

	if (opts != NULL && opts->version != EAKTE_PACKAGE_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_package_options of an unsupported version");
	if ((rc = read_package(out, fd, label, opts, &pinned)) < 0) {
		eakte_package__free(*out);
		*out = NULL;
	}
	return rc;
}

int eakte_package_verify(char **report, int fd, const char *label, const eakte_package_options *opts)
{
	eakte_pkg *p = NULL;
	json_t *o = NULL;
	char sha[EAKTE_HASH_HEX_LEN + 1], root[64], failure[1024] = "";
	int rc, pinned, ran = 1;

	*report = NULL;
	if (opts != NULL && opts->version != EAKTE_PACKAGE_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_package_options of an unsupported version");
	if (label == NULL)
		label = "the package";
	rc = read_package(&p, fd, label, opts, &pinned);
	if (rc < 0) {
		snprintf(failure, sizeof(failure), "%s", eakte_error_last());
		ran = rc == EAKTE_EVERIFY;
	}
	if (!ran) {
		eakte_package__free(p);
		return rc;
	}
	o = json_pack("{s:i, s:b, s:s*}", "v", 1, "ok", rc == 0, "failure", rc == 0 ? NULL : failure);
	if (o == NULL) {
		eakte_package__free(p);
		return eakte_error__oom("the package report");
	}
	if (p != NULL && p->fingerprint[0] != '\0') {
		json_t *key;
		char kid[9];
		eakte_hex__encode(sha, p->sha256, EAKTE_HASH_LEN);
		eakte_base64__encode_to(root, p->cp.root, EAKTE_HASH_LEN);
		snprintf(kid, sizeof(kid), "%08x", p->key_id);
		key = json_pack("{s:s, s:s, s:s, s:o}", "fingerprint", p->fingerprint, "note_key_id", kid, "origin", p->origin,
			"pinned", pinned < 0 ? json_null() : json_boolean(pinned));
		if (key == NULL || json_object_set_new(o, "key", key) < 0 ||
		    json_object_set_new(o, "akte", json_string(p->akte)) < 0 ||
		    json_object_set_new(o, "format", json_string(p->format)) < 0 ||
		    json_object_set_new(o, "package", json_pack("{s:s, s:I}", "sha256", sha, "size", (json_int_t)p->size)) < 0 ||
		    json_object_set_new(o, "checkpoint", json_pack("{s:I, s:s}", "size", (json_int_t)p->cp.size, "root", root)) < 0 ||
		    json_object_set_new(o, "events", json_integer((json_int_t)p->nevents)) < 0 ||
		    json_object_set_new(o, "documents", json_integer((json_int_t)p->documents)) < 0 ||
		    json_object_set_new(o, "objects", json_integer((json_int_t)p->objects)) < 0) {
			json_decref(o);
			eakte_package__free(p);
			return eakte_error__oom("the package report");
		}
	}
	eakte_package__free(p);
	*report = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (*report == NULL)
		return eakte_error__oom("the package report");
	if (rc < 0)
		eakte_error__set(EAKTE_EVERIFY, "%s", failure);
	return rc;
}

int eakte_bag_validate_dir(const char *dir)
{
	eakte_bag bag;
	int rc;

	if ((rc = eakte_bag__init(&bag, EAKTE_BAG_ALL, 1000000, 1ull << 30)) < 0)
		return rc;
	rc = eakte_bag__from_dir(&bag, dir);
	if (rc == 0)
		rc = eakte_bag__validate(&bag);
	eakte_bag__free(&bag);
	return rc;
}
