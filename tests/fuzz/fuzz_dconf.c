/*
 * fuzz_dconf.c - eakted's configuration file (daemon/dconf.c), read by
 * dconf_load() from a path; the input is put into a memfd and loaded
 * through /proc/self/fd/N, then checked with dconf_check() as at start
 * and on SIGHUP.
 *
 * Properties: every string field is NUL-terminated within its array,
 * and hotfolders stay within DCONF_MAX_HOTFOLDERS and their metadata
 * within DCONF_HF_MAX_META; dconf_free() leaves nothing behind (ASan's
 * leak check).
 */
#include "fuzz.h"
#include "dconf.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static int memfd;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("eakted.conf", MFD_CLOEXEC);
	FUZZ_SETUP(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dconf c;
	char err[1024];

	FUZZ_SETUP(ftruncate(memfd, 0) == 0);
	FUZZ_SETUP(pwrite(memfd, data, size, 0) == (ssize_t)size);
	dconf_defaults(&c);
	if (dconf_load(&c, path, err, sizeof(err)) == 0) {
		FUZZ_CHECK(TERMINATED(c.archive) && TERMINATED(c.socket) && TERMINATED(c.socket_group) &&
			TERMINATED(c.user));
		FUZZ_CHECK(c.nroles <= DCONF_MAX_ROLES && c.nhotfolders <= DCONF_MAX_HOTFOLDERS);
		for (size_t i = 0; i < c.nroles; i++)
			FUZZ_CHECK(TERMINATED(c.roles[i].group));
		for (size_t i = 0; i < c.nhotfolders; i++) {
			const dconf_hotfolder *h = &c.hotfolders[i];
			FUZZ_CHECK(TERMINATED(h->name) && TERMINATED(h->dir) && TERMINATED(h->akte) &&
				TERMINATED(h->done_dir) && TERMINATED(h->error_dir));
			FUZZ_CHECK(h->nmeta <= DCONF_HF_MAX_META);
			for (size_t j = 0; j < h->nmeta; j++)
				FUZZ_CHECK(TERMINATED(h->meta[j]));
		}
		(void)dconf_check(&c, err, sizeof(err));
	} else {
		FUZZ_CHECK(TERMINATED(err));
	}
	dconf_free(&c);
	return 0;
}
