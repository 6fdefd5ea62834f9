/* Unit tests: canonical JSON (lib/cjson.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cjson.h"

static char *dump_text(const char *in)
{
	json_t *v;
	char *out;
	size_t len;

	assert_int_equal(eakte_cjson__parse(&v, in, strlen(in), 1 << 20), 0);
	assert_int_equal(eakte_cjson__dump(&out, &len, v), 0);
	assert_int_equal(len, strlen(out));
	json_decref(v);
	return out;
}

static void check(const char *in, const char *expected)
{
	char *out = dump_text(in);
	assert_string_equal(out, expected);
	free(out);
}

static void test_sorting_and_whitespace(void **state)
{
	(void)state;
	check("{ \"b\" : 1, \"a\" : [ true, false, null ], \"c\": {\"z\":\"\", \"y\":-5} }",
		"{\"a\":[true,false,null],\"b\":1,\"c\":{\"y\":-5,\"z\":\"\"}}");
	check("[]", "[]");
	check("{}", "{}");
	check("9007199254740993", "9007199254740993");
}

static void test_string_escapes(void **state)
{
	(void)state;
	/* RFC 8785: only " \ and control characters are escaped, lowercase hex */
	check("\"a\\\"b\\\\c\\/d\\u00e4\\u001f\\n\\t\\b\\f\\r\\u0001\"",
		"\"a\\\"b\\\\c/d\xc3\xa4\\u001f\\n\\t\\b\\f\\r\\u0001\"");
	check("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
}

static void test_utf16_key_order(void **state)
{
	(void)state;
	/* U+E000 sorts before U+1F600 in UTF-8 byte order, but after it in
	 * UTF-16 code units (0xE000 > 0xD83D), so the emoji key comes first. */
	check("{\"\\ue000\":1,\"\\ud83d\\ude00\":2}", "{\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
	check("{\"b\":1,\"aa\":2,\"a\":3}", "{\"a\":3,\"aa\":2,\"b\":1}");
}

static void test_rejections(void **state)
{
	json_t *v;

	(void)state;
	assert_int_equal(eakte_cjson__parse(&v, "{\"a\":1,\"a\":2}", 13, 100), EAKTE_EINVALID);
	assert_int_equal(eakte_cjson__parse(&v, "{\"a\":1.5}", 9, 100), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "real"));
	assert_int_equal(eakte_cjson__parse(&v, "\"a\\u0000b\"", 10, 100), EAKTE_EINVALID);
	assert_int_equal(eakte_cjson__parse(&v, "{\"a\":1} x", 9, 100), EAKTE_EINVALID);
	assert_int_equal(eakte_cjson__parse(&v, "{\"a\":1}", 7, 6), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "limit"));
	assert_int_equal(eakte_cjson__parse(&v, "\"\xff\"", 3, 100), EAKTE_EINVALID);
	assert_null(v);
}

static void test_canonical_check(void **state)
{
	json_t *v;
	const char *good = "{\"a\":1,\"b\":\"x\"}";

	(void)state;
	assert_int_equal(eakte_cjson__parse_canonical(&v, good, strlen(good), 100), 0);
	json_decref(v);
	assert_int_equal(eakte_cjson__parse_canonical(&v, "{\"b\":\"x\",\"a\":1}", 15, 100), EAKTE_EINVALID);
	assert_int_equal(eakte_cjson__parse_canonical(&v, "{\"a\": 1}", 8, 100), EAKTE_EINVALID);
	assert_int_equal(eakte_cjson__parse_canonical(&v, "{\"a\":\"\\u00e4\"}", 14, 100), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "canonical"));
}

static void test_real_refused_on_dump(void **state)
{
	json_t *v = json_pack("{s:f}", "x", 1.5);
	char *out;

	(void)state;
	assert_int_equal(eakte_cjson__dump(&out, NULL, v), EAKTE_EINVALID);
	assert_null(out);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorting_and_whitespace),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_utf16_key_order),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_canonical_check),
		cmocka_unit_test(test_real_refused_on_dump),
	};
	return cmocka_run_group_tests_name("unit_cjson", tests, NULL, NULL);
}
