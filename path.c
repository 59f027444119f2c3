/*
 * path.c - normalising member names (see path.h).
 */
#include <string.h>

#include "path.h"

void
path_normalise(char *s)
{
	size_t len = strlen(s), i = 0, o = 0, clen;
	const char *c;

	while (path_next(s, len, &i, &c, &clen)) {
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 0 && s[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o > 0)
			s[o++] = '/';
		memmove(s + o, c, clen);
		o += clen;
	}
	s[o] = '\0';
}

const char *
path_base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

const char *
path_split(const char *path, size_t *dlen)
{
	const char *b = path_base(path);

	*dlen = b > path ? (size_t)(b - path - 1) : 0;
	return b;
}
