/*
 * list.c - the -t listing (see list.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list.h"
#include "mem.h"
#include "output.h"

/* A line of the listing, built with printf formats. */
struct line {
	char *p;
	size_t len, cap;
};

static void line_add(struct line *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
line_add(struct line *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends S to B, with a backslash and three octal digits for control
 * characters and backslashes, as tar -t writes names. */
static void
put_escaped(struct line *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\')
			line_add(b, "\\%03o", c);
		else
			line_add(b, "%c", c);
	}
}

/* "drwxr-xr-x": the type letter of tar -tv and the mode. */
static void
mode_string(char type, uint32_t mode, char out[11])
{
	static const char types[] = "0-1h2l3c4b5d6p";
	const char *t = strchr(types, type);

	out[0] = t && (t - types) % 2 == 0 ? t[1] : '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (0400u >> i) ? "rwxrwxrwx"[i] : '-';
	if (mode & 04000)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (mode & 02000)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (mode & 01000)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

static int
list_entry(struct output *o, const struct out_entry *e)
{
	const struct tar_entry *t = &e->t;
	struct line b = { 0 };
	char mode[11], when[32];
	struct tm tm;
	time_t secs = (time_t)t->mtime;

	mode_string(t->type, t->mode, mode);
	if ((int64_t)secs == t->mtime && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	else
		snprintf(when, sizeof(when), "@%lld", (long long)t->mtime);
	line_add(&b, "%s %llu/%llu ", mode, (unsigned long long)t->uid,
		 (unsigned long long)t->gid);
	if (t->type == '3' || t->type == '4')
		line_add(&b, "%u,%u", t->devmajor, t->devminor);
	else
		line_add(&b, "%llu", (unsigned long long)t->size);
	line_add(&b, " %s %zu%s%s ", when, e->layer, e->layer_id[0] ? ":" : "", e->layer_id);
	put_escaped(&b, t->name);
	if (t->type == '5')
		line_add(&b, "/");
	if (t->type == '2' || t->type == '1') {
		line_add(&b, t->type == '2' ? " -> " : " link to ");
		put_escaped(&b, t->linkname);
	}
	line_add(&b, "\n");
	int r = b.p ? tar_write_data(o->sink, b.p, b.len) : -1;
	free(b.p);
	return r;
}

static int
list_end(struct output *o)
{
	return tar_out_flush(o->sink);
}

const struct output_ops list_output = {
	.entry = list_entry,
	.end = list_end,
};
