/*
 * plan.c - Aktenplan import files (CSV through libcsv, JSON through
 * jansson), entry validation, the hierarchy check, and the JSON array
 * that a journal event carries.  The formats are documented for people in
 * docs/aktenplan.md; keep the two in step.
 *
 * Every message starts with where the problem is: the file name, then the
 * CSV line (physical lines as an editor numbers them, the header usually
 * being line 1) or the JSON entry (1 = first element of the array), then
 * the field.  The people reading these messages maintain the plan in a
 * spreadsheet, so the messages also say what to change.
 */
#include "plan.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 64    /* header fields kept; a plan needs five */
#define QUOTE_CHARS 48    /* characters of a bad value shown in a message */
#define QUOTED_SIZE 320   /* QUOTE_CHARS * 6 (longest escape) + quotes, "...", NUL */
#define NO_INDEX ((size_t)-1)

enum { ROLE_CODE, ROLE_TITLE, ROLE_PARENT, ROLE_RETENTION, ROLE_VALUE, ROLE_COUNT };

/* The canonical field names: JSON keys, and CSV headers in English. */
static const char *const role_names[ROLE_COUNT] = {
	"code", "title", "parent", "retention", "value",
};

/* What a message suggests when a CSV column is missing. */
static const char *const role_german[ROLE_COUNT] = {
	"Kennzeichen or Code", "Titel or Bezeichnung", "\xc3\x9c" "bergeordnet",
	"Aufbewahrung or Aufbewahrungsfrist", "Archivw\xc3\xbcrdigkeit or Bewertung",
};

/*
 * CSV headers after case folding (see fold_header()).  The German names
 * are what a municipal records manager's spreadsheet already uses; the
 * "ue" spellings are there because some export tools cannot write umlauts.
 * Non-ASCII is escaped: "\xc3\xbc" is ü, split off the next literal
 * because a hex escape would swallow any letters a-f after it.
 */
static const struct {
	const char *folded;
	int role;
} header_names[] = {
	{ "code", ROLE_CODE },
	{ "kennzeichen", ROLE_CODE },
	{ "title", ROLE_TITLE },
	{ "titel", ROLE_TITLE },
	{ "bezeichnung", ROLE_TITLE },
	{ "parent", ROLE_PARENT },
	{ "\xc3\xbc" "bergeordnet", ROLE_PARENT },
	{ "uebergeordnet", ROLE_PARENT },
	{ "retention", ROLE_RETENTION },
	{ "aufbewahrung", ROLE_RETENTION },
	{ "aufbewahrungsfrist", ROLE_RETENTION },
	{ "value", ROLE_VALUE },
	{ "archivw\xc3\xbcrdigkeit", ROLE_VALUE },
	{ "archivwuerdigkeit", ROLE_VALUE },
	{ "bewertung", ROLE_VALUE },
};

/* Where an entry is, for messages. */
typedef struct {
	const char *name;     /* file name, or what the entries came from */
	unsigned long line;   /* CSV line, or 0 for JSON */
	size_t index;         /* 1-based position in the plan */
} where;

static void where_text(char *buf, size_t len, const where *w)
{
	if (w->line > 0)
		snprintf(buf, len, "%s line %lu", w->name, w->line);
	else
		snprintf(buf, len, "%s entry %zu", w->name, w->index);
}

__attribute__((format(printf, 2, 3)))
static int entry_error(const where *w, const char *fmt, ...)
{
	char loc[512], detail[1024];
	va_list ap;

	where_text(loc, sizeof(loc), w);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return eakte_error__set(EAKTE_EINVALID, "%s: %s", loc, detail);
}

__attribute__((format(printf, 3, 4)))
static int field_error(const where *w, const char *field, const char *fmt, ...)
{
	char loc[512], detail[1024];
	va_list ap;

	where_text(loc, sizeof(loc), w);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return eakte_error__set(EAKTE_EINVALID, "%s, field %s: %s", loc, field, detail);
}

/*
 * Length of the well-formed UTF-8 sequence at s (1-4), or 0 if there is
 * none: overlong forms, UTF-16 surrogates and code points past U+10FFFF
 * are refused, as RFC 3629 requires.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Code point of a well-formed sequence of length len (from utf8_seq()). */
static uint32_t utf8_cp(const unsigned char *s, size_t len)
{
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & lead_mask[len];
	size_t i;

	for (i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * A value from the input as a double-quoted string for a message.  The
 * input is untrusted: control characters and bytes that are not UTF-8 are
 * escaped so that a message cannot move a terminal's cursor, and long
 * values are cut off.
 */
static const char *quoted(char buf[QUOTED_SIZE], const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, i = 0, chars = 0;

	buf[o++] = '"';
	while (i < n) {
		size_t k = utf8_seq(u + i, n - i);

		if (chars == QUOTE_CHARS) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (k == 0 || (k == 1 && is_control(u[i]))) {
			o += (size_t)snprintf(buf + o, QUOTED_SIZE - o, "\\x%02X", u[i]);
			i++;
		} else if (k == 2 && is_control(utf8_cp(u + i, 2))) {
			o += (size_t)snprintf(buf + o, QUOTED_SIZE - o, "\\u%04X", (unsigned)utf8_cp(u + i, 2));
			i += 2;
		} else if (k == 1 && (u[i] == '"' || u[i] == '\\')) {
			buf[o++] = '\\';
			buf[o++] = (char)u[i++];
		} else {
			memcpy(buf + o, u + i, k);
			o += k;
			i += k;
		}
		chars++;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static bool ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) comparison of s[0..n) with a lowercase word. */
static bool equals_word(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != (unsigned char)word[i])
			return false;
	return true;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- validation of single fields, shared by every source ---- */

static int check_utf8(const where *w, const char *field, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k == 0)
			return field_error(w, field, "invalid UTF-8 (byte 0x%02X at byte %zu of the field); "
				"save the file as UTF-8 (it is probably Windows-1252 or Latin-1, "
				"e.g. spreadsheet \"CSV\" instead of \"CSV UTF-8\")", u[i], i + 1);
		i += k;
	}
	return 0;
}

static int check_code(const where *w, const char *field, const char *s, size_t n)
{
	char q[QUOTED_SIZE];
	size_t i;

	if (n == 0)
		return field_error(w, field, "is empty; every entry needs a code such as 32.10.02");
	if (n > EAKTE_PLAN_CODE_MAX)
		return field_error(w, field, "%s is %zu characters long, more than the limit of %d",
			quoted(q, s, n), n, EAKTE_PLAN_CODE_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (ascii_alnum(c))
			continue;
		/* a dot separates two non-empty segments */
		if (c == '.' && i > 0 && i + 1 < n && s[i - 1] != '.')
			continue;
		return field_error(w, field, "%s is not a plan code (segments of letters and digits "
			"separated by single dots)", quoted(q, s, n));
	}
	return 0;
}

static int check_title(const where *w, const char *field, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	bool blank = true;
	int rc;

	if (n == 0)
		return field_error(w, field, "is empty; every entry needs a title");
	if (n > EAKTE_PLAN_TITLE_MAX)
		return field_error(w, field, "is %zu bytes long, more than the limit of %d; shorten the title",
			n, EAKTE_PLAN_TITLE_MAX);
	if ((rc = check_utf8(w, field, s, n)) < 0)
		return rc;
	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (is_control(utf8_cp(u + i, k)))
			return field_error(w, field, "contains the control character U+%04X at byte %zu; a title "
				"is one line of text without tabs", (unsigned)utf8_cp(u + i, k), i + 1);
		if (u[i] != ' ')
			blank = false;
		i += k;
	}
	if (blank)
		return field_error(w, field, "consists only of spaces; every entry needs a title");
	return 0;
}

/* Years 0..200 as digits, or "unbefristet" (any case unless exact). */
static bool parse_retention(int *out, const char *s, size_t n, bool exact)
{
	int years = 0;
	size_t i;

	if (exact ? (n == 11 && memcmp(s, "unbefristet", 11) == 0) : equals_word(s, n, "unbefristet")) {
		*out = EAKTE_PLAN_UNBEFRISTET;
		return true;
	}
	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		years = years * 10 + (s[i] - '0');
		if (years > EAKTE_PLAN_RETENTION_MAX)   /* also keeps years from overflowing */
			return false;
	}
	*out = years;
	return true;
}

static int retention_error(const where *w, const char *field, const char *s, size_t n)
{
	char q[QUOTED_SIZE];

	if (n == 0)
		return field_error(w, field, "is empty; give a number of years (0-%d) or \"unbefristet\"",
			EAKTE_PLAN_RETENTION_MAX);
	return field_error(w, field, "%s is neither a number of years (0-%d) nor \"unbefristet\"",
		quoted(q, s, n), EAKTE_PLAN_RETENTION_MAX);
}

/* 'A', 'B' or 'V' (either case unless exact). */
static bool parse_value(char *out, const char *s, size_t n, bool exact)
{
	char c;

	if (n != 1)
		return false;
	c = exact ? s[0] : (char)(ascii_lower((unsigned char)s[0]) - 'a' + 'A');
	if (c != 'A' && c != 'B' && c != 'V')
		return false;
	*out = c;
	return true;
}

static int value_error(const where *w, const char *field, const char *s, size_t n)
{
	char q[QUOTED_SIZE];

	if (n == 0)
		return field_error(w, field, "is empty; give the archival value A (archive), B (appraise) or V (destroy)");
	return field_error(w, field, "%s is not an archival value: A (archive), B (appraise) or V (destroy)",
		quoted(q, s, n));
}

/* A whole entry, as built or as handed to to_json(). */
static int check_entry(const eakte_plan_entry *e, const where *w)
{
	int rc;

	if (e->code == NULL)
		return field_error(w, "code", "is missing");
	if ((rc = check_code(w, "code", e->code, strlen(e->code))) < 0)
		return rc;
	if (e->title == NULL)
		return field_error(w, "title", "is missing");
	if ((rc = check_title(w, "title", e->title, strlen(e->title))) < 0)
		return rc;
	if (e->parent != NULL && (rc = check_code(w, "parent", e->parent, strlen(e->parent))) < 0)
		return rc;
	if (e->retention != EAKTE_PLAN_UNBEFRISTET && (e->retention < 0 || e->retention > EAKTE_PLAN_RETENTION_MAX))
		return field_error(w, "retention", "%d is neither a number of years (0-%d) nor unbefristet (%d)",
			e->retention, EAKTE_PLAN_RETENTION_MAX, EAKTE_PLAN_UNBEFRISTET);
	if (e->value != 'A' && e->value != 'B' && e->value != 'V')
		return field_error(w, "value", "character code %d is not an archival value: A, B or V",
			(int)(unsigned char)e->value);
	return 0;
}

static void entry_free(eakte_plan_entry *e)
{
	free(e->code);
	free(e->title);
	free(e->parent);
	memset(e, 0, sizeof(*e));
}

void eakte_plan__free(eakte_plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->entries != NULL)
		for (i = 0; i < p->count; i++)
			entry_free(&p->entries[i]);
	free(p->entries);
	p->entries = NULL;
	p->count = 0;
}

/*
 * Append *e (whose strings the plan then owns; on failure they are freed).
 * The caller has checked the entry limit.
 */
static int plan_push(eakte_plan *p, size_t *cap, eakte_plan_entry *e)
{
	if (p->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		eakte_plan_entry *n;

		if (ncap > EAKTE_PLAN_MAX_ENTRIES)
			ncap = EAKTE_PLAN_MAX_ENTRIES;
		n = realloc(p->entries, ncap * sizeof(*n));
		if (n == NULL) {
			entry_free(e);
			return eakte_error__oom("reading the Aktenplan entries");
		}
		p->entries = n;
		*cap = ncap;
	}
	p->entries[p->count++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

/*
 * The text fields of an entry, in column order so that the first problem
 * is the one reported.  parent_n == 0 means no parent.  labels name the
 * fields in messages.
 */
static int check_texts(const where *w, const char *const labels[ROLE_COUNT], const char *code, size_t code_n,
	const char *title, size_t title_n, const char *parent, size_t parent_n)
{
	int rc;

	if ((rc = check_code(w, labels[ROLE_CODE], code, code_n)) < 0)
		return rc;
	if ((rc = check_title(w, labels[ROLE_TITLE], title, title_n)) < 0)
		return rc;
	if (parent_n > 0 && (rc = check_code(w, labels[ROLE_PARENT], parent, parent_n)) < 0)
		return rc;
	return 0;
}

/* Fill *e with copies of fields that check_texts() accepted. */
static int entry_fill(eakte_plan_entry *e, const where *w, const char *code, size_t code_n,
	const char *title, size_t title_n, const char *parent, size_t parent_n, int retention, char value)
{
	memset(e, 0, sizeof(*e));
	e->code = dup_bytes(code, code_n);
	e->title = dup_bytes(title, title_n);
	if (parent_n > 0)
		e->parent = dup_bytes(parent, parent_n);
	if (e->code == NULL || e->title == NULL || (parent_n > 0 && e->parent == NULL)) {
		entry_free(e);
		return eakte_error__oom("copying an Aktenplan entry");
	}
	e->retention = retention;
	e->value = value;
	e->line = w->line;
	return 0;
}

static int limit_error(const where *w)
{
	return entry_error(w, "more than %d entries; split the file into several imports of at most %d entries each",
		EAKTE_PLAN_MAX_ENTRIES, EAKTE_PLAN_MAX_ENTRIES);
}

/* ---- CSV ---- */

typedef struct {
	const char *name;
	char delim;
	unsigned long line;       /* physical line being fed to libcsv */
	unsigned long row_line;   /* line on which the current record started */
	bool in_row;              /* a record has started and not yet ended */

	/* the current record: fields NUL-terminated one after another in buf */
	char *buf;
	size_t buf_len, buf_cap;
	size_t off[MAX_COLUMNS], flen[MAX_COLUMNS];
	size_t nfields;           /* fields seen, may exceed MAX_COLUMNS */
	bool row_nonempty;

	bool have_header;
	unsigned long header_line;
	size_t ncols;
	int role_col[ROLE_COUNT];
	char labels[ROLE_COUNT][QUOTED_SIZE + 64];
	const char *label_ptr[ROLE_COUNT];

	eakte_plan *plan;
	size_t cap;
	int rc;                   /* first error; callbacks do nothing once set */
} csvctx;

static const char *csv_field(const csvctx *c, size_t i, size_t *n)
{
	*n = c->flen[i];
	return c->buf + c->off[i];
}

static void csv_on_field(void *s, size_t n, void *data)
{
	csvctx *c = data;

	if (c->rc < 0)
		return;
	if (n > 0)
		c->row_nonempty = true;
	if (c->nfields < MAX_COLUMNS) {
		if (c->buf_len + n + 1 > c->buf_cap) {
			size_t ncap = c->buf_cap ? c->buf_cap : 256;
			char *nb;
			while (ncap < c->buf_len + n + 1)
				ncap *= 2;
			nb = realloc(c->buf, ncap);
			if (nb == NULL) {
				c->rc = eakte_error__oom("reading a CSV line of the Aktenplan");
				return;
			}
			c->buf = nb;
			c->buf_cap = ncap;
		}
		if (n > 0)
			memcpy(c->buf + c->buf_len, s, n);
		c->buf[c->buf_len + n] = '\0';
		c->off[c->nfields] = c->buf_len;
		c->flen[c->nfields] = n;
		c->buf_len += n + 1;
	}
	c->nfields++;
}

/*
 * Fold a header for comparison: ASCII letters and the umlauts Ä Ö Ü to
 * lower case, surrounding spaces dropped.  Returns false when the name
 * is too long to be one of ours.
 */
static bool fold_header(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, o = 0;

	while (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n >= outlen)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == 0xc3 && i + 1 < n && (s[i + 1] == '\x84' || s[i + 1] == '\x96' || s[i + 1] == '\x9c')) {
			out[o++] = (char)0xc3;
			out[o++] = (char)((unsigned char)s[i + 1] + 0x20);
			i++;
		} else {
			out[o++] = (char)ascii_lower(ch);
		}
	}
	out[o] = '\0';
	return true;
}

static int header_role(const char *s, size_t n)
{
	char folded[64];
	size_t i;

	if (!fold_header(folded, sizeof(folded), s, n))
		return -1;
	for (i = 0; i < EAKTE_ARRAY_SIZE(header_names); i++)
		if (strcmp(folded, header_names[i].folded) == 0)
			return header_names[i].role;
	return -1;
}

/* Append to a message being built; silently cut off when full. */
__attribute__((format(printf, 3, 4)))
static void msg_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static int csv_header(csvctx *c)
{
	where w = { c->name, c->row_line, 0 };
	char unknown[1024] = "", missing[1024] = "", q[QUOTED_SIZE];
	size_t i, n, nunknown = 0, nmissing = 0;
	int role, rc;

	c->header_line = c->row_line;
	if (c->nfields > MAX_COLUMNS)
		return entry_error(&w, "the header has %zu columns, more than the %d this reader accepts; "
			"a plan needs the five columns code, title, parent, retention, value", c->nfields, MAX_COLUMNS);
	for (role = 0; role < ROLE_COUNT; role++)
		c->role_col[role] = -1;
	for (i = 0; i < c->nfields; i++) {
		const char *s = csv_field(c, i, &n);
		char field[64];

		snprintf(field, sizeof(field), "header of column %zu", i + 1);
		if ((rc = check_utf8(&w, field, s, n)) < 0)
			return rc;
		if (n == 0 || strspn(s, " ") == n)
			return entry_error(&w, "column %zu has no name; name it (code, title, parent, retention, "
				"value) or remove the extra '%c'", i + 1, c->delim);
		role = header_role(s, n);
		if (role < 0) {
			msg_add(unknown, sizeof(unknown), "%s%s (column %zu)", nunknown ? ", " : "",
				quoted(q, s, n), i + 1);
			nunknown++;
			continue;
		}
		if (c->role_col[role] >= 0) {
			size_t first_n;
			const char *first = csv_field(c, (size_t)c->role_col[role], &first_n);
			char q1[QUOTED_SIZE];
			return entry_error(&w, "columns %d (%s) and %zu (%s) both mean %s; keep one of them",
				c->role_col[role] + 1, quoted(q1, first, first_n), i + 1, quoted(q, s, n),
				role_names[role]);
		}
		c->role_col[role] = (int)i;
		/* Name the column as the user wrote it when that is not the
		 * English name, so a German spreadsheet's messages make sense. */
		if (equals_word(s, n, role_names[role]))
			snprintf(c->labels[role], sizeof(c->labels[role]), "%s", role_names[role]);
		else
			snprintf(c->labels[role], sizeof(c->labels[role]), "%s (column %s)", role_names[role],
				quoted(q, s, n));
		c->label_ptr[role] = c->labels[role];
	}
	if (nunknown > 0)
		return entry_error(&w, "unknown column%s %s; the columns are code, title, parent, retention and value "
			"(or in German Kennzeichen/Code, Titel/Bezeichnung, \xc3\x9c" "bergeordnet, "
			"Aufbewahrung/Aufbewahrungsfrist, Archivw\xc3\xbcrdigkeit/Bewertung), "
			"separated by ';' or ','", nunknown > 1 ? "s" : "", unknown);
	for (role = 0; role < ROLE_COUNT; role++) {
		if (c->role_col[role] >= 0)
			continue;
		msg_add(missing, sizeof(missing), "%s%s (German: %s)", nmissing ? ", " : "",
			role_names[role], role_german[role]);
		nmissing++;
	}
	if (nmissing > 0)
		return entry_error(&w, "missing column%s %s; the header line must name the columns code, title, "
			"parent, retention and value, in any order", nmissing > 1 ? "s" : "", missing);
	c->ncols = c->nfields;
	c->have_header = true;
	return 0;
}

static int csv_entry(csvctx *c)
{
	where w = { c->name, c->row_line, c->plan->count + 1 };
	const char *code, *title, *parent, *ret, *val;
	size_t code_n, title_n, parent_n, ret_n, val_n, i;
	eakte_plan_entry e;
	int retention, role, rc;
	char value;

	if (c->nfields != c->ncols)
		return entry_error(&w, "%zu field%s, but the header (line %lu) has %zu columns; look for a missing "
			"or extra '%c', or a '%c' in a title that is not enclosed in double quotes",
			c->nfields, c->nfields == 1 ? "" : "s", c->header_line, c->ncols, c->delim, c->delim);
	for (role = 0; role < ROLE_COUNT; role++) {
		const char *s = csv_field(c, (size_t)c->role_col[role], &i);
		if ((rc = check_utf8(&w, c->label_ptr[role], s, i)) < 0)
			return rc;
	}
	if (c->plan->count == EAKTE_PLAN_MAX_ENTRIES)
		return limit_error(&w);
	code = csv_field(c, (size_t)c->role_col[ROLE_CODE], &code_n);
	title = csv_field(c, (size_t)c->role_col[ROLE_TITLE], &title_n);
	parent = csv_field(c, (size_t)c->role_col[ROLE_PARENT], &parent_n);
	ret = csv_field(c, (size_t)c->role_col[ROLE_RETENTION], &ret_n);
	val = csv_field(c, (size_t)c->role_col[ROLE_VALUE], &val_n);
	if ((rc = check_texts(&w, c->label_ptr, code, code_n, title, title_n, parent, parent_n)) < 0)
		return rc;
	if (!parse_retention(&retention, ret, ret_n, false))
		return retention_error(&w, c->label_ptr[ROLE_RETENTION], ret, ret_n);
	if (!parse_value(&value, val, val_n, false))
		return value_error(&w, c->label_ptr[ROLE_VALUE], val, val_n);
	if ((rc = entry_fill(&e, &w, code, code_n, title, title_n, parent, parent_n, retention, value)) < 0)
		return rc;
	return plan_push(c->plan, &c->cap, &e);
}

static void csv_on_row(int term, void *data)
{
	csvctx *c = data;

	EAKTE_UNUSED(term);
	if (c->rc < 0)
		return;
	/* A row of empty fields (";;;;") is how spreadsheets export an empty
	 * row; it is skipped like an empty line. */
	if (c->row_nonempty)
		c->rc = c->have_header ? csv_entry(c) : csv_header(c);
	c->nfields = 0;
	c->buf_len = 0;
	c->row_nonempty = false;
	c->in_row = false;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * The delimiter is whichever of ';' and ',' occurs more often outside
 * double quotes on the header line (the first line that is not blank);
 * ';' on a tie, as German spreadsheets write it.
 */
static char detect_delim(const char *buf, size_t len)
{
	size_t i = 0, semi = 0, comma = 0;
	bool in_quotes = false;

	while (i < len && is_blank(buf[i]))
		i++;
	for (; i < len; i++) {
		char ch = buf[i];
		if (ch == '"')
			in_quotes = !in_quotes;
		else if (!in_quotes && (ch == '\n' || ch == '\r'))
			break;
		else if (!in_quotes && ch == ';')
			semi++;
		else if (!in_quotes && ch == ',')
			comma++;
	}
	return comma > semi ? ',' : ';';
}

/*
 * libcsv does not count lines, so the text is fed to it one physical line
 * at a time: every callback then happens on a known line.  A line ends
 * after "\n", or after a "\r" that no "\n" follows (old Mac files).  A
 * record starts on the first line after the previous record that holds
 * more than blanks, which is what libcsv skips between records.
 */
static int parse_csv(eakte_plan *out, const char *buf, size_t len, const char *name)
{
	struct csv_parser parser;
	csvctx *c;
	size_t pos = 0;
	int rc = 0;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return eakte_error__oom("reading a CSV Aktenplan");
	c->name = name;
	c->plan = out;
	c->line = 1;
	c->delim = detect_delim(buf, len);
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(c);
		return eakte_error__oom("setting up the CSV reader");
	}
	csv_set_delim(&parser, (unsigned char)c->delim);

	while (pos < len && c->rc == 0) {
		size_t end = pos, i;

		while (end < len && buf[end] != '\n' && !(buf[end] == '\r' && (end + 1 >= len || buf[end + 1] != '\n')))
			end++;
		if (end < len)
			end++;   /* the line's terminator belongs to it */
		if (!c->in_row) {
			for (i = pos; i < end; i++)
				if (!is_blank(buf[i]))
					break;
			if (i < end) {
				c->in_row = true;
				c->row_line = c->line;
			}
		}
		if (csv_parse(&parser, buf + pos, end - pos, csv_on_field, csv_on_row, c) != end - pos && c->rc == 0) {
			if (csv_error(&parser) == CSV_EPARSE)
				c->rc = eakte_error__set(EAKTE_EINVALID, "%s line %lu: a double quote inside a field "
					"that does not start with one, or text after a closing quote; enclose the whole "
					"field in double quotes and write a quote inside it as two (\"\")", name, c->line);
			else
				c->rc = eakte_error__oom("reading a CSV line of the Aktenplan");
		}
		pos = end;
		c->line++;
	}
	if (c->rc == 0) {
		if (csv_fini(&parser, csv_on_field, csv_on_row, c) != 0 && c->rc == 0) {
			if (csv_error(&parser) == CSV_EPARSE)
				c->rc = eakte_error__set(EAKTE_EINVALID, "%s line %lu: a field opened with a double quote is "
					"not closed before the end of the file; add the closing quote", name, c->row_line);
			else
				c->rc = eakte_error__oom("reading a CSV line of the Aktenplan");
		}
	}
	rc = c->rc;
	if (rc == 0 && !c->have_header)
		rc = eakte_error__set(EAKTE_EINVALID, "%s: contains no entries (%s); an Aktenplan file "
			"has a header line and one line per entry", name,
			len == 0 ? "the file is empty" : "only empty lines");
	else if (rc == 0 && out->count == 0)
		rc = eakte_error__set(EAKTE_EINVALID, "%s: contains no entries (only the header on line %lu)",
			name, c->header_line);
	csv_free(&parser);
	free(c->buf);
	free(c);
	return rc;
}

/* ---- JSON ---- */

static const char *json_type_text(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	default: return "an unknown JSON value";
	}
}

/*
 * One entry object.  strict (for replaying events) accepts exactly what
 * eakte_plan__to_json() writes; otherwise a null parent, "unbefristet"
 * and the value letter in any case are accepted as well.
 */
static int entry_from_json(eakte_plan_entry *e, const json_t *obj, const where *w, bool strict)
{
	const char *key, *code, *title, *parent = NULL;
	size_t code_n, title_n, parent_n = 0;
	json_t *m;
	char q[QUOTED_SIZE];
	int retention = 0, role, rc;
	char value;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(obj))
		return entry_error(w, "is %s, expected an object with the keys code, title, parent, retention, value",
			json_type_text(obj));
	json_object_foreach((json_t *)obj, key, m) {
		for (role = 0; role < ROLE_COUNT; role++)
			if (strcmp(key, role_names[role]) == 0)
				break;
		if (role == ROLE_COUNT)
			return entry_error(w, "unknown key %s; the keys are code, title, parent, retention, value",
				quoted(q, key, strlen(key)));
	}
	for (role = 0; role < ROLE_COUNT; role++) {
		m = json_object_get(obj, role_names[role]);
		if (m == NULL && role != ROLE_PARENT)
			return field_error(w, role_names[role], "is missing");
	}

	m = json_object_get(obj, "code");
	if (!json_is_string(m))
		return field_error(w, "code", "is %s, expected a string", json_type_text(m));
	code = json_string_value(m);
	code_n = json_string_length(m);

	m = json_object_get(obj, "title");
	if (!json_is_string(m))
		return field_error(w, "title", "is %s, expected a string", json_type_text(m));
	title = json_string_value(m);
	title_n = json_string_length(m);

	m = json_object_get(obj, "parent");
	if (m != NULL && !(json_is_null(m) && !strict)) {
		if (!json_is_string(m))
			return field_error(w, "parent", "is %s, expected the parent's code as a string%s",
				json_type_text(m), strict ? " (leave the key out for a top-level entry)" :
				", or null for a top-level entry");
		parent = json_string_value(m);
		parent_n = json_string_length(m);
		/* An empty string is not "no parent": say how to write that. */
		if (parent_n == 0)
			return field_error(w, "parent", "is empty; %s for a top-level entry",
				strict ? "leave the key out" : "use null or leave the key out");
	}
	if ((rc = check_texts(w, role_names, code, code_n, title, title_n, parent, parent_n)) < 0)
		return rc;

	m = json_object_get(obj, "retention");
	if (json_is_integer(m)) {
		json_int_t years = json_integer_value(m);
		if (years < 0 || years > EAKTE_PLAN_RETENTION_MAX)
			return field_error(w, "retention", "%lld is neither a number of years (0-%d) nor \"unbefristet\"",
				(long long)years, EAKTE_PLAN_RETENTION_MAX);
		retention = (int)years;
	} else if (json_is_string(m)) {
		const char *s = json_string_value(m);
		size_t n = json_string_length(m);
		bool ok = parse_retention(&retention, s, n, strict);
		if (!ok || retention != EAKTE_PLAN_UNBEFRISTET)
			return field_error(w, "retention", "%s is neither a number of years (0-%d) nor \"unbefristet\"%s",
				quoted(q, s, n), EAKTE_PLAN_RETENTION_MAX,
				ok ? " (write the number of years without quotes)" : "");
	} else {
		return field_error(w, "retention", "is %s, expected a number of years (0-%d) or \"unbefristet\"",
			json_type_text(m), EAKTE_PLAN_RETENTION_MAX);
	}

	m = json_object_get(obj, "value");
	if (!json_is_string(m))
		return field_error(w, "value", "is %s, expected \"A\", \"B\" or \"V\"", json_type_text(m));
	if (!parse_value(&value, json_string_value(m), json_string_length(m), strict))
		return value_error(w, "value", json_string_value(m), json_string_length(m));

	return entry_fill(e, w, code, code_n, title, title_n, parent, parent_n, retention, value);
}

static int entries_from_json(eakte_plan *out, const json_t *array, const char *name, bool strict)
{
	size_t i, n = json_array_size(array), cap = 0;
	int rc;

	if (n == 0)
		return eakte_error__set(EAKTE_EINVALID, "%s: contains no entries", name);
	if (n > EAKTE_PLAN_MAX_ENTRIES)
		return eakte_error__set(EAKTE_EINVALID, "%s: %zu entries, more than the limit of %d; split the file "
			"into several imports of at most %d entries each", name, n, EAKTE_PLAN_MAX_ENTRIES,
			EAKTE_PLAN_MAX_ENTRIES);
	for (i = 0; i < n; i++) {
		where w = { name, 0, i + 1 };
		eakte_plan_entry e;

		if ((rc = entry_from_json(&e, json_array_get(array, i), &w, strict)) < 0)
			return rc;
		if ((rc = plan_push(out, &cap, &e)) < 0)
			return rc;
	}
	return 0;
}

static int parse_json(eakte_plan *out, const char *buf, size_t len, const char *name)
{
	json_error_t jerr;
	json_t *root, *array;
	const char *key;
	json_t *m;
	char q[QUOTED_SIZE];
	int rc;

	/* Duplicate keys would let one entry say two things; jansson also
	 * refuses invalid UTF-8, \u0000 and trailing text by default. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return eakte_error__set(EAKTE_EINVALID, "%s line %d column %d: not valid JSON: %s", name,
			jerr.line, jerr.column, jerr.text);
	array = root;
	if (json_is_object(root)) {
		json_object_foreach(root, key, m) {
			if (strcmp(key, "entries") != 0) {
				rc = eakte_error__set(EAKTE_EINVALID, "%s: unknown key %s at the top level; the file is "
					"an array of entries or an object with the single key \"entries\"", name,
					quoted(q, key, strlen(key)));
				json_decref(root);
				return rc;
			}
		}
		array = json_object_get(root, "entries");
		if (array == NULL) {
			json_decref(root);
			return eakte_error__set(EAKTE_EINVALID, "%s: the top-level object has no key \"entries\"; "
				"contains no entries", name);
		}
	}
	if (!json_is_array(array)) {
		rc = eakte_error__set(EAKTE_EINVALID, "%s: \"entries\" is %s, expected an array of entries", name,
			json_type_text(array));
		json_decref(root);
		return rc;
	}
	rc = entries_from_json(out, array, name, false);
	json_decref(root);
	return rc;
}

int eakte_plan__parse(eakte_plan *out, const char *buf, size_t len, const char *name)
{
	size_t i;
	int rc;

	out->entries = NULL;
	out->count = 0;
	if (name == NULL)
		name = "Aktenplan file";
	if (buf == NULL && len > 0)
		return eakte_error__set(EAKTE_EINVALID, "%s: no buffer given for %zu bytes", name, len);
	/* Bound untrusted input before parsing it. */
	if (len > EAKTE_PLAN_MAX_BYTES)
		return eakte_error__set(EAKTE_EINVALID, "%s: the file has %zu bytes, more than the limit of 16 MiB; "
			"split the file", name, len);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	for (i = 0; i < len && is_blank(buf[i]); i++)
		;
	if (i < len && (buf[i] == '[' || buf[i] == '{'))
		rc = parse_json(out, buf, len, name);
	else
		rc = parse_csv(out, buf ? buf : "", len, name);
	if (rc < 0)
		eakte_plan__free(out);
	return rc;
}

/* ---- hierarchy ---- */

static int cmp_entry_ptr(const void *a, const void *b)
{
	const eakte_plan_entry *x = *(const eakte_plan_entry *const *)a;
	const eakte_plan_entry *y = *(const eakte_plan_entry *const *)b;
	int c = strcmp(x->code, y->code);

	/* equal codes stay in plan order, so the first of them comes first */
	if (c != 0)
		return c;
	return x < y ? -1 : (x > y);
}

static int cmp_code_key(const void *key, const void *elem)
{
	return strcmp(key, (*(const eakte_plan_entry *const *)elem)->code);
}

static where entry_where(const eakte_plan *p, size_t i, const char *name)
{
	where w = { name, p->entries[i].line, i + 1 };
	return w;
}

static void first_seen_text(char *buf, size_t len, const eakte_plan *p, size_t i)
{
	if (p->entries[i].line > 0)
		snprintf(buf, len, "first on line %lu", p->entries[i].line);
	else
		snprintf(buf, len, "first as entry %zu", i + 1);
}

int eakte_plan__check(const eakte_plan *p, int (*known)(const char *code, void *ctx), void *ctx,
	const char *name)
{
	const eakte_plan_entry **sorted = NULL;
	size_t *parent_of = NULL;
	unsigned char *state = NULL;
	size_t n = p->count, i, j, dup_second = NO_INDEX, dup_first = 0, dup_times = 0;
	int rc = 0;

	if (name == NULL)
		name = "Aktenplan";
	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	parent_of = malloc(n * sizeof(*parent_of));
	state = calloc(n, 1);
	if (sorted == NULL || parent_of == NULL || state == NULL) {
		rc = eakte_error__oom("checking the Aktenplan");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (p->entries[i].code == NULL) {
			where w = entry_where(p, i, name);
			rc = field_error(&w, "code", "is missing");
			goto out;
		}
		sorted[i] = &p->entries[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_entry_ptr);

	/* Invariant: equal codes are adjacent and in plan order.  Report the
	 * repetition that comes first in the file. */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(sorted[i]->code, sorted[j]->code) == 0; j++)
			;
		if (j - i > 1) {
			size_t second = (size_t)(sorted[i + 1] - p->entries);
			if (dup_second == NO_INDEX || second < dup_second) {
				dup_second = second;
				dup_first = (size_t)(sorted[i] - p->entries);
				dup_times = j - i;
			}
		}
	}
	if (dup_second != NO_INDEX) {
		where w = entry_where(p, dup_second, name);
		char first[64];
		first_seen_text(first, sizeof(first), p, dup_first);
		if (dup_times == 2)
			rc = entry_error(&w, "code %s appears twice (%s); each code may appear only once",
				p->entries[dup_second].code, first);
		else
			rc = entry_error(&w, "code %s appears %zu times (%s); each code may appear only once",
				p->entries[dup_second].code, dup_times, first);
		goto out;
	}

	/* Parents: in this plan, else asked of the archive, in plan order. */
	for (i = 0; i < n; i++) {
		const eakte_plan_entry *e = &p->entries[i], **found;

		parent_of[i] = NO_INDEX;
		if (e->parent == NULL)
			continue;
		found = bsearch(e->parent, sorted, n, sizeof(*sorted), cmp_code_key);
		if (found != NULL) {
			parent_of[i] = (size_t)(*found - p->entries);
			continue;
		}
		if (known != NULL) {
			int r = known(e->parent, ctx);
			if (r < 0) {
				rc = r;   /* the callback's code and text pass up unchanged */
				goto out;
			}
			if (r > 0)
				continue;
		}
		{
			where w = entry_where(p, i, name);
			rc = field_error(&w, "parent", "%s is neither in this file nor in the archive's Aktenplan; "
				"add an entry for it or correct the parent", e->parent);
			goto out;
		}
	}

	/* Cycles.  Each entry has at most one parent, so following parents
	 * from any entry either ends (top level, or in the archive) or runs
	 * into a loop.  state: 0 unvisited, 1 on the walk from entry i,
	 * 2 known to end.  Meeting a 1 means the walk has closed a loop. */
	for (i = 0; i < n; i++) {
		for (j = i; j != NO_INDEX && state[j] == 0; j = parent_of[j])
			state[j] = 1;
		if (j != NO_INDEX && state[j] == 1) {
			size_t start = j, k, shown = 0;
			char chain[1024] = "";
			where w;

			/* Start the message at the loop's entry that comes first in the file. */
			for (k = parent_of[j]; k != j; k = parent_of[k])
				if (k < start)
					start = k;
			w = entry_where(p, start, name);
			if (parent_of[start] == start) {
				rc = field_error(&w, "parent", "%s is the entry's own code; a top-level entry has no parent",
					p->entries[start].code);
				goto out;
			}
			msg_add(chain, sizeof(chain), "%s", p->entries[start].code);
			for (k = parent_of[start]; ; k = parent_of[k]) {
				if (++shown > 12) {
					msg_add(chain, sizeof(chain), " -> ...");
					break;
				}
				msg_add(chain, sizeof(chain), " -> %s", p->entries[k].code);
				if (k == start)
					break;
			}
			rc = entry_error(&w, "the parents form a cycle: %s; every chain of parents must end at a "
				"top-level entry", chain);
			goto out;
		}
		for (j = i; j != NO_INDEX && state[j] == 1; j = parent_of[j])
			state[j] = 2;
	}

out:
	free(sorted);
	free(parent_of);
	free(state);
	return rc;
}

/* ---- journal event JSON ---- */

/* json_object_set_new() that reports failure (it frees v on failure). */
static int set_member(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return eakte_error__oom("building the Aktenplan event");
	return 0;
}

int eakte_plan__to_json(json_t **out, const eakte_plan *p)
{
	json_t *array;
	size_t i;
	int rc;

	*out = NULL;
	if (p->count == 0)
		return eakte_error__set(EAKTE_EINVALID, "Aktenplan: contains no entries; there is nothing to record");
	if (p->count > EAKTE_PLAN_MAX_ENTRIES)
		return eakte_error__set(EAKTE_EINVALID, "Aktenplan: %zu entries, more than the limit of %d",
			p->count, EAKTE_PLAN_MAX_ENTRIES);
	array = json_array();
	if (array == NULL)
		return eakte_error__oom("building the Aktenplan event");
	for (i = 0; i < p->count; i++) {
		const eakte_plan_entry *e = &p->entries[i];
		where w = entry_where(p, i, "Aktenplan");
		json_t *obj;

		if ((rc = check_entry(e, &w)) < 0)
			goto fail;
		obj = json_object();
		if (obj == NULL || json_array_append_new(array, obj) != 0) {
			rc = eakte_error__oom("building the Aktenplan event");
			goto fail;
		}
		if ((rc = set_member(obj, "code", json_string(e->code))) < 0 ||
		    (rc = set_member(obj, "title", json_string(e->title))) < 0 ||
		    (e->parent != NULL && (rc = set_member(obj, "parent", json_string(e->parent))) < 0) ||
		    (rc = set_member(obj, "retention", e->retention == EAKTE_PLAN_UNBEFRISTET ?
				json_string("unbefristet") : json_integer(e->retention))) < 0 ||
		    (rc = set_member(obj, "value", json_stringn(&e->value, 1))) < 0)
			goto fail;
	}
	*out = array;
	return 0;
fail:
	json_decref(array);
	return rc;
}

int eakte_plan__from_json(eakte_plan *out, const json_t *array)
{
	int rc;

	out->entries = NULL;
	out->count = 0;
	if (!json_is_array(array))
		return eakte_error__set(EAKTE_EINVALID, "Aktenplan event: the entries are %s, expected an array",
			array ? json_type_text(array) : "missing");
	rc = entries_from_json(out, array, "Aktenplan event", true);
	if (rc < 0)
		eakte_plan__free(out);
	return rc;
}

const char *eakte_plan__retention_text(char *buf, size_t len, int retention)
{
	if (buf == NULL || len == 0)
		return "";
	if (retention == EAKTE_PLAN_UNBEFRISTET)
		snprintf(buf, len, "unbefristet");
	else if (retention == 1)
		snprintf(buf, len, "1 Jahr");
	else if (retention >= 0 && retention <= EAKTE_PLAN_RETENTION_MAX)
		snprintf(buf, len, "%d Jahre", retention);
	else
		snprintf(buf, len, "ung\xc3\xbcltig (%d)", retention);
	return buf;
}
