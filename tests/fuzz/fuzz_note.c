/*
 * fuzz_note.c - C2SP signed notes, checkpoint bodies and verifier keys
 * (lib/note.c): what `eakte verify --since CP` and `eakte verify-proof`
 * read from outside.
 *
 * Each input is used four ways: as a note verified against a fixed key;
 * as a checkpoint body (an accepted one formats back to an equal one);
 * as a verifier key (NUL-terminated); and as note text that is signed
 * with the fixed key, after which the note must verify with exactly that
 * text.  Seeds: tests/fuzz/corpus/note and, at run time, the signed-note
 * vectors in ../shared/vectors.
 */
#include "fuzz.h"
#include "note.h"

#include <string.h>

#define NAME "fuzz.example/log"

static eakte_key *key;
static uint8_t pub[EAKTE_ED25519_PUB_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];

	(void)argc;
	(void)argv;
	memset(seed, 0x42, sizeof(seed));
	FUZZ_SETUP(eakte_key__from_seed(&key, seed) == 0);
	eakte_key__public_raw(key, pub);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	eakte_checkpoint cp, again;
	char name[EAKTE_NOTE_NAME_MAX + 1], *text, *note = NULL;
	uint8_t kpub[EAKTE_ED25519_PUB_LEN];
	uint32_t id;
	size_t tlen = 0;
	int rc;

	rc = eakte_note__verify(&tlen, buf, size, NAME, pub);
	FUZZ_CHECK(rc == 0 || rc == EAKTE_EINVALID || rc == EAKTE_ESIGNATURE);
	if (rc == 0)
		FUZZ_CHECK(tlen > 0 && tlen < size && buf[tlen - 1] == '\n');

	if (eakte_checkpoint__parse(&cp, buf, size) == 0) {
		FUZZ_CHECK(strlen(cp.origin) > 0 && strlen(cp.origin) <= EAKTE_NOTE_NAME_MAX);
		if (eakte_checkpoint__format(&text, &cp) == 0) {
			FUZZ_CHECK(eakte_checkpoint__parse(&again, text, strlen(text)) == 0);
			FUZZ_CHECK(strcmp(again.origin, cp.origin) == 0 && again.size == cp.size &&
				memcmp(again.root, cp.root, EAKTE_HASH_LEN) == 0);
			free(text);
		}
	}

	text = malloc(size + 1);
	FUZZ_SETUP(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (eakte_note__parse_verifier_key(name, kpub, &id, text) == 0) {
		uint32_t want = 0;
		FUZZ_CHECK(strlen(name) > 0 && eakte_note__key_id(&want, name, kpub) == 0 && id == want);
	}

	if (eakte_note__sign(&note, text, size, NAME, key) == 0) {
		FUZZ_CHECK(eakte_note__verify(&tlen, note, strlen(note), NAME, pub) == 0);
		FUZZ_CHECK(tlen == size && memcmp(note, data, size) == 0);
		free(note);
	}
	free(text);
	return 0;
}
