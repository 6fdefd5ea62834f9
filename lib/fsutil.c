/*
 * fsutil.c - durable writes and the writer lock.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int eakte_fs__write_all(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot write %s", what);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int eakte_fs__fsync_dir(int dirfd, const char *what)
{
	if (fsync(dirfd) != 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot fsync directory %s", what);
	return 0;
}

int eakte_fs__fsync_dir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open directory %s to fsync it", name);
	rc = eakte_fs__fsync_dir(fd, name);
	close(fd);
	return rc;
}

int eakte_fs__write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[512];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid()) >= (int)sizeof(tmp))
		return eakte_error__set(EAKTE_EINVALID, "file name too long: %s", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno, "cannot create %s", tmp);
	if (fchmod(fd, mode) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot set mode of %s", tmp);
		goto fail;
	}
	if ((rc = eakte_fs__write_all(fd, data, len, name)) < 0)
		goto fail;
	if (fsync(fd) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot fsync %s", name);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot close %s", name);
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot rename %s to %s", tmp, name);
		goto fail;
	}
	return eakte_fs__fsync_dir(dirfd, name);
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return rc;
}

int eakte_fs__read_small(char **out, size_t *len, int dirfd, const char *name, size_t max)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno, "cannot open %s", name);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return eakte_error__set(EAKTE_EINVALID, "%s is not a regular file", name);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return eakte_error__set(EAKTE_EINVALID, "%s is larger than %zu bytes", name, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return eakte_error__oom("reading a file");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int eakte_fs__lock(int *fd_out, int dirfd, const char *name)
{
	char pid[32];
	int fd, n;

	*fd_out = -1;
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno,
			"cannot open the archive lock file %s", name);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		ssize_t r = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return eakte_error__set(EAKTE_ELOCKED,
				"the archive is locked by another writer (pid %s); wait for it to finish, "
				"or file through the daemon", pid[0] ? pid : "unknown");
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot lock the archive");
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n) {
		/* The pid is only a hint for the error message above. */
	}
	*fd_out = fd;
	return 0;
}
