/* Unit tests of lib/bag.c, the BagIt 1.0 validator: bags built in memory,
 * one rule of RFC 8493 broken at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bag.h"
#include "encode.h"

#define BAGIT "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

static void add(eakte_bag *b, const char *path, const char *data)
{
	assert_int_equal(eakte_bag__begin(b, path, strncmp(path, "data/", 5) != 0), 0);
	assert_int_equal(eakte_bag__update(b, data, strlen(data)), 0);
	assert_int_equal(eakte_bag__end(b), 0);
}

static void line(char *out, size_t n, const char *data, const char *path)
{
	uint8_t h[32];
	char hex[65];
	assert_int_equal(eakte_sha256__buf(h, data, strlen(data)), 0);
	eakte_hex__encode(hex, h, 32);
	snprintf(out, n, "%s  %s\n", hex, path);
}

/* A valid bag with data/a.txt and data/sub dir/b.txt; `mutate` may change it. */
static int build(const char *bagit, const char *extra_manifest_line, const char *bag_info, int drop_b,
	const char *extra_file)
{
	eakte_bag b;
	char l1[256], l2[256], manifest[1024], tl[256], tm[1024];
	int rc;

	assert_int_equal(eakte_bag__init(&b, EAKTE_BAG_ALL, 100, 1 << 20), 0);
	add(&b, "bagit.txt", bagit);
	add(&b, "data/a.txt", "hello\n");
	if (!drop_b)
		add(&b, "data/sub dir/b.txt", "world\n");
	if (extra_file)
		add(&b, extra_file, "x");
	line(l1, sizeof(l1), "hello\n", "data/a.txt");
	line(l2, sizeof(l2), "world\n", "data/sub dir/b.txt");
	snprintf(manifest, sizeof(manifest), "%s%s%s", l1, l2, extra_manifest_line ? extra_manifest_line : "");
	add(&b, "manifest-sha256.txt", manifest);
	if (bag_info)
		add(&b, "bag-info.txt", bag_info);
	line(tl, sizeof(tl), manifest, "manifest-sha256.txt");
	snprintf(tm, sizeof(tm), "%s", tl);
	add(&b, "tagmanifest-sha256.txt", tm);
	rc = eakte_bag__validate(&b);
	eakte_bag__free(&b);
	return rc;
}

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(build(BAGIT, NULL, NULL, 0, NULL), 0);
	assert_int_equal(build("BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n", NULL, NULL, 0, NULL), 0);
	assert_int_equal(build(BAGIT, NULL, "Source-Organization: Stadt\n  Musterstadt\nPayload-Oxum: 12.2\n", 0, NULL), 0);
	/* Tag files outside data/ need not be listed anywhere. */
	assert_int_equal(build(BAGIT, NULL, NULL, 0, "notes/readme.txt"), 0);
}

static void test_bagit_txt(void **state)
{
	(void)state;
	assert_int_equal(build("BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build("BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "0.97 is not supported"));
	assert_int_equal(build("\xef\xbb\xbf" BAGIT, NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "byte order mark"));
	assert_int_equal(build("Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build("BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build(BAGIT "Extra: x\n", NULL, NULL, 0, NULL), EAKTE_EVERIFY);
}

static void test_manifest(void **state)
{
	char dup[256];

	(void)state;
	/* A listed file that is missing. */
	assert_int_equal(build(BAGIT, NULL, NULL, 1, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "data/sub dir/b.txt, which is not in the bag"));
	/* A payload file not listed. */
	assert_int_equal(build(BAGIT, NULL, NULL, 0, "data/extra.txt"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "payload file data/extra.txt is not listed"));
	/* The same path twice, even with the same checksum. */
	line(dup, sizeof(dup), "hello\n", "data/a.txt");
	assert_int_equal(build(BAGIT, dup, NULL, 0, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "twice"));
	/* A wrong checksum names expected and actual. */
	assert_int_equal(build(BAGIT, "0000000000000000000000000000000000000000000000000000000000000000  data/x\n", NULL, 0, "data/x"),
		EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "expected=0000"));
	/* Traversal in a manifest line. */
	assert_int_equal(build(BAGIT, "0000000000000000000000000000000000000000000000000000000000000000  data/../bagit.txt\n", NULL, 0, NULL),
		EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), ".."));
	/* A tag file in a payload manifest. */
	assert_int_equal(build(BAGIT, "0000000000000000000000000000000000000000000000000000000000000000  bagit.txt\n", NULL, 0, NULL),
		EAKTE_EVERIFY);
	/* Malformed line. */
	assert_int_equal(build(BAGIT, "abc\n", NULL, 0, NULL), EAKTE_EVERIFY);
}

static void test_bag_info(void **state)
{
	(void)state;
	assert_int_equal(build(BAGIT, NULL, "Payload-Oxum: 13.2\n", 0, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "Payload-Oxum expected=13.2 actual=12.2"));
	assert_int_equal(build(BAGIT, NULL, " continuation first\n", 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build(BAGIT, NULL, "no colon here\n", 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build(BAGIT, NULL, "Label :value\n", 0, NULL), EAKTE_EVERIFY);
	assert_int_equal(build(BAGIT, NULL, "Bad: \xff\n", 0, NULL), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "UTF-8"));
}

static void test_other_files(void **state)
{
	(void)state;
	assert_int_equal(build(BAGIT, NULL, NULL, 0, "fetch.txt"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "fetch.txt"));
	assert_int_equal(build(BAGIT, NULL, NULL, 0, "manifest-sha3.txt"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "unsupported checksum algorithm"));
	/* Duplicates of a member name. */
	assert_int_equal(build(BAGIT, NULL, NULL, 0, "data/a.txt"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "occurs twice"));
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(eakte_bag__check_name("data/ok.txt"), 0);
	assert_int_equal(eakte_bag__check_name("data/\xc3\xa4.txt"), 0);
	assert_int_equal(eakte_bag__check_name("/etc/passwd"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "absolute"));
	assert_int_equal(eakte_bag__check_name("data/../../x"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "traversal"));
	assert_int_equal(eakte_bag__check_name(".."), EAKTE_EVERIFY);
	assert_int_equal(eakte_bag__check_name("data//x"), EAKTE_EVERIFY);
	assert_int_equal(eakte_bag__check_name("./data/x"), EAKTE_EVERIFY);
	assert_int_equal(eakte_bag__check_name("data/\xff\xfe"), EAKTE_EVERIFY);
	assert_non_null(strstr(eakte_error_last(), "\\xff\\xfe"));
	assert_non_null(strstr(eakte_error_last(), "UTF-8"));
	assert_int_equal(eakte_bag__check_name("data/a\nb"), EAKTE_EVERIFY);
	assert_int_equal(eakte_bag__check_name(""), EAKTE_EVERIFY);
}

/* Names in messages: umlauts readable, everything that could fool a
 * terminal escaped. */
static void test_printable(void **state)
{
	char out[128];

	(void)state;
	eakte_bag__printable(out, sizeof(out), "data/Anh\xc3\xb6rung Sch\xc3\xa4" "fer.txt");
	assert_string_equal(out, "data/Anh\xc3\xb6rung Sch\xc3\xa4" "fer.txt");
	/* C1 control U+0085, right-to-left override U+202E, an overlong '/',
	 * a lone continuation byte, a surrogate, a backslash, a tab */
	eakte_bag__printable(out, sizeof(out), "a\xc2\x85" "b\xe2\x80\xae" "c\xc0\xaf" "d\x80" "e\xed\xa0\x80" "f\\\t");
	assert_string_equal(out, "a\\xc2\\x85b\\xe2\\x80\\xaec\\xc0\\xafd\\x80e\\xed\\xa0\\x80f\\x5c\\x09");
	/* a short buffer never ends in the middle of a character */
	eakte_bag__printable(out, 14, "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4");
	assert_true(strlen(out) % 2 == 0 && strlen(out) < 14);
}

static void test_limits(void **state)
{
	eakte_bag b;
	char big[4096];

	(void)state;
	/* Member count. */
	assert_int_equal(eakte_bag__init(&b, EAKTE_BAG_SHA256, 2, 1 << 20), 0);
	add(&b, "data/1", "1");
	add(&b, "data/2", "2");
	assert_int_equal(eakte_bag__begin(&b, "data/3", 0), EAKTE_EVERIFY);
	eakte_bag__free(&b);
	/* Kept bytes. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(eakte_bag__init(&b, EAKTE_BAG_SHA256, 10, 100), 0);
	assert_int_equal(eakte_bag__begin(&b, "tag.txt", 1), 0);
	assert_int_equal(eakte_bag__update(&b, big, strlen(big)), EAKTE_EVERIFY);
	eakte_bag__free(&b);
	/* Unkept members do not count. */
	assert_int_equal(eakte_bag__init(&b, EAKTE_BAG_SHA256, 10, 100), 0);
	assert_int_equal(eakte_bag__begin(&b, "data/big", 0), 0);
	assert_int_equal(eakte_bag__update(&b, big, strlen(big)), 0);
	assert_int_equal(eakte_bag__end(&b), 0);
	eakte_bag__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bagit_txt),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_bag_info),
		cmocka_unit_test(test_other_files),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_printable),
	};
	return cmocka_run_group_tests_name("unit_bag", tests, NULL, NULL);
}
