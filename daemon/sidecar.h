/*
 * sidecar.h - the sidecar NAME.json beside a document in a scanner
 * hotfolder (schema/sidecar-v1.schema.json, eakted(8)): title, Akte,
 * Vorgang, sender, date and further metadata.  Its text is untrusted
 * (anyone who may write the hotfolder writes it).
 */
#ifndef EAKTED_SIDECAR_H
#define EAKTED_SIDECAR_H

#include <stddef.h>
#include <sys/stat.h>

#define SIDECAR_MAX (1u << 20)                 /* larger sidecars are refused */
#define HOTFOLDER_META_KEY "hotfolder-sha256"  /* reserved: set by the hotfolder itself */

typedef struct {
	int present;
	char *title;
	char *akte;
	long long vorgang;
	char **meta;      /* "KEY=VALUE", malloc'd */
	size_t nmeta;
} sidecar;

/* Free what sidecar_load() or sidecar_parse() allocated and empty *s. */
void sidecar_free(sidecar *s);

/*
 * Parse and validate the sidecar text buf[0..len) (NUL not required)
 * into *s, which must be empty (zeroed) but for s->present; `scname`
 * names the file in messages.  0: *s filled (the caller sets
 * s->present); -1: invalid, with the reason in de and en (German and
 * English, rlen bytes each, at most 1400 used); -2: out of memory.  On
 * failure *s is empty.
 */
int sidecar_parse(sidecar *s, const char *scname, const char *buf, size_t len, char *de, char *en, size_t rlen);

/*
 * Read and validate pfd/NAME.json: a plain file (no link, one link
 * count) of at most SIDECAR_MAX bytes.  0: loaded or absent
 * (s->present; *scst is its stat when present), -1: invalid (reason in
 * de/en), -2: transient (out of memory, I/O).
 */
int sidecar_load(int pfd, const char *name, sidecar *s, struct stat *scst, char *de, char *en, size_t rlen);

#endif
