/*
 * exitcodes.h - the exit codes of eakte (DESIGN section 4), in one place.
 * docs/exit-codes.md lists them for operators and scripts.
 */
#ifndef EAKTE_CLI_EXITCODES_H
#define EAKTE_CLI_EXITCODES_H

#include <eakte/eakte.h>

enum {
	EXIT_OK = 0,          /* success */
	EXIT_VERIFY = 1,      /* verification failed: a bad event, object or signature */
	EXIT_USAGE = 2,       /* bad command line or malformed input */
	EXIT_NOTFOUND = 3,    /* archive, document, event or file not found */
	EXIT_REFUSED = 4,     /* refused by policy (permissions, key mode, existing archive) */
	EXIT_IO = 5           /* I/O or internal error (including a busy writer lock) */
};

/* The exit code for a libeakte error code. */
static inline int exit_code_for(int err)
{
	switch (err) {
	case EAKTE_OK: return EXIT_OK;
	case EAKTE_ENOTFOUND: return EXIT_NOTFOUND;
	case EAKTE_EINVALID: return EXIT_USAGE;
	case EAKTE_EEXISTS:
	case EAKTE_EPOLICY: return EXIT_REFUSED;
	case EAKTE_ECORRUPT:
	case EAKTE_ESIGNATURE:
	case EAKTE_EVERIFY: return EXIT_VERIFY;
	default: return EXIT_IO;
	}
}

#endif
