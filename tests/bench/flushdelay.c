/*
 * flushdelay.c - a benchmark tool, never part of the product: loaded with
 * LD_PRELOAD into eakte or eakted, it adds EAKTE_FLUSH_DELAY_MS
 * milliseconds to every fsync(), fdatasync() and syncfs() after the real
 * call returns.  It answers "what if the disk's cache flush took that
 * long", on a machine whose virtual disk acknowledges a flush from the
 * host's write cache in well under a millisecond, while a disk without
 * power-loss protection takes 1-5 ms (../shared/MEASURED.md).  The calls
 * of libgit2 and SQLite inside libeakte go through the same symbols, so
 * they are delayed alike.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_ns(void)
{
	static long ns = -1;

	if (ns < 0) {
		const char *v = getenv("EAKTE_FLUSH_DELAY_MS");
		double ms = v ? strtod(v, NULL) : 0.0;
		ns = ms > 0 && ms < 10000 ? (long)(ms * 1e6) : 0;
	}
	return ns;
}

static void pause_flush(void)
{
	long ns = delay_ns();
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (ns > 0 && nanosleep(&ts, &ts) != 0)
		;
}

#define DELAYED(name)                                                       \
	int name(int fd)                                                    \
	{                                                                   \
		static int (*real)(int);                                    \
		int rc;                                                     \
		if (real == NULL)                                           \
			*(void **)&real = dlsym(RTLD_NEXT, #name);          \
		rc = real(fd);                                              \
		pause_flush();                                              \
		return rc;                                                  \
	}

DELAYED(fsync)
DELAYED(fdatasync)
DELAYED(syncfs)
