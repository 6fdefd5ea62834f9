/*
 * ftsde.h - "eakte_de", a German-aware FTS5 tokenizer.
 *
 * It wraps FTS5's unicode61 tokenizer (which splits the text and
 * lowercases it) and folds each token it yields:
 *
 *   primary form:   ä→ae ö→oe ü→ue ß,ẞ→ss, and every other Latin letter
 *                   with a diacritic or ligature in U+00C0..U+024F and
 *                   U+1E00..U+1EFF to its base letters (é→e ç→c ł→l ø→o
 *                   æ→ae œ→oe å→a ...); combining marks are dropped, and
 *                   a/o/u + U+0308 (decomposed umlauts, as PDF text
 *                   extraction and macOS produce them) count as ä/ö/ü.
 *   secondary form: only for tokens with ä/ö/ü: the same, but ä→a ö→o ü→u.
 *
 * Documents (and FTS5's auxiliary functions) get the primary form and,
 * when it differs, the secondary form at the same position
 * (FTS5_TOKEN_COLOCATED); queries get only the primary form.  So
 * "Müller", "MÜLLER" and "Mueller" all find each other, "Muller" finds
 * "Müller" (but not the other way round), "Straße" = "Strasse", and the
 * prefix query Mül* searches for the prefix "muel".
 *
 * A folded token longer than EAKTE_FTSDE_TOKEN_MAX bytes is truncated to
 * its first EAKTE_FTSDE_TOKEN_MAX bytes (at a character boundary).  Query
 * terms are truncated the same way, so such a word is still found (along
 * with any other word sharing those first bytes).  Invalid UTF-8 bytes
 * pass through unchanged.
 *
 * Changing any of this changes what an existing index contains: an index
 * built with another version of the folding must be rebuilt.
 */
#ifndef EAKTE_FTSDE_H
#define EAKTE_FTSDE_H

#include "common.h"

#include <sqlite3.h>

#define EAKTE_FTSDE_NAME "eakte_de"
#define EAKTE_FTSDE_TOKEN_MAX 256

/*
 * Register the tokenizer on `db` (once per connection, before the FTS5
 * table is used).  The tokenizer takes no arguments: tokenize='eakte_de'.
 * EAKTE_EINVALID if this SQLite lacks FTS5, EAKTE_EIO on other SQLite
 * errors.  No global state: connections may be used from any thread.
 */
int eakte_ftsde__register(sqlite3 *db);

/*
 * Primary folding of the UTF-8 text in[0..inlen) into out, NUL-terminated.
 * Lowercases ASCII and the Latin letters listed above; unlike the
 * tokenizer (where unicode61 lowercases everything first) other scripts
 * keep their case.  No truncation: EAKTE_EINVALID if out (outlen bytes,
 * including the NUL) is too small.
 */
int eakte_ftsde__fold(char *out, size_t outlen, const char *in, size_t inlen);

#endif
