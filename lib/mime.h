/*
 * mime.h - MIME type of document content.
 *
 * The common archival formats are recognised by their signature first
 * (libmagic takes 20 us to 2 ms per call, see shared MEASURED.md); anything
 * else goes to libmagic.  A detector is not thread-safe: one per thread.
 */
#ifndef EAKTE_MIME_H
#define EAKTE_MIME_H

#include "common.h"

#define EAKTE_MIME_MAX 128
/* Bytes of the start of a file that detection looks at. */
#define EAKTE_MIME_SNIFF 65536

typedef struct eakte_mime eakte_mime;

int eakte_mime__new(eakte_mime **out);
void eakte_mime__free(eakte_mime *m);

/* Detect the type of content starting with buf[0..len); out gets e.g.
 * "application/pdf" (never empty: "application/octet-stream" if unknown). */
int eakte_mime__detect(eakte_mime *m, const uint8_t *buf, size_t len, char out[EAKTE_MIME_MAX]);

/* 1 if content of this type is already compressed, so deflate gains nothing. */
int eakte_mime__is_compressed(const char *mime);

#endif
