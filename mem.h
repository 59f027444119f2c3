/*
 * mem.h - memory: allocations that cannot fail (tarflat dies, saying so,
 * when memory runs out) and pools, bump allocation freed all at once.
 *
 * A pool serves records that live as long as what owns it: a layer's
 * strings, the tree's nodes. Nothing in a pool is freed on its own. The
 * chunks stay reachable so leak checkers stay quiet.
 */
#ifndef TARFLAT_MEM_H
#define TARFLAT_MEM_H

#include <stddef.h>

/* Prints "tarflat: out of memory", removes the file mem_on_oom named, and
 * exits 1. */
_Noreturn void die_oom(void);

/*
 * mem_on_oom: PATH (or NULL) is a file to remove if memory runs out: the
 * output's temporary file while it is written. The one piece of state
 * kept in a file-scope variable: running out of memory can happen
 * anywhere, and nothing can be passed there.
 */
void mem_on_oom(const char *path);

/* malloc and realloc that die_oom instead of returning NULL (a size of 0
 * asks for 1 byte). */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

/* strdup and aligned_alloc that die_oom instead of returning NULL. */
char *xstrdup(const char *s);
void *xaligned_alloc(size_t align, size_t n);

/* Array P of N elements of SIZE bytes, with room made for element N: it
 * doubles whenever N is 0 or a power of two. */
void *room_for(void *p, size_t n, size_t size);

struct pool {
	struct chunk *head;
};

/* N bytes aligned to ALIGN (a power of two), not cleared. */
void *pool_alloc(struct pool *p, size_t n, size_t align);

/* N cleared bytes, aligned for any 64-bit record. */
void *pool_zalloc(struct pool *p, size_t n);

/* A copy of the LEN bytes at S, with a NUL after them. */
char *pool_str(struct pool *p, const char *s, size_t len);

/* Frees everything P handed out; P is then empty, ready for reuse. */
void pool_free(struct pool *p);

#endif
