/*
 * zipbatch.h - a ZIP file put into a scanner hotfolder is a batch: each
 * member becomes a document.  The ZIP is untrusted: members are streamed
 * into unnamed files (their names never touch the file system), names are
 * reduced to a sanitised base name, and the limits of the hotfolder
 * (zip_max_members, zip_max_bytes, zip_max_ratio) are enforced while
 * unpacking.  Links, devices and encrypted members are refused.
 */
#ifndef EAKTED_ZIPBATCH_H
#define EAKTED_ZIPBATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "dconf.h"

typedef struct {
	int fd;              /* an unnamed file holding the member's content */
	char name[256];      /* sanitised base name, never empty */
} zip_member;

/* Close the members' files and free the array.  Accepts NULL. */
void zip_members_free(zip_member *m, size_t n);

/*
 * Unpack the ZIP on fd (zsize bytes, read from its current offset) into
 * unnamed files created in tmpdirfd (O_TMPFILE; memfd where the file
 * system lacks it), within the limits of cfg.  0 with *out (n members,
 * at least one; free with zip_members_free()), -1 refused (reason in de
 * and en, rlen bytes each), -2 transient (out of memory, I/O).
 */
int zip_unpack(const dconf_hotfolder *cfg, int tmpdirfd, int fd, off_t zsize, zip_member **out, size_t *nout,
	char *de, char *en, size_t rlen);

#endif
