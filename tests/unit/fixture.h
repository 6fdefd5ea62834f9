/*
 * fixture.h - what several unit tests start from: a fresh archive in /tmp
 * with an Aktenplan and one Akte, opened for writing.
 */
#ifndef EAKTE_TEST_FIXTURE_H
#define EAKTE_TEST_FIXTURE_H

#include "archive.h"

typedef struct {
	char dir[64];
	eakte_archive *a;
} ufx_archive;

/* Create the archive in a new directory /tmp/eakte-unit-<tag>-XXXXXX,
 * import `plan_csv` and create Akte `az` under `plan_code`; open with
 * `flags` (EAKTE_OPEN_WRITE plus any others).  Fails the test on error. */
void ufx_archive_new(ufx_archive *fx, const char *tag, const char *plan_csv, const char *plan_code,
	const char *az, unsigned int flags);

/* Close the archive and remove its directory. */
void ufx_archive_free(ufx_archive *fx);

/* rm -rf dir (a path this test made). */
void ufx_rm_rf(const char *dir);

#endif
