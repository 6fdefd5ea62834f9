/* Unit tests of eakte_import__check_event() (lib/import.c): what `eakte
 * verify` checks of the events an import appended.  A small source journal
 * is built here, with a checkpoint signed by a source key; replayed events
 * carrying an original and its proof are accepted only when both hold and
 * match. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "encode.h"
#include "merkle.h"
#include "note.h"
#include "package.h"

#define ORIGIN "quelle.example/eakte"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *orig[4];           /* canonical bytes of the source's events */
static size_t orig_len[4];
static eakte_hash leaves[4];
static char *note, *vkey, *other_note;

static json_t *base(uint64_t seq, const char *action)
{
	return json_pack("{s:i, s:I, s:s, s:s, s:s, s:s}", "v", 1, "seq", (json_int_t)seq, "prev",
		"0000000000000000000000000000000000000000000000000000000000000000", "time", "2026-01-02T03:04:05Z",
		"actor", "unix:1000:muster", "action", action);
}

static void dump(char **out, size_t *len, json_t *ev)
{
	assert_non_null(ev);
	assert_int_equal(eakte_cjson__dump(out, len, ev), 0);
	json_decref(ev);
}

static int setup(void **state)
{
	uint8_t seed[32], pub[EAKTE_ED25519_PUB_LEN];
	eakte_key *key, *other;
	eakte_checkpoint cp;
	char *body;
	json_t *e;

	(void)state;
	dump(&orig[0], &orig_len[0], base(0, "genesis"));
	e = base(1, "akte-create");
	json_object_set_new(e, "akte", json_string("A-1"));
	json_object_set_new(e, "plan", json_string("32.10"));
	dump(&orig[1], &orig_len[1], e);
	e = base(2, "file");
	json_object_set_new(e, "akte", json_string("A-1"));
	json_object_set_new(e, "doc", json_string("01a215ad-c897-7568-bf83-54a108a8f4a9"));
	json_object_set_new(e, "version", json_integer(1));
	json_object_set_new(e, "content", json_pack("{s:s, s:I}", "sha256", SHA_A, "size", (json_int_t)6));
	dump(&orig[2], &orig_len[2], e);
	e = base(3, "akte-close");
	json_object_set_new(e, "akte", json_string("A-1"));
	json_object_set_new(e, "date", json_string("2026-01-31"));
	dump(&orig[3], &orig_len[3], e);
	for (size_t i = 0; i < 4; i++)
		eakte_merkle__leaf_hash(leaves[i], orig[i], orig_len[i]);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.size = 4;
	eakte_merkle__root(cp.root, (const eakte_hash *)leaves, 4);
	assert_int_equal(eakte_checkpoint__format(&body, &cp), 0);
	memset(seed, 7, sizeof(seed));
	assert_int_equal(eakte_key__from_seed(&key, seed), 0);
	memset(seed, 9, sizeof(seed));
	assert_int_equal(eakte_key__from_seed(&other, seed), 0);
	assert_int_equal(eakte_note__sign(&note, body, strlen(body), ORIGIN, key), 0);
	assert_int_equal(eakte_note__sign(&other_note, body, strlen(body), ORIGIN, other), 0);
	eakte_key__public_raw(key, pub);
	assert_int_equal(eakte_note__verifier_key(&vkey, ORIGIN, pub), 0);
	free(body);
	eakte_key__free(key);
	eakte_key__free(other);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < 4; i++)
		free(orig[i]);
	free(note);
	free(other_note);
	free(vkey);
	return 0;
}

static int check(eakte_import_check *st, json_t *ev_json)
{
	char *buf;
	size_t len;
	eakte_ev ev;
	int rc;

	dump(&buf, &len, ev_json);
	assert_int_equal(eakte_event__parse(&ev, buf, len), 0);
	rc = eakte_import__check_event(st, &ev);
	eakte_event__free(&ev);
	free(buf);
	return rc;
}

static json_t *import_event(const char *n)
{
	json_t *e = base(10, "import");
	json_object_set_new(e, "akte", json_string("B-1"));
	json_object_set_new(e, "source", json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:s, s:s}, s:{s:s, s:I}}", "origin", ORIGIN, "akte", "A-1",
		"key", vkey, "fingerprint", "SHA256:x", "checkpoint", "size", (json_int_t)4, "root", "r", "note", n,
		"package", "sha256", SHA_A, "size", (json_int_t)1));
	return e;
}

/* A replayed event for source event `seq`, its proof hash `flip` altered (-1: none). */
static json_t *replayed(const char *action, uint64_t seq, int flip)
{
	eakte_hash *proof = NULL;
	size_t count = 0;
	char *ev64 = NULL, h[64];
	json_t *e = base(11 + seq, action), *hashes = json_array();

	assert_int_equal(eakte_merkle__inclusion_proof(&proof, &count, (const eakte_hash *)leaves, 4, seq), 0);
	for (size_t i = 0; i < count; i++) {
		if ((int)i == flip)
			proof[i][0] ^= 1;
		eakte_base64__encode_to(h, proof[i], EAKTE_HASH_LEN);
		json_array_append_new(hashes, json_string(h));
	}
	assert_int_equal(eakte_base64__encode(&ev64, (const uint8_t *)orig[seq], orig_len[seq]), 0);
	json_object_set_new(e, "imported", json_pack("{s:s, s:I, s:s, s:o}", "origin", ORIGIN, "seq", (json_int_t)seq, "event", ev64,
		"proof", hashes));
	json_object_set_new(e, "akte", json_string("B-1"));
	free(ev64);
	free(proof);
	return e;
}

static json_t *file_event(const char *sha, int64_t version, int flip)
{
	json_t *e = replayed("file", 2, flip);
	json_object_set_new(e, "doc", json_string("01a215b2-69b8-76db-a985-461e605580f5"));
	json_object_set_new(e, "version", json_integer(version));
	json_object_set_new(e, "content", json_pack("{s:s, s:I}", "sha256", sha, "size", (json_int_t)6));
	return e;
}

static void test_accepts_what_import_writes(void **state)
{
	eakte_import_check st = { NULL, NULL, NULL };
	json_t *e;

	(void)state;
	assert_int_equal(check(&st, base(5, "plan")), 0);         /* unrelated events pass */
	assert_int_equal(check(&st, import_event(note)), 0);
	e = replayed("akte-create", 1, -1);
	json_object_set_new(e, "plan", json_string("32.10"));
	assert_int_equal(check(&st, e), 0);
	assert_int_equal(check(&st, file_event(SHA_A, 1, -1)), 0);
	e = replayed("akte-close", 3, -1);
	json_object_set_new(e, "date", json_string("2026-01-31"));
	assert_int_equal(check(&st, e), 0);
	eakte_import__check_free(&st);
}

static void test_refuses_what_does_not_match(void **state)
{
	eakte_import_check st = { NULL, NULL, NULL };
	json_t *e;

	(void)state;
	/* an original without an import event before it */
	assert_int_equal(check(&st, file_event(SHA_A, 1, -1)), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "follows no valid import event"));
	/* a source checkpoint not signed by the source key */
	assert_int_equal(check(&st, import_event(other_note)), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "not signed by its source key"));
	assert_int_equal(check(&st, file_event(SHA_A, 1, -1)), EAKTE_EVERIFY);

	assert_int_equal(check(&st, import_event(note)), 0);
	/* other content than the original's */
	assert_int_equal(check(&st, file_event(SHA_B, 1, -1)), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "expected=" SHA_A " actual=" SHA_B));
	/* another version */
	assert_int_equal(check(&st, file_event(SHA_A, 2, -1)), EAKTE_EVERIFY);
	/* a proof hash changed */
	assert_int_equal(check(&st, file_event(SHA_A, 1, 0)), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "not proven by the import's checkpoint"));
	/* another action than the original's */
	e = replayed("akte-reopen", 3, -1);
	assert_int_equal(check(&st, e), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "akte-reopen event but its imported original is a akte-close"));
	/* another zdA date */
	e = replayed("akte-close", 3, -1);
	json_object_set_new(e, "date", json_string("2027-01-31"));
	assert_int_equal(check(&st, e), EAKTE_EVERIFY);
	/* an original from another origin */
	e = file_event(SHA_A, 1, -1);
	json_object_set_new(json_object_get(e, "imported"), "origin", json_string("andere.example/eakte"));
	assert_int_equal(check(&st, e), EAKTE_EVERIFY);
	/* the original's bytes changed (its proof no longer holds) */
	e = file_event(SHA_A, 1, -1);
	json_object_set_new(json_object_get(e, "imported"), "seq", json_integer(1));
	assert_int_equal(check(&st, e), EAKTE_EVERIFY);
	eakte_import__check_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_what_import_writes),
		cmocka_unit_test(test_refuses_what_does_not_match),
	};
	return cmocka_run_group_tests_name("unit_import_check", tests, setup, teardown);
}
