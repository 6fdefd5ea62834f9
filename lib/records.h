/*
 * records.h - helpers shared by the writers of records events (records.c,
 * filing.c).
 */
#ifndef EAKTE_RECORDS_H
#define EAKTE_RECORDS_H

#include "archive.h"

#include <jansson.h>

/* Valid UTF-8 within `max` bytes, no control characters (except tab and
 * newline when multiline). */
int eakte_records__check_text(const char *what, const char *s, size_t max, int multiline);

/* A usable Aktenzeichen. */
int eakte_records__check_az(const char *az);

/* 1 if k[0..n) is a metadata key (1-128 of A-Z a-z 0-9 _ - .). */
int eakte_records__valid_key(const char *k, size_t n);

/* EAKTE_EINVALID if a key occurs twice among the "KEY=VALUE" items. */
int eakte_records__check_unique_keys(const char *const *items, size_t count);

/* Apply "KEY=VALUE" items to the object kv ("KEY=" removes the key when
 * allow_remove). */
int eakte_records__apply_kv(json_t *kv, const char *const *items, size_t count, int allow_remove);

/* Salt obj, store it as a metadata object in the transaction's pack and
 * return its {"sha256","oid"} reference. */
int eakte_records__put_meta(json_t **ref_out, eakte_archive *a, json_t *obj);

/* Append one event (the action's members; actor NULL: the handle's) in its
 * own transaction, then bring the index up to date.  *seq (may be NULL)
 * gets its seq. */
int eakte_records__commit_event(eakte_archive *a, json_t *ev, const char *actor, uint64_t *seq);

/* After a journal commit: bring the index up to date (a failure becomes
 * a warning, see eakte_archive_warning()). */
int eakte_records__after_commit(eakte_archive *a);

#endif
