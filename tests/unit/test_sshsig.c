/*
 * test_sshsig.c - SSHSIG signing and the strict parser, and interop with
 * OpenSSH's ssh-keygen (required: the interop tests fail, not skip, when
 * ssh-keygen is missing) and with git's commit header format (git is
 * required as well).
 */
#include "sshsig.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#define NS "git"
static const uint8_t MSG[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	"author eakte <eakte> 1700000000 +0000\n\nmessage\n";
#define MSG_LEN (sizeof(MSG) - 1)

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	uint8_t p[8192];
	size_t len;
} buf;

static void b_put(buf *b, const void *d, size_t n)
{
	assert_true(n <= sizeof(b->p) - b->len);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void b_u32(buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	b_put(b, x, 4);
}

static void b_str(buf *b, const void *d, size_t n)
{
	b_u32(b, (uint32_t)n);
	b_put(b, d, n);
}

static void b_cstr(buf *b, const char *s)
{
	b_str(b, s, strlen(s));
}

/* Armor as ssh-keygen does: 70 columns, no final newline. */
static char *armor_as(const uint8_t *blob, size_t len, const char *begin, const char *end)
{
	char *b64, *out;
	size_t n, i, o;

	assert_int_equal(eakte_base64__encode(&b64, blob, len), 0);
	n = strlen(b64);
	out = malloc(strlen(begin) + n + n / 70 + strlen(end) + 4);
	assert_non_null(out);
	o = (size_t)sprintf(out, "%s\n", begin);
	for (i = 0; i < n; i += 70) {
		size_t k = n - i < 70 ? n - i : 70;
		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	strcpy(out + o, end);
	free(b64);
	return out;
}

static char *armor(const uint8_t *blob, size_t len)
{
	return armor_as(blob, len, "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----");
}

/* Blob of an armored SSHSIG (lenient: any line length). */
static uint8_t *dearmor(size_t *out_len, const char *text)
{
	const char *b = strstr(text, "-----BEGIN SSH SIGNATURE-----\n"), *e;
	char *b64;
	size_t n = 0;
	uint8_t *out;

	assert_non_null(b);
	b += strlen("-----BEGIN SSH SIGNATURE-----\n");
	e = strstr(b, "-----END SSH SIGNATURE-----");
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

static int verify_blob(const uint8_t *blob, size_t len, const char *ns, const uint8_t *msg, size_t mlen,
	const uint8_t pub[32])
{
	char *text = armor(blob, len);
	int rc = eakte_sshsig__verify(text, strlen(text), ns, msg, mlen, pub);

	free(text);
	return rc;
}

/*
 * Build an SSHSIG blob by hand, signing with `key` (if sig_override is
 * NULL): lets the tests vary every field.
 */
typedef struct {
	const char *ns;
	const char *reserved;
	const char *alg;        /* hash algorithm name in the blob */
	const char *md;         /* hash actually used: "sha512" / "sha256" */
	const char *keytype;
	const char *sigtype;
	uint32_t version;
} blob_spec;

static void build_blob(buf *out, const eakte_key *key, const blob_spec *s, const uint8_t *msg, size_t mlen)
{
	uint8_t pub[32], h[64], sig[64];
	unsigned int hlen = 0;
	buf tbs = { .len = 0 }, pk = { .len = 0 }, sb = { .len = 0 };

	assert_int_equal(EVP_Digest(msg, mlen, h, &hlen,
		strcmp(s->md, "sha256") == 0 ? EVP_sha256() : EVP_sha512(), NULL), 1);
	b_put(&tbs, "SSHSIG", 6);
	b_cstr(&tbs, s->ns);
	b_cstr(&tbs, s->reserved);
	b_cstr(&tbs, s->alg);
	b_str(&tbs, h, hlen);
	assert_int_equal(eakte_key__sign(key, tbs.p, tbs.len, sig), 0);

	eakte_key__public_raw(key, pub);
	b_cstr(&pk, s->keytype);
	b_str(&pk, pub, 32);
	b_cstr(&sb, s->sigtype);
	b_str(&sb, sig, 64);

	out->len = 0;
	b_put(out, "SSHSIG", 6);
	b_u32(out, s->version);
	b_str(out, pk.p, pk.len);
	b_cstr(out, s->ns);
	b_cstr(out, s->reserved);
	b_cstr(out, s->alg);
	b_str(out, sb.p, sb.len);
}

static const blob_spec GOOD = { NS, "", "sha512", "sha512", "ssh-ed25519", "ssh-ed25519", 1 };

/* ---- temp dirs, files, processes ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "%s/eakte-test-sshsig-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static char *read_file(const char *dir, const char *name, size_t *len_out)
{
	char path[4096];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len_out != NULL)
		*len_out = (size_t)n;
	return data;
}

/* Fail (not skip) unless `prog` is an executable in PATH. */
static void require_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	char full[4096];
	bool found = false;

	copy = strdup(path != NULL ? path : "/usr/bin:/bin");
	assert_non_null(copy);
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(full, sizeof(full), "%s/%s", dir, prog);
		found = access(full, X_OK) == 0;
	}
	free(copy);
	if (!found)
		fail_msg("%s is required for this test but not found in PATH (install openssh-client / git)", prog);
}

extern char **environ;

/*
 * Run argv (no shell) with a clean environment, stdin from `in` (or
 * /dev/null), stdout into `out` (or /dev/null), stderr into dir/stderr.
 * Returns the exit status, or -1 if it did not exit normally; prints
 * stderr on a non-zero status unless quiet.
 */
static int run_q(const char *dir, char *const argv[], const char *in, const char *out, bool quiet)
{
	char home[4200], path_env[4200], errpath[4200];
	const char *path = getenv("PATH");
	char *envp[] = {
		path_env, home, "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_DATE=1700000000 +0000", "GIT_COMMITTER_DATE=1700000000 +0000", NULL,
	};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	snprintf(path_env, sizeof(path_env), "PATH=%s", path != NULL ? path : "/usr/bin:/bin");
	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
		O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		fail_msg("cannot run %s: %s", argv[0], strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (!WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) != 0 && !quiet) {
		char *err = read_file(dir, "stderr", NULL);
		print_message("%s exited %d: %s\n", argv[0], WEXITSTATUS(status), err);
		free(err);
	}
	return WEXITSTATUS(status);
}

static int run(const char *dir, char *const argv[], const char *in, const char *out)
{
	return run_q(dir, argv, in, out, false);
}

/* Seed of an eakte key, through its PKCS#8 file. */
static void key_seed(const eakte_key *key, const char *dir, uint8_t seed[32])
{
	char path[4200];
	FILE *f;
	EVP_PKEY *pkey;
	size_t n = 32;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(dfd >= 0);
	assert_int_equal(eakte_key__save_private(key, dfd, "key.pem"), 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pkey);
	assert_int_equal(EVP_PKEY_get_raw_private_key(pkey, seed, &n), 1);
	assert_int_equal(n, 32);
	EVP_PKEY_free(pkey);
	assert_int_equal(unlink(path), 0);
}

/* Write key as an unencrypted OpenSSH private key (PROTOCOL.key), mode 0600. */
static void write_openssh_key(const eakte_key *key, const char *dir, const char *name)
{
	uint8_t seed[32], pub[32], sk[64];
	buf pk = { .len = 0 }, priv = { .len = 0 }, all = { .len = 0 };
	char *text, *withnl;
	uint8_t pad = 1;

	key_seed(key, dir, seed);
	eakte_key__public_raw(key, pub);
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pub, 32);
	b_cstr(&pk, "ssh-ed25519");
	b_str(&pk, pub, 32);
	b_u32(&priv, 0x12345678);
	b_u32(&priv, 0x12345678);
	b_cstr(&priv, "ssh-ed25519");
	b_str(&priv, pub, 32);
	b_str(&priv, sk, 64);
	b_cstr(&priv, "eakte test key");
	while (priv.len % 8 != 0) {
		b_put(&priv, &pad, 1);
		pad++;
	}
	b_put(&all, "openssh-key-v1", 15); /* with its NUL */
	b_cstr(&all, "none");
	b_cstr(&all, "none");
	b_cstr(&all, "");
	b_u32(&all, 1);
	b_str(&all, pk.p, pk.len);
	b_str(&all, priv.p, priv.len);
	text = armor_as(all.p, all.len, "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----");
	withnl = malloc(strlen(text) + 2);
	if (withnl == NULL) {
		fail_msg("out of memory");
		return;
	}
	sprintf(withnl, "%s\n", text);
	write_file(dir, name, withnl, strlen(withnl), 0600);
	memset(sk, 0, sizeof(sk));
	memset(seed, 0, sizeof(seed));
	free(text);
	free(withnl);
}

static eakte_key *new_key(void)
{
	eakte_key *key = NULL;

	assert_int_equal(eakte_key__generate(&key), 0);
	return key;
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

static void test_round_trip(void **state)
{
	eakte_key *key = new_key(), *pubonly = NULL;
	uint8_t pub[32], got[32];
	char *sig = NULL, *line = NULL, *nl;
	const char *p;
	size_t len;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	len = strlen(sig);
	assert_int_equal(eakte_sshsig__verify(sig, len, NS, MSG, MSG_LEN, pub), 0);
	assert_int_equal(eakte_sshsig__public_key(got, sig, len), 0);
	assert_memory_equal(got, pub, 32);

	/* format: BEGIN line, 70-column lines, END line, no final newline */
	assert_int_equal(strncmp(sig, "-----BEGIN SSH SIGNATURE-----\n", 30), 0);
	assert_true(len > 27 && strcmp(sig + len - 27, "-----END SSH SIGNATURE-----") == 0);
	assert_int_equal(sig[len - 28], '\n');
	for (p = sig + 30; p < sig + len - 27; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_true(nl - p == 70 || nl + 1 == sig + len - 27);
		assert_true(nl - p <= 70);
	}

	/* one final newline (what git hands to ssh-keygen) is accepted */
	nl = malloc(len + 3);
	assert_non_null(nl);
	sprintf(nl, "%s\n", sig);
	assert_int_equal(eakte_sshsig__verify(nl, len + 1, NS, MSG, MSG_LEN, pub), 0);
	free(nl);

	/* empty message */
	free(sig);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, NULL, 0), 0);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NS, NULL, 0, pub), 0);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NS, MSG, 1, pub), EAKTE_ESIGNATURE);

	/* bad arguments */
	free(sig);
	sig = (char *)1;
	assert_int_equal(eakte_sshsig__sign(&sig, key, "", MSG, MSG_LEN), EAKTE_EINVALID);
	assert_null(sig);
	assert_int_equal(eakte_key__from_public(&pubonly, pub), 0);
	assert_true(eakte_sshsig__sign(&sig, pubonly, NS, MSG, MSG_LEN) < 0);
	assert_null(sig);
	assert_int_equal(eakte_sshsig__verify(NULL, 0, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);

	/* public key line */
	assert_int_equal(eakte_sshsig__public_key_line(&line, pub), 0);
	assert_int_equal(strncmp(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37), 0);
	assert_int_equal(strlen(line), 12 + 68);

	free(line);
	eakte_key__free(pubonly);
	eakte_key__free(key);
}

static void test_wrong_namespace(void **state)
{
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *sig = NULL;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), "file", MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), "gi", MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), "gitx", MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), "", MSG, MSG_LEN, pub), EAKTE_EINVALID);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NULL, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	free(sig);
	eakte_key__free(key);
}

static void test_changed_message(void **state)
{
	eakte_key *key = new_key();
	uint8_t pub[32], msg[MSG_LEN];
	char *sig = NULL;
	size_t i;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	for (i = 0; i < MSG_LEN; i++) {
		memcpy(msg, MSG, MSG_LEN);
		msg[i] ^= 0x01;
		assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NS, msg, MSG_LEN, pub), EAKTE_ESIGNATURE);
	}
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NS, MSG, MSG_LEN - 1, pub), EAKTE_ESIGNATURE);
	free(sig);
	eakte_key__free(key);
}

static void test_other_key(void **state)
{
	eakte_key *key = new_key(), *other = new_key();
	uint8_t pub[32], opub[32];
	buf b;
	char *sig = NULL;

	(void)state;
	eakte_key__public_raw(key, pub);
	eakte_key__public_raw(other, opub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	assert_int_equal(eakte_sshsig__verify(sig, strlen(sig), NS, MSG, MSG_LEN, opub), EAKTE_ESIGNATURE);

	/* blob claims the expected key but was signed by another one */
	build_blob(&b, other, &GOOD, MSG, MSG_LEN);
	memcpy(b.p + 6 + 4 + 4 + 19, pub, 32);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	free(sig);
	eakte_key__free(key);
	eakte_key__free(other);
}

static void test_truncated_armor(void **state)
{
	eakte_key *key = new_key();
	uint8_t pub[32], got[32];
	char *sig = NULL;
	size_t len, i;
	buf b;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	len = strlen(sig);
	for (i = 0; i < len; i++) {
		assert_int_equal(eakte_sshsig__verify(sig, i, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
		assert_int_equal(eakte_sshsig__public_key(got, sig, i), EAKTE_EINVALID);
	}
	/* a line dropped from the middle */
	{
		char *cut = strdup(sig);
		assert_non_null(cut);
		memmove(cut + 30, cut + 30 + 71, strlen(cut + 30 + 71) + 1);
		assert_int_equal(eakte_sshsig__verify(cut, strlen(cut), NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
		free(cut);
	}
	/* every truncation of the blob, correctly armored */
	build_blob(&b, key, &GOOD, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), 0);
	for (i = 0; i < b.len; i++)
		assert_int_equal(verify_blob(b.p, i, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	/* a string length that runs past the end */
	b.p[6 + 4 + 3] = 0xff;
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[6 + 4 + 3] = 51;
	b.p[6 + 4] = 0x80;
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	free(sig);
	eakte_key__free(key);
}

static void test_trailing_garbage(void **state)
{
	static const char *const tails[] = { "\n\n", "x", " ", "\r\n", "\nx", "\n-----END SSH SIGNATURE-----", "\0" };
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *sig = NULL, text[2048];
	size_t i, len;
	buf b, in;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	len = strlen(sig);
	for (i = 0; i < EAKTE_ARRAY_SIZE(tails); i++) {
		size_t tl = strlen(tails[i]) ? strlen(tails[i]) : 1;
		memcpy(text, sig, len);
		memcpy(text + len, tails[i], tl);
		assert_int_equal(eakte_sshsig__verify(text, len + tl, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	}
	/* leading garbage */
	snprintf(text, sizeof(text), "\n%s", sig);
	assert_int_equal(eakte_sshsig__verify(text, strlen(text), NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	/* CRLF line ends */
	{
		size_t o = 0;
		for (i = 0; i < len; i++) {
			if (sig[i] == '\n')
				text[o++] = '\r';
			text[o++] = sig[i];
		}
		assert_int_equal(eakte_sshsig__verify(text, o, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	}

	/* a byte after the blob */
	build_blob(&b, key, &GOOD, MSG, MSG_LEN);
	b_put(&b, "", 1);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);

	/* a byte after the signature inside the signature string */
	build_blob(&b, key, &GOOD, MSG, MSG_LEN);
	in.len = 0;
	b_put(&in, b.p, b.len - 87);
	{
		uint8_t sb[84];
		memcpy(sb, b.p + b.len - 83, 83);
		sb[83] = 0;
		b_str(&in, sb, 84);
	}
	assert_int_equal(verify_blob(in.p, in.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);

	/* oversized armored text is refused before parsing */
	{
		char *big = malloc(EAKTE_SSHSIG_MAX + 2);
		assert_non_null(big);
		memset(big, 'A', EAKTE_SSHSIG_MAX + 1);
		memcpy(big, sig, len);
		assert_int_equal(eakte_sshsig__verify(big, EAKTE_SSHSIG_MAX + 1, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
		assert_non_null(strstr(eakte_error_last(), "limit"));
		free(big);
	}
	free(sig);
	eakte_key__free(key);
}

static void test_flipped_bytes(void **state)
{
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *sig = NULL, *text;
	size_t i, len;
	int bit, rc;
	buf b;

	(void)state;
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	len = strlen(sig);

	/* every character of the armored text changed */
	text = malloc(len + 1);
	assert_non_null(text);
	for (i = 0; i < len; i++) {
		memcpy(text, sig, len + 1);
		text[i] ^= 0x01;
		rc = eakte_sshsig__verify(text, len, NS, MSG, MSG_LEN, pub);
		if (rc != EAKTE_EINVALID && rc != EAKTE_ESIGNATURE)
			fail_msg("armor byte %zu changed: rc %d", i, rc);
	}
	free(text);

	/* every bit of the blob flipped */
	build_blob(&b, key, &GOOD, MSG, MSG_LEN);
	{ /* deterministic: the hand-built blob is exactly ours */
		size_t l2;
		uint8_t *ours = dearmor(&l2, sig);
		assert_int_equal(l2, b.len);
		assert_memory_equal(ours, b.p, b.len);
		free(ours);
	}
	for (i = 0; i < b.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			b.p[i] ^= (uint8_t)(1u << bit);
			rc = verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub);
			if (rc != EAKTE_EINVALID && rc != EAKTE_ESIGNATURE)
				fail_msg("blob byte %zu bit %d flipped: rc %d", i, bit, rc);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* the right code for each field */
	b.p[0] ^= 1; /* magic */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[0] ^= 1;
	b.p[9] = 2; /* version */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[9] = 1;
	b.p[6 + 4 + 4 + 4] ^= 1; /* key type */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[6 + 4 + 4 + 4] ^= 1;
	b.p[6 + 4 + 4 + 19] ^= 1; /* key */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	b.p[6 + 4 + 4 + 19] ^= 1;
	b.p[6 + 4 + 4 + 51 + 4] ^= 1; /* namespace */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	b.p[6 + 4 + 4 + 51 + 4] ^= 1;
	b.p[6 + 4 + 4 + 51 + 4 + 3 + 4 + 4 + 3] ^= 1; /* hash algorithm */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[6 + 4 + 4 + 51 + 4 + 3 + 4 + 4 + 3] ^= 1;
	b.p[b.len - 83 + 4] ^= 1; /* signature type */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	b.p[b.len - 83 + 4] ^= 1;
	b.p[b.len - 1] ^= 0x80; /* signature */
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	b.p[b.len - 1] ^= 0x80;
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), 0);
	free(sig);
	eakte_key__free(key);
}

static void test_fields(void **state)
{
	eakte_key *key = new_key();
	uint8_t pub[32];
	blob_spec s;
	buf b;

	(void)state;
	eakte_key__public_raw(key, pub);
	build_blob(&b, key, &GOOD, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), 0);

	s = GOOD; /* sha256 is accepted */
	s.alg = s.md = "sha256";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), 0);
	s.md = "sha512"; /* name and hash disagree */
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	s = GOOD;
	s.alg = "sha1";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	s = GOOD;
	s.reserved = "x";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	s = GOOD;
	s.ns = "";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	s = GOOD;
	s.version = 2;
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	s = GOOD;
	s.keytype = "sk-ssh-ed25519@openssh.com";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	s = GOOD;
	s.sigtype = "ssh-rsa";
	build_blob(&b, key, &s, MSG, MSG_LEN);
	assert_int_equal(verify_blob(b.p, b.len, NS, MSG, MSG_LEN, pub), EAKTE_EINVALID);
	eakte_key__free(key);
}

/* Our signature verifies with ssh-keygen -Y verify, with and without the final newline. */
static void test_ssh_keygen_verifies_ours(void **state)
{
	char dir[1024], sigpath[4200], msgpath[4200], signers[4200];
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *sig = NULL, *line = NULL, *allowed = NULL, *withnl;
	char *verify[] = { "ssh-keygen", "-Y", "verify", "-f", signers, "-I", "eakte@example.org",
		"-n", NS, "-s", sigpath, NULL };
	char *verify_file[] = { "ssh-keygen", "-Y", "verify", "-f", signers, "-I", "eakte@example.org",
		"-n", "file", "-s", sigpath, NULL };

	(void)state;
	require_program("ssh-keygen");
	make_tmpdir(dir, sizeof(dir));
	snprintf(sigpath, sizeof(sigpath), "%s/msg.sig", dir);
	snprintf(msgpath, sizeof(msgpath), "%s/msg", dir);
	snprintf(signers, sizeof(signers), "%s/allowed_signers", dir);
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_sshsig__sign(&sig, key, NS, MSG, MSG_LEN), 0);
	assert_int_equal(eakte_sshsig__public_key_line(&line, pub), 0);
	assert_true(asprintf(&allowed, "eakte@example.org namespaces=\"git\" %s\n", line) > 0);
	write_file(dir, "allowed_signers", allowed, strlen(allowed), 0644);
	write_file(dir, "msg", MSG, MSG_LEN, 0644);

	write_file(dir, "msg.sig", sig, strlen(sig), 0644);
	assert_int_equal(run(dir, verify, msgpath, NULL), 0);
	withnl = malloc(strlen(sig) + 2);
	if (withnl == NULL) {
		fail_msg("out of memory");
		return;
	}
	sprintf(withnl, "%s\n", sig);
	write_file(dir, "msg.sig", withnl, strlen(withnl), 0644);
	assert_int_equal(run(dir, verify, msgpath, NULL), 0);
	/* and ssh-keygen does check: another namespace and another message fail */
	assert_true(run_q(dir, verify_file, msgpath, NULL, true) != 0);
	write_file(dir, "msg", MSG, MSG_LEN - 1, 0644);
	assert_true(run_q(dir, verify, msgpath, NULL, true) != 0);

	rm_tree(dir);
	free(withnl);
	free(allowed);
	free(line);
	free(sig);
	eakte_key__free(key);
}

/*
 * ssh-keygen -Y sign with our key (written in OpenSSH format) produces
 * exactly our text plus one newline, and we verify it.
 */
static void test_ssh_keygen_signs_with_our_key(void **state)
{
	char dir[1024], keypath[4200], msgpath[4200];
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *ours = NULL, *theirs;
	size_t len;
	char *sign[] = { "ssh-keygen", "-Y", "sign", "-n", NS, "-f", keypath, msgpath, NULL };

	(void)state;
	require_program("ssh-keygen");
	make_tmpdir(dir, sizeof(dir));
	snprintf(keypath, sizeof(keypath), "%s/id_ed25519", dir);
	snprintf(msgpath, sizeof(msgpath), "%s/msg", dir);
	eakte_key__public_raw(key, pub);
	write_openssh_key(key, dir, "id_ed25519");
	write_file(dir, "msg", MSG, MSG_LEN, 0644);
	assert_int_equal(run(dir, sign, NULL, NULL), 0);
	theirs = read_file(dir, "msg.sig", &len);
	assert_int_equal(eakte_sshsig__verify(theirs, len, NS, MSG, MSG_LEN, pub), 0);
	assert_int_equal(eakte_sshsig__sign(&ours, key, NS, MSG, MSG_LEN), 0);
	/* Ed25519 is deterministic: byte for byte, ssh-keygen adds one "\n" */
	assert_int_equal(len, strlen(ours) + 1);
	assert_memory_equal(theirs, ours, len - 1);
	assert_int_equal(theirs[len - 1], '\n');
	rm_tree(dir);
	free(ours);
	free(theirs);
	eakte_key__free(key);
}

/* A key made by ssh-keygen, a signature made by ssh-keygen, verified by us. */
static void test_ssh_keygen_key_and_signature(void **state)
{
	char dir[1024], keypath[4200], msgpath[4200];
	char *gen[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", keypath, NULL };
	char *sign[] = { "ssh-keygen", "-Y", "sign", "-n", NS, "-f", keypath, msgpath, NULL };
	char *pubtext, *sig, *line = NULL;
	uint8_t pub[32], got[32];
	size_t len;
	eakte_key *other = new_key();
	uint8_t opub[32];

	(void)state;
	require_program("ssh-keygen");
	make_tmpdir(dir, sizeof(dir));
	snprintf(keypath, sizeof(keypath), "%s/id_ed25519", dir);
	snprintf(msgpath, sizeof(msgpath), "%s/msg", dir);
	assert_int_equal(run(dir, gen, NULL, NULL), 0);
	write_file(dir, "msg", MSG, MSG_LEN, 0644);
	assert_int_equal(run(dir, sign, NULL, NULL), 0);
	sig = read_file(dir, "msg.sig", &len);
	pubtext = read_file(dir, "id_ed25519.pub", NULL);

	assert_int_equal(eakte_sshsig__public_key(pub, sig, len), 0);
	/* the key in the signature is the one in id_ed25519.pub */
	assert_int_equal(eakte_sshsig__public_key_line(&line, pub), 0);
	assert_int_equal(strncmp(pubtext, line, strlen(line)), 0);
	assert_int_equal(pubtext[strlen(line)], ' ');
	assert_int_equal(eakte_sshsig__verify(sig, len, NS, MSG, MSG_LEN, pub), 0);
	assert_int_equal(eakte_sshsig__verify(sig, len, "file", MSG, MSG_LEN, pub), EAKTE_ESIGNATURE);
	assert_int_equal(eakte_sshsig__verify(sig, len, NS, MSG, MSG_LEN - 1, pub), EAKTE_ESIGNATURE);
	eakte_key__public_raw(other, opub);
	assert_int_equal(eakte_sshsig__verify(sig, len, NS, MSG, MSG_LEN, opub), EAKTE_ESIGNATURE);
	(void)got;
	rm_tree(dir);
	eakte_key__free(other);
	free(line);
	free(sig);
	free(pubtext);
}

/*
 * git commit -S (gpg.format=ssh) with our key: the commit git writes is
 * byte for byte what libgit2's git_commit_create_with_signature() makes
 * of our text (header "gpgsig ", continuation lines indented by one
 * space, one "\n" appended, inserted before the blank line).
 */
static void test_git_commit_header(void **state)
{
	char dir[1024], keyopt[4300], repo[4200], outpath[4200];
	char *init[] = { "git", "init", "-q", repo, NULL };
	char *commit[] = { "git", "-C", repo, "-c", "user.name=eakte", "-c", "user.email=eakte@example.org",
		"-c", "gpg.format=ssh", "-c", keyopt, "-c", "commit.gpgsign=false",
		"commit", "-q", "--allow-empty", "-S", "-m", "signed by git", NULL };
	char *cat[] = { "git", "-C", repo, "cat-file", "commit", "HEAD", NULL };
	eakte_key *key = new_key();
	uint8_t pub[32];
	char *obj, *ours = NULL, *hdr, *end, *payload, *expect, *o;
	const char *s;
	size_t len, plen;

	(void)state;
	require_program("git");
	require_program("ssh-keygen");
	make_tmpdir(dir, sizeof(dir));
	snprintf(repo, sizeof(repo), "%s/repo", dir);
	snprintf(outpath, sizeof(outpath), "%s/commit.txt", dir);
	write_openssh_key(key, dir, "id_ed25519");
	snprintf(keyopt, sizeof(keyopt), "user.signingkey=%s/id_ed25519", dir);
	eakte_key__public_raw(key, pub);
	assert_int_equal(run(dir, init, NULL, NULL), 0);
	assert_int_equal(run(dir, commit, NULL, NULL), 0);
	assert_int_equal(run(dir, cat, NULL, outpath), 0);
	obj = read_file(dir, "commit.txt", &len);

	/* split git's commit into payload (without the gpgsig header) and signature */
	hdr = strstr(obj, "\ngpgsig -----BEGIN SSH SIGNATURE-----\n");
	assert_non_null(hdr);
	hdr++;
	end = strstr(hdr, " -----END SSH SIGNATURE-----\n");
	assert_non_null(end);
	end += strlen(" -----END SSH SIGNATURE-----\n");
	assert_int_equal(end[0], '\n'); /* the blank line follows directly */
	payload = malloc(len);
	assert_non_null(payload);
	plen = (size_t)(hdr - obj);
	memcpy(payload, obj, plen);
	memcpy(payload + plen, end, len - (size_t)(end - obj));
	plen += len - (size_t)(end - obj);

	/* our signature over the payload, laid out as libgit2 does */
	assert_int_equal(eakte_sshsig__sign(&ours, key, NS, (uint8_t *)payload, plen), 0);
	expect = malloc(len + 4096);
	assert_non_null(expect);
	o = expect;
	memcpy(o, obj, (size_t)(hdr - obj));
	o += hdr - obj;
	o += sprintf(o, "gpgsig ");
	for (s = ours; *s != '\0'; s++) {
		*o++ = *s;
		if (*s == '\n')
			*o++ = ' ';
	}
	*o++ = '\n';
	memcpy(o, end, len - (size_t)(end - obj));
	o += len - (size_t)(end - obj);
	assert_int_equal((size_t)(o - expect), len);
	assert_memory_equal(expect, obj, len);

	/* git's own signature (as git extracts it, with the newline) verifies with us */
	{
		char *gsig = malloc(len);
		size_t gl = 0;
		assert_non_null(gsig);
		for (s = hdr + strlen("gpgsig "); s < end; s++) {
			if (s[-1] == '\n' && *s == ' ')
				continue;
			gsig[gl++] = *s;
		}
		assert_int_equal(gsig[gl - 1], '\n');
		assert_int_equal(eakte_sshsig__verify(gsig, gl, NS, (uint8_t *)payload, plen, pub), 0);
		assert_int_equal(gl, strlen(ours) + 1);
		assert_memory_equal(gsig, ours, gl - 1);
		free(gsig);
	}
	rm_tree(dir);
	free(expect);
	free(payload);
	free(ours);
	free(obj);
	eakte_key__free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_namespace),
		cmocka_unit_test(test_changed_message),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_truncated_armor),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_ssh_keygen_verifies_ours),
		cmocka_unit_test(test_ssh_keygen_signs_with_our_key),
		cmocka_unit_test(test_ssh_keygen_key_and_signature),
		cmocka_unit_test(test_git_commit_header),
	};

	return cmocka_run_group_tests_name("unit_sshsig", tests, NULL, NULL);
}
