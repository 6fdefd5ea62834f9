/* Unit tests: text extraction for the full-text index (lib/extract.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "extract.h"

#define PDFTOTEXT "/usr/bin/pdftotext"

/* Scripts that stand in for pdftotext live here (made by group_setup). */
static char tmpdir[64];

/* ---- helpers ---- */

typedef struct {
	const char *data;
	size_t len, pos;
	size_t chunk;    /* largest read handed out; 0: as asked */
	size_t total;    /* bytes handed out */
	int endless;     /* an infinite document of 'a' */
	int fail;        /* fail once pos reaches fail_at */
	size_t fail_at;
} memdoc;

static long mem_read(void *ctx, void *buf, size_t len)
{
	memdoc *d = ctx;
	size_t n;

	if (d->fail && d->pos >= d->fail_at)
		return eakte_error__set(EAKTE_EIO, "test: cannot read the document");
	if (d->endless) {
		n = d->chunk && d->chunk < len ? d->chunk : len;
		memset(buf, 'a', n);
	} else {
		n = d->len - d->pos;
		if (n > len)
			n = len;
		if (d->chunk && n > d->chunk)
			n = d->chunk;
		memcpy(buf, d->data + d->pos, n);
	}
	d->pos += n;
	d->total += n;
	return (long)n;
}

static int extract(eakte_extract_result *res, const char *mime, const char *data, size_t len,
	size_t chunk, const eakte_extract_limits *lim)
{
	memdoc d;

	memset(&d, 0, sizeof(d));
	d.data = data;
	d.len = len;
	d.chunk = chunk;
	return eakte_extract__run(res, mime, mem_read, &d, lim);
}

static int extract_str(eakte_extract_result *res, const char *mime, const char *s,
	const eakte_extract_limits *lim)
{
	return extract(res, mime, s, strlen(s), 0, lim);
}

static void assert_ok_text(const eakte_extract_result *res, const char *expect)
{
	assert_int_equal(res->status, EAKTE_EXTRACT_OK);
	assert_non_null(res->text);
	assert_string_equal(res->text, expect);
	assert_int_equal(res->len, strlen(expect));
	assert_int_equal(res->truncated, 0);
	assert_string_equal(res->reason, "");
}

/* Every result must be printable UTF-8: checked independently of the
 * library's own decoder. */
static void assert_clean_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	assert_int_equal(strlen(s), len);
	while (i < len) {
		size_t k = p[i] < 0x80 ? 0 : p[i] >= 0xF0 ? 3 : p[i] >= 0xE0 ? 2 : 1;
		size_t j;

		if (k == 0)
			assert_true(p[i] >= 0x20 ? p[i] != 0x7F : (p[i] == '\n' || p[i] == '\t'));
		else
			assert_true(p[i] >= 0xC2 && p[i] <= 0xF4);
		for (j = 1; j <= k; j++) {
			assert_true(i + j < len);
			assert_int_equal(p[i + j] & 0xC0, 0x80);
		}
		i += k + 1;
	}
}

/* Route this process's stderr into a file while libxml2 runs, to show it
 * prints nothing. */
static int stderr_begin(void)
{
	char path[128];
	int saved, fd;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

static off_t stderr_end(int saved)
{
	off_t size;

	fflush(stderr);
	size = lseek(2, 0, SEEK_END);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	return size;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *write_script(const char *name, const char *body)
{
	static char paths[16][128];
	static int next;
	char *path = paths[next++ % 16];
	FILE *f;

	snprintf(path, 128, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

/* A minimal PDF 1.4 with one page showing `text`, xref offsets computed. */
static size_t make_pdf(char *out, size_t cap, const char *text)
{
	char stream[256];
	size_t off[6], n = 0, xref;
	int sl, i;

	sl = snprintf(stream, sizeof(stream), "BT /F1 24 Tf 72 720 Td (%s) Tj ET", text);
	n += (size_t)snprintf(out + n, cap - n, "%%PDF-1.4\n");
	off[1] = n;
	n += (size_t)snprintf(out + n, cap - n, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = n;
	n += (size_t)snprintf(out + n, cap - n,
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	off[3] = n;
	n += (size_t)snprintf(out + n, cap - n,
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
		"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>\nendobj\n");
	off[4] = n;
	n += (size_t)snprintf(out + n, cap - n, "4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		sl, stream);
	off[5] = n;
	n += (size_t)snprintf(out + n, cap - n,
		"5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
	xref = n;
	n += (size_t)snprintf(out + n, cap - n, "xref\n0 6\n0000000000 65535 f \n");
	for (i = 1; i <= 5; i++)
		n += (size_t)snprintf(out + n, cap - n, "%010zu 00000 n \n", off[i]);
	n += (size_t)snprintf(out + n, cap - n, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		xref);
	assert_true(n < cap);
	return n;
}

/* ---- text/ * ---- */

static void test_utf8_text(void **state)
{
	const char *doc = "Grüße aus Köln\n\tTab € 𝄞 end";
	eakte_extract_result res;

	(void)state;
	/* One byte per read: characters are split between reads. */
	assert_int_equal(extract(&res, "text/plain", doc, strlen(doc), 1, NULL), 0);
	assert_ok_text(&res, doc);
	eakte_extract__result_free(&res);

	assert_int_equal(extract_str(&res, "Text/CSV; charset=utf-8", "a;b\n1;2\n", NULL), 0);
	assert_ok_text(&res, "a;b\n1;2\n");
	eakte_extract__result_free(&res);

	/* A byte-order mark is not text. */
	assert_int_equal(extract_str(&res, "text/markdown", "\xEF\xBB\xBF# Titel", NULL), 0);
	assert_ok_text(&res, "# Titel");
	eakte_extract__result_free(&res);

	/* Empty documents give empty text, not NULL. */
	assert_int_equal(extract_str(&res, "text/plain", "", NULL), 0);
	assert_ok_text(&res, "");
	eakte_extract__result_free(&res);
}

static void test_windows_1252_text(void **state)
{
	eakte_extract_result res;
	char *doc;
	size_t i;

	(void)state;
	assert_int_equal(extract_str(&res, "text/plain", "Gr\xFC\xDF" "e, \xC4rger, \xF6l: 5 \x80 \x84ja\x93",
		NULL), 0);
	assert_ok_text(&res, "Grüße, Ärger, öl: 5 € „ja“");
	eakte_extract__result_free(&res);

	/* Decided for the whole document: valid UTF-8 at the start does not
	 * make the start UTF-8 when a Windows-1252 byte follows far later
	 * (and in a later read). */
	doc = malloc(100001);
	assert_non_null(doc);
	memcpy(doc, "K\xC3\xB6ln", 5);
	for (i = 5; i < 99999; i++)
		doc[i] = 'x';
	doc[99999] = '\xE4';
	doc[100000] = '\0';
	assert_int_equal(extract(&res, "text/plain", doc, 100000, 4096, NULL), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_memory_equal(res.text, "K\xC3\x83\xC2\xB6ln", 7);
	assert_string_equal(res.text + res.len - 3, "x\xC3\xA4");
	assert_clean_utf8(res.text, res.len);
	eakte_extract__result_free(&res);
	free(doc);
}

static void test_control_characters(void **state)
{
	static const char doc[] = "a\0b\x01" "c\rd\x7F" "e\xC2\x85" "f\ng\th\x0C";
	eakte_extract_result res;

	(void)state;
	assert_int_equal(extract(&res, "text/plain", doc, sizeof(doc) - 1, 0, NULL), 0);
	assert_ok_text(&res, "a b c d e f\ng\th ");
	eakte_extract__result_free(&res);

	/* In Windows-1252 too (0xFC makes it so); 0x81 is unassigned. */
	assert_int_equal(extract(&res, "text/plain", "\xFC\0\x81\x1B!", 5, 0, NULL), 0);
	assert_ok_text(&res, "ü   !");
	eakte_extract__result_free(&res);
}

static void test_truncation_at_character_boundary(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;

	(void)state;
	/* "€" (3 bytes) occupies bytes 8..10 and straddles the limit of 10. */
	lim.max_text = 10;
	assert_int_equal(extract(&res, "text/plain", "abcdefgh€xyz", 14, 3, &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_string_equal(res.text, "abcdefgh");
	assert_int_equal(res.len, 8);
	assert_int_equal(res.truncated, 1);
	eakte_extract__result_free(&res);

	lim.max_text = 11;
	assert_int_equal(extract(&res, "text/plain", "abcdefgh€xyz", 14, 0, &lim), 0);
	assert_string_equal(res.text, "abcdefgh€");
	assert_int_equal(res.truncated, 1);
	eakte_extract__result_free(&res);

	/* Windows-1252 grows on decoding: "ä" becomes 2 bytes and does not fit. */
	lim.max_text = 4;
	assert_int_equal(extract(&res, "text/plain", "abc\xE4" "d", 5, 0, &lim), 0);
	assert_string_equal(res.text, "abc");
	assert_int_equal(res.truncated, 1);
	eakte_extract__result_free(&res);

	/* Exactly max_text bytes is not truncated. */
	lim.max_text = 5;
	assert_int_equal(extract(&res, "text/plain", "abcde", 5, 0, &lim), 0);
	assert_ok_text(&res, "abcde");
	eakte_extract__result_free(&res);
}

/* Memory and reading are bounded by max_text, not by the document. */
static void test_endless_text_stops_reading(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	memdoc d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.endless = 1;
	lim.max_text = 1000;
	assert_int_equal(eakte_extract__run(&res, "text/plain", mem_read, &d, &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_int_equal(res.len, 1000);
	assert_int_equal(res.truncated, 1);
	assert_true(d.total <= 1004);
	eakte_extract__result_free(&res);
}

static void test_read_errors_are_returned(void **state)
{
	static const char *types[] = { "text/plain", "application/xml", "application/pdf" };
	eakte_extract_result res;
	size_t i;
	memdoc d;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(types); i++) {
		memset(&d, 0, sizeof(d));
		d.data = "<a>some text that is never read to the end</a>";
		d.len = strlen(d.data);
		d.chunk = 4;
		d.fail = 1;
		d.fail_at = 8;
		assert_int_equal(eakte_extract__run(&res, types[i], mem_read, &d, NULL), EAKTE_EIO);
		assert_null(res.text);
		assert_string_equal(eakte_error_last(), "test: cannot read the document");
		eakte_extract__result_free(&res);
	}
}

static void test_no_extractor(void **state)
{
	eakte_extract_result res;
	memdoc d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.data = "\x89PNG";
	d.len = 4;
	assert_int_equal(eakte_extract__run(&res, "image/png", mem_read, &d, NULL), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_NONE);
	assert_string_equal(res.reason, "no text extractor for image/png");
	assert_null(res.text);
	assert_int_equal(d.total, 0);
	eakte_extract__result_free(&res);

	assert_int_equal(eakte_extract__run(&res, NULL, mem_read, &d, NULL), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_NONE);
	eakte_extract__result_free(&res);
	eakte_extract__result_free(NULL);
}

/* ---- XML ---- */

static void test_xml_text(void **state)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<xdomea:NachrichtenKopf xmlns:xdomea=\"urn:xoev-de:xdomea:schema:3.0.0\">\n"
		"  <xdomea:Betreff>Bauantrag  Müller</xdomea:Betreff>\n"
		"  <xdomea:Notiz><![CDATA[a < b & c]]></xdomea:Notiz>\n"
		"  <x a=\"attribute text is not indexed\">Gr&#xFC;&#223;e &amp; mehr</x><!-- no -->"
		"<?pi no?><e/>Ende\n"
		"</xdomea:NachrichtenKopf>\n";
	eakte_extract_result res;
	int saved;

	(void)state;
	saved = stderr_begin();
	assert_int_equal(extract(&res, "application/xdomea+xml", doc, strlen(doc), 3, NULL), 0);
	assert_int_equal(stderr_end(saved), 0);
	assert_ok_text(&res, "Bauantrag  Müller a < b & c Grüße & mehr Ende\n");
	eakte_extract__result_free(&res);

	/* Declared Latin-1 is converted. */
	assert_int_equal(extract_str(&res, "text/xml",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>K\xF6ln</a>", NULL), 0);
	assert_ok_text(&res, "Köln");
	eakte_extract__result_free(&res);

	/* Control characters from character references become spaces. */
	assert_int_equal(extract_str(&res, "application/xml", "<a>x&#x85;y&#13;z</a>", NULL), 0);
	assert_ok_text(&res, "x y z");
	eakte_extract__result_free(&res);
}

static void test_xml_truncated(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	memdoc d;
	char *doc;
	size_t i, n = 0;

	(void)state;
	doc = malloc(1 << 20);
	assert_non_null(doc);
	n += (size_t)sprintf(doc, "<r>");
	for (i = 0; i < 50000; i++)
		n += (size_t)sprintf(doc + n, "<p>Wort%zu</p>", i);
	n += (size_t)sprintf(doc + n, "</r>");
	lim.max_text = 100;
	memset(&d, 0, sizeof(d));
	d.data = doc;
	d.len = n;
	assert_int_equal(eakte_extract__run(&res, "application/xml", mem_read, &d, &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_int_equal(res.truncated, 1);
	assert_true(res.len <= 100 && res.len > 90);
	assert_memory_equal(res.text, "Wort0 Wort1 Wort2", 17);
	/* The parser stopped early. */
	assert_true(d.total < n / 2);
	eakte_extract__result_free(&res);
	free(doc);
}

static void test_xml_external_entities_not_expanded(void **state)
{
	static const char *docs[] = {
		/* external general entity */
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
		"<r>before &xxe; after</r>\n",
		/* external parameter entity in the internal subset */
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
		"<r>before after</r>\n",
		/* external DTD */
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE r SYSTEM \"/etc/passwd\">\n"
		"<r>before after</r>\n",
		/* network */
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE r [<!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">]>\n"
		"<r>before &net; after</r>\n",
		/* XInclude is not processed */
		"<r xmlns:xi=\"http://www.w3.org/2001/XInclude\">before "
		"<xi:include href=\"/etc/passwd\" parse=\"text\"/> after</r>\n",
	};
	eakte_extract_result res;
	size_t i;
	int saved;

	(void)state;
	assert_int_equal(access("/etc/passwd", R_OK), 0);
	for (i = 0; i < EAKTE_ARRAY_SIZE(docs); i++) {
		saved = stderr_begin();
		assert_int_equal(extract_str(&res, "application/xml", docs[i], NULL), 0);
		assert_int_equal(stderr_end(saved), 0);
		if (res.status == EAKTE_EXTRACT_OK) {
			assert_null(strstr(res.text, "root:"));
			assert_non_null(strstr(res.text, "before"));
			assert_non_null(strstr(res.text, "after"));
		}
		assert_null(strstr(res.reason, "root:"));
		eakte_extract__result_free(&res);
	}
}

static void test_xml_billion_laughs(void **state)
{
	char doc[4096];
	size_t n = 0;
	int i, j;
	double t0;
	struct rusage before, after;
	eakte_extract_result res;

	(void)state;
	n += (size_t)snprintf(doc + n, sizeof(doc) - n,
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
	for (i = 1; i <= 9; i++) {
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<!ENTITY lol%d \"", i);
		for (j = 0; j < 10; j++)
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&lol%d;", i - 1);
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\">\n");
	}
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]>\n<lolz>a &lol9; b</lolz>\n");
	assert_true(n < sizeof(doc));

	getrusage(RUSAGE_SELF, &before);
	t0 = now_s();
	assert_int_equal(extract(&res, "application/xml", doc, n, 0, NULL), 0);
	assert_true(now_s() - t0 < 2.0);
	getrusage(RUSAGE_SELF, &after);
	/* Expanded, it would be 3 GB; allow 64 MiB of peak growth. */
	assert_true(after.ru_maxrss - before.ru_maxrss < 64 * 1024);
	if (res.status == EAKTE_EXTRACT_OK)
		assert_true(res.len < 100);
	eakte_extract__result_free(&res);
}

static void test_xml_malformed(void **state)
{
	eakte_extract_result res;
	int saved;

	(void)state;
	saved = stderr_begin();
	assert_int_equal(extract_str(&res, "application/xml", "<a>\n<b>x</b>\n<c>text</d>\n</a>\n", NULL), 0);
	assert_int_equal(stderr_end(saved), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_null(res.text);
	assert_int_equal(strncmp(res.reason, "XML is not well-formed (line 3: ", 32), 0);
	assert_non_null(strstr(res.reason, "mismatch"));
	assert_clean_utf8(res.reason, strlen(res.reason));
	eakte_extract__result_free(&res);

	saved = stderr_begin();
	assert_int_equal(extract_str(&res, "application/xml", "", NULL), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "XML is not well-formed (the document is empty)");
	eakte_extract__result_free(&res);
	assert_int_equal(extract_str(&res, "application/xml", "not xml at all", NULL), 0);
	assert_int_equal(stderr_end(saved), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_int_equal(strncmp(res.reason, "XML is not well-formed", 22), 0);
	eakte_extract__result_free(&res);

	/* Hostile bytes quoted in the message come out sanitised. */
	saved = stderr_begin();
	assert_int_equal(extract_str(&res, "application/xml", "<a\x1B[31m>x</a>", NULL), 0);
	assert_int_equal(stderr_end(saved), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_null(strchr(res.reason, '\x1B'));
	eakte_extract__result_free(&res);
}

/* ---- PDF ---- */

static void test_pdf_real(void **state)
{
	eakte_extract_result res;
	char pdf[4096];
	size_t n;

	(void)state;
	if (access(PDFTOTEXT, X_OK) != 0)
		skip();
	n = make_pdf(pdf, sizeof(pdf), "Hallo eAkte PDF");
	assert_int_equal(extract(&res, "application/pdf", pdf, n, 100, NULL), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_non_null(strstr(res.text, "Hallo eAkte PDF"));
	assert_int_equal(res.truncated, 0);
	assert_clean_utf8(res.text, res.len);
	eakte_extract__result_free(&res);
}

static void test_pdf_garbage(void **state)
{
	eakte_extract_result res;

	(void)state;
	if (access(PDFTOTEXT, X_OK) != 0)
		skip();
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\nthis is not really a PDF\n", NULL),
		0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_null(res.text);
	assert_int_equal(strncmp(res.reason, "pdftotext failed with exit status ", 34), 0);
	eakte_extract__result_free(&res);
}

static void test_pdf_not_installed(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;

	(void)state;
	lim.pdftotext = "/nonexistent/bin/pdftotext";
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "pdftotext is not installed (install poppler-utils)");
	eakte_extract__result_free(&res);
}

static void test_pdf_no_temporary_file(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	(void)state;
	lim.pdftotext = write_script("never", "echo should not run; exit 7");
	setenv("TMPDIR", "/nonexistent-eakte-tmp", 1);
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	if (old != NULL)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason,
		"cannot create a temporary file in /nonexistent-eakte-tmp: No such file or directory");
	eakte_extract__result_free(&res);
}

static void test_pdf_too_large(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	memdoc d;

	(void)state;
	lim.max_input = 100;
	lim.pdftotext = write_script("never", "echo should not run; exit 7");
	memset(&d, 0, sizeof(d));
	d.endless = 1;
	d.chunk = 7;
	assert_int_equal(eakte_extract__run(&res, "application/pdf", mem_read, &d, &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "the document is larger than the 100 bytes extraction limit");
	assert_true(d.total <= 107);
	eakte_extract__result_free(&res);
}

static void test_extractor_timeout(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	double t0, t;

	(void)state;
	lim.timeout_ms = 300;
	lim.pdftotext = write_script("sleeper", "echo started; sleep 60");
	t0 = now_s();
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	t = now_s() - t0;
	assert_true(t >= 0.29 && t < 2.0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "pdftotext did not finish within 0.3 s");
	assert_null(res.text);
	eakte_extract__result_free(&res);

	/* Output closed, but still running: the deadline holds as well. */
	lim.pdftotext = write_script("closer", "exec >&- 2>&-; sleep 60");
	t0 = now_s();
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_true(now_s() - t0 < 2.0);
	assert_string_equal(res.reason, "pdftotext did not finish within 0.3 s");
	eakte_extract__result_free(&res);
}

/* 1 if process `pid` is gone or a zombie. */
static int process_dead(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

/* A timeout kills what the extractor started too, not only the extractor. */
static void test_extractor_timeout_kills_group(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	char script[256], path[400];
	struct dirent *e;
	long pid = 0;
	DIR *dir;
	int i;

	(void)state;
	/* The background sleep announces its pid as an empty directory's name
	 * (RLIMIT_FSIZE=0 forbids writing a file). */
	snprintf(script, sizeof(script), "sleep 60 & mkdir %s/bg.$!; wait", tmpdir);
	lim.timeout_ms = 300;
	lim.pdftotext = write_script("forker", script);
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_string_equal(res.reason, "pdftotext did not finish within 0.3 s");
	eakte_extract__result_free(&res);
	dir = opendir(tmpdir);
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (strncmp(e->d_name, "bg.", 3) == 0) {
			pid = strtol(e->d_name + 3, NULL, 10);
			snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
			assert_int_equal(rmdir(path), 0);
		}
	closedir(dir);
	assert_true(pid > 0);
	for (i = 0; i < 100 && !process_dead(pid); i++)
		usleep(10000);
	assert_true(process_dead(pid));
}

static void test_extractor_crash(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;

	(void)state;
	lim.pdftotext = write_script("crasher", "kill -SEGV $$");
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "pdftotext crashed (signal 11)");
	eakte_extract__result_free(&res);
}

static void test_extractor_exit_status(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;

	(void)state;
	lim.pdftotext = write_script("exit3", "exit 3");
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "pdftotext failed with exit status 3 (error related to PDF permissions)");
	eakte_extract__result_free(&res);

	/* The first line of stderr, sanitised, and nothing of stdout. */
	lim.pdftotext = write_script("complain",
		"echo partial text; printf '\\n  Syntax Error\\033[1m: bad \\377 xref\\nsecond line\\n' >&2; exit 1");
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_int_equal(res.status, EAKTE_EXTRACT_FAILED);
	assert_string_equal(res.reason, "pdftotext failed with exit status 1: Syntax Error [1m: bad ? xref");
	assert_null(res.text);
	eakte_extract__result_free(&res);
}

static void test_extractor_output_truncated(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	double t0;

	(void)state;
	lim.max_text = 5000;
	lim.timeout_ms = 10000;
	lim.pdftotext = write_script("chatty", "while :; do echo 'Seite mit viel Text: äöü'; done");
	t0 = now_s();
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_true(now_s() - t0 < 5.0);
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_int_equal(res.truncated, 1);
	assert_true(res.len <= 5000 && res.len > 4990);
	assert_clean_utf8(res.text, res.len);
	assert_memory_equal(res.text, "Seite mit viel Text: äöü\n", 28);
	eakte_extract__result_free(&res);

	/* Invalid UTF-8 and form feeds in the output are cleaned. */
	lim.pdftotext = write_script("dirty", "printf 'a\\377b\\014c\\342\\202'");
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim), 0);
	assert_ok_text(&res, "a\xEF\xBF\xBD" "b c\xEF\xBF\xBD");
	eakte_extract__result_free(&res);
}

/* What the extractor process gets: arguments, environment, limits, the
 * document on fd 3, /dev/null on stdin, and no other descriptor. */
static void test_extractor_sandbox(void **state)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_result res;
	int fd;

	(void)state;
	fd = open("/dev/null", O_RDONLY); /* deliberately not close-on-exec */
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 50), 50);
	close(fd);
	setenv("EAKTE_TEST_SECRET", "leaked", 1);
	lim.max_memory = 512ull << 20;
	lim.timeout_ms = 5000;
	lim.pdftotext = write_script("probe",
		"echo \"args=$*\"\n"
		"echo \"env=$LC_ALL|$PATH|${HOME:-nohome}|${EAKTE_TEST_SECRET:-clean}\"\n"
		"echo \"limits=$(ulimit -v) $(ulimit -f) $(ulimit -c) $(ulimit -t)\"\n"
		"if [ -e /proc/$$/fd/50 ]; then echo fd50=open; else echo fd50=closed; fi\n"
		"echo \"doc=$(head -c 8 /dev/fd/3)\"\n"
		"echo \"stdin=$(cat)\"");
	assert_int_equal(extract_str(&res, "application/pdf", "%PDF-1.4\nbody\n", &lim), 0);
	close(50);
	unsetenv("EAKTE_TEST_SECRET");
	assert_int_equal(res.status, EAKTE_EXTRACT_OK);
	assert_non_null(strstr(res.text, "args=-q -enc UTF-8 -eol unix /dev/fd/3 -\n"));
	assert_non_null(strstr(res.text, "env=C.UTF-8|/usr/bin:/bin|nohome|clean\n"));
	assert_non_null(strstr(res.text, "limits=524288 0 0 6\n"));
	assert_non_null(strstr(res.text, "fd50=closed\n"));
	assert_non_null(strstr(res.text, "doc=%PDF-1.4\n"));
	assert_non_null(strstr(res.text, "stdin=\n"));
	eakte_extract__result_free(&res);
}

/* ---- threads ---- */

static void *worker(void *arg)
{
	eakte_extract_limits lim = EAKTE_EXTRACT_LIMITS_INIT;
	const char *script = arg;
	eakte_extract_result res;
	long bad = 0;
	int i;

	lim.pdftotext = script;
	for (i = 0; i < 10; i++) {
		if (extract_str(&res, "application/xml", "<a><b>x</a>", NULL) != 0 ||
		    res.status != EAKTE_EXTRACT_FAILED ||
		    strncmp(res.reason, "XML is not well-formed (line 1: ", 32) != 0)
			bad++;
		eakte_extract__result_free(&res);
		if (extract_str(&res, "application/xml", "<a>eins<b>zwei</b></a>", NULL) != 0 ||
		    res.status != EAKTE_EXTRACT_OK || strcmp(res.text, "eins zwei") != 0)
			bad++;
		eakte_extract__result_free(&res);
		if (extract_str(&res, "text/plain", "\xC4nderung", NULL) != 0 || res.status != EAKTE_EXTRACT_OK ||
		    strcmp(res.text, "Änderung") != 0)
			bad++;
		eakte_extract__result_free(&res);
		if (i % 3 == 0) {
			if (extract_str(&res, "application/pdf", "%PDF-1.4\n", &lim) != 0 ||
			    res.status != EAKTE_EXTRACT_OK || strcmp(res.text, "pdf text\n") != 0)
				bad++;
			eakte_extract__result_free(&res);
		}
	}
	return (void *)bad;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	const char *script;
	void *bad;
	long total = 0;
	int i, saved;

	(void)state;
	script = write_script("threaded", "cat /dev/fd/3 >/dev/null; echo pdf text");
	saved = stderr_begin();
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)script), 0);
	for (i = 0; i < 4; i++) {
		if (pthread_join(t[i], &bad) != 0)
			bad = (void *)-1;
		total += (long)bad;
	}
	/* Assert only with stderr back, so that cmocka's message shows. */
	assert_int_equal(stderr_end(saved), 0);
	assert_int_equal(total, 0);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eakte-extract-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	static const char *names[] = { "stderr", "never", "sleeper", "closer", "crasher", "exit3",
		"complain", "chatty", "dirty", "probe", "threaded", "forker" };
	char path[128];
	size_t i;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_text),
		cmocka_unit_test(test_windows_1252_text),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_truncation_at_character_boundary),
		cmocka_unit_test(test_endless_text_stops_reading),
		cmocka_unit_test(test_read_errors_are_returned),
		cmocka_unit_test(test_no_extractor),
		cmocka_unit_test(test_xml_text),
		cmocka_unit_test(test_xml_truncated),
		cmocka_unit_test(test_xml_external_entities_not_expanded),
		cmocka_unit_test(test_xml_billion_laughs),
		cmocka_unit_test(test_xml_malformed),
		cmocka_unit_test(test_pdf_real),
		cmocka_unit_test(test_pdf_garbage),
		cmocka_unit_test(test_pdf_not_installed),
		cmocka_unit_test(test_pdf_no_temporary_file),
		cmocka_unit_test(test_pdf_too_large),
		cmocka_unit_test(test_extractor_timeout),
		cmocka_unit_test(test_extractor_timeout_kills_group),
		cmocka_unit_test(test_extractor_crash),
		cmocka_unit_test(test_extractor_exit_status),
		cmocka_unit_test(test_extractor_output_truncated),
		cmocka_unit_test(test_extractor_sandbox),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("unit_extract", tests, group_setup, group_teardown);
}
