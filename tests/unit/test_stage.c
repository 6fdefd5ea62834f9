/*
 * test_stage.c - content staged ahead of filing (eakte_stage_fd(),
 * eakte_batch_add_staged()), as eakted's connection threads do it: staging
 * on several threads while a batch commits, adding the same staged content
 * again after a failed batch, and the object removed between staging and
 * filing (a disposal of the same bytes), with and without the descriptor
 * still holding those bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive.h"
#include "fixture.h"
#include "objstore.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

typedef ufx_archive fixture;

static int setup(void **state)
{
	static const char plan[] = "code;title;parent;retention;value\n10;Test;;5;V\n";
	fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	ufx_archive_new(fx, "stage", plan, "10", "S-1", EAKTE_OPEN_WRITE);
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

/* An unnamed file holding `len` bytes of text, different for each `seed`
 * (text: the archive's default format policy allows it). */
static int content_fd(unsigned int seed, size_t len)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	size_t i;

	assert_true(fd >= 0);
	for (i = 0; i < len; i++) {
		char c = i % 60 == 59 ? '\n' : (char)('a' + (i * 31u + seed * 7u + (i >> 6)) % 26u);
		assert_int_equal(write(fd, &c, 1), 1);
	}
	/* Staging reads from the start, whatever the offset. */
	return fd;
}

static void hex_sha256(char out[65], int fd)
{
	unsigned char buf[4096], md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int len, i;
	ssize_t n;

	assert_non_null(c);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		assert_int_equal(EVP_DigestUpdate(c, buf, (size_t)n), 1);
	assert_int_equal(EVP_DigestFinal_ex(c, md, &len), 1);
	EVP_MD_CTX_free(c);
	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void assert_filed(eakte_archive *a, const char *id, const char *sha)
{
	eakte_doc *d = NULL;

	assert_int_equal(eakte_doc_lookup(&d, a, id), 0);
	assert_string_equal(eakte_doc_sha256(d), sha);
	eakte_doc_free(d);
}

typedef struct {
	eakte_archive *a;
	int fd;
	eakte_staged *staged;
	int rc;
} stage_job;

static void *stage_thread(void *arg)
{
	stage_job *j = arg;

	j->rc = eakte_stage_fd(&j->staged, j->a, j->fd, "thread document");
	return NULL;
}

/* Four threads stage while a batch of other content commits. */
static void test_stage_concurrent(void **state)
{
	fixture *fx = *state;
	eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
	char ids[5][EAKTE_ID_LEN + 1], sha[5][65];
	pthread_t th[4];
	stage_job jobs[4];
	eakte_batch *b = NULL;
	int first, i;

	fo.akte = "S-1";
	first = content_fd(100, 70000);
	hex_sha256(sha[4], first);
	assert_int_equal(lseek(first, 0, SEEK_SET), 0);
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_fd(b, first, &fo, ids[4]), 0);
	for (i = 0; i < 4; i++) {
		jobs[i].a = fx->a;
		jobs[i].fd = content_fd((unsigned int)i, 50000 + (size_t)i * 1000);
		jobs[i].staged = NULL;
		hex_sha256(sha[i], jobs[i].fd);
		assert_int_equal(lseek(jobs[i].fd, 0, SEEK_SET), 0);
		assert_int_equal(pthread_create(&th[i], NULL, stage_thread, &jobs[i]), 0);
	}
	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].rc, 0);
		/* The descriptor is the caller's; the staged content has its own. */
		close(jobs[i].fd);
	}
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(eakte_batch_add_staged(b, jobs[i].staged, &fo, ids[i]), 0);
	assert_int_equal(eakte_batch_count(b), 4);
	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	for (i = 0; i < 5; i++)
		assert_filed(fx->a, ids[i], sha[i]);
	for (i = 0; i < 4; i++)
		eakte_staged_free(jobs[i].staged);
	close(first);
}

/* A refused batch files nothing; the same staged content goes into the
 * next one (what eakted does when one request of a group is refused). */
static void test_stage_retry(void **state)
{
	fixture *fx = *state;
	eakte_file_options ok = EAKTE_FILE_OPTIONS_INIT, bad = EAKTE_FILE_OPTIONS_INIT;
	char id[EAKTE_ID_LEN + 1], sha[65];
	eakte_staged *s = NULL;
	eakte_batch *b = NULL;
	int fd = content_fd(7, 30000);

	hex_sha256(sha, fd);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(eakte_stage_fd(&s, fx->a, fd, "retried"), 0);
	ok.akte = "S-1";
	bad.akte = "NO-SUCH-AKTE";
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &ok, id), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &bad, id), EAKTE_ENOTFOUND);
	eakte_batch_free(b);   /* given up: nothing filed */
	assert_int_equal(eakte_archive_size(fx->a), 3);
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &ok, id), 0);
	assert_int_equal(eakte_batch_commit(b), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &ok, id), EAKTE_EINVALID);   /* committed */
	eakte_batch_free(b);
	assert_filed(fx->a, id, sha);
	eakte_staged_free(s);
	close(fd);
}

/* The object went between staging and filing: the bytes are read again
 * from the kept descriptor; if they are no longer the same, refused. */
static void test_stage_object_gone(void **state)
{
	fixture *fx = *state;
	eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
	char id[EAKTE_ID_LEN + 1], sha[65];
	eakte_obj_dirty dirty;
	eakte_obj_info info;
	eakte_staged *s = NULL;
	eakte_batch *b = NULL;
	unsigned char z = 0;
	int fd = content_fd(9, 40000);

	fo.akte = "S-1";
	hex_sha256(sha, fd);
	/* The same bytes again, as the writer would see them: their name. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(eakte_stage_fd(&s, fx->a, fd, "went away"), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(&dirty, 0, sizeof(dirty));
	assert_int_equal(eakte_obj__write_fd(&info, fx->a->objects_fd, fd, NULL, &dirty, "probe"), 0);
	assert_int_equal(eakte_obj__remove(fx->a->objects_fd, info.oid, &dirty), 0);
	assert_false(eakte_obj__exists(fx->a->objects_fd, info.oid));

	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &fo, id), 0);
	assert_true(eakte_obj__exists(fx->a->objects_fd, info.oid));
	assert_int_equal(eakte_batch_commit(b), 0);
	eakte_batch_free(b);
	assert_filed(fx->a, id, sha);

	/* Gone again, and the file changed meanwhile: refused, nothing filed. */
	assert_int_equal(eakte_obj__remove(fx->a->objects_fd, info.oid, &dirty), 0);
	assert_int_equal(pwrite(fd, &z, 1, 100), 1);
	assert_int_equal(eakte_batch_new(&b, fx->a), 0);
	assert_int_equal(eakte_batch_add_staged(b, s, &fo, id), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "went away changed after it was received"));
	eakte_batch_free(b);
	eakte_staged_free(s);
	close(fd);
}

static void test_stage_needs_writer(void **state)
{
	fixture *fx = *state;
	eakte_archive *ro = NULL;
	eakte_staged *s = (eakte_staged *)&s;
	int fd = content_fd(1, 10);

	assert_int_equal(eakte_archive_open(&ro, fx->dir, EAKTE_OPEN_READ), 0);
	assert_int_equal(eakte_stage_fd(&s, ro, fd, NULL), EAKTE_EINVALID);
	assert_null(s);
	eakte_archive_free(ro);
	/* Not a regular file: named as the caller labelled it. */
	assert_int_equal(eakte_stage_fd(&s, fx->a, -1, "the label"), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "the label"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stage_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_object_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_needs_writer, setup, teardown),
	};

	return cmocka_run_group_tests_name("unit_stage", tests, NULL, NULL);
}
