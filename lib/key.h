/*
 * key.h - Ed25519 keys (OpenSSL) for signing journal commits (SSHSIG) and
 * checkpoints (C2SP signed notes).
 *
 * The private key is stored as PKCS#8 PEM, mode 0600.  Loading refuses a
 * key file that group or others can read (EAKTE_EPOLICY), as ssh does.
 */
#ifndef EAKTE_KEY_H
#define EAKTE_KEY_H

#include "common.h"

#define EAKTE_ED25519_PUB_LEN 32
#define EAKTE_ED25519_SIG_LEN 64

typedef struct eakte_key eakte_key;

int eakte_key__generate(eakte_key **out);

/* Load a private key from `name` relative to `dirfd` (O_NOFOLLOW). */
int eakte_key__load_private(eakte_key **out, int dirfd, const char *name);

/* Write the private key as PEM to `name` in `dirfd`, mode 0600, durably. */
int eakte_key__save_private(const eakte_key *key, int dirfd, const char *name);

/* Public key as PEM (SubjectPublicKeyInfo); malloc'ed text. */
int eakte_key__public_pem(char **out, const eakte_key *key);

/* Build a signing key from its 32-byte seed (RFC 8032 private key). */
int eakte_key__from_seed(eakte_key **out, const uint8_t seed[32]);

/* Build a verify-only key from the 32 raw public key bytes. */
int eakte_key__from_public(eakte_key **out, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

/* Parse a PEM public key. */
int eakte_key__from_public_pem(eakte_key **out, const char *pem, size_t len);

void eakte_key__public_raw(const eakte_key *key, uint8_t out[EAKTE_ED25519_PUB_LEN]);

/* 1 if the key holds a private part. */
int eakte_key__has_private(const eakte_key *key);

int eakte_key__sign(const eakte_key *key, const uint8_t *msg, size_t len,
	uint8_t sig[EAKTE_ED25519_SIG_LEN]);

/* 0 if sig is a valid Ed25519 signature of msg (RFC 8032, strict as OpenSSL
 * is), EAKTE_ESIGNATURE otherwise. */
int eakte_key__verify(const eakte_key *key, const uint8_t *msg, size_t len,
	const uint8_t sig[EAKTE_ED25519_SIG_LEN]);

/* Verify with raw public key bytes. */
int eakte_key__verify_raw(const uint8_t pub[EAKTE_ED25519_PUB_LEN], const uint8_t *msg, size_t len,
	const uint8_t sig[EAKTE_ED25519_SIG_LEN]);

void eakte_key__free(eakte_key *key);

#endif
