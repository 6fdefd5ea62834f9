/*
 * state.h - the current-state tree (refs/eakte/state).
 *
 * The state is a parentless commit whose tree holds:
 *   head.json   canonical JSON: {"head": journal head commit, "key":
 *               base64 public key, "last_leaf": hex, "origin": ...,
 *               "range": [hex compact-range nodes], "size": N, "v": 1}
 *   checkpoint  the signed checkpoint (C2SP signed note) of size N
 *   docs/<xx>/<yy>/<doc id>/<version>.content   blob: the document content
 *   docs/<xx>/<yy>/<doc id>/<version>.meta      blob: descriptive metadata
 *   (xx, yy: the last and the previous two hex digits of the id)
 * Being parentless, an old state keeps nothing alive: disposal removes a
 * document from the tree and its objects can then be deleted, while every
 * journal event still verifies.  The state is derived from the journal
 * (eakte_journal__catch_up rebuilds what a crash left behind); nothing in
 * it is trusted by verification without checking it against the journal.
 */
#ifndef EAKTE_STATE_H
#define EAKTE_STATE_H

#include "archive.h"

int eakte_state__head_json(char **out, size_t *len, const char *origin,
	const uint8_t pub[EAKTE_ED25519_PUB_LEN], uint64_t size, const git_oid *head,
	const eakte_hash last_leaf, const eakte_merkle_range *range);

/* Load refs/eakte/state into a (size, head, range, origin, pub).
 * EAKTE_ENOTFOUND if there is no state yet. */
int eakte_state__load(eakte_archive *a);

/* Read the blob at `path` of the state tree (at most max bytes). */
int eakte_state__read(char **out, size_t *len, eakte_archive *a, const char *path, size_t max);

/* The blob id at `path` of the state tree; EAKTE_ENOTFOUND if absent. */
int eakte_state__entry(uint8_t oid[EAKTE_OID_LEN], eakte_archive *a, const char *path);

/* Call cb for every docs/ entry: (doc, version, suffix, blob oid). */
typedef int (*eakte_state_doc_cb)(const char *doc, int64_t version, const char *suffix,
	const uint8_t oid[EAKTE_OID_LEN], void *payload);
int eakte_state__foreach_doc(eakte_archive *a, eakte_state_doc_cb cb, void *payload);

#endif
