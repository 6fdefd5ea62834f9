/* Unit tests: search query translation (lib/query.c), run against FTS5
 * with the eakte_de tokenizer (lib/ftsde.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftsde.h"
#include "query.h"

/* Rowids are the index + 1. */
static const char *const docs[] = {
	/* 1 */ "Herr Müller beantragt eine Baugenehmigung für das Grundstück",
	/* 2 */ "Frau Mueller: Bauantrag Hauptstraße 5, Entwurf",
	/* 3 */ "Bauvoranfrage der MÜLLER GmbH zum Grundstück Flur 7",
	/* 4 */ "Straßenbeleuchtung Ortsteil Süd, Bauantrag genehmigt",
	/* 5 */ "Max Müller und Erika Schmidt, Grundsteuerbescheid",
	/* 6 */ "Schmidt, Max: Einspruch gegen den Bescheid",
};

static sqlite3 *open_db(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t i;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(eakte_ftsde__register(db), 0);
	assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='eakte_de')",
		NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?1, ?2)", -1, &st, NULL),
		SQLITE_OK);
	for (i = 0; i < EAKTE_ARRAY_SIZE(docs); i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(st, 2, docs[i], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return db;
}

/* Run an FTS5 expression to the end; SQLITE_DONE or the error code.  The
 * rowids go to buf as "1,3" when buf is given. */
static int run_match(sqlite3 *db, const char *match, char *buf, size_t cap)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc;

	if (buf != NULL)
		buf[0] = '\0';
	rc = sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", -1, &st, NULL);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (buf != NULL) {
			int n = snprintf(buf + len, cap - len, "%s%lld", len ? "," : "",
				(long long)sqlite3_column_int64(st, 0));
			assert_true(n > 0 && (size_t)n < cap - len);
			len += (size_t)n;
		}
	}
	if (rc != SQLITE_DONE)
		print_error("MATCH %s: %s\n", match, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Translate a user query, run it, compare the rows. */
static void search(sqlite3 *db, const char *q, const char *want)
{
	char got[256];
	char *expr = NULL;
	int rc = eakte_query__translate(&expr, q, strlen(q));

	if (rc != 0) {
		print_error("query %s: %s\n", q, eakte_error_last());
		fail();
	}
	assert_int_equal(run_match(db, expr, got, sizeof(got)), SQLITE_DONE);
	if (strcmp(got, want) != 0) {
		print_error("query %s (MATCH %s): rows {%s}, expected {%s}\n", q, expr, got, want);
		free(expr);
		fail();
	}
	free(expr);
}

static void test_translation(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Müller", "\"Müller\"" },
		{ "  Bauantrag   Müller ", "\"Bauantrag\" AND \"Müller\"" },
		{ "Bauantrag AND Müller", "\"Bauantrag\" AND \"Müller\"" },
		{ "\"Max Müller\"", "\"Max Müller\"" },
		{ "Grundst*", "\"Grundst\" *" },
		{ "Mül**", "\"Mül\" *" },
		{ "\"Max Mül\"*", "\"Max Mül\" *" },
		{ "a OR b", "\"a\" OR \"b\"" },
		{ "a b OR c", "(\"a\" AND \"b\") OR \"c\"" },
		{ "a OR b c", "\"a\" OR (\"b\" AND \"c\")" },
		{ "(Bauantrag OR Bauvoranfrage) Müller",
			"(\"Bauantrag\" OR \"Bauvoranfrage\") AND \"Müller\"" },
		{ "Müller -Entwurf", "\"Müller\" NOT \"Entwurf\"" },
		{ "-Entwurf Müller", "\"Müller\" NOT \"Entwurf\"" },
		{ "a b -c -\"d e\"", "(\"a\" AND \"b\") NOT \"c\" NOT \"d e\"" },
		{ "a -(b OR c)", "\"a\" NOT (\"b\" OR \"c\")" },
		{ "(a OR b) -c", "(\"a\" OR \"b\") NOT \"c\"" },
		{ "a -b OR c", "(\"a\" NOT \"b\") OR \"c\"" },
		{ "a -bc*", "\"a\" NOT \"bc\" *" },
		{ "((a))", "\"a\"" },
		{ "(a b) c", "(\"a\" AND \"b\") AND \"c\"" },
		{ "a --- b", "\"a\" AND \"b\"" },
		{ "a \xe2\x80\x93 b", "\"a\" AND \"b\"" },          /* en dash */
		{ "a \"\" b", "\"a\" AND \"b\"" },
		{ "a (---) OR b", "\"a\" OR \"b\"" },
		{ "a -", "\"a\"" },
		{ "a -...", "\"a\"" },
		{ "a\xc2\xa0" "b\xe2\x80\x83" "c", "\"a\" AND \"b\" AND \"c\"" },   /* NBSP, em space */
		{ "Baden-Württemberg", "\"Baden-Württemberg\"" },
		{ "body:x", "\"body:x\"" },
		{ "NEAR(a b)", "\"NEAR\" AND (\"a\" AND \"b\")" },
		{ "^a", "\"^a\"" },
		{ "{a b}:c", "\"{a\" AND \"b}:c\"" },
		{ "a+b", "\"a+b\"" },
		{ "a NOT b", "\"a\" AND \"NOT\" AND \"b\"" },
		{ "a or and b", "\"a\" AND \"or\" AND \"and\" AND \"b\"" },
		{ "a -OR", "\"a\" NOT \"OR\"" },
		{ "b --a", "\"b\" NOT \"-a\"" },
		{ "x\"y\"z", "\"x\" AND \"y\" AND \"z\"" },
		{ "*ab", "\"*ab\"" },
		{ "ab*cd", "\"ab*cd\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(cases); i++) {
		char *out = NULL;
		int rc = eakte_query__translate(&out, cases[i].in, strlen(cases[i].in));
		if (rc != 0)
			print_error("query %s: %s\n", cases[i].in, eakte_error_last());
		assert_int_equal(rc, 0);
		if (strcmp(out, cases[i].out) != 0) {
			print_error("query %s: got %s, expected %s\n", cases[i].in, out, cases[i].out);
			free(out);
			fail();
		}
		free(out);
	}
}

static void expect_error(const char *q, size_t len, const char *msg)
{
	char *out = (char *)"untouched";
	int rc = eakte_query__translate(&out, q, len);

	if (rc != EAKTE_EINVALID) {
		print_error("query %.*s: rc %d, out %s\n", (int)len, q, rc, rc == 0 ? out : "-");
		if (rc == 0)
			free(out);
		fail();
	}
	assert_null(out);
	if (strstr(eakte_error_last(), msg) == NULL) {
		print_error("query %.*s: message \"%s\" lacks \"%s\"\n", (int)len, q, eakte_error_last(), msg);
		fail();
	}
	/* our words, never SQLite's */
	assert_null(strstr(eakte_error_last(), "fts5"));
	assert_null(strstr(eakte_error_last(), "syntax error"));
}

#define ERR(q, msg) expect_error((q), strlen(q), (msg))

static void test_errors(void **state)
{
	(void)state;
	ERR("", "the search query is empty");
	ERR(" \t\n\xc2\xa0", "the search query is empty");
	expect_error(NULL, 0, "the search query is empty");
	expect_error("ab\0cd", 5, "contains a NUL byte at byte 3");
	ERR("M\xfcller", "not valid UTF-8 at byte 2");
	ERR("ab \xc0\xaf", "not valid UTF-8 at byte 4");            /* overlong '/' */
	ERR("\xed\xa0\x80", "not valid UTF-8 at byte 1");           /* surrogate */
	ERR("x \xe2\x82", "not valid UTF-8 at byte 3");             /* cut short */
	ERR("\xf4\x90\x80\x80", "not valid UTF-8 at byte 1");       /* > U+10FFFF */
	ERR("Antrag \"Max Müller", "unterminated quote starting at character 8");
	ERR("Müller \"", "unterminated quote starting at character 8");   /* ü is one character */
	ERR("\"", "unterminated quote starting at character 1");
	ERR("(a b", "'(' at character 1 that is never closed");
	ERR("(((", "'(' at character 3 that is never closed");
	ERR("a b)", "')' at character 4 without a matching '('");
	ERR(")", "')' at character 1 without a matching '('");
	ERR("a ()", "empty parentheses at character 3");
	ERR("OR a", "starts with OR");
	ERR("  AND a", "starts with AND");
	ERR("AND", "starts with AND");
	ERR("a OR", "ends with OR");
	ERR("a AND ", "ends with AND");
	ERR("a OR OR b", "OR directly after OR at character 6");
	ERR("a AND OR b", "OR directly after AND at character 7");
	ERR("a OR AND b", "AND directly after OR at character 6");
	ERR("a AND AND b", "AND directly after AND at character 7");
	ERR("(OR a)", "OR at character 2 with no search term before it");
	ERR("(a OR) b", "OR at character 4 with no search term after it");
	ERR("-a", "excludes something at character 1");
	ERR("-a -\"b c\"", "excludes something at character 1");
	ERR("a OR -b", "excludes something at character 6");
	ERR("a (-b)", "excludes something at character 4");
	ERR("--- -b", "excludes something at character 5");
	ERR("*", "lone * at character 1");
	ERR("a -*", "lone * at character 4");
	ERR("a*", "fewer than 2 letters before the *");
	ERR("\"ab c\"*", "fewer than 2 letters before the *");
	ERR("\"\"*", "fewer than 2 letters before the *");
	ERR("---", "contains no words to search for");
	ERR("\xe2\x80\x93 \xe2\x80\x94 \xe2\x80\x9e\xe2\x80\x9c", "contains no words to search for");
	ERR("\"\" (...) -!", "contains no words to search for");
}

static void test_limits(void **state)
{
	char *big, *out = NULL;
	char buf[1024];
	size_t i, len;

	(void)state;
	/* 4096 bytes pass, 4097 do not */
	big = malloc(1u << 20);
	assert_non_null(big);
	memset(big, 'a', 1u << 20);
	assert_int_equal(eakte_query__translate(&out, big, 4096), 0);
	assert_int_equal(strlen(out), 4096 + 2);
	free(out);
	expect_error(big, 4097, "the search query is 4097 bytes long; the limit is 4096");
	expect_error(big, 1u << 20, "the search query is 1048576 bytes long; the limit is 4096");
	free(big);

	/* 64 terms pass, 65 and 100 do not */
	for (len = 0, i = 0; i < 64; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "w%zu ", i);
	assert_int_equal(eakte_query__translate(&out, buf, len), 0);
	free(out);
	expect_error("x w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 "
		"w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41 w42 w43 w44 "
		"w45 w46 w47 w48 w49 w50 w51 w52 w53 w54 w55 w56 w57 w58 w59 w60 w61 w62 w63",
		strlen("x w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 "
		"w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41 w42 w43 w44 "
		"w45 w46 w47 w48 w49 w50 w51 w52 w53 w54 w55 w56 w57 w58 w59 w60 w61 w62 w63"),
		"more than 64 search terms");
	for (len = 0, i = 0; i < 100; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "w%zu OR ", i);
	buf[len - 4] = '\0';
	expect_error(buf, len - 4, "more than 64 search terms");

	/* 16 levels of parentheses pass, 17 do not */
	snprintf(buf, sizeof(buf), "%.*sa%.*s", 16, "((((((((((((((((((((", 16, "))))))))))))))))))))");
	assert_int_equal(eakte_query__translate(&out, buf, strlen(buf)), 0);
	assert_string_equal(out, "\"a\"");
	free(out);
	snprintf(buf, sizeof(buf), "%.*sa%.*s", 17, "((((((((((((((((((((", 17, "))))))))))))))))))))");
	ERR(buf, "nests parentheses deeper than 16 levels at character 17");
}

static void test_search(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	search(db, "Müller", "1,2,3,5");
	search(db, "mueller", "1,2,3,5");
	search(db, "Grundstück", "1,3");
	search(db, "GRUNDSTUECK", "1,3");
	search(db, "Hauptstrasse", "2");
	/* prefixes, also with umlaut and ß */
	search(db, "Grundst*", "1,3,5");
	search(db, "Grundstü*", "1,3");
	search(db, "Straß*", "4");
	search(db, "Strass*", "4");
	search(db, "Mül*", "1,2,3,5");
	search(db, "Mue*", "1,2,3,5");
	/* phrases */
	search(db, "\"Max Müller\"", "5");
	search(db, "\"Müller Max\"", "");
	search(db, "Max Müller", "5");
	search(db, "\"Herr Mueller\"", "1");
	search(db, "\"Max Mül\"*", "5");
	/* OR, AND, NOT, groups */
	search(db, "Bauantrag OR Bauvoranfrage", "2,3,4");
	search(db, "Bauantrag AND Müller", "2");
	search(db, "Müller -Grundstück", "2,5");
	search(db, "Müller -Grundstück -Entwurf", "5");
	search(db, "Müller -\"Max Müller\"", "1,2,3");
	search(db, "Schmidt -(Einspruch OR Grundsteuer*)", "");
	search(db, "Schmidt -(Einspruch OR Baugenehmigung)", "5");
	search(db, "(Bauantrag OR Bauvoranfrage) Müller", "2,3");
	search(db, "(Bauantrag OR Bauvoranfrage) -Müller", "4");
	search(db, "(Bauantrag Süd) OR (Grundstück Flur)", "3,4");
	search(db, "Bauantrag -Entwurf OR Einspruch", "4,6");
	/* FTS5 syntax is text */
	search(db, "body:Müller", "");
	search(db, "Max: Einspruch", "6");
	search(db, "NEAR(Max Schmidt)", "");      /* the word "near" is in no document */
	search(db, "Max(Schmidt)", "5,6");
	search(db, "^Schmidt", "5,6");
	search(db, "Schmidt -NOT", "5,6");
	sqlite3_close(db);
}

/* Every query either fails with EAKTE_EINVALID and our message, or
 * translates into an expression that FTS5 accepts and runs. */
static void check_safe(sqlite3 *db, const char *q, size_t len)
{
	char *expr = NULL;
	int rc = eakte_query__translate(&expr, q, len);

	if (rc != 0) {
		if (rc != EAKTE_EINVALID)
			print_error("query %.*s: rc %d\n", (int)len, q, rc);
		assert_int_equal(rc, EAKTE_EINVALID);
		assert_null(expr);
		assert_true(strncmp(eakte_error_last(), "the search query ", 17) == 0);
		return;
	}
	rc = run_match(db, expr, NULL, 0);
	if (rc != SQLITE_DONE)
		print_error("query %.*s gave MATCH %s\n", (int)len, q, expr);
	assert_int_equal(rc, SQLITE_DONE);
	free(expr);
}

static void test_hostile(void **state)
{
	static const char *const hostile[] = {
		"body:x", "body : x", "{body}: x", "- body: x", "NEAR(a b)", "NEAR(a b, 2)", "NEAR", "^a",
		"a AND", "AND a", "a OR OR b", "a NOT", "NOT a", "a NOT b", "\"", "\"\"", "\"\"\"", "(((",
		")))", "(()", "())", "*", "**", "a*", "\"a\"*", "ab**", "* ab", "+", "a + b", "a:b:c", ":",
		"\\", "'", "' OR 1=1 --", "\"a\" \"b\" (c OR d) -\"e\" -f* g*", "-", "--", "- -", "-(",
		"-()", "-\"\"", "(-a)", "a (b OR) c", "a OR (b", "a) OR (b", "\xe2\x80\x9e" "Akte\xe2\x80\x9c",
		"\xef\xbc\x88" "a\xef\xbc\x89", "a\tb\nc\rd", "OR", "AND", "NOT", "or", "\xf0\x9f\x98\x80",
		"\xf0\x9f\x98\x80 Müller", "e\xcc\x81", "\xcc\x88", "\xcc\x88*", "x\xcc\x88x*", "rowid:1",
		"t:x", "*:x", "- OR -", "(a OR -b) c", "NEAR(\"a\" \"b\")", "a\"b\"c\"", "ab\"*",
	};
	static const char *const pieces[] = {
		"a", "Mü", "ß", "\"", "(", ")", "-", "*", " ", " ", "OR", "AND", "NOT", "NEAR", ":", "^",
		"+", "{", "}", ",", "\t", "\xe2\x80\x93", "\xcc\x88", "xy", "body",
	};
	sqlite3 *db = open_db();
	char buf[4096];
	uint32_t seed = 12345;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(hostile); i++)
		check_safe(db, hostile[i], strlen(hostile[i]));
	/* embedded NUL, invalid UTF-8, 1 MiB of 'a' */
	check_safe(db, "a\0b", 3);
	check_safe(db, "\xff\xfe", 2);
	{
		char *big = malloc(1u << 20);
		assert_non_null(big);
		memset(big, 'a', 1u << 20);
		check_safe(db, big, 1u << 20);
		free(big);
	}
	/* 100 terms */
	for (i = 0, n = 0; i < 100; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "t%zu ", i);
	check_safe(db, buf, (size_t)n);
	/* random sequences of the pieces above */
	for (i = 0; i < 20000; i++) {
		size_t len = 0, k, count;
		seed = seed * 1103515245u + 12345u;
		count = 1 + (seed >> 16) % 12;
		for (k = 0; k < count; k++) {
			const char *pc;
			seed = seed * 1103515245u + 12345u;
			pc = pieces[(seed >> 16) % EAKTE_ARRAY_SIZE(pieces)];
			memcpy(buf + len, pc, strlen(pc));
			len += strlen(pc);
		}
		check_safe(db, buf, len);
	}
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translation),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests_name("unit_query", tests, NULL, NULL);
}
