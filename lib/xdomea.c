/*
 * xdomea.c - the xdomea 3.0.0 message Aussonderung.Aussonderung.0503 for
 * one Akte (xdomea.h; docs/format.md "xdomea 0503 export").
 *
 * The message is written with libxml2's xmlTextWriter, which escapes text
 * and attribute values, so model strings never become markup.  What the
 * writer cannot fix is text that XML 1.0 cannot carry at all: control
 * characters other than tab and line feed (refused: eakte never stores
 * them) and the noncharacters U+FFFE and U+FFFF (eakte accepts them in
 * titles, so refusing them would make such an Akte impossible to hand
 * over; they are written as U+FFFD, the replacement character).
 *
 * Booleans are written "1" and "0": the schema fixes some of them
 * (Importbestaetigung, Unbefristet) to the literal "1", and libxml2
 * compares fixed values literally.
 *
 * The element order follows the sequences of xdomea-Baukasten.xsd
 * (AkteType, VorgangType, DokumentType, ...); the schema is strict about
 * order, so keep each writer function in the order of its type.
 *
 * Errors are sticky: the first check that fails records its message and
 * code in gen.rc, and every later write or check does nothing, so the
 * walk over the model needs no error plumbing and reports the first bad
 * field.
 */
#include "xdomea.h"
#include "encode.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#define NS_URI "urn:xoev-de:xdomea:schema:3.0.0"
#define NS_PREFIX "xdomea"
#define MESSAGE_TYPE "Aussonderung.Aussonderung.0503"
#define NAME_MAX_BYTES 120   /* of the original file name in a member name */
#define EXT_MAX 16           /* a kept extension: 1-16 ASCII letters or digits */
#define PATH_MAX_LEN 160     /* a JSON pointer into the model */
#define QUOTE_MAX 72         /* bytes of a bad value quoted in a message */

/* Code lists (schemes/xdomea_3.0.0/code_lists and xdomea-Datentypen.xsd). */
#define LIST_NACHRICHTENTYP "urn:xoev-de:xdomea:codeliste:nachrichtentyp"
#define LIST_MEDIUM "urn:xoev-de:xdomea:codeliste:medium"
#define LIST_AUSSONDERUNGSART "urn:xoev-de:xdomea:codeliste:aussonderungsart"
#define LIST_DATEIFORMAT "urn:xoev-de:xdomea:codeliste:dateiformat"
#define MEDIUM_ELEKTRONISCH "001"
#define DATEIFORMAT_SONSTIGES "100"

/*
 * Dateiformat code list 1.0: its codes name file extensions.  The MIME
 * type (detected from the content when the document was filed) decides;
 * the original file name's extension only picks among the codes of that
 * type (jpg/jpeg/jpe, doc/dot, ...).  The first row of a type is its
 * default.  Code 044 (PDF/A) is never chosen: whether a PDF is PDF/A is
 * not known here, and claiming it would be a false statement to the
 * archive.
 */
static const struct {
	const char *ext;
	const char *code;
	const char *mime;
} formats[] = {
	{ "pdf", "018", "application/pdf" },
	{ "txt", "045", "text/plain" },
	{ "xml", "030", "application/xml" },
	{ "xsd", "031", "application/xml" },
	{ "xml", "030", "text/xml" },
	{ "xsd", "031", "text/xml" },
	{ "dtd", "041", "application/xml-dtd" },
	{ "csv", "002", "text/csv" },
	{ "html", "008", "text/html" },
	{ "htm", "007", "text/html" },
	{ "rtf", "022", "application/rtf" },
	{ "rtf", "022", "text/rtf" },
	{ "ps", "021", "application/postscript" },
	{ "eml", "006", "message/rfc822" },
	{ "msg", "012", "application/vnd.ms-outlook" },
	{ "bmp", "001", "image/bmp" },
	{ "bmp", "001", "image/x-ms-bmp" },
	{ "jpg", "011", "image/jpeg" },
	{ "jpeg", "010", "image/jpeg" },
	{ "jpe", "009", "image/jpeg" },
	{ "png", "019", "image/png" },
	{ "tif", "023", "image/tiff" },
	{ "tiff", "024", "image/tiff" },
	{ "doc", "003", "application/msword" },
	{ "dot", "032", "application/msword" },
	{ "xls", "028", "application/vnd.ms-excel" },
	{ "xlt", "034", "application/vnd.ms-excel" },
	{ "xlw", "029", "application/vnd.ms-excel" },
	{ "xlc", "026", "application/vnd.ms-excel" },
	{ "xlm", "027", "application/vnd.ms-excel" },
	{ "ppt", "020", "application/vnd.ms-powerpoint" },
	{ "pot", "033", "application/vnd.ms-powerpoint" },
	{ "wps", "025", "application/vnd.ms-works" },
	{ "mpp", "042", "application/vnd.ms-project" },
	{ "docx", "035", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "dotx", "038", "application/vnd.openxmlformats-officedocument.wordprocessingml.template" },
	{ "xlsx", "036", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xltx", "039", "application/vnd.openxmlformats-officedocument.spreadsheetml.template" },
	{ "pptx", "037", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "potx", "040", "application/vnd.openxmlformats-officedocument.presentationml.template" },
	{ "odt", "015", "application/vnd.oasis.opendocument.text" },
	{ "ott", "043", "application/vnd.oasis.opendocument.text-template" },
	{ "ods", "014", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "ots", "017", "application/vnd.oasis.opendocument.spreadsheet-template" },
	{ "odp", "013", "application/vnd.oasis.opendocument.presentation" },
	{ "otp", "016", "application/vnd.oasis.opendocument.presentation-template" },
};

/* Aussonderungsart code list 1.0. */
static const struct {
	char value;
	const char *name;
} values[] = {
	{ 'A', "Das Schriftgutobjekt ist archivw\xc3\xbcrdig." },
	{ 'B', "Das Schriftgutobjekt ist zum Bewerten markiert." },
	{ 'V', "Das Schriftgutobjekt ist zum Vernichten markiert." },
};

typedef struct {
	xmlTextWriterPtr w;
	int rc;              /* the first error; 0 while all is well */
	json_t *ids;         /* object UUIDs seen, as keys (lowercase) */
	json_t *members;     /* the file UUIDs of the member names seen, as keys */
	const char *message_name;
} gen;

enum { OPTIONAL = 0, REQUIRED = 1 };

/* ---- checks on single values ---- */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 if s[0..36) is a UUID (8-4-4-4-12 hex digits, either case). */
static int uuid_prefix(const char *s)
{
	size_t i;

	for (i = 0; i < EAKTE_XDOMEA_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_hex(s[i])) {
			return 0;
		}
	}
	return 1;
}

static int is_uuid(const char *s)
{
	return strlen(s) == EAKTE_XDOMEA_UUID_LEN && uuid_prefix(s);
}

static void lower_uuid(char out[EAKTE_XDOMEA_UUID_LEN + 1], const char *s)
{
	size_t i;

	for (i = 0; i < EAKTE_XDOMEA_UUID_LEN; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
	out[EAKTE_XDOMEA_UUID_LEN] = '\0';
}

static int digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* "YYYY-MM-DD", a date of the Gregorian calendar from year 1000 on. */
static int parse_date(const char *s, int *year)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return 0;
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	if (year != NULL)
		*year = y;
	return 1;
}

static int is_date(const char *s)
{
	return strlen(s) == 10 && parse_date(s, NULL);
}

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds: how eakte writes times). */
static int is_datetime(const char *s)
{
	int h, mi, se;

	return strlen(s) == 20 && parse_date(s, NULL) && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
		s[19] == 'Z' && digits(s + 11, 2, &h) && digits(s + 14, 2, &mi) && digits(s + 17, 2, &se) &&
		h < 24 && mi < 60 && se < 60;
}

/*
 * The character at s[0..n) (n > 0): its length, and its code point in *cp;
 * -1 for anything that is not well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF).
 */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	int len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (n < (size_t)len)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

/* The start of s for a message: at most QUOTE_MAX bytes of it, cut at a
 * character boundary, control characters and bytes that are not UTF-8
 * shown as '?', so that the error text stays one line of valid UTF-8. */
static const char *quote(char out[QUOTE_MAX + 4], const char *s)
{
	size_t n = strlen(s), i = 0, o = 0;

	while (i < n) {
		uint32_t c;
		int len = utf8_next((const unsigned char *)s + i, n - i, &c);

		if (o + (len > 0 ? (size_t)len : 1) > QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (len < 0 || c < 0x20 || c == 0x7f) {
			out[o++] = '?';
			i += len < 0 ? 1 : (size_t)len;
		} else {
			memcpy(out + o, s + i, (size_t)len);
			o += (size_t)len;
			i += (size_t)len;
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- the sticky error ---- */

static int failed(const gen *g)
{
	return g->rc != 0;
}

/* Record an EAKTE_EINVALID about the field at `path` (first error wins). */
static void bad(gen *g, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(gen *g, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (failed(g))
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	g->rc = eakte_error__set(EAKTE_EINVALID, "xdomea model: %s: %s", path[0] != '\0' ? path : "/", what);
}

static void oom(gen *g)
{
	if (!failed(g))
		g->rc = eakte_error__oom("writing the xdomea message");
}

/* A longer pointer than fits cannot occur (the model nests four deep and
 * keys are short or quoted short); it would be cut, ending in "...". */
static void fit_path(char out[PATH_MAX_LEN], int n)
{
	if (n < 0 || n >= PATH_MAX_LEN)
		memcpy(out + PATH_MAX_LEN - 4, "...", 4);
}

static void subpath(char out[PATH_MAX_LEN], const char *base, const char *key)
{
	fit_path(out, snprintf(out, PATH_MAX_LEN, "%s/%s", base, key));
}

static void subindex(char out[PATH_MAX_LEN], const char *base, const char *key, size_t i)
{
	fit_path(out, snprintf(out, PATH_MAX_LEN, "%s/%s/%zu", base, key, i));
}

/*
 * Text that XML 1.0 can carry: valid UTF-8, no NUL, no control
 * characters but tab and line feed, at most EAKTE_XDOMEA_TEXT_MAX bytes.
 */
static void check_text(gen *g, const char *path, const json_t *v)
{
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t n = json_string_length(v), i = 0;

	if (failed(g))
		return;
	if (strlen((const char *)s) != n) {
		bad(g, path, "contains a NUL character");
		return;
	}
	if (n > EAKTE_XDOMEA_TEXT_MAX) {
		bad(g, path, "is %zu bytes long, the limit is %d", n, EAKTE_XDOMEA_TEXT_MAX);
		return;
	}
	while (i < n) {
		uint32_t c;
		int len = utf8_next(s + i, n - i, &c);

		if (len < 0) {
			bad(g, path, "is not valid UTF-8 (byte %zu)", i);
			return;
		}
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
			bad(g, path, "contains the control character U+%04X (byte %zu), which an xdomea message "
				"cannot carry", (unsigned)c, i);
			return;
		}
		i += (size_t)len;
	}
}

/* ---- reading the model ---- */

/* Refuse members other than `allowed` (NULL-terminated). */
static void only_keys(gen *g, const json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	if (failed(g))
		return;
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			char p[PATH_MAX_LEN], q[QUOTE_MAX + 4];

			subpath(p, path, quote(q, key));
			bad(g, p, "unknown member (a misspelt field?)");
			return;
		}
	}
}

static const json_t *object_at(gen *g, const json_t *parent, const char *path, const char *key, int required)
{
	const json_t *v;
	char p[PATH_MAX_LEN];

	if (failed(g))
		return NULL;
	v = json_object_get(parent, key);
	subpath(p, path, key);
	if (v == NULL) {
		if (required)
			bad(g, p, "missing (an object)");
		return NULL;
	}
	if (!json_is_object(v)) {
		bad(g, p, "must be an object");
		return NULL;
	}
	return v;
}

/* A string member, checked by check_text(); NULL if absent or bad. */
static const char *text_at(gen *g, const json_t *obj, const char *path, const char *key, int required)
{
	const json_t *v;
	char p[PATH_MAX_LEN];

	if (failed(g))
		return NULL;
	v = json_object_get(obj, key);
	subpath(p, path, key);
	if (v == NULL) {
		if (required)
			bad(g, p, "missing (a string)");
		return NULL;
	}
	if (!json_is_string(v)) {
		bad(g, p, "must be a string");
		return NULL;
	}
	check_text(g, p, v);
	return failed(g) ? NULL : json_string_value(v);
}

/* A non-empty string member. */
static const char *nonempty_at(gen *g, const json_t *obj, const char *path, const char *key, int required)
{
	const char *s = text_at(g, obj, path, key, required);
	char p[PATH_MAX_LEN];

	if (s != NULL && s[0] == '\0') {
		subpath(p, path, key);
		bad(g, p, "is empty");
		return NULL;
	}
	return s;
}

static const char *uuid_at(gen *g, const json_t *obj, const char *path, const char *key)
{
	const char *s = nonempty_at(g, obj, path, key, REQUIRED);
	char p[PATH_MAX_LEN], q[QUOTE_MAX + 4];

	if (s != NULL && !is_uuid(s)) {
		subpath(p, path, key);
		bad(g, p, "\"%s\" is not a UUID (8-4-4-4-12 hexadecimal digits)", quote(q, s));
		return NULL;
	}
	return s;
}

static const char *date_at(gen *g, const json_t *obj, const char *path, const char *key, int required)
{
	const char *s = nonempty_at(g, obj, path, key, required);
	char p[PATH_MAX_LEN], q[QUOTE_MAX + 4];

	if (s != NULL && !is_date(s)) {
		subpath(p, path, key);
		bad(g, p, "\"%s\" is not a date YYYY-MM-DD", quote(q, s));
		return NULL;
	}
	return s;
}

/* An integer member in [min, max]; 0 if absent or bad. */
static json_int_t int_at(gen *g, const json_t *obj, const char *path, const char *key, json_int_t min,
	json_int_t max, int required)
{
	const json_t *v;
	char p[PATH_MAX_LEN];

	if (failed(g))
		return 0;
	v = json_object_get(obj, key);
	subpath(p, path, key);
	if (v == NULL) {
		if (required)
			bad(g, p, "missing (an integer)");
		return 0;
	}
	if (!json_is_integer(v)) {
		bad(g, p, "must be an integer");
		return 0;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		bad(g, p, "%" JSON_INTEGER_FORMAT " is out of range (%" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT ")",
			json_integer_value(v), min, max);
		return 0;
	}
	return json_integer_value(v);
}

static const json_t *array_at(gen *g, const json_t *obj, const char *path, const char *key)
{
	const json_t *v;
	char p[PATH_MAX_LEN];

	if (failed(g))
		return NULL;
	v = json_object_get(obj, key);
	if (v == NULL)
		return NULL;
	if (!json_is_array(v)) {
		subpath(p, path, key);
		bad(g, p, "must be an array");
		return NULL;
	}
	return v;
}

/* Each object UUID once in a message. */
static void unique_id(gen *g, const char *path, const char *uuid)
{
	char low[EAKTE_XDOMEA_UUID_LEN + 1];

	if (failed(g))
		return;
	lower_uuid(low, uuid);
	if (json_object_get(g->ids, low) != NULL) {
		bad(g, path, "UUID %s is used by two objects of the message", low);
		return;
	}
	if (json_object_set_new(g->ids, low, json_true()) < 0)
		oom(g);
}

/* Each number once in `set` (Vorgang numbers of an Akte, version numbers
 * of a document); a set keeps a large Akte linear. */
static void unique_number(gen *g, json_t *set, const char *path, json_int_t n, const char *what, const char *in)
{
	char key[32];

	if (failed(g))
		return;
	snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, n);
	if (json_object_get(set, key) != NULL) {
		bad(g, path, "%s %s appears twice in the %s", what, key, in);
		return;
	}
	if (json_object_set_new(set, key, json_true()) < 0)
		oom(g);
}

/* ---- writing ---- */

static void x_start(gen *g, const char *name)
{
	if (!failed(g) && xmlTextWriterStartElementNS(g->w, BAD_CAST NS_PREFIX, BAD_CAST name, NULL) < 0)
		oom(g);
}

static void x_end(gen *g)
{
	if (!failed(g) && xmlTextWriterEndElement(g->w) < 0)
		oom(g);
}

/* Character data, with U+FFFE and U+FFFF written as U+FFFD (all three
 * are EF BF xx in UTF-8, so the copy has the same length). */
static void x_string(gen *g, const char *text)
{
	const char *p = text;
	char *copy = NULL;
	int rc;

	if (failed(g))
		return;
	while ((p = strstr(p, "\xef\xbf")) != NULL) {
		if ((unsigned char)p[2] == 0xbe || (unsigned char)p[2] == 0xbf) {
			if (copy == NULL && (copy = strdup(text)) == NULL) {
				oom(g);
				return;
			}
			copy[p - text + 2] = (char)0xbd;
		}
		p += 2;
	}
	rc = xmlTextWriterWriteString(g->w, BAD_CAST (copy != NULL ? copy : text));
	free(copy);
	if (rc < 0)
		oom(g);
}

/* <xdomea:name>text</xdomea:name> */
static void x_text(gen *g, const char *name, const char *text)
{
	x_start(g, name);
	x_string(g, text);
	x_end(g);
}

static void x_attr(gen *g, const char *name, const char *value)
{
	if (!failed(g) && xmlTextWriterWriteAttribute(g->w, BAD_CAST name, BAD_CAST value) < 0)
		oom(g);
}

/* A code list value: <xdomea:name listURI listVersionID><code/><name/></xdomea:name>.
 * The children of xoev-code:Code are unqualified. */
static void x_code(gen *g, const char *name, const char *list, const char *version, const char *code,
	const char *code_name)
{
	x_start(g, name);
	x_attr(g, "listURI", list);
	x_attr(g, "listVersionID", version);
	if (!failed(g) && xmlTextWriterWriteElement(g->w, BAD_CAST "code", BAD_CAST code) < 0)
		oom(g);
	if (code_name != NULL && !failed(g) && xmlTextWriterWriteElement(g->w, BAD_CAST "name", BAD_CAST code_name) < 0)
		oom(g);
	x_end(g);
}

static void x_identifikation(gen *g, const char *uuid, json_int_t number)
{
	char low[EAKTE_XDOMEA_UUID_LEN + 1], num[32];

	lower_uuid(low, uuid);
	x_start(g, "Identifikation");
	x_text(g, "ID", low);
	if (number > 0) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, number);
		x_text(g, "NummerImUebergeordnetenContainer", num);
	}
	x_end(g);
}

static void x_medium(gen *g)
{
	x_code(g, "Medium", LIST_MEDIUM, "1.0", MEDIUM_ELEKTRONISCH, NULL);
}

/* ---- the model, object by object ---- */

static const char *extension_of(const char *filename)
{
	const char *dot;

	if (filename == NULL || (dot = strrchr(filename, '.')) == NULL)
		return NULL;
	return dot + 1;
}

static int mime_equal(const char *model_mime, const char *table_mime)
{
	size_t n = strlen(table_mime);

	/* "text/plain; charset=utf-8" is text/plain */
	return strncasecmp(model_mime, table_mime, n) == 0 &&
		(model_mime[n] == '\0' || model_mime[n] == ';' || model_mime[n] == ' ');
}

/* The Dateiformat code for a version; NULL means Sonstiges. */
static const char *format_code(const char *mime, const char *filename)
{
	const char *ext = extension_of(filename);
	const char *first = NULL;
	size_t i;

	for (i = 0; i < EAKTE_ARRAY_SIZE(formats); i++) {
		if (!mime_equal(mime, formats[i].mime))
			continue;
		if (first == NULL)
			first = formats[i].code;
		if (ext != NULL && strcasecmp(ext, formats[i].ext) == 0)
			return formats[i].code;
	}
	return first;
}

static void gen_version(gen *g, const json_t *v, const char *path)
{
	static const char *const keys[] = { "version", "filename", "member", "mime", "size", "sha256", "filed", NULL };
	const char *member, *mime, *filename, *filed, *sha, *code;
	char p[PATH_MAX_LEN], num[32], q[QUOTE_MAX + 4], uuid[EAKTE_XDOMEA_UUID_LEN + 1], *expect = NULL;
	json_int_t nr;
	int rc;

	if (!json_is_object(v)) {
		bad(g, path, "must be an object");
		return;
	}
	only_keys(g, v, path, keys);
	nr = int_at(g, v, path, "version", 1, 0x7fffffff, REQUIRED);
	member = nonempty_at(g, v, path, "member", REQUIRED);
	mime = nonempty_at(g, v, path, "mime", REQUIRED);
	filename = text_at(g, v, path, "filename", OPTIONAL);
	filed = nonempty_at(g, v, path, "filed", OPTIONAL);
	int_at(g, v, path, "size", 0, LLONG_MAX, OPTIONAL);
	sha = nonempty_at(g, v, path, "sha256", OPTIONAL);
	if (failed(g))
		return;
	if (filed != NULL && !is_date(filed) && !is_datetime(filed)) {
		subpath(p, path, "filed");
		bad(g, p, "\"%s\" is neither YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", quote(q, filed));
		return;
	}
	if (sha != NULL) {
		size_t i;

		for (i = 0; sha[i] != '\0' && ((sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f')); i++)
			;
		if (i != EAKTE_HASH_HEX_LEN || sha[i] != '\0') {
			subpath(p, path, "sha256");
			bad(g, p, "is not 64 lowercase hexadecimal digits");
			return;
		}
	}

	/* The member must be exactly what eakte_xdomea__member_name() makes of
	 * its own UUID and name part (the sanitiser is idempotent), so that no
	 * unsafe name reaches the zip or the message. */
	subpath(p, path, "member");
	if (strlen(member) < EAKTE_XDOMEA_UUID_LEN || !uuid_prefix(member) ||
	    (member[EAKTE_XDOMEA_UUID_LEN] != '\0' && member[EAKTE_XDOMEA_UUID_LEN] != '_')) {
		bad(g, p, "\"%s\" does not start with a UUID followed by '_' or the end (make it with "
			"eakte_xdomea__member_name())", quote(q, member));
		return;
	}
	memcpy(uuid, member, EAKTE_XDOMEA_UUID_LEN);
	uuid[EAKTE_XDOMEA_UUID_LEN] = '\0';
	rc = eakte_xdomea__member_name(&expect, uuid, member[EAKTE_XDOMEA_UUID_LEN] == '_' ?
		member + EAKTE_XDOMEA_UUID_LEN + 1 : "");
	if (rc < 0) {
		g->rc = rc;
		return;
	}
	rc = strcmp(expect, member);
	free(expect);
	if (rc != 0) {
		bad(g, p, "\"%s\" is not a safe member name (make it with eakte_xdomea__member_name())",
			quote(q, member));
		return;
	}
	/* Each file its own UUID (xdomea 3.0.0 specification 5.1.35), which
	 * also keeps names apart on file systems that ignore case. */
	if (strcmp(member, g->message_name) == 0 || json_object_get(g->members, uuid) != NULL) {
		bad(g, p, "\"%s\" names two files of the zip (each file needs its own UUID)", quote(q, member));
		return;
	}
	if (json_object_set_new(g->members, uuid, json_true()) < 0) {
		oom(g);
		return;
	}

	/* VersionType, FormatType, PrimaerdokumentType */
	snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, nr);
	x_start(g, "Version");
	x_text(g, "Nummer", num);
	x_start(g, "Format");
	code = format_code(mime, filename);
	x_code(g, "Name", LIST_DATEIFORMAT, "1.0", code != NULL ? code : DATEIFORMAT_SONSTIGES, NULL);
	if (code == NULL)
		x_text(g, "SonstigerName", mime);
	/* The version of the file format (PDF 1.7, ...) is required but not
	 * known; the Landesarchiv NRW examples leave it empty too. */
	x_text(g, "Version", "");
	x_start(g, "Primaerdokument");
	x_text(g, "Dateiname", member);
	if (filename != NULL && filename[0] != '\0')
		x_text(g, "DateinameOriginal", filename);
	if (filed != NULL && is_datetime(filed))
		x_text(g, "DatumUhrzeit", filed);
	x_end(g);
	x_end(g);
	x_end(g);
}

static void gen_document(gen *g, const json_t *d, const char *path)
{
	static const char *const keys[] = { "id", "title", "filed", "versions", NULL };
	const json_t *versions, *v;
	const char *id, *title;
	json_t *seen;
	char p[PATH_MAX_LEN];
	size_t i;

	if (!json_is_object(d)) {
		bad(g, path, "must be an object");
		return;
	}
	only_keys(g, d, path, keys);
	id = uuid_at(g, d, path, "id");
	title = text_at(g, d, path, "title", REQUIRED);
	date_at(g, d, path, "filed", OPTIONAL);
	versions = array_at(g, d, path, "versions");
	subpath(p, path, "id");
	unique_id(g, p, id != NULL ? id : "");
	if (failed(g))
		return;
	if (versions == NULL || json_array_size(versions) == 0) {
		subpath(p, path, "versions");
		bad(g, p, "a document needs at least one version (its primary file)");
		return;
	}

	/* DokumentType */
	x_start(g, "Dokument");
	x_identifikation(g, id, 0);
	x_start(g, "AllgemeineMetadaten");
	x_text(g, "Betreff", title);
	x_medium(g);
	x_end(g);
	if ((seen = json_object()) == NULL) {
		oom(g);
		return;
	}
	json_array_foreach(versions, i, v) {
		subindex(p, path, "versions", i);
		gen_version(g, v, p);
		unique_number(g, seen, p, json_integer_value(json_object_get(v, "version")), "version", "document");
		if (failed(g))
			break;
	}
	json_decref(seen);
	x_end(g);
}

static void gen_documents(gen *g, const json_t *obj, const char *path)
{
	const json_t *docs = array_at(g, obj, path, "documents"), *d;
	char p[PATH_MAX_LEN];
	size_t i;

	if (docs == NULL)
		return;
	json_array_foreach(docs, i, d) {
		subindex(p, path, "documents", i);
		gen_document(g, d, p);
		if (failed(g))
			return;
	}
}

static void gen_vorgang(gen *g, const json_t *vg, const char *path)
{
	static const char *const keys[] = { "n", "title", "uuid", "documents", NULL };
	const char *uuid, *title;
	char p[PATH_MAX_LEN];
	json_int_t n;

	if (!json_is_object(vg)) {
		bad(g, path, "must be an object");
		return;
	}
	only_keys(g, vg, path, keys);
	n = int_at(g, vg, path, "n", 1, 0xffffffffLL, REQUIRED);   /* xs:unsignedInt */
	title = text_at(g, vg, path, "title", REQUIRED);
	uuid = uuid_at(g, vg, path, "uuid");
	subpath(p, path, "uuid");
	unique_id(g, p, uuid != NULL ? uuid : "");
	if (failed(g))
		return;

	/* VorgangType */
	x_start(g, "Vorgang");
	x_identifikation(g, uuid, n);
	x_start(g, "AllgemeineMetadaten");
	x_text(g, "Betreff", title);
	x_medium(g);
	x_end(g);
	gen_documents(g, vg, path);
	x_end(g);
}

static void gen_akte(gen *g, const json_t *akte)
{
	static const char *const keys[] = { "az", "title", "plan", "opened", "closed", "retention", "value",
		"uuid", "vorgaenge", "documents", NULL };
	static const char *const plan_keys[] = { "code", "title", NULL };
	const char *az, *title, *uuid, *opened, *closed, *value_s, *plan_code = NULL, *plan_title = NULL;
	const json_t *plan, *retention, *vorgaenge, *vg;
	json_t *numbers = NULL;
	json_int_t years = -1;
	const char *value_name = NULL;
	char value_code[2] = { 0, 0 }, buf[32], p[PATH_MAX_LEN], q[QUOTE_MAX + 4];
	int y_closed = 0;
	size_t i;

	only_keys(g, akte, "/akte", keys);
	az = nonempty_at(g, akte, "/akte", "az", REQUIRED);
	title = text_at(g, akte, "/akte", "title", REQUIRED);
	uuid = uuid_at(g, akte, "/akte", "uuid");
	unique_id(g, "/akte/uuid", uuid != NULL ? uuid : "");
	plan = object_at(g, akte, "/akte", "plan", REQUIRED);
	if (plan != NULL) {
		only_keys(g, plan, "/akte/plan", plan_keys);
		plan_code = nonempty_at(g, plan, "/akte/plan", "code", REQUIRED);
		plan_title = text_at(g, plan, "/akte/plan", "title", OPTIONAL);
	}
	opened = date_at(g, akte, "/akte", "opened", REQUIRED);
	closed = date_at(g, akte, "/akte", "closed", OPTIONAL);
	if (failed(g))
		return;
	if (closed != NULL) {
		parse_date(closed, &y_closed);
		if (strcmp(closed, opened) < 0) {
			bad(g, "/akte/closed", "%s is before the Akte was opened (%s)", closed, opened);
			return;
		}
	}

	retention = json_object_get(akte, "retention");
	if (retention == NULL) {
		bad(g, "/akte/retention", "missing (years 0..200 or \"unbefristet\")");
	} else if (json_is_string(retention)) {
		if (strcmp(json_string_value(retention), "unbefristet") != 0)
			bad(g, "/akte/retention", "must be a number of years 0..200 or \"unbefristet\"");
	} else {
		years = int_at(g, akte, "/akte", "retention", 0, 200, REQUIRED);
	}

	value_s = nonempty_at(g, akte, "/akte", "value", REQUIRED);
	if (value_s != NULL) {
		for (i = 0; i < EAKTE_ARRAY_SIZE(values); i++)
			if (value_s[0] == values[i].value && value_s[1] == '\0')
				value_name = values[i].name;
		if (value_name == NULL)
			bad(g, "/akte/value", "\"%s\" is not an archival value (A, B or V)", quote(q, value_s));
		else
			value_code[0] = value_s[0];
	}
	vorgaenge = array_at(g, akte, "/akte", "vorgaenge");
	if (failed(g))
		return;

	/* AkteType */
	x_start(g, "Akte");
	x_identifikation(g, uuid, 0);
	x_start(g, "AllgemeineMetadaten");
	x_text(g, "Betreff", title);
	x_text(g, "Kennzeichen", az);
	x_medium(g);
	x_start(g, "Aktenplaneinheit");
	x_text(g, "Kennzeichen", plan_code);
	if (plan_title != NULL)
		x_text(g, "Inhaltsangabe", plan_title);
	x_end(g);
	x_end(g);

	/* MetadatenAussonderungType */
	x_start(g, "ArchivspezifischeMetadaten");
	x_start(g, "Aufbewahrungsdauer");
	if (years < 0) {
		x_text(g, "Unbefristet", "1");
	} else {
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, years);
		x_text(g, "AnzahlJahre", buf);
	}
	x_end(g);
	x_start(g, "Aussonderungsart");
	x_code(g, "Aussonderungsart", LIST_AUSSONDERUNGSART, "1.0", value_code, value_name);
	x_end(g);
	if (closed != NULL && years >= 0) {
		/* Retention runs from the end of the year of closure (zdA). */
		snprintf(buf, sizeof buf, "%04d-12-31", y_closed + (int)years);
		x_text(g, "Aufbewahrungsende", buf);
	}
	x_end(g);

	x_start(g, "Laufzeit");
	x_text(g, "Beginn", opened);
	if (closed != NULL)
		x_text(g, "Ende", closed);
	x_end(g);

	x_start(g, "Akteninhalt");
	gen_documents(g, akte, "/akte");
	if (vorgaenge != NULL && (numbers = json_object()) == NULL)
		oom(g);
	if (vorgaenge != NULL && !failed(g)) {
		json_array_foreach(vorgaenge, i, vg) {
			char pn[PATH_MAX_LEN];

			subindex(p, "/akte", "vorgaenge", i);
			gen_vorgang(g, vg, p);
			subpath(pn, p, "n");
			unique_number(g, numbers, pn, json_integer_value(json_object_get(vg, "n")), "Vorgang", "Akte");
			if (failed(g))
				break;
		}
	}
	json_decref(numbers);
	x_end(g);

	x_text(g, "ZdA", closed != NULL ? "1" : "0");
	if (closed != NULL)
		x_text(g, "ZdADatum", closed);
	x_end(g);
}

static void gen_kopf(gen *g, const json_t *model, const char *message_id)
{
	static const char *const sender_keys[] = { "origin", "name", NULL };
	static const char *const recipient_keys[] = { "name", NULL };
	const json_t *sender, *recipient;
	const char *created, *origin = NULL, *sender_name = NULL, *recipient_name = NULL;
	char low[EAKTE_XDOMEA_UUID_LEN + 1], q[QUOTE_MAX + 4];

	created = nonempty_at(g, model, "", "created", REQUIRED);
	if (created != NULL && !is_datetime(created))
		bad(g, "/created", "\"%s\" is not a time YYYY-MM-DDTHH:MM:SSZ", quote(q, created));
	sender = object_at(g, model, "", "sender", REQUIRED);
	if (sender != NULL) {
		only_keys(g, sender, "/sender", sender_keys);
		origin = nonempty_at(g, sender, "/sender", "origin", REQUIRED);
		sender_name = nonempty_at(g, sender, "/sender", "name", REQUIRED);
	}
	recipient = object_at(g, model, "", "recipient", OPTIONAL);
	if (recipient != NULL) {
		only_keys(g, recipient, "/recipient", recipient_keys);
		recipient_name = nonempty_at(g, recipient, "/recipient", "name", REQUIRED);
	}
	if (failed(g))
		return;

	/* NkAussonderungType: NkBasisType, then the three flags */
	lower_uuid(low, message_id);
	x_start(g, "Kopf");
	x_text(g, "ProzessID", low);
	x_code(g, "Nachrichtentyp", LIST_NACHRICHTENTYP, "2.0", "0503", "Aussonderung.Aussonderung");
	x_text(g, "Erstellungszeitpunkt", created);
	x_start(g, "Absender");
	x_start(g, "Institution");
	x_text(g, "Name", sender_name);
	x_end(g);
	x_end(g);
	/* Empfaenger is required, all its children are optional: without a
	 * recipient in the model it stays empty. */
	x_start(g, "Empfaenger");
	if (recipient_name != NULL) {
		x_start(g, "Institution");
		x_text(g, "Name", recipient_name);
		x_end(g);
	}
	x_end(g);
	x_start(g, "SendendesSystem");
	x_text(g, "InstanzID", origin);
	x_text(g, "Produktname", "eakte");
	x_text(g, "Version", eakte_version());
	x_end(g);
	/* The schema fixes Importbestaetigung to 1: the archive answers with
	 * 0506 once it has taken the records. */
	x_text(g, "Importbestaetigung", "1");
	x_text(g, "RueckmeldungArchivkennung", "0");
	x_text(g, "Empfangsbestaetigung", "0");
	x_end(g);
}

/* libxml2 (before 2.11) wants its globals set up once, before threads
 * use it; the daemon may export, verify packages and extract text at once.
 * Every user of libxml2 in libeakte calls this first. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

void eakte_xml__init(void)
{
	pthread_once(&xml_once, xml_init);
}

int eakte_xdomea__0503(char **xml_out, size_t *len_out, const json_t *model)
{
	static const char *const keys[] = { "message_id", "created", "sender", "recipient", "akte", NULL };
	gen g = { 0 };
	xmlBufferPtr buf = NULL;
	const json_t *akte;
	const char *message_id;
	char *name = NULL;

	*xml_out = NULL;
	*len_out = 0;
	eakte_xml__init();
	if (!json_is_object(model))
		return eakte_error__set(EAKTE_EINVALID, "xdomea model: /: must be a JSON object");
	only_keys(&g, model, "", keys);
	message_id = uuid_at(&g, model, "", "message_id");
	akte = object_at(&g, model, "", "akte", REQUIRED);
	if (failed(&g))
		return g.rc;
	if ((g.rc = eakte_xdomea__message_name(&name, message_id)) < 0)
		return g.rc;
	g.message_name = name;

	g.ids = json_object();
	g.members = json_object();
	buf = xmlBufferCreate();
	if (g.ids == NULL || g.members == NULL || buf == NULL || (g.w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
		oom(&g);
		goto done;
	}
	if (xmlTextWriterSetIndent(g.w, 1) < 0 || xmlTextWriterSetIndentString(g.w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(g.w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElementNS(g.w, BAD_CAST NS_PREFIX, BAD_CAST MESSAGE_TYPE, BAD_CAST NS_URI) < 0) {
		oom(&g);
		goto done;
	}
	gen_kopf(&g, model, message_id);
	x_start(&g, "Schriftgutobjekt");
	gen_akte(&g, akte);
	x_end(&g);
	x_end(&g);
	if (!failed(&g) && xmlTextWriterEndDocument(g.w) < 0)
		oom(&g);
	if (failed(&g))
		goto done;
	/* Freeing the writer flushes it into buf. */
	xmlFreeTextWriter(g.w);
	g.w = NULL;
	{
		size_t n = (size_t)xmlBufferLength(buf);

		if ((*xml_out = malloc(n + 1)) == NULL) {
			oom(&g);
			goto done;
		}
		memcpy(*xml_out, xmlBufferContent(buf), n);
		(*xml_out)[n] = '\0';
		*len_out = n;
	}
done:
	if (g.w != NULL)
		xmlFreeTextWriter(g.w);
	xmlBufferFree(buf);
	json_decref(g.ids);
	json_decref(g.members);
	free(name);
	return g.rc;
}

int eakte_xdomea__message_name(char **out, const char *message_id)
{
	static const char suffix[] = "_" MESSAGE_TYPE ".xml";
	char low[EAKTE_XDOMEA_UUID_LEN + 1], q[QUOTE_MAX + 4];

	*out = NULL;
	if (message_id == NULL || !is_uuid(message_id))
		return eakte_error__set(EAKTE_EINVALID, "xdomea message id \"%s\" is not a UUID",
			quote(q, message_id != NULL ? message_id : ""));
	if ((*out = malloc(EAKTE_XDOMEA_UUID_LEN + sizeof suffix)) == NULL)
		return eakte_error__oom("naming the xdomea message");
	lower_uuid(low, message_id);
	memcpy(*out, low, EAKTE_XDOMEA_UUID_LEN);
	memcpy(*out + EAKTE_XDOMEA_UUID_LEN, suffix, sizeof suffix);
	return 0;
}

/* Characters that Windows (and so many archive tools) cannot put in a
 * file name, besides the path separators. */
static int unsafe_ascii(int c)
{
	return c < 0x20 || c == 0x7f || strchr("<>:\"|?*/\\", c) != NULL;
}

int eakte_xdomea__member_name(char **out, const char *uuid, const char *filename)
{
	const char *base = "", *p;
	char *name = NULL, *res, q[QUOTE_MAX + 4];
	size_t n = 0, len, i, start, end, ext_len = 0, keep;

	*out = NULL;
	if (uuid == NULL || !is_uuid(uuid))
		return eakte_error__set(EAKTE_EINVALID, "xdomea member name: \"%s\" is not a UUID",
			quote(q, uuid != NULL ? uuid : ""));
	if (filename != NULL) {
		base = filename;
		for (p = filename; *p != '\0'; p++)
			if (*p == '/' || *p == '\\')
				base = p + 1;
	}
	len = strlen(base);
	/* Each input byte becomes at most one output byte. */
	if ((name = malloc(len + 1)) == NULL)
		return eakte_error__oom("making an xdomea member name");

	/* Replace what is unsafe, character by character. */
	for (i = 0; i < len;) {
		uint32_t c;
		int clen = utf8_next((const unsigned char *)base + i, len - i, &c);

		if (clen < 0) {
			name[n++] = '_';
			i++;
			continue;
		}
		if ((c < 0x80 && unsafe_ascii((int)c)) || (c >= 0x80 && c < 0xa0) || c == 0xfffe || c == 0xffff) {
			name[n++] = '_';
		} else {
			memcpy(name + n, base + i, (size_t)clen);
			n += (size_t)clen;
		}
		i += (size_t)clen;
	}
	name[n] = '\0';

	/* No leading dots or spaces (hidden files, "..", odd names). */
	for (start = 0; start < n && (name[start] == '.' || name[start] == ' '); start++)
		;
	memmove(name, name + start, n - start + 1);
	n -= start;

	/* Cut to NAME_MAX_BYTES, keeping a short extension. */
	if (n > NAME_MAX_BYTES) {
		const char *dot = strrchr(name, '.');

		if (dot != NULL) {
			ext_len = strlen(dot + 1);
			for (i = 0; i < ext_len; i++) {
				char c = dot[1 + i];
				if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
					break;
			}
			if (ext_len == 0 || ext_len > EXT_MAX || i != ext_len)
				ext_len = 0;
			else
				ext_len += 1;   /* with the dot */
		}
		keep = NAME_MAX_BYTES - ext_len;
		while (keep > 0 && ((unsigned char)name[keep] & 0xc0) == 0x80)
			keep--;
		memmove(name + keep, name + n - ext_len, ext_len + 1);
		n = keep + ext_len;
	}

	/* No trailing dots or spaces (Windows drops them). */
	for (end = n; end > 0 && (name[end - 1] == '.' || name[end - 1] == ' '); end--)
		;
	name[end] = '\0';
	n = end;

	if ((res = malloc(EAKTE_XDOMEA_UUID_LEN + 1 + n + 1)) == NULL) {
		free(name);
		return eakte_error__oom("making an xdomea member name");
	}
	lower_uuid(res, uuid);
	if (n > 0) {
		res[EAKTE_XDOMEA_UUID_LEN] = '_';
		memcpy(res + EAKTE_XDOMEA_UUID_LEN + 1, name, n + 1);
	}
	free(name);
	*out = res;
	return 0;
}

int eakte_xdomea__uuid(char out[EAKTE_XDOMEA_UUID_LEN + 1], const char *origin, const char *name)
{
	static const char prefix[] = "eakte-xdomea\n";
	static const char hexd[] = "0123456789abcdef";
	uint8_t h[EAKTE_HASH_LEN];
	size_t lo, ln, i, o = 0;
	char *buf;
	int rc;

	out[0] = '\0';
	if (origin == NULL || name == NULL)
		return eakte_error__set(EAKTE_EINVALID, "xdomea UUID: origin and name are needed");
	if (strchr(origin, '\n') != NULL)
		return eakte_error__set(EAKTE_EINVALID, "xdomea UUID: the origin contains a line break");
	lo = strlen(origin);
	ln = strlen(name);
	if ((buf = malloc(sizeof prefix - 1 + lo + 1 + ln)) == NULL)
		return eakte_error__oom("deriving an xdomea UUID");
	memcpy(buf, prefix, sizeof prefix - 1);
	memcpy(buf + sizeof prefix - 1, origin, lo);
	buf[sizeof prefix - 1 + lo] = '\n';
	memcpy(buf + sizeof prefix + lo, name, ln);
	rc = eakte_sha256__buf(h, buf, sizeof prefix - 1 + lo + 1 + ln);
	free(buf);
	if (rc < 0)
		return rc;
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);   /* version 8 */
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);   /* variant 10 (RFC 9562) */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexd[h[i] >> 4];
		out[o++] = hexd[h[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}
