/*
 * packs.h - the archive's pack files: a writer-controlled rescan, and
 * consolidation of the many small packs that writes leave behind.
 *
 * Every write transaction adds one pack (txnodb.h).  libgit2 rescans
 * objects/pack on every lookup that misses, and a writer misses on every
 * new tree it writes (git_odb_write looks for the object first): with
 * hundreds of packs that rescan, quadratic in the number of packs, came
 * to dominate filing.  Only a writer holding the archive lock adds or
 * removes packs, so while it holds the lock it knows every change and the
 * rescan on a miss can be switched off; it rescans explicitly after
 * writing a pack.  Readers keep libgit2's rescan, which is how they see
 * packs that a writer added after they opened.
 *
 * Consolidation keeps the number of small packs bounded: when there are
 * more than a threshold, the smallest are merged into one (a geometric
 * sequence with factor 2, as `git repack --geometric=2`), the new pack is
 * made durable, then the old ones are removed.  Packs of 64 MiB and more
 * are left alone, so that no object is rewritten more than a few times
 * and a merge never takes long; their number grows with the journal's
 * size (about 20 per million documents), not with the number of writes.  A crash in between leaves objects in two packs, which is
 * harmless; the next consolidation merges them.
 */
#ifndef EAKTE_PACKS_H
#define EAKTE_PACKS_H

#include "common.h"

#include <sys/types.h>

#include <git2.h>

typedef struct eakte_packs eakte_packs;

/*
 * Open the object database of the repository at `objects_dir` (loose
 * objects and packs, with the pack backend wrapped so that its rescans
 * can be held) and install it in `repo`.  `*out_odb` is a new reference.
 */
int eakte_packs__open(eakte_packs **out, git_odb **out_odb, git_repository *repo, const char *objects_dir);

/* While held, a lookup miss does not rescan objects/pack (writers, under the lock). */
void eakte_packs__hold(eakte_packs *p, int held);

/* Rescan objects/pack now, held or not (after writing or removing packs). */
int eakte_packs__rescan(eakte_packs *p);

/* Packs of this size or more are never merged. */
#define EAKTE_PACK_BIG ((off_t)64 << 20)

/*
 * Merge small packs if there are more than `threshold` of them.  Must be called
 * under the archive lock.  `objects_dir` and `objects_fd` are
 * store.git/objects.  Sets *merged to the number of packs merged (0 when
 * nothing was to do).  The caller's odb still lists the removed packs:
 * open a new one (eakte_packs__open) so their files are released.
 */
int eakte_packs__consolidate(const char *objects_dir, int objects_fd, size_t threshold, size_t *merged);

/*
 * Rewrite every pack into one that holds only the objects for which
 * keep() returns 1 (disposal: what the refs still reach).  The new pack is
 * durable before the old ones are removed; a crash in between leaves
 * both, and running it again finishes the job.  Reopen the odb afterwards.
 */
int eakte_packs__rewrite(const char *objects_dir, int objects_fd, int (*keep)(const git_oid *oid, void *payload),
	void *payload);

/*
 * A pack written as a stream: whole objects (no deltas) deflated at level
 * 1 into a temporary file, so memory does not grow with the pack (but for
 * 32 bytes per object).  `count` objects must be added before finish,
 * which makes .pack and its version 2 .idx durable in `pack_dir` (the
 * .pack renamed into place first, then the .idx) and returns the pack's
 * name (hex): by fsyncing both and the directory, or with `whole_fs` by
 * one syncfs of the file system, which also makes durable everything
 * written on it before (a commit's loose content objects: one flush
 * instead of four).  Freeing an unfinished writer removes its temporary
 * file.
 */
typedef struct eakte_packw eakte_packw;
int eakte_packw__begin(eakte_packw **out, const char *pack_dir, uint32_t count);
int eakte_packw__add(eakte_packw *w, git_object_t type, const void *data, size_t len);
/* An entry of another pack as it is (type and size header + zlib data of
 * a whole object, never a delta), with the object id and the CRC-32 that
 * pack's index records for it (checked: EAKTE_ECORRUPT if it differs). */
int eakte_packw__add_raw(eakte_packw *w, const uint8_t oid[20], uint32_t crc, const void *entry, size_t len);
int eakte_packw__finish(eakte_packw *w, char name[41], int whole_fs);
void eakte_packw__free(eakte_packw *w);

#endif
