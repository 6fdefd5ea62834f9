/*
 * fuzz_plan.c - Aktenplan import files, CSV and JSON (lib/plan.c), as
 * `eakte plan import` and the daemon's plan-import read them.
 *
 * Properties: an accepted plan has 1..EAKTE_PLAN_MAX_ENTRIES entries that
 * keep the documented limits; eakte_plan__to_json() (which validates
 * again) accepts it, and eakte_plan__from_json() gives back exactly the
 * same entries.  The hierarchy check runs on it as an import would.
 */
#include "fuzz.h"
#include "plan.h"

#include <string.h>

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eakte_plan p, q;
	json_t *j = NULL;
	size_t i;

	if (eakte_plan__parse(&p, (const char *)data, size, "fuzz.csv") != 0) {
		FUZZ_CHECK(p.entries == NULL && p.count == 0);
		return 0;
	}
	FUZZ_CHECK(p.count >= 1 && p.count <= EAKTE_PLAN_MAX_ENTRIES);
	for (i = 0; i < p.count; i++) {
		const eakte_plan_entry *e = &p.entries[i];
		FUZZ_CHECK(strlen(e->code) >= 1 && strlen(e->code) <= EAKTE_PLAN_CODE_MAX);
		FUZZ_CHECK(strlen(e->title) >= 1 && strlen(e->title) <= EAKTE_PLAN_TITLE_MAX);
		FUZZ_CHECK(e->retention == EAKTE_PLAN_UNBEFRISTET ||
			(e->retention >= 0 && e->retention <= EAKTE_PLAN_RETENTION_MAX));
		FUZZ_CHECK(e->value == 'A' || e->value == 'B' || e->value == 'V');
	}
	(void)eakte_plan__check(&p, NULL, NULL, "fuzz.csv");
	FUZZ_CHECK(eakte_plan__to_json(&j, &p) == 0);
	FUZZ_CHECK(eakte_plan__from_json(&q, j) == 0);
	FUZZ_CHECK(q.count == p.count);
	for (i = 0; i < p.count; i++) {
		const eakte_plan_entry *a = &p.entries[i], *b = &q.entries[i];
		FUZZ_CHECK(same(a->code, b->code) && same(a->title, b->title) && same(a->parent, b->parent) &&
			a->retention == b->retention && a->value == b->value);
	}
	json_decref(j);
	eakte_plan__free(&q);
	eakte_plan__free(&p);
	return 0;
}
