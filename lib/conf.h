/*
 * conf.h - the archive's settings, <archive>/eakte.conf (INI).
 *
 *   [policy]
 *   formats = application/pdf image/tiff ...   allowed MIME types of new
 *             documents; a trailing asterisk matches a
 *             family, e.g. application/vnd.oasis.opendocument. and "*"
 *   [extract]
 *   pdftotext = /usr/bin/pdftotext              the PDF text extractor
 *   timeout = 30                                seconds per document
 *
 * The file is written by `eakte init` with the defaults; a missing file
 * means the defaults.  It is parsed with inih; unknown sections and keys
 * are errors naming the line, so a typo never silently weakens a policy.
 */
#ifndef EAKTE_CONF_H
#define EAKTE_CONF_H

#include "common.h"

#define EAKTE_CONF_FILE "eakte.conf"
#define EAKTE_CONF_MAX_FORMATS 64

typedef struct {
	char formats[EAKTE_CONF_MAX_FORMATS][128];
	size_t nformats;
	char pdftotext[256];           /* "" = the default */
	unsigned int extract_timeout_ms;
} eakte_conf;

/* The defaults: PDF, TIFF, PNG, JPEG, plain text, XML, ODF, OOXML, e-mail. */
void eakte_conf__defaults(eakte_conf *c);

/* Read <dirfd>/eakte.conf over the defaults (absent file: defaults). */
int eakte_conf__load(eakte_conf *c, int dirfd);

/* The text eakte init writes. */
const char *eakte_conf__default_text(void);

/* 1 if `mime` is allowed by the policy. */
int eakte_conf__format_allowed(const eakte_conf *c, const char *mime);

/* The allowed formats as one space-separated line (for messages). */
void eakte_conf__formats_text(char *out, size_t len, const eakte_conf *c);

#endif
