/* Unit tests: the eakte_de FTS5 tokenizer (lib/ftsde.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftsde.h"

/* Rowids are the index + 1. */
static const char *const docs[] = {
	/* 1 */ "Herr Müller beantragt eine Baugenehmigung",
	/* 2 */ "Frau Mueller wohnt in der Hauptstraße 5",
	/* 3 */ "MÜLLER GmbH, Grundstück Flur 7",
	/* 4 */ "Muller & Söhne, Strasse am Bach",
	/* 5 */ "Der Bauantrag für das Grundstück wurde abgelehnt",
	/* 6 */ "Bauvoranfrage: ÖFFENTLICHE Straßenbeleuchtung",
	/* 7 */ "Café Français in Łódź, Ærø und Œuvre; Ångström",
	/* 8, decomposed (NFD) umlauts as PDF extraction produces them */
	"Akte von Mu\xcc\x88ller aus Ko\xcc\x88ln, Cafe\xcc\x81",
	/* 9 */ "Die GROẞSTADT",
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

/* The rowids matching an FTS5 expression, as "1,3,8" ("" for none). */
static void matches(sqlite3 *db, const char *match, char *buf, size_t cap)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid",
		-1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = snprintf(buf + len, cap - len, "%s%lld", len ? "," : "",
			(long long)sqlite3_column_int64(st, 0));
		assert_true(n > 0 && (size_t)n < cap - len);
		len += (size_t)n;
	}
	if (rc != SQLITE_DONE)
		print_error("MATCH %s: %s\n", match, sqlite3_errmsg(db));
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
}

static void expect(sqlite3 *db, const char *match, const char *want)
{
	char got[256];

	matches(db, match, got, sizeof(got));
	if (strcmp(got, want) != 0) {
		print_error("MATCH %s: rows {%s}, expected {%s}\n", match, got, want);
		fail();
	}
}

static void test_umlaut_equivalence(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	/* ü = ue in both directions and in any case; 8 is decomposed */
	expect(db, "\"Müller\"", "1,2,3,8");
	expect(db, "\"Mueller\"", "1,2,3,8");
	expect(db, "\"MÜLLER\"", "1,2,3,8");
	expect(db, "\"mÜlLeR\"", "1,2,3,8");
	expect(db, "\"MUELLER\"", "1,2,3,8");
	expect(db, "\"Mu\xcc\x88ller\"", "1,2,3,8");
	/* without the e it is another name, which an umlaut may also mean */
	expect(db, "\"Muller\"", "1,3,4,8");
	/* ö = oe, also capital */
	expect(db, "\"Söhne\"", "4");
	expect(db, "\"Soehne\"", "4");
	expect(db, "\"Sohne\"", "4");
	expect(db, "\"öffentliche\"", "6");
	expect(db, "\"Oeffentliche\"", "6");
	expect(db, "\"Köln\"", "8");
	expect(db, "\"koeln\"", "8");
	/* ü in the middle of a word */
	expect(db, "\"Grundstück\"", "3,5");
	expect(db, "\"grundstueck\"", "3,5");
	expect(db, "\"Grundstuck\"", "3,5");
	expect(db, "\"fuer\"", "5");
	expect(db, "\"FÜR\"", "5");
	sqlite3_close(db);
}

static void test_sharp_s(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	expect(db, "\"Straße\"", "4");
	expect(db, "\"Strasse\"", "4");
	expect(db, "\"STRASSE\"", "4");
	expect(db, "\"Hauptstrasse\"", "2");
	expect(db, "\"Hauptstraße\"", "2");
	expect(db, "\"Straßenbeleuchtung\"", "6");
	expect(db, "\"strassenbeleuchtung\"", "6");
	/* capital sharp s U+1E9E */
	expect(db, "\"Großstadt\"", "9");
	expect(db, "\"grossstadt\"", "9");
	expect(db, "\"GROẞSTADT\"", "9");
	sqlite3_close(db);
}

static void test_diacritics(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	expect(db, "\"Cafe\"", "7,8");
	expect(db, "\"café\"", "7,8");
	expect(db, "\"CAFÉ\"", "7,8");
	expect(db, "\"francais\"", "7");
	expect(db, "\"FRANÇAIS\"", "7");
	expect(db, "\"Lodz\"", "7");
	expect(db, "\"ŁÓDŹ\"", "7");
	expect(db, "\"aero\"", "7");
	expect(db, "\"Ærø\"", "7");
	expect(db, "\"oeuvre\"", "7");
	expect(db, "\"Angstroem\"", "7");
	expect(db, "\"Angström\"", "7");
	expect(db, "\"Ångstrom\"", "7");
	sqlite3_close(db);
}

static void test_prefix_and_phrase(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	/* FTS5 passes the prefix through the tokenizer: Mül -> muel */
	expect(db, "\"Mül\" *", "1,2,3,8");
	expect(db, "\"Mul\" *", "1,3,4,8");
	expect(db, "\"Grundst\" *", "3,5");
	expect(db, "\"Grundstü\" *", "3,5");
	expect(db, "\"Straß\" *", "4,6");
	expect(db, "\"Ströme\" *", "");
	/* phrases see both forms at the same position */
	expect(db, "\"Herr Müller\"", "1");
	expect(db, "\"Herr Muller\"", "1");
	expect(db, "\"herr mueller beantragt\"", "1");
	expect(db, "\"Müller GmbH\"", "3");
	expect(db, "\"Muller GmbH\"", "3");
	expect(db, "\"Frau Müller\"", "2");
	expect(db, "\"Frau Muller\"", "");
	expect(db, "\"für das Grundstück\"", "5");
	sqlite3_close(db);
}

/* highlight() tokenizes the document again (FTS5_TOKENIZE_AUX): the
 * second form must not move or double the highlighted span. */
static void test_highlight_offsets(void **state)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st = NULL;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT highlight(t, 0, '[', ']') FROM t WHERE t MATCH '\"Mueller\"' AND rowid = 1",
		-1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
		"Herr [Müller] beantragt eine Baugenehmigung");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_hostile_documents(void **state)
{
	/* invalid UTF-8 of every kind, a lone combining mark, cut sequences
	 * at the very end (ASan checks that nothing outside is read) */
	static const char *const bad[] = {
		"M\xfcller \xff\xfe abc",
		"x \xc3",
		"\xe2\x82 abc",
		"\xf0\x9f\x98 def",
		"\xed\xa0\x80 ghi",
		"\xc0\xaf \xc1\x81 jkl",
		"u\xcc\x88 \xcc\x88 \xcc\x88\xcc\x88 mno",
		"\xf4\x90\x80\x80 pqr",
	};
	sqlite3 *db = open_db();
	sqlite3_stmt *st = NULL;
	size_t i;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?1, ?2)", -1, &st, NULL),
		SQLITE_OK);
	for (i = 0; i < EAKTE_ARRAY_SIZE(bad); i++) {
		/* exact length and a heap copy without NUL, so that a read past
		 * the end is caught */
		size_t n = strlen(bad[i]);
		char *copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, bad[i], n);
		sqlite3_bind_int64(st, 1, 100 + (sqlite3_int64)i);
		sqlite3_bind_text(st, 2, copy, (int)n, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		free(copy);
	}
	sqlite3_finalize(st);
	expect(db, "\"abc\"", "100,102");
	expect(db, "\"mno\"", "106");
	expect(db, "\"pqr\"", "107");
	/* a query of marks only: no tokens, an empty phrase, no rows */
	expect(db, "\"\xcc\x88\"", "");
	expect(db, "\"\xff\"", "");
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t(t) VALUES('integrity-check')", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
}

/* Documented: folded tokens are cut at 256 bytes, queries alike. */
static void test_long_tokens(void **state)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st = NULL;
	char word[300 * 2 + 1], q[300 * 2 + 3];
	size_t i;

	(void)state;
	for (i = 0; i < 300; i++)
		memcpy(word + 2 * i, "\xc3\xa4", 2);        /* ä, folds to ae */
	word[600] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (50, ?1)", -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_text(st, 1, word, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);

	snprintf(q, sizeof(q), "\"%s\"", word);
	expect(db, q, "50");
	/* the first 128 ä are the first 256 folded bytes: the same token */
	snprintf(q, sizeof(q), "\"%.*s\"", 256, word);
	expect(db, q, "50");
	snprintf(q, sizeof(q), "\"%.*s\"", 254, word);
	expect(db, q, "");
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t(t) VALUES('integrity-check')", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
}

static void test_arguments_refused(void **state)
{
	sqlite3 *db = open_db();

	(void)state;
	assert_int_not_equal(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE u USING fts5(body, tokenize='eakte_de remove_diacritics 2')",
		NULL, NULL, NULL), SQLITE_OK);
	/* registering twice replaces the tokenizer: harmless */
	assert_int_equal(eakte_ftsde__register(db), 0);
	expect(db, "\"Mueller\"", "1,2,3,8");
	sqlite3_close(db);
}

static void test_fold(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Müller", "mueller" },
		{ "MÜLLER", "mueller" },
		{ "Ärger Öl Übel", "aerger oel uebel" },
		{ "Straße", "strasse" },
		{ "STRAẞE", "strasse" },
		{ "Łódź", "lodz" },
		{ "Ærøskøbing", "aeroskobing" },
		{ "Œuvre", "oeuvre" },
		{ "Ångström", "angstroem" },
		{ "Ça été", "ca ete" },
		{ "Þórr Đorđe", "thorr dorde" },
		{ "Mu\xcc\x88ller", "mueller" },
		{ "e\xcc\x81", "e" },
		{ "Nguyễn", "nguyen" },
		{ "×÷", "×÷" },
		{ "Ελλάδα", "Ελλάδα" },     /* only unicode61 lowercases other scripts */
		{ "\xff\xc3", "\xff\xc3" },  /* invalid bytes pass through */
		{ "", "" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(cases); i++) {
		assert_int_equal(eakte_ftsde__fold(out, sizeof(out), cases[i].in, strlen(cases[i].in)), 0);
		assert_string_equal(out, cases[i].out);
	}
	/* "mueller" needs 8 bytes with the NUL */
	assert_int_equal(eakte_ftsde__fold(out, 8, "Müller", 7), 0);
	assert_int_equal(eakte_ftsde__fold(out, 7, "Müller", 7), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "too small"));
	assert_int_equal(eakte_ftsde__fold(out, 0, "a", 1), EAKTE_EINVALID);
	/* inlen is respected: no NUL needed, nothing read beyond */
	assert_int_equal(eakte_ftsde__fold(out, sizeof(out), "Müller", 3), 0);
	assert_string_equal(out, "mue");
	assert_int_equal(eakte_ftsde__fold(out, sizeof(out), "Müller", 2), 0);
	assert_string_equal(out, "m\xc3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_umlaut_equivalence),
		cmocka_unit_test(test_sharp_s),
		cmocka_unit_test(test_diacritics),
		cmocka_unit_test(test_prefix_and_phrase),
		cmocka_unit_test(test_highlight_offsets),
		cmocka_unit_test(test_hostile_documents),
		cmocka_unit_test(test_long_tokens),
		cmocka_unit_test(test_arguments_refused),
		cmocka_unit_test(test_fold),
	};
	return cmocka_run_group_tests_name("unit_ftsde", tests, NULL, NULL);
}
