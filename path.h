/*
 * path.h - names as tarflat reads them: a member's name normalised (rule 1
 * of tarflat.1's LAYER SEMANTICS), and a path taken apart component by
 * component.
 */
#ifndef TARFLAT_PATH_H
#define TARFLAT_PATH_H

#include <stddef.h>

/* Names with a meaning in a layer (tarflat.1 rule 3): a whiteout, AUFS
 * metadata, an opaque directory's marker. */
#define WH ".wh."
#define WH_META ".wh..wh."
#define WH_OPQ ".wh..wh..opq"

/*
 * path_next: the next '/'-separated component of the LEN bytes at P, at or
 * after *I: sets *C and *CLEN and moves *I past it. Returns 0 at the end.
 * Inline: the resolve takes every name of every layer apart with it.
 */
static inline int
path_next(const char *p, size_t len, size_t *i, const char **c, size_t *clen)
{
	while (*i < len && p[*i] == '/')
		(*i)++;
	if (*i >= len)
		return 0;
	*c = p + *i;
	while (*i < len && p[*i] != '/')
		(*i)++;
	*clen = (size_t)(p + *i - *c);
	return 1;
}

/*
 * path_normalise: rewrites the member name S in place (rule 1): no leading
 * '/' or './', no empty or '.' components, no trailing '/', '..' resolved
 * lexically and clamped at the root. "" means the root itself.
 */
void path_normalise(char *s);

/* The last component of normalised PATH (a pointer into it). */
const char *path_base(const char *path);

/* Splits normalised PATH into its directory part (the first *DLEN bytes)
 * and its last component, which it returns. */
const char *path_split(const char *path, size_t *dlen);

#endif
