/*
 * json.c - the JSON reader: two passes over the input, then accessors.
 *
 * Pass 1 checks everything but duplicate keys and measures: how many nodes
 * (values and keys), how many bytes of string and number text, and how
 * many members each array and object has, in document order. Pass 2 runs
 * the same scanner again and writes the tree into arrays of exactly that
 * size, so nothing is reallocated and nothing copied twice: a container's
 * children sit side by side (an object's as key, value, key, value...),
 * which makes json_at constant time. When pass 2 closes an object it
 * sorts the member indices by key (a stable bottom-up merge sort: n log n
 * whatever the keys) and refuses equal neighbours; json_get searches that
 * order.
 *
 * The scanner keeps its open containers in an explicit stack, so deep
 * nesting costs a frame each up to max_depth, and never C stack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct json_value {
	unsigned char type;     /* enum json_type */
	unsigned char has_nul;  /* a string or key holding "\u0000" */
	size_t off;             /* where it starts in the input */
	size_t len;             /* string or number text bytes; members */
	union {
		const char *s;              /* string, key or number text */
		struct json_value *kids;    /* array: LEN values; object: 2 LEN
		                             * nodes, each key before its value */
		int b;                      /* boolean */
	} u;
	size_t *order;          /* object: member indices sorted by key */
};

struct json_doc {
	struct json_value *nodes;   /* nodes[0] is the root */
	char *text;                 /* every string and number, NUL-terminated */
	size_t *order;              /* every object's sorted member indices */
};

struct frame {
	unsigned char type;         /* JSON_ARRAY or JSON_OBJECT */
	size_t count;               /* members read so far */
	size_t slot;                /* pass 1: its entry in counts */
	struct json_value *node;    /* pass 2: where it is being built */
};

struct parser {
	const char *buf;
	size_t len, pos;
	struct json_limits lim;
	struct json_error *err;
	struct frame *stack;
	size_t depth, stack_cap;
	int build;                  /* 0 in pass 1, 1 in pass 2 */
	/* Measured by pass 1. */
	size_t *counts;             /* members of each container, in order */
	size_t ncounts, counts_cap;
	size_t nvalues, nnodes, ntext, nmembers, max_members;
	/* Pass 2's cursors into the document's arrays. */
	struct json_doc *doc;
	size_t next_node, next_count, next_order;
	char *text_end;
	size_t *scratch;            /* max_members entries, for sorting */
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	p->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The byte at the cursor, or -1 at the end of the input. */
static int
peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->buf[p->pos] : -1;
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->buf[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* ---- strings --------------------------------------------------------- */

/*
 * The length (2 to 4) of the well-formed UTF-8 sequence of a non-ASCII
 * lead byte at S, N bytes available, or 0: Unicode's table 3-7, which
 * leaves out overlong forms, surrogates and code points past U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;          /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f;          /* U+D800..U+DFFF */
	} else {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f;          /* past U+10FFFF */
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* Four hex digits at S (N bytes available) as a number, or -1. */
static long
hex4(const char *s, size_t n)
{
	long v = 0;

	if (n < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], d;
		if (is_digit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t
utf8_put(unsigned long cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A \u escape at the cursor (on the backslash): one code point, or a
 * surrogate pair written as two escapes. Puts its UTF-8 in OUT and returns
 * the length, or -1.
 */
static int
unicode_escape(struct parser *p, unsigned char *out, unsigned long *cpp)
{
	const char *s = p->buf + p->pos;
	size_t n = p->len - p->pos;
	long hi = hex4(s + 2, n - 2), lo;

	if (hi < 0)
		return fail(p, p->pos, "invalid \\u escape");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(p, p->pos, "lone surrogate in \\u escape");
	if (hi < 0xd800 || hi > 0xdbff) {
		p->pos += 6;
		*cpp = (unsigned long)hi;
		return (int)utf8_put(*cpp, out);
	}
	if (n < 12 || s[6] != '\\' || s[7] != 'u' || (lo = hex4(s + 8, n - 8)) < 0xdc00 ||
	    lo > 0xdfff)
		return fail(p, p->pos, "lone surrogate in \\u escape");
	p->pos += 12;
	*cpp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
	return (int)utf8_put(*cpp, out);
}

/* An escape at the cursor (on the backslash): its bytes in OUT; returns
 * their number, or -1. Sets *NUL for "\u0000". */
static int
escape(struct parser *p, unsigned char *out, int *nul)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (p->pos + 1 >= p->len)
		return 0;           /* the caller says: unterminated */
	char c = p->buf[p->pos + 1];
	if (c == 'u') {
		unsigned long cp = 1;
		int n = unicode_escape(p, out, &cp);
		if (n > 0 && cp == 0)
			*nul = 1;
		return n;
	}
	if (c == '\0' || !(hit = strchr(from, c)))
		return fail(p, p->pos, "invalid escape");
	out[0] = (unsigned char)to[hit - from];
	p->pos += 2;
	return 1;
}

/*
 * Reads the string at the cursor (on its opening quote), checking it and,
 * when DST is not NULL, writing it there unescaped with a NUL after it.
 * Returns 0 with *LEN (unescaped bytes) and *NUL (holds a NUL byte) set,
 * or -1.
 */
static int
scan_string(struct parser *p, char *dst, size_t *len, int *nul)
{
	const unsigned char *b = (const unsigned char *)p->buf;
	size_t start = p->pos, n = 0;
	unsigned char tmp[4];

	*nul = 0;
	p->pos++;
	for (;;) {
		const unsigned char *src = tmp;
		size_t k;
		if (p->pos >= p->len)
			return fail(p, start, "unterminated string");
		unsigned c = b[p->pos];
		if (c == '"') {
			break;
		} else if (c == '\\') {
			int r = escape(p, tmp, nul);
			if (r == 0)
				return fail(p, start, "unterminated string");
			if (r < 0)
				return -1;
			k = (size_t)r;
		} else if (c < 0x20) {
			return fail(p, p->pos, "control character in string");
		} else if (c < 0x80) {
			src = b + p->pos++;
			k = 1;
		} else if ((k = utf8_seq(b + p->pos, p->len - p->pos)) == 0) {
			return fail(p, p->pos, "invalid utf-8");
		} else {
			src = b + p->pos;
			p->pos += k;
		}
		if (k > p->lim.max_string - n)
			return fail(p, start, "string longer than the limit (%zu bytes)",
				    p->lim.max_string);
		if (dst)
			memcpy(dst + n, src, k);
		n += k;
	}
	p->pos++;
	if (dst)
		dst[n] = '\0';
	*len = n;
	return 0;
}

/* ---- numbers and literals -------------------------------------------- */

static void
skip_digits(struct parser *p)
{
	while (p->pos < p->len && is_digit((unsigned char)p->buf[p->pos]))
		p->pos++;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? at the cursor. 0 or -1. */
static int
scan_number(struct parser *p)
{
	size_t start = p->pos;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
		if (is_digit(peek(p)))
			return fail(p, start, "leading zero in number");
	} else if (is_digit(peek(p))) {
		skip_digits(p);
	} else {
		return fail(p, start, "invalid number");
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, start, "invalid number");
		skip_digits(p);
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, start, "invalid number");
		skip_digits(p);
	}
	return 0;
}

/* true, false or null at the cursor. Returns its type, or -1. */
static int
scan_literal(struct parser *p, int *b)
{
	static const struct { const char *word; int type, b; } lits[] = {
		{ "true", JSON_BOOL, 1 }, { "false", JSON_BOOL, 0 }, { "null", JSON_NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		size_t n = strlen(lits[i].word);
		if (p->buf[p->pos] != lits[i].word[0])
			continue;
		if (p->len - p->pos < n || memcmp(p->buf + p->pos, lits[i].word, n) != 0)
			break;
		p->pos += n;
		*b = lits[i].b;
		return lits[i].type;
	}
	return fail(p, p->pos, "invalid literal");
}

/* ---- building -------------------------------------------------------- */

/* Pass 2: the node the next value goes into: the root, an array's next
 * element or the value half of an object's next member. */
static struct json_value *
value_slot(struct parser *p)
{
	if (p->depth == 0)
		return &p->doc->nodes[0];
	struct frame *f = &p->stack[p->depth - 1];
	return f->type == JSON_ARRAY ? &f->node->u.kids[f->count]
				     : &f->node->u.kids[2 * f->count + 1];
}

/* Takes the text LEN bytes long (plus a NUL) from the document's buffer. */
static char *
take_text(struct parser *p, size_t len)
{
	char *s = p->text_end;

	p->text_end += len + 1;
	return s;
}

/* A string at the cursor, as a value or (KEY) as the key of the object
 * member being read. 0 or -1. */
static int
read_string(struct parser *p, int key)
{
	size_t off = p->pos, len;
	int nul;

	if (!p->build) {
		if (scan_string(p, NULL, &len, &nul) < 0)
			return -1;
		p->ntext += len + 1;
		p->nnodes++;
		return 0;
	}
	struct json_value *v = value_slot(p);
	if (key)
		v--;            /* the key goes just before its value */
	if (scan_string(p, p->text_end, &len, &nul) < 0)
		return -1;
	v->type = JSON_STRING;
	v->has_nul = (unsigned char)nul;
	v->off = off;
	v->len = len;
	v->u.s = take_text(p, len);
	return 0;
}

static int
read_number(struct parser *p)
{
	size_t off = p->pos;

	if (scan_number(p) < 0)
		return -1;
	size_t len = p->pos - off;
	if (!p->build) {
		p->ntext += len + 1;
		p->nnodes++;
		return 0;
	}
	struct json_value *v = value_slot(p);
	char *dst = take_text(p, len);
	memcpy(dst, p->buf + off, len);
	dst[len] = '\0';
	v->type = JSON_NUMBER;
	v->off = off;
	v->len = len;
	v->u.s = dst;
	return 0;
}

static int
read_literal(struct parser *p)
{
	size_t off = p->pos;
	int b = 0, type = scan_literal(p, &b);

	if (type < 0)
		return -1;
	if (!p->build) {
		p->nnodes++;
		return 0;
	}
	struct json_value *v = value_slot(p);
	v->type = (unsigned char)type;
	v->off = off;
	v->u.b = b;
	return 0;
}

static int
push_count(struct parser *p)
{
	if (p->ncounts == p->counts_cap) {
		size_t cap = p->counts_cap ? p->counts_cap * 2 : 64;
		size_t *c = cap < (size_t)-1 / sizeof(*c) ? realloc(p->counts, cap * sizeof(*c)) : NULL;
		if (!c)
			return fail(p, p->pos, "out of memory");
		p->counts = c;
		p->counts_cap = cap;
	}
	p->counts[p->ncounts++] = 0;
	return 0;
}

static int
push_frame(struct parser *p, unsigned char type)
{
	if (p->depth >= p->lim.max_depth)
		return fail(p, p->pos, "nesting deeper than the limit (%zu)", p->lim.max_depth);
	if (p->depth == p->stack_cap) {
		size_t cap = p->stack_cap ? p->stack_cap * 2 : 16;
		struct frame *s = cap < (size_t)-1 / sizeof(*s) ? realloc(p->stack, cap * sizeof(*s)) : NULL;
		if (!s)
			return fail(p, p->pos, "out of memory");
		p->stack = s;
		p->stack_cap = cap;
	}
	struct frame *f = &p->stack[p->depth];
	f->type = type;
	f->count = 0;
	f->slot = p->ncounts;
	f->node = NULL;
	return 0;
}

/* An array or object opens at the cursor: a frame, and in pass 2 its node
 * and its children's places. 0 or -1. */
static int
open_container(struct parser *p, unsigned char type)
{
	if (push_frame(p, type) < 0)
		return -1;
	if (!p->build) {
		if (push_count(p) < 0)
			return -1;
		p->nnodes++;
		p->depth++;
		return 0;
	}
	struct json_value *v = value_slot(p);
	size_t n = p->counts[p->next_count++];
	v->type = type;
	v->off = p->pos;
	v->len = n;
	v->u.kids = p->doc->nodes + p->next_node;
	p->next_node += type == JSON_OBJECT ? 2 * n : n;
	if (type == JSON_OBJECT) {
		v->order = p->doc->order + p->next_order;
		p->next_order += n;
	}
	p->stack[p->depth].node = v;
	p->depth++;
	return 0;
}

static int
key_cmp(const struct json_value *a, const char *key, size_t len)
{
	int c = memcmp(a->u.s, key, a->len < len ? a->len : len);

	if (c)
		return c;
	return (a->len > len) - (a->len < len);
}

/* Sorts the N member indices at ORDER by their keys in KIDS, stably,
 * bottom-up, through TMP (N entries). */
static void
sort_members(const struct json_value *kids, size_t *order, size_t *tmp, size_t n)
{
	size_t *src = order, *dst = tmp;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = mid + width < n ? mid + width : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				const struct json_value *b = &kids[2 * src[j]];
				if (key_cmp(&kids[2 * src[i]], b->u.s, b->len) <= 0)
					dst[k++] = src[i++];
				else
					dst[k++] = src[j++];
			}
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		size_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != order)
		memcpy(order, src, n * sizeof(*order));
}

/* A key for a message: printable ASCII kept, the rest as '?', cut short. */
static void
key_for_message(const struct json_value *k, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < k->len && n + 4 < size; i++) {
		unsigned char c = (unsigned char)k->u.s[i];
		out[n++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
	}
	if (n < k->len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* Pass 2, an object just closed: sort its members and refuse a duplicate
 * key, naming the first member (in document order) that repeats one. */
static int
check_keys(struct parser *p, struct json_value *obj)
{
	size_t *order = obj->order, n = obj->len, dup = n;
	const struct json_value *kids = obj->u.kids;

	sort_members(kids, order, p->scratch, n);
	for (size_t i = 1; i < n; i++) {
		const struct json_value *b = &kids[2 * order[i]];
		if (key_cmp(&kids[2 * order[i - 1]], b->u.s, b->len) == 0 && order[i] < dup)
			dup = order[i];     /* stable: the later of the two */
	}
	if (dup == n)
		return 0;
	char name[40];
	key_for_message(&kids[2 * dup], name, sizeof(name));
	return fail(p, kids[2 * dup].off, "duplicate key \"%s\"", name);
}

/* The closing bracket at the cursor ends the innermost container. */
static int
close_container(struct parser *p)
{
	struct frame *f = &p->stack[p->depth - 1];

	p->pos++;
	p->depth--;
	if (!p->build) {
		p->counts[f->slot] = f->count;
		if (f->type == JSON_OBJECT) {
			p->nmembers += f->count;
			if (f->count > p->max_members)
				p->max_members = f->count;
		}
		return 0;
	}
	return f->type == JSON_OBJECT ? check_keys(p, f->node) : 0;
}

/* ---- the scanner ----------------------------------------------------- */

/*
 * A value starts at the cursor (whitespace skipped). Returns 0 when it was
 * a scalar, now read; 1 when it opened an array or object; -1 on error.
 */
static int
begin_value(struct parser *p)
{
	int c = peek(p);

	if (!p->build && ++p->nvalues > p->lim.max_values)
		return fail(p, p->pos, "more values than the limit (%zu)", p->lim.max_values);
	switch (c) {
	case -1:
		return fail(p, p->pos, "unexpected end of input");
	case '[':
		return open_container(p, JSON_ARRAY) < 0 ? -1 : 1;
	case '{':
		return open_container(p, JSON_OBJECT) < 0 ? -1 : 1;
	case '"':
		return read_string(p, 0);
	case 't': case 'f': case 'n':
		return read_literal(p);
	default:
		if (c == '-' || is_digit(c))
			return read_number(p);
		return fail(p, p->pos, "expected a value");
	}
}

/* An object member's key and colon at the cursor; leaves the cursor on
 * its value. 0 or -1. */
static int
read_key(struct parser *p)
{
	int c = peek(p);

	if (c == -1)
		return fail(p, p->pos, "unexpected end of input");
	if (c != '"')
		return fail(p, p->pos, "expected a string key");
	if (read_string(p, 1) < 0)
		return -1;
	skip_ws(p);
	if (peek(p) != ':')
		return fail(p, p->pos, peek(p) < 0 ? "unexpected end of input" : "expected ':'");
	p->pos++;
	skip_ws(p);
	return 0;
}

/*
 * After a value inside the innermost container: a comma and the next
 * member (cursor left on its value: returns 1), or the closing bracket
 * (the container is a finished value: returns 0). -1 on error.
 */
static int
after_member(struct parser *p)
{
	struct frame *f = &p->stack[p->depth - 1];
	int close = f->type == JSON_ARRAY ? ']' : '}';
	int c;

	f->count++;
	skip_ws(p);
	c = peek(p);
	if (c == close)
		return close_container(p);
	if (c != ',') {
		if (c == -1)
			return fail(p, p->pos, "unexpected end of input");
		return fail(p, p->pos, f->type == JSON_ARRAY ? "expected ',' or ']'"
							     : "expected ',' or '}'");
	}
	p->pos++;
	skip_ws(p);
	if (peek(p) == close)
		return fail(p, p->pos, "trailing comma");
	if (f->type == JSON_OBJECT && read_key(p) < 0)
		return -1;
	return 1;
}

/* Just inside a bracket: empty (the container is done: 0), or the cursor
 * is left on the first member's value (1). -1 on error. */
static int
first_member(struct parser *p)
{
	struct frame *f = &p->stack[p->depth - 1];

	p->pos++;
	skip_ws(p);
	if (peek(p) == (f->type == JSON_ARRAY ? ']' : '}'))
		return close_container(p);
	if (f->type == JSON_OBJECT && read_key(p) < 0)
		return -1;
	return 1;
}

/* One pass over the whole input. 0 or -1. */
static int
scan(struct parser *p)
{
	p->pos = 0;
	p->depth = 0;
	skip_ws(p);
	for (;;) {
		int r = begin_value(p);
		if (r > 0)
			r = first_member(p);
		/* Finished values climb out of their containers. */
		while (r == 0 && p->depth > 0)
			r = after_member(p);
		if (r < 0)
			return -1;
		if (p->depth == 0)
			break;
	}
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, p->pos, "unexpected data after the value");
	return 0;
}

/* ---- parsing --------------------------------------------------------- */

static void *
alloc_array(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

/* After pass 1: the document's arrays, sized to fit. 0 or -1. */
static int
alloc_doc(struct parser *p)
{
	struct json_doc *d = calloc(1, sizeof(*d));

	if (!d)
		return fail(p, 0, "out of memory");
	p->doc = d;
	d->nodes = alloc_array(p->nnodes, sizeof(*d->nodes));
	d->text = alloc_array(p->ntext, 1);
	d->order = alloc_array(p->nmembers, sizeof(*d->order));
	p->scratch = alloc_array(p->max_members, sizeof(*p->scratch));
	if (!d->nodes || !d->text || !d->order || !p->scratch)
		return fail(p, 0, "out of memory");
	p->text_end = d->text;
	p->next_node = 1;
	return 0;
}

static int
parse(struct parser *p)
{
	if (p->len > p->lim.max_input)
		return fail(p, p->lim.max_input, "input larger than the limit (%zu bytes)",
			    p->lim.max_input);
	if (p->len >= 3 && memcmp(p->buf, "\xef\xbb\xbf", 3) == 0)
		return fail(p, 0, "byte order mark");
	if (scan(p) < 0 || alloc_doc(p) < 0)
		return -1;
	p->build = 1;
	return scan(p);
}

struct json_doc *
json_parse(const char *buf, size_t len, const struct json_limits *lim, struct json_error *err)
{
	static const struct json_limits defaults = JSON_LIMITS_DEFAULT;
	struct parser p;

	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.lim = lim ? *lim : defaults;
	p.err = err;
	err->offset = 0;
	err->msg[0] = '\0';
	int r = parse(&p);
	free(p.stack);
	free(p.counts);
	free(p.scratch);
	if (r < 0) {
		json_free(p.doc);
		return NULL;
	}
	return p.doc;
}

const struct json_value *
json_root(const struct json_doc *doc)
{
	return doc ? &doc->nodes[0] : NULL;
}

void
json_free(struct json_doc *doc)
{
	if (!doc)
		return;
	free(doc->nodes);
	free(doc->text);
	free(doc->order);
	free(doc);
}

/* ---- access ---------------------------------------------------------- */

enum json_type
json_type(const struct json_value *v)
{
	return v ? (enum json_type)v->type : JSON_NONE;
}

const char *
json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL: return "null";
	case JSON_BOOL: return "boolean";
	case JSON_NUMBER: return "number";
	case JSON_STRING: return "string";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	default: return "nothing";
	}
}

size_t
json_offset(const struct json_value *v)
{
	return v ? v->off : 0;
}

size_t
json_len(const struct json_value *v)
{
	return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->len : 0;
}

const struct json_value *
json_at(const struct json_value *v, size_t i)
{
	if (i >= json_len(v))
		return NULL;
	return v->type == JSON_ARRAY ? &v->u.kids[i] : &v->u.kids[2 * i + 1];
}

const char *
json_key_at(const struct json_value *v, size_t i, size_t *len)
{
	if (json_type(v) != JSON_OBJECT || i >= v->len)
		return NULL;
	if (len)
		*len = v->u.kids[2 * i].len;
	return v->u.kids[2 * i].u.s;
}

const struct json_value *
json_getn(const struct json_value *obj, const char *key, size_t keylen)
{
	size_t lo = 0, hi;

	if (json_type(obj) != JSON_OBJECT)
		return NULL;
	hi = obj->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, m = obj->order[mid];
		int c = key_cmp(&obj->u.kids[2 * m], key, keylen);
		if (c == 0)
			return &obj->u.kids[2 * m + 1];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct json_value *
json_get(const struct json_value *obj, const char *key)
{
	return json_getn(obj, key, strlen(key));
}

const char *
json_str(const struct json_value *v, size_t *len)
{
	if (json_type(v) != JSON_STRING)
		return NULL;
	if (len)
		*len = v->len;
	return v->u.s;
}

const char *
json_cstr(const struct json_value *v)
{
	return json_type(v) == JSON_STRING && !v->has_nul ? v->u.s : NULL;
}

const char *
json_num_text(const struct json_value *v, size_t *len)
{
	if (json_type(v) != JSON_NUMBER)
		return NULL;
	if (len)
		*len = v->len;
	return v->u.s;
}

int
json_bool(const struct json_value *v, int *out)
{
	if (json_type(v) != JSON_BOOL)
		return -1;
	*out = v->u.b;
	return 0;
}

/* ---- exact integers -------------------------------------------------- */

/* A number's digits, integer part then fraction, read as one string. */
struct digits {
	const char *ip, *fp;
	size_t il, fl;
};

static int
digit_at(const struct digits *d, size_t i)
{
	return (i < d->il ? d->ip[i] : d->fp[i - d->il]) - '0';
}

/* The exponent's value, saturated at +-10^15 (any such exponent makes a
 * nonzero number far too big or not integral). */
static int64_t
read_exponent(const char *s, const char *end)
{
	int neg = 0;
	int64_t e = 0;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	for (; s < end; s++)
		if (e < 1000000000000000)
			e = e * 10 + (*s - '0');
	return neg ? -e : e;
}

/* Splits valid number text into sign, digits and exponent. */
static void
split_number(const char *s, const char *end, int *neg, struct digits *d, int64_t *exp)
{
	*neg = *s == '-';
	s += *neg;
	d->ip = s;
	while (s < end && is_digit((unsigned char)*s))
		s++;
	d->il = (size_t)(s - d->ip);
	d->fp = s;
	d->fl = 0;
	if (s < end && *s == '.') {
		d->fp = ++s;
		while (s < end && is_digit((unsigned char)*s))
			s++;
		d->fl = (size_t)(s - d->fp);
	}
	*exp = s < end ? read_exponent(s + 1, end) : 0;
}

int
json_int64(const struct json_value *v, int64_t *out)
{
	struct digits d;
	int neg;
	int64_t exp;

	if (json_type(v) != JSON_NUMBER)
		return -1;
	split_number(v->u.s, v->u.s + v->len, &neg, &d, &exp);
	/* Value = D[first..last] * 10^scale, D stripped of zeros at both ends. */
	size_t n = d.il + d.fl, first = 0, last = n;
	while (first < n && digit_at(&d, first) == 0)
		first++;
	if (first == n) {
		*out = 0;
		return 0;
	}
	while (digit_at(&d, last - 1) == 0)
		last--;
	if (d.fl > (size_t)INT64_MAX / 2 || n - last > (size_t)INT64_MAX / 2)
		return -1;
	int64_t scale = exp - (int64_t)d.fl + (int64_t)(n - last);
	if (scale < 0 || (int64_t)(last - first) + scale > 19)
		return -1;
	uint64_t u = 0;
	for (size_t i = first; i < last; i++)
		u = u * 10 + (uint64_t)digit_at(&d, i);     /* at most 19 digits */
	for (int64_t i = 0; i < scale; i++) {
		if (u > UINT64_MAX / 10)
			return -1;
		u *= 10;
	}
	if (u > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*out = neg && u ? -(int64_t)(u - 1) - 1 : (int64_t)u;
	return 0;
}
