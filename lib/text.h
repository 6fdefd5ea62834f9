/*
 * text.h - small text helpers shared by the modules that build or read
 * strings: a growing string buffer and a strict UTF-8 decoder.
 */
#ifndef EAKTE_TEXT_H
#define EAKTE_TEXT_H

#include "common.h"

/* A NUL-terminated string that grows; after an allocation failure it
 * stays as it was and `failed` is set (checked once, at the end). */
typedef struct {
	char *buf;
	size_t len, cap;
	int failed;
} eakte_sbuf;

void eakte_sbuf__add(eakte_sbuf *sb, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF) with *cp its code point, or 0 if the
 * bytes there are not valid UTF-8.  Never reads beyond s[n - 1]. */
size_t eakte_utf8__decode(const unsigned char *s, size_t n, int32_t *cp);

#endif
