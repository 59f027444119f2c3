/*
 * changeset.c - the layer from the tree of the layers kept to the final
 * tree (see changeset.h).
 *
 * Two walks of FINAL, BASE's directory of the same name beside each of
 * its directories. The first notes, for each file with several names,
 * one of its names that BASE has as it is (its lower name); the second
 * builds the changeset: what is new or changed, whiteouts and opaque
 * markers as each directory is left. A directory of FINAL is put in the
 * changeset only when something under it is, or it changed itself.
 */
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "mem.h"
#include "path.h"

/* A directory of FINAL being walked, with BASE's of the same name (or
 * NULL) and its node in the changeset (or NULL: none yet). */
struct frame {
	struct node *f, *b, *c;
	size_t plen;            /* the length of its path */
};

struct cs {
	struct tree *c, *b, *f;
	int build;              /* the second walk */
	const char **lower;     /* by FINAL's inode: a name BASE has as it is */
	struct node **first;    /* by FINAL's inode: its first name in C */
	struct frame *st;       /* the walk's directories, by depth */
	size_t cap;
	char *path;             /* the path of the name being looked at */
	size_t pcap;
};

/* Do entries A and B (directories) give the same metadata? */
static int
same_meta(const struct layers *L, const struct ent *a, const struct ent *b)
{
	if (a == b)
		return 1;
	const struct attrs *x = ent_attrs(L, a), *y = ent_attrs(L, b);
	const struct extra *xa = ent_x(L, a), *xb = ent_x(L, b);
	size_t pa = xa && xa->pax ? xa->paxlen : 0, pb = xb && xb->pax ? xb->paxlen : 0;

	return a->type == b->type && a->mode == b->mode && ent_mtime(L, a) == ent_mtime(L, b) &&
	       x->uid == y->uid && x->gid == y->gid && strcmp(x->uname, y->uname) == 0 &&
	       strcmp(x->gname, y->gname) == 0 && x->gpaxlen == y->gpaxlen &&
	       (!x->gpaxlen || memcmp(x->gpax, y->gpax, x->gpaxlen) == 0) && pa == pb &&
	       (!pa || memcmp(xa->pax, xb->pax, pa) == 0);
}

/* Is F's non-directory N as BASE has it (the same entry: the same bytes
 * and metadata)? */
static int
unchanged(const struct node *n, const struct node *b)
{
	return b && !b->hidden && !b->dir && !n->dir && b->src == n->src;
}

/* The changeset's node of the directory at DEPTH, made (with those above
 * it) if need be. */
static struct node *
ensure(struct cs *cs, size_t depth)
{
	struct frame *fr = &cs->st[depth];

	if (!fr->c) {
		struct node *up = ensure(cs, depth - 1);
		fr->c = tree_add(cs->c, up, fr->f->name, fr->f->len, fr->f->src, NULL, fr->f->key);
	}
	return fr->c;
}

/* FINAL's non-directory N into the changeset, in directory UP. */
static void
add_file(struct cs *cs, struct node *up, struct node *n)
{
	uint32_t i = n->ino;

	if (i && cs->first[i - 1]) {
		tree_add(cs->c, up, n->name, n->len, n->src, cs->first[i - 1], n->key);
		return;
	}
	struct node *c = tree_add(cs->c, up, n->name, n->len, n->src, NULL, n->key);
	if (i) {
		cs->first[i - 1] = c;
		if (cs->lower[i - 1])
			tree_inode(cs->c, c)->lower = cs->lower[i - 1];
	}
}

/* FINAL's N and all under it into the changeset, in directory UP. */
static void
add_subtree(struct cs *cs, struct node *up, struct node *top)
{
	struct node *n = top, *c;

	if (!n->dir) {
		add_file(cs, up, n);
		return;
	}
	c = tree_add(cs->c, up, n->name, n->len, n->src, NULL, n->key);
	/* down the first children, then on to the next sibling, up again */
	struct node *k = node_kids(cs->f, n);
	while (n != top || k) {
		if (!k) {
			k = node_next(cs->f, n);
			n = node_parent(cs->f, n);
			c = tree_node(cs->c, c->parent);
			continue;
		}
		if (k->hidden) {
			k = node_next(cs->f, k);
		} else if (k->dir) {
			c = tree_add(cs->c, c, k->name, k->len, k->src, NULL, k->key);
			n = k;
			k = node_kids(cs->f, k);
		} else {
			add_file(cs, c, k);
			k = node_next(cs->f, k);
		}
	}
}

/* A whiteout (".wh." NAME) or, NAME NULL, the opaque marker, in the
 * directory at DEPTH. Its entry is made here: an empty file, 0:0, mode
 * 0, the directory's mtime. */
static void
add_whiteout(struct cs *cs, size_t depth, const struct node *gone)
{
	struct frame *fr = &cs->st[depth];
	struct layers *L = cs->f->L;
	struct layer *ly = L->v[fr->f->src->layer];
	struct ent *e = pool_zalloc(&cs->c->arena, sizeof(*e));
	struct attrs a = { 0, 0, "", "", NULL, 0, 0 };
	size_t len = gone ? strlen(WH) + gone->len : strlen(WH_OPQ);
	char *name = pool_alloc(&cs->c->arena, len + 1, 1);

	if (gone) {
		memcpy(name, WH, strlen(WH));
		memcpy(name + strlen(WH), gone->name, gone->len);
	} else {
		memcpy(name, WH_OPQ, len);
	}
	name[len] = '\0';
	e->type = '0';
	e->layer = fr->f->src->layer;
	e->attrs = layer_attrs_intern(ly, &a);
	ent_set_mtime(ly, e, ent_mtime(L, fr->f->src));
	struct node *n = tree_add(cs->c, ensure(cs, depth), name, len, e, NULL, 0);
	n->hidden = 0;          /* the marker's name is AUFS-like: it is written */
}

/*
 * Leaving the directory at DEPTH: what BASE has there that FINAL lacks
 * goes, by a whiteout each or, when nothing of BASE's is left there as
 * it was (no directory kept, no file unchanged), by the opaque marker.
 */
static void
leave_dir(struct cs *cs, size_t depth)
{
	struct frame *fr = &cs->st[depth];
	size_t gone = 0, kept = 0;

	if (!cs->build || !fr->b)
		return;
	for (struct node *b = node_kids(cs->b, fr->b); b; b = node_next(cs->b, b)) {
		if (b->hidden)
			continue;
		struct node *f = tree_child(cs->f, fr->f, b->name, b->len);
		if (!f || f->hidden)
			gone++;
		else if ((f->dir && b->dir) || unchanged(f, b))
			kept++;
	}
	if (gone && !kept) {
		add_whiteout(cs, depth, NULL);
		return;
	}
	for (struct node *b = node_kids(cs->b, fr->b); gone && b; b = node_next(cs->b, b)) {
		struct node *f = b->hidden ? NULL : tree_child(cs->f, fr->f, b->name, b->len);
		if (!b->hidden && (!f || f->hidden))
			add_whiteout(cs, depth, b);
	}
}

/* The path of N, a child of the directory at DEPTH, in cs->path. */
static void
path_of(struct cs *cs, size_t depth, const struct node *n)
{
	size_t plen = cs->st[depth].plen, len = plen + (plen > 0) + n->len;

	if (len + 1 > cs->pcap)
		cs->path = xrealloc(cs->path, cs->pcap = (len + 1) * 2);
	if (plen)
		cs->path[plen] = '/';
	memcpy(cs->path + plen + (plen > 0), n->name, n->len);
	cs->path[len] = '\0';
}

/* FINAL's N, a child of the directory at DEPTH: 1 when it is a directory
 * to go into (both trees have it), else 0. */
static int
visit(struct cs *cs, size_t depth, struct node *n)
{
	struct frame *fr = &cs->st[depth];
	struct node *b = fr->b ? tree_child(cs->b, fr->b, n->name, n->len) : NULL;

	if (b && b->hidden)
		b = NULL;
	if (n->dir && b && b->dir) {
		if (depth + 2 > cs->cap)
			cs->st = xrealloc(cs->st, (cs->cap = (depth + 2) * 2) * sizeof(*cs->st));
		path_of(cs, depth, n);
		cs->st[depth + 1] = (struct frame){ n, b, NULL, strlen(cs->path) };
		if (cs->build && !same_meta(cs->f->L, n->src, b->src))
			ensure(cs, depth + 1);
		return 1;
	}
	if (unchanged(n, b)) {
		if (!cs->build && n->ino && !cs->lower[n->ino - 1]) {
			path_of(cs, depth, n);
			cs->lower[n->ino - 1] = pool_str(&cs->c->arena, cs->path, strlen(cs->path));
		}
		return 0;
	}
	if (cs->build)
		add_subtree(cs, ensure(cs, depth), n);
	return 0;
}

/* One walk of FINAL (and BASE beside it). */
static void
walk(struct cs *cs)
{
	struct node *n = node_kids(cs->f, cs->f->root);
	size_t depth = 0;

	cs->st[0] = (struct frame){ cs->f->root, cs->b->root, cs->c->root, 0 };
	for (;;) {
		if (!n) {
			leave_dir(cs, depth);
			if (depth == 0)
				return;
			n = node_next(cs->f, cs->st[depth].f);
			depth--;
			continue;
		}
		if (!n->hidden && visit(cs, depth, n)) {
			depth++;
			n = node_kids(cs->f, n);
			continue;
		}
		n = node_next(cs->f, n);
	}
}

void
changeset_build(struct tree *c, struct tree *base, struct tree *final)
{
	struct cs cs = { c, base, final, 0, NULL, NULL, NULL, 16, NULL, 0 };
	size_t n = final->ninodes ? final->ninodes : 1;

	tree_init(c, final->L);
	c->root->in = 1;
	cs.lower = xmalloc(n * sizeof(*cs.lower));
	cs.first = xmalloc(n * sizeof(*cs.first));
	memset(cs.lower, 0, n * sizeof(*cs.lower));
	memset(cs.first, 0, n * sizeof(*cs.first));
	cs.st = xmalloc(cs.cap * sizeof(*cs.st));
	walk(&cs);
	cs.build = 1;
	walk(&cs);
	free(cs.lower);
	free(cs.first);
	free(cs.st);
	free(cs.path);
}
