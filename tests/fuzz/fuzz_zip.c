/*
 * fuzz_zip.c - a ZIP batch from a scanner hotfolder (daemon/zipbatch.c,
 * zip_unpack() through libarchive), with the limits a hotfolder enforces.
 * The input is the ZIP file's bytes, in a memfd as the hotfolder's
 * descriptor; members are unpacked into unnamed files in a private
 * directory.  The byte limit is 4 MiB here instead of the default 1 GiB
 * so that each run stays fast; the member and ratio limits are the
 * defaults.
 *
 * Properties: on success 1..zip_max_members members, each with a
 * non-empty name without '/' or a leading dot, and an open regular file;
 * together at most zip_max_bytes.
 */
#include "fuzz.h"
#include "zipbatch.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static dconf_hotfolder cfg;
static int tmpdir_fd, memfd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tmpdir_fd = open(fuzz_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_SETUP(tmpdir_fd >= 0);
	memfd = memfd_create("fuzz.zip", MFD_CLOEXEC);
	FUZZ_SETUP(memfd >= 0);
	cfg.zip_max_members = 1000;
	cfg.zip_max_bytes = 4u << 20;
	cfg.zip_max_ratio = 100;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char de[1400], en[1400];
	zip_member *m = NULL;
	size_t n = 0;
	unsigned long long total = 0;
	int rc;

	FUZZ_SETUP(ftruncate(memfd, 0) == 0);
	FUZZ_SETUP(pwrite(memfd, data, size, 0) == (ssize_t)size);
	FUZZ_SETUP(lseek(memfd, 0, SEEK_SET) == 0);
	de[0] = en[0] = '\0';
	rc = zip_unpack(&cfg, tmpdir_fd, memfd, (off_t)size, &m, &n, de, en, sizeof(de));
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc < 0) {
		FUZZ_CHECK(m == NULL && n == 0);
		if (rc == -1)
			FUZZ_CHECK(de[0] != '\0' && en[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(n >= 1 && n <= cfg.zip_max_members);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		FUZZ_CHECK(m[i].name[0] != '\0' && m[i].name[0] != '.' && strchr(m[i].name, '/') == NULL);
		FUZZ_CHECK(fstat(m[i].fd, &st) == 0 && S_ISREG(st.st_mode));
		total += (unsigned long long)st.st_size;
	}
	FUZZ_CHECK(total <= cfg.zip_max_bytes);
	zip_members_free(m, n);
	return 0;
}
