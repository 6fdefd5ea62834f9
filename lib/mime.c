/*
 * mime.c - signature fast path, then libmagic.
 */
#include "mime.h"

#include <stdlib.h>
#include <string.h>

#include <magic.h>

struct eakte_mime {
	magic_t magic; /* loaded on first use: most archives see only PDF/TIFF/JPEG */
};

int eakte_mime__new(eakte_mime **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return eakte_error__oom("creating a MIME detector");
	return 0;
}

void eakte_mime__free(eakte_mime *m)
{
	if (m == NULL)
		return;
	if (m->magic != NULL)
		magic_close(m->magic);
	free(m);
}

static const char *by_signature(const uint8_t *b, size_t n)
{
	if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		return "application/pdf";
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
		return "image/tiff";
	return NULL;
}

int eakte_mime__detect(eakte_mime *m, const uint8_t *buf, size_t len, char out[EAKTE_MIME_MAX])
{
	const char *t = by_signature(buf, len);

	if (t == NULL && len == 0)
		t = "application/x-empty";
	if (t == NULL) {
		if (m->magic == NULL) {
			m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
			if (m->magic == NULL)
				return eakte_error__set(EAKTE_ENOMEM, "cannot create a libmagic handle");
			if (magic_load(m->magic, NULL) != 0) {
				int rc = eakte_error__set(EAKTE_EIO,
					"cannot load the libmagic database: %s (is libmagic-mgc installed?)",
					magic_error(m->magic));
				magic_close(m->magic);
				m->magic = NULL;
				return rc;
			}
		}
		t = magic_buffer(m->magic, buf, len);
		if (t == NULL)
			t = "application/octet-stream";
	}
	if (strlen(t) >= EAKTE_MIME_MAX)
		t = "application/octet-stream";
	strcpy(out, t);
	return 0;
}

int eakte_mime__is_compressed(const char *mime)
{
	static const char *const compressed[] = {
		"application/pdf", "image/jpeg", "image/png", "image/tiff", "image/gif", "image/webp",
		"image/jp2", "application/zip", "application/gzip", "application/x-gzip",
		"application/x-xz", "application/x-bzip2", "application/zstd", "application/x-7z-compressed",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.presentation", "application/octet-stream",
	};
	size_t i;

	if (strncmp(mime, "video/", 6) == 0 || strncmp(mime, "audio/", 6) == 0)
		return 1;
	for (i = 0; i < EAKTE_ARRAY_SIZE(compressed); i++)
		if (strcmp(mime, compressed[i]) == 0)
			return 1;
	return 0;
}
