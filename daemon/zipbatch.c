/*
 * zipbatch.c - a ZIP batch from a scanner hotfolder, unpacked with
 * libarchive into unnamed files within the hotfolder's limits; see
 * zipbatch.h.  Moved out of hotfolder.c unchanged, so that tests/fuzz/
 * can reach it.
 */
#include "zipbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

void zip_members_free(zip_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].fd >= 0)
			close(m[i].fd);
	free(m);
}

/* A ZIP member's name as a file name: its last component, UTF-8 kept
 * (anything else becomes '_'), no control characters, no leading dot. */
static void sanitise_name(const char *path, size_t index, char *out, size_t outlen)
{
	const char *base = path ? path : "";
	size_t o = 0;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	while (*base == '.' || *base == ' ')
		base++;
	for (const unsigned char *p = (const unsigned char *)base; *p && o + 5 < outlen && o < 200;) {
		size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		size_t k;
		for (k = 1; k < len; k++)
			if ((p[k] & 0xc0) != 0x80)
				break;
		if (len == 0 || k < len || (len == 2 && *p < 0xc2)) {
			out[o++] = '_';
			p++;
			continue;
		}
		if (len == 1 && (*p < 0x20 || *p == 0x7f || *p == ':'))
			out[o++] = '_';
		else
			for (k = 0; k < len; k++)
				out[o++] = (char)p[k];
		p += len;
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, outlen, "dokument-%zu", index + 1);
}

static int unnamed_file(int dirfd)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = memfd_create("eakted-zip-member", MFD_CLOEXEC);
	return fd;
}

int zip_unpack(const dconf_hotfolder *cfg, int tmpdirfd, int fd, off_t zsize, zip_member **out, size_t *nout,
	char *de, char *en, size_t rlen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	zip_member *m = NULL;
	size_t n = 0;
	unsigned long long total = 0;
	unsigned long long ratio_base = zsize > 0 ? (unsigned long long)zsize : 1;
	char *buf = malloc(65536);
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (a == NULL || buf == NULL) {
		archive_read_free(a);
		free(buf);
		return -2;
	}
	archive_read_support_format_zip(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		snprintf(de, rlen, "Die ZIP-Datei ist beschädigt oder kein ZIP: %s.", archive_error_string(a));
		snprintf(en, rlen, "the ZIP file is damaged or not a ZIP: %s.", archive_error_string(a));
		rc = -1;
		goto done;
	}
	for (;;) {
		int r = archive_read_next_header(a, &e);
		zip_member *nm;
		char name[256];

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			snprintf(de, rlen, "Die ZIP-Datei ist beschädigt: %s.", archive_error_string(a));
			snprintf(en, rlen, "the ZIP file is damaged: %s.", archive_error_string(a));
			rc = -1;
			goto done;
		}
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		sanitise_name(archive_entry_pathname(e), n, name, sizeof(name));
		if (archive_entry_filetype(e) != AE_IFREG) {
			snprintf(de, rlen, "Der ZIP-Eintrag %s ist keine gewöhnliche Datei (z. B. eine Verknüpfung).", name);
			snprintf(en, rlen, "the ZIP member %s is not a plain file (a link, for example).", name);
			rc = -1;
			goto done;
		}
		if (archive_entry_is_encrypted(e)) {
			snprintf(de, rlen, "Der ZIP-Eintrag %s ist verschlüsselt.", name);
			snprintf(en, rlen, "the ZIP member %s is encrypted.", name);
			rc = -1;
			goto done;
		}
		if (n == cfg->zip_max_members) {
			snprintf(de, rlen, "Die ZIP-Datei hat mehr als %u Dateien (zip_max_members).", cfg->zip_max_members);
			snprintf(en, rlen, "the ZIP file has more than %u members (zip_max_members).", cfg->zip_max_members);
			rc = -1;
			goto done;
		}
		if ((nm = realloc(m, (n + 1) * sizeof(*m))) == NULL) {
			rc = -2;
			goto done;
		}
		m = nm;
		snprintf(m[n].name, sizeof(m[n].name), "%s", name);
		if ((m[n].fd = unnamed_file(tmpdirfd)) < 0) {
			rc = -2;
			goto done;
		}
		n++;
		for (;;) {
			la_ssize_t got = archive_read_data(a, buf, 65536);
			if (got == 0)
				break;
			if (got < 0) {
				snprintf(de, rlen, "Der ZIP-Eintrag %s ist nicht lesbar: %s.", name, archive_error_string(a));
				snprintf(en, rlen, "the ZIP member %s cannot be read: %s.", name, archive_error_string(a));
				rc = -1;
				goto done;
			}
			total += (unsigned long long)got;
			if (total > cfg->zip_max_bytes) {
				snprintf(de, rlen, "Die ZIP-Datei entpackt mehr als %llu Bytes (zip_max_bytes).", cfg->zip_max_bytes);
				snprintf(en, rlen, "the ZIP file unpacks to more than %llu bytes (zip_max_bytes).", cfg->zip_max_bytes);
				rc = -1;
				goto done;
			}
			/* Small ZIPs of text compress well; only volume makes a bomb. */
			if (total > (1ull << 20) && total / ratio_base > cfg->zip_max_ratio) {
				snprintf(de, rlen, "Die ZIP-Datei entpackt mehr als das %u-fache ihrer Größe (zip_max_ratio; ZIP-Bombe?).", cfg->zip_max_ratio);
				snprintf(en, rlen, "the ZIP file unpacks to more than %u times its size (zip_max_ratio; a ZIP bomb?).", cfg->zip_max_ratio);
				rc = -1;
				goto done;
			}
			for (la_ssize_t off = 0; off < got;) {
				ssize_t w = write(m[n - 1].fd, buf + off, (size_t)(got - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					rc = -2;
					goto done;
				}
				off += w;
			}
		}
	}
	if (n == 0) {
		snprintf(de, rlen, "Die ZIP-Datei enthält keine Dateien.");
		snprintf(en, rlen, "the ZIP file holds no files.");
		rc = -1;
	}
done:
	archive_read_free(a);
	free(buf);
	if (rc < 0) {
		zip_members_free(m, n);
		return rc;
	}
	*out = m;
	*nout = n;
	return 0;
}
