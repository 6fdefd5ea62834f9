/*
 * cli.h - shared helpers of the eakte command-line front end.  The CLI
 * includes only the public header of libeakte.
 */
#ifndef EAKTE_CLI_H
#define EAKTE_CLI_H

#include <stdio.h>
#include <eakte/eakte.h>

#include "exitcodes.h"

typedef struct {
	const char *archive;   /* --archive or EAKTE_ARCHIVE, may be NULL */
	const char *prog;
	const char *socket;    /* --socket or EAKTE_SOCKET: work through eakted */
} cli_ctx;

/* Connect to eakted at ctx->socket; prints the error and returns an exit code != 0 on failure. */
int cli_connect(eakte_client **out, const cli_ctx *ctx, const char *verb);

/* Print "eakte VERB: <library error>" and return the exit code for err. */
int cli_fail(const char *verb, int err);

/* Print "eakte VERB: out of memory (WHAT)" and return EXIT_IO. */
int cli_oom(const char *verb, const char *what);

/* Print a usage error and return EXIT_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open the archive from ctx; prints the error and returns an exit code != 0 on failure. */
int cli_open(eakte_archive **out, const cli_ctx *ctx, const char *verb, unsigned int flags);

/* Read a whole small file ("-" is stdin) of at most max bytes. */
int cli_read_file(char **out, size_t *len, const char *path, size_t max, const char *verb);

int cmd_init(const cli_ctx *ctx, int argc, char **argv);
int cmd_file(const cli_ctx *ctx, int argc, char **argv);
int cmd_show(const cli_ctx *ctx, int argc, char **argv);
int cmd_get(const cli_ctx *ctx, int argc, char **argv);
int cmd_log(const cli_ctx *ctx, int argc, char **argv);
int cmd_checkpoint(const cli_ctx *ctx, int argc, char **argv);
int cmd_proof(const cli_ctx *ctx, int argc, char **argv);
int cmd_verify_proof(const cli_ctx *ctx, int argc, char **argv);
int cmd_verify(const cli_ctx *ctx, int argc, char **argv);
int cmd_plan(const cli_ctx *ctx, int argc, char **argv);
int cmd_akte(const cli_ctx *ctx, int argc, char **argv);
int cmd_meta(const cli_ctx *ctx, int argc, char **argv);
int cmd_search(const cli_ctx *ctx, int argc, char **argv);
int cmd_ls(const cli_ctx *ctx, int argc, char **argv);
int cmd_reindex(const cli_ctx *ctx, int argc, char **argv);
int cmd_export(const cli_ctx *ctx, int argc, char **argv);
int cmd_verify_package(const cli_ctx *ctx, int argc, char **argv);
int cmd_import(const cli_ctx *ctx, int argc, char **argv);

/* A pinned key for --key: the file's text, or the argument itself when it
 * is no file but looks like a key ("name+id+key", "ssh-ed25519 ..."). */
int cli_read_key(char **out, size_t *len, const char *arg, const char *verb);
int cmd_retention(const cli_ctx *ctx, int argc, char **argv);
int cmd_hold(const cli_ctx *ctx, int argc, char **argv);
int cmd_dispose(const cli_ctx *ctx, int argc, char **argv);

#endif
