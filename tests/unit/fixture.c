/*
 * fixture.c - see fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ufx_rm_rf(const char *dir)
{
	char cmd[128];

	assert_true(strncmp(dir, "/tmp/eakte-unit-", 16) == 0 && strchr(dir, '\'') == NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

void ufx_archive_new(ufx_archive *fx, const char *tag, const char *plan_csv, const char *plan_code,
	const char *az, unsigned int flags)
{
	eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
	char *made = NULL;
	size_t n;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/eakte-unit-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(fx->dir));
	ufx_rm_rf(fx->dir);   /* init wants to create it */
	assert_int_equal(eakte_archive_init(fx->dir, NULL), 0);
	assert_int_equal(eakte_archive_open(&fx->a, fx->dir, flags), 0);
	assert_int_equal(eakte_plan_import(fx->a, plan_csv, strlen(plan_csv), "plan.csv", NULL, &n), 0);
	ao.plan = plan_code;
	ao.az = az;
	ao.title = "Testakte";
	assert_int_equal(eakte_akte_create(fx->a, &ao, &made), 0);
	eakte_free(made);
}

void ufx_archive_free(ufx_archive *fx)
{
	eakte_archive_free(fx->a);
	fx->a = NULL;
	ufx_rm_rf(fx->dir);
}
