/* Unit tests: MIME detection (lib/mime.c).  The fast paths must name what
 * libmagic names for the same bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "mime.h"

static const char *libmagic(const void *buf, size_t len)
{
	static char out[128];
	magic_t m = magic_open(MAGIC_MIME_TYPE);
	const char *t;

	assert_non_null(m);
	assert_int_equal(magic_load(m, NULL), 0);
	t = magic_buffer(m, buf, len);
	snprintf(out, sizeof(out), "%s", t ? t : "?");
	magic_close(m);
	return out;
}

static void check(const char *what, const void *buf, size_t len, const char *expect)
{
	eakte_mime *m;
	char got[EAKTE_MIME_MAX];

	assert_int_equal(eakte_mime__new(&m), 0);
	assert_int_equal(eakte_mime__detect(m, buf, len, got), 0);
	eakte_mime__free(m);
	if (expect != NULL && strcmp(got, expect) != 0)
		fail_msg("%s: detected %s, expected %s", what, got, expect);
	if (strcmp(got, libmagic(buf, len)) != 0 && len > 0)
		fail_msg("%s: eakte says %s, libmagic says %s", what, got, libmagic(buf, len));
}

static void test_prose_agrees_with_libmagic(void **state)
{
	static const char *const texts[] = {
		"Sehr geehrte Frau M\xc3\xbcller,\nIhr Antrag vom 3. November wurde genehmigt.\n",
		"Stadt Musterstadt \xe2\x80\x93 Bauordnungsamt\r\nAktenzeichen: 32.10.02-2026/0007\r\n",
		"1. Beschluss des Stadtrats\n\tGr\xc3\xb6\xc3\x9f" "e und Ma\xc3\x9f\n",
		"Hello world",
		"\xc3\x84nderungsbescheid\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(texts); i++)
		check(texts[i], texts[i], strlen(texts[i]), "text/plain");
}

static void test_not_prose_goes_to_libmagic(void **state)
{
	static const char *const texts[] = {
		"Received: from mail.example.org\nFrom: a@example.org\nTo: b@example.org\nSubject: Antrag\n\nText\n",
		"From a@example.org Mon Nov  3 10:00:00 2026\nFrom: a@example.org\n\nText\n",
		"<?xml version=\"1.0\"?>\n<eingang/>\n",
		"<html><body>x</body></html>\n",
		"#!/bin/sh\necho hi\n",
		"{\\rtf1\\ansi Hallo}\n",
		"%!PS-Adobe-3.0\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(texts); i++)
		check(texts[i], texts[i], strlen(texts[i]), NULL);
}

static void test_signatures(void **state)
{
	uint8_t buf[64];

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	memcpy(buf, "%PDF-1.7\n", 9);
	check("pdf", buf, sizeof(buf), "application/pdf");
	memcpy(buf, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0", 29);
	check("png", buf, sizeof(buf), "image/png");
	memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
	memset(buf + 8, 0x11, 20);
	check("png signature without IHDR", buf, sizeof(buf), NULL);
	memcpy(buf, "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01", 13);
	check("jpeg", buf, sizeof(buf), "image/jpeg");
	memcpy(buf, "II*\0\x08\0\0\0", 8);
	check("tiff", buf, sizeof(buf), "image/tiff");
	check("binary", "\x00\x01\x02\x03\xff", 5, NULL);
	check("latin-1", "Stra\xdf" "e\n", 7, NULL);
}

static void test_compressed_types(void **state)
{
	(void)state;
	assert_true(eakte_mime__is_compressed("application/pdf"));
	assert_true(eakte_mime__is_compressed("image/jpeg"));
	assert_true(eakte_mime__is_compressed("video/mp4"));
	assert_false(eakte_mime__is_compressed("text/plain"));
	assert_false(eakte_mime__is_compressed("text/xml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prose_agrees_with_libmagic),
		cmocka_unit_test(test_not_prose_goes_to_libmagic),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_compressed_types),
	};
	return cmocka_run_group_tests_name("unit_mime", tests, NULL, NULL);
}
