/*
 * journal.h - the signed, hash-chained journal in store.git.
 *
 * Format: refs/heads/journal points at the newest of a linear chain of
 * commits.  Commit k (k = 0, 1, ...) has exactly one parent, commit k-1
 * (commit 0 has none), and a tree with exactly one entry, "event.json", a
 * blob holding the canonical bytes of event k.  Every commit carries an
 * SSHSIG signature (namespace "git") in its gpgsig header by the archive
 * key named in event 0.
 *
 * The journal is valid if and only if, for every k:
 *   (1) event k parses as canonical JSON with seq == k and v == 1;
 *   (2) prev of event k is the leaf hash of event k-1 (zeros for k = 0);
 *   (3) commit k's signature verifies with the genesis key;
 *   (4) event 0 is the genesis event and names that key;
 * and the signed checkpoint of size n has the Merkle root of events 0..n-1.
 *
 * Write order of a transaction (eakte_txn__commit):
 *   content and metadata objects written, not yet flushed (objstore.h)
 *   -> event, tree and commit objects plus the new state tree built in
 *      the transaction's object store (txnodb.h); the new values of both
 *      references written to their lock files; the pack and its index
 *      written; one syncfs() makes all of it durable
 *   -> refs/heads/journal renamed into place after a compare-and-swap
 *      check, its directory fsynced: the commit point
 *   -> refs/eakte/state renamed into place, no flush of its own (a state
 *      lost in a power failure is repaired on the next writable open by
 *      eakte_journal__catch_up()); its directory is fsynced before the
 *      commit returns, or for EAKTE_OPEN_DEFER_TIDY by eakte_archive_tidy()
 *      through eakte_journal__flush_state()
 *   -> cache/journal.idx appended (derived, may lag or be lost).
 */
#ifndef EAKTE_JOURNAL_H
#define EAKTE_JOURNAL_H

#include "archive.h"
#include "event.h"

#include <jansson.h>

typedef struct {
	char *json;
	size_t len;
	unsigned int parents;
	git_oid parent;
	char *signature;      /* gpgsig header value, NULL if unsigned */
	size_t signature_len;
	char *signed_data;    /* the commit without its signature */
	size_t signed_len;
	char *problem;        /* shape problem (extra tree entries...) or NULL */
} eakte_jcommit;

/* Read commit `id` of the journal.  Shape problems are reported in
 * out->problem rather than as an error, so verify can name them. */
int eakte_journal__read_commit(eakte_jcommit *out, eakte_archive *a, const git_oid *id);
void eakte_journal__jcommit_free(eakte_jcommit *c);

/* The journal head; EAKTE_ENOTFOUND if there is no journal. */
int eakte_journal__head(git_oid *out, eakte_archive *a);

/* Commits from the root (or from just after `stop`) to `head`, oldest
 * first, following first parents.  EAKTE_ECORRUPT if `stop` is not an
 * ancestor.  *out malloc'ed. */
int eakte_journal__list(git_oid **out, uint64_t *n, eakte_archive *a, const git_oid *head,
	const git_oid *stop);

/* Fill a->leaves and a->commits for the whole journal (cache-assisted). */
int eakte_journal__load_index(eakte_archive *a);

/* Bring the state (refs/eakte/state) up to the journal head, re-signing
 * the checkpoint.  Needs the writer lock. */
int eakte_journal__catch_up(eakte_archive *a);

/* Read-only: advance the in-memory position (range, size) to the journal
 * head without writing anything. */
int eakte_journal__catch_up_in_memory(eakte_archive *a);

/* Make the last commit's move of refs/eakte/state durable (fsync of its
 * directory), if it is not yet; see the write order above. */
int eakte_journal__flush_state(eakte_archive *a);

/* Make both references' current values durable, whichever handle moved
 * them: before anything they no longer reach is removed (a purge). */
int eakte_journal__sync_refs(eakte_archive *a);

typedef struct eakte_txn eakte_txn;

int eakte_txn__begin(eakte_txn **out, eakte_archive *a);

/*
 * Append an event.  The caller gives the action-specific members; seq,
 * prev, time, actor (unless set) and v are filled in here.  `event` is
 * borrowed.  Returns the seq in *seq_out.
 */
int eakte_txn__append(eakte_txn *t, json_t *event, uint64_t *seq_out);

/* Add a state tree change: path -> blob oid (NULL oid: remove). */
int eakte_txn__state_put(eakte_txn *t, const char *path, const uint8_t oid[EAKTE_OID_LEN]);

int eakte_txn__commit(eakte_txn *t);

/* The archive a transaction writes to. */
eakte_archive *eakte_txn__archive(const eakte_txn *t);
void eakte_txn__free(eakte_txn *t);

/* The state tree path of an Akte's object `name`
 * (akten/<h[0..2]>/<h[2..4]>/<h>/name, h = hex SHA-256 of the Aktenzeichen). */
int eakte_journal__akte_path(char *out, size_t len, const char *az, const char *name);

/* The state tree directory of a document: docs/<last 2>/<previous 2>/<id>. */
void eakte_journal__doc_dir(char *out, size_t len, const char *doc);

/* The state tree paths of a document version. */
void eakte_journal__doc_path(char *out, size_t len, const char *doc, int64_t version, const char *suffix);

#endif
