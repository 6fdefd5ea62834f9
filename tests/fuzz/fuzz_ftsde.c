/*
 * fuzz_ftsde.c - the eakte_de tokenizer (lib/ftsde.c) on document text,
 * which is whatever the filed documents contain: each input is folded
 * directly and indexed into an FTS5 table (unicode61 splitting, then the
 * folding with colocated secondary forms), then removed again.
 *
 * Properties: folding never writes past the buffer it is given (a buffer
 * of twice the input always suffices, a smaller one may be refused); an
 * insert and a delete of any text succeed.
 */
#include "fuzz.h"
#include "ftsde.h"

#include <string.h>

static sqlite3 *db;
static sqlite3_stmt *ins, *del;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_SETUP(sqlite3_open(":memory:", &db) == SQLITE_OK);
	FUZZ_SETUP(eakte_ftsde__register(db) == 0);
	FUZZ_SETUP(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='eakte_de');",
		NULL, NULL, NULL) == SQLITE_OK);
	FUZZ_SETUP(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (1, ?1)", -1, &ins, NULL) == SQLITE_OK);
	FUZZ_SETUP(sqlite3_prepare_v2(db, "DELETE FROM t WHERE rowid = 1", -1, &del, NULL) == SQLITE_OK);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t big = 2 * size + 1, small = size / 2 + 1;
	char *out = malloc(big);
	int rc;

	FUZZ_SETUP(out != NULL);
	rc = eakte_ftsde__fold(out, big, (const char *)data, size);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(strlen(out) < big);
	rc = eakte_ftsde__fold(out, small, (const char *)data, size);
	FUZZ_CHECK(rc == 0 || rc == EAKTE_EINVALID);
	free(out);

	sqlite3_bind_text(ins, 1, (const char *)data, (int)size, SQLITE_STATIC);
	FUZZ_CHECK(sqlite3_step(ins) == SQLITE_DONE);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	FUZZ_CHECK(sqlite3_step(del) == SQLITE_DONE);
	sqlite3_reset(del);
	return 0;
}
