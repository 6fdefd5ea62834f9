/*
 * sshsig.c - OpenSSH SSHSIG (PROTOCOL.sshsig) with Ed25519, as git writes
 * it into a commit's "gpgsig" header with gpg.format=ssh.
 *
 * Armor: what `ssh-keygen -Y sign` writes: "-----BEGIN SSH SIGNATURE-----\n",
 * the base64 blob in lines of exactly 70 characters (the last one shorter
 * or equal), each ended by "\n", then "-----END SSH SIGNATURE-----\n".
 *
 * git (checked with git 2.39.5, OpenSSH 9.2p1, libgit2 1.5.1): git signs
 * the commit buffer without the gpgsig header, reads ssh-keygen's .sig file
 * *with* its final newline and writes it as the header value, continuation
 * lines indented by one space, so the header ends "\n -----END SSH
 * SIGNATURE-----\n" and the blank line before the message follows.
 * libgit2's git_commit_create_with_signature() appends the header's final
 * "\n" itself and puts " " after every "\n" in the value, so the text we
 * return must NOT end in a newline (one more would add a line holding a
 * single space and a commit that differs from git's).  Without it the
 * commit object is byte-identical to the one `git commit -S` writes
 * (Ed25519 is deterministic; tested).  On verification git hands
 * ssh-keygen the text with the final newline; libgit2's
 * git_commit_extract_signature() returns it without.  The parser accepts
 * both: at most one "\n" after the END line, nothing else.
 *
 * Parsing is strict and fails closed: length bound, exact armor and line
 * lengths, canonical base64, every string length checked against what
 * remains, no trailing bytes.  Unlike OpenSSH, which ignores the reserved
 * field, a non-empty reserved field is rejected.
 */
#include "sshsig.h"
#include "encode.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define MAGIC "SSHSIG"
#define MAGIC_LEN 6
#define SIG_VERSION 1u
#define KEY_TYPE "ssh-ed25519"
#define KEY_TYPE_LEN 11
#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END "-----END SSH SIGNATURE-----"
#define ARMOR_LINE 70
#define NS_MAX 1024 /* longest namespace we sign with */

/* ------------------------------------------------------------------ */
/* Writing SSH wire format                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	uint8_t *p;
	size_t len, cap;
	bool overflow; /* callers size buffers exactly; set only by a bug */
} wbuf;

static void put_bytes(wbuf *b, const void *data, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(b, x, 4);
}

static void put_string(wbuf *b, const void *data, size_t n)
{
	put_u32(b, (uint32_t)n);
	put_bytes(b, data, n);
}

/* string("ssh-ed25519") || string(pub): 51 bytes */
#define PUBKEY_BLOB_LEN (4 + KEY_TYPE_LEN + 4 + EAKTE_ED25519_PUB_LEN)
/* string("ssh-ed25519") || string(sig): 83 bytes */
#define SIG_BLOB_LEN (4 + KEY_TYPE_LEN + 4 + EAKTE_ED25519_SIG_LEN)

static void pubkey_blob(uint8_t out[PUBKEY_BLOB_LEN], const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	wbuf b = { out, 0, PUBKEY_BLOB_LEN, false };

	put_string(&b, KEY_TYPE, KEY_TYPE_LEN);
	put_string(&b, pub, EAKTE_ED25519_PUB_LEN);
}

/* H(message) with "sha512" or "sha256"; *hlen set. */
static int hash_message(uint8_t h[64], size_t *hlen, const char *alg, const uint8_t *msg, size_t len)
{
	static const uint8_t empty[1] = { 0 };
	unsigned int n = 0;
	const EVP_MD *md = strcmp(alg, "sha512") == 0 ? EVP_sha512() : EVP_sha256();

	if (EVP_Digest(len > 0 ? msg : empty, len, h, &n, md, NULL) != 1 || n > 64)
		return eakte_error__set(EAKTE_EIO, "computing %s of the signed message failed (OpenSSL)", alg);
	*hlen = n;
	return 0;
}

/* "SSHSIG" || string(ns) || string("") || string(alg) || string(H(msg)), malloc'ed. */
static int signed_data(uint8_t **out, size_t *out_len, const char *ns, size_t ns_len,
	const char *alg, const uint8_t *msg, size_t len)
{
	uint8_t h[64];
	size_t hlen = 0, alg_len = strlen(alg), cap;
	wbuf b;
	int rc;

	*out = NULL;
	if ((rc = hash_message(h, &hlen, alg, msg, len)) < 0)
		return rc;
	cap = MAGIC_LEN + 4 + ns_len + 4 + 4 + alg_len + 4 + hlen;
	b.p = malloc(cap);
	if (b.p == NULL)
		return eakte_error__oom("building SSHSIG signed data");
	b.len = 0;
	b.cap = cap;
	b.overflow = false;
	put_bytes(&b, MAGIC, MAGIC_LEN);
	put_string(&b, ns, ns_len);
	put_string(&b, "", 0);
	put_string(&b, alg, alg_len);
	put_string(&b, h, hlen);
	if (b.overflow) {
		free(b.p);
		return eakte_error__set(EAKTE_EINVALID, "internal error: SSHSIG signed data buffer too small");
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

static int check_namespace_arg(const char *ns)
{
	if (ns == NULL || ns[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG namespace must not be empty");
	if (strlen(ns) > NS_MAX)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG namespace is longer than %d bytes", NS_MAX);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Signing                                                             */
/* ------------------------------------------------------------------ */

int eakte_sshsig__sign(char **out, const eakte_key *key, const char *ns,
	const uint8_t *msg, size_t len)
{
	uint8_t pub[EAKTE_ED25519_PUB_LEN], pkblob[PUBKEY_BLOB_LEN], sig[EAKTE_ED25519_SIG_LEN];
	uint8_t sigblob[SIG_BLOB_LEN];
	uint8_t *tbs = NULL;
	size_t tbs_len, ns_len, b64_len, lines, i, o;
	char *b64 = NULL, *text;
	wbuf blob, sb = { sigblob, 0, SIG_BLOB_LEN, false };
	int rc;

	*out = NULL;
	if (key == NULL || (msg == NULL && len > 0))
		return eakte_error__set(EAKTE_EINVALID, "eakte_sshsig__sign: no key or no message");
	if ((rc = check_namespace_arg(ns)) < 0)
		return rc;
	ns_len = strlen(ns);
	if ((rc = signed_data(&tbs, &tbs_len, ns, ns_len, "sha512", msg, len)) < 0)
		return rc;
	rc = eakte_key__sign(key, tbs, tbs_len, sig);
	free(tbs);
	if (rc < 0)
		return eakte_error__wrap(rc, "signing SSHSIG (namespace \"%s\")", ns);

	eakte_key__public_raw(key, pub);
	pubkey_blob(pkblob, pub);
	put_string(&sb, KEY_TYPE, KEY_TYPE_LEN);
	put_string(&sb, sig, EAKTE_ED25519_SIG_LEN);

	blob.cap = MAGIC_LEN + 4 + 4 + PUBKEY_BLOB_LEN + 4 + ns_len + 4 + 4 + 6 + 4 + SIG_BLOB_LEN;
	blob.len = 0;
	blob.overflow = false;
	blob.p = malloc(blob.cap);
	if (blob.p == NULL)
		return eakte_error__oom("building an SSHSIG blob");
	put_bytes(&blob, MAGIC, MAGIC_LEN);
	put_u32(&blob, SIG_VERSION);
	put_string(&blob, pkblob, PUBKEY_BLOB_LEN);
	put_string(&blob, ns, ns_len);
	put_string(&blob, "", 0);
	put_string(&blob, "sha512", 6);
	put_string(&blob, sigblob, SIG_BLOB_LEN);
	if (blob.overflow || sb.overflow) {
		free(blob.p);
		return eakte_error__set(EAKTE_EINVALID, "internal error: SSHSIG blob buffer too small");
	}
	rc = eakte_base64__encode(&b64, blob.p, blob.len);
	free(blob.p);
	if (rc < 0)
		return rc;

	b64_len = strlen(b64);
	lines = (b64_len + ARMOR_LINE - 1) / ARMOR_LINE;
	text = malloc(sizeof(ARMOR_BEGIN) - 1 + b64_len + lines + sizeof(ARMOR_END));
	if (text == NULL) {
		free(b64);
		return eakte_error__oom("armoring an SSHSIG");
	}
	memcpy(text, ARMOR_BEGIN, sizeof(ARMOR_BEGIN) - 1);
	o = sizeof(ARMOR_BEGIN) - 1;
	for (i = 0; i < b64_len; i += ARMOR_LINE) {
		size_t n = b64_len - i < ARMOR_LINE ? b64_len - i : ARMOR_LINE;
		memcpy(text + o, b64 + i, n);
		o += n;
		text[o++] = '\n';
	}
	memcpy(text + o, ARMOR_END, sizeof(ARMOR_END)); /* with NUL, no newline */
	free(b64);
	*out = text;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	const uint8_t *p;
	size_t n;
} rbuf;

static int get_bytes(rbuf *r, const uint8_t **out, size_t n, const char *what)
{
	if (n > r->n)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG is truncated in %s", what);
	*out = r->p;
	r->p += n;
	r->n -= n;
	return 0;
}

static int get_u32(rbuf *r, uint32_t *v, const char *what)
{
	const uint8_t *p = NULL;
	int rc;

	if ((rc = get_bytes(r, &p, 4, what)) < 0)
		return rc;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
	return 0;
}

/* An SSH string: uint32 length, then that many bytes (checked against what remains). */
static int get_string(rbuf *r, rbuf *s, const char *what)
{
	uint32_t n;
	int rc;

	if ((rc = get_u32(r, &n, what)) < 0)
		return rc;
	if (n > r->n)
		return eakte_error__set(EAKTE_EINVALID,
			"SSHSIG %s claims %" PRIu32 " bytes but only %zu remain", what, n, r->n);
	s->p = r->p;
	s->n = n;
	r->p += n;
	r->n -= n;
	return 0;
}

static bool rbuf_eq(const rbuf *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->n == n && memcmp(s->p, lit, n) == 0;
}

typedef struct {
	const uint8_t *pub;    /* 32 bytes */
	rbuf ns;
	const char *hashalg;   /* "sha512" or "sha256" */
	const uint8_t *sig;    /* 64 bytes */
} parsed_sig;

/* An ed25519 key or signature blob: string("ssh-ed25519") || string(n bytes). */
static int parse_typed(rbuf s, const uint8_t **out, size_t n, const char *what)
{
	rbuf type = { NULL, 0 }, val = { NULL, 0 };
	int rc;

	if ((rc = get_string(&s, &type, what)) < 0)
		return rc;
	if (!rbuf_eq(&type, KEY_TYPE))
		return eakte_error__set(EAKTE_EINVALID,
			"SSHSIG %s is not of type ssh-ed25519; only Ed25519 signatures are supported", what);
	if ((rc = get_string(&s, &val, what)) < 0)
		return rc;
	if (val.n != n)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG %s has %zu bytes, expected %zu", what, val.n, n);
	if (s.n != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG %s has %zu trailing bytes", what, s.n);
	*out = val.p;
	return 0;
}

static int parse_blob(parsed_sig *ps, const uint8_t *blob, size_t len)
{
	rbuf r = { blob, len }, pk = { NULL, 0 }, reserved = { NULL, 0 }, alg = { NULL, 0 }, sig = { NULL, 0 };
	const uint8_t *magic = NULL;
	uint32_t version;
	int rc;

	if ((rc = get_bytes(&r, &magic, MAGIC_LEN, "magic")) < 0)
		return rc;
	if (memcmp(magic, MAGIC, MAGIC_LEN) != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG blob does not start with \"SSHSIG\"");
	if ((rc = get_u32(&r, &version, "version")) < 0)
		return rc;
	if (version != SIG_VERSION)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG version %" PRIu32 " is not supported (only 1)", version);
	if ((rc = get_string(&r, &pk, "public key")) < 0 ||
	    (rc = parse_typed(pk, &ps->pub, EAKTE_ED25519_PUB_LEN, "public key")) < 0)
		return rc;
	if ((rc = get_string(&r, &ps->ns, "namespace")) < 0)
		return rc;
	if (ps->ns.n == 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG namespace is empty");
	if ((rc = get_string(&r, &reserved, "reserved field")) < 0)
		return rc;
	if (reserved.n != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG reserved field is not empty (%zu bytes)", reserved.n);
	if ((rc = get_string(&r, &alg, "hash algorithm")) < 0)
		return rc;
	if (rbuf_eq(&alg, "sha512"))
		ps->hashalg = "sha512";
	else if (rbuf_eq(&alg, "sha256"))
		ps->hashalg = "sha256";
	else
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG hash algorithm is neither sha512 nor sha256");
	if ((rc = get_string(&r, &sig, "signature")) < 0 ||
	    (rc = parse_typed(sig, &ps->sig, EAKTE_ED25519_SIG_LEN, "signature")) < 0)
		return rc;
	if (r.n != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG blob has %zu trailing bytes", r.n);
	return 0;
}

/*
 * Strip the armor: BEGIN line, base64 lines of exactly 70 characters (the
 * last 1..70), END line, at most one "\n".  *blob malloc'ed.
 */
static int dearmor(uint8_t **blob, size_t *blob_len, const char *armored, size_t len)
{
	const size_t begin_len = sizeof(ARMOR_BEGIN) - 1, end_len = sizeof(ARMOR_END) - 1;
	const char *p, *end;
	char *b64;
	size_t b64_len = 0;
	int rc;

	*blob = NULL;
	*blob_len = 0;
	if (armored == NULL)
		return eakte_error__set(EAKTE_EINVALID, "no SSHSIG text");
	if (len > EAKTE_SSHSIG_MAX)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG text has %zu bytes, more than the limit of %d",
			len, EAKTE_SSHSIG_MAX);
	if (len > 0 && armored[len - 1] == '\n')
		len--;
	if (len < begin_len + end_len || memcmp(armored, ARMOR_BEGIN, begin_len) != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG does not start with \"-----BEGIN SSH SIGNATURE-----\"");
	if (memcmp(armored + len - end_len, ARMOR_END, end_len) != 0)
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG does not end with \"-----END SSH SIGNATURE-----\" "
			"(truncated or trailing data)");
	p = armored + begin_len;
	end = armored + len - end_len; /* just after the last body "\n" */
	b64 = malloc((size_t)(end - p) + 1);
	if (b64 == NULL)
		return eakte_error__oom("decoding an SSHSIG");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (nl == NULL) {
			free(b64);
			return eakte_error__set(EAKTE_EINVALID, "SSHSIG END line does not start a line");
		}
		n = (size_t)(nl - p);
		if (n == 0 || n > ARMOR_LINE || (n < ARMOR_LINE && nl + 1 != end)) {
			free(b64);
			return eakte_error__set(EAKTE_EINVALID,
				"SSHSIG base64 must be in lines of %d characters (found a line of %zu)", ARMOR_LINE, n);
		}
		memcpy(b64 + b64_len, p, n);
		b64_len += n;
		p = nl + 1;
	}
	if (b64_len == 0) {
		free(b64);
		return eakte_error__set(EAKTE_EINVALID, "SSHSIG has no base64 body");
	}
	rc = eakte_base64__decode(blob, blob_len, b64, b64_len);
	free(b64);
	if (rc < 0)
		return eakte_error__wrap(rc, "SSHSIG body");
	return 0;
}

static int parse_armored(parsed_sig *ps, uint8_t **blob, const char *armored, size_t len)
{
	size_t blob_len;
	int rc;

	if ((rc = dearmor(blob, &blob_len, armored, len)) < 0)
		return rc;
	if ((rc = parse_blob(ps, *blob, blob_len)) < 0) {
		free(*blob);
		*blob = NULL;
	}
	return rc;
}

int eakte_sshsig__verify(const char *armored, size_t armored_len, const char *ns,
	const uint8_t *msg, size_t len, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	parsed_sig ps = { NULL, { NULL, 0 }, NULL, NULL };
	uint8_t *blob = NULL, *tbs = NULL;
	size_t tbs_len, ns_len;
	int rc;

	if (pub == NULL || (msg == NULL && len > 0))
		return eakte_error__set(EAKTE_EINVALID, "eakte_sshsig__verify: no key or no message");
	if ((rc = check_namespace_arg(ns)) < 0)
		return rc;
	ns_len = strlen(ns);
	if ((rc = parse_armored(&ps, &blob, armored, armored_len)) < 0)
		return rc;
	if (memcmp(ps.pub, pub, EAKTE_ED25519_PUB_LEN) != 0) {
		rc = eakte_error__set(EAKTE_ESIGNATURE, "SSHSIG was made by a different key than the expected one");
		goto out;
	}
	if (ps.ns.n != ns_len || memcmp(ps.ns.p, ns, ns_len) != 0) {
		rc = eakte_error__set(EAKTE_ESIGNATURE, "SSHSIG namespace is not \"%s\"", ns);
		goto out;
	}
	if ((rc = signed_data(&tbs, &tbs_len, ns, ns_len, ps.hashalg, msg, len)) < 0)
		goto out;
	if (eakte_key__verify_raw(pub, tbs, tbs_len, ps.sig) < 0)
		rc = eakte_error__set(EAKTE_ESIGNATURE, "SSHSIG Ed25519 signature does not verify "
			"(message or signature changed)");
out:
	free(tbs);
	free(blob);
	return rc;
}

int eakte_sshsig__public_key(uint8_t pub[EAKTE_ED25519_PUB_LEN], const char *armored, size_t armored_len)
{
	parsed_sig ps = { NULL, { NULL, 0 }, NULL, NULL };
	uint8_t *blob = NULL;
	int rc;

	if ((rc = parse_armored(&ps, &blob, armored, armored_len)) < 0)
		return rc;
	memcpy(pub, ps.pub, EAKTE_ED25519_PUB_LEN);
	free(blob);
	return 0;
}

int eakte_sshsig__public_key_line(char **out, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	uint8_t blob[PUBKEY_BLOB_LEN];
	char *line;
	const size_t prefix = KEY_TYPE_LEN + 1;

	*out = NULL;
	pubkey_blob(blob, pub);
	line = malloc(prefix + eakte_base64__encoded_len(PUBKEY_BLOB_LEN) + 1);
	if (line == NULL)
		return eakte_error__oom("formatting an ssh public key line");
	memcpy(line, KEY_TYPE " ", prefix);
	eakte_base64__encode_to(line + prefix, blob, PUBKEY_BLOB_LEN);
	*out = line;
	return 0;
}
