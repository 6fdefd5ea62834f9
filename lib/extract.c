/*
 * extract.c - text extraction for the full-text index (see extract.h).
 *
 * All text, whatever its source, goes through one `sink`: it decodes UTF-8
 * incrementally (a character may be split between two reads), replaces
 * invalid sequences with U+FFFD and control characters other than \n and
 * \t with a space, and stops at max_text on a character boundary.  So every
 * extractor produces valid, printable UTF-8 and none can exceed the limit.
 *
 * The PDF extractor runs pdftotext as a child:
 *   parent: spool the document into an unnamed temporary file, open
 *           /dev/null and the pipes (all O_CLOEXEC), compute the rlimits,
 *           block signals, clone(CLONE_VM | CLONE_VFORK) - see spawn();
 *   child:  (system calls only) default signals, own process
 *           group, fds 0-3 = /dev/null, stdout pipe, stderr pipe, document,
 *           fd 4 = exec-status pipe (close-on-exec), close the rest, set
 *           the rlimits, execve;
 *   parent: learn from the status pipe whether execve worked, read stdout
 *           and stderr against a monotonic deadline, kill the child's
 *           process group (it may have children of its own) on timeout, on
 *           too much output, and once it has exited, then reap it.
 */
#include "extract.h"
#include "xdomea.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#define DEFAULT_PDFTOTEXT "/usr/bin/pdftotext"
#define IO_CHUNK (64u * 1024)
#define STDERR_KEEP 200
#define TYPE_MAX 128
#define NOT_INSTALLED "pdftotext is not installed (install poppler-utils)"

/* libxml2 2.12 made the error argument const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_ptr;
#else
typedef xmlErrorPtr xml_error_ptr;
#endif

/* ---- results ---- */

static void set_reason(eakte_extract_result *res, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_reason(eakte_extract_result *res, int status, const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static int utf8_valid(const unsigned char *p, size_t n, int cut);

/*
 * Copy the first non-empty line of untrusted bytes (a program's stderr, a
 * parser message quoting the document) into dst as printable UTF-8 that
 * fits, cut at a character boundary: invalid bytes become '?', control
 * characters ' '.
 */
static void sanitize_line(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < n && (p[i] == '\n' || p[i] == '\r' || p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < n && p[i] != '\n' && p[i] != '\r' && p[i] != '\0') {
		unsigned char b = p[i];
		size_t k = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;

		if (k > 1 && (i + k > n || !utf8_valid(p + i, k, 0)))
			k = 0;
		if (o + (k ? k : 1) + 1 > size)
			break;
		if (k == 0)
			dst[o++] = '?';
		else if (k == 1)
			dst[o++] = (b < 0x20 || b >= 0x7F) ? (b >= 0x80 ? '?' : ' ') : (char)b;
		else
			memcpy(dst + o, p + i, k);
		o += k > 1 ? k : 0;
		i += k ? k : 1;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* "1 GiB", "8 MiB", "100 bytes": limits as a person would write them. */
static void format_size(char *buf, size_t size, uint64_t v)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(buf, size, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v >= (1ull << 10) && v % (1ull << 10) == 0)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)v);
}

/* ---- the text sink ---- */

typedef struct {
	char *buf;
	size_t len, cap, max;
	int full;            /* a character did not fit: the text is cut */
	uint32_t cp;         /* UTF-8 sequence being decoded */
	unsigned int need;   /* continuation bytes it still needs */
	unsigned char lo, hi; /* allowed range of the next continuation byte */
} sink;

static void sink_init(sink *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	s->lo = 0x80;
	s->hi = 0xBF;
}

static int sink_put(sink *s, uint32_t cp)
{
	char enc[4];
	size_t n;

	if (s->full)
		return 0;
	if (cp < 0x20 ? (cp != '\n' && cp != '\t') : (cp >= 0x7F && cp < 0xA0))
		cp = ' ';
	if (cp < 0x80) {
		enc[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		enc[0] = (char)(0xC0 | (cp >> 6));
		enc[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		enc[0] = (char)(0xE0 | (cp >> 12));
		enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		enc[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		enc[0] = (char)(0xF0 | (cp >> 18));
		enc[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		enc[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		enc[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (n > s->max - s->len) {
		s->full = 1;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		/* Grow geometrically, but never past what max allows. */
		size_t cap = s->cap ? s->cap : 4096;
		char *p;

		while (cap < s->len + n + 1 && cap <= (s->max + 1) / 2)
			cap *= 2;
		if (cap < s->len + n + 1 || cap > s->max + 1)
			cap = s->max + 1;
		p = realloc(s->buf, cap);
		if (p == NULL)
			return eakte_error__oom("collecting the text of a document");
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, enc, n);
	s->len += n;
	return 0;
}

/*
 * Feed bytes that should be UTF-8.  Each invalid or broken sequence becomes
 * one U+FFFD (the "maximal subpart" rule of Unicode 3.9).  The decoder
 * state carries over to the next call.
 */
static int sink_utf8(sink *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;
	int rc;

	for (i = 0; i < n && !s->full; i++) {
		unsigned char b = p[i];

		if (s->need > 0) {
			if (b >= s->lo && b <= s->hi) {
				s->cp = (s->cp << 6) | (b & 0x3F);
				s->lo = 0x80;
				s->hi = 0xBF;
				if (--s->need == 0 && (rc = sink_put(s, s->cp)) < 0)
					return rc;
				continue;
			}
			/* Broken sequence: replace it, then look at b afresh. */
			s->need = 0;
			s->lo = 0x80;
			s->hi = 0xBF;
			if ((rc = sink_put(s, 0xFFFD)) < 0)
				return rc;
		}
		if (b < 0x80) {
			rc = sink_put(s, b);
		} else if (b >= 0xC2 && b <= 0xDF) {
			s->cp = b & 0x1F;
			s->need = 1;
			rc = 0;
		} else if (b >= 0xE0 && b <= 0xEF) {
			s->cp = b & 0x0F;
			s->need = 2;
			s->lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
			s->hi = b == 0xED ? 0x9F : 0xBF; /* no surrogates */
			rc = 0;
		} else if (b >= 0xF0 && b <= 0xF4) {
			s->cp = b & 0x07;
			s->need = 3;
			s->lo = b == 0xF0 ? 0x90 : 0x80;
			s->hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
			rc = 0;
		} else {
			rc = sink_put(s, 0xFFFD);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* End of input: a sequence left open was cut short. */
static int sink_finish(sink *s)
{
	if (s->need == 0)
		return 0;
	s->need = 0;
	return sink_put(s, 0xFFFD);
}

/* Hand the text over to the result; text is "" rather than NULL when empty. */
static int sink_to_result(sink *s, eakte_extract_result *res)
{
	if (s->buf == NULL) {
		s->buf = malloc(1);
		if (s->buf == NULL)
			return eakte_error__oom("collecting the text of a document");
	}
	s->buf[s->len] = '\0';
	res->status = EAKTE_EXTRACT_OK;
	res->text = s->buf;
	res->len = s->len;
	res->truncated = s->full;
	res->reason[0] = '\0';
	s->buf = NULL;
	return 0;
}

static long read_checked(eakte_extract_read_fn read, void *ctx, void *buf, size_t len)
{
	long n = read(ctx, buf, len);

	if (n > 0 && (size_t)n > len)
		return eakte_error__set(EAKTE_EINVALID,
			"the document reader returned %ld bytes for a buffer of %zu; this is a bug in the caller",
			n, len);
	return n;
}

/* ---- text/ * ---- */

/* Windows-1252 0x80-0x9F; the five unassigned bytes stay C1 controls and so
 * become spaces.  0xA0-0xFF are Latin-1, i.e. the code point itself. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* 1 if p[0..n) is valid UTF-8; a sequence cut off by the end is allowed
 * only if `cut` (the buffer stops inside the document). */
static int utf8_valid(const unsigned char *p, size_t n, int cut)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i], lo = 0x80, hi = 0xBF;
		size_t k, j;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF) {
			k = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			k = 2;
			lo = b == 0xE0 ? 0xA0 : 0x80;
			hi = b == 0xED ? 0x9F : 0xBF;
		} else if (b >= 0xF0 && b <= 0xF4) {
			k = 3;
			lo = b == 0xF0 ? 0x90 : 0x80;
			hi = b == 0xF4 ? 0x8F : 0xBF;
		} else {
			return 0;
		}
		for (j = 1; j <= k; j++) {
			if (i + j >= n)
				return cut;
			if (p[i + j] < lo || p[i + j] > hi)
				return 0;
			lo = 0x80;
			hi = 0xBF;
		}
		i += k + 1;
	}
	return 1;
}

/*
 * The encoding is decided for the whole document: a file that is valid
 * UTF-8 is UTF-8, anything else is taken as Windows-1252 (the usual
 * encoding of old German office files; every byte decodes).  Deciding per
 * chunk would decode one file two ways.  Only max_text + 4 bytes are
 * looked at: a character straddling max_text is then complete, and
 * anything after it would be cut anyway.
 */
static int extract_text(eakte_extract_result *res, eakte_extract_read_fn read, void *ctx,
	const eakte_extract_limits *lim)
{
	size_t want = lim->max_text + 4, len = 0, cap = 0, i, start = 0;
	unsigned char *raw = NULL;
	int eof = 0, rc = 0;
	sink s;

	while (len < want) {
		long n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : IO_CHUNK;
			unsigned char *p;

			if (ncap > want || ncap < cap)
				ncap = want;
			p = realloc(raw, ncap);
			if (p == NULL) {
				free(raw);
				return eakte_error__oom("reading a text document");
			}
			raw = p;
			cap = ncap;
		}
		n = read_checked(read, ctx, raw + len, cap - len);
		if (n < 0) {
			free(raw);
			return (int)n;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		len += (size_t)n;
	}

	sink_init(&s, lim->max_text);
	if (utf8_valid(raw, len, !eof)) {
		if (len >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF)
			start = 3; /* a byte-order mark is not text */
		rc = sink_utf8(&s, raw + start, len - start);
		if (rc == 0 && eof)
			rc = sink_finish(&s);
	} else {
		for (i = 0; i < len && rc == 0 && !s.full; i++)
			rc = sink_put(&s, raw[i] < 0x80 || raw[i] >= 0xA0 ? raw[i] : cp1252_high[raw[i] - 0x80]);
	}
	free(raw);
	/* Stopping before the end means the text is cut, even if it fit. */
	if (!eof)
		s.full = 1;
	if (rc == 0)
		rc = sink_to_result(&s, res);
	free(s.buf);
	return rc;
}

/* ---- XML ---- */

typedef struct {
	eakte_extract_read_fn read;
	void *ctx;
	int read_error;         /* the callback's negative code, or 0 */
	uint64_t total;         /* bytes read */
	int have_error, error_fatal, error_line, oom;
	char error[160];
} xml_io;

static int xml_read(void *context, char *buffer, int len)
{
	xml_io *io = context;
	long n;

	if (io->read_error < 0)
		return -1;
	if (len <= 0)
		return 0;
	n = read_checked(io->read, io->ctx, buffer, (size_t)len);
	if (n < 0) {
		io->read_error = n < INT_MIN ? EAKTE_EIO : (int)n;
		return -1;
	}
	io->total += (uint64_t)n;
	return (int)n;
}

/*
 * Keep the first error (the first fatal one if an earlier error was not
 * fatal); never print.  Installed both on the reader and as this thread's
 * libxml2 handler, since errors raised before the reader exists go there.
 */
static void xml_error(void *arg, xml_error_ptr err)
{
	xml_io *io = arg;
	const char *msg;

	if (io == NULL || err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (err->code == XML_ERR_NO_MEMORY)
		io->oom = 1;
	if (io->have_error && (io->error_fatal || err->level != XML_ERR_FATAL))
		return;
	io->have_error = 1;
	io->error_fatal = err->level == XML_ERR_FATAL;
	io->error_line = err->line;
	msg = err->message ? err->message : "unknown error";
	sanitize_line(io->error, sizeof(io->error), msg, strlen(msg));
}

static void xml_quiet(void *ctx, const char *msg, ...)
{
	EAKTE_UNUSED(ctx);
	EAKTE_UNUSED(msg);
}

/*
 * libxml2's streaming reader keeps only the current node, so memory does not
 * grow with the document.  Entities are not substituted (no NOENT), so
 * neither external entities (XXE) nor nested ones (billion laughs) expand;
 * no DTD is loaded (no DTDLOAD), NONET forbids network access anyway, there
 * is no XInclude, and without HUGE libxml2's own size and depth limits hold.
 * The text of entity references is therefore not indexed.
 */
static int extract_xml(eakte_extract_result *res, eakte_extract_read_fn read, void *ctx,
	const eakte_extract_limits *lim)
{
	xmlStructuredErrorFunc old_serror;
	xmlGenericErrorFunc old_error;
	void *old_sctx, *old_ctx;
	xmlTextReaderPtr reader;
	xml_io io;
	sink s;
	int r, rc = 0;

	memset(&io, 0, sizeof(io));
	io.read = read;
	io.ctx = ctx;
	sink_init(&s, lim->max_text);
	eakte_xml__init();

	/* Both handlers are per thread in libxml2; restored below. */
	old_serror = xmlStructuredError;
	old_sctx = xmlStructuredErrorContext;
	old_error = xmlGenericError;
	old_ctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&io, xml_error);
	xmlSetGenericErrorFunc(NULL, xml_quiet);

	reader = xmlReaderForIO(xml_read, NULL, &io, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (reader == NULL) {
		r = -1;
	} else {
		xmlTextReaderSetStructuredErrorHandler(reader, xml_error, &io);
		while ((r = xmlTextReaderRead(reader)) == 1) {
			int type = xmlTextReaderNodeType(reader);
			const xmlChar *v;

			if (type != XML_READER_TYPE_TEXT && type != XML_READER_TYPE_CDATA)
				continue;
			v = xmlTextReaderConstValue(reader);
			if (v == NULL || v[0] == '\0')
				continue;
			if (s.len > 0 && s.buf[s.len - 1] != ' ' && s.buf[s.len - 1] != '\n' &&
			    s.buf[s.len - 1] != '\t')
				rc = sink_put(&s, ' ');
			if (rc == 0)
				rc = sink_utf8(&s, v, strlen((const char *)v));
			if (rc < 0 || s.full)
				break;
		}
		xmlFreeTextReader(reader);
	}

	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_ctx, old_error);

	if (rc == 0 && io.read_error < 0)
		rc = io.read_error;
	if (rc == 0 && r < 0 && (io.oom || (reader == NULL && !io.have_error)))
		rc = eakte_error__oom("parsing an XML document");
	if (rc == 0 && r < 0) {
		/* libxml2 calls an empty document "Extra content at the end". */
		if (io.total == 0)
			set_reason(res, EAKTE_EXTRACT_FAILED, "XML is not well-formed (the document is empty)");
		else if (io.have_error && io.error_line > 0)
			set_reason(res, EAKTE_EXTRACT_FAILED, "XML is not well-formed (line %d: %s)",
				io.error_line, io.error);
		else if (io.have_error)
			set_reason(res, EAKTE_EXTRACT_FAILED, "XML is not well-formed (%s)", io.error);
		else
			set_reason(res, EAKTE_EXTRACT_FAILED, "XML is not well-formed");
	} else if (rc == 0) {
		rc = sink_finish(&s);
		if (rc == 0)
			rc = sink_to_result(&s, res);
	}
	free(s.buf);
	return rc;
}

/* ---- PDF through pdftotext ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * An unnamed temporary file: nothing to clean up if we crash, nothing for
 * another local user to open by name.  O_TMPFILE is Linux 3.11+ and not
 * on every filesystem; mkostemp + unlink is the fallback.
 */
static int open_spool(eakte_extract_result *res)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	if (dir == NULL || dir[0] != '/' || strlen(dir) > sizeof(path) - 32)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/.eakte-extract-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "cannot create a temporary file in %.100s: %s",
			dir, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

/* 1: spooled; 0: FAILED set in res; negative: read error. */
static int spool(eakte_extract_result *res, int fd, eakte_extract_read_fn read, void *ctx,
	const eakte_extract_limits *lim, char *buf)
{
	uint64_t total = 0;

	for (;;) {
		long n = read_checked(read, ctx, buf, IO_CHUNK);
		size_t off = 0;

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > lim->max_input) {
			char lim_text[32];

			format_size(lim_text, sizeof(lim_text), lim->max_input);
			set_reason(res, EAKTE_EXTRACT_FAILED,
				"the document is larger than the %s extraction limit", lim_text);
			return 0;
		}
		while (off < (size_t)n) {
			ssize_t w = write(fd, buf + off, (size_t)n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				set_reason(res, EAKTE_EXTRACT_FAILED,
					"cannot write the temporary file for pdftotext: %s", strerror(errno));
				return 0;
			}
			off += (size_t)w;
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "cannot rewind the temporary file for pdftotext: %s",
			strerror(errno));
		return 0;
	}
	return 1;
}

enum { STEP_FD = 1, STEP_RLIMIT, STEP_EXEC };

typedef struct {
	int step;
	int err;
} child_failure;

typedef struct {
	const char *path;
	int devnull, out_w, err_w, doc, status_w;
	long max_fd;
	struct rlimit as, cpu, fsize, core;
} child_setup;

static char arg0[] = "pdftotext", arg_q[] = "-q", arg_enc[] = "-enc", arg_utf8[] = "UTF-8",
	arg_eol[] = "-eol", arg_unix[] = "unix", arg_in[] = "/dev/fd/3", arg_out[] = "-";
static char env_lc[] = "LC_ALL=C.UTF-8", env_path[] = "PATH=/usr/bin:/bin";

static void child_fail(int fd, int step, int err) __attribute__((noreturn));

static void child_fail(int fd, int step, int err)
{
	child_failure f;
	ssize_t n;

	f.step = step;
	f.err = err;
	n = write(fd, &f, sizeof(f));
	EAKTE_UNUSED(n);
	_exit(127);
}

/* The child runs in the parent's memory until execve: system calls only,
 * nothing that takes a lock or touches the heap, and no return. */
static void child_run(const child_setup *c) __attribute__((noreturn));

static void child_run(const child_setup *c)
{
	char *argv[] = { arg0, arg_q, arg_enc, arg_utf8, arg_eol, arg_unix, arg_in, arg_out, NULL };
	char *envp[] = { env_lc, env_path, NULL };
	int src[5] = { c->devnull, c->out_w, c->err_w, c->doc, c->status_w };
	int hi[5], i, st = c->status_w;
	struct sigaction sa, old;
	sigset_t none;

	/* Signals are blocked (see spawn()).  A handler of the parent must
	 * never run here, in the parent's memory: every caught signal goes
	 * back to its default before they are unblocked.  An ignored SIGPIPE
	 * or SIGXCPU would survive execve. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP && sigaction(i, NULL, &old) == 0 &&
		    (old.sa_handler != SIG_DFL || i == SIGPIPE || i == SIGXCPU) &&
		    (old.sa_handler != SIG_IGN || i == SIGPIPE || i == SIGXCPU))
			sigaction(i, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Own process group, so a timeout kills whatever it started too. */
	setpgid(0, 0);

	/* Move every descriptor above the targets first so that no dup2
	 * below overwrites one still needed. */
	for (i = 0; i < 5; i++) {
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		if (hi[i] < 0)
			child_fail(st, STEP_FD, errno);
		if (i == 4)
			st = hi[4];
	}
	for (i = 0; i < 5; i++)
		if (dup2(hi[i], i) < 0)
			child_fail(st, STEP_FD, errno);
	st = 4;
	/* fds 0-3 are inherited by pdftotext, 4 (status) closes at exec. */
	if (fcntl(st, F_SETFD, FD_CLOEXEC) < 0)
		child_fail(st, STEP_FD, errno);
	if (close_range(5, ~0u, 0) != 0) {
		long fd;

		/* Kernel before 5.9: close one by one (bounded, see the parent). */
		for (fd = 5; fd < c->max_fd; fd++)
			close((int)fd);
	}
	/* Last, so that nothing above runs under the limits. */
	if (setrlimit(RLIMIT_CORE, &c->core) != 0 || setrlimit(RLIMIT_FSIZE, &c->fsize) != 0 ||
	    setrlimit(RLIMIT_CPU, &c->cpu) != 0 || setrlimit(RLIMIT_AS, &c->as) != 0)
		child_fail(st, STEP_RLIMIT, errno);
	execve(c->path, argv, envp);
	child_fail(st, STEP_EXEC, errno);
}

#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_BY_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_BY_FORK 1
#endif
#endif

#ifndef SPAWN_BY_FORK
static int child_main(void *arg)
{
	child_run(arg);
}

#define CHILD_STACK (64 * 1024)
#else
#define CHILD_STACK 0
#endif

/*
 * Start the child for pdftotext.  Not fork(): in a large process with
 * several threads (eakted), fork copies the page tables under the memory
 * map's lock, stalls every other thread that faults meanwhile, and leaves
 * them copy-on-write faults until the child has exec'd - measured, it
 * halved the daemon's filing throughput while text was being extracted.
 * clone(CLONE_VM | CLONE_VFORK) is what posix_spawn() does (which cannot
 * set the rlimits): the child runs on its own stack in our memory, and
 * this thread waits until it has called execve or exited.  All signals
 * are blocked meanwhile, so no handler of ours runs in the child.
 * Returns the pid, or -1 with errno.
 */
static pid_t spawn(child_setup *c)
{
	sigset_t all, saved;
	void *stack = MAP_FAILED;
	pid_t pid;
	int e;

#ifndef SPAWN_BY_FORK
	stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
#endif
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &saved)) != 0) {
		if (stack != MAP_FAILED)
			munmap(stack, CHILD_STACK);
		errno = e;
		return -1;
	}
#ifdef SPAWN_BY_FORK
	/* AddressSanitizer keeps its own books of every thread's stack and
	 * aborts on instrumented code that runs on one it does not know (the
	 * child's): the sanitized build forks, as eakte did before.  The
	 * child does the same either way; the tests of the normal build and
	 * valgrind's run cover the clone. */
	pid = fork();
	if (pid == 0)
		child_run(c);
#else
	/* The stack grows down on every architecture Debian builds for. */
	pid = clone(child_main, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
#endif
	e = errno;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (stack != MAP_FAILED)
		munmap(stack, CHILD_STACK);
	errno = e;
	return pid;
}

/* A limit no higher than the current hard limit, which we could not raise. */
static void limit_to(struct rlimit *out, int resource, uint64_t want)
{
	struct rlimit cur;
	rlim_t v = (rlim_t)want;

	if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < v)
		v = cur.rlim_max;
	out->rlim_cur = v;
	out->rlim_max = v;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reap, retrying on EINTR.  0 with *status, or -1 (ECHILD: SIGCHLD ignored). */
static int reap(pid_t pid, int *status)
{
	for (;;) {
		if (waitpid(pid, status, 0) == pid)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL); /* in case it had not yet made its group */
}

/* Explain pdftotext's documented exit codes when it said nothing itself. */
static const char *exit_meaning(int code)
{
	switch (code) {
	case 1: return " (error opening the PDF file)";
	case 2: return " (error opening an output file)";
	case 3: return " (error related to PDF permissions)";
	case 99: return " (other error)";
	default: return "";
	}
}

static int run_pdftotext(eakte_extract_result *res, int doc, const eakte_extract_limits *lim,
	char *buf)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, st[2] = { -1, -1 };
	char errbuf[STDERR_KEEP], line[STDERR_KEEP + 1], secs[32];
	size_t errlen = 0;
	int timed_out = 0, cut = 0, status = 0, reaped, rc = 0;
	uint64_t cpu = (uint64_t)(lim->timeout_ms + 999u) / 1000u + 1u;
	child_setup c;
	child_failure f;
	struct pollfd pfd[2];
	int64_t deadline;
	ssize_t n;
	sink s;
	pid_t pid;

	sink_init(&s, lim->max_text);
	memset(&c, 0, sizeof(c));
	c.path = lim->pdftotext;
	c.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c.devnull < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
	    pipe2(st, O_CLOEXEC) != 0) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "cannot prepare to run pdftotext: %s", strerror(errno));
		goto out_sink;
	}
	c.out_w = out[1];
	c.err_w = err[1];
	c.doc = doc;
	c.status_w = st[1];
	/* Only for kernels without close_range; a limit of millions of
	 * descriptors would make that loop take seconds. */
	c.max_fd = sysconf(_SC_OPEN_MAX);
	if (c.max_fd < 0 || c.max_fd > (1l << 20))
		c.max_fd = 1l << 20;
	limit_to(&c.as, RLIMIT_AS, lim->max_memory);
	/* Soft limit: SIGXCPU, reported as such; the hard one a second later. */
	limit_to(&c.cpu, RLIMIT_CPU, cpu + 1);
	if (c.cpu.rlim_cur > 1)
		c.cpu.rlim_cur--;
	limit_to(&c.fsize, RLIMIT_FSIZE, 0);
	limit_to(&c.core, RLIMIT_CORE, 0);
	snprintf(secs, sizeof(secs), "%g s", lim->timeout_ms / 1000.0);

	pid = spawn(&c);
	if (pid < 0) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "cannot start pdftotext: clone: %s", strerror(errno));
		goto out_sink;
	}
	deadline = now_ms() + lim->timeout_ms;
	setpgid(pid, pid); /* also here, against the race with kill_group() */
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&st[1]);
	close_fd(&c.devnull);

	/* The status pipe closes at a successful execve or carries the error. */
	do
		n = read(st[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(f)) {
		reap(pid, &status);
		if (f.step == STEP_EXEC && (f.err == ENOENT || f.err == ENOTDIR))
			set_reason(res, EAKTE_EXTRACT_FAILED, NOT_INSTALLED);
		else
			set_reason(res, EAKTE_EXTRACT_FAILED, "cannot start pdftotext (%s): %s",
				f.step == STEP_EXEC ? "execve" : f.step == STEP_RLIMIT ? "setrlimit" : "dup2",
				strerror(f.err));
		goto out_sink;
	}

	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int64_t left = deadline - now_ms();
		int i;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(pfd, 2, left > INT_MAX ? INT_MAX : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			set_reason(res, EAKTE_EXTRACT_FAILED, "cannot read the output of pdftotext: %s",
				strerror(errno));
			kill_group(pid);
			reap(pid, &status);
			goto out_sink;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, IO_CHUNK);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* Through out[]/err[], so that the cleanup below does not
				 * close the number again (by then another thread's fd). */
				close_fd(i == 0 ? &out[0] : &err[0]);
				pfd[i].fd = -1;
				continue;
			}
			if (i == 1) {
				/* stderr: the start says what went wrong; drain the rest. */
				size_t k = (size_t)n < STDERR_KEEP - errlen ? (size_t)n : STDERR_KEEP - errlen;
				memcpy(errbuf + errlen, buf, k);
				errlen += k;
				continue;
			}
			if ((rc = sink_utf8(&s, buf, (size_t)n)) < 0) {
				kill_group(pid);
				reap(pid, &status);
				goto out_sink;
			}
			if (s.full) {
				/* Enough text: the rest would be cut anyway. */
				cut = 1;
				break;
			}
		}
		if (cut)
			break;
	}

	/* Output closed: wait for the exit without reaping (WNOWAIT), so that
	 * the process group still exists for kill_group() to end any process
	 * pdftotext left behind. */
	while (!timed_out && !cut) {
		siginfo_t info;
		int64_t left = deadline - now_ms();
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: reap() below reports it */
		}
		if (info.si_pid == pid)
			break;
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (left < 5)
			ts.tv_nsec = (long)left * 1000 * 1000;
		nanosleep(&ts, NULL);
	}
	kill_group(pid);
	reaped = reap(pid, &status) == 0;

	sanitize_line(line, sizeof(line), errbuf, errlen);
	if (cut) {
		rc = sink_to_result(&s, res);
	} else if (timed_out) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "pdftotext did not finish within %s", secs);
	} else if (!reaped) {
		set_reason(res, EAKTE_EXTRACT_FAILED,
			"the exit status of pdftotext was lost (another part of the program reaped it)");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "pdftotext used more than %llu s of CPU time",
			(unsigned long long)c.cpu.rlim_cur);
	} else if (WIFSIGNALED(status)) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "pdftotext crashed (signal %d)%s%s",
			WTERMSIG(status), line[0] ? ": " : "", line);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		set_reason(res, EAKTE_EXTRACT_FAILED, "pdftotext failed with exit status %d%s%s",
			WEXITSTATUS(status), line[0] ? ": " : exit_meaning(WEXITSTATUS(status)), line);
	} else {
		rc = sink_finish(&s);
		if (rc == 0)
			rc = sink_to_result(&s, res);
	}
out_sink:
	free(s.buf);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	close_fd(&c.devnull);
	return rc;
}

static int extract_pdf(eakte_extract_result *res, eakte_extract_read_fn read, void *ctx,
	const eakte_extract_limits *lim)
{
	struct sigaction chld;
	char *buf;
	int fd, rc;

	/* With SIGCHLD ignored the kernel reaps the child at once: its exit
	 * status is lost and its pid may be reused before we would kill it. */
	if (sigaction(SIGCHLD, NULL, &chld) == 0 &&
	    (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT))) {
		set_reason(res, EAKTE_EXTRACT_FAILED,
			"pdftotext cannot be run by a program that ignores SIGCHLD");
		return 0;
	}
	/* Refuse before spooling a large document for nothing. */
	if (access(lim->pdftotext, X_OK) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		set_reason(res, EAKTE_EXTRACT_FAILED, NOT_INSTALLED);
		return 0;
	}
	buf = malloc(IO_CHUNK);
	if (buf == NULL)
		return eakte_error__oom("extracting the text of a PDF");
	fd = open_spool(res);
	if (fd < 0) {
		free(buf);
		return 0;
	}
	rc = spool(res, fd, read, ctx, lim, buf);
	if (rc == 1)
		rc = run_pdftotext(res, fd, lim, buf);
	close(fd);
	free(buf);
	return rc;
}

/* ---- dispatch ---- */

int eakte_extract__run(eakte_extract_result *res, const char *mime, eakte_extract_read_fn read,
	void *ctx, const eakte_extract_limits *lim)
{
	static const eakte_extract_limits defaults = EAKTE_EXTRACT_LIMITS_INIT;
	eakte_extract_limits l = lim ? *lim : defaults;
	char type[TYPE_MAX];
	size_t n = 0, tl;
	int rc;

	if (res == NULL)
		return eakte_error__set(EAKTE_EINVALID, "eakte_extract__run: no result to fill in");
	memset(res, 0, sizeof(*res));
	if (read == NULL)
		return eakte_error__set(EAKTE_EINVALID, "eakte_extract__run: no document reader");
	if (l.max_text == 0)
		l.max_text = defaults.max_text;
	if (l.max_text > SIZE_MAX / 4)
		l.max_text = SIZE_MAX / 4;
	if (l.timeout_ms == 0)
		l.timeout_ms = defaults.timeout_ms;
	if (l.max_memory == 0)
		l.max_memory = defaults.max_memory;
	if (l.max_input == 0)
		l.max_input = defaults.max_input;
	if (l.pdftotext == NULL)
		l.pdftotext = DEFAULT_PDFTOTEXT;

	/* "Text/XML; charset=utf-8" -> "text/xml" */
	if (mime == NULL)
		mime = "";
	while (*mime == ' ' || *mime == '\t')
		mime++;
	while (mime[n] != '\0' && mime[n] != ';' && mime[n] != ' ' && mime[n] != '\t' &&
	       n < sizeof(type) - 1) {
		char ch = mime[n];
		type[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	type[n] = '\0';
	tl = n;

	if (strcmp(type, "application/xml") == 0 || strcmp(type, "text/xml") == 0 ||
	    (strncmp(type, "application/", 12) == 0 && tl > 16 && strcmp(type + tl - 4, "+xml") == 0))
		rc = extract_xml(res, read, ctx, &l);
	else if (strncmp(type, "text/", 5) == 0 && tl > 5)
		rc = extract_text(res, read, ctx, &l);
	else if (strcmp(type, "application/pdf") == 0)
		rc = extract_pdf(res, read, ctx, &l);
	else {
		char safe[TYPE_MAX];

		sanitize_line(safe, sizeof(safe), type, tl);
		set_reason(res, EAKTE_EXTRACT_NONE, "no text extractor for %s",
			safe[0] ? safe : "documents of unknown type");
		rc = 0;
	}
	if (rc < 0) {
		/* Nothing half-done reaches the caller. */
		free(res->text);
		res->text = NULL;
		res->len = 0;
		res->truncated = 0;
		res->status = EAKTE_EXTRACT_FAILED;
		sanitize_line(res->reason, sizeof(res->reason), eakte_error_last(),
			strlen(eakte_error_last()));
	}
	return rc;
}

void eakte_extract__result_free(eakte_extract_result *res)
{
	if (res == NULL)
		return;
	free(res->text);
	res->text = NULL;
	res->len = 0;
}
