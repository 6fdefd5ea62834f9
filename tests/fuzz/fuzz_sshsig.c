/*
 * fuzz_sshsig.c - armored OpenSSH SSHSIG signatures (lib/sshsig.c), as
 * they come from git commits' gpgsig headers when an archive is verified.
 *
 * Each input is taken as the armored text: the public key is extracted,
 * and the signature is verified against a fixed key and against the key
 * it names (so the checks after the key comparison run too).  Seeds:
 * tests/fuzz/corpus/sshsig and, at run time, ../shared/vectors/sshsig.
 */
#include "fuzz.h"
#include "sshsig.h"

#include <string.h>

static const uint8_t msg[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint8_t pub[EAKTE_ED25519_PUB_LEN], fixed[EAKTE_ED25519_PUB_LEN];
	int rc;

	memset(fixed, 0x11, sizeof(fixed));
	rc = eakte_sshsig__verify(buf, size, "git", msg, sizeof(msg) - 1, fixed);
	FUZZ_CHECK(rc == EAKTE_EINVALID || rc == EAKTE_ESIGNATURE || rc == 0);
	if (eakte_sshsig__public_key(pub, buf, size) == 0) {
		rc = eakte_sshsig__verify(buf, size, "git", msg, sizeof(msg) - 1, pub);
		FUZZ_CHECK(rc == EAKTE_ESIGNATURE || rc == 0);
		rc = eakte_sshsig__verify(buf, size, "file", msg, sizeof(msg) - 1, pub);
		FUZZ_CHECK(rc == EAKTE_ESIGNATURE || rc == 0);
	}
	return 0;
}
