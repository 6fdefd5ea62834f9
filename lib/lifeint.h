/*
 * lifeint.h - what retention.c, dispose.c and lifeverify.c share (see
 * life.h for the module as a whole).
 */
#ifndef EAKTE_LIFEINT_H
#define EAKTE_LIFEINT_H

#include "life.h"

/* An Akte as the lifecycle rules see it (from the index). */
typedef struct {
	int64_t id;
	char az[257];
	char plan[65];
	int closed;
	char closed_on[11];
	int64_t closed_seq;      /* latest akte-close, -1 */
	int64_t reopened_seq;    /* latest akte-reopen, -1 */
	uint64_t disposed_seq;   /* 0 if not disposed */
	int retention;           /* effective: years, -1 unbefristet */
	int64_t retention_seq;   /* retention-set event, -1: from the plan */
	int plan_retention;
	char value;              /* 'A', 'B', 'V' */
	char end[16];            /* YYYY-12-31 or "" (open, unbefristet) */
	char due_from[16];
} life_akte;

int eakte_life__akte_get(life_akte *out, sqlite3 *db, const char *az);
int eakte_life__valid_date(const char *d);
void eakte_life__today(char out[11]);
/* The uid part of "unix:UID:NAME" into out; 0 if the actor is no Unix user. */
int eakte_life__uid_of(const char *actor, char *out, size_t len);
int eakte_life__db_error(sqlite3 *db, const char *what);
/* Append one event in its own transaction and update the index. */
int eakte_life__commit(eakte_archive *a, json_t *ev, const char *actor, uint64_t *seq);
/* The caught-up index of an archive opened for writing. */
int eakte_life__writer(eakte_index **ix, eakte_archive *a);
int eakte_life__check_reason(const char *reason);
/* Active holds of an Akte as a JSON array. */
int eakte_life__active_holds(json_t **out, sqlite3 *db, int64_t akte_id);
/* The retention JSON object of an Akte, "ended" judged at `today`. */
int eakte_life__retention_obj(json_t **out, sqlite3 *db, const life_akte *k, const char *today);

#endif
