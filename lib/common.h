/*
 * common.h - what every internal module of libeakte includes.
 *
 * Naming: public functions are eakte_<module>_<verb>(), internal functions
 * shared between files eakte_<module>__<name>(), file-local ones static.
 */
#ifndef EAKTE_COMMON_H
#define EAKTE_COMMON_H

#define EAKTE_BUILDING_LIBRARY 1

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

#include "eakte/eakte.h"

#define EAKTE_HASH_LEN 32            /* SHA-256 */
#define EAKTE_HASH_HEX_LEN 64
#define EAKTE_EVENT_MAX (1u << 20)      /* largest event accepted */

#define EAKTE_UNUSED(x) ((void)(x))
#define EAKTE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Record the error text for this thread and return `code`, so that
 * callers can write `return eakte_error__set(EAKTE_EIO, "...")`.
 * The message should say what failed, on what, and what to do.
 */
int eakte_error__set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same, appending ": strerror(errnum)". */
int eakte_error__set_errno(int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the current error text with "prefix: " (keeps the code). */
int eakte_error__wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void eakte_error__clear(void);

/* EAKTE_ENOMEM with a message naming what could not be allocated. */
int eakte_error__oom(const char *what);

/* Map an errno value from a failed system call to an eakte code. */
int eakte_error__from_errno(int errnum);

#endif
