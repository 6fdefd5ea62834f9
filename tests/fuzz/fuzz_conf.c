/*
 * fuzz_conf.c - the archive's eakte.conf (lib/conf.c, INI through inih).
 * The file is written into a private directory and read with
 * eakte_conf__load(), as eakte_archive_open() does.
 *
 * Properties: an accepted file allows at least one and at most
 * EAKTE_CONF_MAX_FORMATS formats, each NUL-terminated within its slot,
 * and a timeout of 1..3600 s.
 */
#include "fuzz.h"
#include "conf.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int dirfd_;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dirfd_ = open(fuzz_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_SETUP(dirfd_ >= 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eakte_conf c;
	char text[EAKTE_CONF_MAX_FORMATS * 130];
	int fd = openat(dirfd_, EAKTE_CONF_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_SETUP(fd >= 0);
	FUZZ_SETUP(write(fd, data, size) == (ssize_t)size);
	FUZZ_SETUP(close(fd) == 0);
	if (eakte_conf__load(&c, dirfd_) != 0)
		return 0;
	FUZZ_CHECK(c.nformats >= 1 && c.nformats <= EAKTE_CONF_MAX_FORMATS);
	for (size_t i = 0; i < c.nformats; i++)
		FUZZ_CHECK(memchr(c.formats[i], '\0', sizeof(c.formats[i])) != NULL);
	FUZZ_CHECK(c.extract_timeout_ms >= 1000 && c.extract_timeout_ms <= 3600000);
	FUZZ_CHECK(memchr(c.pdftotext, '\0', sizeof(c.pdftotext)) != NULL);
	(void)eakte_conf__format_allowed(&c, "application/pdf");
	eakte_conf__formats_text(text, sizeof(text), &c);
	return 0;
}
