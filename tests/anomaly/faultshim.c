/*
 * faultshim.c - fault injection for the anomaly tests (tests/anomaly/).
 *
 * Loaded with LD_PRELOAD into eakte or eakted (and inert in any other
 * program, such as a pdftotext started for text extraction), it interposes
 * the C library's I/O calls, so that libeakte's own calls and those of
 * libgit2 and SQLite inside it are counted alike, and makes the Nth call
 * of the chosen classes fail with a chosen errno, or ends the process
 * there as a crash would.  It is a test tool, never part of the product.
 *
 *   EAKTE_FAULT_CLASS   comma list of: write fsync rename open mmap alloc
 *   EAKTE_FAULT_N       the call (1-based, counted over those classes) to fail;
 *                       unset: only count
 *   EAKTE_FAULT_ERRNO   EIO ENOSPC EDQUOT ENOMEM EROFS (default EIO)
 *   EAKTE_FAULT_MODE    once (call N only), persist (N and every later call
 *                       of the classes), crash (_exit(137) at call N)
 *   EAKTE_FAULT_REPORT  file that gets "injected N CLASS FUNC" lines and, at
 *                       exit, "calls TOTAL"
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum { C_WRITE = 1, C_FSYNC = 2, C_RENAME = 4, C_OPEN = 8, C_MMAP = 16, C_ALLOC = 32 };

static int active;
static unsigned int classes;
static long fail_n;
static int fail_errno = EIO;
static int mode;              /* 0 once, 1 persist, 2 crash */
static atomic_long calls;
static char report[4096];
static __thread int busy;     /* inside our own bookkeeping */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* Append a line to the report with raw system calls (no stdio, no malloc). */
static void report_line(const char *line)
{
	long fd;

	if (!report[0])
		return;
	fd = syscall(SYS_openat, AT_FDCWD, report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!syscall(SYS_write, fd, line, strlen(line));
	syscall(SYS_close, fd);
}

static void fmt_report(const char *what, long n, const char *cls, const char *fn, void *caller)
{
	char line[512];
	Dl_info info;
	const char *sym = "?", *obj = "?";

	/* Who called: the symbol and library, for the report. */
	if (caller != NULL && dladdr(caller, &info) != 0) {
		if (info.dli_sname)
			sym = info.dli_sname;
		if (info.dli_fname)
			obj = strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname;
	}
	snprintf(line, sizeof(line), "%s %ld %s %s %s %s\n", what, n, cls, fn, sym, obj);
	report_line(line);
	if (getenv("EAKTE_FAULT_BACKTRACE") != NULL && report[0]) {
		void *frames[32];
		int k = backtrace(frames, 32);
		long fd = syscall(SYS_openat, AT_FDCWD, report, O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			backtrace_symbols_fd(frames, k, (int)fd);
			syscall(SYS_close, fd);
		}
	}
}

static void at_exit_report(void)
{
	char line[64];

	snprintf(line, sizeof(line), "calls %ld\n", atomic_load(&calls));
	report_line(line);
}

__attribute__((constructor)) static void init(void)
{
	const char *c = getenv("EAKTE_FAULT_CLASS"), *n = getenv("EAKTE_FAULT_N"), *e = getenv("EAKTE_FAULT_ERRNO");
	const char *m = getenv("EAKTE_FAULT_MODE"), *r = getenv("EAKTE_FAULT_REPORT");
	const char *prog = program_invocation_short_name;

	if (strcmp(prog, "eakte") != 0 && strcmp(prog, "eakted") != 0)
		return;
	busy = 1;
	if (c != NULL) {
		if (strstr(c, "write")) classes |= C_WRITE;
		if (strstr(c, "fsync")) classes |= C_FSYNC;
		if (strstr(c, "rename")) classes |= C_RENAME;
		if (strstr(c, "open")) classes |= C_OPEN;
		if (strstr(c, "mmap")) classes |= C_MMAP;
		if (strstr(c, "alloc")) classes |= C_ALLOC;
	}
	fail_n = n ? atol(n) : 0;
	if (e && strcmp(e, "ENOSPC") == 0) fail_errno = ENOSPC;
	else if (e && strcmp(e, "EDQUOT") == 0) fail_errno = EDQUOT;
	else if (e && strcmp(e, "ENOMEM") == 0) fail_errno = ENOMEM;
	else if (e && strcmp(e, "EROFS") == 0) fail_errno = EROFS;
	mode = m && strcmp(m, "persist") == 0 ? 1 : m && strcmp(m, "crash") == 0 ? 2 : 0;
	if (r)
		snprintf(report, sizeof(report), "%s", r);
	atexit(at_exit_report);
	busy = 0;
	active = 1;
}

/* 1: this call must fail (errno set); the process ends here in crash mode. */
#define should_fail(cls, cname, fn) should_fail_at(cls, cname, fn, __builtin_return_address(0))

static int should_fail_at(unsigned int cls, const char *cname, const char *fn, void *caller)
{
	long k;

	if (!active || busy || !(classes & cls))
		return 0;
	k = atomic_fetch_add(&calls, 1) + 1;
	if (fail_n <= 0 || k < fail_n || (k > fail_n && mode != 1))
		return 0;
	busy = 1;
	fmt_report("injected", k, cname, fn, caller);
	busy = 0;
	if (mode == 2)
		_exit(137);
	errno = fail_errno;
	return 1;
}

/* The C library's own function; dlsym gives an object pointer, which ISO C
 * does not convert to a function pointer, so its bytes are copied. */
#define REAL(ret, name, ...) \
	static ret (*real_##name)(__VA_ARGS__); \
	if (real_##name == NULL) { \
		void *sym_ = dlsym(RTLD_NEXT, #name); \
		memcpy(&real_##name, &sym_, sizeof(sym_)); \
	}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, write, int, const void *, size_t);
	if (should_fail(C_WRITE, "write", "write"))
		return -1;
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
	if (should_fail(C_WRITE, "write", "pwrite"))
		return -1;
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
	if (should_fail(C_WRITE, "write", "pwrite64"))
		return -1;
	return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(ssize_t, writev, int, const struct iovec *, int);
	if (should_fail(C_WRITE, "write", "writev"))
		return -1;
	return real_writev(fd, iov, cnt);
}

int fsync(int fd)
{
	REAL(int, fsync, int);
	if (should_fail(C_FSYNC, "fsync", "fsync"))
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(int, fdatasync, int);
	if (should_fail(C_FSYNC, "fsync", "fdatasync"))
		return -1;
	return real_fdatasync(fd);
}

int syncfs(int fd)
{
	REAL(int, syncfs, int);
	if (should_fail(C_FSYNC, "fsync", "syncfs"))
		return -1;
	return real_syncfs(fd);
}

int rename(const char *a, const char *b)
{
	REAL(int, rename, const char *, const char *);
	if (should_fail(C_RENAME, "rename", "rename"))
		return -1;
	return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	REAL(int, renameat, int, const char *, int, const char *);
	if (should_fail(C_RENAME, "rename", "renameat"))
		return -1;
	return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned int flags)
{
	REAL(int, renameat2, int, const char *, int, const char *, unsigned int);
	if (should_fail(C_RENAME, "rename", "renameat2"))
		return -1;
	return real_renameat2(da, a, db, b, flags);
}

int link(const char *a, const char *b)
{
	REAL(int, link, const char *, const char *);
	if (should_fail(C_RENAME, "rename", "link"))
		return -1;
	return real_link(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
	REAL(int, linkat, int, const char *, int, const char *, int);
	if (should_fail(C_RENAME, "rename", "linkat"))
		return -1;
	return real_linkat(da, a, db, b, flags);
}

int open(const char *path, int flags, ...)
{
	mode_t m = 0;
	REAL(int, open, const char *, int, ...);
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (should_fail(C_OPEN, "open", "open"))
		return -1;
	return real_open(path, flags, m);
}

int open64(const char *path, int flags, ...)
{
	mode_t m = 0;
	REAL(int, open64, const char *, int, ...);
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (should_fail(C_OPEN, "open", "open64"))
		return -1;
	return real_open64(path, flags, m);
}

int openat(int dfd, const char *path, int flags, ...)
{
	mode_t m = 0;
	REAL(int, openat, int, const char *, int, ...);
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (should_fail(C_OPEN, "open", "openat"))
		return -1;
	return real_openat(dfd, path, flags, m);
}

int openat64(int dfd, const char *path, int flags, ...)
{
	mode_t m = 0;
	REAL(int, openat64, int, const char *, int, ...);
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (should_fail(C_OPEN, "open", "openat64"))
		return -1;
	return real_openat64(dfd, path, flags, m);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	REAL(void *, mmap, void *, size_t, int, int, int, off_t);
	/* Only file mappings: anonymous ones are the allocator's business. */
	if (fd >= 0 && should_fail(C_MMAP, "mmap", "mmap"))
		return MAP_FAILED;
	return real_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	REAL(void *, mmap64, void *, size_t, int, int, int, off_t);
	if (fd >= 0 && should_fail(C_MMAP, "mmap", "mmap64"))
		return MAP_FAILED;
	return real_mmap64(addr, len, prot, flags, fd, off);
}

#ifndef FAULTSHIM_NO_ALLOC
void *malloc(size_t n)
{
	if (should_fail(C_ALLOC, "alloc", "malloc"))
		return NULL;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (should_fail(C_ALLOC, "alloc", "calloc"))
		return NULL;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (n > 0 && should_fail(C_ALLOC, "alloc", "realloc"))
		return NULL;
	return __libc_realloc(p, n);
}
#endif
