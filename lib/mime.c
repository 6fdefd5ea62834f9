/*
 * mime.c - signature fast path, then libmagic.
 */
#include "mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <magic.h>

struct eakte_mime {
	magic_t magic; /* loaded on first use: most archives see only PDF/TIFF/JPEG */
	void *db;      /* the compiled database, mapped by us */
	size_t db_len;
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
	if (m->db != NULL)
		munmap(m->db, m->db_len);
	free(m);
}

/*
 * Map the compiled database ourselves and hand libmagic the bytes: when
 * libmagic opens it and fails (a full or failing disk), it prints to
 * standard error and quietly parses the text sources instead; this way a
 * failure is ours to report.  The first NAME.mgc on libmagic's search path
 * is used (local text additions in /etc/magic are not).
 */
static int load_database(eakte_mime *m)
{
	const char *path = magic_getpath(NULL, 0);
	char cand[4096];
	int fd = -1;

	while (path != NULL && *path) {
		size_t n = strcspn(path, ":");
		int has_suffix = n > 4 && memcmp(path + n - 4, ".mgc", 4) == 0;
		snprintf(cand, sizeof(cand), "%.*s%s", (int)n, path, has_suffix ? "" : ".mgc");
		fd = open(cand, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		path += n + (path[n] == ':');
	}
	if (fd < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open the libmagic database %s (is libmagic-mgc installed?)",
			path && *path ? cand : "magic.mgc");
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		int e = errno;
		close(fd);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot read the libmagic database %s", cand);
	}
	m->db_len = (size_t)st.st_size;
	m->db = mmap(NULL, m->db_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->db == MAP_FAILED) {
		m->db = NULL;
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot map the libmagic database %s", cand);
	}
	if (magic_load_buffers(m->magic, &m->db, &m->db_len, 1) != 0)
		return eakte_error__set(EAKTE_EIO, "cannot load the libmagic database %s: %s", cand, magic_error(m->magic));
	return 0;
}

static const char *by_signature(const uint8_t *b, size_t n)
{
	if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		return "application/pdf";
	if (n >= 16 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0)
		return "image/png";
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
		return "image/tiff";
	return NULL;
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return n == 0 ? 0 : len; /* cut at the end of the sniffed buffer */
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Prose: libmagic spends about 2 ms on plain text (it tries every text
 * rule), 100 times more than on a PDF.  Text that is clearly prose is
 * recognised here: valid UTF-8 with no control characters but tab, CR and
 * LF, starting with a letter or digit, and whose first line is not a
 * header ("Word: ...", as in e-mail) or an mbox "From " line.  Anything
 * else (markup, scripts, mail, formats with a text signature) goes to
 * libmagic, which names these text/plain as well (tests/unit/test_mime.c
 * checks that both agree).
 */
static int is_prose(const uint8_t *b, size_t n)
{
	size_t i = 0, k;

	if (n == 0 || !((b[0] >= 'A' && b[0] <= 'Z') || (b[0] >= 'a' && b[0] <= 'z') ||
			(b[0] >= '0' && b[0] <= '9') || b[0] >= 0xc2))
		return 0;
	if (n >= 5 && memcmp(b, "From ", 5) == 0)
		return 0;
	for (k = 0; k < n && k < 80 && b[k] != '\n'; k++) {
		if (b[k] == ':' && k + 1 < n && b[k + 1] == ' ')
			return 0;
		if (!((b[k] >= 'A' && b[k] <= 'Z') || (b[k] >= 'a' && b[k] <= 'z') || (b[k] >= '0' && b[k] <= '9') || b[k] == '-'))
			break;
	}
	while (i < n) {
		size_t len;
		if (b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
			return 0;
		if (b[i] == 0x7f)
			return 0;
		len = utf8_len(b + i, n - i);
		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

int eakte_mime__detect(eakte_mime *m, const uint8_t *buf, size_t len, char out[EAKTE_MIME_MAX])
{
	const char *t = by_signature(buf, len);

	if (t == NULL && is_prose(buf, len))
		t = "text/plain";

	if (t == NULL && len == 0)
		t = "application/x-empty";
	if (t == NULL) {
		if (m->magic == NULL) {
			m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
			if (m->magic == NULL)
				return eakte_error__set(EAKTE_ENOMEM, "cannot create a libmagic handle");
			int rc = load_database(m);
			if (rc < 0) {
				magic_close(m->magic);
				m->magic = NULL;
				if (m->db != NULL)
					munmap(m->db, m->db_len);
				m->db = NULL;
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
