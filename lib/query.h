/*
 * query.h - a user's search query, translated into an FTS5 MATCH expression.
 *
 * Nothing the user types reaches FTS5 as syntax: every word and phrase is
 * emitted as an FTS5 string literal, and the operators come only from the
 * query language below.  Characters that mean something to FTS5 (: ^ + *
 * { } NEAR( and so on) are plain text inside those strings, where the
 * tokenizer drops them.
 *
 * Query language (also in docs/search.md, "Query syntax"):
 *
 *   Bauantrag Müller      both words must occur (AND); AND may be written
 *                         out too: Bauantrag AND Müller
 *   "Max Müller"          a phrase: these words, in this order
 *   Grund*                prefix: words starting with "Grund"; at least 2
 *                         letters or digits before the *; "Max Mül"* is a
 *                         phrase whose last word is a prefix
 *   a OR b                either (OR and AND only in capitals; lowercase
 *                         "or" and "and" are ordinary words)
 *   -Entwurf, -"a b"      must not occur; also -(a OR b).  Each group
 *                         needs at least one term that is searched for:
 *                         FTS5 can only take matches away from others
 *   (a OR b) c            parentheses group, up to 16 levels deep
 *
 * Whitespace (also no-break and other Unicode spaces) separates terms; a
 * "-" only excludes at the start of a term (Baden-Württemberg is one
 * word).  A term with no letter or digit (---, "–") is ignored.  NOT and
 * NEAR are ordinary words.
 *
 * Output: terms as "text" (inner " doubled), prefixes as "text" *, AND and
 * OR between them, compound operands in parentheses, and exclusions as
 * FTS5's binary NOT after the positive part of their group:
 *   a b -c -d      ->  ("a" AND "b") NOT "c" NOT "d"
 *   (a OR b) Mül*  ->  ("a" OR "b") AND "Mül" *
 *
 * Limits: 4096 bytes, 64 terms, 16 levels of parentheses.
 */
#ifndef EAKTE_QUERY_H
#define EAKTE_QUERY_H

#include "common.h"

#define EAKTE_QUERY_MAX_BYTES 4096
#define EAKTE_QUERY_MAX_TERMS 64
#define EAKTE_QUERY_MAX_DEPTH 16

/*
 * Translate the query q[0..len) (UTF-8, need not be NUL-terminated).
 * On success *out is a malloc'ed, NUL-terminated FTS5 expression that the
 * caller frees with free().  On failure *out is NULL and the result is
 * EAKTE_EINVALID, with a message for the user saying what is wrong and at
 * which character (counted from 1), or EAKTE_ENOMEM.
 */
int eakte_query__translate(char **out, const char *q, size_t len);

#endif
