/*
 * select.h - which names of the final tree are written: --path and
 * --exclude.
 *
 * --path PATH (repeatable) writes only PATH and what is under it, with
 * its ancestors; PATH is a name in the output, looked up without
 * following symlinks, and one that is not in the tree is an error.
 * --exclude PATTERN (repeatable) then leaves out every name that PATTERN
 * matches and everything under it. A pattern is matched against the
 * whole path from the root (anchored), component by component: '*', '?'
 * and '[...]' (fnmatch(3)) never cross a '/', and a component "**"
 * matches any number of components, none included. A leading '/' or
 * "./" and a trailing '/' are dropped. A pattern that matches nothing
 * the selection holds is named in a warning.
 *
 * Both only mark nodes (sel, anc, in, out); the emit asks
 * select_written of each child it meets.
 */
#ifndef TARFLAT_SELECT_H
#define TARFLAT_SELECT_H

#include <stddef.h>

#include "tree.h"

/*
 * select_paths: marks the N normalised PATHS and their ancestors (N 0:
 * everything). Call it before tree_drop_maps. Returns 0, or -1 naming the
 * first PATH not in the tree (in T's layers' err).
 */
int select_paths(struct tree *t, char *const *paths, size_t n);

/*
 * select_exclude: marks what the N PATTERNS match, among the names
 * select_paths left in, as left out; warns on standard error of each
 * pattern that matched nothing. After select_paths.
 */
void select_exclude(struct tree *t, char *const *patterns, size_t n);

/*
 * select_written: is C, a child of DIR, written: not hidden, not left
 * out, and with --path at or below one, or on the way to one? Sets what
 * C's own children ask of it. Inline: the emit asks it of every name,
 * twice.
 */
static inline int
select_written(const struct node *dir, struct node *c)
{
	if (c->hidden || c->out || !(dir->in || c->sel || c->anc))
		return 0;
	c->in = dir->in || c->sel;
	return 1;
}

/* The first written child of DIR from C on, or NULL. */
static inline struct node *
select_next(const struct tree *t, const struct node *dir, struct node *c)
{
	while (c && !select_written(dir, c))
		c = node_next(t, c);
	return c;
}

#endif
