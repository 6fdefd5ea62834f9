/*
 * key.c - Ed25519 through OpenSSL 3 EVP.
 */
#include "key.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define KEY_FILE_MAX (64 * 1024)

struct eakte_key {
	EVP_PKEY *pkey;
	int has_private;
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
};

static int openssl_error(int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "no detail";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return eakte_error__set(code, "%s: %s", what, buf);
}

static int key_wrap(eakte_key **out, EVP_PKEY *pkey, int has_private)
{
	eakte_key *key;
	size_t len = EAKTE_ED25519_PUB_LEN;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return eakte_error__set(EAKTE_EINVALID, "key is not an Ed25519 key");
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return eakte_error__oom("allocating a key");
	}
	key->pkey = pkey;
	key->has_private = has_private;
	if (EVP_PKEY_get_raw_public_key(pkey, key->pub, &len) != 1 || len != EAKTE_ED25519_PUB_LEN) {
		eakte_key__free(key);
		return openssl_error(EAKTE_EINVALID, "reading the Ed25519 public key");
	}
	*out = key;
	return 0;
}

int eakte_key__generate(eakte_key **out)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return openssl_error(EAKTE_EIO, "generating an Ed25519 key");
	}
	EVP_PKEY_CTX_free(ctx);
	return key_wrap(out, pkey, 1);
}

int eakte_key__load_private(eakte_key **out, int dirfd, const char *name)
{
	struct stat st;
	char *buf = NULL;
	BIO *bio;
	EVP_PKEY *pkey;
	ssize_t n;
	size_t got = 0;
	int fd;

	*out = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno,
			"cannot open signing key %s", name);
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot stat signing key %s", name);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		close(fd);
		return eakte_error__set(EAKTE_EINVALID, "signing key %s is not a regular file of at most 64 KiB", name);
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return eakte_error__set(EAKTE_EPOLICY,
			"signing key %s has mode %04o and can be read by group or others; "
			"refusing to use it (run: chmod 600 keys/%s)", name, (unsigned)(st.st_mode & 07777), name);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return eakte_error__oom("reading the signing key");
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return eakte_error__set_errno(EAKTE_EIO, e, "cannot read signing key %s", name);
		}
		got += (size_t)n;
	}
	close(fd);
	bio = BIO_new_mem_buf(buf, (int)got);
	if (bio == NULL) {
		OPENSSL_cleanse(buf, got);
		free(buf);
		return eakte_error__oom("reading the signing key");
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(buf, got);
	free(buf);
	if (pkey == NULL)
		return openssl_error(EAKTE_EINVALID, "signing key is not a PEM private key");
	return key_wrap(out, pkey, 1);
}

static int bio_to_string(char **out, BIO *bio)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	char *s;

	if (len < 0)
		return eakte_error__set(EAKTE_EIO, "cannot read PEM buffer");
	s = malloc((size_t)len + 1);
	if (s == NULL)
		return eakte_error__oom("encoding a key");
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	*out = s;
	return 0;
}

int eakte_key__save_private(const eakte_key *key, int dirfd, const char *name)
{
	BIO *bio;
	char *pem = NULL;
	int rc;

	if (!key->has_private)
		return eakte_error__set(EAKTE_EINVALID, "key has no private part to save");
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return eakte_error__oom("encoding the signing key");
	if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return openssl_error(EAKTE_EIO, "encoding the signing key as PEM");
	}
	rc = bio_to_string(&pem, bio);
	BIO_free_all(bio);
	if (rc < 0)
		return rc;
	rc = eakte_fs__write_atomic(dirfd, name, pem, strlen(pem), 0600);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	return rc;
}

int eakte_key__public_pem(char **out, const eakte_key *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc;

	*out = NULL;
	if (bio == NULL)
		return eakte_error__oom("encoding the public key");
	if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1) {
		BIO_free(bio);
		return openssl_error(EAKTE_EIO, "encoding the public key as PEM");
	}
	rc = bio_to_string(out, bio);
	BIO_free(bio);
	return rc;
}

int eakte_key__from_seed(eakte_key **out, const uint8_t seed[32])
{
	EVP_PKEY *pkey;

	*out = NULL;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pkey == NULL)
		return openssl_error(EAKTE_EINVALID, "not a valid Ed25519 private key");
	return key_wrap(out, pkey, 1);
}

int eakte_key__from_public(eakte_key **out, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	EVP_PKEY *pkey;

	*out = NULL;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, EAKTE_ED25519_PUB_LEN);
	if (pkey == NULL)
		return openssl_error(EAKTE_EINVALID, "not a valid Ed25519 public key");
	return key_wrap(out, pkey, 0);
}

int eakte_key__from_public_pem(eakte_key **out, const char *pem, size_t len)
{
	BIO *bio;
	EVP_PKEY *pkey;

	*out = NULL;
	if (len > KEY_FILE_MAX)
		return eakte_error__set(EAKTE_EINVALID, "public key PEM is larger than 64 KiB");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return eakte_error__oom("reading a public key");
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return openssl_error(EAKTE_EINVALID, "not a PEM public key");
	return key_wrap(out, pkey, 0);
}

void eakte_key__public_raw(const eakte_key *key, uint8_t out[EAKTE_ED25519_PUB_LEN])
{
	memcpy(out, key->pub, EAKTE_ED25519_PUB_LEN);
}

int eakte_key__has_private(const eakte_key *key)
{
	return key->has_private;
}

int eakte_key__sign(const eakte_key *key, const uint8_t *msg, size_t len,
	uint8_t sig[EAKTE_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = EAKTE_ED25519_SIG_LEN;
	int ok;

	if (!key->has_private)
		return eakte_error__set(EAKTE_EINVALID, "cannot sign with a public key");
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return eakte_error__oom("signing");
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
		EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == EAKTE_ED25519_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return openssl_error(EAKTE_EIO, "Ed25519 signing failed");
	return 0;
}

int eakte_key__verify(const eakte_key *key, const uint8_t *msg, size_t len,
	const uint8_t sig[EAKTE_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return eakte_error__oom("verifying a signature");
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
		EVP_DigestVerify(ctx, sig, EAKTE_ED25519_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return eakte_error__set(EAKTE_ESIGNATURE, "Ed25519 signature does not verify");
	return 0;
}

int eakte_key__verify_raw(const uint8_t pub[EAKTE_ED25519_PUB_LEN], const uint8_t *msg, size_t len,
	const uint8_t sig[EAKTE_ED25519_SIG_LEN])
{
	eakte_key *key;
	int rc;

	if ((rc = eakte_key__from_public(&key, pub)) < 0)
		return eakte_error__set(EAKTE_ESIGNATURE, "public key is not a valid Ed25519 point");
	rc = eakte_key__verify(key, msg, len, sig);
	eakte_key__free(key);
	return rc;
}

void eakte_key__free(eakte_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}
