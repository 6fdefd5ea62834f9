/* Third-party vectors for lib/note.c: C2SP signed-note and tlog-checkpoint
 * examples, golang.org/x/mod's note tests (including a signing
 * known-answer test and malformed notes), real sum.golang.org checkpoints.
 * argv[1] is the vectors directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "encode.h"
#include "note.h"

static const char *dir;

/* "PRIVATE+KEY+name+id+base64(0x01||seed)" -> key */
static eakte_key *parse_skey(const char *skey, char name[256])
{
	const char *p = skey + strlen("PRIVATE+KEY+"), *plus1 = strchr(p, '+'), *plus2;
	uint8_t raw[33];
	eakte_key *key;

	assert_non_null(plus1);
	plus2 = strchr(plus1 + 1, '+');
	assert_non_null(plus2);
	memcpy(name, p, (size_t)(plus1 - p));
	name[plus1 - p] = '\0';
	assert_int_equal(eakte_base64__decode_exact(raw, 33, plus2 + 1, strlen(plus2 + 1)), 0);
	assert_int_equal(raw[0], 1);
	assert_int_equal(eakte_key__from_seed(&key, raw + 1), 0);
	return key;
}

static const char *vkey_for(json_t *vkeys, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(vkeys, i, v) {
		const char *s = json_string_value(v);
		size_t n = strlen(name);
		if (strncmp(s, name, n) == 0 && s[n] == '+')
			return s;
	}
	return NULL;
}

static void test_signed_notes(void **state)
{
	char path[4096];
	json_error_t err;
	json_t *d, *v;
	size_t i, ran = 0, valid = 0, rejected = 0, kat = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/signed-note/notes.json", dir);
	d = json_load_file(path, 0, &err);
	assert_non_null(d);
	json_array_foreach(json_object_get(d, "vectors"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		json_t *expect = json_object_get(v, "expect"), *vkeys = json_object_get(v, "vkeys");
		char *note = NULL;
		size_t note_len, j;
		json_t *k;

		if (json_is_string(json_object_get(v, "note"))) {
			note = strdup(json_string_value(json_object_get(v, "note")));
			note_len = json_string_length(json_object_get(v, "note"));
		} else {
			const char *b64 = json_string_value(json_object_get(v, "note_b64"));
			uint8_t *raw;
			assert_non_null(b64);
			assert_int_equal(eakte_base64__decode(&raw, &note_len, b64, strlen(b64)), 0);
			note = (char *)raw;
		}
		if (json_is_false(json_object_get(expect, "vkey_valid"))) {
			json_array_foreach(vkeys, j, k) {
				char name[256];
				uint8_t pub[32];
				uint32_t id32;
				assert_int_not_equal(eakte_note__parse_verifier_key(name, pub, &id32, json_string_value(k)), 0);
			}
			rejected++;
		} else if (json_is_true(json_object_get(expect, "valid"))) {
			json_array_foreach(json_object_get(expect, "verified_by"), j, k) {
				const char *vk = vkey_for(vkeys, json_string_value(k));
				char name[256];
				uint8_t pub[32];
				uint32_t id32;
				size_t text_len;
				assert_non_null(vk);
				assert_int_equal(eakte_note__parse_verifier_key(name, pub, &id32, vk), 0);
				if (eakte_note__verify(&text_len, note, note_len, name, pub) != 0)
					fail_msg("%s: note does not verify with %s: %s", id, name, eakte_error_last());
				if (json_is_object(json_object_get(expect, "checkpoint"))) {
					json_t *cpe = json_object_get(expect, "checkpoint");
					eakte_checkpoint cp;
					eakte_hash root;
					assert_int_equal(eakte_checkpoint__parse(&cp, note, text_len), 0);
					assert_string_equal(cp.origin, json_string_value(json_object_get(cpe, "origin")));
					assert_int_equal(cp.size, (uint64_t)json_integer_value(json_object_get(cpe, "size")));
					if (json_is_string(json_object_get(cpe, "root_b64"))) {
						const char *r = json_string_value(json_object_get(cpe, "root_b64"));
						assert_int_equal(eakte_base64__decode_exact(root, 32, r, strlen(r)), 0);
					} else {
						const char *r = json_string_value(json_object_get(cpe, "root_hex"));
						assert_int_equal(eakte_hex__decode(root, 32, r, strlen(r)), 0);
					}
					assert_memory_equal(cp.root, root, 32);
				}
			}
			valid++;
		} else {
			/* must be rejected under every key we can parse */
			json_array_foreach(vkeys, j, k) {
				char name[256];
				uint8_t pub[32];
				uint32_t id32;
				size_t text_len;
				if (eakte_note__parse_verifier_key(name, pub, &id32, json_string_value(k)) != 0)
					continue;
				if (eakte_note__verify(&text_len, note, note_len, name, pub) == 0)
					fail_msg("%s: note must be rejected but verifies with %s", id, name);
			}
			rejected++;
		}
		/* Signing known-answer test: Ed25519 is deterministic. */
		json_array_foreach(json_object_get(v, "skeys"), j, k) {
			char name[256], *signed_note;
			const char *sep = strstr(note, "\n\n");
			eakte_key *key = parse_skey(json_string_value(k), name);
			char want[512];
			const char *line;

			assert_non_null(sep);
			{
				/* Only plain Ed25519 note keys: a cosignature key (type 0x04)
				 * signs a different message. */
				json_t *by = json_object_get(expect, "verified_by"), *b;
				size_t q;
				int listed = 0;
				json_array_foreach(by, q, b)
					listed |= strcmp(json_string_value(b), name) == 0;
				if (!listed) {
					eakte_key__free(key);
					continue;
				}
			}
			assert_int_equal(eakte_note__sign(&signed_note, note, (size_t)(sep - note) + 1, name, key), 0);
			/* our note carries our one signature line; the vector's line for
			 * this key must be byte-identical */
			line = strstr(signed_note, "\n\n") + 2;
			snprintf(want, sizeof(want), "%s", line);
			assert_non_null(strstr(note, want));
			free(signed_note);
			eakte_key__free(key);
			kat++;
		}
		free(note);
		ran++;
	}
	print_message("signed notes: %zu vectors (%zu valid, %zu rejected), %zu signing known answers\n", ran, valid, rejected, kat);
	assert_true(ran >= 20 && valid > 0 && rejected > 0 && kat > 0);
	json_decref(d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_notes),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	return cmocka_run_group_tests_name("vectors_note", tests, NULL, NULL);
}
