/*
 * proof.c - inclusion proofs in eakte's text form.
 *
 * Format (docs/verification.md):
 *   eakte inclusion proof v1\n
 *   index <seq>\n
 *   event <base64 of the canonical event bytes>\n
 *   hash <base64 of a 32-byte node hash>\n      (0 or more, in RFC 9162 order)
 *   \n
 *   <the checkpoint: a C2SP signed note>
 * The leaf is SHA-256(0x00 || event bytes); the proof is checked against
 * the checkpoint's size and root with the RFC 9162 section 2.1.3.2
 * algorithm, and the checkpoint against the verifier key.
 */
#include "archive.h"
#include "encode.h"
#include "event.h"
#include "journal.h"
#include "merkle.h"
#include "note.h"
#include "package.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROOF_MAX (4u << 20)
#define PROOF_MAGIC "eakte inclusion proof v1\n"

int eakte_proof__format(char **out, uint64_t seq, const char *event, size_t event_len, const eakte_hash *proof,
	size_t count, const char *note)
{
	char *ev64 = NULL, *text;
	size_t text_len, pos, i;
	int rc;

	*out = NULL;
	if ((rc = eakte_base64__encode(&ev64, (const uint8_t *)event, event_len)) < 0)
		return rc;
	text_len = strlen(PROOF_MAGIC) + 32 + strlen(ev64) + 8 + count * 52 + 2 + strlen(note) + 1;
	text = malloc(text_len);
	if (text == NULL) {
		free(ev64);
		return eakte_error__oom("writing a proof");
	}
	pos = (size_t)snprintf(text, text_len, PROOF_MAGIC "index %" PRIu64 "\nevent %s\n", seq, ev64);
	for (i = 0; i < count; i++) {
		char h[64];
		eakte_base64__encode_to(h, proof[i], EAKTE_HASH_LEN);
		pos += (size_t)snprintf(text + pos, text_len - pos, "hash %s\n", h);
	}
	snprintf(text + pos, text_len - pos, "\n%s", note);
	free(ev64);
	*out = text;
	return 0;
}

int eakte_proof_inclusion(char **out, eakte_archive *a, uint64_t seq)
{
	char *note = NULL;
	size_t note_len, text_len, count = 0;
	eakte_checkpoint cp;
	eakte_hash root, *proof = NULL;
	eakte_jcommit c;
	int rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if ((rc = eakte_checkpoint_latest(&note, a)) < 0)
		return rc;
	note_len = strlen(note);
	if ((rc = eakte_note__verify(&text_len, note, note_len, a->origin, a->pub)) < 0 ||
	    (rc = eakte_checkpoint__parse(&cp, note, text_len)) < 0) {
		rc = eakte_error__wrap(rc, "the latest checkpoint");
		goto out;
	}
	if (seq >= cp.size) {
		rc = eakte_error__set(EAKTE_ENOTFOUND, "event %" PRIu64 " is not covered by the latest checkpoint (size %" PRIu64 ")",
			seq, cp.size);
		goto out;
	}
	if ((rc = eakte_journal__load_index(a)) < 0)
		goto out;
	if (cp.size > a->index_len) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "the checkpoint covers %" PRIu64 " events but the journal has %" PRIu64 "; run `eakte verify`",
			cp.size, a->index_len);
		goto out;
	}
	eakte_merkle__root(root, (const eakte_hash *)a->leaves, cp.size);
	if (memcmp(root, cp.root, EAKTE_HASH_LEN) != 0) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "the journal does not have the root of the latest checkpoint; run `eakte verify`");
		goto out;
	}
	if ((rc = eakte_merkle__inclusion_proof(&proof, &count, (const eakte_hash *)a->leaves, cp.size, seq)) < 0)
		goto out;
	if ((rc = eakte_journal__read_commit(&c, a, &a->commits[seq])) < 0)
		goto out;
	if (c.json == NULL) {
		rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 ": %s", seq, c.problem);
		goto out;
	}
	rc = eakte_proof__format(out, seq, c.json, c.len, (const eakte_hash *)proof, count, note);
out:
	eakte_journal__jcommit_free(&c);
	free(proof);
	free(note);
	return rc;
}

/* Next line of s[*pos..len) without its '\n'; 0 at the end. */
static int next_line(const char **line, size_t *line_len, const char *s, size_t len, size_t *pos)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	nl = memchr(s + *pos, '\n', len - *pos);
	if (nl == NULL)
		return 0;
	*line = s + *pos;
	*line_len = (size_t)(nl - (s + *pos));
	*pos = (size_t)(nl - s) + 1;
	return 1;
}

int eakte_proof_verify(eakte_proof_result *result, const char *proof, size_t proof_len,
	const char *verifier_key)
{
	char name[EAKTE_NOTE_NAME_MAX + 1];
	uint8_t pub[EAKTE_ED25519_PUB_LEN], *event = NULL;
	uint32_t key_id;
	size_t pos = 0, line_len, event_len = 0, count = 0, text_len;
	const char *line;
	eakte_hash hashes[64], leaf;
	eakte_checkpoint cp;
	uint64_t index = 0;
	eakte_ev ev;
	int rc, have_index = 0;

	memset(result, 0, sizeof(*result));
	memset(&ev, 0, sizeof(ev));
	if (proof_len > PROOF_MAX)
		return eakte_error__set(EAKTE_EVERIFY, "proof of %zu bytes exceeds the limit of 4 MiB", proof_len);
	if ((rc = eakte_note__parse_verifier_key(name, pub, &key_id, verifier_key)) < 0)
		return eakte_error__wrap(rc, "verifier key");
	/* From here on, anything malformed means the proof does not hold. */
	if (proof_len < strlen(PROOF_MAGIC) || memcmp(proof, PROOF_MAGIC, strlen(PROOF_MAGIC)) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "not an eakte inclusion proof (first line must be \"eakte inclusion proof v1\")");
	pos = strlen(PROOF_MAGIC);
	for (;;) {
		if (!next_line(&line, &line_len, proof, proof_len, &pos)) {
			rc = eakte_error__set(EAKTE_EINVALID, "proof ends before the checkpoint (no empty line)");
			goto out;
		}
		if (line_len == 0)
			break;
		if (line_len > 6 && memcmp(line, "index ", 6) == 0 && !have_index) {
			char num[24], *end;
			if (line_len - 6 >= sizeof(num) || line[6] < '0' || line[6] > '9' || (line[6] == '0' && line_len > 7)) {
				rc = eakte_error__set(EAKTE_EINVALID, "proof: malformed index line");
				goto out;
			}
			memcpy(num, line + 6, line_len - 6);
			num[line_len - 6] = '\0';
			index = strtoull(num, &end, 10);
			if (*end != '\0') {
				rc = eakte_error__set(EAKTE_EINVALID, "proof: malformed index line");
				goto out;
			}
			have_index = 1;
		} else if (line_len > 6 && memcmp(line, "event ", 6) == 0 && event == NULL) {
			if ((rc = eakte_base64__decode(&event, &event_len, line + 6, line_len - 6)) < 0) {
				rc = eakte_error__wrap(rc, "proof: event line");
				goto out;
			}
		} else if (line_len > 5 && memcmp(line, "hash ", 5) == 0) {
			if (count == EAKTE_ARRAY_SIZE(hashes)) {
				rc = eakte_error__set(EAKTE_EINVALID, "proof has more than 64 hashes");
				goto out;
			}
			if ((rc = eakte_base64__decode_exact(hashes[count], EAKTE_HASH_LEN, line + 5, line_len - 5)) < 0) {
				rc = eakte_error__wrap(rc, "proof: hash line %zu", count + 1);
				goto out;
			}
			count++;
		} else {
			rc = eakte_error__set(EAKTE_EINVALID, "proof: unexpected line \"%.*s\"", (int)(line_len > 40 ? 40 : line_len), line);
			goto out;
		}
	}
	if (!have_index || event == NULL) {
		rc = eakte_error__set(EAKTE_EINVALID, "proof lacks an index or an event line");
		goto out;
	}
	/* Checkpoint first: nothing below is trusted before its signature is. */
	if ((rc = eakte_note__verify(&text_len, proof + pos, proof_len - pos, name, pub)) < 0) {
		rc = eakte_error__wrap(rc, "checkpoint");
		goto out;
	}
	if ((rc = eakte_checkpoint__parse(&cp, proof + pos, text_len)) < 0)
		goto out;
	if (strcmp(cp.origin, name) != 0) {
		rc = eakte_error__set(EAKTE_EVERIFY, "checkpoint origin \"%s\" is not the key's name \"%s\"", cp.origin, name);
		goto out;
	}
	if ((rc = eakte_event__parse(&ev, (const char *)event, event_len)) < 0) {
		rc = eakte_error__wrap(EAKTE_EVERIFY, "proof: the event is not a canonical eakte event");
		goto out;
	}
	if (ev.seq != index) {
		rc = eakte_error__set(EAKTE_EVERIFY, "proof: the event has seq %" PRIu64 " but the proof is for index %" PRIu64, ev.seq, index);
		goto out;
	}
	eakte_merkle__leaf_hash(leaf, event, event_len);
	if ((rc = eakte_merkle__verify_inclusion(leaf, index, cp.size, (const eakte_hash *)hashes, count, cp.root)) < 0)
		goto out;
	result->seq = index;
	result->tree_size = cp.size;
	snprintf(result->origin, sizeof(result->origin), "%s", cp.origin);
	snprintf(result->key_id, sizeof(result->key_id), "%08x", key_id);
	snprintf(result->action, sizeof(result->action), "%s", ev.action);
	snprintf(result->subject, sizeof(result->subject), "%s", ev.subject);
out:
	eakte_event__free(&ev);
	free(event);
	if (rc == EAKTE_EINVALID)
		rc = EAKTE_EVERIFY;
	return rc;
}
