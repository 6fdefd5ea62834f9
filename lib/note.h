/*
 * note.h - C2SP signed notes (signed-note v1.0.0) with Ed25519, and C2SP
 * tlog-checkpoint bodies.
 *
 * A note is: text (UTF-8, no NUL, ends in '\n', no empty line? see spec),
 * an empty line, then signature lines
 *     "\u2014 " name " " base64(keyid(4, big-endian) || signature(64)) "\n"
 * keyid = first 4 bytes of SHA-256(name || "\n" || 0x01 || pubkey(32)).
 * The signature is Ed25519 over the text bytes (including its final '\n').
 *
 * A verifier key is "name+hex8(keyid)+base64(0x01 || pubkey)".
 *
 * A checkpoint body is
 *     origin "\n" decimal(size) "\n" base64(root) "\n" [extension lines]
 * with no leading zeros in size, and the origin non-empty.
 */
#ifndef EAKTE_NOTE_H
#define EAKTE_NOTE_H

#include "common.h"
#include "key.h"
#include "merkle.h"

#define EAKTE_NOTE_MAX (1u << 20)          /* refuse larger notes before parsing */
#define EAKTE_NOTE_NAME_MAX 255

int eakte_note__key_id(uint32_t *out, const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

/* Verifier key text for (name, pub); malloc'ed. */
int eakte_note__verifier_key(char **out, const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

/* Parse a verifier key; name gets at most EAKTE_NOTE_NAME_MAX bytes + NUL.
 * Checks that the key id matches name and key, and the algorithm is 0x01. */
int eakte_note__parse_verifier_key(char name[EAKTE_NOTE_NAME_MAX + 1], uint8_t pub[EAKTE_ED25519_PUB_LEN],
	uint32_t *key_id, const char *vkey);

/* Sign `text` (must end in '\n') as `name`; *out = text + "\n" + signature line. */
int eakte_note__sign(char **out, const char *text, size_t text_len, const char *name, const eakte_key *key);

/*
 * Verify `note` against the key (name, pub).  0 if the note is well formed
 * and carries a valid signature by that key (signatures by other keys are
 * ignored, as the spec says); *text_len receives the length of the text
 * part (the signed bytes, which start at note[0]).
 * EAKTE_EINVALID if malformed, EAKTE_ESIGNATURE if no valid signature by
 * the key (a line with the right name and key id but a bad signature is
 * EAKTE_ESIGNATURE).
 */
int eakte_note__verify(size_t *text_len, const char *note, size_t note_len,
	const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

typedef struct {
	char origin[EAKTE_NOTE_NAME_MAX + 1];
	uint64_t size;
	eakte_hash root;
} eakte_checkpoint;

/* Body text for cp; malloc'ed. */
int eakte_checkpoint__format(char **out, const eakte_checkpoint *cp);

/* Parse the first three lines of a checkpoint body (extension lines allowed
 * and ignored). */
int eakte_checkpoint__parse(eakte_checkpoint *cp, const char *text, size_t len);

#endif
