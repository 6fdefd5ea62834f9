/*
 * sshsig.h - OpenSSH SSHSIG signatures (PROTOCOL.sshsig) with Ed25519, as
 * git writes them into a commit's "gpgsig" header with gpg.format=ssh.
 *
 * Blob: "SSHSIG" || uint32(1) || string(publickey) || string(namespace) ||
 *       string(reserved = "") || string(hash_algorithm = "sha512") ||
 *       string(signature)
 * Signed data: "SSHSIG" || string(namespace) || string(reserved) ||
 *       string(hash_algorithm) || string(H(message))
 * publickey = string("ssh-ed25519") || string(32 bytes);
 * signature = string("ssh-ed25519") || string(64 bytes).
 * Armor: "-----BEGIN SSH SIGNATURE-----\n", base64 in lines of 70
 * characters, "-----END SSH SIGNATURE-----" (no newline after the END
 * line when produced for git; the parser accepts an optional one).
 */
#ifndef EAKTE_SSHSIG_H
#define EAKTE_SSHSIG_H

#include "common.h"
#include "key.h"

#define EAKTE_SSHSIG_MAX (64 * 1024)   /* refuse larger armored text before parsing */

/* Armored signature of msg under namespace ns; malloc'ed, no trailing newline. */
int eakte_sshsig__sign(char **out, const eakte_key *key, const char *ns,
	const uint8_t *msg, size_t len);

/*
 * Verify an armored SSHSIG.  Checks, in order: armor and length, magic,
 * version, that the public key is ssh-ed25519 and equals `pub`, the
 * namespace equals ns, hash algorithm sha512 or sha256, signature type,
 * then the Ed25519 signature.  0 if valid; EAKTE_EINVALID if malformed;
 * EAKTE_ESIGNATURE if a different key, namespace or a bad signature.
 */
int eakte_sshsig__verify(const char *armored, size_t armored_len, const char *ns,
	const uint8_t *msg, size_t len, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

/* Extract the Ed25519 public key from an armored SSHSIG (no verification). */
int eakte_sshsig__public_key(uint8_t pub[EAKTE_ED25519_PUB_LEN], const char *armored, size_t armored_len);

/* "ssh-ed25519 AAAA..." for an allowed_signers or authorized_keys line; malloc'ed. */
int eakte_sshsig__public_key_line(char **out, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

#endif
