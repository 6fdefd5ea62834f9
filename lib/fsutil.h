/*
 * fsutil.h - the one durability recipe and the single-writer lock.
 *
 * Durable replace of a small file: write a temporary file in the same
 * directory, fsync it, rename over the target, fsync the directory.  After
 * eakte_fs__write_atomic() returns 0 the new content survives a power cut;
 * before, the old content does.  All paths are relative to a directory
 * descriptor and never follow a final symlink.
 */
#ifndef EAKTE_FSUTIL_H
#define EAKTE_FSUTIL_H

#include "common.h"

#include <sys/types.h>

int eakte_fs__write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* fsync a directory given by descriptor. */
int eakte_fs__fsync_dir(int dirfd, const char *what);

/* fsync the directory `name` relative to dirfd. */
int eakte_fs__fsync_dir_at(int dirfd, const char *name);

/* Write all of buf to fd (retrying on EINTR and short writes). */
int eakte_fs__write_all(int fd, const void *buf, size_t len, const char *what);

/* Read a small regular file (at most `max` bytes) relative to dirfd,
 * O_NOFOLLOW; *out is NUL-terminated and malloc'ed. */
int eakte_fs__read_small(char **out, size_t *len, int dirfd, const char *name, size_t max);

/*
 * Take the archive's writer lock (flock on <archive>/lock, non-blocking).
 * EAKTE_ELOCKED with the holder's pid if another process has it.
 * *fd_out keeps the lock until closed.
 */
int eakte_fs__lock(int *fd_out, int dirfd, const char *name);

#endif
