/*
 * source.h - where a verb reads and writes: the archive itself (embedded
 * mode) or the daemon eakted (--socket, EAKTE_SOCKET).  Both give the same
 * results and the same errors, so a verb prints the same either way.
 */
#ifndef EAKTE_CLI_SOURCE_H
#define EAKTE_CLI_SOURCE_H

#include "cli.h"

typedef struct {
	eakte_archive *a;   /* embedded */
	eakte_client *c;    /* through eakted */
} cli_src;

/* Open for reading or writing (EAKTE_OPEN_READ/WRITE); prints the error
 * and returns an exit code != 0 on failure. */
int src_open(cli_src *s, const cli_ctx *ctx, const char *verb, unsigned int flags);
void src_close(cli_src *s);
/* The archive's warning (embedded) or "". */
const char *src_warning(const cli_src *s);

/* The end of a verb that succeeded: the archive's warning (if any) on
 * stderr, and EXIT_OK, or EXIT_IO if standard output could not be written. */
int src_finish(const cli_src *s, const char *verb);

/* JSON or text of a read: what is plan (arg code), akte (arg az), akten
 * (arg plan, num state), tree, history (arg doc), doc-index (arg doc), doc
 * (arg doc, num version), checkpoint, verifier-key, proof (num seq),
 * retention (arg az), retention-due (arg date or NULL), holds (arg az or
 * NULL, num 1: released ones too), proposals.
 * Free *out with eakte_free(). */
int src_read(cli_src *s, const char *what, const char *arg, int64_t num, char **out);

/* Write a document's content (version 0: the latest) to fd, re-verified. */
int src_get(cli_src *s, const char *doc, unsigned int version, int fd);

/* Every event from `from` on, oldest first. */
int src_log(cli_src *s, uint64_t from, eakte_event_cb cb, void *payload);

int src_akte_create(cli_src *s, const eakte_akte_options *o, char **az);
int src_vorgang_create(cli_src *s, const char *az, const char *title, int64_t *n);
int src_akte_close(cli_src *s, const char *az, const char *date);
int src_akte_reopen(cli_src *s, const char *az);
int src_meta_set(cli_src *s, const char *doc, const char *title, const char *const *items, size_t n);
int src_plan_import(cli_src *s, const char *buf, size_t len, const char *name, size_t *count);
/* *events: the journal events the index was rebuilt from. */
int src_reindex(cli_src *s, uint64_t *events);

int src_retention_set(cli_src *s, const char *az, int years, const char *reason);
int src_hold_set(cli_src *s, const char *az, const char *reason, const char *case_id, uint64_t *hold);
int src_hold_release(cli_src *s, const char *az, uint64_t hold, const char *reason);
int src_dispose_propose(cli_src *s, const char *az, const char *reason, uint64_t *proposal);
int src_dispose_approve(cli_src *s, uint64_t proposal, uint64_t *seq);

/* Verification; *json is the report (schema/verify-v1.schema.json). */
int src_verify(cli_src *s, const eakte_verify_options *vo, char **json);

/* Export Akte o->akte to `path` (temporary file beside it, fsync,
 * rename; never replaces a file); the export event is journaled. */
int src_export(cli_src *s, const eakte_export_options *o, const char *path, eakte_export_result *res);

/* Import the package in fd (a regular file). */
int src_import(cli_src *s, int fd, const eakte_import_options *o, eakte_import_result *res);

#endif
