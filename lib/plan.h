/*
 * plan.h - the Aktenplan (file plan): importing it from a file, checking
 * its hierarchy, and carrying it in a journal event.
 *
 * An Aktenplan is a list of entries, each a hierarchical code such as
 * "32.10.02" with a title, an optional parent code, a default retention
 * (Aufbewahrungsfrist) and an archival value (Archivwürdigkeit).  An
 * import file is CSV or JSON; both formats are described for people in
 * docs/aktenplan.md.  Import is two steps: eakte_plan__parse() checks each
 * entry on its own, eakte_plan__check() checks the entries against each
 * other and against the archive's current Aktenplan.
 *
 * All functions return 0 or a negative EAKTE_E* code; EAKTE_EINVALID
 * errors name the file, the CSV line or JSON entry, and the field.
 */
#ifndef EAKTE_PLAN_H
#define EAKTE_PLAN_H

#include "common.h"

#include <jansson.h>

#define EAKTE_PLAN_UNBEFRISTET (-1)      /* retention: kept forever */
#define EAKTE_PLAN_RETENTION_MAX 200     /* years */
#define EAKTE_PLAN_MAX_ENTRIES 5000
#define EAKTE_PLAN_MAX_BYTES (16u << 20) /* largest import file: 16 MiB */
#define EAKTE_PLAN_CODE_MAX 64           /* characters of a code */
#define EAKTE_PLAN_TITLE_MAX 512         /* bytes of a title */

typedef struct {
	char *code;      /* "32.10.02": 1-64 chars, segments of [0-9A-Za-z] separated by single dots */
	char *title;     /* 1-512 bytes UTF-8, no control characters */
	char *parent;    /* code of the parent, or NULL for a top-level entry */
	int retention;   /* years 0..200, or EAKTE_PLAN_UNBEFRISTET */
	char value;      /* 'A', 'B' or 'V' (archival value) */
	/* Where the entry came from, for messages: the CSV line (the header
	 * is line 1), or 0 when it came from JSON, in which case messages
	 * name its position in the array ("entry 1" is the first). */
	unsigned long line;
} eakte_plan_entry;

typedef struct {
	eakte_plan_entry *entries;   /* owned; free with eakte_plan__free() */
	size_t count;
} eakte_plan;

/*
 * Parse an import file's bytes (at most EAKTE_PLAN_MAX_BYTES).  The
 * format is JSON if the first non-blank byte (after an optional UTF-8 BOM)
 * is '[' or '{', CSV otherwise.  `name` (the file name) starts every
 * message.  Each entry is checked on its own (syntax of code and parent,
 * title, retention, value, UTF-8); duplicates and the hierarchy are
 * checked by eakte_plan__check().  On success *out owns at least one and
 * at most EAKTE_PLAN_MAX_ENTRIES entries in file order; on failure *out
 * is empty.  EAKTE_EINVALID for bad input, EAKTE_ENOMEM.
 */
int eakte_plan__parse(eakte_plan *out, const char *buf, size_t len, const char *name);

/*
 * Check the plan as a whole: no code appears twice; each parent is an
 * entry of this plan or, if not, known to the archive (known() returns 1
 * if the archive's Aktenplan has the code, 0 if not; a negative return is
 * passed up unchanged, so the callback sets the error text); parents
 * within the plan form no cycle.  known may be NULL (nothing known).
 * A cycle that runs through entries of the archive that this plan does
 * not redefine cannot be seen here.  EAKTE_EINVALID naming the entry.
 */
int eakte_plan__check(const eakte_plan *p, int (*known)(const char *code, void *ctx), void *ctx,
	const char *name);

/*
 * The entries as a JSON array for the journal event, in plan order:
 * [{"code","title","parent" (omitted when none),"retention" (integer or
 * the string "unbefristet"),"value" ("A", "B" or "V")}, ...].  Every entry
 * is validated again, so an event never carries what parse would refuse.
 * *out is a new reference owned by the caller, NULL on failure.
 */
int eakte_plan__to_json(json_t **out, const eakte_plan *p);

/*
 * Strictly the inverse of eakte_plan__to_json(), for replaying events:
 * exactly that shape (no {"entries":...} wrapper, no unknown keys, no
 * null parent, "unbefristet" and the value letter exactly as written
 * there).  Does not check duplicates or parents: call eakte_plan__check().
 * Entries get line 0.  On failure *out is empty.
 */
int eakte_plan__from_json(eakte_plan *out, const json_t *array);

/* Free the entries and empty *p.  Accepts NULL and half-built plans. */
void eakte_plan__free(eakte_plan *p);

/*
 * "unbefristet", "1 Jahr" or "N Jahre" into buf, for display; returns buf
 * (or "" when len is 0).  Values outside the allowed range are shown as
 * "ungültig (N)" rather than hidden.
 */
const char *eakte_plan__retention_text(char *buf, size_t len, int retention);

#endif
