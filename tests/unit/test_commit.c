/*
 * test_commit.c - how a commit moves the two references (journal.c,
 * docs/format.md "Write order"): their new values go into git lock files
 * before the pack's flush and are renamed into place after it; a lock
 * another program holds, or a journal reference it moved, fails the commit
 * with nothing filed and the other program's lock left alone; the state's
 * directory flush is deferred to eakte_archive_tidy() for eakted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive.h"
#include "fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char plan_csv[] = "code;title;parent;retention;value\n10;Test;;5;V\n";

static int setup(void **state)
{
	ufx_archive *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	ufx_archive_new(fx, "commit", plan_csv, "10", "C-1", EAKTE_OPEN_WRITE);
	*state = fx;
	return 0;
}

static int setup_deferred(void **state)
{
	ufx_archive *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	ufx_archive_new(fx, "commit", plan_csv, "10", "C-1", EAKTE_OPEN_WRITE | EAKTE_OPEN_DEFER_TIDY);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	ufx_archive *fx = *state;

	ufx_archive_free(fx);
	free(fx);
	return 0;
}

static void path_in(char *out, size_t len, const ufx_archive *fx, const char *rel)
{
	snprintf(out, len, "%s/store.git/%s", fx->dir, rel);
}

static int exists(const ufx_archive *fx, const char *rel)
{
	char p[256];

	path_in(p, sizeof(p), fx, rel);
	return access(p, F_OK) == 0;
}

static void write_file(const ufx_archive *fx, const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	path_in(p, sizeof(p), fx, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void read_file(char *out, size_t len, const ufx_archive *fx, const char *rel)
{
	char p[256];
	FILE *f;
	size_t n;

	path_in(p, sizeof(p), fx, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* A reference file's text for `oid`, as git and eakte write it. */
static void ref_line(char out[GIT_OID_HEXSZ + 2], const git_oid *oid)
{
	git_oid_fmt(out, oid);
	out[GIT_OID_HEXSZ] = '\n';
	out[GIT_OID_HEXSZ + 1] = '\0';
}

static void assert_ref_names(const ufx_archive *fx, const char *name, const git_oid *oid)
{
	char text[64], line[GIT_OID_HEXSZ + 2];

	read_file(text, sizeof(text), fx, name);
	ref_line(line, oid);
	assert_string_equal(text, line);
}

/* Another program (stock libgit2 on its own repository handle) sets
 * reference `name` to `oid`. */
static void set_ref_elsewhere(const ufx_archive *fx, const char *name, const git_oid *oid)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	char store[128];

	snprintf(store, sizeof(store), "%s/store.git", fx->dir);
	assert_int_equal(git_repository_open_bare(&repo, store), 0);
	assert_int_equal(git_reference_create(&ref, repo, name, oid, 1, NULL), 0);
	git_reference_free(ref);
	git_repository_free(repo);
}

/* A batch of one small text document for Akte C-1, not yet committed. */
static eakte_batch *one_doc(ufx_archive *fx, const char *text)
{
	eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
	char id[EAKTE_ID_LEN + 1];
	eakte_batch *b = NULL;
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	fo.akte = "C-1";
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_fd(b, fd, &fo, id), 0);
	close(fd);
	return b;
}

/* Both references are plain git references ("<hex>\n") naming what the
 * handle says, and no lock file is left. */
static void test_commit_moves_both_references(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Antrag\n");
	uint64_t before = eakte_archive_size(fx->a);

	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	assert_int_equal(eakte_archive_size(fx->a), before + 1);
	assert_ref_names(fx, EAKTE_JOURNAL_REF, &fx->a->head);
	assert_ref_names(fx, EAKTE_STATE_REF, &fx->a->state_commit);
	assert_false(exists(fx, EAKTE_JOURNAL_REF ".lock"));
	assert_false(exists(fx, EAKTE_STATE_REF ".lock"));
	/* Without EAKTE_OPEN_DEFER_TIDY the state is flushed before return. */
	assert_int_equal(fx->a->state_flush_pending, 0);
}

/* eakted's handle leaves the state directory's flush to the tidy after
 * its answer; the renamed state is visible to a reader before that. */
static void test_deferred_state_flush(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Bescheid\n");
	eakte_archive *ro = NULL;

	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	assert_int_equal(fx->a->state_flush_pending, 1);
	assert_int_equal(eakte_archive_open(&ro, fx->dir, EAKTE_OPEN_READ), 0);
	assert_true(git_oid_equal(&ro->state_commit, &fx->a->state_commit));
	assert_int_equal(ro->state_size, fx->a->size);
	eakte_archive_free(ro);
	assert_int_equal(eakte_archive_tidy(fx->a), 0);
	assert_int_equal(fx->a->state_flush_pending, 0);
	assert_string_equal(eakte_archive_warning(fx->a), "");
}

/* Another program holds the journal's lock: nothing filed, its lock stays
 * as it was, no lock of ours stays behind; then the commit works. */
static void test_foreign_journal_lock(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Widerspruch\n");
	uint64_t before = eakte_archive_size(fx->a);
	git_oid head;
	char text[64], lock[256];

	git_oid_cpy(&head, &fx->a->head);
	write_file(fx, EAKTE_JOURNAL_REF ".lock", "theirs\n");
	assert_int_equal(eakte_batch_commit(b), EAKTE_ELOCKED);
	assert_non_null(strstr(eakte_error_last(), "refs/heads/journal is locked by another program"));
	assert_non_null(strstr(eakte_error_last(), "nothing"));
	eakte_batch_free(b);
	read_file(text, sizeof(text), fx, EAKTE_JOURNAL_REF ".lock");
	assert_string_equal(text, "theirs\n");
	assert_false(exists(fx, EAKTE_STATE_REF ".lock"));
	assert_int_equal(eakte_archive_size(fx->a), before);
	assert_true(git_oid_equal(&head, &fx->a->head));

	path_in(lock, sizeof(lock), fx, EAKTE_JOURNAL_REF ".lock");
	assert_int_equal(unlink(lock), 0);
	b = one_doc(fx, "Widerspruch\n");
	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	assert_int_equal(eakte_archive_size(fx->a), before + 1);
}

/* The state's lock is held: the journal's lock, already written, is taken
 * back, and nothing is filed. */
static void test_foreign_state_lock(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Vermerk\n");
	uint64_t before = eakte_archive_size(fx->a);

	write_file(fx, EAKTE_STATE_REF ".lock", "theirs\n");
	assert_int_equal(eakte_batch_commit(b), EAKTE_ELOCKED);
	assert_non_null(strstr(eakte_error_last(), "refs/eakte/state is locked by another program"));
	eakte_batch_free(b);
	assert_false(exists(fx, EAKTE_JOURNAL_REF ".lock"));
	assert_true(exists(fx, EAKTE_STATE_REF ".lock"));
	assert_int_equal(eakte_archive_size(fx->a), before);
}

/* Another program moved the journal reference after this handle read it:
 * the compare-and-swap refuses, nothing is filed and the reference keeps
 * the other program's value. */
static void test_journal_moved_behind_the_writer(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Anhörung\n");
	uint64_t before = eakte_archive_size(fx->a);
	git_oid head, parent;
	git_commit *c = NULL;

	git_oid_cpy(&head, &fx->a->head);
	assert_int_equal(git_commit_lookup(&c, fx->a->repo, &head), 0);
	git_oid_cpy(&parent, git_commit_parent_id(c, 0));
	git_commit_free(c);
	set_ref_elsewhere(fx, EAKTE_JOURNAL_REF, &parent);
	assert_int_equal(eakte_batch_commit(b), EAKTE_ELOCKED);
	assert_non_null(strstr(eakte_error_last(), "moved by someone else"));
	assert_non_null(strstr(eakte_error_last(), "nothing"));
	eakte_batch_free(b);
	assert_ref_names(fx, EAKTE_JOURNAL_REF, &parent);
	assert_false(exists(fx, EAKTE_JOURNAL_REF ".lock"));
	assert_false(exists(fx, EAKTE_STATE_REF ".lock"));
	assert_int_equal(eakte_archive_size(fx->a), before);
	/* Put it back, as an operator would, so that teardown finds it whole. */
	set_ref_elsewhere(fx, EAKTE_JOURNAL_REF, &head);
}

/* The state reference was moved behind the writer's back: the journal has
 * moved already when its compare-and-swap fails, so the commit fails
 * saying the events are filed, eakte_batch_filed() says so too, and the
 * next writer brings the state up to the journal. */
static void test_failure_after_the_commit_point(void **state)
{
	ufx_archive *fx = *state;
	eakte_batch *b = one_doc(fx, "Stellungnahme\n");
	uint64_t before = eakte_archive_size(fx->a);
	eakte_archive *ro = NULL;
	git_oid state_was;

	git_oid_cpy(&state_was, &fx->a->state_commit);
	/* any other commit will do: the journal head */
	set_ref_elsewhere(fx, EAKTE_STATE_REF, &fx->a->head);
	assert_int_equal(eakte_batch_filed(b), 0);
	assert_int_equal(eakte_batch_commit(b), EAKTE_EIO);
	assert_non_null(strstr(eakte_error_last(), "the events are filed"));
	assert_null(strstr(eakte_error_last(), "nothing"));
	assert_int_equal(eakte_batch_filed(b), 1);
	eakte_batch_free(b);
	assert_false(exists(fx, EAKTE_STATE_REF ".lock"));
	/* The operator puts the state back; the next writer catches up. */
	set_ref_elsewhere(fx, EAKTE_STATE_REF, &state_was);
	eakte_archive_free(fx->a);
	assert_int_equal(eakte_archive_open(&ro, fx->dir, EAKTE_OPEN_READ), 0);
	assert_int_equal(eakte_archive_size(ro), before + 1);
	assert_int_equal(ro->state_size, before);
	eakte_archive_free(ro);
	assert_int_equal(eakte_archive_open(&fx->a, fx->dir, EAKTE_OPEN_WRITE), 0);
	assert_int_equal(eakte_archive_size(fx->a), before + 1);
	assert_int_equal(fx->a->state_size, before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_moves_both_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_state_flush, setup_deferred, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_journal_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_state_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_moved_behind_the_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_the_commit_point, setup, teardown),
	};

	return cmocka_run_group_tests_name("unit_commit", tests, NULL, NULL);
}
