/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share.
 *
 * Each fuzz_NAME.c is one target: LLVMFuzzerTestOneInput() hands the
 * input to a parser of untrusted input exactly as eakte does, and checks
 * what must hold of any input it accepts (round trips, limits).  A broken
 * property aborts, so libFuzzer records the input like a crash.  The
 * targets are built with -Dfuzz=true (tests/fuzz/meson.build) and run by
 * tests/fuzz/run.sh and the meson suite 'fuzz'; docs/reliability.md says
 * what is fuzzed and what was found.
 */
#ifndef EAKTE_FUZZ_H
#define EAKTE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that every input must keep: abort (a finding) if not. */
#define FUZZ_CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Set-up that cannot fail in a working environment: abort with a message if it does. */
#define FUZZ_SETUP(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: fuzz set-up failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(2); \
		} \
	} while (0)

/* The target's private directory (made on the first call, removed at
 * exit; left behind only when the process crashes). */
const char *fuzz_tmpdir(void);

#endif
