/*
 * txnodb.h - the in-memory object store of a write transaction.
 *
 * A libgit2 odb backend that keeps new objects in a mempack and remembers
 * which objects were written, so that exactly those (and not everything
 * they reach, as git_mempack_dump() would pack) go into the transaction's
 * pack.  Added to the repository's odb at the highest priority, it
 * receives every object libgit2 writes while the archive is open for
 * writing.
 */
#ifndef EAKTE_TXNODB_H
#define EAKTE_TXNODB_H

#include "common.h"

#include <git2.h>

typedef struct eakte_txnodb eakte_txnodb;

/* Create the backend and add it to `odb` (which then owns it). */
int eakte_txnodb__attach(eakte_txnodb **out, git_odb *odb);

/*
 * Store an object directly in the transaction, named by its git hash.
 * Unlike git_odb_write() this does not look for the object in the other
 * backends first (which rescans objects/pack on every miss): for objects
 * that are new by construction, such as events and their commits.
 */
int eakte_txnodb__put(eakte_txnodb *t, git_oid *out, const void *data, size_t len, git_object_t type);

/* Write the objects written since the last reset as one pack with its
 * index into the repository, durable on return: by one syncfs, which also
 * flushes what was written on the file system before (the transaction's
 * loose content objects).  The caller rescans the packs
 * (eakte_packs__rescan) before the reset. */
int eakte_txnodb__write_pack(eakte_txnodb *t, git_repository *repo);

/* Forget the objects written since the last reset. */
void eakte_txnodb__reset(eakte_txnodb *t);

#endif
