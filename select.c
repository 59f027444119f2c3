/*
 * select.c - --path and --exclude (see select.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "path.h"
#include "select.h"

int
select_paths(struct tree *t, char *const *paths, size_t n)
{
	t->root->in = n == 0;
	for (size_t i = 0; i < n; i++) {
		struct node *x = tree_find(t, paths[i]);
		if (!x || x->hidden) {
			struct error *er = &t->L->err;
			er->file = NULL;
			snprintf(er->msg, sizeof(er->msg), "--path %.300s: not in the image%s",
				 paths[i], *paths[i] ? "" : " (an empty name)");
			return -1;
		}
		if (x == t->root)
			t->root->in = 1;
		x->sel = 1;
		for (x = node_parent(t, x); x; x = node_parent(t, x))
			x->anc = 1;
	}
	return 0;
}

/* A pattern taken apart: its components, NUL-terminated, one after the
 * other in S. */
struct pattern {
	const char *arg;        /* as given, for the warning */
	char *s;
	const char **comp;
	size_t n;
	size_t hits;
};

static int
is_any(const char *c)
{
	return strcmp(c, "**") == 0;
}

/* ARG as components. A trailing "**" stands for one component or more
 * (what is inside, as in gitignore): "*" then "**". */
static void
pattern_make(struct pattern *p, const char *arg)
{
	size_t len = strlen(arg), i = 0, clen;
	const char *c;

	p->arg = arg;
	p->s = xmalloc(len + 8);
	p->comp = xmalloc((len / 2 + 3) * sizeof(*p->comp));
	p->n = 0;
	p->hits = 0;
	char *o = p->s;
	while (path_next(arg, len, &i, &c, &clen)) {
		if (p->n == 0 && clen == 1 && c[0] == '.')
			continue;       /* a leading "./" */
		memcpy(o, c, clen);
		o[clen] = '\0';
		p->comp[p->n++] = o;
		o += clen + 1;
	}
	if (p->n > 0 && is_any(p->comp[p->n - 1])) {
		strcpy(o, "*");
		p->comp[p->n - 1] = o;
		strcpy(o + 2, "**");
		p->comp[p->n++] = o + 2;
	}
}

/*
 * Does P match the K components C? '**' is a wildcard over components,
 * any other component matches one by fnmatch: the two-pointer match of a
 * glob's '*', which backtracks to the last "**" only.
 */
static int
pattern_match(const struct pattern *p, char *const *c, size_t k)
{
	size_t i = 0, j = 0, star = SIZE_MAX, mark = 0;

	while (j < k) {
		if (i < p->n && is_any(p->comp[i])) {
			star = i++;
			mark = j;
		} else if (i < p->n && fnmatch(p->comp[i], c[j], 0) == 0) {
			i++;
			j++;
		} else if (star != SIZE_MAX) {
			i = star + 1;
			j = ++mark;
		} else {
			return 0;
		}
	}
	while (i < p->n && is_any(p->comp[i]))
		i++;
	return p->n > 0 && i == p->n;
}

/* The walk's place: the components of the path to the node being looked
 * at, each NUL-terminated in BUF. */
struct place {
	char *buf;
	size_t len, cap;
	char **comp;
	size_t depth, ccap;
};

static void
place_push(struct place *pl, const struct node *n)
{
	if (pl->len + n->len + 1 > pl->cap)
		pl->buf = xrealloc(pl->buf, pl->cap = (pl->len + n->len + 1) * 2);
	if (pl->depth == pl->ccap)
		pl->comp = xrealloc(pl->comp, (pl->ccap = pl->ccap * 2 + 16) * sizeof(*pl->comp));
	memcpy(pl->buf + pl->len, n->name, n->len);
	pl->buf[pl->len + n->len] = '\0';
	pl->len += n->len + 1;
	pl->depth++;
	/* the components' pointers are made again after a realloc */
	for (size_t i = 0, at = 0; i < pl->depth; i++) {
		pl->comp[i] = pl->buf + at;
		at += strlen(pl->comp[i]) + 1;
	}
}

static void
place_pop(struct place *pl)
{
	pl->depth--;
	pl->len = pl->depth ? (size_t)(pl->comp[pl->depth] - pl->buf) : 0;
}

/* Is the node at PL matched by a pattern? Counts the hit of every
 * pattern that matches it, the first hit of one in *UNHIT. */
static int
matched(struct pattern *p, size_t n, const struct place *pl, size_t *unhit)
{
	int m = 0;

	for (size_t i = 0; i < n; i++) {
		if (pattern_match(&p[i], pl->comp, pl->depth)) {
			if (p[i].hits++ == 0)
				(*unhit)--;
			m = 1;
		}
	}
	return m;
}

void
select_exclude(struct tree *t, char *const *patterns, size_t n)
{
	struct pattern *p = xmalloc((n ? n : 1) * sizeof(*p));
	struct place pl = { 0 };
	struct node *dir = t->root, *c;
	size_t unhit = n;

	for (size_t i = 0; i < n; i++)
		pattern_make(&p[i], patterns[i]);
	c = n ? select_next(t, dir, node_kids(t, dir)) : NULL;
	while (n && dir) {
		if (!c) {
			/* DIR is done: on after it in its parent */
			if (dir->parent)
				place_pop(&pl);
			c = dir->parent ? select_next(t, node_parent(t, dir), node_next(t, dir)) : NULL;
			dir = node_parent(t, dir);
			continue;
		}
		place_push(&pl, c);
		if (matched(p, n, &pl, &unhit))
			c->out = 1;
		/* below a name left out only to count the hits of the
		 * patterns that have none yet */
		if (c->dir && (!c->out || unhit)) {
			dir = c;
			c = select_next(t, dir, node_kids(t, dir));
			continue;
		}
		place_pop(&pl);
		c = select_next(t, dir, node_next(t, c));
	}
	for (size_t i = 0; i < n; i++) {
		if (!p[i].hits)
			fprintf(stderr, "tarflat: warning: --exclude %s matched nothing\n", p[i].arg);
		free(p[i].s);
		free(p[i].comp);
	}
	free(p);
	free(pl.buf);
	free(pl.comp);
}
