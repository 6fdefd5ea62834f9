/*
 * fuzz_query.c - the search query language (lib/query.c), translated into
 * an FTS5 MATCH expression, and that expression run by SQLite's FTS5 on a
 * table with the eakte_de tokenizer, as eakte_search() does.
 *
 * Property (query.h): nothing the user types reaches FTS5 as syntax, so
 * every translation that succeeds is an expression FTS5 accepts: a
 * "fts5: syntax error" or any other error from the MATCH is a finding.
 */
#include "fuzz.h"
#include "ftsde.h"
#include "query.h"

#include <string.h>

static sqlite3 *db;
static sqlite3_stmt *match;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_SETUP(sqlite3_open(":memory:", &db) == SQLITE_OK);
	FUZZ_SETUP(eakte_ftsde__register(db) == 0);
	FUZZ_SETUP(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='eakte_de');"
		"INSERT INTO t VALUES ('Bauantrag Müller', 'Grundstück Baden-Württemberg Straße 12');"
		"INSERT INTO t VALUES ('Entwurf', 'Max Mueller, NOT NEAR \"quoted\" a OR b');",
		NULL, NULL, NULL) == SQLITE_OK);
	FUZZ_SETUP(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &match, NULL) == SQLITE_OK);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = NULL;
	int rc;

	rc = eakte_query__translate(&expr, (const char *)data, size);
	if (rc != 0) {
		FUZZ_CHECK(expr == NULL && (rc == EAKTE_EINVALID || rc == EAKTE_ENOMEM));
		return 0;
	}
	FUZZ_CHECK(expr != NULL);
	sqlite3_bind_text(match, 1, expr, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(match)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		fprintf(stderr, "query [%.*s] -> [%s]: %s\n", (int)size, (const char *)data, expr, sqlite3_errmsg(db));
	FUZZ_CHECK(rc == SQLITE_DONE);
	sqlite3_reset(match);
	sqlite3_clear_bindings(match);
	free(expr);
	return 0;
}
