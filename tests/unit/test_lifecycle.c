/*
 * test_lifecycle.c - disposal paths the CLI cannot reach on its own:
 * archival value A with an `export` event (written here as the export
 * module writes it), and dispose events that an operator holding the key
 * forged (a wrong removed list, the proposer approving), which verify must
 * name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive.h"
#include "cjson.h"
#include "fixture.h"
#include "journal.h"
#include "life.h"
#include "records.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char plan_csv[] =
	"code;title;parent;retention;value\n"
	"70;Archivwuerdig;;5;A\n"
	"71;Vernichten;;5;V\n";

typedef ufx_archive fixture;

static char *file_one(eakte_archive *a, const char *dir, const char *az, const char *text)
{
	char path[128], id[EAKTE_ID_LEN + 1];
	eakte_batch *b = NULL;
	eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "%s.in.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	fo.akte = az;
	assert_int_equal(eakte_batch_new(&b, a), 0);
	assert_int_equal(eakte_batch_add_path(b, path, &fo, id), 0);
	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	unlink(path);
	return strdup(id);
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	char *doc;

	assert_non_null(fx);
	ufx_archive_new(fx, "life", plan_csv, "70", "A-1", EAKTE_OPEN_WRITE);
	doc = file_one(fx->a, fx->dir, "A-1", "Bauakte Inhalt\n");
	free(doc);
	assert_int_equal(eakte_akte_close(fx->a, "A-1", "2000-01-01", NULL), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;

	ufx_archive_free(fx);
	free(fx);
	return 0;
}

/* Append an event as-is (the caller gives every member but v, seq, prev, time). */
static uint64_t append(eakte_archive *a, json_t *ev)
{
	eakte_txn *t = NULL;
	uint64_t seq = 0;

	assert_int_equal(eakte_txn__begin(&t, a), 0);
	assert_int_equal(eakte_txn__append(t, ev, &seq), 0);
	assert_int_equal(eakte_txn__commit(t), 0);
	eakte_txn__free(t);
	json_decref(ev);
	assert_int_equal(eakte_records__after_commit(a), 0);
	return seq;
}

static json_t *read_event(eakte_archive *a, uint64_t seq)
{
	eakte_jcommit jc;
	json_t *ev = NULL;

	assert_int_equal(eakte_journal__load_index(a), 0);
	assert_int_equal(eakte_journal__read_commit(&jc, a, &a->commits[seq]), 0);
	assert_int_equal(eakte_cjson__parse(&ev, jc.json, jc.len, EAKTE_EVENT_MAX), 0);
	eakte_journal__jcommit_free(&jc);
	return ev;
}

static int verify_ok(eakte_archive *a, char *failure, size_t len)
{
	eakte_verify_report *r = NULL;
	int ok;

	assert_int_equal(eakte_verify(&r, a, NULL), 0);
	ok = eakte_verify_report_ok(r);
	snprintf(failure, len, "%s", eakte_verify_report_failure(r));
	eakte_verify_report_free(r);
	return ok;
}

static void test_value_a_needs_an_export_after_zda(void **state)
{
	fixture *fx = *state;
	uint64_t prop = 0, seq = 0, exp;
	json_t *ev;
	char failure[2048];

	assert_int_equal(eakte_dispose_propose(fx->a, "A-1", "Frist abgelaufen", "unix:1001:anna", &prop), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "archival value A"));
	/* An export, as `eakte export` records it. */
	exp = append(fx->a, json_pack("{s:s, s:s, s:s, s:{s:s, s:i}, s:i}", "action", "export", "akte", "A-1",
		"format", "bagit-tar", "package", "sha256",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "size", 12345, "checkpoint", 5));
	assert_int_equal(eakte_dispose_propose(fx->a, "A-1", "Frist abgelaufen", "unix:1001:anna", &prop), 0);
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "unix:1001:anna", &seq), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "four-eyes"));
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "unix:1002:bernd", &seq), 0);
	ev = read_event(fx->a, seq);
	assert_string_equal(json_string_value(json_object_get(ev, "value")), "A");
	assert_int_equal(json_integer_value(json_object_get(ev, "export")), exp);
	assert_int_equal(json_integer_value(json_object_get(ev, "proposal")), prop);
	assert_string_equal(json_string_value(json_object_get(ev, "proposed_by")), "unix:1001:anna");
	assert_string_equal(json_string_value(json_object_get(ev, "retention_end")), "2005-12-31");
	assert_int_equal(json_array_size(json_object_get(json_object_get(ev, "removed"), "docs")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ev, "removed"), "metas")), 1);
	json_decref(ev);
	assert_true(verify_ok(fx->a, failure, sizeof(failure)));
}

static void test_an_export_before_zda_does_not_count(void **state)
{
	fixture *fx = *state;
	uint64_t prop = 0;

	append(fx->a, json_pack("{s:s, s:s, s:s, s:{s:s, s:i}, s:i}", "action", "export", "akte", "A-1",
		"format", "bagit-zip", "package", "sha256",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "size", 1, "checkpoint", 5));
	assert_int_equal(eakte_akte_reopen(fx->a, "A-1", NULL), 0);
	assert_int_equal(eakte_akte_close(fx->a, "A-1", "2000-02-01", NULL), 0);
	assert_int_equal(eakte_dispose_propose(fx->a, "A-1", "Frist", "unix:1001:anna", &prop), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "not exported since its zdA"));
}

static void test_forged_dispose_events_fail_verify(void **state)
{
	fixture *fx = *state;
	json_t *removed, *ev;
	uint64_t prop = 0, seq;
	char failure[2048], *doc2;

	/* A second document, so that a list can leave one out. */
	assert_int_equal(eakte_akte_reopen(fx->a, "A-1", NULL), 0);
	doc2 = file_one(fx->a, fx->dir, "A-1", "noch ein Dokument\n");
	assert_int_equal(eakte_akte_close(fx->a, "A-1", "2000-03-01", NULL), 0);
	prop = append(fx->a, json_pack("{s:s, s:s, s:s, s:s}", "action", "dispose-propose", "akte", "A-1",
		"reason", "Frist", "actor", "unix:1001:anna"));
	/* The list the library would write (every file event of A-1 and its
	 * akte-create, from the journal), less the second document. */
	{
		json_t *docs = json_array(), *metas = json_array();
		for (uint64_t i = 0; i < eakte_archive_size(fx->a); i++) {
			json_t *e = read_event(fx->a, i);
			const char *act = json_string_value(json_object_get(e, "action"));
			if (strcmp(act, "file") == 0 && strcmp(json_string_value(json_object_get(e, "doc")), doc2) != 0)
				json_array_append_new(docs, json_pack("{s:O, s:O, s:O, s:O}", "doc", json_object_get(e, "doc"),
					"version", json_object_get(e, "version"),
					"content", json_object_get(json_object_get(e, "content"), "sha256"),
					"meta", json_object_get(json_object_get(e, "meta"), "sha256")));
			else if (strcmp(act, "akte-create") == 0)
				json_array_append_new(metas, json_pack("{s:I, s:O}", "seq", (json_int_t)i,
					"sha256", json_object_get(json_object_get(e, "meta"), "sha256")));
			json_decref(e);
		}
		removed = json_pack("{s:o, s:o}", "docs", docs, "metas", metas);
	}
	ev = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:O, s:s}", "action", "dispose", "akte", "A-1",
		"proposal", (json_int_t)prop, "proposed_by", "unix:1001:anna", "reason", "Frist", "retention_end",
		"2005-12-31", "value", "V", "removed", removed, "actor", "unix:1002:bernd");
	seq = append(fx->a, ev);
	assert_false(verify_ok(fx->a, failure, sizeof(failure)));
	assert_non_null(strstr(failure, "does not list document"));
	assert_non_null(strstr(failure, doc2));
	{
		char want[64];
		snprintf(want, sizeof(want), "event %llu", (unsigned long long)seq);
		assert_non_null(strstr(failure, want));
	}
	json_decref(removed);
	free(doc2);
}

static void test_forged_four_eyes_fails_verify(void **state)
{
	fixture *fx = *state;
	json_t *ev, *removed;
	uint64_t prop;
	char failure[2048];

	/* A complete list, but approved by the proposer (same uid, another
	 * name): the four-eyes check names it. */
	prop = append(fx->a, json_pack("{s:s, s:s, s:s, s:s}", "action", "dispose-propose", "akte", "A-1",
		"reason", "Frist", "actor", "unix:1001:anna"));
	{
		json_t *docs = json_array(), *metas = json_array();
		for (uint64_t i = 0; i < eakte_archive_size(fx->a); i++) {
			json_t *e = read_event(fx->a, i);
			const char *act = json_string_value(json_object_get(e, "action"));
			if (strcmp(act, "file") == 0)
				json_array_append_new(docs, json_pack("{s:O, s:O, s:O, s:O}", "doc", json_object_get(e, "doc"),
					"version", json_object_get(e, "version"),
					"content", json_object_get(json_object_get(e, "content"), "sha256"),
					"meta", json_object_get(json_object_get(e, "meta"), "sha256")));
			else if (strcmp(act, "akte-create") == 0)
				json_array_append_new(metas, json_pack("{s:I, s:O}", "seq", (json_int_t)i,
					"sha256", json_object_get(json_object_get(e, "meta"), "sha256")));
			json_decref(e);
		}
		removed = json_pack("{s:o, s:o}", "docs", docs, "metas", metas);
	}
	ev = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:O, s:s}", "action", "dispose", "akte", "A-1",
		"proposal", (json_int_t)prop, "proposed_by", "unix:1001:anna", "reason", "Frist", "retention_end",
		"2005-12-31", "value", "V", "removed", removed, "actor", "unix:1001:anna-again");
	append(fx->a, ev);
	json_decref(removed);
	assert_false(verify_ok(fx->a, failure, sizeof(failure)));
	assert_non_null(strstr(failure, "four-eyes"));
}

static void test_hotfolder_and_same_uid_are_refused(void **state)
{
	fixture *fx = *state;
	eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
	uint64_t prop = 0;
	char *az = NULL, *doc;

	ao.plan = "71";
	ao.az = "V-1";
	assert_int_equal(eakte_akte_create(fx->a, &ao, &az), 0);
	eakte_free(az);
	doc = file_one(fx->a, fx->dir, "V-1", "Vernichten\n");
	free(doc);
	assert_int_equal(eakte_akte_close(fx->a, "V-1", "2000-01-01", NULL), 0);
	assert_int_equal(eakte_dispose_propose(fx->a, "V-1", "Frist", "hotfolder:scanner1", &prop), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "hotfolder"));
	assert_int_equal(eakte_dispose_propose(fx->a, "V-1", "Frist", "unix:4242:anna", &prop), 0);
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "hotfolder:scanner1", NULL), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "hotfolder"));
	/* the uid decides, not the name */
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "unix:4242:anna-other-name", NULL), EAKTE_EPOLICY);
	assert_non_null(strstr(eakte_error_last(), "four-eyes"));
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "unix:4243:bernd", NULL), 0);
}

/* A disposal removes the objects no reference reaches any more, old state
 * commits included: on a handle that defers the state's flush (eakted),
 * the state reference must be durable before that, or a power failure
 * could bring back a state that names a removed commit. */
static void test_disposal_flushes_the_state_first(void **state)
{
	fixture *fx = *state;
	eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
	uint64_t prop = 0;
	char *az = NULL, *doc;

	eakte_archive_free(fx->a);
	assert_int_equal(eakte_archive_open(&fx->a, fx->dir, EAKTE_OPEN_WRITE | EAKTE_OPEN_DEFER_TIDY), 0);
	ao.plan = "71";
	ao.az = "V-2";
	assert_int_equal(eakte_akte_create(fx->a, &ao, &az), 0);
	eakte_free(az);
	doc = file_one(fx->a, fx->dir, "V-2", "Vernichten\n");
	free(doc);
	assert_int_equal(eakte_akte_close(fx->a, "V-2", "2000-01-01", NULL), 0);
	assert_int_equal(eakte_dispose_propose(fx->a, "V-2", "Frist", "unix:4242:anna", &prop), 0);
	assert_int_equal(fx->a->state_flush_pending, 1);
	assert_int_equal(eakte_dispose_approve(fx->a, prop, "unix:4243:bernd", NULL), 0);
	assert_int_equal(fx->a->state_flush_pending, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_value_a_needs_an_export_after_zda, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_export_before_zda_does_not_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_dispose_events_fail_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_four_eyes_fails_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hotfolder_and_same_uid_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disposal_flushes_the_state_first, setup, teardown),
	};

	return cmocka_run_group_tests_name("unit_lifecycle", tests, NULL, NULL);
}
