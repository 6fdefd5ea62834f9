/*
 * ftsde.c - the "eakte_de" FTS5 tokenizer: unicode61 plus German folding.
 *
 * The wrapped unicode61 tokenizer is created with "remove_diacritics 0",
 * so that ä, ö, ü reach us intact: with 1 or 2 it would turn them into a,
 * o, u, and "Müller" could never match "Mueller".  It lowercases, and it
 * keeps combining diacritics inside their word (a decomposed "u" + U+0308
 * stays in "müller"); fold() drops those marks, or turns a diaeresis on
 * a/o/u into the German "e".  Everything here is per call or per
 * tokenizer instance: there is no global mutable state.
 */
#include "ftsde.h"
#include "text.h"

#include <string.h>

/*
 * Base letters of the Latin letters U+00C0..U+024F and U+1E00..U+1EFF,
 * lowercase ASCII.  Generated from the Unicode decompositions (NFD, then
 * NFKD for ligatures such as ǆ, ĳ), with hand-chosen entries for letters
 * that have no decomposition (æ ø ł đ ð þ ß ħ ı ŧ ŋ ĸ ſ œ and the like).
 * "" means: no sensible base letter (×, ÷, schwa, ezh, tone letters, ...),
 * the character is kept as it is.  ä ö ü have "a" "o" "u" here: that is
 * their secondary form; fold() gives them "ae" "oe" "ue" first.
 */
static const char latin_00c0[][3] = {
	/* 00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* 00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* 00D0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* 00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
	/* 00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* 00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* 00F0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* 00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
	/* 0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
	/* 0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
	/* 0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
	/* 0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
	/* 0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
	/* 0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
	/* 0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
	/* 0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
	/* 0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
	/* 0148 */ "n", "n", "n", "n", "o", "o", "o", "o",
	/* 0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
	/* 0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
	/* 0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* 0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* 0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
	/* 0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
	/* 0180 */ "b", "b", "b", "b", "", "", "", "c",
	/* 0188 */ "c", "d", "d", "d", "d", "", "", "",
	/* 0190 */ "", "f", "f", "g", "", "hv", "", "i",
	/* 0198 */ "k", "k", "l", "", "", "n", "n", "o",
	/* 01A0 */ "o", "o", "", "", "p", "p", "", "",
	/* 01A8 */ "", "", "", "t", "t", "t", "t", "u",
	/* 01B0 */ "u", "", "v", "y", "y", "z", "z", "",
	/* 01B8 */ "", "", "", "", "", "", "", "",
	/* 01C0 */ "", "", "", "", "dz", "dz", "dz", "lj",
	/* 01C8 */ "lj", "lj", "nj", "nj", "nj", "a", "a", "i",
	/* 01D0 */ "i", "o", "o", "u", "u", "u", "u", "u",
	/* 01D8 */ "u", "u", "u", "u", "u", "", "a", "a",
	/* 01E0 */ "a", "a", "ae", "ae", "g", "g", "g", "g",
	/* 01E8 */ "k", "k", "o", "o", "o", "o", "", "",
	/* 01F0 */ "j", "dz", "dz", "dz", "g", "g", "", "",
	/* 01F8 */ "n", "n", "a", "a", "ae", "ae", "o", "o",
	/* 0200 */ "a", "a", "a", "a", "e", "e", "e", "e",
	/* 0208 */ "i", "i", "i", "i", "o", "o", "o", "o",
	/* 0210 */ "r", "r", "r", "r", "u", "u", "u", "u",
	/* 0218 */ "s", "s", "t", "t", "", "", "h", "h",
	/* 0220 */ "n", "d", "ou", "ou", "z", "z", "a", "a",
	/* 0228 */ "e", "e", "o", "o", "o", "o", "o", "o",
	/* 0230 */ "o", "o", "y", "y", "l", "n", "t", "j",
	/* 0238 */ "db", "qp", "a", "c", "c", "l", "t", "s",
	/* 0240 */ "z", "", "", "b", "u", "", "e", "e",
	/* 0248 */ "j", "j", "q", "q", "r", "r", "y", "y",
};
static const char latin_1e00[][3] = {
	/* 1E00 */ "a", "a", "b", "b", "b", "b", "b", "b",
	/* 1E08 */ "c", "c", "d", "d", "d", "d", "d", "d",
	/* 1E10 */ "d", "d", "d", "d", "e", "e", "e", "e",
	/* 1E18 */ "e", "e", "e", "e", "e", "e", "f", "f",
	/* 1E20 */ "g", "g", "h", "h", "h", "h", "h", "h",
	/* 1E28 */ "h", "h", "h", "h", "i", "i", "i", "i",
	/* 1E30 */ "k", "k", "k", "k", "k", "k", "l", "l",
	/* 1E38 */ "l", "l", "l", "l", "l", "l", "m", "m",
	/* 1E40 */ "m", "m", "m", "m", "n", "n", "n", "n",
	/* 1E48 */ "n", "n", "n", "n", "o", "o", "o", "o",
	/* 1E50 */ "o", "o", "o", "o", "p", "p", "p", "p",
	/* 1E58 */ "r", "r", "r", "r", "r", "r", "r", "r",
	/* 1E60 */ "s", "s", "s", "s", "s", "s", "s", "s",
	/* 1E68 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* 1E70 */ "t", "t", "u", "u", "u", "u", "u", "u",
	/* 1E78 */ "u", "u", "u", "u", "v", "v", "v", "v",
	/* 1E80 */ "w", "w", "w", "w", "w", "w", "w", "w",
	/* 1E88 */ "w", "w", "x", "x", "x", "x", "y", "y",
	/* 1E90 */ "z", "z", "z", "z", "z", "z", "h", "t",
	/* 1E98 */ "w", "y", "a", "s", "s", "s", "ss", "",
	/* 1EA0 */ "a", "a", "a", "a", "a", "a", "a", "a",
	/* 1EA8 */ "a", "a", "a", "a", "a", "a", "a", "a",
	/* 1EB0 */ "a", "a", "a", "a", "a", "a", "a", "a",
	/* 1EB8 */ "e", "e", "e", "e", "e", "e", "e", "e",
	/* 1EC0 */ "e", "e", "e", "e", "e", "e", "e", "e",
	/* 1EC8 */ "i", "i", "i", "i", "o", "o", "o", "o",
	/* 1ED0 */ "o", "o", "o", "o", "o", "o", "o", "o",
	/* 1ED8 */ "o", "o", "o", "o", "o", "o", "o", "o",
	/* 1EE0 */ "o", "o", "o", "o", "u", "u", "u", "u",
	/* 1EE8 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* 1EF0 */ "u", "u", "y", "y", "y", "y", "y", "y",
	/* 1EF8 */ "y", "y", "ll", "ll", "", "", "y", "y",
};

/* Decode one character of s[0..n), n >= 1, strictly (no overlongs, no
 * surrogates, nothing above U+10FFFF).  Returns its length in bytes; *cp
 * is the code point, or -1 for a byte that starts no valid sequence (then
 * the length is 1), so that invalid input is passed through byte by byte
 * and nothing beyond s[n - 1] is ever read. */
static size_t utf8_next(const unsigned char *s, size_t n, int32_t *cp)
{
	size_t len = eakte_utf8__decode(s, n, cp);

	if (len == 0) {
		*cp = -1;
		return 1;
	}
	return len;
}

/* Marks that only decorate the letter before them. */
static int is_combining(int32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
		(cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
		(cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f);
}

static int is_aou(int32_t cp)
{
	switch (cp) {
	case 'a': case 'o': case 'u': case 'A': case 'O': case 'U': return 1;
	default: return 0;
	}
}

static const char *latin_base(int32_t cp)
{
	/* unsigned: a code point below the range wraps to a huge index */
	uint32_t a = (uint32_t)cp - 0x00c0u, b = (uint32_t)cp - 0x1e00u;
	const char *s;

	if (cp < 0)
		return NULL;
	if (a < EAKTE_ARRAY_SIZE(latin_00c0))
		s = latin_00c0[a];
	else if (b < EAKTE_ARRAY_SIZE(latin_1e00))
		s = latin_1e00[b];
	else
		return NULL;
	return s[0] != '\0' ? s : NULL;
}

static const char *umlaut_primary(int32_t cp)
{
	switch (cp) {
	case 0xc4: case 0xe4: return "ae";
	case 0xd6: case 0xf6: return "oe";
	case 0xdc: case 0xfc: return "ue";
	default: return NULL;
	}
}

/*
 * Fold in[0..n) into out[0..cap) (no NUL): the primary form, or with
 * `secondary` the form with ä→a ö→o ü→u.  Returns the number of bytes
 * written.  Sets *umlaut when the input has ä, ö or ü (also decomposed),
 * and *cut when the output did not fit and was cut at a character.
 */
static size_t fold(char *out, size_t cap, const unsigned char *in, size_t n, int secondary,
	int *umlaut, int *cut)
{
	size_t i = 0, o = 0;
	int32_t prev = -1;

	while (i < n) {
		int32_t cp;
		size_t len = utf8_next(in + i, n - i, &cp);
		const char *rep;
		char lower[1];
		const char *src;
		size_t slen;

		if (cp >= 'A' && cp <= 'Z') {
			lower[0] = (char)(cp - 'A' + 'a');
			src = lower;
			slen = 1;
		} else if (cp == 0x0308 && is_aou(prev)) {
			*umlaut = 1;
			src = secondary ? "" : "e";
			slen = strlen(src);
		} else if (is_combining(cp)) {
			src = "";
			slen = 0;
		} else if ((rep = umlaut_primary(cp)) != NULL) {
			*umlaut = 1;
			src = secondary ? latin_base(cp) : rep;
			slen = strlen(src);
		} else if ((rep = latin_base(cp)) != NULL) {
			src = rep;
			slen = strlen(src);
		} else {
			/* other characters, and invalid bytes, as they are */
			src = (const char *)in + i;
			slen = len;
		}
		if (slen > cap - o) {
			*cut = 1;
			break;
		}
		memcpy(out + o, src, slen);
		o += slen;
		prev = cp;
		i += len;
	}
	return o;
}

int eakte_ftsde__fold(char *out, size_t outlen, const char *in, size_t inlen)
{
	int umlaut = 0, cut = 0;
	size_t n;

	if (outlen == 0)
		return eakte_error__set(EAKTE_EINVALID, "folding text for search: the output buffer has 0 bytes");
	n = fold(out, outlen - 1, (const unsigned char *)in, inlen, 0, &umlaut, &cut);
	out[n] = '\0';
	if (cut)
		return eakte_error__set(EAKTE_EINVALID,
			"folding %zu bytes of text for search: the output buffer of %zu bytes is too small",
			inlen, outlen);
	return 0;
}

/* --- the FTS5 tokenizer ------------------------------------------------ */

/* One instance per FTS5 table that uses tokenize='eakte_de'. */
typedef struct {
	fts5_tokenizer inner_api;       /* unicode61's methods */
	Fts5Tokenizer *inner;           /* unicode61 instance */
} de_tokenizer;

/* One per xTokenize call, on its stack. */
typedef struct {
	void *caller;
	int (*xToken)(void *, int, const char *, int, int, int);
	int query;
} de_call;

static int de_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	/* Fixed arguments: the folding below relies on them (see top). */
	const char *inner_argv[] = { "remove_diacritics", "0" };
	fts5_api *api = ctx;
	de_tokenizer *t;
	void *inner_ctx = NULL;
	int rc;

	EAKTE_UNUSED(argv);
	*out = NULL;
	/* Arguments would change what gets indexed, and an index can only be
	 * searched with the tokenizer it was built with: refuse them. */
	if (argc != 0)
		return SQLITE_ERROR;
	t = sqlite3_malloc(sizeof(*t));
	if (t == NULL)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	rc = api->xFindTokenizer(api, "unicode61", &inner_ctx, &t->inner_api);
	if (rc == SQLITE_OK)
		rc = t->inner_api.xCreate(inner_ctx, inner_argv,
			(int)EAKTE_ARRAY_SIZE(inner_argv), &t->inner);
	if (rc != SQLITE_OK) {
		sqlite3_free(t);
		return rc;
	}
	*out = (Fts5Tokenizer *)(void *)t;
	return SQLITE_OK;
}

static void de_delete(Fts5Tokenizer *tok)
{
	de_tokenizer *t = (de_tokenizer *)(void *)tok;

	if (t == NULL)
		return;
	if (t->inner != NULL)
		t->inner_api.xDelete(t->inner);
	sqlite3_free(t);
}

static int de_token(void *ctx, int tflags, const char *tok, int ntok, int start, int end)
{
	de_call *call = ctx;
	char prim[EAKTE_FTSDE_TOKEN_MAX], sec[EAKTE_FTSDE_TOKEN_MAX];
	size_t np, ns;
	int umlaut = 0, cut = 0, rc;

	if (ntok <= 0)
		return SQLITE_OK;
	np = fold(prim, sizeof(prim), (const unsigned char *)tok, (size_t)ntok, 0, &umlaut, &cut);
	/* a token of combining marks only would leave nothing to index
	 * (unicode61 starts no token with a mark today; be safe anyway) */
	if (np == 0)
		return SQLITE_OK;
	rc = call->xToken(call->caller, tflags, prim, (int)np, start, end);
	if (rc != SQLITE_OK || call->query || !umlaut)
		return rc;
	ns = fold(sec, sizeof(sec), (const unsigned char *)tok, (size_t)ntok, 1, &umlaut, &cut);
	if (ns == 0 || (ns == np && memcmp(sec, prim, np) == 0))
		return SQLITE_OK;
	return call->xToken(call->caller, FTS5_TOKEN_COLOCATED, sec, (int)ns, start, end);
}

static int de_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int ntext,
	int (*xToken)(void *, int, const char *, int, int, int))
{
	de_tokenizer *t = (de_tokenizer *)(void *)tok;
	de_call call;

	call.caller = ctx;
	call.xToken = xToken;
	/* Queries search the primary form only: the secondary one is in the
	 * index wherever the document had an umlaut.  Documents and the
	 * auxiliary functions (highlight, snippet) get both. */
	call.query = (flags & FTS5_TOKENIZE_QUERY) != 0;
	return t->inner_api.xTokenize(t->inner, &call, flags, text, ntext, de_token);
}

int eakte_ftsde__register(sqlite3 *db)
{
	/* FTS5 copies the methods (fts5_main.c, fts5CreateTokenizer), so they
	 * need not outlive this call. */
	fts5_tokenizer methods = { de_create, de_delete, de_tokenize };
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;
	fts5_tokenizer probe;
	void *probe_ctx = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		rc = eakte_error__set(EAKTE_EIO,
			"registering the %s search tokenizer: cannot reach SQLite's FTS5 API: %s; "
			"eakte needs an SQLite built with FTS5", EAKTE_FTSDE_NAME, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	if (api == NULL || api->iVersion < 2)
		return eakte_error__set(EAKTE_EVERSION,
			"registering the %s search tokenizer: SQLite's FTS5 API is missing or older than version 2; "
			"use SQLite 3.40 or newer", EAKTE_FTSDE_NAME);
	/* Look for unicode61 now, so that a missing one is reported here and
	 * not as an opaque error when a table is first opened. */
	if (api->xFindTokenizer(api, "unicode61", &probe_ctx, &probe) != SQLITE_OK)
		return eakte_error__set(EAKTE_EIO,
			"registering the %s search tokenizer: SQLite's FTS5 has no unicode61 tokenizer",
			EAKTE_FTSDE_NAME);
	/* The api pointer lives as long as the connection: it is the context. */
	rc = api->xCreateTokenizer(api, EAKTE_FTSDE_NAME, api, &methods, NULL);
	if (rc != SQLITE_OK)
		return eakte_error__set(rc == SQLITE_NOMEM ? EAKTE_ENOMEM : EAKTE_EIO,
			"registering the %s search tokenizer: %s", EAKTE_FTSDE_NAME, sqlite3_errstr(rc));
	return 0;
}
