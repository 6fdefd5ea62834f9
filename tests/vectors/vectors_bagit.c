/* The Library of Congress BagIt conformance suite (bagit-conformance-suite)
 * against lib/bag.c: every bag in v1.0/valid must validate, every bag in
 * v1.0/invalid must be refused.  v0.97 bags are outside what eakte reads
 * (RFC 8493 is BagIt 1.0): every one of them must be refused as an
 * unsupported version, never accepted by accident.  argv[1] is the vectors
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bag.h"

static const char *dir;

/* Validate every bag directory in `group`; expect 0 or EAKTE_EVERIFY.
 * Returns the number of bags. */
static size_t run_group(const char *group, int expect_valid, const char *must_say)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/bagit/%s", dir, group);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char bag[8192];
		int rc;
		if (e->d_name[0] == '.')
			continue;
		snprintf(bag, sizeof(bag), "%s/%s", path, e->d_name);
		rc = eakte_bag_validate_dir(bag);
		if (expect_valid && rc != 0)
			fail_msg("%s/%s should be valid: %s", group, e->d_name, eakte_error_last());
		if (!expect_valid && rc != EAKTE_EVERIFY)
			fail_msg("%s/%s should be refused, got %d", group, e->d_name, rc);
		if (!expect_valid && must_say != NULL && strstr(eakte_error_last(), must_say) == NULL)
			fail_msg("%s/%s: expected \"%s\" in \"%s\"", group, e->d_name, must_say, eakte_error_last());
		printf("%-8s %s/%s%s%s\n", rc == 0 ? "valid" : "refused", group, e->d_name, rc ? ": " : "", rc ? eakte_error_last() : "");
		n++;
	}
	closedir(d);
	return n;
}

static void test_v1_0(void **state)
{
	(void)state;
	assert_true(run_group("v1.0/valid", 1, NULL) >= 1);
	assert_true(run_group("v1.0/invalid", 0, NULL) >= 4);
	/* The suite has none of these for 1.0 today; if it gains some, a
	 * warning bag is still a valid bag. */
	run_group("v1.0/warning", 1, NULL);
	run_group("v1.0/linux-only", 0, NULL);
}

static void test_v0_97(void **state)
{
	static const char *const groups[] = { "valid", "invalid", "warning", "linux-only", "windows-only" };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		char g[64];
		snprintf(g, sizeof(g), "v0.97/%s", groups[i]);
		/* A bag without bagit.txt or with a broken one may be refused
		 * for that before its version is read. */
		n += run_group(g, 0, NULL);
	}
	assert_true(n >= 30);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_0),
		cmocka_unit_test(test_v0_97),
	};

	if (argc < 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: vectors_bagit VECTORS_DIR (meson -Dvectors_dir=...)\n");
		return 1;
	}
	dir = argv[1];
	return cmocka_run_group_tests_name("vectors_bagit", tests, NULL, NULL);
}
