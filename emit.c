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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead.h"
#include "emit.h"
#include "path.h"
#include "rewrite.h"
#include "select.h"

#define PIPE_BYTES (1 << 20)    /* the output pipe's size, when it is one */
#define DIRECT_MIN (64 * 1024)  /* content bytes worth a splice of their own */

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

	/* what an emit before this one chose (the tree may be written twice) */
	for (size_t i = 0; i < t->ninodes; i++) {
		t->inodes[i]->carrier = NULL;
		t->inodes[i]->carrier_path = NULL;
		t->inodes[i]->nout = 0;
	}
	sort_kids(t, dir);
	n = select_next(t, dir, node_kids(t, dir));
	while (dir) {
		if (!n) {
			/* DIR is done: on with what follows it in its parent */
			n = dir->parent ? select_next(t, node_parent(t, dir), node_next(t, dir))
					: NULL;
			dir = node_parent(t, dir);
			continue;
		}
		if (n->dir) {
			sort_kids(t, n);
			dir = n;
			n = select_next(t, dir, node_kids(t, dir));
			continue;
		}
		struct inode *ino = node_ino(t, n);
		if (ino)
			ino->nout++;
		if (!ino || !ino->carrier) {
			if (ino)
				ino->carrier = n;
			if (n->src->seq < n->key) {
				n->key = n->src->seq;
				dir->resort = 1;
			}
		}
		n = select_next(t, dir, node_next(t, n));
	}
}

/* ---- content --------------------------------------------------------------- */

enum direct { DIRECT_NONE, DIRECT_SPLICE, DIRECT_COPY_RANGE };
enum phase { CHECK, WRITE };

struct emitter {
	struct tree *t;
	struct layers *L;
	struct output *out;
	const struct emit_opts *o;
	char *path;
	size_t cap;
	enum direct direct;     /* how a plain layer's content may go out */
	struct ahead *ahead;    /* gzip content inflated on worker threads */
	enum phase phase;       /* CHECK: the walk before the first byte */
	uint64_t budget;        /* what the output may take (emit.h) */
	uint64_t spent;         /* ... and what it will, counted in CHECK */
	struct rewrite_buf rwbuf;       /* rewritten pax records */
};

/* The output's write failed, or (MSG set) it refused a value. */
static int
fail_out(struct emitter *em)
{
	if (!em->out->msg[0])
		return layer_fail_sys(em->L, NULL, em->o->out_name);
	em->L->err.file = NULL;
	snprintf(em->L->err.msg, sizeof(em->L->err.msg), "%s", em->out->msg);
	return -1;
}

/* Does the output take T's stored regions rather than the whole file? */
static int
stored(const struct emitter *em, const struct tar_entry *t)
{
	return t->sparse && em->out->ops->sparse;
}

/* The bytes of T's content the output takes. */
static uint64_t
content_len(const struct emitter *em, const struct tar_entry *t)
{
	return stored(em, t) ? t->data_len : t->size;
}

/* Is T's content (of layer LY) one that the workers inflate ahead of
 * the writer: bytes of the stream as they are, of a gzip layer? */
static int
use_ahead(const struct emitter *em, const struct layer *ly, const struct tar_entry *t)
{
	return em->ahead && tar_in_is_gzip(ly->in) && (!t->sparse || stored(em, t)) &&
	       content_len(em, t) > 0;
}

/* Writes LEN bytes at OFF of layer L as the workers inflated them. */
static int
copy_ahead(struct emitter *em, uint32_t layer, uint64_t off, uint64_t len)
{
	struct tar_err te = { 0, "" };
	uint32_t l;

	for (uint64_t pos = 0; pos < len;) {
		size_t n;
		const void *p = ahead_next(em->ahead, layer, off + pos, len - pos, &n, &te, &l);
		if (!p)
			return layer_fail_tar(em->L->v[l], &te);
		if (tar_write_data(em->out->sink, p, n) < 0)
			return fail_out(em);
		pos += n;
	}
	return 0;
}

/*
 * copy_direct: the LEN bytes at OFF of plain layer LY go to the output
 * without passing through user space where the kernel can do it:
 * splice(2) into a pipe, copy_file_range(2) into a regular file (headers
 * and padding still go through the buffer, flushed first, so the order
 * stays). SRC names the entry in messages. Returns 1 when done, 0 when
 * the kernel will not (the caller copies; nothing was written), -1 on
 * error.
 */
static int
copy_direct(struct emitter *em, const struct layer *ly, const struct ent *src, uint64_t off,
	    uint64_t len)
{
	struct tar_out *sink = em->out->sink;
	uint64_t done = 0;
	loff_t at = (loff_t)(ly->off + off);

	if (tar_out_flush(sink) < 0)
		return fail_out(em);
	while (done < len) {
		size_t n = len - done > (1u << 30) ? (1u << 30) : (size_t)(len - done);
		ssize_t r = em->direct == DIRECT_SPLICE
			? splice(ly->fd, &at, sink->fd, NULL, n, SPLICE_F_MORE)
			: copy_file_range(ly->fd, &at, sink->fd, NULL, n, 0);
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

/* Writes the content of SRC, whose tar_entry (ent_tar) is T: its stored
 * regions or the whole file (content_len). */
static int
copy_content(struct emitter *em, const struct ent *src, const struct tar_entry *t)
{
	struct layer *ly = em->L->v[src->layer];
	struct tar_err te = { 0, "" };
	int as_stored = stored(em, t);
	uint64_t pos = 0, len = content_len(em, t);

	if (use_ahead(em, ly, t))
		return copy_ahead(em, src->layer, src->data_off, len);
	/* small files go through the buffer: a splice each would cost more
	 * in system calls than the copy */
	if (em->direct != DIRECT_NONE && !tar_in_is_gzip(ly->in) && (as_stored || !t->sparse) &&
	    len >= DIRECT_MIN) {
		int r = copy_direct(em, ly, src, src->data_off, len);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	while (pos < len) {
		/* read straight into the output's buffer */
		size_t n;
		unsigned char *p = tar_out_room(em->out->sink, len - pos < SIZE_MAX
						? (size_t)(len - pos) : SIZE_MAX, &n);
		if (!p)
			return fail_out(em);
		if ((as_stored ? tar_read_stored(ly->in, src->data_off + pos, p, n, &te)
			       : tar_read_content(ly->in, t, pos, p, n, &te)) < 0)
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

	if (ino && (ino->lower || (ino->carrier && ino->carrier != n)))
		return '1';
	if (type != '2' && type != '3' && type != '4' && type != '5' && type != '6')
		return '0';
	return type;
}

/* The type of file N is: what it is written as, for a link too. */
static char
file_type(const struct node *n)
{
	char type = n->src->type;

	return strchr("23456", type) && type ? type : '0';
}

/* N as the output sees it, at em->path. */
static void
out_entry(struct emitter *em, const struct node *n, const struct inode *ino, char type,
	  struct out_entry *oe)
{
	const struct layer *ly = em->L->v[n->src->layer];
	struct tar_entry *t = &oe->t;

	ent_tar(em->L, n->src, t);
	oe->ftype = file_type(n);
	oe->target = oe->ftype == '2' ? t->linkname : "";
	t->name = em->path;
	t->type = type;
	if (type == '1') {
		t->linkname = ino->lower ? (char *)ino->lower : ino->carrier_path;
		t->pax = NULL;
		t->paxlen = 0;
	}
	if (type != '0') {
		t->size = 0;
		t->sparse = NULL;
		t->nsparse = 0;
	}
	if (type != '1' && type != '2')
		t->linkname = (char *)"";
	if (em->o->rewrite && rewrite_any(em->o->rewrite))
		rewrite_entry(em->o->rewrite, t, &em->rwbuf);
	oe->ino = ino ? (uint64_t)node_idx(ino->carrier) : node_idx(n);
	oe->id = node_idx(n);
	oe->nlink = ino ? ino->nout : 1;
	oe->layer = ly->pos;
	oe->layer_id = ly->id;
}

/*
 * An upper bound of what entry E takes in the output, in any format: a
 * header and a pax header with its records (names, owner names, numbers,
 * the entry's own and global records), each name perhaps escaped to four
 * times its length (-t), padding, a sparse map, and its content.
 */
static uint64_t
entry_cost(const struct emitter *em, const struct out_entry *e)
{
	const struct tar_entry *t = &e->t;
	uint64_t n = 5 * TAR_BLOCK + 4 * ((uint64_t)strlen(t->name) + strlen(t->linkname)) +
		     strlen(t->uname) + strlen(t->gname);

	n += (t->pax ? t->paxlen : 0) + (t->gpax ? t->gpaxlen : 0);
	if (t->type == '0' && em->out->ops->content)
		n += content_len(em, t) + (stored(em, t) ? 48 * (uint64_t)t->nsparse : 0);
	return n;
}

/* Before the first byte: the bounds of tarflat.1 LIMITS, and the
 * output's own CHECK, for entry OE of node N, whose name (em->path) is
 * LEN bytes; its content listed for the workers. */
static int
check_entry(struct emitter *em, const struct node *n, const struct out_entry *oe, size_t len)
{
	const struct tar_entry *t = &oe->t;
	struct layer *ly = em->L->v[n->src->layer];

	if (len >= PATH_MAX) {
		char msg[300];
		snprintf(msg, sizeof(msg), "a name of %zu bytes in the output, past PATH_MAX "
			 "(%d), which no system can create: nothing written", len, PATH_MAX);
		char what[100];
		snprintf(what, sizeof(what), "%.80s...", t->name);
		return layers_fail(em->L, what, msg);
	}
	/* the format's own refusal first: it says more than the bound */
	if (em->out->ops->check && em->out->ops->check(em->out, oe) < 0)
		return fail_out(em);
	em->spent += entry_cost(em, oe);
	if (em->spent > em->budget) {
		char msg[300];
		snprintf(msg, sizeof(msg), "the output would take more than %d times its input "
			 "and %d MiB here: nothing written", EMIT_RATIO, EMIT_SLACK_MIB);
		return layers_fail(em->L, t->name, msg);
	}
	if (t->type == '0' && use_ahead(em, ly, t) &&
	    ahead_add(em->ahead, ly->in, n->src->layer, n->src->data_off, content_len(em, t)) < 0)
		die_oom();
	return 0;
}

/* Node N, whose path em->path holds (LEN bytes): checked or written, as
 * the phase is. */
static int
emit_node(struct emitter *em, struct node *n, size_t len)
{
	struct inode *ino = node_ino(em->t, n);
	const struct ent *src = n->src;
	char type = out_type(n, ino);
	struct out_entry oe;

	out_entry(em, n, ino, type, &oe);
	if (em->phase == CHECK) {
		if (check_entry(em, n, &oe, len) < 0)
			return -1;
	} else {
		if (em->o->verbose)
			fprintf(stderr, "%s\n", em->path);
		if (em->out->ops->entry(em->out, &oe) < 0)
			return fail_out(em);
		if (type == '0' && em->out->ops->content) {
			if (copy_content(em, src, &oe.t) < 0)
				return -1;
			if (em->out->ops->content_end &&
			    em->out->ops->content_end(em->out, &oe) < 0)
				return fail_out(em);
		}
	}
	if (ino && ino->carrier == n && ino->nout > 1 && !ino->carrier_path && !ino->lower) {
		ino->carrier_path = pool_alloc(&em->t->arena, len + 1, 1);
		memcpy(ino->carrier_path, em->path, len + 1);
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
	n = select_next(t, dir, node_kids(t, dir));
	while (dir) {
		if (!n) {
			/* back to the parent's path, and on after DIR */
			plen = plen > dir->len ? plen - dir->len - 1 : 0;
			em->path[plen] = '\0';
			n = dir->parent ? select_next(t, node_parent(t, dir), node_next(t, dir))
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
			n = select_next(t, dir, node_kids(t, dir));
		} else {
			em->path[plen] = '\0';
			n = select_next(t, dir, node_next(t, n));
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

/* What the output may take: EMIT_RATIO times the layers' tar streams,
 * uncompressed, and EMIT_SLACK_MIB. */
static uint64_t
budget(const struct layers *L)
{
	uint64_t in = 0;

	for (size_t i = 0; i < L->n; i++)
		in += tar_in_stream_len(L->v[i]->in);
	return in * EMIT_RATIO + ((uint64_t)EMIT_SLACK_MIB << 20);
}

/*
 * The walk before the first byte (CHECK): every bound, the output's
 * checks, the list of gzip content for the workers, which then start.
 * Then the output's BEGIN, which may have a warning to give.
 */
static int
check_all(struct emitter *em)
{
	struct output *out = em->out;

	if (out->ops->content)
		em->ahead = ahead_new(em->o->jobs > 1 ? em->o->jobs : 0);
	em->budget = budget(em->L);
	em->phase = CHECK;
	if (emit_tree(em) < 0)
		return -1;
	em->phase = WRITE;
	if (em->ahead && (ahead_count(em->ahead) == 0 || ahead_start(em->ahead) < 0)) {
		ahead_free(em->ahead);
		em->ahead = NULL;
	}
	if (out->ops->begin && out->ops->begin(out) < 0)
		return fail_out(em);
	if (out->msg[0])
		fprintf(stderr, "tarflat: warning: %s\n", out->msg);
	out->msg[0] = '\0';
	return 0;
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
	if (check_all(&em) < 0)
		goto out;
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
	rewrite_buf_free(&em.rwbuf);
	free(em.path);
	return rc;
}
