/*
 * extract.h - plain text of a document for the full-text index.
 *
 * Documents are hostile input: a crafted file must not make the archive
 * read a local file, reach the network, run out of memory, hang, or print
 * to the terminal.  Hence:
 *   - text/...: streamed, at most max_text + 4 bytes buffered;
 *   - XML: libxml2's streaming reader without entity substitution, DTD
 *     loading, XInclude, network or the "huge" limits;
 *   - PDF: pdftotext in a child process with no shell, an empty
 *     environment, /dev/null as stdin, no other descriptors, rlimits on
 *     memory, CPU, file size and core dumps, and a wall-clock deadline
 *     after which its whole process group is killed.
 *
 * An extraction problem is not an error of the call: the result says
 * FAILED and why, and the caller files the document without text.
 * Thread-safe: any number of threads may extract at once.  The PDF
 * extractor needs the program to leave its children alone: SIGCHLD not
 * ignored (else PDFs fail with a reason saying so) and no waitpid(-1).
 * The document is spooled in $TMPDIR (default /tmp).
 */
#ifndef EAKTE_EXTRACT_H
#define EAKTE_EXTRACT_H

#include "common.h"

/*
 * Reads up to len bytes of the document into buf; returns the count, 0 at
 * the end, or a negative EAKTE_* code (with the error text set).
 */
typedef long (*eakte_extract_read_fn)(void *ctx, void *buf, size_t len);

/* A field that is 0 takes its default, so a zeroed struct is valid too. */
typedef struct {
	size_t max_text;         /* UTF-8 bytes kept; longer text is cut at a character
	                          * boundary and `truncated` set.  default 8 MiB */
	unsigned int timeout_ms; /* wall-clock limit of an external extractor; default 30000 */
	uint64_t max_memory;     /* RLIMIT_AS of an extractor process; default 1 GiB */
	uint64_t max_input;      /* larger documents are not given to an external
	                          * extractor; default 1 GiB */
	const char *pdftotext;   /* program path; NULL: "/usr/bin/pdftotext" */
} eakte_extract_limits;

#define EAKTE_EXTRACT_LIMITS_INIT { 8u << 20, 30000, 1ull << 30, 1ull << 30, NULL }

enum {
	EAKTE_EXTRACT_OK = 0,
	EAKTE_EXTRACT_NONE = 1,   /* no extractor for this type */
	EAKTE_EXTRACT_FAILED = 2, /* reason says why */
};

typedef struct {
	int status;       /* EAKTE_EXTRACT_* */
	char *text;       /* OK: NUL-terminated, valid UTF-8, no control characters
	                   * but \n and \t; NULL otherwise.  Owned by the result. */
	size_t len;       /* bytes of text, without the terminating NUL */
	int truncated;    /* OK: 1 if the text was cut at max_text */
	char reason[256]; /* NONE/FAILED: short English text for "text not extracted:
	                   * REASON"; empty when OK */
} eakte_extract_result;

/*
 * Extract the text of a document of type `mime` (parameters such as
 * "; charset=..." are ignored), read through `read`.
 *
 *   text/xml, application/xml, application/ *+xml   libxml2 reader
 *   other text/ *                  UTF-8, or Windows-1252 if the text is not
 *                                  valid UTF-8 (decided for the whole document)
 *   application/pdf                pdftotext (spooled to an unnamed temp file)
 *   anything else                  status NONE
 *
 * For text and XML reading stops once max_text bytes of text are collected;
 * a PDF is read completely (up to max_input).  `lim` NULL means
 * EAKTE_EXTRACT_LIMITS_INIT.
 *
 * Returns 0 with *res filled in (status OK, NONE or FAILED), or a negative
 * code only if memory ran out (EAKTE_ENOMEM) or `read` failed (its code
 * unchanged); then *res holds no text.  Free *res with
 * eakte_extract__result_free() in every case.
 */
int eakte_extract__run(eakte_extract_result *res, const char *mime, eakte_extract_read_fn read,
	void *ctx, const eakte_extract_limits *lim);

/* Free the text; accepts NULL and a result that was never filled in by
 * eakte_extract__run() if it was zeroed. */
void eakte_extract__result_free(eakte_extract_result *res);

#endif
