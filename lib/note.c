/*
 * note.c - C2SP signed notes (Ed25519) and tlog-checkpoint bodies.
 *
 * Parsing is strict and bounded: the size is checked before anything else,
 * the text must be valid UTF-8 without NUL or other control characters
 * except '\n', and each signature line's key name and key id are matched
 * before any cryptography runs.
 */
#include "note.h"
#include "encode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define ALG_ED25519 0x01
#define EM_DASH "\xe2\x80\x94"
#define MAX_SIGNATURES 100

static int valid_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > EAKTE_NOTE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		/* No Unicode spaces, no '+', no control characters. */
		if (c <= 0x20 || c == 0x7f || c == '+')
			return 0;
	}
	return 1;
}

int eakte_note__key_id(uint32_t *out, const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t h[EAKTE_HASH_LEN], alg = ALG_ED25519;
	int ok;

	/* Every step checked: a key id from a failed digest would be signed
	 * into checkpoints that then never verify. */
	ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(c, name, strlen(name)) == 1 && EVP_DigestUpdate(c, "\n", 1) == 1 &&
	     EVP_DigestUpdate(c, &alg, 1) == 1 && EVP_DigestUpdate(c, pub, EAKTE_ED25519_PUB_LEN) == 1 &&
	     EVP_DigestFinal_ex(c, h, NULL) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return eakte_error__set(EAKTE_ENOMEM, "cannot compute a note key id (OpenSSL failed, most likely out of memory)");
	*out = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
	return 0;
}

int eakte_note__verifier_key(char **out, const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	uint8_t raw[1 + EAKTE_ED25519_PUB_LEN];
	char b64[64];
	uint32_t id;
	int rc;

	*out = NULL;
	if (!valid_name(name, strlen(name)))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a valid note key name", name);
	raw[0] = ALG_ED25519;
	memcpy(raw + 1, pub, EAKTE_ED25519_PUB_LEN);
	eakte_base64__encode_to(b64, raw, sizeof(raw));
	if ((rc = eakte_note__key_id(&id, name, pub)) < 0)
		return rc;
	if (asprintf(out, "%s+%08" PRIx32 "+%s", name, id, b64) < 0) {
		*out = NULL;
		return eakte_error__oom("encoding a verifier key");
	}
	return 0;
}

int eakte_note__parse_verifier_key(char name[EAKTE_NOTE_NAME_MAX + 1], uint8_t pub[EAKTE_ED25519_PUB_LEN],
	uint32_t *key_id, const char *vkey)
{
	const char *p1, *p2;
	uint8_t id[4], raw[1 + EAKTE_ED25519_PUB_LEN];
	uint32_t want;
	size_t nlen;
	int rc;

	if (vkey == NULL || strlen(vkey) > 1024)
		return eakte_error__set(EAKTE_EINVALID, "verifier key missing or too long");
	p1 = strchr(vkey, '+');
	p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (p1 == NULL || p2 == NULL)
		return eakte_error__set(EAKTE_EINVALID, "verifier key is not NAME+KEYID+KEY");
	nlen = (size_t)(p1 - vkey);
	if (!valid_name(vkey, nlen))
		return eakte_error__set(EAKTE_EINVALID, "verifier key has an invalid name");
	if ((rc = eakte_hex__decode(id, 4, p1 + 1, (size_t)(p2 - p1 - 1))) < 0)
		return eakte_error__wrap(rc, "verifier key id");
	if ((rc = eakte_base64__decode_exact(raw, sizeof(raw), p2 + 1, strlen(p2 + 1))) < 0)
		return eakte_error__set(EAKTE_EINVALID, "verifier key: the key is not base64 of 33 bytes");
	if (raw[0] != ALG_ED25519)
		return eakte_error__set(EAKTE_EINVALID, "verifier key algorithm %u is not Ed25519 (1)", raw[0]);
	memcpy(name, vkey, nlen);
	name[nlen] = '\0';
	memcpy(pub, raw + 1, EAKTE_ED25519_PUB_LEN);
	*key_id = ((uint32_t)id[0] << 24) | ((uint32_t)id[1] << 16) | ((uint32_t)id[2] << 8) | id[3];
	if ((rc = eakte_note__key_id(&want, name, pub)) < 0)
		return rc;
	if (*key_id != want)
		return eakte_error__set(EAKTE_EINVALID, "verifier key id does not match its name and key");
	return 0;
}

/* Valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), no
 * control characters other than '\n'. */
static int valid_text(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len, k;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int eakte_note__sign(char **out, const char *text, size_t text_len, const char *name, const eakte_key *key)
{
	uint8_t pub[EAKTE_ED25519_PUB_LEN], blob[4 + EAKTE_ED25519_SIG_LEN];
	char b64[128];
	uint32_t id;
	int rc, n;

	*out = NULL;
	if (text_len == 0 || text[text_len - 1] != '\n' || !valid_text((const unsigned char *)text, text_len))
		return eakte_error__set(EAKTE_EINVALID, "note text must be UTF-8 ending in a newline");
	if (text_len >= 2 && memmem(text, text_len, "\n\n", 2) != NULL)
		return eakte_error__set(EAKTE_EINVALID, "note text must not contain an empty line");
	if (!valid_name(name, strlen(name)))
		return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a valid note key name", name);
	eakte_key__public_raw(key, pub);
	if ((rc = eakte_note__key_id(&id, name, pub)) < 0)
		return rc;
	blob[0] = (uint8_t)(id >> 24);
	blob[1] = (uint8_t)(id >> 16);
	blob[2] = (uint8_t)(id >> 8);
	blob[3] = (uint8_t)id;
	if ((rc = eakte_key__sign(key, (const uint8_t *)text, text_len, blob + 4)) < 0)
		return rc;
	eakte_base64__encode_to(b64, blob, sizeof(blob));
	n = asprintf(out, "%.*s\n" EM_DASH " %s %s\n", (int)text_len, text, name, b64);
	if (n < 0) {
		*out = NULL;
		return eakte_error__oom("signing a note");
	}
	return 0;
}

int eakte_note__verify(size_t *text_len, const char *note, size_t note_len,
	const char *name, const uint8_t pub[EAKTE_ED25519_PUB_LEN])
{
	const char *sep, *p, *end = note + note_len;
	uint32_t want;
	size_t tlen, nsig = 0, name_len = strlen(name);
	int found_line = 0;

	*text_len = 0;
	if (eakte_note__key_id(&want, name, pub) < 0)
		return EAKTE_ENOMEM;
	if (note_len > EAKTE_NOTE_MAX)
		return eakte_error__set(EAKTE_EINVALID, "note of %zu bytes exceeds the 1 MiB limit", note_len);
	if (!valid_text((const unsigned char *)note, note_len))
		return eakte_error__set(EAKTE_EINVALID, "note is not UTF-8 text without control characters");
	if (note_len == 0 || note[note_len - 1] != '\n')
		return eakte_error__set(EAKTE_EINVALID, "note does not end with a newline");
	/* The text ends at the first empty line. */
	sep = note_len >= 2 ? memmem(note, note_len, "\n\n", 2) : NULL;
	if (sep == NULL)
		return eakte_error__set(EAKTE_EINVALID, "note has no empty line before its signatures");
	tlen = (size_t)(sep - note) + 1;
	p = sep + 2;
	if (p >= end)
		return eakte_error__set(EAKTE_EINVALID, "note has no signature lines");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		uint8_t blob[4 + EAKTE_ED25519_SIG_LEN];
		uint32_t id;
		size_t llen;

		if (nl == NULL)
			return eakte_error__set(EAKTE_EINVALID, "note signature line is not terminated");
		llen = (size_t)(nl - p);
		if (++nsig > MAX_SIGNATURES)
			return eakte_error__set(EAKTE_EINVALID, "note has more than %d signatures", MAX_SIGNATURES);
		if (llen < 4 || memcmp(p, EM_DASH " ", 4) != 0)
			return eakte_error__set(EAKTE_EINVALID, "note signature line %zu does not start with an em dash and a space", nsig);
		sp = memchr(p + 4, ' ', llen - 4);
		if (sp == NULL || !valid_name(p + 4, (size_t)(sp - (p + 4))))
			return eakte_error__set(EAKTE_EINVALID, "note signature line %zu has no valid key name", nsig);
		if (memchr(sp + 1, ' ', (size_t)(nl - (sp + 1))) != NULL)
			return eakte_error__set(EAKTE_EINVALID, "note signature line %zu has extra fields", nsig);
		{
			uint8_t *sig = NULL;
			size_t slen;
			if (eakte_base64__decode(&sig, &slen, sp + 1, (size_t)(nl - (sp + 1))) < 0 || slen < 5) {
				free(sig);
				return eakte_error__set(EAKTE_EINVALID, "note signature line %zu: signature is not base64 of a key id and a signature", nsig);
			}
			id = ((uint32_t)sig[0] << 24) | ((uint32_t)sig[1] << 16) | ((uint32_t)sig[2] << 8) | sig[3];
			/* Only a line with our name and key id is ours; others are ignored. */
			if ((size_t)(sp - (p + 4)) == name_len && memcmp(p + 4, name, name_len) == 0 && id == want) {
				found_line = 1;
				if (slen != sizeof(blob)) {
					free(sig);
					return eakte_error__set(EAKTE_ESIGNATURE, "note signature by %s has %zu bytes, expected 68", name, slen);
				}
				memcpy(blob, sig, sizeof(blob));
				free(sig);
				if (eakte_key__verify_raw(pub, (const uint8_t *)note, tlen, blob + 4) < 0)
					return eakte_error__set(EAKTE_ESIGNATURE, "the note's signature by %s (key id %08" PRIx32 ") does not verify",
						name, want);
				*text_len = tlen;
				/* Keep parsing: the rest of the note must be well formed too. */
			} else {
				free(sig);
			}
		}
		p = nl + 1;
	}
	if (!found_line)
		return eakte_error__set(EAKTE_ESIGNATURE, "the note carries no signature by %s (key id %08" PRIx32 ")", name, want);
	return 0;
}

int eakte_checkpoint__format(char **out, const eakte_checkpoint *cp)
{
	char b64[64];

	*out = NULL;
	if (!valid_name(cp->origin, strlen(cp->origin)))
		return eakte_error__set(EAKTE_EINVALID, "checkpoint origin \"%s\" is not valid", cp->origin);
	eakte_base64__encode_to(b64, cp->root, EAKTE_HASH_LEN);
	if (asprintf(out, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, b64) < 0) {
		*out = NULL;
		return eakte_error__oom("formatting a checkpoint");
	}
	return 0;
}

int eakte_checkpoint__parse(eakte_checkpoint *cp, const char *text, size_t len)
{
	const char *lines[3], *p = text, *end = text + len;
	size_t lens[3], i;
	uint64_t size = 0;

	memset(cp, 0, sizeof(*cp));
	if (len > EAKTE_NOTE_MAX)
		return eakte_error__set(EAKTE_EINVALID, "checkpoint of %zu bytes exceeds the limit", len);
	for (i = 0; i < 3; i++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		if (nl == NULL)
			return eakte_error__set(EAKTE_EINVALID, "checkpoint has fewer than three lines");
		lines[i] = p;
		lens[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	/* Extension lines, if any, must be non-empty. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || nl == p)
			return eakte_error__set(EAKTE_EINVALID, "checkpoint has an empty or unterminated extension line");
		p = nl + 1;
	}
	/* A NUL would cut the origin short: cp->origin must be the whole line. */
	if (lens[0] == 0 || lens[0] > EAKTE_NOTE_NAME_MAX || memchr(lines[0], '\0', lens[0]) != NULL)
		return eakte_error__set(EAKTE_EINVALID, "checkpoint line 1: origin is empty, too long or holds a NUL byte");
	if (lens[1] == 0 || lens[1] > 20 || (lines[1][0] == '0' && lens[1] > 1))
		return eakte_error__set(EAKTE_EINVALID, "checkpoint line 2: tree size is empty, too long or has a leading zero");
	for (i = 0; i < lens[1]; i++) {
		unsigned d = (unsigned)(lines[1][i] - '0');
		if (d > 9)
			return eakte_error__set(EAKTE_EINVALID, "checkpoint line 2: tree size is not a decimal number");
		if (size > (UINT64_MAX - d) / 10)
			return eakte_error__set(EAKTE_EINVALID, "checkpoint line 2: tree size overflows");
		size = size * 10 + d;
	}
	if (eakte_base64__decode_exact(cp->root, EAKTE_HASH_LEN, lines[2], lens[2]) < 0)
		return eakte_error__set(EAKTE_EINVALID, "checkpoint line 3: root is not base64 of 32 bytes");
	memcpy(cp->origin, lines[0], lens[0]);
	cp->origin[lens[0]] = '\0';
	cp->size = size;
	return 0;
}
