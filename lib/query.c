/*
 * query.c - the search query language (see query.h) to FTS5 MATCH syntax.
 *
 * Three steps: check the bytes (length, NUL, UTF-8) before looking at
 * them as a query; parse into a small tree; emit.  The tree exists because
 * of two rules that need to see a whole group before writing any of it:
 * terms without letters or digits are dropped (FTS5 would search for an
 * empty phrase, which matches nothing, so "Bauantrag – Müller" would find
 * nothing), and exclusions are written after the group's positive part,
 * since FTS5's NOT is binary ("a NOT b") and cannot stand alone.
 *
 * Grammar (whitespace between tokens):
 *   or    := and ( "OR" and )*
 *   and   := unary ( ["AND"] unary )*
 *   unary := "-" prim | prim
 *   prim  := WORD | PHRASE | "(" or ")"
 *   WORD  := a run of characters other than whitespace, '"', '(' and ')';
 *            trailing '*'s make it a prefix; "OR", "AND" are operators
 *   PHRASE:= '"' anything but '"' '"' ['*']
 */
#include "query.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

enum { N_TERM, N_AND, N_OR };

typedef struct {
	int kind;
	int neg;                /* a child of an AND node that is excluded */
	int prefix;             /* N_TERM: "text" * */
	size_t off, len;        /* N_TERM: the text in the query */
	size_t at;              /* where it starts in the query, for messages */
	int first, last, next;  /* children and next sibling, -1 for none */
	int live;               /* has something to search for (after drops) */
} node;

enum { T_END, T_LPAREN, T_RPAREN, T_MINUS, T_WORD, T_PHRASE, T_OR, T_AND };

typedef struct {
	int type;
	size_t start, end;      /* the whole token */
	size_t off, len;        /* T_WORD, T_PHRASE: the text without quotes and '*' */
	int prefix;
} token;

typedef struct {
	const char *q;
	size_t len, pos;
	node *nodes;
	size_t n, cap;
	int terms;
} parser;

static void sb_str(eakte_sbuf *sb, const char *s)
{
	eakte_sbuf__add(sb, s, strlen(s));
}

/* --- characters --------------------------------------------------------- */

/* The code point at p->q[pos] (the query is valid UTF-8 by then). */
static int32_t cp_at(const parser *p, size_t pos, size_t *len)
{
	int32_t cp = 0;

	*len = eakte_utf8__decode((const unsigned char *)p->q + pos, p->len - pos, &cp);
	if (*len == 0)
		*len = 1;       /* not reached: checked in translate() */
	return cp;
}

static int is_space(int32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 || cp == 0x1680 ||
		(cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 || cp == 0x2029 ||
		cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

static int is_combining(int32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
		(cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
		(cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f);
}

/*
 * Whether the tokenizer would keep this character in a word.  Exact for
 * ASCII and Latin-1; beyond that, the punctuation and symbol blocks a
 * query is likely to contain (dashes and typographic quotes, arrows,
 * box drawing, emoji, CJK punctuation) count as separators and the rest
 * as letters.  A miss costs little: a dropped term is not searched for,
 * a kept term without letters is an empty phrase that matches nothing.
 */
static int is_wordchar(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	if (cp < 0xc0)
		return cp == 0xaa || cp == 0xb2 || cp == 0xb3 || cp == 0xb5 || cp == 0xb9 ||
			cp == 0xba || (cp >= 0xbc && cp <= 0xbe);
	if (cp == 0xd7 || cp == 0xf7 || is_combining(cp))
		return 0;
	if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x20a0 && cp <= 0x20cf) ||
		(cp >= 0x2190 && cp <= 0x23ff) || (cp >= 0x2500 && cp <= 0x2775) ||
		(cp >= 0x2794 && cp <= 0x2bff) || (cp >= 0x2e00 && cp <= 0x2e7f) ||
		(cp >= 0x3000 && cp <= 0x3004) || (cp >= 0x3008 && cp <= 0x3020) ||
		(cp >= 0xfe10 && cp <= 0xfe1f) || (cp >= 0xfe30 && cp <= 0xfe6f) || cp == 0xfeff ||
		(cp >= 0xff01 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff20) ||
		(cp >= 0xff3b && cp <= 0xff40) || (cp >= 0xff5b && cp <= 0xff65) ||
		(cp >= 0xfff0 && cp <= 0xffff) || (cp >= 0x1f000 && cp <= 0x1faff) ||
		(cp >= 0xe0000 && cp <= 0xe007f))
		return 0;
	return 1;
}

/* Characters before byte offset `pos`, plus one: what the user counts. */
static size_t charno(const parser *p, size_t pos)
{
	size_t i, n = 1;

	for (i = 0; i < pos && i < p->len; i++)
		if (((unsigned char)p->q[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Letters and digits in the last word of q[off..off+len): the word that
 * FTS5 turns into a prefix.  Combining marks belong to their letter.
 */
static size_t last_word_chars(const parser *p, size_t off, size_t len, size_t *total)
{
	size_t i = off, run = 0, last = 0;

	*total = 0;
	while (i < off + len) {
		size_t l;
		int32_t cp = cp_at(p, i, &l);

		if (is_wordchar(cp)) {
			run++;
			(*total)++;
		} else if (!is_combining(cp)) {
			if (run > 0)
				last = run;
			run = 0;
		}
		i += l;
	}
	return run > 0 ? run : last;
}

/* --- lexer -------------------------------------------------------------- */

static int is_break(const parser *p, size_t pos)
{
	size_t l;
	int32_t cp;

	if (pos >= p->len)
		return 1;
	cp = cp_at(p, pos, &l);
	return cp == '"' || cp == '(' || cp == ')' || is_space(cp);
}

static void skip_space(parser *p)
{
	while (p->pos < p->len) {
		size_t l;
		if (!is_space(cp_at(p, p->pos, &l)))
			break;
		p->pos += l;
	}
}

/*
 * The next token, without consuming it.  `plain`: after a '-', where OR
 * and AND are words.  Only an unterminated quote is an error here.
 */
static int peek(parser *p, token *t, int plain)
{
	size_t i, end;

	skip_space(p);
	memset(t, 0, sizeof(*t));
	t->start = t->end = p->pos;
	if (p->pos >= p->len) {
		t->type = T_END;
		return 0;
	}
	i = p->pos;
	switch (p->q[i]) {
	case '(':
		t->type = T_LPAREN;
		t->end = i + 1;
		return 0;
	case ')':
		t->type = T_RPAREN;
		t->end = i + 1;
		return 0;
	case '"': {
		const char *close = memchr(p->q + i + 1, '"', p->len - i - 1);
		if (close == NULL)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query has an unterminated quote starting at character %zu; "
				"end the phrase with a second \"", charno(p, i));
		t->type = T_PHRASE;
		t->off = i + 1;
		t->len = (size_t)(close - (p->q + i + 1));
		end = (size_t)(close - p->q) + 1;
		while (end < p->len && p->q[end] == '*') {
			t->prefix = 1;
			end++;
		}
		t->end = end;
		return 0;
	}
	case '-':
		/* "-" excludes only when a term follows directly; after a '-'
		 * (plain) a second one is part of the word: --a excludes "-a" */
		if (!plain && (!is_break(p, i + 1) ||
			(i + 1 < p->len && (p->q[i + 1] == '"' || p->q[i + 1] == '(')))) {
			t->type = T_MINUS;
			t->end = i + 1;
			return 0;
		}
		break;
	default:
		break;
	}
	end = i;
	do {
		size_t l;
		(void)cp_at(p, end, &l);
		end += l;
	} while (!is_break(p, end));
	t->end = end;
	t->off = i;
	t->len = end - i;
	if (!plain && t->len == 2 && memcmp(p->q + i, "OR", 2) == 0) {
		t->type = T_OR;
		return 0;
	}
	if (!plain && t->len == 3 && memcmp(p->q + i, "AND", 3) == 0) {
		t->type = T_AND;
		return 0;
	}
	t->type = T_WORD;
	while (t->len > 0 && p->q[t->off + t->len - 1] == '*') {
		t->prefix = 1;
		t->len--;
	}
	return 0;
}

/* --- parser ------------------------------------------------------------- */

static int new_node(parser *p, int kind, size_t at, int *out)
{
	node *nd;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		node *nn = realloc(p->nodes, cap * sizeof(*nn));
		if (nn == NULL)
			return eakte_error__oom("parsing a search query");
		p->nodes = nn;
		p->cap = cap;
	}
	nd = &p->nodes[p->n];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->at = at;
	nd->first = nd->last = nd->next = -1;
	*out = (int)p->n++;
	return 0;
}

static void add_child(parser *p, int parent, int child)
{
	node *pa = &p->nodes[parent];

	if (pa->last < 0)
		pa->first = child;
	else
		p->nodes[pa->last].next = child;
	pa->last = child;
}

static const char *op_name(int type)
{
	return type == T_OR ? "OR" : "AND";
}

static int is_op(int type)
{
	return type == T_OR || type == T_AND;
}

/* An operator `op` (already consumed) needs a term after it. */
static int check_after_op(parser *p, const token *op)
{
	token t;
	int rc = peek(p, &t, 0);

	if (rc < 0)
		return rc;
	if (t.type == T_END)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query ends with %s; %s must stand between two search terms",
			op_name(op->type), op_name(op->type));
	if (is_op(t.type))
		return eakte_error__set(EAKTE_EINVALID,
			"the search query has %s directly after %s at character %zu; write only one of them",
			op_name(t.type), op_name(op->type), charno(p, t.start));
	if (t.type == T_RPAREN)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query has %s at character %zu with no search term after it; "
			"%s must stand between two search terms",
			op_name(op->type), charno(p, op->start), op_name(op->type));
	return 0;
}

/* An operator with nothing before it in its group. */
static int op_without_left(parser *p, const token *op)
{
	size_t first = 0;

	while (first < p->len) {
		size_t l;
		if (!is_space(cp_at(p, first, &l)))
			break;
		first += l;
	}
	if (op->start == first)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query starts with %s; %s must stand between two search terms",
			op_name(op->type), op_name(op->type));
	return eakte_error__set(EAKTE_EINVALID,
		"the search query has %s at character %zu with no search term before it; "
		"%s must stand between two search terms",
		op_name(op->type), charno(p, op->start), op_name(op->type));
}

static int parse_or(parser *p, int depth, int *out);

static int parse_prim(parser *p, int depth, int plain, int *out)
{
	token t;
	int rc = peek(p, &t, plain);

	if (rc < 0)
		return rc;
	if (t.type == T_WORD || t.type == T_PHRASE) {
		int id = -1;

		if (++p->terms > EAKTE_QUERY_MAX_TERMS)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query has more than %d search terms; search with fewer words",
				EAKTE_QUERY_MAX_TERMS);
		if (t.prefix) {
			size_t total, last = last_word_chars(p, t.off, t.len, &total);
			if (t.len == 0 && t.type == T_WORD)
				return eakte_error__set(EAKTE_EINVALID,
					"the search query has a lone * at character %zu; "
					"put * directly after the start of a word, e.g. Grundst*",
					charno(p, t.start));
			if (last < 2)
				return eakte_error__set(EAKTE_EINVALID,
					"the search query has a prefix search at character %zu with fewer than 2 "
					"letters before the *; give at least 2, e.g. Grundst*", charno(p, t.start));
		}
		rc = new_node(p, N_TERM, t.start, &id);
		if (rc < 0)
			return rc;
		p->nodes[id].off = t.off;
		p->nodes[id].len = t.len;
		p->nodes[id].prefix = t.prefix;
		p->pos = t.end;
		*out = id;
		return 0;
	}
	if (t.type == T_LPAREN) {
		token close;
		int id = -1;

		if (depth + 1 > EAKTE_QUERY_MAX_DEPTH)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query nests parentheses deeper than %d levels at character %zu",
				EAKTE_QUERY_MAX_DEPTH, charno(p, t.start));
		p->pos = t.end;
		rc = parse_or(p, depth + 1, &id);
		if (rc < 0)
			return rc;
		rc = peek(p, &close, 0);
		if (rc < 0)
			return rc;
		if (close.type != T_RPAREN)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query has a '(' at character %zu that is never closed; add a ')'",
				charno(p, t.start));
		if (p->nodes[id].first < 0)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query has empty parentheses at character %zu", charno(p, t.start));
		p->nodes[id].at = t.start;
		p->pos = close.end;
		*out = id;
		return 0;
	}
	/* not reached: parse_and() hands over only terms and '(' */
	return eakte_error__set(EAKTE_EINVALID,
		"the search query has no search term at character %zu", charno(p, t.start));
}

static int parse_and(parser *p, int depth, int *out)
{
	int id = -1, rc;

	rc = new_node(p, N_AND, p->pos, &id);
	if (rc < 0)
		return rc;
	for (;;) {
		token t;
		int child = -1, neg = 0;
		size_t at;

		rc = peek(p, &t, 0);
		if (rc < 0)
			return rc;
		if (t.type == T_END || t.type == T_RPAREN || t.type == T_OR)
			break;
		if (t.type == T_AND) {
			if (p->nodes[id].first < 0)
				return op_without_left(p, &t);
			p->pos = t.end;
			rc = check_after_op(p, &t);
			if (rc < 0)
				return rc;
			continue;
		}
		at = t.start;
		if (t.type == T_MINUS) {
			neg = 1;
			p->pos = t.end;
		}
		rc = parse_prim(p, depth, neg, &child);
		if (rc < 0)
			return rc;
		p->nodes[child].neg = neg;
		p->nodes[child].at = at;
		add_child(p, id, child);
	}
	*out = id;
	return 0;
}

/* An OR node whose children are AND nodes; an empty AND child means the
 * group (or the query) had nothing in it, which the caller reports. */
static int parse_or(parser *p, int depth, int *out)
{
	int id = -1, child = -1, rc;

	rc = new_node(p, N_OR, p->pos, &id);
	if (rc < 0)
		return rc;
	rc = parse_and(p, depth, &child);
	if (rc < 0)
		return rc;
	if (p->nodes[child].first >= 0)
		add_child(p, id, child);
	for (;;) {
		token t;

		rc = peek(p, &t, 0);
		if (rc < 0)
			return rc;
		if (t.type != T_OR)
			break;
		if (p->nodes[child].first < 0)
			return op_without_left(p, &t);
		p->pos = t.end;
		rc = check_after_op(p, &t);
		if (rc < 0)
			return rc;
		rc = parse_and(p, depth, &child);
		if (rc < 0)
			return rc;
		add_child(p, id, child);
	}
	*out = id;
	return 0;
}

/* --- drop empty terms, then emit ---------------------------------------- */

/* Set .live bottom-up; refuse a group that only excludes. */
static int mark_live(parser *p, int id)
{
	node *nd = &p->nodes[id];
	int c, rc, pos = 0, neg = -1;

	if (nd->kind == N_TERM) {
		size_t total;
		(void)last_word_chars(p, nd->off, nd->len, &total);
		nd->live = total > 0;
		return 0;
	}
	for (c = nd->first; c >= 0; c = p->nodes[c].next) {
		rc = mark_live(p, c);
		if (rc < 0)
			return rc;
		if (!p->nodes[c].live)
			continue;
		if (p->nodes[c].neg) {
			if (neg < 0)
				neg = c;
		} else {
			pos++;
		}
	}
	nd = &p->nodes[id];
	if (nd->kind == N_AND && pos == 0 && neg >= 0)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query excludes something at character %zu but has nothing to search for "
			"next to it; an exclusion needs a word to search for in the same group, "
			"e.g. Bauantrag -Entwurf", charno(p, p->nodes[neg].at));
	nd->live = pos > 0;
	return 0;
}

/* The node that stands for `id` once groups of one are unwrapped. */
static int unwrap(const parser *p, int id)
{
	for (;;) {
		const node *nd = &p->nodes[id];
		int c, only = -1, n = 0;

		if (nd->kind == N_TERM)
			return id;
		for (c = nd->first; c >= 0; c = p->nodes[c].next) {
			if (p->nodes[c].live) {
				only = c;
				n++;
			}
		}
		/* live exclusions count too: only a group of exactly one live
		 * member, which is searched for, stands for that member */
		if (n != 1 || p->nodes[only].neg)
			return id;
		id = only;
	}
}

static void emit(parser *p, int id, eakte_sbuf *sb);

/* Emit an operand, in parentheses unless it is a single term. */
static void emit_operand(parser *p, int id, eakte_sbuf *sb)
{
	int u = unwrap(p, id);

	if (p->nodes[u].kind == N_TERM) {
		emit(p, u, sb);
		return;
	}
	eakte_sbuf__add(sb, "(", 1);
	emit(p, u, sb);
	eakte_sbuf__add(sb, ")", 1);
}

static void emit(parser *p, int id, eakte_sbuf *sb)
{
	const node *nd;
	int c, n = 0;

	id = unwrap(p, id);
	nd = &p->nodes[id];
	if (nd->kind == N_TERM) {
		size_t i, start = nd->off;

		eakte_sbuf__add(sb, "\"", 1);
		for (i = nd->off; i < nd->off + nd->len; i++) {
			if (p->q[i] == '"') {
				/* FTS5 string literals double their quotes */
				eakte_sbuf__add(sb, p->q + start, i + 1 - start);
				eakte_sbuf__add(sb, "\"", 1);
				start = i + 1;
			}
		}
		eakte_sbuf__add(sb, p->q + start, nd->off + nd->len - start);
		eakte_sbuf__add(sb, "\"", 1);
		if (nd->prefix)
			eakte_sbuf__add(sb, " *", 2);
		return;
	}
	if (nd->kind == N_OR) {
		for (c = nd->first; c >= 0; c = p->nodes[c].next) {
			if (!p->nodes[c].live)
				continue;
			if (n++ > 0)
				sb_str(sb, " OR ");
			emit_operand(p, c, sb);
		}
		return;
	}
	/* N_AND: the positive part, then NOT each exclusion */
	{
		int npos = 0, nneg = 0;

		for (c = nd->first; c >= 0; c = p->nodes[c].next) {
			if (p->nodes[c].live) {
				if (p->nodes[c].neg)
					nneg++;
				else
					npos++;
			}
		}
		if (nneg > 0 && npos > 1)
			eakte_sbuf__add(sb, "(", 1);
		for (c = nd->first; c >= 0; c = p->nodes[c].next) {
			if (!p->nodes[c].live || p->nodes[c].neg)
				continue;
			if (n++ > 0)
				sb_str(sb, " AND ");
			emit_operand(p, c, sb);
		}
		if (nneg > 0 && npos > 1)
			eakte_sbuf__add(sb, ")", 1);
		for (c = nd->first; c >= 0; c = p->nodes[c].next) {
			if (!p->nodes[c].live || !p->nodes[c].neg)
				continue;
			sb_str(sb, " NOT ");
			emit_operand(p, c, sb);
		}
	}
}

/* --- entry point -------------------------------------------------------- */

static int check_bytes(const char *q, size_t len)
{
	const char *nul;
	size_t i;

	/* bound the input before looking at it */
	if (len > EAKTE_QUERY_MAX_BYTES)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query is %zu bytes long; the limit is %d", len, EAKTE_QUERY_MAX_BYTES);
	nul = memchr(q, '\0', len);
	if (nul != NULL)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query contains a NUL byte at byte %zu", (size_t)(nul - q) + 1);
	for (i = 0; i < len;) {
		int32_t cp;
		size_t l = eakte_utf8__decode((const unsigned char *)q + i, len - i, &cp);
		if (l == 0)
			return eakte_error__set(EAKTE_EINVALID,
				"the search query is not valid UTF-8 at byte %zu", i + 1);
		i += l;
	}
	return 0;
}

int eakte_query__translate(char **out, const char *q, size_t len)
{
	parser p = { 0 };
	eakte_sbuf sb = { 0 };
	token t;
	int root, rc;

	*out = NULL;
	if (q == NULL && len > 0)
		return eakte_error__set(EAKTE_EINVALID, "the search query is missing (NULL)");
	if (q == NULL)
		q = "";
	rc = check_bytes(q, len);
	if (rc < 0)
		return rc;
	p.q = q;
	p.len = len;
	skip_space(&p);
	if (p.pos == p.len)
		return eakte_error__set(EAKTE_EINVALID,
			"the search query is empty; type at least one word to search for");
	rc = parse_or(&p, 0, &root);
	if (rc == 0)
		rc = peek(&p, &t, 0);
	if (rc == 0 && t.type == T_RPAREN)
		rc = eakte_error__set(EAKTE_EINVALID,
			"the search query has a ')' at character %zu without a matching '('",
			charno(&p, t.start));
	if (rc == 0)
		rc = mark_live(&p, root);
	if (rc == 0 && !p.nodes[root].live)
		rc = eakte_error__set(EAKTE_EINVALID, "the search query contains no words to search for");
	if (rc == 0) {
		emit(&p, root, &sb);
		if (sb.failed)
			rc = eakte_error__oom("translating a search query");
	}
	free(p.nodes);
	if (rc < 0) {
		free(sb.buf);
		return rc;
	}
	*out = sb.buf;
	return 0;
}
