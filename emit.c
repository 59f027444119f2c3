/*
 * emit.c - the final tree written through an output (see emit.h).
 *
 * Two walks of the tree, in the same order: the first (choose_carriers)
 * sorts each directory's children and picks the carriers, the second
 * (emit_tree) writes. With gzip content to inflate ahead, emit_tree runs
 * once more before writing, to list that content for the workers. The
 * walks are iterative, going back up by the parent links: the tree can be
 * deeper than the C stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead.h"
#include "emit.h"
#include "path.h"

#define PIPE_BYTES (1 << 20)    /* the output pipe's size, when it is one */
#define DIRECT_MIN (64 * 1024)  /* content bytes worth a splice of their own */

/* ---- selection ------------------------------------------------------------- */

int
emit_select(struct tree *t, char *const *paths, size_t n)
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

/* Is C, a child of DIR, written (not hidden; with --path, at or below one
 * or on the way to one)? Sets what C's own children ask of it. */
static int
written(const struct node *dir, struct node *c)
{
	if (c->hidden || !(dir->in || c->sel || c->anc))
		return 0;
	c->in = dir->in || c->sel;
	return 1;
}

/* The first written name of DIR's from C on, or NULL. */
static struct node *
next_written(const struct tree *t, const struct node *dir, struct node *c)
{
	while (c && !written(dir, c))
		c = node_next(t, c);
	return c;
}

/* ---- order ----------------------------------------------------------------- */

/* The output order of two names in one directory. */
static int
kid_cmp(const struct node *x, const struct node *y)
{
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Takes one node from the run at *P (of *NP left) or *Q (*NQ): the
 * earlier one; appends it at *TAIL. */
static uint32_t *
merge_step(const struct tree *t, struct node **p, size_t *np, struct node **q, size_t *nq,
	   uint32_t *tail)
{
	struct node *take;

	if (*np && (!*nq || !*q || kid_cmp(*p, *q) <= 0)) {
		take = *p;
		*p = node_next(t, *p);
		(*np)--;
	} else {
		take = *q;
		*q = node_next(t, *q);
		(*nq)--;
	}
	*tail = node_idx(take);
	return &take->next;
}

/*
 * Sorts DIR's list of children into output order: a merge sort of the
 * list itself, bottom up (runs of 1, 2, 4, ... merged in turn), so that
 * sorting costs no memory and no recursion.
 */
static void
sort_kids(const struct tree *t, struct node *dir)
{
	struct node *list = node_kids(t, dir);

	for (size_t run = 1; list; run *= 2) {
		uint32_t head = 0, *tail = &head;
		struct node *p = list;
		size_t merges = 0;
		while (p) {
			struct node *q = p;
			size_t np = 0, nq = run;
			merges++;
			while (np < run && q) {
				np++;
				q = node_next(t, q);
			}
			while (np || (nq && q))
				tail = merge_step(t, &p, &np, &q, &nq, tail);
			p = q;
		}
		*tail = 0;
		list = tree_node(t, head);
		if (merges <= 1)
			break;
	}
	dir->child = node_idx(list);
	for (struct node *c = list, *prev = NULL; c; prev = c, c = node_next(t, c))
		c->prev = node_idx(prev);
	dir->resort = 0;
}

/*
 * First walk: the carrier of each file with several names is the first of
 * them in output order. It then takes the place of the entry that supplied
 * the bytes, if that came earlier (the output order of tarflat.1,
 * DESCRIPTION); it only moves forward within its own directory, so no
 * other carrier changes.
 */
static void
choose_carriers(const struct tree *t)
{
	struct node *dir = t->root, *n;

	sort_kids(t, dir);
	n = next_written(t, dir, node_kids(t, dir));
	while (dir) {
		if (!n) {
			/* DIR is done: on with what follows it in its parent */
			n = dir->parent ? next_written(t, node_parent(t, dir), node_next(t, dir))
					: NULL;
			dir = node_parent(t, dir);
			continue;
		}
		if (n->dir) {
			sort_kids(t, n);
			dir = n;
			n = next_written(t, dir, node_kids(t, dir));
			continue;
		}
		struct inode *ino = node_ino(t, n);
		if (!ino || !ino->carrier) {
			if (ino)
				ino->carrier = n;
			if (n->src->seq < n->key) {
				n->key = n->src->seq;
				dir->resort = 1;
			}
		}
		n = next_written(t, dir, node_next(t, n));
	}
}

/* ---- content --------------------------------------------------------------- */

enum direct { DIRECT_NONE, DIRECT_SPLICE, DIRECT_COPY_RANGE };

struct emitter {
	struct tree *t;
	struct layers *L;
	struct output *out;
	const struct emit_opts *o;
	char *path;
	size_t cap;
	enum direct direct;     /* how a plain layer's content may go out */
	struct ahead *ahead;    /* gzip content inflated on worker threads */
	int planning;           /* this walk lists content for AHEAD only */
};

static int
fail_out(struct emitter *em)
{
	return layer_fail_sys(em->L, NULL, em->o->out_name);
}

/* Is SRC's content one that the workers inflate ahead of the writer? */
static int
use_ahead(const struct emitter *em, const struct ent *src)
{
	return em->ahead && tar_in_is_gzip(em->L->v[src->layer]->in) &&
	       !ent_sparse(em->L, src) && src->size > 0;
}

/* Writes SRC's content as the workers inflated it. */
static int
copy_ahead(struct emitter *em, const struct ent *src)
{
	struct tar_err te = { 0, "" };
	uint32_t l;

	for (uint64_t pos = 0; pos < src->size;) {
		size_t n;
		const void *p = ahead_next(em->ahead, src->layer, src->data_off + pos,
					   src->size - pos, &n, &te, &l);
		if (!p)
			return layer_fail_tar(em->L->v[l], &te);
		if (tar_write_data(em->out->sink, p, n) < 0)
			return fail_out(em);
		pos += n;
	}
	return 0;
}

/*
 * copy_direct: a plain layer's content goes to the output without passing
 * through user space where the kernel can do it: splice(2) into a pipe,
 * copy_file_range(2) into a regular file (headers and padding still go
 * through the buffer, flushed first, so the order stays). Returns 1 when
 * done, 0 when the kernel will not (the caller copies; nothing was
 * written), -1 on error.
 */
static int
copy_direct(struct emitter *em, const struct layer *ly, const struct ent *src)
{
	struct tar_out *sink = em->out->sink;
	uint64_t done = 0, size = src->size;
	loff_t off = (loff_t)(ly->off + src->data_off);

	/* small files go through the buffer: a splice each would cost more
	 * in system calls than the copy */
	if (em->direct == DIRECT_NONE || tar_in_is_gzip(ly->in) || ent_sparse(em->L, src) ||
	    size < DIRECT_MIN)
		return 0;
	if (tar_out_flush(sink) < 0)
		return fail_out(em);
	while (done < size) {
		size_t n = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
		ssize_t r = em->direct == DIRECT_SPLICE
			? splice(ly->fd, &off, sink->fd, NULL, n, SPLICE_F_MORE)
			: copy_file_range(ly->fd, &off, sink->fd, NULL, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS || errno == EXDEV ||
					   errno == EOPNOTSUPP || errno == EBADF)) {
			em->direct = DIRECT_NONE;       /* not for this pair of files */
			return 0;
		}
		if (r < 0)
			return fail_out(em);
		if (r == 0)
			return layer_fail(em->L, src, "input changed since it was indexed");
		done += (uint64_t)r;
		sink->written += (uint64_t)r;
	}
	return 1;
}

/* Writes the content of SRC, whose tar_entry (ent_tar) is T. */
static int
copy_content(struct emitter *em, const struct ent *src, const struct tar_entry *t)
{
	struct layer *ly = em->L->v[src->layer];
	struct tar_err te = { 0, "" };
	uint64_t pos = 0, size = src->size;

	if (use_ahead(em, src))
		return copy_ahead(em, src);
	int r = copy_direct(em, ly, src);

	if (r < 0)
		return -1;
	if (r > 0)
		pos = size;
	while (pos < size) {
		/* read straight into the output's buffer */
		size_t n;
		unsigned char *p = tar_out_room(em->out->sink, size - pos < SIZE_MAX
						? (size_t)(size - pos) : SIZE_MAX, &n);
		if (!p)
			return fail_out(em);
		if (tar_read_content(ly->in, t, pos, p, n, &te) < 0)
			return layer_fail_tar(ly, &te);
		tar_out_commit(em->out->sink, n);
		pos += n;
	}
	return 0;
}

/* ---- the walk -------------------------------------------------------------- */

/* The type N is written as: a later name of a file with several is a
 * hardlink to the first; unknown types go out as regular files. */
static char
out_type(const struct node *n, const struct inode *ino)
{
	char type = n->src->type;

	if (ino && ino->carrier && ino->carrier != n)
		return '1';
	if (type != '2' && type != '3' && type != '4' && type != '5' && type != '6')
		return '0';
	return type;
}

/* N as the output sees it, at em->path. */
static void
out_entry(struct emitter *em, const struct node *n, const struct inode *ino, char type,
	  struct out_entry *oe)
{
	const struct layer *ly = em->L->v[n->src->layer];
	struct tar_entry *t = &oe->t;

	ent_tar(em->L, n->src, t);
	t->name = em->path;
	t->type = type;
	if (type == '1') {
		t->linkname = ino->carrier_path;
		t->pax = NULL;
		t->paxlen = 0;
	}
	if (type != '0')
		t->size = 0;
	if (type != '1' && type != '2')
		t->linkname = (char *)"";
	oe->ino = ino ? (uint64_t)node_idx(ino->carrier) : node_idx(n);
	oe->nlink = ino ? (uint32_t)ino->nnames : 1;
	oe->layer = ly->pos;
	oe->layer_id = ly->id;
}

static int
emit_node(struct emitter *em, struct node *n, size_t plen)
{
	struct inode *ino = node_ino(em->t, n);
	const struct ent *src = n->src;
	char type = out_type(n, ino);
	struct out_entry oe;

	if (em->planning) {
		if (type == '0' && use_ahead(em, src) &&
		    ahead_add(em->ahead, em->L->v[src->layer]->in, src->layer,
			      src->data_off, src->size) < 0)
			die_oom();
		return 0;
	}
	out_entry(em, n, ino, type, &oe);
	if (em->o->verbose)
		fprintf(stderr, "%s\n", em->path);
	if (em->out->ops->entry(em->out, &oe) < 0)
		return fail_out(em);
	if (type == '0' && em->out->ops->content) {
		if (copy_content(em, src, &oe.t) < 0)
			return -1;
		if (em->out->ops->content_end(em->out, &oe) < 0)
			return fail_out(em);
	}
	if (ino && ino->carrier == n && ino->nnames > 1) {
		ino->carrier_path = pool_alloc(&em->t->arena, plen + 1, 1);
		memcpy(ino->carrier_path, em->path, plen + 1);
	}
	return 0;
}

/* em->path, the path of a directory (PLEN bytes), then N's name: the
 * whole length. */
static size_t
path_push(struct emitter *em, size_t plen, const struct node *n)
{
	size_t len = plen + (plen > 0) + n->len;

	if (len + 1 > em->cap) {
		em->cap = (len + 1) * 2;
		em->path = xrealloc(em->path, em->cap);
	}
	if (plen)
		em->path[plen] = '/';
	memcpy(em->path + plen + (plen > 0), n->name, n->len);
	em->path[len] = '\0';
	return len;
}

/*
 * Writes the tree depth-first, each directory followed at once by all that
 * is under it. em->path holds the path of the directory being walked
 * (PLEN bytes), then of the entry being written.
 */
static int
emit_tree(struct emitter *em)
{
	const struct tree *t = em->t;
	struct node *dir = t->root, *n;
	size_t plen = 0;

	if (dir->resort)
		sort_kids(t, dir);
	n = next_written(t, dir, node_kids(t, dir));
	while (dir) {
		if (!n) {
			/* back to the parent's path, and on after DIR */
			plen = plen > dir->len ? plen - dir->len - 1 : 0;
			em->path[plen] = '\0';
			n = dir->parent ? next_written(t, node_parent(t, dir), node_next(t, dir))
					: NULL;
			dir = node_parent(t, dir);
			continue;
		}
		size_t len = path_push(em, plen, n);
		if (emit_node(em, n, len) < 0)
			return -1;
		if (n->dir) {
			if (n->resort)
				sort_kids(t, n);
			dir = n;
			plen = len;
			n = next_written(t, dir, node_kids(t, dir));
		} else {
			em->path[plen] = '\0';
			n = next_written(t, dir, node_next(t, n));
		}
	}
	return 0;
}

/* How the sink's file takes content: a larger pipe, where the system
 * allows it (the reader and tarflat wake each other less often), and
 * splice or copy_file_range where the output takes content as it is. */
static enum direct
prepare_sink(const struct output *out)
{
	struct stat st;

	if (fstat(out->sink->fd, &st) < 0)
		return DIRECT_NONE;
	if (S_ISFIFO(st.st_mode))
		(void)fcntl(out->sink->fd, F_SETPIPE_SZ, PIPE_BYTES);
	if (!out->ops->direct)
		return DIRECT_NONE;
	return S_ISFIFO(st.st_mode) ? DIRECT_SPLICE
	     : S_ISREG(st.st_mode) ? DIRECT_COPY_RANGE : DIRECT_NONE;
}

/* The same walk, once to list what the workers inflate; NULL when there
 * is nothing for them. */
static struct ahead *
plan_ahead(struct emitter *em)
{
	if (!(em->ahead = ahead_new(em->o->jobs > 1 ? em->o->jobs : 0)))
		return NULL;
	em->planning = 1;
	emit_tree(em);
	em->planning = 0;
	if (ahead_count(em->ahead) == 0 || ahead_start(em->ahead) < 0) {
		ahead_free(em->ahead);
		em->ahead = NULL;
	}
	return em->ahead;
}

int
emit(struct tree *t, struct output *out, const struct emit_opts *o)
{
	struct emitter em = { .t = t, .L = t->L, .out = out, .o = o, .cap = 4096 };
	int rc = -1;

	em.path = xmalloc(em.cap);
	em.path[0] = '\0';
	em.direct = prepare_sink(out);
	choose_carriers(t);
	if (out->ops->content)
		plan_ahead(&em);
	if (!layers_unchanged(em.L) || emit_tree(&em) < 0)
		goto out;
	if (!layers_unchanged(em.L))
		goto out;
	if (out->ops->end(out) < 0) {
		fail_out(&em);
		goto out;
	}
	rc = 0;
out:
	ahead_free(em.ahead);
	free(em.path);
	return rc;
}
