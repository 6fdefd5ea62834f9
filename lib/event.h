/*
 * event.h - journal events.
 *
 * An event is a canonical JSON object (cjson.h).  Every event has
 *   "v"      format version, 1
 *   "seq"    its index in the journal, 0, 1, 2, ...
 *   "prev"   hex leaf hash of event seq-1 (64 zeros for seq 0)
 *   "time"   UTC, "YYYY-MM-DDTHH:MM:SSZ"
 *   "actor"  who did it, as authenticated ("unix:<uid>:<name>")
 *   "action" what happened
 * and per action:
 *   genesis: "origin", "key" {"alg":"ed25519","public":base64}
 *   file:    "doc" (id), "version", "akte", "content" {"sha256","oid",
 *            "size","mime"}, "meta" {"sha256","oid"}
 * The journal holds no content and no descriptive metadata: those live in
 * objects named by hash (the metadata object carries a random salt so its
 * hash reveals nothing about low-entropy values).
 * schema/event-v1.schema.json is the machine-readable form.
 */
#ifndef EAKTE_EVENT_H
#define EAKTE_EVENT_H

#include "common.h"
#include "objstore.h"

#include <jansson.h>

#define EAKTE_EVENT_VERSION 1

typedef struct {
	json_t *root;
	uint64_t seq;
	const char *prev;
	const char *action;
	const char *time;
	const char *actor;
	const char *subject;  /* doc id, or "" */
} eakte_ev;

/* Parse and check the common fields of canonical event bytes. */
int eakte_event__parse(eakte_ev *ev, const char *buf, size_t len);
void eakte_event__free(eakte_ev *ev);

/* A parsed "file" event's references. */
typedef struct {
	const char *doc;
	int64_t version;
	const char *akte;
	uint8_t content_sha256[EAKTE_HASH_LEN];
	uint8_t content_oid[EAKTE_OID_LEN];
	uint64_t size;
	const char *mime;
	uint8_t meta_sha256[EAKTE_HASH_LEN];
	uint8_t meta_oid[EAKTE_OID_LEN];
} eakte_ev_file;

int eakte_event__file_refs(eakte_ev_file *out, const eakte_ev *ev);

/* 1 if s is a well-formed document id (lowercase UUID). */
int eakte_event__valid_doc_id(const char *s);

/* A new UUIDv7 document id. */
int eakte_event__new_doc_id(char out[EAKTE_ID_LEN + 1]);

#endif
