/*
 * fuzz_package.c - the export package reader (lib/package.c and the BagIt
 * validator lib/bag.c): eakte_package_verify() on the input as a package
 * file, in a memfd, once as a regular-file descriptor (zip by its central
 * directory) and once through a pipe (the streaming path).  Limits are
 * smaller than the defaults so that each run stays fast.
 *
 * Properties: the verification either runs (0 or EAKTE_EVERIFY, with a
 * JSON report whose "ok" says the same) or fails with an I/O or memory
 * error; a failure always names something (a non-empty message).
 */
#include "fuzz.h"

#include <eakte/eakte.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz.package", MFD_CLOEXEC);
	FUZZ_SETUP(memfd >= 0);
	return 0;
}

static void check(int rc, char *report)
{
	json_t *r;

	if (rc != 0 && rc != EAKTE_EVERIFY) {
		FUZZ_CHECK(report == NULL);
		FUZZ_CHECK(rc == EAKTE_EIO || rc == EAKTE_ENOMEM);
		return;
	}
	FUZZ_CHECK(report != NULL);
	r = json_loads(report, 0, NULL);
	FUZZ_CHECK(r != NULL);
	FUZZ_CHECK(json_is_true(json_object_get(r, "ok")) == (rc == 0));
	if (rc != 0)
		FUZZ_CHECK(eakte_error_last()[0] != '\0');
	json_decref(r);
	eakte_free(report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eakte_package_options o = EAKTE_PACKAGE_OPTIONS_INIT;
	char *report = NULL;
	int rc, p[2];

	o.max_members = 200;
	o.max_member_size = 1u << 20;
	o.max_total = 4u << 20;
	FUZZ_SETUP(ftruncate(memfd, 0) == 0);
	FUZZ_SETUP(pwrite(memfd, data, size, 0) == (ssize_t)size);
	FUZZ_SETUP(lseek(memfd, 0, SEEK_SET) == 0);
	rc = eakte_package_verify(&report, memfd, "fuzz", &o);
	check(rc, report);

	/* The streaming path: a pipe the input fits into. */
	if (size <= 60000) {
		FUZZ_SETUP(pipe(p) == 0);
		FUZZ_SETUP(write(p[1], data, size) == (ssize_t)size);
		close(p[1]);
		report = NULL;
		rc = eakte_package_verify(&report, p[0], "fuzz", &o);
		close(p[0]);
		check(rc, report);
	}
	return 0;
}
