/* Unit tests: hex and strict base64 (lib/encode.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "encode.h"

static void test_hex_roundtrip(void **state)
{
	uint8_t in[256], out[256];
	char hex[513];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	eakte_hex__encode(hex, in, sizeof(in));
	assert_int_equal(strlen(hex), 512);
	assert_memory_equal(hex, "00010203", 8);
	assert_int_equal(eakte_hex__decode(out, sizeof(out), hex, 512), 0);
	assert_memory_equal(in, out, sizeof(in));
	/* uppercase accepted on input */
	assert_int_equal(eakte_hex__decode(out, 2, "ABcd", 4), 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xcd);
}

static void test_hex_errors(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(eakte_hex__decode(out, 2, "abc", 3), EAKTE_EINVALID);
	assert_int_equal(eakte_hex__decode(out, 2, "abcg", 4), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "position 3"));
	assert_int_equal(eakte_hex__decode(out, 2, "abcdef", 6), EAKTE_EINVALID);
}

static void test_base64_rfc4648_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		char *s;
		uint8_t *d;
		size_t n;
		assert_int_equal(eakte_base64__encode(&s, (const uint8_t *)plain[i], strlen(plain[i])), 0);
		assert_string_equal(s, enc[i]);
		assert_int_equal(eakte_base64__encoded_len(strlen(plain[i])), strlen(enc[i]));
		assert_int_equal(eakte_base64__decode(&d, &n, enc[i], strlen(enc[i])), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(s);
		free(d);
	}
}

static void test_base64_strict(void **state)
{
	uint8_t *d;
	size_t n;
	uint8_t fixed[3];

	(void)state;
	assert_int_equal(eakte_base64__decode(&d, &n, "Zg=", 3), EAKTE_EINVALID);      /* length */
	assert_int_equal(eakte_base64__decode(&d, &n, "Zh==", 4), EAKTE_EINVALID);     /* padding bits */
	assert_int_equal(eakte_base64__decode(&d, &n, "Zm9=", 4), EAKTE_EINVALID);     /* padding bits */
	assert_int_equal(eakte_base64__decode(&d, &n, "Zm9v\n", 5), EAKTE_EINVALID);   /* newline */
	assert_int_equal(eakte_base64__decode(&d, &n, "Zm-v", 4), EAKTE_EINVALID);     /* url alphabet */
	assert_int_equal(eakte_base64__decode(&d, &n, "=Zm9", 4), EAKTE_EINVALID);     /* pad first */
	assert_null(d);
	assert_int_equal(eakte_base64__decode_exact(fixed, 3, "Zm9v", 4), 0);
	assert_int_equal(eakte_base64__decode_exact(fixed, 3, "Zm8=", 4), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "expected 3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_hex_errors),
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_base64_strict),
	};
	return cmocka_run_group_tests_name("unit_encode", tests, NULL, NULL);
}
