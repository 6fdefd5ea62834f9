/*
 * conf.c - reading eakte.conf with inih; see conf.h.
 */
#include "conf.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#define CONF_MAX (64 * 1024)

static const char *const default_formats[] = {
	"application/pdf",
	"image/tiff",
	"image/png",
	"image/jpeg",
	"text/plain",
	"application/xml",
	"text/xml",
	"application/vnd.oasis.opendocument.*",
	"application/vnd.openxmlformats-officedocument.*",
	"message/rfc822",
	/* An empty file is a document too (a placeholder, a cover sheet
	 * without content); libmagic calls it application/x-empty. */
	"application/x-empty",
};

static const char default_text[] =
	"# eakte.conf - settings of this archive (INI).  See docs/operations.md.\n"
	"\n"
	"[policy]\n"
	"# MIME types (as libmagic detects them, not by file name) that may be\n"
	"# filed; \"type/*\" or \"prefix*\" matches a family.  Anything else is\n"
	"# refused with exit 4.\n"
	"formats = application/pdf image/tiff image/png image/jpeg text/plain\n"
	"          application/xml text/xml\n"
	"          application/vnd.oasis.opendocument.*\n"
	"          application/vnd.openxmlformats-officedocument.*\n"
	"          message/rfc822 application/x-empty\n"
	"\n"
	"[extract]\n"
	"# The PDF text extractor (poppler-utils) and its time limit per document.\n"
	"pdftotext = /usr/bin/pdftotext\n"
	"timeout = 30\n";

const char *eakte_conf__default_text(void)
{
	return default_text;
}

void eakte_conf__defaults(eakte_conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < EAKTE_ARRAY_SIZE(default_formats); i++)
		snprintf(c->formats[c->nformats++], sizeof(c->formats[0]), "%s", default_formats[i]);
	c->extract_timeout_ms = 30000;
}

typedef struct {
	eakte_conf *c;
	int formats_seen;
	char error[256];
} parse_ctx;

static int add_formats(parse_ctx *p, const char *value)
{
	const char *s = value;

	while (*s) {
		size_t n;
		while (*s == ' ' || *s == '\t' || *s == ',' || *s == '\n')
			s++;
		n = strcspn(s, " \t,\n");
		if (n == 0)
			break;
		if (n >= sizeof(p->c->formats[0]) || memchr(s, '/', n) == NULL) {
			snprintf(p->error, sizeof(p->error), "\"%.*s\" is not a MIME type like application/pdf",
				(int)(n > 64 ? 64 : n), s);
			return 0;
		}
		if (p->c->nformats == EAKTE_CONF_MAX_FORMATS) {
			snprintf(p->error, sizeof(p->error), "more than %d formats", EAKTE_CONF_MAX_FORMATS);
			return 0;
		}
		memcpy(p->c->formats[p->c->nformats], s, n);
		p->c->formats[p->c->nformats++][n] = '\0';
		s += n;
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	parse_ctx *p = user;

	if (p->error[0])
		return 0;
	if (strcmp(section, "policy") == 0 && strcmp(name, "formats") == 0) {
		/* inih hands continuation lines over as further values of the
		 * same key: the first one replaces the defaults. */
		if (!p->formats_seen) {
			p->c->nformats = 0;
			p->formats_seen = 1;
		}
		return add_formats(p, value);
	}
	if (strcmp(section, "extract") == 0 && strcmp(name, "pdftotext") == 0) {
		if (value[0] != '/' || strlen(value) >= sizeof(p->c->pdftotext)) {
			snprintf(p->error, sizeof(p->error), "pdftotext must be an absolute path");
			return 0;
		}
		snprintf(p->c->pdftotext, sizeof(p->c->pdftotext), "%s", value);
		return 1;
	}
	if (strcmp(section, "extract") == 0 && strcmp(name, "timeout") == 0) {
		char *end;
		long t = strtol(value, &end, 10);
		if (*end != '\0' || t < 1 || t > 3600) {
			snprintf(p->error, sizeof(p->error), "timeout must be 1-3600 seconds");
			return 0;
		}
		p->c->extract_timeout_ms = (unsigned int)t * 1000u;
		return 1;
	}
	snprintf(p->error, sizeof(p->error), "unknown setting [%s] %s", section, name);
	return 0;
}

int eakte_conf__load(eakte_conf *c, int dirfd)
{
	parse_ctx p;
	char *buf = NULL;
	size_t len;
	int rc;

	eakte_conf__defaults(c);
	rc = eakte_fs__read_small(&buf, &len, dirfd, EAKTE_CONF_FILE, CONF_MAX);
	if (rc == EAKTE_ENOTFOUND) {
		eakte_error__clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.c = c;
	rc = ini_parse_string(buf, handler, &p);
	free(buf);
	if (p.error[0])
		return eakte_error__set(EAKTE_EINVALID, "%s line %d: %s; fix the file", EAKTE_CONF_FILE, rc, p.error);
	if (rc != 0)
		return eakte_error__set(EAKTE_EINVALID, "%s line %d is not INI syntax; fix the file", EAKTE_CONF_FILE, rc);
	if (c->nformats == 0)
		return eakte_error__set(EAKTE_EINVALID, "%s allows no formats at all; list them in [policy] formats",
			EAKTE_CONF_FILE);
	return 0;
}

int eakte_conf__format_allowed(const eakte_conf *c, const char *mime)
{
	for (size_t i = 0; i < c->nformats; i++) {
		const char *f = c->formats[i];
		size_t n = strlen(f);
		if (n > 0 && f[n - 1] == '*') {
			if (strncmp(mime, f, n - 1) == 0)
				return 1;
		} else if (strcmp(mime, f) == 0) {
			return 1;
		}
	}
	return 0;
}

void eakte_conf__formats_text(char *out, size_t len, const eakte_conf *c)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->nformats && off < len; i++) {
		int n = snprintf(out + off, len - off, "%s%s", i ? " " : "", c->formats[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
