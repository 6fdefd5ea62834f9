/* Unit tests: Aktenplan import, check and event JSON (lib/plan.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "plan.h"

#define HEADER "code;title;parent;retention;value\n"

static void parse_ok(eakte_plan *p, const char *text, const char *name)
{
	int rc = eakte_plan__parse(p, text, strlen(text), name);

	if (rc != 0)
		fail_msg("parse of %s failed: %s", name, eakte_error_last());
	assert_non_null(p->entries);
}

/* The message must contain `want` (the place and the field it names). */
static void assert_error(int rc, const char *want)
{
	assert_int_equal(rc, EAKTE_EINVALID);
	if (strstr(eakte_error_last(), want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", eakte_error_last(), want);
}

static void parse_fails_n(const char *text, size_t len, const char *name, const char *want)
{
	eakte_plan p = { (eakte_plan_entry *)&p, 99 };   /* must be emptied */

	assert_error(eakte_plan__parse(&p, text, len, name), want);
	assert_null(p.entries);
	assert_int_equal(p.count, 0);
}

static void parse_fails(const char *text, const char *name, const char *want)
{
	parse_fails_n(text, strlen(text), name, want);
}

static void assert_entry(const eakte_plan_entry *e, const char *code, const char *title, const char *parent,
	int retention, char value)
{
	assert_string_equal(e->code, code);
	assert_string_equal(e->title, title);
	if (parent == NULL)
		assert_null(e->parent);
	else
		assert_string_equal(e->parent, parent);
	assert_int_equal(e->retention, retention);
	assert_int_equal(e->value, value);
}

/* known() for the archive's current Aktenplan: codes "1" and "2". */
static int known_codes(const char *code, void *ctx)
{
	int *calls = ctx;

	if (calls != NULL)
		(*calls)++;
	return strcmp(code, "1") == 0 || strcmp(code, "2") == 0;
}

static int known_fails(const char *code, void *ctx)
{
	(void)code;
	(void)ctx;
	return eakte_error__set(EAKTE_EIO, "index unreadable");
}

static int check_text(const char *text, const char *name)
{
	eakte_plan p;
	int rc;

	parse_ok(&p, text, name);
	rc = eakte_plan__check(&p, known_codes, NULL, name);
	eakte_plan__free(&p);
	return rc;
}

/* ---- good input ---- */

static void test_csv_semicolon(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, HEADER
		"32;Ordnungsamt;;unbefristet;A\n"
		"32.10;Gewerbe;32;10;b\n"
		"32.10.02;Gewerbeanmeldungen;32.10;UNBEFRISTET;v\n"
		"32.10.03;Reisegewerbe;32.10;0;V\n", "plan.csv");
	assert_int_equal(p.count, 4);
	assert_entry(&p.entries[0], "32", "Ordnungsamt", NULL, EAKTE_PLAN_UNBEFRISTET, 'A');
	assert_entry(&p.entries[1], "32.10", "Gewerbe", "32", 10, 'B');
	assert_entry(&p.entries[2], "32.10.02", "Gewerbeanmeldungen", "32.10", EAKTE_PLAN_UNBEFRISTET, 'V');
	assert_entry(&p.entries[3], "32.10.03", "Reisegewerbe", "32.10", 0, 'V');
	assert_int_equal(p.entries[0].line, 2);
	assert_int_equal(p.entries[3].line, 5);
	assert_int_equal(eakte_plan__check(&p, NULL, NULL, "plan.csv"), 0);
	eakte_plan__free(&p);
	assert_null(p.entries);
	eakte_plan__free(&p);   /* twice is harmless */
	eakte_plan__free(NULL);
}

static void test_csv_comma_any_order(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, "Value,CODE,retention,Title,parent\n"
		"A,10,200,Hauptamt,\n"
		"b , 10.2 , 30 , Personal ,10\n", "plan.csv");
	assert_int_equal(p.count, 2);
	assert_entry(&p.entries[0], "10", "Hauptamt", NULL, 200, 'A');
	/* libcsv trims blanks around unquoted fields */
	assert_entry(&p.entries[1], "10.2", "Personal", "10", 30, 'B');
	eakte_plan__free(&p);
}

static void test_csv_quotes(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, HEADER "\"32.10\";\"Bau; Planung, \"\"Neubau\"\"\";\"\";\"10\";\"A\"\n", "plan.csv");
	assert_int_equal(p.count, 1);
	assert_entry(&p.entries[0], "32.10", "Bau; Planung, \"Neubau\"", NULL, 10, 'A');
	eakte_plan__free(&p);

	/* the delimiter inside quotes on the header line does not count */
	parse_ok(&p, "\"code\",\"title\",parent,retention,value\n"
		"1,\"Stra\xc3\x9f" "en, Wege; Pl\xc3\xa4tze\",,5,A\n", "plan.csv");
	assert_entry(&p.entries[0], "1", "Stra\xc3\x9f" "en, Wege; Pl\xc3\xa4tze", NULL, 5, 'A');
	eakte_plan__free(&p);
}

static void test_csv_german_headers(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, "Kennzeichen;Titel;\xc3\x9c" "bergeordnet;Aufbewahrungsfrist;Archivw\xc3\xbcrdigkeit\n"
		"32;Ordnungsamt;;unbefristet;A\n", "plan.csv");
	assert_entry(&p.entries[0], "32", "Ordnungsamt", NULL, EAKTE_PLAN_UNBEFRISTET, 'A');
	eakte_plan__free(&p);

	/* upper-case umlaut, the other synonyms */
	parse_ok(&p, "KENNZEICHEN;BEZEICHNUNG;\xc3\x9c" "BERGEORDNET;AUFBEWAHRUNG;BEWERTUNG\n"
		"32;Ordnungsamt;;5;B\n", "plan.csv");
	assert_entry(&p.entries[0], "32", "Ordnungsamt", NULL, 5, 'B');
	eakte_plan__free(&p);

	parse_ok(&p, "Code;Titel;uebergeordnet;Aufbewahrung;Archivwuerdigkeit\n"
		"32;Ordnungsamt;;5;B\n", "plan.csv");
	eakte_plan__free(&p);

	/* messages name the column as the user wrote it */
	parse_fails("Kennzeichen;Titel;\xc3\x9c" "bergeordnet;Aufbewahrung;Bewertung\n32;Ordnungsamt;;zehn;A\n",
		"plan.csv", "plan.csv line 2, field retention (column \"Aufbewahrung\"): \"zehn\" is neither");
}

static void test_csv_bom_crlf_blank_lines(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, "\xef\xbb\xbf" "code;title;parent;retention;value\r\n"
		"\r\n"
		"1;Eins;;1;A\r\n"
		"   \r\n"
		";;;;\r\n"
		"2;Zwei;1;2;B", "plan.csv");
	assert_int_equal(p.count, 2);
	assert_entry(&p.entries[0], "1", "Eins", NULL, 1, 'A');
	assert_entry(&p.entries[1], "2", "Zwei", "1", 2, 'B');
	/* physical lines, as an editor numbers them */
	assert_int_equal(p.entries[0].line, 3);
	assert_int_equal(p.entries[1].line, 6);
	eakte_plan__free(&p);

	/* blank lines count for the line numbers of errors too */
	parse_fails("\xef\xbb\xbf" HEADER "\n\n1;Eins;;x;A\n", "plan.csv", "plan.csv line 4, field retention");
	/* old Mac line ends */
	parse_fails(HEADER "1;Eins;;1;A\r2;Zwei;;x;A\r", "plan.csv", "plan.csv line 3, field retention");
}

static void test_json_shapes(void **state)
{
	eakte_plan p;

	(void)state;
	parse_ok(&p, "\n  [\n"
		"{\"code\":\"32\",\"title\":\"Ordnungsamt\",\"retention\":\"unbefristet\",\"value\":\"A\"},\n"
		"{\"code\":\"32.10\",\"title\":\"Gewerbe\",\"parent\":\"32\",\"retention\":10,\"value\":\"b\"},\n"
		"{\"code\":\"33\",\"title\":\"Stra\xc3\x9f" "enverkehr\",\"parent\":null,\"retention\":\"Unbefristet\","
		"\"value\":\"V\"}\n]\n", "plan.json");
	assert_int_equal(p.count, 3);
	assert_entry(&p.entries[0], "32", "Ordnungsamt", NULL, EAKTE_PLAN_UNBEFRISTET, 'A');
	assert_entry(&p.entries[1], "32.10", "Gewerbe", "32", 10, 'B');
	assert_entry(&p.entries[2], "33", "Stra\xc3\x9f" "enverkehr", NULL, EAKTE_PLAN_UNBEFRISTET, 'V');
	assert_int_equal(p.entries[0].line, 0);
	eakte_plan__free(&p);

	parse_ok(&p, "\xef\xbb\xbf{\"entries\":[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":0,\"value\":\"A\"}]}",
		"plan.json");
	assert_int_equal(p.count, 1);
	assert_entry(&p.entries[0], "1", "Eins", NULL, 0, 'A');
	eakte_plan__free(&p);
}

static void test_round_trip(void **state)
{
	eakte_plan p, back;
	json_t *j, *j2;
	char *text, *text2;
	size_t i;

	(void)state;
	parse_ok(&p, HEADER
		"32;Ordnungsamt;;unbefristet;A\n"
		"32.10;\"Gewerbe \"\"alt\"\"; \xc3\xa4\xc3\xb6\xc3\xbc\";32;10;b\n", "plan.csv");
	assert_int_equal(eakte_plan__to_json(&j, &p), 0);
	assert_int_equal(eakte_cjson__dump(&text, NULL, j), 0);
	assert_string_equal(text,
		"[{\"code\":\"32\",\"retention\":\"unbefristet\",\"title\":\"Ordnungsamt\",\"value\":\"A\"},"
		"{\"code\":\"32.10\",\"parent\":\"32\",\"retention\":10,"
		"\"title\":\"Gewerbe \\\"alt\\\"; \xc3\xa4\xc3\xb6\xc3\xbc\",\"value\":\"B\"}]");

	assert_int_equal(eakte_plan__from_json(&back, j), 0);
	assert_int_equal(back.count, p.count);
	for (i = 0; i < p.count; i++) {
		assert_entry(&back.entries[i], p.entries[i].code, p.entries[i].title, p.entries[i].parent,
			p.entries[i].retention, p.entries[i].value);
		assert_int_equal(back.entries[i].line, 0);
	}
	assert_int_equal(eakte_plan__to_json(&j2, &back), 0);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	eakte_plan__free(&back);

	/* and through the canonical text, as a replayed event arrives */
	assert_int_equal(eakte_cjson__parse_canonical(&j2, text, strlen(text), 1 << 20), 0);
	assert_int_equal(eakte_plan__from_json(&back, j2), 0);
	json_decref(j2);
	assert_int_equal(eakte_plan__to_json(&j2, &back), 0);
	assert_int_equal(eakte_cjson__dump(&text2, NULL, j2), 0);
	assert_string_equal(text, text2);

	free(text);
	free(text2);
	json_decref(j);
	json_decref(j2);
	eakte_plan__free(&p);
	eakte_plan__free(&back);
}

static void from_json_fails(const char *text, const char *want)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	eakte_plan p;

	if (j == NULL)
		fail_msg("test JSON invalid: %s", err.text);
	assert_error(eakte_plan__from_json(&p, j), want);
	assert_null(p.entries);
	assert_int_equal(p.count, 0);
	json_decref(j);
}

static void test_from_json_strict(void **state)
{
	(void)state;
	/* only exactly what to_json writes */
	from_json_fails("{\"entries\":[]}", "Aktenplan event: the entries are an object, expected an array");
	from_json_fails("[]", "contains no entries");
	from_json_fails("[{\"code\":\"1\",\"title\":\"T\",\"parent\":null,\"retention\":1,\"value\":\"A\"}]",
		"Aktenplan event entry 1, field parent: is null");
	from_json_fails("[{\"code\":\"1\",\"title\":\"T\",\"retention\":\"Unbefristet\",\"value\":\"A\"}]",
		"Aktenplan event entry 1, field retention: \"Unbefristet\" is neither");
	from_json_fails("[{\"code\":\"1\",\"title\":\"T\",\"retention\":1,\"value\":\"a\"}]",
		"Aktenplan event entry 1, field value: \"a\" is not an archival value");
	from_json_fails("[{\"code\":\"1\",\"title\":\"T\",\"retention\":1,\"value\":\"A\"},"
		"{\"code\":\"2\",\"title\":\"T\",\"retention\":1,\"value\":\"A\",\"x\":1}]",
		"Aktenplan event entry 2: unknown key \"x\"");
	from_json_fails("[{\"code\":\"1\",\"title\":\"T\",\"retention\":201,\"value\":\"A\"}]",
		"field retention: 201 is neither");
	from_json_fails("[{\"code\":\"1.\",\"title\":\"T\",\"retention\":1,\"value\":\"A\"}]",
		"field code: \"1.\" is not a plan code");
}

static void test_to_json_validates(void **state)
{
	eakte_plan_entry e = { "1", "Eins", NULL, 5, 'A', 0 };
	eakte_plan p = { &e, 1 };
	json_t *j = (json_t *)&p;

	(void)state;
	e.value = 'X';
	assert_error(eakte_plan__to_json(&j, &p), "Aktenplan entry 1, field value");
	assert_null(j);
	e.value = 'A';
	e.retention = -2;
	assert_error(eakte_plan__to_json(&j, &p), "field retention");
	e.retention = 5;
	e.title = "Zeile\nzwei";
	assert_error(eakte_plan__to_json(&j, &p), "field title: contains the control character U+000A");
	e.title = "Eins";
	e.parent = "a..b";
	assert_error(eakte_plan__to_json(&j, &p), "field parent: \"a..b\" is not a plan code");
	e.parent = NULL;
	p.count = 0;
	assert_error(eakte_plan__to_json(&j, &p), "contains no entries");
	p.count = 1;
	assert_int_equal(eakte_plan__to_json(&j, &p), 0);
	json_decref(j);
}

static void test_retention_text(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(eakte_plan__retention_text(buf, sizeof(buf), EAKTE_PLAN_UNBEFRISTET), "unbefristet");
	assert_string_equal(eakte_plan__retention_text(buf, sizeof(buf), 1), "1 Jahr");
	assert_string_equal(eakte_plan__retention_text(buf, sizeof(buf), 0), "0 Jahre");
	assert_string_equal(eakte_plan__retention_text(buf, sizeof(buf), 30), "30 Jahre");
	assert_string_equal(eakte_plan__retention_text(buf, sizeof(buf), 999), "ung\xc3\xbcltig (999)");
	assert_string_equal(eakte_plan__retention_text(buf, 4, 30), "30 ");
	assert_string_equal(eakte_plan__retention_text(buf, 0, 30), "");
}

/* ---- errors in single fields ---- */

static void test_field_errors_csv(void **state)
{
	char code65[100], line[200];

	(void)state;
	parse_fails(HEADER "1;Eins;;1;A\n2;Zwei;;2;A\n3;Drei;;3;A\n4;Vier;;4;A\n5;F\xc3\xbcnf;;5;A\n6;Sechs;;zehn;A\n",
		"plan.csv",
		"plan.csv line 7, field retention: \"zehn\" is neither a number of years (0-200) nor \"unbefristet\"");
	parse_fails(HEADER "1;Eins;;201;A\n", "plan.csv", "plan.csv line 2, field retention: \"201\" is neither");
	parse_fails(HEADER "1;Eins;;-1;A\n", "plan.csv", "plan.csv line 2, field retention: \"-1\" is neither");
	parse_fails(HEADER "1;Eins;;10 Jahre;A\n", "plan.csv", "field retention: \"10 Jahre\" is neither");
	parse_fails(HEADER "1;Eins;;;A\n", "plan.csv", "plan.csv line 2, field retention: is empty");
	parse_fails(HEADER "32..1;Eins;;1;A\n", "plan.csv",
		"plan.csv line 2, field code: \"32..1\" is not a plan code (segments of letters and digits "
		"separated by single dots)");
	parse_fails(HEADER ".32;Eins;;1;A\n", "plan.csv", "line 2, field code: \".32\" is not a plan code");
	parse_fails(HEADER "32.;Eins;;1;A\n", "plan.csv", "line 2, field code: \"32.\" is not a plan code");
	parse_fails(HEADER "\"32 10\";Eins;;1;A\n", "plan.csv", "line 2, field code: \"32 10\" is not a plan code");
	parse_fails(HEADER ";Eins;;1;A\n", "plan.csv", "plan.csv line 2, field code: is empty");
	memset(code65, 'a', 65);
	code65[65] = '\0';
	snprintf(line, sizeof(line), HEADER "%s;Eins;;1;A\n", code65);
	parse_fails(line, "plan.csv", "line 2, field code: \"aaaa");
	parse_fails(line, "plan.csv", "65 characters long, more than the limit of 64");
	code65[64] = '\0';
	snprintf(line, sizeof(line), HEADER "%s;Eins;;1;A\n", code65);
	{
		eakte_plan p;
		parse_ok(&p, line, "plan.csv");
		eakte_plan__free(&p);
	}
	parse_fails(HEADER "1;;;1;A\n", "plan.csv", "plan.csv line 2, field title: is empty");
	parse_fails(HEADER "1;\"   \";;1;A\n", "plan.csv", "plan.csv line 2, field title: consists only of spaces");
	parse_fails(HEADER "1;\"Eins\tzwei\";;1;A\n", "plan.csv", "line 2, field title: contains the control character U+0009");
	parse_fails(HEADER "1;Eins;1..2;1;A\n", "plan.csv", "plan.csv line 2, field parent: \"1..2\" is not a plan code");
	parse_fails(HEADER "1;Eins;;1;X\n", "plan.csv",
		"plan.csv line 2, field value: \"X\" is not an archival value: A (archive), B (appraise) or V (destroy)");
	parse_fails(HEADER "1;Eins;;1;AB\n", "plan.csv", "line 2, field value: \"AB\" is not an archival value");
	parse_fails(HEADER "1;Eins;;1;\n", "plan.csv", "line 2, field value: is empty");
}

static void test_long_title(void **state)
{
	char *text = malloc(2000);
	eakte_plan p;
	size_t n;

	(void)state;
	assert_non_null(text);
	n = (size_t)snprintf(text, 2000, HEADER "1;");
	memset(text + n, 'x', 512);
	strcpy(text + n + 512, ";;1;A\n");
	parse_ok(&p, text, "plan.csv");
	assert_int_equal(strlen(p.entries[0].title), 512);
	eakte_plan__free(&p);
	memset(text + n, 'x', 513);
	strcpy(text + n + 513, ";;1;A\n");
	parse_fails(text, "plan.csv", "plan.csv line 2, field title: is 513 bytes long, more than the limit of 512");
	free(text);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* "Bauamt für" in Windows-1252, as an old spreadsheet export writes it */
	parse_fails(HEADER "1;Eins;;1;A\n2;Bauamt f\xfcr Stra\xdf" "en;;1;A\n", "plan.csv",
		"plan.csv line 3, field title: invalid UTF-8 (byte 0xFC at byte 9 of the field)");
	/* overlong encoding of '/', and a UTF-16 surrogate */
	parse_fails(HEADER "1;a\xc0\xaf;;1;A\n", "plan.csv", "line 2, field title: invalid UTF-8");
	parse_fails(HEADER "1;a\xed\xa0\x80;;1;A\n", "plan.csv", "line 2, field title: invalid UTF-8");
	parse_fails(HEADER "1;Eins;\xfc;1;A\n", "plan.csv", "line 2, field parent: invalid UTF-8");
	parse_fails("code;title;parent;retention;Archivw\xfcrdigkeit\n", "plan.csv",
		"plan.csv line 1, field header of column 5: invalid UTF-8");
	/* jansson finds it in JSON and says where */
	parse_fails("[\n{\"code\":\"1\",\"title\":\"f\xfcr\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json line 2 column");
}

/* ---- errors in the shape of the file ---- */

static void test_csv_structure_errors(void **state)
{
	(void)state;
	parse_fails("code;title;parent;value\n1;Eins;;A\n", "plan.csv",
		"plan.csv line 1: missing column retention (German: Aufbewahrung or Aufbewahrungsfrist)");
	parse_fails("code;title;value\n1;Eins;A\n", "plan.csv", "missing columns parent");
	parse_fails("code;Titel2;parent;retention;value\n", "plan.csv",
		"plan.csv line 1: unknown column \"Titel2\" (column 2)");
	parse_fails("code;title;parent;retention;value;Bemerkung;x\n", "plan.csv",
		"unknown columns \"Bemerkung\" (column 6), \"x\" (column 7)");
	parse_fails("code;title;parent;retention;value;\n", "plan.csv", "plan.csv line 1: column 6 has no name");
	parse_fails("code;Kennzeichen;title;parent;retention;value\n", "plan.csv",
		"plan.csv line 1: columns 1 (\"code\") and 2 (\"Kennzeichen\") both mean code");
	parse_fails(HEADER "1;Eins;;1;A\n2;Zwei;1;A\n", "plan.csv",
		"plan.csv line 3: 4 fields, but the header (line 1) has 5 columns");
	parse_fails(HEADER "1;Eins, zwei; drei;;1;A\n", "plan.csv", "plan.csv line 2: 6 fields");
	/* a comma file read by its header */
	parse_fails("code,title,parent,retention,value\n1;Eins;;1;A\n", "plan.csv",
		"plan.csv line 2: 1 field, but the header (line 1) has 5 columns; look for a missing or extra ','");
	parse_fails(HEADER "1;Bau\"amt;;1;A\n", "plan.csv", "plan.csv line 2: a double quote inside a field");
	parse_fails(HEADER "1;\"Bauamt\"x;;1;A\n", "plan.csv", "plan.csv line 2: a double quote inside a field");
	parse_fails(HEADER "1;Eins;;1;A\n2;\"Bauamt;;1;A\n3;Drei;;1;A\n", "plan.csv",
		"plan.csv line 3: a field opened with a double quote is not closed before the end of the file");
	/* a quoted line break joins two lines into one record: reported at
	 * its first line, and later lines keep their numbers */
	parse_fails(HEADER "1;\"Bau\namt\";;1;A\n", "plan.csv",
		"plan.csv line 2, field title: contains the control character U+000A");
	parse_fails(HEADER "1;\"Bau;\namt\";;1;\"A\nB\"\n", "plan.csv", "plan.csv line 2, field title");
}

static void test_empty_files(void **state)
{
	(void)state;
	parse_fails("", "plan.csv", "plan.csv: contains no entries (the file is empty)");
	parse_fails_n(NULL, 0, "plan.csv", "plan.csv: contains no entries");
	parse_fails("\xef\xbb\xbf", "plan.csv", "plan.csv: contains no entries (the file is empty)");
	parse_fails("\xef\xbb\xbf \r\n;;\n", "plan.csv", "plan.csv: contains no entries (only empty lines)");
	parse_fails(HEADER, "plan.csv", "plan.csv: contains no entries (only the header on line 1)");
	parse_fails(HEADER ";;;;\n\n", "plan.csv", "contains no entries");
	parse_fails("[]", "plan.json", "plan.json: contains no entries");
	parse_fails("{\"entries\": []}", "plan.json", "plan.json: contains no entries");
	parse_fails("{}", "plan.json", "plan.json: the top-level object has no key \"entries\"");
}

static void test_json_errors(void **state)
{
	(void)state;
	parse_fails("[\n{\"code\":\"1\",\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"},\n{\"code\":\"2\",}\n]",
		"plan.json", "plan.json line 3 column");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"},"
		"{\"code\":\"2\",\"title\":\"Zwei\",\"retention\":1,\"value\":\"A\"},"
		"{\"code\":\"32..1\",\"title\":\"Drei\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json entry 3, field code: \"32..1\" is not a plan code (segments of letters and digits "
		"separated by single dots)");
	parse_fails("[{\"code\":\"1\",\"titel\":\"Eins\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json entry 1: unknown key \"titel\"");
	parse_fails("[{\"code\":\"1\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json entry 1, field title: is missing");
	parse_fails("[{\"code\":1,\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json entry 1, field code: is an integer, expected a string");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":\"10\",\"value\":\"A\"}]", "plan.json",
		"field retention: \"10\" is neither a number of years (0-200) nor \"unbefristet\" (write the number");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":\"zehn\",\"value\":\"A\"}]", "plan.json",
		"plan.json entry 1, field retention: \"zehn\" is neither");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":10.5,\"value\":\"A\"}]", "plan.json",
		"field retention: is a number with a fraction");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":-1,\"value\":\"A\"}]", "plan.json",
		"field retention: -1 is neither");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"parent\":\"\",\"retention\":1,\"value\":\"A\"}]",
		"plan.json", "plan.json entry 1, field parent: is empty; use null or leave the key out");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"parent\":5,\"retention\":1,\"value\":\"A\"}]",
		"plan.json", "field parent: is an integer");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":1,\"value\":\"Z\"}]", "plan.json",
		"plan.json entry 1, field value: \"Z\" is not an archival value");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"}, 7]", "plan.json",
		"plan.json entry 2: is an integer, expected an object");
	parse_fails("{\"entries\":[],\"version\":1}", "plan.json", "plan.json: unknown key \"version\" at the top level");
	parse_fails("{\"entries\":{}}", "plan.json", "\"entries\" is an object, expected an array");
	parse_fails("[{\"code\":\"1\",\"code\":\"2\",\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"}]",
		"plan.json", "plan.json line 1 column");
	parse_fails("[{\"code\":\"1\",\"title\":\"Eins\",\"retention\":1,\"value\":\"A\"}] x", "plan.json",
		"plan.json line 1 column");
	parse_fails("[{\"code\":\"1\",\"title\":\"a\\u0000b\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"plan.json line 1 column");
	parse_fails("[{\"code\":\"1\",\"title\":\"a\\u0085b\",\"retention\":1,\"value\":\"A\"}]", "plan.json",
		"field title: contains the control character U+0085");
}

static void test_size_limits(void **state)
{
	size_t big = EAKTE_PLAN_MAX_BYTES + 1, cap = 64 * 5002 + 100, n, i;
	char *text = malloc(big);
	eakte_plan p;

	(void)state;
	assert_non_null(text);
	memset(text, 'a', big);
	parse_fails_n(text, big, "plan.csv", "plan.csv: the file has 16777217 bytes, more than the limit of 16 MiB");
	free(text);

	/* 5000 entries are fine, 5001 are not */
	text = malloc(cap);
	assert_non_null(text);
	n = (size_t)snprintf(text, cap, HEADER);
	for (i = 1; i <= 5000; i++)
		n += (size_t)snprintf(text + n, cap - n, "%zu;Eintrag %zu;;10;B\n", i, i);
	parse_ok(&p, text, "plan.csv");
	assert_int_equal(p.count, 5000);
	assert_int_equal(eakte_plan__check(&p, NULL, NULL, "plan.csv"), 0);
	eakte_plan__free(&p);
	snprintf(text + n, cap - n, "5001;Eintrag;;10;B\n");
	parse_fails(text, "plan.csv", "plan.csv line 5002: more than 5000 entries; split the file");

	n = (size_t)snprintf(text, cap, "[");
	for (i = 1; i <= 5001; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s{\"code\":\"%zu\",\"title\":\"E\",\"retention\":1,\"value\":\"A\"}",
			i > 1 ? "," : "", i);
	snprintf(text + n, cap - n, "]");
	parse_fails(text, "plan.json", "plan.json: 5001 entries, more than the limit of 5000; split the file");
	free(text);
}

/* ---- the plan as a whole ---- */

static void test_check_duplicates(void **state)
{
	(void)state;
	assert_error(check_text(HEADER "1;a;;1;A\n32;c;;1;A\n32.10;d;32;1;A\n5;e;;1;A\n6;f;;1;A\n"
		"7;g;;1;A\n8;h;;1;A\n32.10;i;32;1;A\n", "plan.csv"),
		"plan.csv line 9: code 32.10 appears twice (first on line 4); each code may appear only once");
	/* the earliest repetition in the file is reported, whatever the codes */
	assert_error(check_text(HEADER "9;a;;1;A\n1;b;;1;A\n9;c;;1;A\n1;d;;1;A\n1;e;;1;A\n", "plan.csv"),
		"plan.csv line 4: code 9 appears twice (first on line 2)");
	assert_error(check_text(HEADER "1;b;;1;A\n1;d;;1;A\n1;e;;1;A\n", "plan.csv"),
		"plan.csv line 3: code 1 appears 3 times (first on line 2)");
	assert_error(check_text("[{\"code\":\"1\",\"title\":\"a\",\"retention\":1,\"value\":\"A\"},"
		"{\"code\":\"1\",\"title\":\"b\",\"retention\":1,\"value\":\"A\"}]", "plan.json"),
		"plan.json entry 2: code 1 appears twice (first as entry 1)");
	/* codes are case-sensitive: 1a and 1A are two codes */
	assert_int_equal(check_text(HEADER "1a;a;;1;A\n1A;b;;1;A\n", "plan.csv"), 0);
}

static void test_check_parents(void **state)
{
	eakte_plan p;
	int calls = 0;

	(void)state;
	/* parents later in the file, and parents the archive knows */
	parse_ok(&p, HEADER "32.10.02;a;32.10;1;A\n32.10;b;32;1;A\n32;c;1;1;A\n33;d;2;1;A\n34;e;;1;A\n", "plan.csv");
	assert_int_equal(eakte_plan__check(&p, known_codes, &calls, "plan.csv"), 0);
	assert_int_equal(calls, 2);   /* only for parents not in the file */
	eakte_plan__free(&p);

	assert_error(check_text(HEADER "1.1;a;1;1;A\n1.2;b;1;1;A\n3;c;;1;A\n3.1;d;99;1;A\n", "plan.csv"),
		"plan.csv line 5, field parent: 99 is neither in this file nor in the archive's Aktenplan");
	assert_error(check_text("[{\"code\":\"5\",\"title\":\"a\",\"parent\":\"4\",\"retention\":1,\"value\":\"A\"}]",
		"plan.json"), "plan.json entry 1, field parent: 4 is neither in this file nor in the archive's Aktenplan");

	/* without an archive, nothing outside the file is known */
	parse_ok(&p, HEADER "1.1;a;1;1;A\n", "plan.csv");
	assert_error(eakte_plan__check(&p, NULL, NULL, "plan.csv"), "line 2, field parent: 1 is neither");
	/* the archive's own failure passes up unchanged */
	assert_int_equal(eakte_plan__check(&p, known_fails, NULL, "plan.csv"), EAKTE_EIO);
	assert_string_equal(eakte_error_last(), "index unreadable");
	eakte_plan__free(&p);
}

static void test_check_cycles(void **state)
{
	(void)state;
	assert_error(check_text(HEADER "5;x;;1;A\n10;a;30;1;A\n20;b;10;1;A\n30;c;20;1;A\n", "plan.csv"),
		"plan.csv line 3: the parents form a cycle: 10 -> 30 -> 20 -> 10");
	/* the walk enters the loop from outside it */
	assert_error(check_text(HEADER "7;x;8;1;A\n8;y;9;1;A\n9;z;8;1;A\n", "plan.csv"),
		"plan.csv line 3: the parents form a cycle: 8 -> 9 -> 8");
	assert_error(check_text(HEADER "1;x;;1;A\n2;y;2;1;A\n", "plan.csv"),
		"plan.csv line 3, field parent: 2 is the entry's own code");
	/* a long cycle is cut off in the message */
	{
		char text[2048];
		size_t n = (size_t)snprintf(text, sizeof(text), HEADER), i;
		for (i = 1; i <= 20; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "c%zu;t;c%zu;1;A\n", i, i % 20 + 1);
		assert_error(check_text(text, "plan.csv"), "c12 -> c13 -> ...");
	}
	/* known to the archive ends a chain */
	assert_int_equal(check_text(HEADER "3;x;1;1;A\n4;y;3;1;A\n5;z;4;1;A\n", "plan.csv"), 0);
}

static void test_null_name(void **state)
{
	eakte_plan p;

	(void)state;
	assert_error(eakte_plan__parse(&p, "x", 1, NULL), "Aktenplan file line 1: unknown column \"x\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_semicolon),
		cmocka_unit_test(test_csv_comma_any_order),
		cmocka_unit_test(test_csv_quotes),
		cmocka_unit_test(test_csv_german_headers),
		cmocka_unit_test(test_csv_bom_crlf_blank_lines),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_from_json_strict),
		cmocka_unit_test(test_to_json_validates),
		cmocka_unit_test(test_retention_text),
		cmocka_unit_test(test_field_errors_csv),
		cmocka_unit_test(test_long_title),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_csv_structure_errors),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_check_duplicates),
		cmocka_unit_test(test_check_parents),
		cmocka_unit_test(test_check_cycles),
		cmocka_unit_test(test_null_name),
	};
	return cmocka_run_group_tests_name("unit_plan", tests, NULL, NULL);
}
