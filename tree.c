/*
 * tree.c - the resolve: applying the layers to the tree, by the rules of
 * tarflat.1's LAYER SEMANTICS (see tree.h). Each rule's function names
 * its number: rule 1 (names) is path.c's, applied while indexing; rule 2
 * (parents) walk_dir and implicit_dir; rule 3 (whiteouts)
 * apply_whiteout and wipe; rule 4 (other entries) apply_entry and the
 * hardlinks that wait for a later target (pending_add, apply_pending);
 * rule 5 (overwrite breaks links) node_unlink; rule 6 (pax globals,
 * sparse files) is tar.c's.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hlmap.h"
#include "path.h"
#include "tree.h"

#define MAX_HOPS 40             /* symlinks followed in one lookup, as Linux */

enum kind { PLAIN, WHITEOUT, OPAQUE };

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum kind
classify(const char *base)
{
	if (strcmp(base, WH_OPQ) == 0)
		return OPAQUE;
	if (starts(base, WH_META))
		return PLAIN;   /* AUFS metadata: kept, hidden */
	if (starts(base, WH))
		return WHITEOUT;
	return PLAIN;
}

/* ---- nodes --------------------------------------------------------------- */

/* A new node, cleared. */
static struct node *
node_alloc(struct tree *t)
{
	if (t->nnodes == UINT32_MAX)
		die_oom();      /* input.c refuses 2^32 entries and more */
	if ((t->nnodes & (TREE_CHUNK_NODES - 1)) == 0) {
		struct node_chunk *c = xaligned_alloc(TREE_CHUNK_BYTES, TREE_CHUNK_BYTES);
		t->chunks = xrealloc(t->chunks, (t->nchunks + 1) * sizeof(*t->chunks));
		c->first = (uint64_t)t->nchunks << TREE_CHUNK_SHIFT;
		t->chunks[t->nchunks++] = c;
		if (!t->nnodes)
			t->nnodes = 1;
	}
	struct node *n = tree_node(t, t->nnodes++);
	memset(n, 0, sizeof(*n));
	return n;
}

struct key {
	const struct tree *t;
	uint32_t parent;
	const char *name;
	size_t len;
};

static int
node_match(const void *item, const void *k)
{
	const struct key *key = k;
	const struct node *n = tree_node(key->t, (uint32_t)(uintptr_t)item);

	return n->parent == key->parent && n->len == key->len &&
	       memcmp(n->name, key->name, key->len) == 0;
}

static uint64_t
node_hash(uint32_t parent, const char *name, size_t len)
{
	return hl_hash(name, len, parent);
}

static uint64_t
node_item_hash(const void *item, void *ctx)
{
	const struct node *n = tree_node(ctx, (uint32_t)(uintptr_t)item);

	return node_hash(n->parent, n->name, n->len);
}

static struct node *
child_get(const struct tree *t, const struct node *dir, const char *name, size_t len)
{
	struct key k = { t, node_idx(dir), name, len };

	return tree_node(t, (uint32_t)(uintptr_t)hl_get(t->map, node_hash(k.parent, name, len), &k));
}

/* Makes N, a name of LIKE's file, share its inode (made now if LIKE has
 * none yet). */
static void
share_inode(struct tree *t, struct node *n, struct node *like)
{
	tree_inode(t, like);
	n->src = like->src;
	n->ino = like->ino;
	node_ino(t, n)->nnames++;
}

/*
 * A new name NAME (LEN bytes) in DIR, made by entry E: for E's own file,
 * or, given LIKE, another name of LIKE's file (a hardlink). NAME is kept
 * as it is when it lasts as long as the tree (an entry's own name), when
 * KEEP; else it is copied.
 */
static struct node *
node_new(struct tree *t, struct node *dir, const char *name, size_t len, struct node *like,
	 const struct ent *e, int keep)
{
	struct node *n = node_alloc(t);
	char *s = keep ? NULL : pool_zalloc(&t->arena, len + 1);
	uint32_t self = node_idx(n);

	if (s)
		memcpy(s, name, len);
	n->name = s ? s : name;
	n->len = (uint32_t)len;
	n->parent = node_idx(dir);
	n->src = e;
	if (like)
		share_inode(t, n, like);
	n->dir = n->src->type == '5';
	n->key = n->wseq = e->seq;
	/* Lower layers are done: all it will ever hold comes from this one. */
	n->wiped = (uint16_t)(e->layer + 1);
	n->hidden = dir->hidden || starts(n->name, WH_META);
	n->next = dir->child;
	if (dir->child)
		tree_node(t, dir->child)->prev = self;
	dir->child = self;
	if (hl_add(t->map, node_hash(n->parent, name, len), (void *)(uintptr_t)self) < 0)
		die_oom();
	return n;
}

/* Takes the childless node N out of the tree. */
static void
unlink_one(struct tree *t, struct node *n)
{
	if (n->prev)
		tree_node(t, n->prev)->next = n->next;
	else
		node_parent(t, n)->child = n->next;
	if (n->next)
		tree_node(t, n->next)->prev = n->prev;
	struct key k = { t, n->parent, n->name, n->len };
	hl_del(t->map, node_hash(n->parent, n->name, n->len), &k);
	if (node_ino(t, n))
		node_ino(t, n)->nnames--;
}

/*
 * Removes TOP and, for a directory, everything under it, leaves first and
 * without recursion (a hostile layer nests directories deeper than any C
 * stack). Inodes that keep other names keep their content (rule 5).
 */
static void
node_unlink(struct tree *t, struct node *top)
{
	struct node *n = top;

	for (;;) {
		for (struct node *k; (k = node_kids(t, n));)
			n = k;
		struct node *up = node_parent(t, n);
		unlink_one(t, n);
		if (n == top)
			return;
		n = up;
	}
}

/* Marks N and its ancestors as made by layer L (umoci's upper paths). */
static void
mark_upper(struct tree *t, struct node *n, uint32_t layer)
{
	for (; n && n->upper != layer + 1; n = node_parent(t, n))
		n->upper = (uint16_t)(layer + 1);
}

/* ---- rule 2: parents ------------------------------------------------------- */

/*
 * A directory that no entry describes, made in DIR for entry E: 0755, 0:0,
 * E's mtime. Inside a setgid directory it is setgid too and takes that
 * directory's group, as mkdir(2) makes it on Linux (and so umoci).
 */
static struct node *
implicit_dir(struct tree *t, struct node *dir, const char *name, size_t len,
	     const struct ent *e)
{
	struct layer *ly = t->L->v[e->layer];
	struct ent *d = pool_zalloc(&t->arena, sizeof(*d));
	const struct ent *up = dir->src;
	struct attrs a = { 0, 0, "", "", NULL, 0, 0 };

	d->type = '5';
	d->mode = 0755;
	ent_set_mtime(ly, d, ent_mtime(t->L, e));
	if (up->mode & 02000) {
		d->mode |= 02000;
		a.gid = ent_attrs(t->L, up)->gid;
		a.gname = ent_attrs(t->L, up)->gname;
	}
	d->seq = e->seq;
	d->layer = e->layer;
	d->attrs = layer_attrs_intern(ly, &a);
	struct node *n = node_new(t, dir, name, len, NULL, d, 0);
	mark_upper(t, n, e->layer);
	return n;
}

/* Components of a path that do not lead to an existing directory yet. */
struct pending_dirs {
	struct {
		const char *c;
		size_t len;
	} *v;
	size_t n, cap;
};

static void
pend_push(struct pending_dirs *pd, const char *c, size_t len)
{
	if (pd->n == pd->cap) {
		pd->cap = pd->cap ? pd->cap * 2 : 8;
		pd->v = xrealloc(pd->v, pd->cap * sizeof(*pd->v));
	}
	pd->v[pd->n].c = c;
	pd->v[pd->n++].len = len;
}

/* Symlink N's target, then the REST bytes at P: the path a walk goes on
 * with (malloc'd), its length in *LEN. */
static char *
follow(const struct tree *t, const struct node *n, const char *p, size_t rest, size_t *len)
{
	const char *target = ent_link(t->L, n->src);
	size_t tlen = strlen(target);
	char *nb = xmalloc(tlen + 1 + rest);

	memcpy(nb, target, tlen);
	nb[tlen] = '/';
	memcpy(nb + tlen + 1, p, rest);
	*len = tlen + 1 + rest;
	return nb;
}

/* Creates what PD holds, in DIR, for entry E (walk_dir's MAKE); the
 * directory reached, or NULL on error. */
static struct node *
make_pending(struct tree *t, struct node *dir, const struct pending_dirs *pd,
	     const struct ent *e)
{
	if (pd->n && child_get(t, dir, pd->v[0].c, pd->v[0].len)) {
		layer_fail(t->L, e, "%.200s: a parent is not a directory",
			   ent_path(t->L, e, &t->path_buf));
		return NULL;
	}
	for (size_t k = 0; k < pd->n; k++) {
		if (starts(pd->v[k].c, WH) && !starts(pd->v[k].c, WH_META)) {
			/* reached through a symlink: see layer.c's whiteout_dir */
			layer_fail(t->L, e, "%.200s: a whiteout name used as a directory",
				   ent_path(t->L, e, &t->path_buf));
			return NULL;
		}
		dir = implicit_dir(t, dir, pd->v[k].c, pd->v[k].len, e);
	}
	return dir;
}

/* The error for a path past PATH_MAX, for entry E, whose place in the
 * tree would need a name of LEN bytes or more. */
static int
too_long(struct tree *t, const struct ent *e, size_t len)
{
	return layer_fail(t->L, e, "%.200s: a name of %zu bytes or more in the tree, past "
			  "PATH_MAX (%d), which no system can create",
			  ent_path(t->L, e, &t->path_buf), len, PATH_MAX);
}

/* Where a walk stands: the directory reached, the length of its path, and
 * the components after it that lead to no directory yet. */
struct place {
	struct node *dir;
	size_t dlen;
	struct pending_dirs pd;
};

/* '..': back over a pending component, else up (clamped at the root). */
static void
go_up(const struct tree *t, struct place *w)
{
	if (w->pd.n) {
		w->pd.n--;
	} else if (w->dir->parent) {
		w->dlen = w->dlen > w->dir->len ? w->dlen - w->dir->len - 1 : 0;
		w->dir = node_parent(t, w->dir);
	}
}

/* Component C (CLEN bytes), which is node N of W's directory or none:
 * into it when it is a directory, else pending. */
static void
go_down(struct place *w, struct node *n, const char *c, size_t clen)
{
	if (!n || !n->dir) {
		pend_push(&w->pd, c, clen);
		return;
	}
	w->dir = n;
	w->dlen += (w->dlen > 0) + clen;
}

/* The end of a walk: what is pending made for MAKE (within PATH_MAX), or
 * a lookup that found nothing. */
static int
walk_end(struct tree *t, struct place *w, const struct ent *e, int make, struct node **out,
	 size_t *outlen)
{
	if (w->pd.n && !make)
		return 0;
	for (size_t k = 0; k < w->pd.n; k++)
		w->dlen += (w->dlen > 0) + w->pd.v[k].len;
	*outlen = w->dlen;
	if (w->dlen >= PATH_MAX)
		return too_long(t, e, w->dlen);
	return (*out = make_pending(t, w->dir, &w->pd, e)) ? 0 : -1;
}

/*
 * walk_dir (rule 2): follows the directory path P (LEN bytes) from the
 * root, symlinks in every component followed (absolute targets from the
 * root, '..' clamped at the root, at most MAX_HOPS). As umoci's path
 * resolution does, a component that is missing or not a directory is kept
 * pending, and so is everything after it, until a '..' takes it back:
 * "gone/../etc" is etc, creating nothing. What is still pending at the end
 * is made for MAKE, the entry being applied: missing directories are
 * created, a non-directory is an error. Without MAKE it is a lookup: *OUT
 * is NULL when something is pending. *OUTLEN is the length of *OUT's path
 * in the tree: no directory is made at PATH_MAX bytes or more (tarflat.1
 * LIMITS), so none is ever found there. E names the entry for messages.
 * Returns 0 or -1.
 */
static int
walk_dir(struct tree *t, const char *p, size_t len, const struct ent *e, int make,
	 struct node **out, size_t *outlen)
{
	struct place w = { t->root, 0, { NULL, 0, 0 } };
	char *buf = NULL;
	size_t i = 0, clen;
	const char *c;
	int hops = 0, rc = 0;

	*out = NULL;
	while (rc == 0 && path_next(p, len, &i, &c, &clen)) {
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			go_up(t, &w);
			continue;
		}
		struct node *n = w.pd.n ? NULL : child_get(t, w.dir, c, clen);
		if (!n || n->src->type != '2') {
			go_down(&w, n, c, clen);
		} else if (++hops > MAX_HOPS) {
			rc = layer_fail(t->L, e, "%.200s: too many levels of symbolic links",
					ent_path(t->L, e, &t->path_buf));
		} else {
			/* on with the target followed by what is left; nothing is
			 * pending, so no name points into the old buffer */
			char *nb = follow(t, n, p + i, len - i, &len);
			if (ent_link(t->L, n->src)[0] == '/') {
				w.dir = t->root;
				w.dlen = 0;
			}
			free(buf);
			p = buf = nb;
			i = 0;
		}
	}
	if (rc == 0)
		rc = walk_end(t, &w, e, make, out, outlen);
	free(w.pd.v);
	free(buf);
	return rc;
}

/*
 * lookup: the node PATH names now, its last component not followed, or
 * NULL. Returns -1 only on a symlink loop.
 */
static int
lookup(struct tree *t, const char *path, const struct ent *e, struct node **out)
{
	size_t dlen, plen;
	const char *b = path_split(path, &dlen);
	struct node *dir;

	*out = NULL;
	if (walk_dir(t, path, dlen, e, 0, &dir, &plen) < 0)
		return -1;
	if (dir)
		*out = child_get(t, dir, b, strlen(b));
	return 0;
}

/* ---- rule 4: other entries ---------------------------------------------- */

/*
 * The name of the file hardlink E names now, in *TARGET. Returns 1, 0 when
 * the target does not exist (yet), -1 on a loop or when it is a directory.
 */
static int
link_target(struct tree *t, const struct ent *e, struct node **out)
{
	struct node *target;

	if (lookup(t, ent_link(t->L, e), e, &target) < 0)
		return -1;
	if (!target)
		return 0;
	if (target->dir)
		return layer_fail(t->L, e, "%.200s: hardlink to a directory: %.200s",
				  ent_path(t->L, e, &t->path_buf), ent_link(t->L, e));
	*out = target;
	return 1;
}

/* An entry of a type tarflat does not know is a regular file: warn once. */
static void
check_type(struct tree *t, const struct ent *e)
{
	if (strchr("0234567", e->type) || !e->type || t->warned_type++)
		return;
	warn(t->L->v[e->layer]->name, ent_hdr_off(t->L, e),
	     "%s: unknown type '%c', taken as a regular file",
	     ent_path(t->L, e, &t->path_buf), e->type);
}

/*
 * apply_entry (rule 4): one non-whiteout entry. Returns 1 when applied, 0
 * for a hardlink whose target does not exist yet, -1 on error. LATE is
 * set for a hardlink bound after later entries of its layer were
 * applied: if one of them wrote the link's own path, that one stands (the
 * later entry wins) and the link is dropped.
 */
static int
apply_entry(struct tree *t, const struct ent *e, int late)
{
	const char *b = ent_base(t->L, e);
	struct node *dir, *old, *n, *target = NULL;
	size_t dlen, blen = strlen(b), plen;
	const char *dpath = ent_dir(t->L, e, &t->dir_buf, &dlen);

	if (walk_dir(t, dpath, dlen, e, 1, &dir, &plen) < 0)
		return -1;
	if (plen + 1 + blen >= PATH_MAX)
		return too_long(t, e, plen + 1 + blen);
	old = child_get(t, dir, b, blen);
	if (late && old && old->wseq > e->seq)
		/* a later entry of the layer wrote this name and stands; the
		 * link is dropped, if its target ever existed at all */
		return link_target(t, e, &target);
	if (old && e->type == '5' && old->dir) {
		old->src = e;           /* directory over directory: merge */
		old->wseq = e->seq;
		mark_upper(t, old, e->layer);
		return 1;
	}
	/*
	 * The old name goes first (rule 5), and only then is a hardlink's
	 * target looked up, as umoci does: a link to its own name, or through
	 * it, finds nothing there any more.
	 */
	if (old)
		node_unlink(t, old);
	if (e->type == '1') {
		int r = link_target(t, e, &target);
		if (r <= 0)
			return r;
	} else {
		check_type(t, e);
	}
	n = node_new(t, dir, b, strlen(b), target, e, 1);
	mark_upper(t, n, e->layer);
	return 1;
}

/* Hardlinks of one layer waiting for a target that appears later in it,
 * grouped by the (normalised) target path; in the arena. */
struct waiter {
	const struct ent *link;
	struct waiter *next;
};

struct pending {
	const char *target;
	struct waiter *first, **tail;   /* in input order */
};

static int
pending_match(const void *item, const void *key)
{
	return strcmp(((const struct pending *)item)->target, key) == 0;
}

static uint64_t
path_hash(const char *path)
{
	return hl_hash(path, strlen(path), 0);
}

static uint64_t
pending_hash(const void *item, void *ctx)
{
	(void)ctx;
	return path_hash(((const struct pending *)item)->target);
}

/* Queues hardlink E until its target appears (rule 4: a target later in
 * the same layer is accepted). */
static void
pending_add(struct tree *t, const struct ent *e)
{
	const char *target = ent_link(t->L, e);
	uint64_t h = path_hash(target);
	struct pending *p = hl_get(t->waiting, h, target);
	struct waiter *w = pool_zalloc(&t->arena, sizeof(*w));

	if (!p) {
		p = pool_zalloc(&t->arena, sizeof(*p));
		p->target = target;
		p->tail = &p->first;
		if (hl_add(t->waiting, h, p) < 0)
			die_oom();
	}
	w->link = e;
	*p->tail = w;
	p->tail = &w->next;
}

/* Applies the hardlinks that wait for PATH, just created, and in turn those
 * that wait for them. Each waiting link is taken out of WAITING once. */
static int
apply_pending(struct tree *t, const char *path)
{
	struct pending *p = hl_del(t->waiting, path_hash(path), path);

	for (struct waiter *w = p ? p->first : NULL; w; w = w->next) {
		int r = apply_entry(t, w->link, 1);
		if (r == 0)
			pending_add(t, w->link);        /* a loop of links */
		else if (r < 0 || apply_pending(t, ent_path(t->L, w->link, &t->path_buf)) < 0)
			return -1;
	}
	return 0;
}

/*
 * What still waits at the end of layer LY names its target another way
 * (through a symlink, say): try once more, in input order; what then
 * fails is dangling.
 */
static int
apply_late_links(struct tree *t, const struct layer *ly)
{
	for (size_t i = 0; hl_count(t->waiting) && i < ly->nents; i++) {
		const struct ent *e = &ly->ents[i];
		const char *target = ent_link(t->L, e);
		struct pending *p;
		if (e->type != '1' || !(p = hl_get(t->waiting, path_hash(target), target)))
			continue;
		hl_del(t->waiting, path_hash(p->target), p->target);
		for (struct waiter *w = p->first; w; w = w->next) {
			int r = apply_entry(t, w->link, 1);
			if (r == 0)
				layer_fail(t->L, w->link, "%.200s: hardlink target not found: %.200s",
					   ent_path(t->L, w->link, &t->path_buf),
					   ent_link(t->L, w->link));
			if (r <= 0)
				return -1;
		}
	}
	return 0;
}

/* ---- rule 3: whiteouts ---------------------------------------------------- */

/*
 * Removes TOP unless this layer made or passed through it; of such a
 * directory, removes the children the layer did not touch (umoci's rule).
 */
static void
wipe(struct tree *t, struct node *top, uint32_t layer)
{
	struct node **stack = xmalloc(64 * sizeof(*stack));
	size_t n = 0, cap = 64;

	stack[n++] = top;
	while (n) {
		struct node *x = stack[--n];
		if (x->upper != layer + 1) {
			node_unlink(t, x);
			continue;
		}
		if (x->wiped == layer + 1)
			continue;
		x->wiped = (uint16_t)(layer + 1);
		for (struct node *c = node_kids(t, x); c; c = node_next(t, c)) {
			if (n == cap)
				stack = xrealloc(stack, (cap *= 2) * sizeof(*stack));
			stack[n++] = c;
		}
	}
	free(stack);
}

/*
 * apply_whiteout (rule 3): carries out whiteout E of layer L where it
 * stands in its layer, as umoci does. The name is looked up in the tree
 * as it is now, so a marker written inside a directory that just replaced
 * a symlink is about that directory; what it removes is gone for every
 * later entry of the layer; what the layer wrote or passed through before
 * it is spared (wipe). A whiteout never creates anything: a name that
 * does not exist is a no-op. Returns 0, or -1 on an invalid whiteout or a
 * loop.
 */
static int
apply_whiteout(struct tree *t, const struct ent *e, enum kind k, uint32_t l)
{
	const char *name = ent_base(t->L, e) + strlen(WH);
	struct node *dir, *x;
	size_t dlen;

	if (k == WHITEOUT && (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return layer_fail(t->L, e, "%.200s: invalid whiteout",
				  ent_path(t->L, e, &t->path_buf));
	const char *dpath = ent_dir(t->L, e, &t->dir_buf, &dlen);
	if (walk_dir(t, dpath, dlen, e, 0, &dir, &dlen) < 0)
		return -1;
	if (!dir)
		return 0;
	if (k == WHITEOUT) {
		if ((x = child_get(t, dir, name, strlen(name))))
			wipe(t, x, l);
		return 0;
	}
	if (dir->wiped == l + 1)
		return 0;       /* it holds nothing from below any more */
	for (struct node *c = node_kids(t, dir), *next; c; c = next) {
		next = node_next(t, c);
		wipe(t, c, l);
	}
	dir->wiped = (uint16_t)(l + 1);
	return 0;
}

/* ---- a layer ---------------------------------------------------------------- */

static int
apply_layer(struct tree *t, const struct layer *ly, uint32_t l)
{
	for (size_t i = 0; i < ly->nents; i++) {
		const struct ent *e = &ly->ents[i];
		const char *base = ent_base(t->L, e);
		enum kind k = classify(base);
		if (!*base) {
			/* the root itself ("./"): never written out, but a
			 * directory's metadata is kept: a setgid root makes
			 * setgid implicit parents */
			if (e->type == '5')
				t->root->src = e;
			continue;
		}
		if (k != PLAIN) {
			if (apply_whiteout(t, e, k, l) < 0)
				return -1;
			continue;
		}
		int r = apply_entry(t, e, 0);
		if (r < 0)
			return -1;
		if (r == 0)
			pending_add(t, e);
		else if (hl_count(t->waiting) &&
			 apply_pending(t, ent_path(t->L, e, &t->path_buf)) < 0)
			return -1;
	}
	return apply_late_links(t, ly);
}

void
tree_init(struct tree *t, struct layers *L)
{
	memset(t, 0, sizeof(*t));
	t->L = L;
	t->map = hl_new32(node_match, node_item_hash, t);
	t->waiting = hl_new(pending_match, pending_hash, NULL);
	if (!t->map || !t->waiting)
		die_oom();
	struct ent *r = pool_zalloc(&t->arena, sizeof(*r));
	r->type = '5';
	t->root = node_alloc(t);
	t->root->src = r;
	t->root->dir = 1;
}

int
tree_build_upto(struct tree *t, struct layers *L, size_t n)
{
	tree_init(t, L);
	for (size_t i = 0; i < n && i < L->n; i++)
		if (apply_layer(t, L->v[i], (uint32_t)i) < 0)
			return -1;
	return 0;
}

int
tree_build(struct tree *t, struct layers *L)
{
	return tree_build_upto(t, L, L->n);
}

struct node *
tree_child(const struct tree *t, const struct node *dir, const char *name, size_t len)
{
	return child_get(t, dir, name, len);
}

struct node *
tree_add(struct tree *t, struct node *dir, const char *name, size_t len, const struct ent *src,
	 struct node *like, uint32_t key)
{
	struct node *n = node_new(t, dir, name, len, like, src, 0);

	n->key = n->wseq = key;
	return n;
}

struct inode *
tree_inode(struct tree *t, struct node *n)
{
	if (!n->ino) {
		t->inodes = room_for(t->inodes, t->ninodes, sizeof(*t->inodes));
		t->inodes[t->ninodes] = pool_zalloc(&t->arena, sizeof(**t->inodes));
		t->inodes[t->ninodes]->nnames = 1;
		n->ino = (uint32_t)++t->ninodes;
	}
	return node_ino(t, n);
}

struct node *
tree_find(const struct tree *t, const char *path)
{
	struct node *n = t->root;
	size_t at = 0, clen, len = strlen(path);
	const char *c;

	while (n && path_next(path, len, &at, &c, &clen))
		n = child_get(t, n, c, clen);
	return n;
}

void
tree_drop_maps(struct tree *t)
{
	hl_free(t->map);
	hl_free(t->waiting);
	t->map = t->waiting = NULL;
}

void
tree_free(struct tree *t)
{
	tree_drop_maps(t);
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->inodes);
	pool_free(&t->arena);
	free(t->dir_buf.p);
	free(t->path_buf.p);
	memset(t, 0, sizeof(*t));
}
