/* Unit tests: the xdomea 0503 message, member names and derived UUIDs
 * (lib/xdomea.c).  The structure is checked with libxml2 XPath; the
 * validation against the official XSD is in tests/vectors/vectors_xdomea.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "xdomea.h"

#define NS "urn:xoev-de:xdomea:schema:3.0.0"
#define MSG_ID "0f6f7b4e-8c2a-4d51-9b3e-2a7c1d9e5f10"
#define AKTE_UUID "5a1e0c9d-3b7f-8e21-a4c6-0d2b9f8e7a61"
#define VG1_UUID "7c3d2e1f-0a9b-8c7d-b6e5-f4a3b2c1d0e9"
#define VG2_UUID "8d4e3f20-1b0c-8d9e-87f6-05b4c3d2e1f0"
#define DOC1 "01936b2a-5c4d-7e8f-9a0b-1c2d3e4f5a6b"
#define DOC2 "01936b2a-6d5e-7f80-8b1c-2d3e4f5a6b7c"
#define DOC3 "01936b2a-7e6f-7091-9c2d-3e4f5a6b7c8d"
#define V1 "aaaaaaaa-0000-8000-8000-000000000001"
#define V2 "aaaaaaaa-0000-8000-8000-000000000002"
#define V3 "aaaaaaaa-0000-8000-8000-000000000003"
#define V4 "aaaaaaaa-0000-8000-8000-000000000004"

/* An Akte with documents at the top, two Vorgänge, several versions,
 * umlauts and the XML special characters in titles and file names. */
static const char full_model[] =
	"{\"message_id\": \"0F6F7B4E-8C2A-4D51-9B3E-2A7C1D9E5F10\", \"created\": \"2026-11-26T02:30:00Z\","
	" \"sender\": {\"origin\": \"eakte.musterstadt.de/archiv\", \"name\": \"Stadt M\\u00fcnster & Co\"},"
	" \"recipient\": {\"name\": \"Stadtarchiv Musterstadt\"},"
	" \"akte\": {\"az\": \"32.10.02-0017/2019\", \"title\": \"Stra\\u00dfenbau <Nord> & \\\"S\\u00fcd\\\" 'West'\","
	"  \"plan\": {\"code\": \"32.10.02\", \"title\": \"Stra\\u00dfenbauma\\u00dfnahmen\"},"
	"  \"opened\": \"2019-03-01\", \"closed\": \"2021-06-30\", \"retention\": 10, \"value\": \"A\","
	"  \"uuid\": \"" AKTE_UUID "\","
	"  \"documents\": [{\"id\": \"" DOC1 "\", \"title\": \"Antrag\", \"filed\": \"2019-03-01\", \"versions\": ["
	"    {\"version\": 1, \"filename\": \"Antrag.pdf\", \"member\": \"" V1 "_Antrag.pdf\","
	"     \"mime\": \"application/pdf\", \"size\": 1234, \"sha256\": \"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\","
	"     \"filed\": \"2019-03-01T08:15:00Z\"}]}],"
	"  \"vorgaenge\": ["
	"   {\"n\": 1, \"title\": \"Planung \\u00c4nderung\", \"uuid\": \"" VG1_UUID "\", \"documents\": ["
	"     {\"id\": \"" DOC2 "\", \"title\": \"Plan <v2> & Anlagen\", \"versions\": ["
	"       {\"version\": 1, \"filename\": \"plan.jpeg\", \"member\": \"" V2 "_plan.jpeg\", \"mime\": \"image/jpeg\","
	"        \"filed\": \"2019-04-02\"},"
	"       {\"version\": 2, \"filename\": \"plan & \\u00fcbersicht.dat\", \"member\": \"" V3 "_plan & \\u00fcbersicht.dat\","
	"        \"mime\": \"application/x-unknown\", \"filed\": \"2019-05-03T10:00:00Z\"}]}]},"
	"   {\"n\": 3, \"title\": \"Abnahme\", \"uuid\": \"" VG2_UUID "\", \"documents\": ["
	"     {\"id\": \"" DOC3 "\", \"title\": \"Protokoll\", \"versions\": ["
	"       {\"version\": 1, \"member\": \"" V4 "\", \"mime\": \"text/plain; charset=utf-8\"}]}]}]}}";

/* The least the message needs: an open Akte without Vorgänge. */
static const char min_model[] =
	"{\"message_id\": \"" MSG_ID "\", \"created\": \"2026-01-01T00:00:00Z\","
	" \"sender\": {\"origin\": \"o\", \"name\": \"Stadt\"},"
	" \"akte\": {\"az\": \"1-1\", \"title\": \"T\", \"plan\": {\"code\": \"1\"}, \"opened\": \"2020-02-29\","
	"  \"retention\": \"unbefristet\", \"value\": \"B\", \"uuid\": \"" AKTE_UUID "\","
	"  \"documents\": [{\"id\": \"" DOC1 "\", \"title\": \"D\", \"versions\": ["
	"    {\"version\": 1, \"member\": \"" V1 "_a.txt\", \"mime\": \"text/plain\"}]}]}}";

static json_t *model_from(const char *text)
{
	json_error_t err;
	json_t *m = json_loads(text, 0, &err);

	if (m == NULL)
		fail_msg("test model does not parse: %s (line %d)", err.text, err.line);
	return m;
}

typedef struct {
	char *xml;
	size_t len;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
} msg;

static void build(msg *m, const json_t *model)
{
	int rc = eakte_xdomea__0503(&m->xml, &m->len, model);

	if (rc != 0)
		fail_msg("eakte_xdomea__0503 failed: %s", eakte_error_last());
	assert_non_null(m->xml);
	assert_int_equal(strlen(m->xml), m->len);
	m->doc = xmlReadMemory(m->xml, (int)m->len, "message.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(m->doc);
	m->ctx = xmlXPathNewContext(m->doc);
	assert_non_null(m->ctx);
	assert_int_equal(xmlXPathRegisterNs(m->ctx, BAD_CAST "x", BAD_CAST NS), 0);
}

static void drop(msg *m)
{
	xmlXPathFreeContext(m->ctx);
	xmlFreeDoc(m->doc);
	free(m->xml);
}

static xmlXPathObjectPtr eval(msg *m, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, m->ctx);

	if (o == NULL)
		fail_msg("XPath %s does not evaluate", expr);
	return o;
}

/* The string value of the first node `expr` selects. */
static void assert_xp(msg *m, const char *expr, const char *want)
{
	xmlXPathObjectPtr o = eval(m, expr);
	xmlChar *s = xmlXPathCastToString(o);

	if (strcmp((const char *)s, want) != 0)
		fail_msg("%s is \"%s\", expected \"%s\"", expr, s, want);
	xmlFree(s);
	xmlXPathFreeObject(o);
}

static void assert_count(msg *m, const char *expr, int want)
{
	xmlXPathObjectPtr o = eval(m, expr);
	int n = o->nodesetval != NULL ? o->nodesetval->nodeNr : 0;

	if (o->type != XPATH_NODESET || n != want)
		fail_msg("%s selects %d nodes, expected %d", expr, n, want);
	xmlXPathFreeObject(o);
}

#define AKTE "/x:Aussonderung.Aussonderung.0503/x:Schriftgutobjekt/x:Akte"
#define KOPF "/x:Aussonderung.Aussonderung.0503/x:Kopf"

static void test_full(void **state)
{
	json_t *model = model_from(full_model);
	msg m;

	(void)state;
	build(&m, model);
	/* The namespace prefix must be "xdomea" (specification 4.2). */
	assert_non_null(strstr(m.xml, "<xdomea:Aussonderung.Aussonderung.0503 xmlns:xdomea=\"" NS "\""));
	assert_non_null(strstr(m.xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));

	assert_count(&m, "/x:Aussonderung.Aussonderung.0503", 1);
	assert_xp(&m, KOPF "/x:ProzessID", MSG_ID);    /* lowercased */
	assert_xp(&m, KOPF "/x:Nachrichtentyp/code", "0503");
	assert_xp(&m, KOPF "/x:Nachrichtentyp/@listURI", "urn:xoev-de:xdomea:codeliste:nachrichtentyp");
	assert_xp(&m, KOPF "/x:Erstellungszeitpunkt", "2026-11-26T02:30:00Z");
	assert_xp(&m, KOPF "/x:Absender/x:Institution/x:Name", "Stadt M\xc3\xbcnster & Co");
	assert_xp(&m, KOPF "/x:Empfaenger/x:Institution/x:Name", "Stadtarchiv Musterstadt");
	assert_xp(&m, KOPF "/x:SendendesSystem/x:InstanzID", "eakte.musterstadt.de/archiv");
	assert_xp(&m, KOPF "/x:SendendesSystem/x:Produktname", "eakte");
	assert_xp(&m, KOPF "/x:Importbestaetigung", "1");

	assert_count(&m, "/x:Aussonderung.Aussonderung.0503/x:Schriftgutobjekt", 1);
	assert_xp(&m, AKTE "/x:Identifikation/x:ID", AKTE_UUID);
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Betreff",
		"Stra\xc3\x9f" "enbau <Nord> & \"S\xc3\xbc" "d\" 'West'");
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Kennzeichen", "32.10.02-0017/2019");
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Medium/code", "001");
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Kennzeichen", "32.10.02");
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Inhaltsangabe",
		"Stra\xc3\x9f" "enbauma\xc3\x9fnahmen");
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:AnzahlJahre", "10");
	assert_count(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:Unbefristet", 0);
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/code", "A");
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/@listURI",
		"urn:xoev-de:xdomea:codeliste:aussonderungsart");
	/* closed 2021, 10 years: the retention ends at the end of 2031 */
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsende", "2031-12-31");
	assert_xp(&m, AKTE "/x:Laufzeit/x:Beginn", "2019-03-01");
	assert_xp(&m, AKTE "/x:Laufzeit/x:Ende", "2021-06-30");
	assert_xp(&m, AKTE "/x:ZdA", "1");
	assert_xp(&m, AKTE "/x:ZdADatum", "2021-06-30");

	/* Documents directly in the Akte, then the Vorgänge with theirs */
	assert_count(&m, AKTE "/x:Akteninhalt/x:Dokument", 1);
	assert_count(&m, AKTE "/x:Akteninhalt/x:Vorgang", 2);
	assert_count(&m, AKTE "//x:Dokument", 3);
	assert_count(&m, AKTE "//x:Dokument/x:Version", 4);
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Identifikation/x:ID", DOC1);
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:AllgemeineMetadaten/x:Betreff", "Antrag");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Nummer", "1");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Format/x:Name/code", "018");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Format/x:Name/@listVersionID", "1.0");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Format/x:Primaerdokument/x:Dateiname",
		V1 "_Antrag.pdf");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Format/x:Primaerdokument/x:DateinameOriginal",
		"Antrag.pdf");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:Version/x:Format/x:Primaerdokument/x:DatumUhrzeit",
		"2019-03-01T08:15:00Z");

	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Identifikation/x:ID", VG1_UUID);
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Identifikation/x:NummerImUebergeordnetenContainer", "1");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:AllgemeineMetadaten/x:Betreff", "Planung \xc3\x84nderung");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[2]/x:Identifikation/x:NummerImUebergeordnetenContainer", "3");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:AllgemeineMetadaten/x:Betreff",
		"Plan <v2> & Anlagen");
	assert_count(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version", 2);
	/* jpeg by content, and the name picks code 010 (jpeg) over 011 (jpg) */
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[1]/x:Format/x:Name/code", "010");
	/* a bare date is not a DatumUhrzeit */
	assert_count(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[1]//x:DatumUhrzeit", 0);
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[2]/x:Nummer", "2");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[2]/x:Format/x:Name/code", "100");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[2]/x:Format/x:SonstigerName",
		"application/x-unknown");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[1]/x:Dokument/x:Version[2]//x:Dateiname",
		V3 "_plan & \xc3\xbc" "bersicht.dat");
	/* text/plain with parameters is still text/plain; no original name */
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[2]/x:Dokument/x:Version/x:Format/x:Name/code", "045");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Vorgang[2]/x:Dokument/x:Version//x:Dateiname", V4);
	assert_count(&m, AKTE "/x:Akteninhalt/x:Vorgang[2]/x:Dokument/x:Version//x:DateinameOriginal", 0);

	/* The special characters are escaped, not passed through as markup. */
	assert_non_null(strstr(m.xml, "Stra\xc3\x9f" "enbau &lt;Nord&gt; &amp; "));
	assert_null(strstr(m.xml, "<Nord>"));
	assert_null(strstr(m.xml, "<v2>"));
	drop(&m);
	json_decref(model);
}

static void test_minimal_open_unbefristet(void **state)
{
	json_t *model = model_from(min_model);
	msg m;

	(void)state;
	build(&m, model);
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:Unbefristet", "1");
	assert_count(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:AnzahlJahre", 0);
	assert_count(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsende", 0);
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/code", "B");
	assert_xp(&m, AKTE "/x:Laufzeit/x:Beginn", "2020-02-29");
	assert_count(&m, AKTE "/x:Laufzeit/x:Ende", 0);
	assert_xp(&m, AKTE "/x:ZdA", "0");
	assert_count(&m, AKTE "/x:ZdADatum", 0);
	assert_count(&m, AKTE "/x:Akteninhalt/x:Vorgang", 0);
	assert_count(&m, AKTE "/x:Akteninhalt/x:Dokument", 1);
	assert_count(&m, AKTE "/x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Inhaltsangabe", 0);
	/* without a recipient the required Empfaenger stays empty */
	assert_count(&m, KOPF "/x:Empfaenger", 1);
	assert_count(&m, KOPF "/x:Empfaenger/*", 0);
	drop(&m);
	json_decref(model);
}

/* A closed Akte kept forever: no end of retention. */
static void test_closed_unbefristet_and_zero_years(void **state)
{
	json_t *model = model_from(min_model), *akte = json_object_get(model, "akte");
	msg m;

	(void)state;
	json_object_set_new(akte, "closed", json_string("2024-12-31"));
	build(&m, model);
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:Unbefristet", "1");
	assert_count(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsende", 0);
	assert_xp(&m, AKTE "/x:ZdADatum", "2024-12-31");
	drop(&m);

	json_object_set_new(akte, "retention", json_integer(0));
	build(&m, model);
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsdauer/x:AnzahlJahre", "0");
	assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aufbewahrungsende", "2024-12-31");
	drop(&m);
	json_decref(model);
}

static void test_each_value(void **state)
{
	static const char *const v[] = { "A", "B", "V" };
	json_t *model = model_from(full_model);
	size_t i;
	msg m;

	(void)state;
	for (i = 0; i < 3; i++) {
		json_object_set_new(json_object_get(model, "akte"), "value", json_string(v[i]));
		build(&m, model);
		assert_xp(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/code", v[i]);
		assert_count(&m, AKTE "/x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/name", 1);
		drop(&m);
	}
	json_decref(model);
}

/* The same model gives the same bytes. */
static void test_deterministic(void **state)
{
	json_t *model = model_from(full_model);
	char *a, *b;
	size_t la, lb;

	(void)state;
	assert_int_equal(eakte_xdomea__0503(&a, &la, model), 0);
	assert_int_equal(eakte_xdomea__0503(&b, &lb, model), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	json_decref(model);
}

/* U+FFFE and U+FFFF cannot be in XML: written as U+FFFD. */
static void test_noncharacters(void **state)
{
	json_t *model = model_from(min_model);
	msg m;

	(void)state;
	json_object_set_new(json_object_get(model, "akte"), "title", json_string("a\xef\xbf\xbe" "b\xef\xbf\xbf" "c\xef\xbf\xbd"));
	build(&m, model);
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Betreff", "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd");
	drop(&m);
	json_decref(model);
}

/* Tab and line feed are fine (multi-line text); Betreff may be empty. */
static void test_tab_newline_empty(void **state)
{
	json_t *model = model_from(min_model);
	json_t *doc = json_array_get(json_object_get(json_object_get(model, "akte"), "documents"), 0);
	msg m;

	(void)state;
	json_object_set_new(json_object_get(model, "akte"), "title", json_string("a\tb\nc"));
	json_object_set_new(doc, "title", json_string(""));
	build(&m, model);
	assert_xp(&m, AKTE "/x:AllgemeineMetadaten/x:Betreff", "a\tb\nc");
	assert_xp(&m, AKTE "/x:Akteninhalt/x:Dokument/x:AllgemeineMetadaten/x:Betreff", "");
	drop(&m);
	json_decref(model);
}

/* ---- bad models ---- */

static void assert_refused(const json_t *model, const char *want)
{
	char *xml = (char *)"unchanged";
	size_t len = 99;
	int rc = eakte_xdomea__0503(&xml, &len, model);

	if (rc != EAKTE_EINVALID)
		fail_msg("model accepted (rc %d), expected an error containing \"%s\"", rc, want);
	assert_null(xml);
	assert_int_equal(len, 0);
	if (strstr(eakte_error_last(), want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", eakte_error_last(), want);
}

/* Set `key` of the object at `path` (a few JSON-pointer-like steps) in a
 * fresh copy of the full model to `value` (NULL: delete), expect refusal. */
static void refuse_change(const char *const *steps, const char *key, json_t *value, const char *want)
{
	json_t *model = model_from(full_model), *o = model;
	size_t i;

	for (i = 0; steps[i] != NULL; i++) {
		if (json_is_array(o))
			o = json_array_get(o, (size_t)atoi(steps[i]));
		else
			o = json_object_get(o, steps[i]);
		assert_non_null(o);
	}
	if (value == NULL)
		assert_int_equal(json_object_del(o, key), 0);
	else
		assert_int_equal(json_object_set_new(o, key, value), 0);
	assert_refused(model, want);
	json_decref(model);
}

#define STEPS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ROOT ((const char *const[]){ NULL })

static void test_bad_top(void **state)
{
	json_t *arr = json_array();

	(void)state;
	assert_refused(arr, "must be a JSON object");
	json_decref(arr);
	refuse_change(ROOT, "message_id", NULL, "/message_id: missing");
	refuse_change(ROOT, "message_id", json_string("not-a-uuid"), "/message_id: \"not-a-uuid\" is not a UUID");
	refuse_change(ROOT, "message_id", json_integer(5), "/message_id: must be a string");
	refuse_change(ROOT, "created", json_string("2026-11-26 02:30:00"), "/created:");
	refuse_change(ROOT, "created", json_string("2026-11-26T24:30:00Z"), "/created:");
	refuse_change(ROOT, "created", NULL, "/created: missing");
	refuse_change(ROOT, "sender", NULL, "/sender: missing");
	refuse_change(ROOT, "akte", json_string("x"), "/akte: must be an object");
	refuse_change(ROOT, "extra", json_true(), "/extra: unknown member");
	refuse_change(STEPS("sender"), "name", json_string(""), "/sender/name: is empty");
	refuse_change(STEPS("sender"), "origin", NULL, "/sender/origin: missing");
	refuse_change(STEPS("recipient"), "name", NULL, "/recipient/name: missing");
}

static void test_bad_akte(void **state)
{
	(void)state;
	refuse_change(STEPS("akte"), "az", NULL, "/akte/az: missing");
	refuse_change(STEPS("akte"), "title", NULL, "/akte/title: missing");
	refuse_change(STEPS("akte"), "title", json_string("a\x01" "b"), "/akte/title: contains the control character U+0001");
	refuse_change(STEPS("akte"), "title", json_stringn("a\0b", 3), "/akte/title: contains a NUL");
	refuse_change(STEPS("akte"), "title", json_string("a\rb"), "/akte/title: contains the control character U+000D");
	refuse_change(STEPS("akte"), "uuid", json_string("5a1e0c9d3b7f8e21a4c60d2b9f8e7a61"), "/akte/uuid:");
	refuse_change(STEPS("akte"), "plan", NULL, "/akte/plan: missing");
	refuse_change(STEPS("akte", "plan"), "code", NULL, "/akte/plan/code: missing");
	refuse_change(STEPS("akte"), "opened", json_string("2019-02-29"), "/akte/opened: \"2019-02-29\" is not a date");
	refuse_change(STEPS("akte"), "opened", json_string("2019-13-01"), "/akte/opened:");
	refuse_change(STEPS("akte"), "opened", json_string("19-03-01"), "/akte/opened:");
	refuse_change(STEPS("akte"), "opened", NULL, "/akte/opened: missing");
	refuse_change(STEPS("akte"), "closed", json_string("2019-02-28"), "/akte/closed: 2019-02-28 is before");
	refuse_change(STEPS("akte"), "retention", json_integer(201), "/akte/retention: 201 is out of range");
	refuse_change(STEPS("akte"), "retention", json_integer(-1), "/akte/retention: -1 is out of range");
	refuse_change(STEPS("akte"), "retention", json_string("forever"), "/akte/retention: must be");
	refuse_change(STEPS("akte"), "retention", NULL, "/akte/retention: missing");
	refuse_change(STEPS("akte"), "value", json_string("X"), "/akte/value: \"X\" is not an archival value");
	refuse_change(STEPS("akte"), "value", json_string("AB"), "/akte/value:");
	refuse_change(STEPS("akte"), "vorgaenge", json_object(), "/akte/vorgaenge: must be an array");
	refuse_change(STEPS("akte"), "Titel", json_string("x"), "/akte/Titel: unknown member");
}

static void test_bad_vorgang_document_version(void **state)
{
	(void)state;
	refuse_change(STEPS("akte", "vorgaenge", "1"), "n", json_integer(1), "/akte/vorgaenge/1/n: Vorgang 1 appears twice");
	refuse_change(STEPS("akte", "vorgaenge", "1"), "n", json_integer(0), "/akte/vorgaenge/1/n: 0 is out of range");
	refuse_change(STEPS("akte", "vorgaenge", "0"), "uuid", json_string(AKTE_UUID),
		"/akte/vorgaenge/0/uuid: UUID " AKTE_UUID " is used by two objects");
	refuse_change(STEPS("akte", "vorgaenge", "0"), "title", NULL, "/akte/vorgaenge/0/title: missing");
	refuse_change(STEPS("akte", "documents", "0"), "versions", json_array(),
		"/akte/documents/0/versions: a document needs at least one version");
	refuse_change(STEPS("akte", "documents", "0"), "versions", NULL, "/akte/documents/0/versions:");
	refuse_change(STEPS("akte", "documents", "0"), "filed", json_string("2019-3-1"), "/akte/documents/0/filed:");
	/* the same document id in two places (upper case is the same UUID) */
	refuse_change(STEPS("akte", "vorgaenge", "1", "documents", "0"), "id", json_string("01936B2A-5C4D-7E8F-9A0B-1C2D3E4F5A6B"),
		"/akte/vorgaenge/1/documents/0/id: UUID " DOC1 " is used by two objects");
	refuse_change(STEPS("akte", "vorgaenge", "0", "documents", "0", "versions", "1"), "version", json_integer(1),
		"/akte/vorgaenge/0/documents/0/versions/1: version 1 appears twice");
	refuse_change(STEPS("akte", "vorgaenge", "0", "documents", "0", "versions", "1"), "member", json_string(V1 "_Antrag.pdf"),
		"/akte/vorgaenge/0/documents/0/versions/1/member: \"" V1 "_Antrag.pdf\" names two files");
	/* the same file UUID with another name */
	refuse_change(STEPS("akte", "vorgaenge", "0", "documents", "0", "versions", "1"), "member", json_string(V1 "_ANTRAG.PDF"),
		"names two files of the zip (each file needs its own UUID)");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string(V1 "_../../etc/passwd"),
		"/akte/documents/0/versions/0/member: \"" V1 "_../../etc/passwd\" is not a safe member name");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string("../" V1),
		"does not start with a UUID");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string(V1 "x.pdf"),
		"does not start with a UUID");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string(V1 "_a\xc2\x85" "b.pdf"),
		"is not a safe member name");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string(V1 "_a\x7f" "b.pdf"),
		"/member: contains the control character U+007F");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member", json_string(V1 "_"),
		"is not a safe member name");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member",
		json_string("AAAAAAAA-0000-8000-8000-000000000001_Antrag.pdf"), "is not a safe member name");
	/* the message's own name */
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "member",
		json_string(MSG_ID "_Aussonderung.Aussonderung.0503.xml"), "names two files of the zip");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "mime", NULL,
		"/akte/documents/0/versions/0/mime: missing");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "version", json_string("1"),
		"/akte/documents/0/versions/0/version: must be an integer");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "sha256", json_string("ABC"),
		"/akte/documents/0/versions/0/sha256: is not 64 lowercase");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "size", json_integer(-1),
		"/akte/documents/0/versions/0/size: -1 is out of range");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "filed", json_string("2019-03-01T08:15:00"),
		"/akte/documents/0/versions/0/filed:");
	refuse_change(STEPS("akte", "documents", "0", "versions", "0"), "filename", json_string("a\x1b" "b"),
		"/akte/documents/0/versions/0/filename: contains the control character U+001B");
}

/* ---- names ---- */

static void member_is(const char *uuid, const char *filename, const char *want)
{
	char *out = NULL, *again = NULL;

	if (eakte_xdomea__member_name(&out, uuid, filename) != 0)
		fail_msg("member_name(%s) failed: %s", filename != NULL ? filename : "NULL", eakte_error_last());
	if (strcmp(out, want) != 0)
		fail_msg("member_name(%s) is \"%s\", expected \"%s\"", filename != NULL ? filename : "NULL", out, want);
	assert_true(strlen(out) <= EAKTE_XDOMEA_MEMBER_MAX);
	/* idempotent: the generator relies on it to check member names */
	if (strlen(out) > EAKTE_XDOMEA_UUID_LEN) {
		assert_int_equal(eakte_xdomea__member_name(&again, uuid, out + EAKTE_XDOMEA_UUID_LEN + 1), 0);
		assert_string_equal(again, out);
		free(again);
	}
	free(out);
}

static void test_member_name(void **state)
{
	char long_name[400], want[200], *out;
	size_t i;

	(void)state;
	member_is(V1, "Antrag.pdf", V1 "_Antrag.pdf");
	member_is("AAAAAAAA-0000-8000-8000-000000000001", "x.pdf", V1 "_x.pdf");
	member_is(V1, "Stra\xc3\x9f" "e \xc3\xa4\xc3\xb6\xc3\xbc.odt", V1 "_Stra\xc3\x9f" "e \xc3\xa4\xc3\xb6\xc3\xbc.odt");
	member_is(V1, "../../etc/passwd", V1 "_passwd");
	member_is(V1, "C:\\Users\\x\\Brief.docx", V1 "_Brief.docx");
	member_is(V1, "dir/", V1);
	member_is(V1, "..", V1);
	member_is(V1, ".hidden", V1 "_hidden");
	member_is(V1, " . .name. ", V1 "_name");
	member_is(V1, "a<b>c:d\"e|f?g*h.txt", V1 "_a_b_c_d_e_f_g_h.txt");
	member_is(V1, "tab\there\nnl\x7f" "del\xc2\x85" "c1.txt", V1 "_tab_here_nl_del_c1.txt");
	member_is(V1, "bad\xff\xfe" "utf8\xc3.txt", V1 "_bad__utf8_.txt");
	member_is(V1, "overlong\xc0\xaf" "slash", V1 "_overlong__slash");
	member_is(V1, "non\xef\xbf\xbe" "char", V1 "_non_char");
	member_is(V1, "", V1);
	member_is(V1, NULL, V1);

	/* long: cut to 120 bytes, keeping the extension */
	memset(long_name, 'a', 300);
	memcpy(long_name + 300, ".pdf", 5);
	memset(want, 'a', 116);
	memcpy(want + 116, ".pdf", 5);
	{
		char full[260];

		snprintf(full, sizeof full, "%s_%s", V1, want);
		member_is(V1, long_name, full);
	}
	/* a multi-byte character is not cut in half: with "x" first, byte 116
	 * is the second byte of an "ä", so the cut comes one byte earlier */
	long_name[0] = 'x';
	for (i = 0; i < 149; i++)
		memcpy(long_name + 1 + 2 * i, "\xc3\xa4", 2);
	memcpy(long_name + 299, ".txt", 5);
	assert_int_equal(eakte_xdomea__member_name(&out, V1, long_name), 0);
	assert_int_equal(strlen(out), EAKTE_XDOMEA_UUID_LEN + 1 + 115 + 4);
	assert_string_equal(out + strlen(out) - 6, "\xc3\xa4.txt");
	free(out);
	/* an extension too long to keep is cut like the rest */
	memset(long_name, 'b', 100);
	long_name[100] = '.';
	memset(long_name + 101, 'c', 40);
	long_name[141] = '\0';
	assert_int_equal(eakte_xdomea__member_name(&out, V1, long_name), 0);
	assert_int_equal(strlen(out), EAKTE_XDOMEA_UUID_LEN + 1 + 120);
	assert_int_equal(out[strlen(out) - 1], 'c');
	free(out);

	assert_int_equal(eakte_xdomea__member_name(&out, "nope", "a.pdf"), EAKTE_EINVALID);
	assert_null(out);
	assert_int_equal(eakte_xdomea__member_name(&out, NULL, "a.pdf"), EAKTE_EINVALID);
	assert_int_equal(eakte_xdomea__member_name(&out, V1 "0", "a.pdf"), EAKTE_EINVALID);
}

static void test_message_name(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(eakte_xdomea__message_name(&out, "0F6F7B4E-8C2A-4D51-9B3E-2A7C1D9E5F10"), 0);
	assert_string_equal(out, MSG_ID "_Aussonderung.Aussonderung.0503.xml");
	free(out);
	assert_int_equal(eakte_xdomea__message_name(&out, "x"), EAKTE_EINVALID);
	assert_null(out);
	/* a bad value is quoted as one line of valid UTF-8, and not at length */
	assert_int_equal(eakte_xdomea__message_name(&out, "a\nb\xff\xc3\xa4"), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "\"a?b?\xc3\xa4\" is not a UUID"));
	{
		char long_id[300];

		memset(long_id, 'z', sizeof long_id - 1);
		long_id[sizeof long_id - 1] = '\0';
		assert_int_equal(eakte_xdomea__message_name(&out, long_id), EAKTE_EINVALID);
		assert_true(strlen(eakte_error_last()) < 150);
		assert_non_null(strstr(eakte_error_last(), "zzz...\" is not a UUID"));
	}
}

static void test_derived_uuid(void **state)
{
	char a[EAKTE_XDOMEA_UUID_LEN + 1], b[EAKTE_XDOMEA_UUID_LEN + 1], c[EAKTE_XDOMEA_UUID_LEN + 1];
	char *name;

	(void)state;
	assert_int_equal(eakte_xdomea__uuid(a, "origin", "akte\n1-1"), 0);
	assert_int_equal(eakte_xdomea__uuid(b, "origin", "akte\n1-1"), 0);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), EAKTE_XDOMEA_UUID_LEN);
	assert_int_equal(a[14], '8');                       /* version 8 */
	assert_non_null(strchr("89ab", a[19]));             /* RFC 9562 variant */
	assert_int_equal(eakte_xdomea__uuid(c, "origin", "akte\n1-2"), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(eakte_xdomea__uuid(c, "other", "akte\n1-1"), 0);
	assert_string_not_equal(a, c);
	/* "\n" joins origin and name, so an origin may not contain one */
	assert_int_equal(eakte_xdomea__uuid(c, "origin\nakte", "1-1"), EAKTE_EINVALID);
	assert_int_equal(eakte_xdomea__uuid(c, NULL, "1-1"), EAKTE_EINVALID);
	/* a derived UUID is a valid ID and member prefix */
	assert_int_equal(eakte_xdomea__message_name(&name, a), 0);
	free(name);
	/* a known answer, so that the derivation never changes silently:
	 * SHA-256("eakte-xdomea\norigin\nakte\n1-1"), version and variant set */
	assert_string_equal(a, "769990bb-fa28-85db-86df-11e74f7dcff9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal_open_unbefristet),
		cmocka_unit_test(test_closed_unbefristet_and_zero_years),
		cmocka_unit_test(test_each_value),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_noncharacters),
		cmocka_unit_test(test_tab_newline_empty),
		cmocka_unit_test(test_bad_top),
		cmocka_unit_test(test_bad_akte),
		cmocka_unit_test(test_bad_vorgang_document_version),
		cmocka_unit_test(test_member_name),
		cmocka_unit_test(test_message_name),
		cmocka_unit_test(test_derived_uuid),
	};

	return cmocka_run_group_tests_name("unit_xdomea", tests, NULL, NULL);
}
