/*
 * fuzz_proof.c - inclusion proof text (lib/proof.c, eakte_proof_verify()),
 * what `eakte verify-proof` reads from anyone.
 *
 * Each input is verified twice against a fixed verifier key: as it is
 * (so the checkpoint's signature fails unless the fuzzer forges Ed25519,
 * and the note parser is what runs), and re-signed: the checkpoint text
 * after the proof's empty line is signed with the fixed key and its
 * signature lines replaced, so that the event, index and hash lines reach
 * the event parser and the RFC 9162 check.  The seed is a real proof of
 * an archive with origin fuzz.example/log.
 *
 * Properties: the result is 0, EAKTE_EVERIFY or EAKTE_ESIGNATURE, never
 * EAKTE_EINVALID (the key is well formed); on success the result names the
 * key's origin and an index below the tree size.
 */
#include "fuzz.h"
#include "note.h"

#include <eakte/eakte.h>
#include <string.h>

#define NAME "fuzz.example/log"

static eakte_key *key;
static char *vkey;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32], pub[EAKTE_ED25519_PUB_LEN];

	(void)argc;
	(void)argv;
	memset(seed, 0x42, sizeof(seed));
	FUZZ_SETUP(eakte_key__from_seed(&key, seed) == 0);
	eakte_key__public_raw(key, pub);
	FUZZ_SETUP(eakte_note__verifier_key(&vkey, NAME, pub) == 0);
	return 0;
}

static void check(const char *proof, size_t len)
{
	eakte_proof_result r;
	int rc = eakte_proof_verify(&r, proof, len, vkey);

	FUZZ_CHECK(rc == 0 || rc == EAKTE_EVERIFY || rc == EAKTE_ESIGNATURE);
	if (rc == 0)
		FUZZ_CHECK(strcmp(r.origin, NAME) == 0 && r.seq < r.tree_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *sep, *body, *end;
	char *text, *note = NULL, *resigned;
	size_t head, blen;

	check(buf, size);

	/* proof header, "\n\n", checkpoint text, "\n\n", signatures */
	sep = size >= 2 ? memmem(buf, size, "\n\n", 2) : NULL;
	if (sep == NULL)
		return 0;
	head = (size_t)(sep - buf) + 2;
	body = buf + head;
	end = memmem(body, size - head, "\n\n", 2);
	blen = end != NULL ? (size_t)(end - body) + 1 : size - head;
	text = malloc(blen + 1);
	FUZZ_SETUP(text != NULL);
	memcpy(text, body, blen);
	text[blen] = '\0';
	if (eakte_note__sign(&note, text, blen, NAME, key) == 0) {
		size_t nlen = strlen(note);
		resigned = malloc(head + nlen);
		FUZZ_SETUP(resigned != NULL);
		memcpy(resigned, buf, head);
		memcpy(resigned + head, note, nlen);
		check(resigned, head + nlen);
		free(resigned);
		free(note);
	}
	free(text);
	return 0;
}
