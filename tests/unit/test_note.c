/* Unit tests: C2SP signed notes and checkpoints (lib/note.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "note.h"

static eakte_key *key, *other;
static uint8_t pub[32], other_pub[32];

static int setup(void **state)
{
	(void)state;
	if (eakte_key__generate(&key) < 0 || eakte_key__generate(&other) < 0)
		return -1;
	eakte_key__public_raw(key, pub);
	eakte_key__public_raw(other, other_pub);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	eakte_key__free(key);
	eakte_key__free(other);
	return 0;
}

static const char body[] = "example.org/log\n42\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n";

static void test_roundtrip(void **state)
{
	char *note;
	size_t tlen;

	(void)state;
	assert_int_equal(eakte_note__sign(&note, body, strlen(body), "example.org/log", key), 0);
	assert_int_equal(strncmp(note, body, strlen(body)), 0);
	assert_non_null(strstr(note, "\n\n\xe2\x80\x94 example.org/log "));
	assert_int_equal(eakte_note__verify(&tlen, note, strlen(note), "example.org/log", pub), 0);
	assert_int_equal(tlen, strlen(body));
	/* another key, or the right key under another name: no signature by it */
	assert_int_equal(eakte_note__verify(&tlen, note, strlen(note), "example.org/log", other_pub), EAKTE_ESIGNATURE);
	assert_int_equal(eakte_note__verify(&tlen, note, strlen(note), "example.org/other", pub), EAKTE_ESIGNATURE);
	free(note);
}

static void test_tampering(void **state)
{
	char *note, *copy;
	size_t tlen, n, sigpos;

	(void)state;
	assert_int_equal(eakte_note__sign(&note, body, strlen(body), "example.org/log", key), 0);
	n = strlen(note);
	copy = strdup(note);
	copy[20] ^= 1; /* the tree size line */
	assert_int_equal(eakte_note__verify(&tlen, copy, n, "example.org/log", pub), EAKTE_ESIGNATURE);
	strcpy(copy, note);
	/* flip a byte of the signature (not of the key id) */
	sigpos = n - 10;
	copy[sigpos] = copy[sigpos] == 'A' ? 'B' : 'A';
	assert_int_equal(eakte_note__verify(&tlen, copy, n, "example.org/log", pub), EAKTE_ESIGNATURE);
	/* missing trailing newline, no blank line, garbage after the signature */
	strcpy(copy, note);
	assert_int_equal(eakte_note__verify(&tlen, copy, n - 1, "example.org/log", pub), EAKTE_EINVALID);
	assert_int_equal(eakte_note__verify(&tlen, body, strlen(body), "example.org/log", pub), EAKTE_EINVALID);
	free(copy);
	assert_true(asprintf(&copy, "%sgarbage\n", note) > 0);
	assert_int_equal(eakte_note__verify(&tlen, copy, strlen(copy), "example.org/log", pub), EAKTE_EINVALID);
	free(copy);
	/* a second, unknown signature is ignored */
	assert_true(asprintf(&copy, "%s\xe2\x80\x94 someone AAAAAAAA\n", note) > 0);
	assert_int_equal(eakte_note__verify(&tlen, copy, strlen(copy), "example.org/log", pub), 0);
	free(copy);
	free(note);
}

static void test_sign_rejects_bad_text(void **state)
{
	char *note;

	(void)state;
	assert_int_equal(eakte_note__sign(&note, "no newline", 10, "n", key), EAKTE_EINVALID);
	assert_int_equal(eakte_note__sign(&note, "a\n\nb\n", 5, "n", key), EAKTE_EINVALID);
	assert_int_equal(eakte_note__sign(&note, "a\n", 2, "has space", key), EAKTE_EINVALID);
	assert_int_equal(eakte_note__sign(&note, "a\n", 2, "has+plus", key), EAKTE_EINVALID);
	assert_int_equal(eakte_note__sign(&note, "\x01\n", 2, "n", key), EAKTE_EINVALID);
	assert_null(note);
}

static void test_verifier_keys(void **state)
{
	char *vk, name[256], bad[512];
	uint8_t p[32];
	uint32_t id;

	(void)state;
	assert_int_equal(eakte_note__verifier_key(&vk, "example.org/log", pub), 0);
	assert_int_equal(eakte_note__parse_verifier_key(name, p, &id, vk), 0);
	assert_string_equal(name, "example.org/log");
	assert_memory_equal(p, pub, 32);
	uint32_t want = 0;
	assert_int_equal(eakte_note__key_id(&want, "example.org/log", pub), 0);
	assert_int_equal(id, want);
	/* wrong key id */
	snprintf(bad, sizeof(bad), "%s", vk);
	bad[strlen("example.org/log+")] ^= 1;
	assert_int_equal(eakte_note__parse_verifier_key(name, p, &id, bad), EAKTE_EINVALID);
	/* truncated key, no plus signs, bad base64 */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(vk) - 4, vk);
	assert_int_equal(eakte_note__parse_verifier_key(name, p, &id, bad), EAKTE_EINVALID);
	assert_int_equal(eakte_note__parse_verifier_key(name, p, &id, "garbage"), EAKTE_EINVALID);
	assert_int_equal(eakte_note__parse_verifier_key(name, p, &id, "a+00000000+!!!!"), EAKTE_EINVALID);
	free(vk);
}

static void test_checkpoint(void **state)
{
	eakte_checkpoint cp, back;
	char *text;

	(void)state;
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.org/log");
	cp.size = 18446744073709551615u;
	memset(cp.root, 0xab, 32);
	assert_int_equal(eakte_checkpoint__format(&text, &cp), 0);
	assert_int_equal(eakte_checkpoint__parse(&back, text, strlen(text)), 0);
	assert_string_equal(back.origin, cp.origin);
	assert_true(back.size == cp.size);
	assert_memory_equal(back.root, cp.root, 32);
	free(text);
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n012\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n", strlen("o\n012\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n")), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "leading zero"));
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n18446744073709551616\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n", strlen("o\n18446744073709551616\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n")), EAKTE_EINVALID);
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n1\nqQesB9gxw\n", strlen("o\n1\nqQesB9gxw\n")), EAKTE_EINVALID);
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n1\n", strlen("o\n1\n")), EAKTE_EINVALID);
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n1x\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n", strlen("o\n1x\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n")), EAKTE_EINVALID);
	/* extension lines are allowed, empty ones are not */
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n1\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\next\n", strlen("o\n1\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\next\n")), 0);
	assert_int_equal(eakte_checkpoint__parse(&back, "o\n1\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n\n", strlen("o\n1\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n\n")), EAKTE_EINVALID);
	/* Found by tests/fuzz (fuzz_note): a NUL in the origin line cut the
	 * parsed origin short (here to ""); the line is refused now. */
	{
		static const char nul_origin[] = "\0fuzz.example/log\n6\nqQesB9gxwScaRFVmHv3wGgme28+mW0mA0lgUU+8PcKo=\n";
		assert_int_equal(eakte_checkpoint__parse(&back, nul_origin, sizeof(nul_origin) - 1), EAKTE_EINVALID);
	}
}

static void test_size_limit(void **state)
{
	size_t n = EAKTE_NOTE_MAX + 1, tlen;
	char *big = malloc(n);

	(void)state;
	memset(big, 'a', n);
	assert_int_equal(eakte_note__verify(&tlen, big, n, "n", pub), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "limit"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_sign_rejects_bad_text),
		cmocka_unit_test(test_verifier_keys),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_size_limit),
	};
	return cmocka_run_group_tests_name("unit_note", tests, setup, teardown);
}
