/*
 * vectors_sshsig.c - OpenSSH's own SSHSIG test data
 * (regress/unittests/sshsig/testdata, see sshsig/ed25519.decoded.json).
 *
 * argv[1] is the vectors directory; every file used here must exist.
 *  - ed25519.sig over signed-data with the namespace from "namespace"
 *    verifies with the key in ed25519.pub, and the negative cases of
 *    ed25519.decoded.json fail;
 *  - rsa, ecdsa, sk and mldsa signatures are rejected cleanly (only
 *    Ed25519 is supported);
 *  - signing signed-data with the private key in sshsig/ed25519 (OpenSSH
 *    private key format, unencrypted, parsed here) reproduces ed25519.sig
 *    byte for byte (plus the final newline ssh-keygen writes).
 */
#include "sshsig.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

static const char *vectors_dir;

/* Read <vectors>/sshsig/<name>; fails the test if it is missing. */
static char *read_vector(const char *name, size_t *len_out)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/sshsig/%s", vectors_dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("vector file %s is missing: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0 && n < 1024 * 1024);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len_out != NULL)
		*len_out = (size_t)n;
	return buf;
}

/* ---- SSH wire helpers for the test ---- */

typedef struct {
	const uint8_t *p;
	size_t n;
} rd;

static uint32_t rd_u32(rd *r)
{
	uint32_t v;

	assert_true(r->n >= 4);
	v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
	r->p += 4;
	r->n -= 4;
	return v;
}

static rd rd_string(rd *r)
{
	rd s;
	uint32_t n = rd_u32(r);

	assert_true(n <= r->n);
	s.p = r->p;
	s.n = n;
	r->p += n;
	r->n -= n;
	return s;
}

static bool rd_eq(rd s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Decode the base64 between BEGIN and END lines (any line length). */
static uint8_t *dearmor(size_t *out_len, const char *text, const char *begin, const char *end)
{
	const char *b = strstr(text, begin), *e;
	char *b64;
	size_t n = 0;
	uint8_t *out;

	assert_non_null(b);
	b += strlen(begin);
	e = strstr(b, end);
	assert_non_null(e);
	b64 = malloc((size_t)(e - b) + 1);
	assert_non_null(b64);
	for (; b < e; b++)
		if (*b != '\n')
			b64[n++] = *b;
	assert_int_equal(eakte_base64__decode(&out, out_len, b64, n), 0);
	free(b64);
	return out;
}

/* Armor a blob as ssh-keygen does (70 columns, no final newline). */
static char *armor(const uint8_t *blob, size_t len)
{
	char *b64, *out;
	size_t n, i, o = 0;

	assert_int_equal(eakte_base64__encode(&b64, blob, len), 0);
	n = strlen(b64);
	out = malloc(n + n / 70 + 100);
	assert_non_null(out);
	o += (size_t)sprintf(out, "-----BEGIN SSH SIGNATURE-----\n");
	for (i = 0; i < n; i += 70) {
		size_t k = n - i < 70 ? n - i : 70;
		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	strcpy(out + o, "-----END SSH SIGNATURE-----");
	free(b64);
	return out;
}

/* "ssh-ed25519 AAAA... comment" -> raw key */
static void parse_pub_line(uint8_t pub[EAKTE_ED25519_PUB_LEN], const char *line)
{
	const char *b = strchr(line, ' '), *e;
	uint8_t *blob;
	size_t len;
	rd r, t, k;

	assert_non_null(b);
	assert_true(strncmp(line, "ssh-ed25519 ", 12) == 0);
	b++;
	e = b + strcspn(b, " \n");
	assert_int_equal(eakte_base64__decode(&blob, &len, b, (size_t)(e - b)), 0);
	r.p = blob;
	r.n = len;
	t = rd_string(&r);
	assert_true(rd_eq(t, "ssh-ed25519"));
	k = rd_string(&r);
	assert_int_equal(k.n, EAKTE_ED25519_PUB_LEN);
	assert_int_equal(r.n, 0);
	memcpy(pub, k.p, EAKTE_ED25519_PUB_LEN);
	free(blob);
}

/*
 * Unencrypted OpenSSH private key (PROTOCOL.key) -> 32-byte Ed25519 seed
 * and public key.
 */
static void parse_openssh_private(uint8_t seed[32], uint8_t pub[32], const char *text)
{
	static const char magic[] = "openssh-key-v1"; /* followed by a NUL */
	uint8_t *blob;
	size_t len, i;
	rd r, s, priv, t, k, sk;
	uint32_t c1, c2;

	blob = dearmor(&len, text, "-----BEGIN OPENSSH PRIVATE KEY-----\n", "-----END OPENSSH PRIVATE KEY-----");
	assert_true(len > sizeof(magic));
	assert_memory_equal(blob, magic, sizeof(magic));
	r.p = blob + sizeof(magic);
	r.n = len - sizeof(magic);
	assert_true(rd_eq(rd_string(&r), "none")); /* cipher */
	assert_true(rd_eq(rd_string(&r), "none")); /* kdf */
	assert_int_equal(rd_string(&r).n, 0);      /* kdf options */
	assert_int_equal(rd_u32(&r), 1);           /* number of keys */
	s = rd_string(&r);                         /* public key blob */
	t = rd_string(&s);
	assert_true(rd_eq(t, "ssh-ed25519"));
	k = rd_string(&s);
	assert_int_equal(k.n, 32);
	memcpy(pub, k.p, 32);
	priv = rd_string(&r);
	assert_int_equal(r.n, 0);
	c1 = rd_u32(&priv);
	c2 = rd_u32(&priv);
	assert_int_equal(c1, c2);
	assert_true(rd_eq(rd_string(&priv), "ssh-ed25519"));
	k = rd_string(&priv);
	assert_int_equal(k.n, 32);
	assert_memory_equal(k.p, pub, 32);
	sk = rd_string(&priv);                     /* seed || public */
	assert_int_equal(sk.n, 64);
	assert_memory_equal(sk.p + 32, pub, 32);
	memcpy(seed, sk.p, 32);
	(void)rd_string(&priv);                    /* comment */
	assert_true(priv.n < 8);                   /* padding 1, 2, 3, ... */
	for (i = 0; i < priv.n; i++)
		assert_int_equal(priv.p[i], i + 1);
	free(blob);
}

/* Turn a raw seed into an eakte_key through a PKCS#8 file in a temp dir. */
static eakte_key *key_from_seed(const uint8_t seed[32])
{
	char dir[] = "/tmp/eakte-vectors-sshsig-XXXXXX";
	EVP_PKEY *pkey;
	FILE *f;
	eakte_key *key = NULL;
	int dfd, fd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	assert_non_null(pkey);
	fd = openat(dfd, "key.pem", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
	EVP_PKEY_free(pkey);
	assert_int_equal(eakte_key__load_private(&key, dfd, "key.pem"), 0);
	assert_int_equal(unlinkat(dfd, "key.pem", 0), 0);
	close(dfd);
	assert_int_equal(rmdir(dir), 0);
	return key;
}

/* ---- tests ---- */

static void test_verify_ed25519(void **state)
{
	size_t sig_len, msg_len, ns_len, blob_len;
	char *sig = read_vector("ed25519.sig", &sig_len);
	char *msg = read_vector("signed-data", &msg_len);
	char *ns = read_vector("namespace", &ns_len);
	char *publine = read_vector("ed25519.pub", NULL);
	uint8_t pub[EAKTE_ED25519_PUB_LEN], got[EAKTE_ED25519_PUB_LEN], *blob;
	char *bad;
	int rc;

	(void)state;
	if (ns_len > 0 && ns[ns_len - 1] == '\n')
		ns[--ns_len] = '\0';
	assert_string_equal(ns, "unittest");
	parse_pub_line(pub, publine);

	assert_int_equal(eakte_sshsig__verify(sig, sig_len, ns, (uint8_t *)msg, msg_len, pub), 0);
	assert_int_equal(eakte_sshsig__public_key(got, sig, sig_len), 0);
	assert_memory_equal(got, pub, sizeof(pub));

	/* negative cases from ed25519.decoded.json */
	assert_int_equal(eakte_sshsig__verify(sig, sig_len, "file", (uint8_t *)msg, msg_len, pub), EAKTE_ESIGNATURE);
	msg[msg_len - 1] = 'T';
	assert_int_equal(eakte_sshsig__verify(sig, sig_len, ns, (uint8_t *)msg, msg_len, pub), EAKTE_ESIGNATURE);
	msg[msg_len - 1] = 't';

	blob = dearmor(&blob_len, sig, "-----BEGIN SSH SIGNATURE-----\n", "-----END SSH SIGNATURE-----");
	blob[9] = 2; /* SIG_VERSION 2 */
	bad = armor(blob, blob_len);
	rc = eakte_sshsig__verify(bad, strlen(bad), ns, (uint8_t *)msg, msg_len, pub);
	assert_int_equal(rc, EAKTE_EINVALID);
	free(bad);
	blob[9] = 1;
	bad = armor(blob, blob_len);
	assert_int_equal(eakte_sshsig__verify(bad, strlen(bad), ns, (uint8_t *)msg, msg_len, pub), 0);
	free(bad);

	/* empty namespace: the 4-byte length at 6+4+4+51 becomes 0 and the name is cut out */
	{
		size_t at = 6 + 4 + 4 + 51;
		uint8_t *b2 = malloc(blob_len);

		assert_non_null(b2);
		assert_int_equal(blob[at + 3], 8);
		memcpy(b2, blob, at);
		memset(b2 + at, 0, 4);
		memcpy(b2 + at + 4, blob + at + 4 + 8, blob_len - at - 4 - 8);
		bad = armor(b2, blob_len - 8);
		assert_int_equal(eakte_sshsig__verify(bad, strlen(bad), ns, (uint8_t *)msg, msg_len, pub), EAKTE_EINVALID);
		free(bad);
		free(b2);
	}
	free(blob);
	free(sig);
	free(msg);
	free(ns);
	free(publine);
}

static void test_reject_other_algorithms(void **state)
{
	static const char *const names[] = {
		"rsa", "ecdsa", "ecdsa_sk", "ecdsa_sk_webauthn", "ed25519_sk", "mldsa44-ed25519",
	};
	size_t i, msg_len, ns_len, ed_len;
	char *msg = read_vector("signed-data", &msg_len);
	char *ns = read_vector("namespace", &ns_len);
	char *publine = read_vector("ed25519.pub", NULL);
	char *ed = read_vector("ed25519.sig", &ed_len);
	uint8_t pub[EAKTE_ED25519_PUB_LEN], got[EAKTE_ED25519_PUB_LEN];

	(void)state;
	if (ns_len > 0 && ns[ns_len - 1] == '\n')
		ns[--ns_len] = '\0';
	parse_pub_line(pub, publine);
	for (i = 0; i < EAKTE_ARRAY_SIZE(names); i++) {
		char name[64];
		size_t len;
		char *sig, *pubfile;
		int rc;

		snprintf(name, sizeof(name), "%s.pub", names[i]);
		pubfile = read_vector(name, NULL);
		assert_true(strncmp(pubfile, "ssh-ed25519 ", 12) != 0);
		snprintf(name, sizeof(name), "%s.sig", names[i]);
		sig = read_vector(name, &len);
		assert_true(len <= EAKTE_SSHSIG_MAX);

		rc = eakte_sshsig__verify(sig, len, ns, (uint8_t *)msg, msg_len, pub);
		if (rc != EAKTE_EINVALID && rc != EAKTE_ESIGNATURE)
			fail_msg("%s: verify returned %d (%s), expected invalid or signature", name, rc, eakte_error_name(rc));
		rc = eakte_sshsig__public_key(got, sig, len);
		if (rc != EAKTE_EINVALID)
			fail_msg("%s: public_key returned %d, expected invalid", name, rc);
		free(sig);
		free(pubfile);
	}
	/* the private key files exist too (not used: only Ed25519 is supported) */
	for (i = 0; i < EAKTE_ARRAY_SIZE(names); i++) {
		if (strcmp(names[i], "ecdsa_sk_webauthn") != 0)
			free(read_vector(names[i], NULL));
	}
	free(ed);
	free(msg);
	free(ns);
	free(publine);
}

static void test_reproduce_ed25519_sig(void **state)
{
	size_t sig_len, msg_len, ns_len;
	char *sig = read_vector("ed25519.sig", &sig_len);
	char *msg = read_vector("signed-data", &msg_len);
	char *ns = read_vector("namespace", &ns_len);
	char *priv = read_vector("ed25519", NULL);
	char *publine = read_vector("ed25519.pub", NULL);
	char *json = read_vector("ed25519.decoded.json", NULL);
	uint8_t seed[32], pub[32], pub2[32], raw[32];
	char *ours = NULL, *line = NULL;
	eakte_key *key;

	(void)state;
	if (ns_len > 0 && ns[ns_len - 1] == '\n')
		ns[--ns_len] = '\0';
	assert_non_null(strstr(json, "\"ed25519_pub_hex\": \"8962cd220ddc3415efc54f36356fbf08e07fe3f91ea6cf60262edc138c763004\""));
	parse_openssh_private(seed, pub, priv);
	parse_pub_line(pub2, publine);
	assert_memory_equal(pub, pub2, 32);

	key = key_from_seed(seed);
	eakte_key__public_raw(key, raw);
	assert_memory_equal(raw, pub, 32);

	assert_int_equal(eakte_sshsig__sign(&ours, key, ns, (uint8_t *)msg, msg_len), 0);
	/* ssh-keygen's file = our text + the one final newline */
	assert_int_equal(strlen(ours) + 1, sig_len);
	assert_memory_equal(ours, sig, sig_len - 1);
	assert_int_equal(sig[sig_len - 1], '\n');
	assert_int_equal(eakte_sshsig__verify(ours, strlen(ours), ns, (uint8_t *)msg, msg_len, pub), 0);

	/* and the allowed_signers/authorized_keys line matches ed25519.pub's first two fields */
	assert_int_equal(eakte_sshsig__public_key_line(&line, pub), 0);
	assert_int_equal(strncmp(publine, line, strlen(line)), 0);
	assert_int_equal(publine[strlen(line)], ' ');

	free(line);
	free(ours);
	eakte_key__free(key);
	free(sig);
	free(msg);
	free(ns);
	free(priv);
	free(publine);
	free(json);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_ed25519),
		cmocka_unit_test(test_reject_other_algorithms),
		cmocka_unit_test(test_reproduce_ed25519_sig),
	};

	if (argc < 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: %s VECTORS_DIR (e.g. /work/shared/vectors)\n", argv[0]);
		return 1;
	}
	vectors_dir = argv[1];
	return cmocka_run_group_tests_name("vectors_sshsig", tests, NULL, NULL);
}
