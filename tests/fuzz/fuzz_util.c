/*
 * fuzz_util.c - helpers for the fuzz targets; see fuzz.h.
 */
#include "fuzz.h"

#include <string.h>
#include <unistd.h>

static char *tmp_path;

static void remove_tmp(void)
{
	char cmd[4200];

	/* The path is ours (mkdtemp) and has no quote in it. */
	if (tmp_path != NULL && strchr(tmp_path, '\'') == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_path);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", tmp_path);
	}
	free(tmp_path);
	tmp_path = NULL;
}

const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	if (tmp_path != NULL)
		return tmp_path;
	if (base == NULL || base[0] == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/eakte-fuzz-XXXXXX", base);
	FUZZ_SETUP(mkdtemp(tmpl) != NULL);
	tmp_path = strdup(tmpl);
	FUZZ_SETUP(tmp_path != NULL);
	atexit(remove_tmp);
	return tmp_path;
}
