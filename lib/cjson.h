/*
 * cjson.h - canonical JSON for journal events and metadata objects.
 *
 * Canonical form (the RFC 8785 subset eakte uses): UTF-8; object members
 * sorted by the UTF-16 code units of their keys; no whitespace; strings
 * escape only '"', '\\' and control characters (\b \f \n \r \t, others as
 * \u00xx with lowercase hex); numbers are integers only; no duplicate keys.
 * A text is canonical if and only if parsing and re-serialising it gives
 * the same bytes.
 */
#ifndef EAKTE_CJSON_H
#define EAKTE_CJSON_H

#include "common.h"

#include <jansson.h>

/* Serialise v canonically; *out malloc'ed and NUL-terminated. Reals are
 * refused (EAKTE_EINVALID). */
int eakte_cjson__dump(char **out, size_t *len, const json_t *v);

/* Parse untrusted JSON of at most `max` bytes: duplicate keys, NUL in
 * strings, reals and trailing data are refused (EAKTE_EINVALID). */
int eakte_cjson__parse(json_t **out, const char *buf, size_t len, size_t max);

/* Parse and require the bytes to be canonical (EAKTE_EINVALID if not). */
int eakte_cjson__parse_canonical(json_t **out, const char *buf, size_t len, size_t max);

/* Typed getters for parsed objects: EAKTE_EINVALID naming the key when the
 * member is missing or of another type. */
int eakte_cjson__get_string(const char **out, const json_t *obj, const char *key);
int eakte_cjson__get_int(int64_t *out, const json_t *obj, const char *key);
int eakte_cjson__get_object(const json_t **out, const json_t *obj, const char *key);

#endif
