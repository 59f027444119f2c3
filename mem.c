/*
 * mem.c - allocations that cannot fail, and pools (see mem.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

#define POOL_CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static const char *oom_unlink;  /* see mem_on_oom */

void
mem_on_oom(const char *path)
{
	oom_unlink = path;
}

_Noreturn void
die_oom(void)
{
	fputs("tarflat: out of memory\n", stderr);
	if (oom_unlink)
		unlink(oom_unlink);
	exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_oom();
	return p;
}

void *
xaligned_alloc(size_t align, size_t n)
{
	void *p = aligned_alloc(align, n);

	if (!p)
		die_oom();
	return p;
}

void *
room_for(void *p, size_t n, size_t size)
{
	return (n & (n - 1)) == 0 ? xrealloc(p, (n ? n * 2 : 1) * size) : p;
}

void *
pool_alloc(struct pool *p, size_t n, size_t align)
{
	struct chunk *c = p->head;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;

	if (!c || at > c->cap || c->cap - at < n) {
		size_t cap = n > POOL_CHUNK ? n : POOL_CHUNK;
		if (!(c = malloc(sizeof(*c) + cap)))
			die_oom();
		c->next = p->head;
		c->cap = cap;
		p->head = c;
		at = 0;
	}
	c->used = at + n;
	return (char *)c->data + at;
}

void *
pool_zalloc(struct pool *p, size_t n)
{
	void *x = pool_alloc(p, n, sizeof(uint64_t));

	memset(x, 0, n);
	return x;
}

char *
pool_str(struct pool *p, const char *s, size_t len)
{
	char *d = pool_alloc(p, len + 1, 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

void
pool_free(struct pool *p)
{
	while (p->head) {
		struct chunk *c = p->head;
		p->head = c->next;
		free(c);
	}
}
