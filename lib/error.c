/*
 * error.c - per-thread last-error text and error code names.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ERROR_TEXT_MAX 2048

static _Thread_local char last_error[ERROR_TEXT_MAX];

const char *eakte_error_last(void)
{
	return last_error;
}

const char *eakte_error_name(int code)
{
	switch (code) {
	case EAKTE_OK: return "ok";
	case EAKTE_ENOTFOUND: return "not-found";
	case EAKTE_EEXISTS: return "exists";
	case EAKTE_EINVALID: return "invalid";
	case EAKTE_ELOCKED: return "locked";
	case EAKTE_ECORRUPT: return "corrupt";
	case EAKTE_ESIGNATURE: return "signature";
	case EAKTE_EPOLICY: return "refused";
	case EAKTE_EVERSION: return "version";
	case EAKTE_EIO: return "io";
	case EAKTE_ENOMEM: return "no-memory";
	case EAKTE_EVERIFY: return "verification-failed";
	default: return "unknown";
	}
}

int eakte_error__set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

int eakte_error__set_errno(int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	len = strlen(last_error);
	if (len < sizeof(last_error))
		snprintf(last_error + len, sizeof(last_error) - len, ": %s", strerror(errnum));
	return code;
}

int eakte_error__wrap(int code, const char *fmt, ...)
{
	char prefix[ERROR_TEXT_MAX];
	char old[ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error, sizeof(old));
	{
		size_t p = strnlen(prefix, sizeof(last_error) - 3), o = strnlen(old, sizeof(old));
		if (p + 2 + o >= sizeof(last_error))
			o = sizeof(last_error) - p - 3;
		memcpy(last_error, prefix, p);
		memcpy(last_error + p, ": ", 2);
		memcpy(last_error + p + 2, old, o);
		last_error[p + 2 + o] = '\0';
	}
	return code;
}

void eakte_error__clear(void)
{
	last_error[0] = '\0';
}

int eakte_error__oom(const char *what)
{
	return eakte_error__set(EAKTE_ENOMEM, "out of memory while %s", what);
}

int eakte_error__from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT: case ENOTDIR: return EAKTE_ENOTFOUND;
	case EEXIST: case ENOTEMPTY: return EAKTE_EEXISTS;
	case EACCES: case EPERM: return EAKTE_EPOLICY;
	case ENOMEM: return EAKTE_ENOMEM;
	case EINVAL: case EISDIR: case ELOOP: return EAKTE_EINVALID;
	case EWOULDBLOCK: return EAKTE_ELOCKED;
	default: return EAKTE_EIO;
	}
}
