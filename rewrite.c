/*
 * rewrite.c - owners and times rewritten on the way out (see rewrite.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rewrite.h"

int
rewrite_any(const struct rewrite *rw)
{
	return rw->owner || rw->group || rw->numeric || rw->mtime;
}

int
rewrite_time(const char *s, int64_t *t)
{
	char *end;

	if (*s == '@')
		s++;
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*t = v;
	return 0;
}

/* A time of the input as it is rewritten: every one set to RW's, or with
 * clamp only the later ones lowered to it. */
static int64_t
new_time(const struct rewrite *rw, int64_t t)
{
	return rw->clamp && t <= rw->time ? t : rw->time;
}

/* One pax record of a serialised list. */
struct rec {
	const char *p;          /* the whole record */
	size_t len;
	const char *key, *val;
	size_t klen, vlen;
};

/* The record at the start of the LEN bytes at P (a list tar.c made, so
 * well formed). Returns 0 at the end. */
static int
next_rec(const char *p, size_t len, struct rec *r)
{
	const char *sp, *eq;
	size_t n = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		n = n * 10 + (size_t)(p[i] - '0');
	sp = memchr(p, ' ', len);
	if (!sp || n > len || n < (size_t)(sp - p) + 3)
		return 0;
	eq = memchr(sp, '=', (size_t)(p + n - sp));
	if (!eq)
		return 0;
	*r = (struct rec){ p, n, sp + 1, eq + 1, (size_t)(eq - sp - 1),
			   (size_t)(p + n - 1 - eq - 1) };
	return 1;
}

static int
is_time_key(const struct rec *r)
{
	return r->klen == 5 && (memcmp(r->key, "mtime", 5) == 0 || memcmp(r->key, "atime", 5) == 0 ||
				memcmp(r->key, "ctime", 5) == 0);
}

/* Does a pax time V (decimal, maybe signed, maybe with a fraction) come
 * after T? */
static int
later_than(const char *v, size_t len, int64_t t)
{
	int neg = len && v[0] == '-', frac = 0;
	size_t i = (size_t)neg;
	int64_t whole = 0;

	for (; i < len && v[i] >= '0' && v[i] <= '9'; i++)
		whole = whole > INT64_MAX / 10 ? INT64_MAX : whole * 10 + (v[i] - '0');
	if (i < len && v[i] == '.')
		for (i++; i < len; i++)
			frac |= v[i] != '0';
	/* the floor of the value, then the value itself */
	int64_t fl = neg ? -whole - frac : whole;
	return fl > t || (fl == t && frac);
}

/* Appends record "KEY=VAL" (computing its length) to B at *AT. */
static void
put_rec(struct rewrite_buf *b, size_t *at, const char *key, size_t klen, const char *val,
	size_t vlen)
{
	size_t body = klen + vlen + 3, n = body + 1;
	char num[24];

	while ((size_t)snprintf(num, sizeof(num), "%zu", n) + body != n)
		n++;
	if (*at + n + 1 > b->cap)
		b->p = xrealloc(b->p, b->cap = (*at + n + 1) * 2);
	snprintf(b->p + *at, n + 1, "%s %.*s=%.*s\n", num, (int)klen, key, (int)vlen, val);
	*at += n;
}

/* The records of P (LEN bytes) into B at *AT, their times rewritten by
 * RW: a fractional mtime goes (the header has the new one), an atime or
 * ctime takes the new time. */
static void
copy_recs(const struct rewrite *rw, struct rewrite_buf *b, size_t *at, const char *p,
	  size_t len)
{
	struct rec r;
	char num[24];

	for (; p && next_rec(p, len, &r); p += r.len, len -= r.len) {
		if (!is_time_key(&r) || (rw->clamp && !later_than(r.val, r.vlen, rw->time))) {
			put_rec(b, at, r.key, r.klen, r.val, r.vlen);
			continue;
		}
		if (r.key[0] == 'm')
			continue;
		int n = snprintf(num, sizeof(num), "%lld", (long long)rw->time);
		put_rec(b, at, r.key, r.klen, num, (size_t)n);
	}
}

/* Does the list P (LEN bytes) hold a time record? */
static int
has_times(const char *p, size_t len)
{
	struct rec r;

	for (; p && next_rec(p, len, &r); p += r.len, len -= r.len)
		if (is_time_key(&r))
			return 1;
	return 0;
}

void
rewrite_entry(const struct rewrite *rw, struct tar_entry *t, struct rewrite_buf *b)
{
	if (rw->owner) {
		t->uid = rw->uid;
		t->uname = (char *)"";
	}
	if (rw->group) {
		t->gid = rw->gid;
		t->gname = (char *)"";
	}
	if (rw->numeric)
		t->uname = t->gname = (char *)"";
	if (!rw->mtime)
		return;
	t->mtime = new_time(rw, t->mtime);
	if (!has_times(t->pax, t->pax ? t->paxlen : 0) &&
	    !has_times(t->gpax, t->gpax ? t->gpaxlen : 0))
		return;
	/* the globals first, as the writer puts them */
	size_t at = 0;
	copy_recs(rw, b, &at, t->gpax, t->gpax ? t->gpaxlen : 0);
	copy_recs(rw, b, &at, t->pax, t->pax ? t->paxlen : 0);
	t->gpax = NULL;
	t->gpaxlen = 0;
	t->pax = at ? b->p : NULL;
	t->paxlen = at;
}

void
rewrite_buf_free(struct rewrite_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}
