/*
 * archive.h - the archive handle shared by the internal modules.
 *
 * On disk (docs/format.md has the full description):
 *   <archive>/store.git/   bare git repository: the truth
 *     refs/heads/journal   linear chain of signed commits, one event each
 *     refs/eakte/state     a parentless commit whose tree is the current
 *                          state: head.json, checkpoint, docs/...
 *     objects/             content and metadata as loose objects,
 *                          journal objects in one pack per batch
 *   <archive>/keys/        signing.pem (0600), signing.pub.pem,
 *                          allowed_signers, note.vkey
 *   <archive>/cache/       derived files, rebuilt when they disagree
 *   <archive>/lock         the single-writer lock (flock)
 *   <archive>/eakte.conf   settings (conf.h)
 *   <archive>/index.sqlite the index (index.h), derived from the journal
 */
#ifndef EAKTE_ARCHIVE_H
#define EAKTE_ARCHIVE_H

#include "common.h"
#include "conf.h"
#include "key.h"
#include "merkle.h"
#include "objstore.h"
#include "txnodb.h"
#include "packs.h"

#include <git2.h>

#define EAKTE_JOURNAL_REF "refs/heads/journal"
#define EAKTE_STATE_REF "refs/eakte/state"
#define EAKTE_SIG_NAMESPACE "git"

struct eakte_archive {
	char *path;
	int dirfd;
	int objects_fd;
	int lock_fd;             /* -1 when opened read-only */
	unsigned int flags;
	int tidy_pending;          /* EAKTE_OPEN_DEFER_TIDY: packs not yet merged */
	git_repository *repo;
	git_odb *odb;
	eakte_txnodb *txnodb;     /* objects of a transaction; NULL when read-only */
	eakte_packs *packs;       /* the pack store in odb (owned by it) */
	eakte_key *key;          /* signing key; NULL when read-only */
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	char origin[256];
	char actor[256];         /* the calling Unix user */

	/* Journal position as recorded in the state (after catch-up). */
	uint64_t size;
	git_oid head;
	eakte_hash last_leaf;
	eakte_merkle_range range;
	git_oid state_commit;
	int has_state;
	uint64_t state_size;     /* size recorded in the state (may lag after a crash) */
	int state_mismatch;      /* read-only open: the state's head is not in the journal */

	eakte_conf conf;          /* eakte.conf */
	struct eakte_index *index; /* opened by writers (index.h) */
	int index_rebuilt;       /* the index was missing or corrupt and was rebuilt */
	int filed_state_lags;    /* the last commit failed after (or perhaps after) its commit point */
	int ref_moved;           /* ref_publish failed: 1 after the reference moved */
	int state_flush_pending; /* refs/eakte/state renamed, its directory not yet flushed */
	char warning[512];       /* see eakte_archive_warning() */

	/* Read cache of leaf hashes and commit ids, seq order (see journal.c). */
	eakte_hash *leaves;
	git_oid *commits;
	uint64_t index_len;
};

/* Library-wide libgit2 set-up (fsync, strict hashes); idempotent. */
int eakte_archive__git_init(void);

/* Packs a writer tolerates before it merges the small ones (packs.h). */
#define EAKTE_PACKS_MAX 32

/*
 * Merge small packs if there are more than EAKTE_PACKS_MAX and reopen the
 * object database so that the removed files are released.  Writers only,
 * between transactions.
 */
int eakte_archive__consolidate_packs(eakte_archive *a);

/* Open the object database again (after packs were removed), so that
 * the removed files are released.  Writers only, between transactions. */
int eakte_archive__reopen_odb(eakte_archive *a);

/* Describe a libgit2 failure in the eakte error text. */
int eakte_archive__git_error(int code, const char *what);

/* The default actor "unix:<uid>:<name>" of the calling process. */
void eakte_archive__default_actor(char *out, size_t len);

/* Current time as RFC 3339 UTC and seconds. */
void eakte_archive__now(char out[32], int64_t *epoch);

#endif
