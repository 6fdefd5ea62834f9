/* Unit tests: loose-object writer and verifying reader (lib/objstore.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "encode.h"
#include "mime.h"
#include "objstore.h"

typedef struct {
	char dir[64];
	int fd;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/eakte-objstore-XXXXXX");
	if (f == NULL || mkdtemp(f->dir) == NULL)
		return -1;
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[128];
	pid_t pid;

	close(f->fd);
	snprintf(cmd, sizeof(cmd), "%s", f->dir);
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(f);
	return 0;
}

static int collect(const uint8_t *buf, size_t len, void *payload)
{
	EVP_DigestUpdate(payload, buf, len);
	return 0;
}

/* The empty blob has the well-known git name e69de29b... */
static void test_empty_blob_name(void **state)
{
	fixture *f = *state;
	eakte_obj_info info;
	eakte_obj_dirty dirty;
	char hex[41];

	memset(&dirty, 0, sizeof(dirty));
	assert_int_equal(eakte_obj__write_mem(&info, f->fd, "", 0, 1, &dirty), 0);
	eakte_hex__encode(hex, info.oid, 20);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	assert_int_equal(dirty.fanout[0xe6], 1);
	assert_int_equal(dirty.objects, 1);
	assert_int_equal(eakte_obj__sync(f->fd, &dirty), 0);
	assert_true(eakte_obj__exists(f->fd, info.oid));
}

static void roundtrip(fixture *f, const char *path, size_t size, const char *expect_mime)
{
	eakte_obj_info w, r;
	eakte_obj_dirty dirty;
	eakte_mime *mime;
	uint8_t *buf = malloc(size + 1);
	uint8_t sha[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd;
	size_t i;

	memset(&dirty, 0, sizeof(dirty));
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 9));
	if (expect_mime && strcmp(expect_mime, "application/pdf") == 0)
		memcpy(buf, "%PDF-1.4", 8);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	fd = open(path, O_RDONLY);
	assert_int_equal(eakte_mime__new(&mime), 0);
	assert_int_equal(eakte_obj__write_fd(&w, f->fd, fd, mime, &dirty, path), 0);
	close(fd);
	eakte_mime__free(mime);
	if (expect_mime)
		assert_string_equal(w.mime, expect_mime);
	assert_int_equal(w.size, size);
	EVP_Digest(buf, size, sha, NULL, EVP_sha256(), NULL);
	assert_memory_equal(sha, w.sha256, 32);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	assert_int_equal(eakte_obj__read(&r, f->fd, w.oid, collect, ctx), 0);
	EVP_DigestFinal_ex(ctx, sha, NULL);
	assert_memory_equal(sha, w.sha256, 32);
	assert_memory_equal(r.sha256, w.sha256, 32);
	assert_int_equal(r.size, size);
	EVP_MD_CTX_free(ctx);
	free(buf);
}

static void test_roundtrip_sizes(void **state)
{
	fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/input", f->dir);
	roundtrip(f, path, 1, NULL);
	roundtrip(f, path, 100000, "application/pdf");
	roundtrip(f, path, (3u << 20) + 17, "application/pdf");   /* several chunks, stored */
	roundtrip(f, path, (2u << 20) + 5, NULL);                  /* deflated */
}

static void test_read_detects_corruption(void **state)
{
	fixture *f = *state;
	eakte_obj_info w, r;
	eakte_obj_dirty dirty;
	char hex[41], path[128];
	uint8_t data[4096];
	int fd;

	memset(&dirty, 0, sizeof(dirty));
	memset(data, 'x', sizeof(data));
	assert_int_equal(eakte_obj__write_mem(&w, f->fd, data, sizeof(data), 0, &dirty), 0);
	eakte_hex__encode(hex, w.oid, 20);
	snprintf(path, sizeof(path), "%s/%.2s/%s", f->dir, hex, hex + 2);
	chmod(path, 0644);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "y", 1, 2000), 1);
	close(fd);
	assert_int_equal(eakte_obj__read(&r, f->fd, w.oid, NULL, NULL), EAKTE_ECORRUPT);
	/* a missing object is reported as such */
	w.oid[19] ^= 1;
	assert_int_equal(eakte_obj__read(&r, f->fd, w.oid, NULL, NULL), EAKTE_ENOTFOUND);
}

static void test_not_regular(void **state)
{
	fixture *f = *state;
	eakte_obj_info w;
	eakte_obj_dirty dirty;

	memset(&dirty, 0, sizeof(dirty));
	assert_int_equal(eakte_obj__write_fd(&w, f->fd, f->fd, NULL, &dirty, "a directory"), EAKTE_EINVALID);
	assert_non_null(strstr(eakte_error_last(), "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_blob_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_detects_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
	};
	return cmocka_run_group_tests_name("unit_objstore", tests, NULL, NULL);
}
