/* The xdomea 0503 messages of lib/xdomea.c against the official xdomea
 * 3.0.0 XSD (KoSIT schemas, copied by Landesarchiv Thüringen's
 * xdomea_toolkit), with libxml2's schema validator.  The published sample
 * messages must validate (so the validator and schema set work), every
 * model in tests/vectors/xdomea/ must give a valid message, and messages
 * broken on purpose must not.  argv[1] is the vectors directory, argv[2]
 * the directory of the models.  tests/vectors/xmllint_xdomea.py repeats
 * the model check with the xmllint program. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "xdomea.h"

#define SCHEMES "xdomea/message_generation/schemes/xdomea_3.0.0"
#define XSD SCHEMES "/xdomea.xsd"

static const char *vectors, *models;
static xmlSchemaPtr schema;

/* Schema errors, collected for the failure message. */
static char errors[4096];

static void collect(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void collect(void *ctx, const char *fmt, ...)
{
	size_t n = strlen(errors);
	va_list ap;

	(void)ctx;
	if (n + 1 >= sizeof errors)
		return;
	va_start(ap, fmt);
	vsnprintf(errors + n, sizeof errors - n, fmt, ap);
	va_end(ap);
}

/* 0 if the document validates, else libxml2's result (errors in `errors`). */
static int validate(const char *xml, size_t len, const char *what)
{
	xmlSchemaValidCtxtPtr v;
	xmlDocPtr doc;
	int rc;

	errors[0] = '\0';
	doc = xmlReadMemory(xml, (int)len, what, NULL, XML_PARSE_NONET);
	if (doc == NULL)
		fail_msg("%s is not well-formed XML", what);
	v = xmlSchemaNewValidCtxt(schema);
	assert_non_null(v);
	xmlSchemaSetValidErrors(v, collect, collect, NULL);
	rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	xmlFreeDoc(doc);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int setup(void **state)
{
	char path[4096];
	xmlSchemaParserCtxtPtr p;

	(void)state;
	snprintf(path, sizeof path, "%s/%s", vectors, XSD);
	p = xmlSchemaNewParserCtxt(path);
	if (p == NULL)
		return -1;
	schema = xmlSchemaParse(p);
	xmlSchemaFreeParserCtxt(p);
	return schema == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	xmlSchemaFree(schema);
	return 0;
}

/* The published 0503 samples validate: the schema set is complete and
 * the validator accepts what it should. */
static void test_samples_validate(void **state)
{
	static const char *const samples[] = {
		"xdomea/message_generation/pattern/xdomea_3.0.0/xx_Aussonderung.Aussonderung.0503.xml",
		"xdomea/lavnrw-examples/v3.0.0/9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml",
	};
	char path[4096], *xml;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", vectors, samples[i]);
		xml = slurp(path, &len);
		if (validate(xml, len, samples[i]) != 0)
			fail_msg("sample %s does not validate: %s", samples[i], errors);
		free(xml);
	}
}

static json_t *load_model(const char *name)
{
	char path[4096];
	json_error_t err;
	json_t *m;

	snprintf(path, sizeof path, "%s/%s", models, name);
	m = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (m == NULL)
		fail_msg("%s: line %d: %s", path, err.line, err.text);
	return m;
}

static char *generate(const json_t *model, size_t *len, const char *name)
{
	char *xml;

	if (eakte_xdomea__0503(&xml, len, model) != 0)
		fail_msg("model %s: %s", name, eakte_error_last());
	return xml;
}

/* Every model in the directory (at least the three in the tree), and
 * each of them with every archival value. */
static void test_models_validate(void **state)
{
	static const char *const values[] = { "A", "B", "V" };
	DIR *d = opendir(models);
	struct dirent *e;
	size_t n = 0, i, len;
	char *xml;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		json_t *m;

		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		m = load_model(e->d_name);
		for (i = 0; i < 3; i++) {
			json_object_set_new(json_object_get(m, "akte"), "value", json_string(values[i]));
			xml = generate(m, &len, e->d_name);
			if (validate(xml, len, e->d_name) != 0)
				fail_msg("the message of %s (value %s) does not validate: %s\n%s", e->d_name, values[i],
					errors, xml);
			free(xml);
		}
		json_decref(m);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

/* Replace the first `from` in xml by `to`; the copy must differ. */
static char *mutate(const char *xml, const char *from, const char *to, size_t *len)
{
	size_t lf = strlen(from), lt = strlen(to), n = strlen(xml), off;
	char *out;

	for (off = 0; off + lf <= n && memcmp(xml + off, from, lf) != 0; off++)
		;
	if (off + lf > n)
		fail_msg("\"%s\" is not in the message", from);
	out = malloc(n - lf + lt + 1);
	assert_non_null(out);
	memcpy(out, xml, off);
	memcpy(out + off, to, lt);
	memcpy(out + off + lt, xml + off + lf, n - off - lf + 1);
	*len = n - lf + lt;
	return out;
}

/* Messages broken on purpose are refused by the schema: the validation
 * above could fail, and checks what the generator must get right. */
static void test_broken_messages_fail(void **state)
{
	static const struct { const char *from, *to; } breaks[] = {
		{ "<code>A</code>", "<code>X</code>" },                     /* not in Aussonderungsart */
		{ "<code>0503</code>", "<code>9999</code>" },               /* not a Nachrichtentyp */
		{ "<xdomea:ProzessID>3f2b8c1e", "<xdomea:ProzessID>zz2b8c1e" }, /* not a UUID */
		{ "<xdomea:Dateiname>aaaaaaaa", "<xdomea:Dateiname>Xaaaaaaa" }, /* not UUID-based */
		{ "<xdomea:Beginn>2019-03-01", "<xdomea:Beginn>2019-02-30" },   /* not a date */
		{ "<xdomea:AnzahlJahre>10", "<xdomea:AnzahlJahre>-10" },    /* unsignedShort */
		{ "<xdomea:Importbestaetigung>1", "<xdomea:Importbestaetigung>true" }, /* fixed "1" */
		{ "<xdomea:ZdA>1</xdomea:ZdA>", "<xdomea:ZdA>2</xdomea:ZdA>" }, /* not a boolean */
		{ "<xdomea:Kopf>", "<xdomea:Kopf><xdomea:Hinweis/>" },      /* out of order */
		{ "listURI=\"urn:xoev-de:xdomea:codeliste:medium\"", "listURI=\"urn:x\"" }, /* fixed list */
	};
	json_t *m = load_model("full.json");
	size_t i, len, blen;
	char *xml, *broken;

	(void)state;
	json_object_set_new(json_object_get(m, "akte"), "value", json_string("A"));
	xml = generate(m, &len, "full.json");
	assert_int_equal(validate(xml, len, "full.json"), 0);
	for (i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		broken = mutate(xml, breaks[i].from, breaks[i].to, &blen);
		if (validate(broken, blen, "broken") == 0)
			fail_msg("a message with %s instead of %s validates", breaks[i].to, breaks[i].from);
		free(broken);
	}
	free(xml);
	json_decref(m);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_validate),
		cmocka_unit_test(test_models_validate),
		cmocka_unit_test(test_broken_messages_fail),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s VECTORS_DIR MODELS_DIR\n", argv[0]);
		return 2;
	}
	vectors = argv[1];
	models = argv[2];
	return cmocka_run_group_tests_name("vectors_xdomea", tests, setup, teardown);
}
