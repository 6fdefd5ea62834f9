/* Wycheproof Ed25519 (RFC 8032 known answers, malleability, non-canonical
 * encodings, truncated signatures) through eakte_key__verify_raw, the
 * function every signature check of eakte ends in.  argv[1] is the
 * vectors directory. */
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
#include "key.h"

static const char *dir;

static void test_wycheproof(void **state)
{
	char path[4096];
	json_error_t err;
	json_t *d, *g, *t;
	size_t i, j, ran = 0, invalid = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/ed25519/wycheproof_ed25519_test.json", dir);
	d = json_load_file(path, 0, &err);
	assert_non_null(d);
	json_array_foreach(json_object_get(d, "testGroups"), i, g) {
		const char *pkhex = json_string_value(json_object_get(json_object_get(g, "publicKey"), "pk"));
		uint8_t pub[32];

		assert_int_equal(eakte_hex__decode(pub, 32, pkhex, strlen(pkhex)), 0);
		json_array_foreach(json_object_get(g, "tests"), j, t) {
			const char *msghex = json_string_value(json_object_get(t, "msg"));
			const char *sighex = json_string_value(json_object_get(t, "sig"));
			const char *result = json_string_value(json_object_get(t, "result"));
			size_t mlen = strlen(msghex) / 2;
			uint8_t *msg = malloc(mlen + 1), sig[64];
			int rc;

			assert_int_equal(eakte_hex__decode(msg, mlen, msghex, strlen(msghex)), 0);
			if (strlen(sighex) != 128) {
				/* A signature that is not 64 bytes cannot even be passed in. */
				assert_string_equal(result, "invalid");
				rc = EAKTE_ESIGNATURE;
			} else {
				assert_int_equal(eakte_hex__decode(sig, 64, sighex, 128), 0);
				rc = eakte_key__verify_raw(pub, msg, mlen, sig);
			}
			if (strcmp(result, "valid") == 0) {
				if (rc != 0)
					fail_msg("tcId %lld: valid signature rejected", (long long)json_integer_value(json_object_get(t, "tcId")));
			} else {
				if (rc == 0)
					fail_msg("tcId %lld: invalid signature accepted", (long long)json_integer_value(json_object_get(t, "tcId")));
				invalid++;
			}
			free(msg);
			ran++;
		}
	}
	print_message("wycheproof ed25519: %zu vectors, %zu must be rejected\n", ran, invalid);
	assert_true(ran >= 150 && invalid > 0);
	json_decref(d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wycheproof),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	return cmocka_run_group_tests_name("vectors_ed25519", tests, NULL, NULL);
}
