/*
 * hotfolder.h - scanner hotfolders: each watched directory is served by
 * its own thread, which files complete files through the writer (one
 * wjob per file or ZIP batch) and moves them to done/ or error/.
 * Design and exactly-once argument: the comment at the top of hotfolder.c.
 */
#ifndef EAKTED_HOTFOLDER_H
#define EAKTED_HOTFOLDER_H

#include "dconf.h"
#include "writer.h"

typedef struct hotfolders hotfolders;

/* Start a thread for every hotfolder of `c`.  A hotfolder whose directory
 * is missing logs that and retries; it does not stop the daemon.
 * `archive` is opened read-only by each thread for duplicate look-ups. */
int hotfolders_start(hotfolders **out, const dconf *c, const char *archive, writer *w);

/* SIGHUP: stop the hotfolders that are gone from `c` or changed, start
 * the new or changed ones, and make every running one rescan. */
void hotfolders_reload(hotfolders *h, const dconf *c);

/* Stop all threads; a file being filed finishes first.  Accepts NULL. */
void hotfolders_stop(hotfolders *h);

#endif
