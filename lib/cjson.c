/*
 * cjson.c - canonical JSON serialiser over jansson values, strict parser.
 */
#include "cjson.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump_string(eakte_sbuf *sb, const char *s, size_t n)
{
	size_t i, start = 0;

	eakte_sbuf__add(sb, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char ubuf[8];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
				esc = ubuf;
			}
		}
		if (esc != NULL) {
			eakte_sbuf__add(sb, s + start, i - start);
			eakte_sbuf__add(sb, esc, strlen(esc));
			start = i + 1;
		}
	}
	eakte_sbuf__add(sb, s + start, n - start);
	eakte_sbuf__add(sb, "\"", 1);
}

/* Next UTF-16 code unit of a valid UTF-8 string; *pending carries the low
 * surrogate of a supplementary character. */
static unsigned next_unit(const unsigned char **p, unsigned *pending)
{
	const unsigned char *s = *p;
	uint32_t cp;

	if (*pending) {
		unsigned u = *pending;
		*pending = 0;
		return u;
	}
	if (s[0] < 0x80) {
		cp = s[0];
		*p += 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		*p += 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		*p += 3;
	} else {
		cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
			((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		*p += 4;
	}
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*pending = 0xdc00 | (cp & 0x3ff);
		return 0xd800 | (cp >> 10);
	}
	return cp;
}

static int utf16_cmp(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	unsigned px = 0, py = 0;

	for (;;) {
		unsigned ux, uy;
		if ((*x == 0 && px == 0) || (*y == 0 && py == 0))
			return (*x == 0 && px == 0) ? ((*y == 0 && py == 0) ? 0 : -1) : 1;
		ux = next_unit(&x, &px);
		uy = next_unit(&y, &py);
		if (ux != uy)
			return ux < uy ? -1 : 1;
	}
}

static int dump_value(eakte_sbuf *sb, const json_t *v, int depth)
{
	char num[32];

	if (depth > 64)
		return eakte_error__set(EAKTE_EINVALID, "JSON nesting deeper than 64 levels");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys;
		const char *key;
		json_t *member;
		int rc = 0;

		keys = malloc((n ? n : 1) * sizeof(*keys));
		if (keys == NULL)
			return eakte_error__oom("serialising JSON");
		json_object_foreach((json_t *)v, key, member)
			keys[i++] = key;
		qsort(keys, n, sizeof(*keys), utf16_cmp);
		eakte_sbuf__add(sb, "{", 1);
		for (i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				eakte_sbuf__add(sb, ",", 1);
			dump_string(sb, keys[i], strlen(keys[i]));
			eakte_sbuf__add(sb, ":", 1);
			rc = dump_value(sb, json_object_get(v, keys[i]), depth + 1);
		}
		eakte_sbuf__add(sb, "}", 1);
		free(keys);
		return rc;
	}
	case JSON_ARRAY: {
		size_t i;
		int rc = 0;
		eakte_sbuf__add(sb, "[", 1);
		for (i = 0; i < json_array_size(v) && rc == 0; i++) {
			if (i > 0)
				eakte_sbuf__add(sb, ",", 1);
			rc = dump_value(sb, json_array_get(v, i), depth + 1);
		}
		eakte_sbuf__add(sb, "]", 1);
		return rc;
	}
	case JSON_STRING:
		dump_string(sb, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		eakte_sbuf__add(sb, num, strlen(num));
		return 0;
	case JSON_TRUE:
		eakte_sbuf__add(sb, "true", 4);
		return 0;
	case JSON_FALSE:
		eakte_sbuf__add(sb, "false", 5);
		return 0;
	case JSON_NULL:
		eakte_sbuf__add(sb, "null", 4);
		return 0;
	case JSON_REAL:
	default:
		return eakte_error__set(EAKTE_EINVALID, "canonical JSON allows integers only, found a real number");
	}
}

int eakte_cjson__dump(char **out, size_t *len, const json_t *v)
{
	eakte_sbuf sb = { 0 };
	int rc;

	*out = NULL;
	if (len)
		*len = 0;
	rc = dump_value(&sb, v, 0);
	if (rc == 0 && sb.failed)
		rc = eakte_error__oom("serialising JSON");
	if (rc < 0) {
		free(sb.buf);
		return rc;
	}
	*out = sb.buf;
	if (len)
		*len = sb.len;
	return 0;
}

static int has_real(const json_t *v, int depth)
{
	const char *key;
	json_t *m;
	size_t i;

	if (depth > 64)
		return 1;
	switch (json_typeof(v)) {
	case JSON_REAL:
		return 1;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, m)
			if (has_real(m, depth + 1))
				return 1;
		return 0;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++)
			if (has_real(json_array_get(v, i), depth + 1))
				return 1;
		return 0;
	default:
		return 0;
	}
}

int eakte_cjson__parse(json_t **out, const char *buf, size_t len, size_t max)
{
	json_error_t err;
	json_t *v;

	*out = NULL;
	if (len > max)
		return eakte_error__set(EAKTE_EINVALID, "JSON text of %zu bytes exceeds the limit of %zu bytes", len, max);
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (v == NULL)
		return eakte_error__set(EAKTE_EINVALID, "invalid JSON at line %d column %d: %s",
			err.line, err.column, err.text);
	if (has_real(v, 0)) {
		json_decref(v);
		return eakte_error__set(EAKTE_EINVALID, "JSON contains a real number or nests deeper than 64 levels; only integers are allowed");
	}
	*out = v;
	return 0;
}

int eakte_cjson__parse_canonical(json_t **out, const char *buf, size_t len, size_t max)
{
	json_t *v;
	char *again;
	size_t again_len;
	int rc;

	*out = NULL;
	if ((rc = eakte_cjson__parse(&v, buf, len, max)) < 0)
		return rc;
	if ((rc = eakte_cjson__dump(&again, &again_len, v)) < 0) {
		json_decref(v);
		return rc;
	}
	if (again_len != len || memcmp(again, buf, len) != 0) {
		size_t i = 0;
		while (i < len && i < again_len && again[i] == buf[i])
			i++;
		free(again);
		json_decref(v);
		return eakte_error__set(EAKTE_EINVALID, "JSON is not in canonical form (first difference at byte %zu)", i);
	}
	free(again);
	*out = v;
	return 0;
}

int eakte_cjson__get_string(const char **out, const json_t *obj, const char *key)
{
	json_t *m = json_object_get(obj, key);

	*out = NULL;
	if (!json_is_string(m))
		return eakte_error__set(EAKTE_EINVALID, "member \"%s\" is missing or not a string", key);
	*out = json_string_value(m);
	return 0;
}

int eakte_cjson__get_int(int64_t *out, const json_t *obj, const char *key)
{
	json_t *m = json_object_get(obj, key);

	*out = 0;
	if (!json_is_integer(m))
		return eakte_error__set(EAKTE_EINVALID, "member \"%s\" is missing or not an integer", key);
	*out = (int64_t)json_integer_value(m);
	return 0;
}

int eakte_cjson__get_object(const json_t **out, const json_t *obj, const char *key)
{
	json_t *m = json_object_get(obj, key);

	*out = NULL;
	if (!json_is_object(m))
		return eakte_error__set(EAKTE_EINVALID, "member \"%s\" is missing or not an object", key);
	*out = m;
	return 0;
}
