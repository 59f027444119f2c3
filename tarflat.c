/*
 * tarflat - flatten the layers of a container image into one tar.
 *
 * Three steps (README, "How it works"): index every layer's headers
 * (tar.c), resolve them into the final tree (this file, over hlmap.c, by
 * the rules of LAYER SEMANTICS in tarflat.1), then emit the tree
 * depth-first, copying content from the inputs. Nothing is written before
 * the whole tree is resolved, so bad input produces no output at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ahead.h"
#include "filter.h"
#include "hlmap.h"
#include "image.h"
#include "tar.h"

#define VERSION "1.0"
#define MAX_HOPS 40             /* symlinks followed in one lookup, as Linux */
#define COPY_BUF (256 * 1024)
#define PIPE_BYTES (1 << 20)    /* the output pipe's size, when it is one */
#define MAX_FILTERS 4           /* compressions inside compressions undone */

/*
 * What many members of a layer share, kept once per layer: the owner and
 * the pax global records in force (interned while indexing).
 */
struct attrs {
	uint64_t uid, gid;
	const char *uname, *gname;      /* in the layer's pool */
	const char *gpax;               /* the reader's (tar_entry.gpax) */
	size_t gpaxlen;
	uint32_t idx;           /* in the layer's attrs */
};

/* What few members have, kept out of line: in the layer's extras, their
 * strings and maps in its pool. */
struct extra {
	const char *linkname;   /* the link target (a hardlink's normalised);
	                         * NULL if none */
	uint64_t hdr_off;       /* when far from the content (ent.hdr_back) */
	int64_t mtime;          /* when out of ent.mtime's range */
	uint32_t devmajor, devminor;
	uint64_t data_len;              /* when not SIZE (sparse) */
	struct tar_span *sparse;
	size_t nsparse;
	char *pax;
	size_t paxlen;
};

/*
 * One indexed member of one layer, in 48 bytes: what the resolve and the
 * output need of a tar_entry (which is 152 bytes and owns four
 * allocations). Its name is an offset into the layer's names, what few
 * members have an index into its extras; ent_tar gives the tar_entry back.
 */
struct ent {
	uint64_t data_off:48;   /* in the layer's stream (MAX_STREAM) */
	uint64_t layer:16;
	uint64_t size;
	uint32_t seq;           /* position in the whole input: orders output */
	uint32_t attrs;         /* index into the layer's attrs */
	uint32_t dir;           /* the name's directory part: index into the
	                         * layer's dirs (0 is "", the top) */
	uint32_t hdr_back;      /* data_off - hdr_off (the member's first
	                         * header), or HDR_FAR: in the extra */
	uint32_t base;          /* the normalised name's last component: an
	                         * offset into the layer's names (0 is "",
	                         * the root's) */
	uint32_t x;             /* 1 + index into the layer's extras; 0: none */
	uint32_t mtime;         /* or MTIME_FAR: in the extra */
	uint16_t mode;          /* 07777 */
	char type;              /* as tar_entry.type */
};

#define MAX_STREAM ((uint64_t)1 << 48)  /* bytes of a layer's tar stream */
#define MTIME_FAR UINT32_MAX
#define HDR_FAR UINT32_MAX

/* Bump allocation, freed all at once (see "memory" below). */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct pool {
	struct chunk *head;
};

struct error {
	const char *file;
	uint64_t off;
	char msg[512];
	int epipe;              /* the reader of our output went away */
};

/* An operand: a layer or an image, with what selects an image in it. */
struct input {
	const char *arg;        /* as given */
	char *path;             /* the file or directory; "-" standard input */
	struct image_sel sel;
};

struct layer {
	const char *name;       /* for messages: the file as given, or
	                         * "IMAGE: layer N (sha256:0123456789ab)" */
	char *label;            /* NAME, when made for an image's layer */
	const char *path;       /* the file to open; "-" standard input */
	const struct input *input;
	int fd, own_fd;
	uint64_t off, len;      /* the layer's bytes in the file; LEN
	                         * UINT64_MAX: up to the end */
	int may_be_image;       /* an operand that may hold an image */
	int indexed;
	int filtered;           /* decompressed by zstd, xz or bzip2 into FD */
	const char *digest;     /* what its stored bytes hash to, or NULL */
	const char *diff_id;    /* the same for the uncompressed tar */
	struct image_hash hraw, htar;
	char id[13];            /* -t: the digest's first 12 hex digits */
	size_t pos;             /* -t: 1 for the oldest layer */
	struct tar_in *in;
	struct ent *ents;
	size_t nents, cap;
	struct pool pool;       /* the strings of attrs, dirs and extras */
	char *names;            /* the entries' base names, by ent.base */
	size_t names_len, names_cap;
	struct extra *xs;       /* by ent.x - 1 */
	size_t nxs;
	const struct attrs **attrs;     /* interned, indexed by ent.attrs */
	size_t nattrs;
	struct hlmap *attr_map; /* the same, for interning */
	const struct dirname **dirs;    /* interned, indexed by ent.dir */
	size_t ndirs;
	struct hlmap *dir_map;  /* the same, while indexing */
	uint32_t last_dir;
	struct error err;       /* what went wrong with this layer */
	char *warnings;         /* held while layers are indexed side by side */
	size_t wlen;
};

/* A file with several names (hardlinks), made when the second is. */
struct inode {
	size_t nnames;          /* names in the tree, hidden ones included */
	struct node *carrier;   /* the name written with the content */
	char *carrier_path;
};

/*
 * A name in the tree: 48 bytes. Its links to other names are 32-bit
 * indices into the node table (see "the tree"), 0 for none. Removed nodes
 * stay allocated, like everything in the arena, until exit.
 */
struct node {
	const char *name;
	const struct ent *src;  /* whose metadata and content it has */
	uint32_t parent;
	uint32_t next, prev;    /* siblings */
	union {
		uint32_t child;         /* a directory's children: unordered,
		                         * then sorted for the emit */
		uint32_t ino;           /* 1 + the index in inodes of the names
		                         * a file shares SRC with (hardlinks),
		                         * or 0 */
	};
	unsigned len:24;        /* of NAME: a component, so within the name
	                         * caps of tar.c (1 MiB) */
	unsigned dir:1;         /* a directory: CHILD, not INO */
	unsigned hidden:1;      /* AUFS metadata (.wh..wh.*): never emitted */
	unsigned sel:1;         /* named by --path: written with all below */
	unsigned anc:1;         /* an ancestor of a --path: written itself */
	unsigned in:1;          /* at or below a --path (or no --path) */
	unsigned resort:1;      /* a carrier below moved: sort again */
	uint32_t key;           /* seq of the entry that created it */
	uint32_t wseq;          /* seq of the last entry that wrote it */
	uint16_t upper;         /* 1 + last layer that created or passed it */
	uint16_t wiped;         /* 1 + a layer after whose whiteouts it holds
	                         * nothing from below (or that created it):
	                         * wiping it again in that layer is a no-op */
};

#define MAX_LAYERS 65534        /* so that 1 + a layer fits in 16 bits */

/* Hardlinks of one layer waiting for a target that appears later in it,
 * grouped by the (normalised) target path; arena-allocated. */
struct waiter {
	const struct ent *link;
	struct waiter *next;
};

struct pending {
	const char *target;
	struct waiter *first, **tail;   /* in input order */
};


static struct layer **layers;   /* oldest first */
static size_t nlayers;
static struct layer **retired;  /* image archives, read through their
                                 * layers: their files stay open */
static size_t nretired;
static struct input *inputs;
static size_t ninputs;
static struct image *images;    /* own the digests and blob names */
static size_t nimages;
static int opt_list;            /* -t */
static size_t opt_jobs;         /* -j: threads; 0 until main sets it */
static int opt_layers;          /* --layers */
static const char *opt_platform;
static char **opt_paths;        /* --path, normalised */
static size_t nopt_paths;
static struct node *root;        /* node 1 of the table */
static struct inode **inodes;   /* by node.ino - 1 */
static size_t ninodes;
static struct hlmap *tree;      /* (parent, name) -> node index */
static struct hlmap *waiting;   /* target path -> struct pending, per layer */
static struct error err;        /* what went wrong outside any one layer */
static int verbose;
static int warned_type;
static const char *out_tmp;     /* -o's temporary file, removed on failure */

/* ---- messages -------------------------------------------------------- */

static void *xrealloc(void *p, size_t n);
static uint64_t ent_hdr_off(const struct ent *e);
static void warn(const char *file, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct ent *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
warn(const char *file, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tarflat: %s: offset %llu: warning: ", file,
		(unsigned long long)off);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A warning while indexing: kept with its layer, printed in layer order. */
static void
layer_warn(struct layer *ly, uint64_t off, const char *msg)
{
	int n = snprintf(NULL, 0, "tarflat: %s: offset %llu: warning: %s\n", ly->name,
			 (unsigned long long)off, msg);
	if (n < 0)
		return;
	ly->warnings = xrealloc(ly->warnings, ly->wlen + (size_t)n + 1);
	snprintf(ly->warnings + ly->wlen, (size_t)n + 1, "tarflat: %s: offset %llu: warning: %s\n",
		 ly->name, (unsigned long long)off, msg);
	ly->wlen += (size_t)n;
}

static void
tar_warn(void *ctx, uint64_t off, const char *msg)
{
	layer_warn(ctx, off, msg);
}

/* Records what went wrong with entry E; returns -1 for the caller to pass on. */
static int
fail(const struct ent *e, const char *fmt, ...)
{
	struct layer *ly = layers[e->layer];
	va_list ap;

	ly->err.file = ly->name;
	ly->err.off = ent_hdr_off(e);
	va_start(ap, fmt);
	vsnprintf(ly->err.msg, sizeof(ly->err.msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fail_tar(struct layer *ly, const struct tar_err *te)
{
	ly->err.file = ly->name;
	ly->err.off = te->off;
	snprintf(ly->err.msg, sizeof(ly->err.msg), "%s", te->msg);
	return -1;
}

/* A system call failed; WHAT names the file or the step. LY is the layer
 * concerned, or NULL. */
static int
fail_sys(struct layer *ly, const char *what)
{
	struct error *er = ly ? &ly->err : &err;

	er->file = NULL;
	er->epipe = errno == EPIPE;
	snprintf(er->msg, sizeof(er->msg), "%.300s: %s", what, strerror(errno));
	return -1;
}

/* Prints the first layer's error, or else the one outside any layer. */
static void
report(void)
{
	const struct error *er = &err;

	for (size_t i = 0; i < nlayers; i++) {
		if (layers[i]->err.msg[0]) {
			er = &layers[i]->err;
			break;
		}
	}
	if (er->epipe)
		return;         /* a closed pipe downstream ends us quietly */
	if (er->file)
		fprintf(stderr, "tarflat: %s: offset %llu: %s\n", er->file,
			(unsigned long long)er->off, er->msg);
	else
		fprintf(stderr, "tarflat: %s\n", er->msg);
}

static _Noreturn void
die_oom(void)
{
	fputs("tarflat: out of memory\n", stderr);
	if (out_tmp)
		unlink(out_tmp);
	exit(1);
}

/* ---- memory ---------------------------------------------------------- */

/*
 * Pools: bump allocation in chunks of 1 MiB, freed all at once. Nodes,
 * inodes and the resolve's records live in one (the arena) and are never
 * freed one by one: the tree only grows while a run lasts. Each layer's
 * strings and records live in its own, filled by the thread that indexes
 * it. The chunks stay reachable so leak checkers stay quiet.
 */
#define POOL_CHUNK (1u << 20)

/* N bytes aligned to ALIGN (a power of two), not cleared. */
static void *
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

/* A copy of the LEN bytes at S, with a NUL after them. */
static char *
pool_str(struct pool *p, const char *s, size_t len)
{
	char *d = pool_alloc(p, len + 1, 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static void
pool_free(struct pool *p)
{
	while (p->head) {
		struct chunk *c = p->head;
		p->head = c->next;
		free(c);
	}
}

static struct pool arena;

/* N cleared bytes, aligned for any of the tree's records. */
static void *
arena_alloc(size_t n)
{
	void *p = pool_alloc(&arena, n, sizeof(uint64_t));

	memset(p, 0, n);
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

/* Array P of N elements of SIZE bytes, with room made for element N: it
 * doubles whenever N is 0 or a power of two. */
static void *
room_for(void *p, size_t n, size_t size)
{
	return (n & (n - 1)) == 0 ? xrealloc(p, (n ? n * 2 : 1) * size) : p;
}

/* ---- entries ------------------------------------------------------- */

static int
attrs_match(const void *item, const void *key)
{
	const struct attrs *x = item, *y = key;

	return x->uid == y->uid && x->gid == y->gid && x->gpax == y->gpax &&
	       x->gpaxlen == y->gpaxlen && strcmp(x->uname, y->uname) == 0 &&
	       strcmp(x->gname, y->gname) == 0;
}

static uint64_t
attrs_hash(const void *item, void *ctx)
{
	const struct attrs *a = item;

	(void)ctx;
	return hl_hash(a->uname, strlen(a->uname), a->uid) ^
	       hl_hash(a->gname, strlen(a->gname), a->gid) ^ (uint64_t)(uintptr_t)a->gpax;
}

/* The index of KEY in LY's attrs, added (its strings copied) if new. */
static uint32_t
attrs_intern(struct layer *ly, const struct attrs *key)
{
	uint64_t h = attrs_hash(key, NULL);
	struct attrs *a;

	if (!ly->attr_map && !(ly->attr_map = hl_new(attrs_match, attrs_hash, NULL)))
		die_oom();
	if ((a = hl_get(ly->attr_map, h, key)))
		return a->idx;
	a = pool_alloc(&ly->pool, sizeof(*a), sizeof(uint64_t));
	*a = *key;
	a->uname = pool_str(&ly->pool, key->uname, strlen(key->uname));
	a->gname = pool_str(&ly->pool, key->gname, strlen(key->gname));
	if (ly->nattrs > UINT32_MAX - 1)
		die_oom();
	a->idx = (uint32_t)ly->nattrs;
	ly->attrs = room_for(ly->attrs, ly->nattrs, sizeof(*ly->attrs));
	ly->attrs[ly->nattrs++] = a;
	if (hl_add(ly->attr_map, h, a) < 0)
		die_oom();
	return a->idx;
}

/*
 * A directory part of the layer's names, kept as its last component after
 * its parent's index: a path is stored once, not once per directory below
 * it.
 */
struct dirname {
	uint32_t parent;        /* index in the layer's dirs */
	uint32_t len;           /* of the whole path */
	uint32_t clen;          /* of S */
	uint32_t idx;           /* its own */
	char s[];               /* the last component */
};

struct dirkey {
	uint32_t parent;
	const char *s;
	size_t clen;
};

static int
dir_match(const void *item, const void *key)
{
	const struct dirname *d = item;
	const struct dirkey *k = key;

	return d->parent == k->parent && d->clen == k->clen && memcmp(d->s, k->s, k->clen) == 0;
}

static uint64_t
dir_key_hash(uint32_t parent, const char *s, size_t clen)
{
	return hl_hash(s, clen, parent);
}

static uint64_t
dir_hash(const void *item, void *ctx)
{
	const struct dirname *d = item;

	(void)ctx;
	return dir_key_hash(d->parent, d->s, d->clen);
}

static uint32_t
dir_add(struct layer *ly, uint32_t parent, const char *c, size_t clen)
{
	struct dirname *d = pool_alloc(&ly->pool, sizeof(*d) + clen + 1, sizeof(uint32_t));
	size_t plen = ly->ndirs ? ly->dirs[parent]->len : 0;

	if (ly->ndirs >= UINT32_MAX)
		die_oom();
	d->parent = parent;
	d->len = (uint32_t)(plen + (parent != 0) + clen);       /* within tar.c's caps */
	d->clen = (uint32_t)clen;
	d->idx = (uint32_t)ly->ndirs;
	memcpy(d->s, c, clen);
	d->s[clen] = '\0';
	ly->dirs = room_for(ly->dirs, ly->ndirs, sizeof(*ly->dirs));
	ly->dirs[ly->ndirs] = d;
	return (uint32_t)ly->ndirs++;
}

/* Is dir D of LY the path DIR of LEN bytes? */
static int
dir_is(const struct layer *ly, uint32_t d, const char *dir, size_t len)
{
	if (ly->dirs[d]->len != len)
		return 0;
	for (; d; d = ly->dirs[d]->parent) {
		const struct dirname *x = ly->dirs[d];
		size_t at = x->len - x->clen;
		if (memcmp(dir + at, x->s, x->clen) != 0 || (x->parent && dir[at - 1] != '/'))
			return 0;
	}
	return 1;
}

/* The index of directory part DIR (LEN bytes) in LY's dirs, added with
 * its ancestors if new. */
static uint32_t
dir_intern(struct layer *ly, const char *dir, size_t len)
{
	uint32_t d = 0;

	if (!ly->ndirs)
		dir_add(ly, 0, "", 0);          /* the top: "" */
	if (dir_is(ly, ly->last_dir, dir, len))
		return ly->last_dir;
	if (!ly->dir_map && !(ly->dir_map = hl_new(dir_match, dir_hash, NULL)))
		die_oom();
	for (size_t i = 0, j; len && i <= len; i = j + 1) {
		const char *slash = memchr(dir + i, '/', len - i);
		j = slash ? (size_t)(slash - dir) : len;
		struct dirkey k = { d, dir + i, j - i };
		uint64_t h = dir_key_hash(d, k.s, k.clen);
		const struct dirname *found = hl_get(ly->dir_map, h, &k);
		if (found) {
			d = found->idx;
			continue;
		}
		d = dir_add(ly, d, k.s, k.clen);
		if (hl_add(ly->dir_map, h, (void *)ly->dirs[d]) < 0)
			die_oom();
	}
	return ly->last_dir = d;
}

/* Growable buffers for names put together: the resolve's, on one thread. */
struct buf {
	char *p;
	size_t cap;
};

static struct buf dir_buf, path_buf;

/* Dir D of LY as a path at the start of B, with room for EXTRA bytes
 * after it; its length. */
static size_t
dir_path(const struct layer *ly, uint32_t d, struct buf *b, size_t extra)
{
	size_t n = d ? ly->dirs[d]->len : 0;

	if (n + extra + 1 > b->cap)
		b->p = xrealloc(b->p, b->cap = (n + extra + 1) * 2);
	b->p[n] = '\0';
	for (; d; d = ly->dirs[d]->parent) {
		const struct dirname *x = ly->dirs[d];
		size_t at = x->len - x->clen;
		memcpy(b->p + at, x->s, x->clen);
		if (x->parent)
			b->p[at - 1] = '/';
	}
	return n;
}

/* E's directory part, in a buffer that the next call reuses; its length
 * in *LEN. */
static const char *
ent_dir(const struct ent *e, size_t *len)
{
	*len = dir_path(layers[e->layer], e->dir, &dir_buf, 0);
	return dir_buf.p;
}

static const char *
ent_base(const struct ent *e)
{
	return e->base ? layers[e->layer]->names + e->base : "";
}

static const struct extra *
ent_x(const struct ent *e)
{
	return e->x ? &layers[e->layer]->xs[e->x - 1] : NULL;
}

static const char *
ent_link(const struct ent *e)
{
	const struct extra *x = ent_x(e);

	return x && x->linkname ? x->linkname : "";
}

static uint64_t
ent_hdr_off(const struct ent *e)
{
	return e->hdr_back == HDR_FAR ? ent_x(e)->hdr_off : e->data_off - e->hdr_back;
}

static int64_t
ent_mtime(const struct ent *e)
{
	return e->mtime == MTIME_FAR ? ent_x(e)->mtime : e->mtime;
}

/* E's whole name, in a buffer that the next call reuses. */
static const char *
ent_path(const struct ent *e)
{
	const char *base = ent_base(e);
	size_t bl = strlen(base), dl = dir_path(layers[e->layer], e->dir, &path_buf, 1 + bl);

	if (dl)
		path_buf.p[dl] = '/';
	memcpy(path_buf.p + dl + (dl > 0), base, bl + 1);
	return path_buf.p;
}

static int
ent_sparse(const struct ent *e)
{
	const struct extra *x = ent_x(e);

	return x && x->sparse;
}

static const struct attrs *
ent_attrs(const struct ent *e)
{
	return layers[e->layer]->attrs[e->attrs];
}

/* A new, cleared extra for E of LY (valid until the next one is made). */
static struct extra *
extra_new(struct layer *ly, struct ent *e)
{
	ly->xs = room_for(ly->xs, ly->nxs, sizeof(*ly->xs));
	e->x = (uint32_t)++ly->nxs;     /* fewer than the entries: < 2^31 */
	memset(&ly->xs[ly->nxs - 1], 0, sizeof(*ly->xs));
	return &ly->xs[ly->nxs - 1];
}

/* Sets E's mtime to T, out of line if it must be. */
static void
ent_set_mtime(struct layer *ly, struct ent *e, int64_t t)
{
	if (t >= 0 && t < MTIME_FAR) {
		e->mtime = (uint32_t)t;
		return;
	}
	e->mtime = MTIME_FAR;
	(e->x ? &ly->xs[e->x - 1] : extra_new(ly, e))->mtime = t;
}

/* Appends base name S (LEN bytes, a NUL after them) to LY's names, whose
 * offset 0 is ""; returns its offset, which the caller has checked fits. */
static uint32_t
names_add(struct layer *ly, const char *s, size_t len)
{
	size_t at = ly->names_len ? ly->names_len : 1, need = at + len + 1;

	if (need > ly->names_cap) {
		ly->names_cap = need > 2 * ly->names_cap ? need + 4096 : 2 * ly->names_cap;
		ly->names = xrealloc(ly->names, ly->names_cap);
		ly->names[0] = '\0';
	}
	memcpy(ly->names + at, s, len + 1);
	ly->names_len = need;
	return (uint32_t)at;
}

/*
 * Keeps tar_entry T, just read, as entry E of LY: its strings and records
 * copied into the layer (T stays the caller's, unchanged). Returns NULL,
 * or what limit T passes.
 */
static const char *
keep_entry(struct layer *ly, struct ent *e, struct tar_entry *t)
{
	struct attrs key = { t->uid, t->gid, t->uname, t->gname, t->gpax, t->gpaxlen, 0 };
	char *slash = strrchr(t->name, '/');
	const char *base = slash ? slash + 1 : t->name;
	size_t blen = strlen(base);

	if (t->data_off >= MAX_STREAM)
		return "the layer's tar stream reaches 2^48 bytes";
	if (ly->names_len + blen + 2 > UINT32_MAX)      /* names_add's NUL, and "" */
		return "the layer's names take 4 GiB or more";
	if (slash) {
		*slash = '\0';
		e->dir = dir_intern(ly, t->name, (size_t)(slash - t->name));
		*slash = '/';
	} else {
		e->dir = 0;
	}
	e->base = blen ? names_add(ly, base, blen) : 0;
	e->data_off = t->data_off;
	e->size = t->size;
	e->hdr_back = t->data_off - t->hdr_off < HDR_FAR ? (uint32_t)(t->data_off - t->hdr_off)
							 : HDR_FAR;
	e->mode = (uint16_t)(t->mode & 07777);
	e->type = t->type;
	e->attrs = attrs_intern(ly, &key);
	e->x = 0;
	if (*t->linkname || e->hdr_back == HDR_FAR || t->devmajor || t->devminor || t->sparse ||
	    t->pax || t->data_len != t->size) {
		struct extra *x = extra_new(ly, e);
		*x = (struct extra){ NULL, t->hdr_off, 0, t->devmajor, t->devminor, t->data_len,
				     NULL, t->nsparse, NULL, t->paxlen };
		if (*t->linkname)
			x->linkname = pool_str(&ly->pool, t->linkname, strlen(t->linkname));
		if (t->sparse) {
			x->sparse = pool_alloc(&ly->pool, t->nsparse * sizeof(*t->sparse),
					       sizeof(uint64_t));
			memcpy(x->sparse, t->sparse, t->nsparse * sizeof(*t->sparse));
		}
		if (t->pax)
			x->pax = pool_str(&ly->pool, t->pax, t->paxlen);
	}
	ent_set_mtime(ly, e, t->mtime);
	return NULL;
}

/*
 * ent_tar: E as the tar_entry that tar.c reads and writes through (its
 * strings E's own, not to be freed).
 */
static void
ent_tar(const struct ent *e, struct tar_entry *t)
{
	const struct attrs *a = ent_attrs(e);
	const struct extra *x = ent_x(e);

	*t = (struct tar_entry){
		.name = (char *)ent_base(e), .linkname = (char *)ent_link(e),
		.uname = (char *)a->uname, .gname = (char *)a->gname,
		.type = e->type, .mode = e->mode, .uid = a->uid, .gid = a->gid,
		.mtime = ent_mtime(e), .size = e->size, .hdr_off = ent_hdr_off(e),
		.data_off = e->data_off, .data_len = x ? x->data_len : e->size,
		.gpax = a->gpax, .gpaxlen = a->gpaxlen,
	};
	if (x) {
		t->devmajor = x->devmajor;
		t->devminor = x->devminor;
		t->sparse = x->sparse;
		t->nsparse = x->nsparse;
		t->pax = x->pax;
		t->paxlen = x->paxlen;
	}
}

/* ---- names ----------------------------------------------------------- */

/* The next '/'-separated component of P at or after *I; 0 at the end. */
static int
next_comp(const char *p, size_t len, size_t *i, const char **c, size_t *clen)
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
 * normalise: rewrites the member name S in place (tarflat.1 rule 1): no
 * leading '/' or './', no empty or '.' components, no trailing '/', '..'
 * resolved lexically and clamped at the root. "" means the root itself.
 */
static void
normalise(char *s)
{
	size_t len = strlen(s), i = 0, o = 0, clen;
	const char *c;

	while (next_comp(s, len, &i, &c, &clen)) {
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

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

enum kind { PLAIN, WHITEOUT, OPAQUE };

#define WH ".wh."
#define WH_META ".wh..wh."
#define WH_OPQ ".wh..wh..opq"

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

/* ---- the tree -------------------------------------------------------- */

/*
 * The node table: chunks of NODES_PER_CHUNK nodes, each at the start of a
 * block aligned to CHUNK_BYTES whose header holds the chunk's first index,
 * so that a node's index comes from its address. Index 0 is no node.
 */
#define CHUNK_SHIFT 14
#define NODES_PER_CHUNK (1u << CHUNK_SHIFT)
#define CHUNK_BYTES ((size_t)1 << 20)

struct node_chunk {
	uint64_t first;
	struct node nodes[];
};

static struct node_chunk **chunks;
static size_t nchunks;
static uint32_t nnodes;         /* indices given out, 0 included */

static struct node *
node_at(uint32_t i)
{
	return i ? &chunks[i >> CHUNK_SHIFT]->nodes[i & (NODES_PER_CHUNK - 1)] : NULL;
}

static uint32_t
node_idx(const struct node *n)
{
	const struct node_chunk *c;

	if (!n)
		return 0;
	c = (const struct node_chunk *)((uintptr_t)n & ~(uintptr_t)(CHUNK_BYTES - 1));
	return (uint32_t)(c->first + (size_t)(n - c->nodes));
}

/* A new node, cleared. */
static struct node *
node_alloc(void)
{
	if (nnodes == UINT32_MAX)
		die_oom();      /* below: more than 2^32 entries are refused */
	if ((nnodes & (NODES_PER_CHUNK - 1)) == 0) {
		struct node_chunk *c = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
		if (!c)
			die_oom();
		chunks = xrealloc(chunks, (nchunks + 1) * sizeof(*chunks));
		c->first = (uint64_t)nchunks << CHUNK_SHIFT;
		chunks[nchunks++] = c;
		if (!nnodes)
			nnodes = 1;
	}
	struct node *n = node_at(nnodes++);
	memset(n, 0, sizeof(*n));
	return n;
}

static void
nodes_free(void)
{
	for (size_t i = 0; i < nchunks; i++)
		free(chunks[i]);
	free(chunks);
	chunks = NULL;
	nchunks = 0;
	nnodes = 0;
	root = NULL;
	free(inodes);
	inodes = NULL;
	ninodes = 0;
}

static struct node *
parent_of(const struct node *n)
{
	return node_at(n->parent);
}

static struct node *
next_of(const struct node *n)
{
	return node_at(n->next);
}

/* N's children (NULL for a file), and the names N shares its file with
 * (NULL for a directory, and for a file of one name): the union's two
 * sides, told apart by N->dir. */
static struct node *
kids_of(const struct node *n)
{
	return n->dir ? node_at(n->child) : NULL;
}

static struct inode *
ino_of(const struct node *n)
{
	return n->dir || !n->ino ? NULL : inodes[n->ino - 1];
}

struct key {
	uint32_t parent;
	const char *name;
	size_t len;
};

static int
node_match(const void *item, const void *k)
{
	const struct node *n = node_at((uint32_t)(uintptr_t)item);
	const struct key *key = k;

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
	const struct node *n = node_at((uint32_t)(uintptr_t)item);

	(void)ctx;
	return node_hash(n->parent, n->name, n->len);
}

static struct node *
child_get(const struct node *dir, const char *name, size_t len)
{
	struct key k = { node_idx(dir), name, len };

	return node_at((uint32_t)(uintptr_t)hl_get(tree, node_hash(k.parent, name, len), &k));
}

/*
 * A new name NAME (LEN bytes) in DIR, made by entry E: for E's own file,
 * or, given LIKE, another name of LIKE's file (a hardlink). NAME is kept
 * as it is when it lasts as long as the tree (an entry's own name), when
 * KEEP; else it is copied.
 */
static struct node *
node_new(struct node *dir, const char *name, size_t len, struct node *like,
	 const struct ent *e, int keep)
{
	struct node *n = node_alloc();
	char *s = keep ? NULL : arena_alloc(len + 1);
	uint32_t self = node_idx(n);

	if (s)
		memcpy(s, name, len);
	n->name = s ? s : name;
	n->len = (uint32_t)len;
	n->parent = node_idx(dir);
	n->src = e;
	if (like) {
		if (!like->ino) {
			inodes = room_for(inodes, ninodes, sizeof(*inodes));
			inodes[ninodes] = arena_alloc(sizeof(**inodes));
			inodes[ninodes]->nnames = 1;
			like->ino = (uint32_t)++ninodes;    /* fewer than nodes */
		}
		n->src = like->src;
		n->ino = like->ino;
		ino_of(n)->nnames++;
	}
	n->dir = n->src->type == '5';
	n->key = n->wseq = e->seq;
	/* Lower layers are done: all it will ever hold comes from this one. */
	n->wiped = (uint16_t)(e->layer + 1);
	n->hidden = dir->hidden || starts(n->name, WH_META);
	n->next = dir->child;
	if (dir->child)
		node_at(dir->child)->prev = self;
	dir->child = self;
	if (hl_add(tree, node_hash(n->parent, name, len), (void *)(uintptr_t)self) < 0)
		die_oom();
	return n;
}

/* Takes the childless node N out of the tree. */
static void
unlink_one(struct node *n)
{
	if (n->prev)
		node_at(n->prev)->next = n->next;
	else
		parent_of(n)->child = n->next;
	if (n->next)
		node_at(n->next)->prev = n->prev;
	struct key k = { n->parent, n->name, n->len };
	hl_del(tree, node_hash(n->parent, n->name, n->len), &k);
	if (ino_of(n))
		ino_of(n)->nnames--;
}

/*
 * Removes TOP and, for a directory, everything under it, leaves first and
 * without recursion (a hostile layer nests directories deeper than any C
 * stack). Inodes that keep other names keep their content (tarflat.1
 * rule 5).
 */
static void
node_unlink(struct node *top)
{
	struct node *n = top;

	for (;;) {
		for (struct node *k; (k = kids_of(n));)
			n = k;
		struct node *up = parent_of(n);
		unlink_one(n);
		if (n == top)
			return;
		n = up;
	}
}

/* Marks N and its ancestors as made by layer L (umoci's upper paths). */
static void
mark_upper(struct node *n, uint32_t layer)
{
	for (; n && n->upper != layer + 1; n = parent_of(n))
		n->upper = (uint16_t)(layer + 1);
}

/*
 * A directory that no entry describes, made in DIR for entry E: 0755, 0:0,
 * E's mtime. Inside a setgid directory it is setgid too and takes that
 * directory's group, as mkdir(2) makes it on Linux (and so umoci).
 */
static struct node *
implicit_dir(struct node *dir, const char *name, size_t len, const struct ent *e)
{
	struct ent *d = arena_alloc(sizeof(*d));
	const struct ent *up = dir->src;
	struct attrs a = { 0, 0, "", "", NULL, 0, 0 };

	d->type = '5';
	d->mode = 0755;
	ent_set_mtime(layers[e->layer], d, ent_mtime(e));
	if (up->mode & 02000) {
		d->mode |= 02000;
		a.gid = ent_attrs(up)->gid;
		a.gname = ent_attrs(up)->gname;
	}
	d->seq = e->seq;
	d->layer = e->layer;
	d->attrs = attrs_intern(layers[e->layer], &a);
	struct node *n = node_new(dir, name, len, NULL, d, 0);
	mark_upper(n, e->layer);
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

/*
 * walk_dir: follows the directory path P (LEN bytes) from DIR, symlinks in
 * every component followed (absolute targets from the root, '..' clamped
 * at the root, at most MAX_HOPS). As umoci's path resolution does, a
 * component that is missing or not a directory is kept pending, and so is
 * everything after it, until a '..' takes it back: "gone/../etc" is etc,
 * creating nothing. What is still pending at the end is made for MAKE, the
 * entry being applied: missing directories are created, a non-directory
 * is an error. Without MAKE it is a lookup: *OUT is NULL when something is
 * pending. E names the entry for messages. Returns 0 or -1.
 */
static int
walk_dir(struct node *dir, const char *p, size_t len, const struct ent *e,
	 int make, struct node **out)
{
	struct pending_dirs pd = { NULL, 0, 0 };
	char *buf = NULL;
	size_t i = 0, clen;
	const char *c;
	int hops = 0, rc = 0;

	*out = NULL;
	while (next_comp(p, len, &i, &c, &clen)) {
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			if (pd.n)
				pd.n--;
			else if (dir->parent)
				dir = parent_of(dir);
			continue;
		}
		struct node *n = pd.n ? NULL : child_get(dir, c, clen);
		if (n && n->src->type == '2') {
			if (++hops > MAX_HOPS) {
				rc = fail(e, "%.200s: too many levels of symbolic links", ent_path(e));
				goto out;
			}
			/* Continue with the target followed by what is left. */
			const char *t = ent_link(n->src);
			size_t tlen = strlen(t), rest = len - i;
			char *nb = xrealloc(NULL, tlen + 1 + rest);
			memcpy(nb, t, tlen);
			nb[tlen] = '/';
			memcpy(nb + tlen + 1, p + i, rest);
			free(buf);
			p = buf = nb;   /* nothing is pending: no name points into it */
			len = tlen + 1 + rest;
			i = 0;
			if (t[0] == '/')
				dir = root;
			continue;
		}
		if (!n || !n->dir) {
			pend_push(&pd, c, clen);
			continue;
		}
		dir = n;
	}
	if (pd.n && !make)
		goto out;
	if (pd.n && child_get(dir, pd.v[0].c, pd.v[0].len)) {
		rc = fail(e, "%.200s: a parent is not a directory", ent_path(e));
		goto out;
	}
	for (size_t k = 0; k < pd.n; k++) {
		if (starts(pd.v[k].c, WH) && !starts(pd.v[k].c, WH_META)) {
			/* reached through a symlink: see whiteout_dir */
			rc = fail(e, "%.200s: a whiteout name used as a directory", ent_path(e));
			goto out;
		}
		dir = implicit_dir(dir, pd.v[k].c, pd.v[k].len, e);
	}
	*out = dir;
out:
	free(pd.v);
	free(buf);
	return rc;
}

/* Splits normalised PATH into its directory part (length *DLEN) and base. */
static const char *
split(const char *path, size_t *dlen)
{
	const char *b = base_name(path);

	*dlen = b > path ? (size_t)(b - path - 1) : 0;
	return b;
}

/*
 * lookup: the node PATH names now, its last component not followed, or
 * NULL. Returns -1 only on a symlink loop.
 */
static int
lookup(const char *path, const struct ent *e, struct node **out)
{
	size_t dlen;
	const char *b = split(path, &dlen);
	struct node *dir;

	*out = NULL;
	if (walk_dir(root, path, dlen, e, 0, &dir) < 0)
		return -1;
	if (dir)
		*out = child_get(dir, b, strlen(b));
	return 0;
}

/* ---- applying a layer ------------------------------------------------ */

/*
 * The name of the file hardlink E names now, in *TARGET. Returns 1, 0 when
 * the target does not exist (yet), -1 on a loop or when it is a directory.
 */
static int
link_target(const struct ent *e, struct node **out)
{
	struct node *target;

	if (lookup(ent_link(e), e, &target) < 0)
		return -1;
	if (!target)
		return 0;
	if (target->dir)
		return fail(e, "%.200s: hardlink to a directory: %.200s", ent_path(e), ent_link(e));
	*out = target;
	return 1;
}

/*
 * apply_entry: one non-whiteout entry (tarflat.1 rule 4). Returns 1 when
 * applied, 0 for a hardlink whose target does not exist yet, -1 on error.
 * LATE is set for a hardlink bound after later entries of its layer were
 * applied: if one of them wrote the link's own path, that one stands (the
 * later entry wins) and the link is dropped.
 */
static int
apply_entry(const struct ent *e, int late)
{
	const char *b = ent_base(e);
	struct node *dir, *old, *n, *target = NULL;

	size_t dlen;
	const char *dpath = ent_dir(e, &dlen);

	if (walk_dir(root, dpath, dlen, e, 1, &dir) < 0)
		return -1;
	old = child_get(dir, b, strlen(b));
	if (late && old && old->wseq > e->seq)
		/* a later entry of the layer wrote this name and stands; the
		 * link is dropped, if its target ever existed at all */
		return link_target(e, &target);
	if (old && e->type == '5' && old->dir) {
		old->src = e;           /* directory over directory: merge */
		old->wseq = e->seq;
		mark_upper(old, e->layer);
		return 1;
	}
	/*
	 * The old name goes first, and only then is a hardlink's target
	 * looked up, as umoci does: a link to its own name, or through it,
	 * finds nothing there any more.
	 */
	if (old)
		node_unlink(old);
	if (e->type == '1') {
		int r = link_target(e, &target);
		if (r <= 0)
			return r;
	} else {
		if (e->type != '0' && e->type != '2' && e->type != '3' &&
		    e->type != '4' && e->type != '5' && e->type != '6' &&
		    e->type != '7' && !warned_type++)
			warn(layers[e->layer]->name, ent_hdr_off(e),
			     "%s: unknown type '%c', taken as a regular file",
			     ent_path(e), e->type);
	}
	n = node_new(dir, b, strlen(b), target, e, 1);
	mark_upper(n, e->layer);
	return 1;
}

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

/* Queues hardlink E until its target appears. */
static void
pending_add(const struct ent *e)
{
	uint64_t h = path_hash(ent_link(e));
	struct pending *p = hl_get(waiting, h, ent_link(e));

	struct waiter *w = arena_alloc(sizeof(*w));

	if (!p) {
		p = arena_alloc(sizeof(*p));
		p->target = ent_link(e);
		p->tail = &p->first;
		if (hl_add(waiting, h, p) < 0)
			die_oom();
	}
	w->link = e;
	*p->tail = w;
	p->tail = &w->next;
}

/* Applies the hardlinks that wait for PATH, just created, and in turn those
 * that wait for them. Each waiting link is taken out of WAITING once. */
static int
apply_pending(const char *path)
{
	struct pending *p = hl_del(waiting, path_hash(path), path);

	for (struct waiter *w = p ? p->first : NULL; w; w = w->next) {
		int r = apply_entry(w->link, 1);
		if (r == 0)
			pending_add(w->link);   /* a loop of links */
		else if (r < 0 || apply_pending(ent_path(w->link)) < 0)
			return -1;
	}
	return 0;
}

/*
 * Removes N unless this layer made or passed through it; of such a
 * directory, removes the children the layer did not touch (umoci's rule).
 */
static void
wipe(struct node *top, uint32_t layer)
{
	struct node **stack = xrealloc(NULL, 64 * sizeof(*stack));
	size_t n = 0, cap = 64;

	stack[n++] = top;
	while (n) {
		struct node *x = stack[--n];
		if (x->upper != layer + 1) {
			node_unlink(x);
			continue;
		}
		if (x->wiped == layer + 1)
			continue;
		x->wiped = (uint16_t)(layer + 1);
		for (struct node *c = kids_of(x); c; c = next_of(c)) {
			if (n == cap)
				stack = xrealloc(stack, (cap *= 2) * sizeof(*stack));
			stack[n++] = c;
		}
	}
	free(stack);
}

/*
 * An entry for the root directory itself ("./") is never written out, but a
 * directory's metadata is kept: a setgid root makes setgid implicit parents.
 */
static void
root_entry(const struct ent *e)
{
	if (e->type == '5')
		root->src = e;
}

/*
 * apply_whiteout: carries out whiteout E of layer L where it stands in its
 * layer, as umoci does (tarflat.1 rule 3). The name is looked up in the
 * tree as it is now, so a marker written inside a directory that just replaced a
 * symlink is about that directory; what it removes is gone for every later
 * entry of the layer; what the layer wrote or passed through before it is
 * spared (wipe). A whiteout never creates anything: a name that does not
 * exist is a no-op. Returns 0, or -1 on an invalid whiteout or a loop.
 */
static int
apply_whiteout(const struct ent *e, enum kind k, uint32_t l)
{
	const char *name = ent_base(e) + strlen(WH);
	struct node *dir, *t;

	if (k == WHITEOUT && (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
		return fail(e, "%.200s: invalid whiteout", ent_path(e));
	size_t dlen;
	const char *dpath = ent_dir(e, &dlen);

	if (walk_dir(root, dpath, dlen, e, 0, &dir) < 0)
		return -1;
	if (!dir)
		return 0;
	if (k == WHITEOUT) {
		if ((t = child_get(dir, name, strlen(name))))
			wipe(t, l);
		return 0;
	}
	if (dir->wiped == l + 1)
		return 0;       /* it holds nothing from below any more */
	for (struct node *c = kids_of(dir), *next; c; c = next) {
		next = next_of(c);
		wipe(c, l);
	}
	dir->wiped = (uint16_t)(l + 1);
	return 0;
}

static int
apply_layer(struct layer *ly, uint32_t l)
{
	size_t i;

	for (i = 0; i < ly->nents; i++) {
		const struct ent *e = &ly->ents[i];
		enum kind k = classify(ent_base(e));
		if (!e->base) {         /* "" */
			root_entry(e);
			continue;
		}
		if (k != PLAIN) {
			if (apply_whiteout(e, k, l) < 0)
				return -1;
			continue;
		}
		int r = apply_entry(e, 0);
		if (r < 0)
			return -1;
		if (r == 0)
			pending_add(e);
		else if (hl_count(waiting) && apply_pending(ent_path(e)) < 0)
			return -1;
	}
	/*
	 * What still waits names its target another way (through a symlink,
	 * say): try once more, in input order; what then fails is dangling.
	 */
	for (i = 0; hl_count(waiting) && i < ly->nents; i++) {
		const struct ent *e = &ly->ents[i];
		struct pending *p;
		if (e->type != '1' || !(p = hl_get(waiting, path_hash(ent_link(e)), ent_link(e))))
			continue;
		hl_del(waiting, path_hash(p->target), p->target);
		for (struct waiter *w = p->first; w; w = w->next) {
			int r = apply_entry(w->link, 1);
			if (r == 0)
				fail(w->link, "%.200s: hardlink target not found: %.200s",
				     ent_path(w->link), ent_link(w->link));
			if (r <= 0)
				return -1;
		}
	}
	return 0;
}

/* ---- indexing -------------------------------------------------------- */

static void
feed_raw(void *ctx, const void *buf, size_t len)
{
	struct layer *ly = ctx;

	if (ly->digest && !ly->filtered)
		image_hash_update(&ly->hraw, buf, len);
	if (ly->diff_id && !tar_in_is_gzip(ly->in))
		image_hash_update(&ly->htar, buf, len);
}

static void
feed_tar(void *ctx, const void *buf, size_t len)
{
	struct layer *ly = ctx;

	if (ly->diff_id)
		image_hash_update(&ly->htar, buf, len);
}

static void
feed_filter(void *ctx, const void *buf, size_t len)
{
	struct layer *ly = ctx;

	if (ly->digest)
		image_hash_update(&ly->hraw, buf, len);
}

/* Copies a pipe (standard input, say) to an unlinked file in $TMPDIR so
 * that the content can be read again when emitting. */
static int
spool(struct layer *ly)
{
	int fd = filter_temp_file();
	if (fd < 0)
		return fail_sys(ly, "a temporary file in $TMPDIR");
	char *buf = xrealloc(NULL, COPY_BUF);
	ssize_t n;
	while ((n = read(ly->fd, buf, COPY_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(fd, buf, (size_t)n) != n) {
			free(buf);
			close(fd);
			return fail_sys(ly, n < 0 ? ly->name : "spooling to $TMPDIR");
		}
	}
	free(buf);
	if (ly->fd != STDIN_FILENO)
		close(ly->fd);
	ly->fd = fd;
	return 0;
}

/*
 * A layer compressed with zstd, xz or bzip2 is decompressed by that program
 * into a temporary file, which is then the layer (its stored bytes going
 * to the digest on the way). A valid tar header or gzip's magic first
 * means there is nothing to do. Returns 1 when it ran a program, 0 when
 * there was nothing to do, -1 on error.
 */
static int
maybe_filter(struct layer *ly)
{
	unsigned char b[TAR_BLOCK];
	size_t want = ly->len < sizeof(b) ? (size_t)ly->len : sizeof(b);
	ssize_t n = pread(ly->fd, b, want, (off_t)ly->off);
	const char *prog;
	char msg[300];

	if (n < 0)
		return fail_sys(ly, ly->name);
	if (tar_is_header(b, (size_t)n) || (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) ||
	    !(prog = filter_for(b, (size_t)n)))
		return 0;
	/* the digest is of what the image stores: the outermost stream */
	int fd = filter_run(prog, ly->fd, ly->off, ly->len, ly->filtered ? NULL : feed_filter,
			    ly, msg, sizeof(msg));
	if (fd < 0) {
		ly->err.file = ly->name;
		ly->err.off = 0;
		snprintf(ly->err.msg, sizeof(ly->err.msg), "%s", msg);
		return -1;
	}
	if (ly->own_fd)
		close(ly->fd);
	ly->fd = fd;
	ly->own_fd = 1;
	ly->off = 0;
	ly->len = UINT64_MAX;
	ly->filtered = 1;
	return 1;
}

/*
 * Opens layer LY: its file ("-" is standard input; a pipe is spooled), or
 * the range of an image archive it shares. Hashing starts here when the
 * image names digests: it happens while the layer is indexed.
 */
static int
open_layer(struct layer *ly)
{
	if (ly->fd < 0) {
		if (strcmp(ly->path, "-") == 0)
			ly->fd = STDIN_FILENO;
		else if ((ly->fd = open(ly->path, O_RDONLY | O_CLOEXEC)) < 0)
			return fail_sys(ly, ly->name);
		ly->own_fd = 1;
		struct stat st;
		if (fstat(ly->fd, &st) < 0)
			return fail_sys(ly, ly->name);
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return fail_sys(ly, ly->name);
		}
		if (!S_ISREG(st.st_mode) && lseek(ly->fd, 0, SEEK_CUR) < 0 && spool(ly) < 0)
			return -1;
	}
	if ((ly->digest && image_hash_init(&ly->hraw, ly->digest) < 0) ||
	    (ly->diff_id && image_hash_init(&ly->htar, ly->diff_id) < 0))
		return fail_sys(ly, "bad digest");     /* image.c checked them */
	/* a compression inside another (xz of a zstd stream) is undone too */
	for (int depth = 0, r = 1; r > 0 && depth < MAX_FILTERS; depth++)
		if ((r = maybe_filter(ly)) < 0)
			return -1;
	struct tar_err te = { 0, "" };
	ly->in = tar_in_open_range(ly->fd, ly->off, ly->len, tar_warn, ly, &te);
	if (!ly->in)
		return fail_tar(ly, &te);
	if (ly->digest || ly->diff_id)
		tar_in_feed(ly->in, feed_raw, feed_tar, ly);
	return 0;
}

/*
 * A whiteout's name as a directory ("a/.wh.b/c") would put a whiteout in
 * the output, which every layer-aware reader then drops or refuses: no
 * writer makes one, so it is an error. AUFS's .wh..wh.* directories are
 * fine (hidden). NAME is a member's name. Returns 1 when one of its
 * directory components is such a name, else 0.
 */
static int
whiteout_dir(const char *name)
{
	for (const char *c = name, *slash; (slash = strchr(c, '/')); c = slash + 1)
		if (starts(c, WH) && !starts(c, WH_META))
			return 1;
	return 0;
}

static int
index_layer(struct layer *ly, uint32_t l)
{
	struct tar_err te = { 0, "" };
	struct tar_entry t;
	int r;

	while ((r = tar_next(ly->in, &t, &te)) > 0) {
		if (!*t.name)
			layer_warn(ly, t.hdr_off, "entry with an empty name ignored");
		normalise(t.name);
		if (t.type == '1')
			normalise(t.linkname);
		const char *limit = NULL;
		if (ly->nents == ly->cap && ly->cap >= UINT32_MAX / 2) {
			limit = "more than 2^31 members";
		} else if (ly->nents == ly->cap) {
			ly->cap = ly->cap ? ly->cap * 2 : 256;
			ly->ents = xrealloc(ly->ents, ly->cap * sizeof(*ly->ents));
		}
		struct ent *e = &ly->ents[ly->nents];
		if (!limit)
			limit = keep_entry(ly, e, &t);
		if (limit) {
			struct tar_err le = { t.hdr_off, "" };
			snprintf(le.msg, sizeof(le.msg), "%.200s: %s", t.name, limit);
			tar_entry_free(&t);
			return fail_tar(ly, &le);
		}
		ly->nents++;
		e->seq = (uint32_t)(ly->nents - 1);     /* renumber() makes it global */
		e->layer = (uint16_t)l;        /* index_all checked it fits */
		int bad = 0;
		if (e->type == '1' && !*ent_link(e) && e->base)
			bad = fail(e, "%.200s: hardlink to a directory: /", t.name);
		else if (whiteout_dir(t.name))
			bad = fail(e, "%.200s: a whiteout name used as a directory", t.name);
		tar_entry_free(&t);
		if (bad)
			return -1;
	}
	hl_free(ly->dir_map);   /* the names are all in */
	ly->dir_map = NULL;
	return r < 0 ? fail_tar(ly, &te) : 0;
}

static size_t next_layer;       /* the next layer for an index worker */

static void *
index_worker(void *arg)
{
	(void)arg;
	for (;;) {
		size_t i = __atomic_fetch_add(&next_layer, 1, __ATOMIC_RELAXED);
		if (i >= nlayers)
			return NULL;
		struct layer *ly = layers[i];
		if (ly->indexed)
			continue;
		ly->indexed = 1;
		if (open_layer(ly) == 0)
			index_layer(ly, (uint32_t)i);
	}
}

#define MAX_JOBS 8

/* The processors online, at most MAX_JOBS. */
static size_t
default_jobs(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (size_t)cpus;
}

/* Prints the warnings the indexing of the layers found, in layer order. */
static void
print_warnings(struct layer **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct layer *ly = v[i];
		if (ly->wlen)
			fputs(ly->warnings, stderr);
		free(ly->warnings);
		ly->warnings = NULL;
		ly->wlen = 0;
	}
}

/*
 * Indexes every layer not yet indexed, several at a time: a layer's headers
 * do not depend on the others, and inflating them is most of the first
 * pass. Returns 0, or -1 when some layer failed (its err says why).
 */
static int
index_all(void)
{
	size_t n = opt_jobs ? opt_jobs : default_jobs();
	pthread_t tid[MAX_JOBS];
	size_t started = 0;

	if (nlayers > MAX_LAYERS) {
		err.file = NULL;
		snprintf(err.msg, sizeof(err.msg), "more than %d layers", MAX_LAYERS);
		return -1;
	}
	if (n > nlayers)
		n = nlayers;
	next_layer = 0;
	while (started + 1 < n && pthread_create(&tid[started], NULL, index_worker, NULL) == 0)
		started++;
	index_worker(NULL);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	print_warnings(layers, nlayers);
	for (size_t i = 0; i < nlayers; i++)
		if (layers[i]->err.msg[0])
			return -1;
	return 0;
}

/* ---- images ---------------------------------------------------------- */

/* An error about no member: "tarflat: WHAT: MSG". */
static int
fail_msg(const char *what, const char *msg)
{
	err.file = NULL;
	snprintf(err.msg, sizeof(err.msg), "%.200s: %.300s", what, msg);
	return -1;
}

static struct layer *
layer_new(const char *name, const char *path, const struct input *in)
{
	struct layer *ly = xrealloc(NULL, sizeof(*ly));

	memset(ly, 0, sizeof(*ly));
	ly->name = name;
	ly->path = path;
	ly->input = in;
	ly->fd = -1;
	ly->len = UINT64_MAX;
	return ly;
}

/* Keeps IMG (which owns the strings its layers point to); returns it. */
static struct image *
keep_image(const char *name, const struct image *img)
{
	if (verbose)
		fprintf(stderr, "tarflat: %s: %s, image %s, %zu layer%s\n", name, img->form,
			img->chosen ? img->chosen : "(unnamed)", img->nlayers,
			img->nlayers == 1 ? "" : "s");
	images = xrealloc(images, (nimages + 1) * sizeof(*images));
	images[nimages] = *img;
	return &images[nimages++];
}

/* Tells the entries of the layer in slot I where it now is: they find
 * their names through it. */
static void
layer_at(size_t i)
{
	for (size_t j = 0; j < layers[i]->nents; j++)
		layers[i]->ents[j].layer = (uint16_t)i;
}

/*
 * The layers of image IMG of input IN, to stand in LAYERS at AT (one
 * slot, given up by the archive, if any). FD >= 0 is the archive they lie
 * in, shared; otherwise each is a file of its own.
 */
static void
insert_image(size_t at, int replace, const struct input *in, const struct image *img, int fd)
{
	size_t n = img->nlayers, keep = nlayers - at - (size_t)replace;

	layers = xrealloc(layers, (nlayers - (size_t)replace + n + 1) * sizeof(*layers));
	memmove(layers + at + n, layers + at + replace, keep * sizeof(*layers));
	nlayers = nlayers - (size_t)replace + n;
	for (size_t i = 0; i < n; i++) {
		const struct image_layer *il = &img->layers[i];
		struct layer *ly = layer_new(NULL, il->file, in);
		if (asprintf(&ly->label, "%s: layer %zu (%.19s)", in->path, i + 1,
			     il->digest ? il->digest : il->label) < 0)
			die_oom();
		ly->name = ly->label;
		ly->fd = fd;
		ly->off = il->off;
		ly->len = il->len;
		ly->digest = il->digest;
		ly->diff_id = il->diff_id;
		const char *d = il->digest ? il->digest : il->diff_id;
		snprintf(ly->id, sizeof(ly->id), "%.12s", d ? strchr(d, ':') + 1 : "");
		layers[at + i] = ly;
	}
	for (size_t i = at + n; i < nlayers; i++)
		layer_at(i);
}

/* Operands: a directory is an OCI image layout, read now; anything else is
 * a layer, or an image archive found out once it has been indexed. */
static int
open_inputs(void)
{
	char msg[600];
	struct stat st;

	for (size_t i = 0; i < ninputs; i++) {
		struct input *in = &inputs[i];
		in->sel.platform = opt_platform;
		if (!opt_layers && strcmp(in->path, "-") != 0 && stat(in->path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			struct image img;
			if (image_open_dir(in->path, &in->sel, &img, msg, sizeof(msg)) < 0)
				return fail_msg(in->path, msg);
			insert_image(nlayers, 0, in, keep_image(in->path, &img), -1);
			continue;
		}
		layers = xrealloc(layers, (nlayers + 1) * sizeof(*layers));
		struct layer *ly = layer_new(in->path, in->path, in);
		ly->may_be_image = !opt_layers;
		layers[nlayers++] = ly;
	}
	return 0;
}

/* Does LY have a top-level regular file NAME? */
static int
has_member(const struct layer *ly, const char *name)
{
	for (size_t i = 0; i < ly->nents; i++)
		if (!ly->ents[i].dir && strcmp(ent_base(&ly->ents[i]), name) == 0 &&
		    ly->ents[i].type == '0')
			return 1;
	return 0;
}

/*
 * After indexing: an operand that holds an image (image.c decides, from
 * the members) stands for its layers, which are indexed in turn. Returns
 * 0 or -1.
 */
static int
expand_archives(void)
{
	char msg[600];
	size_t added = 0;

	/* a slot is looked at again until it holds no candidate: an image's
	 * own layers, which take the archive's slot, are none */
	for (size_t i = 0; i < nlayers;) {
		struct layer *ly = layers[i];
		const struct input *in = ly->input;
		if (!ly->may_be_image) {
			i++;
			continue;
		}
		ly->may_be_image = 0;
		int chosen = in->sel.ref || in->sel.digest;
		int looks = has_member(ly, "manifest.json") ||
			    (has_member(ly, "index.json") && has_member(ly, "oci-layout"));
		if (looks && tar_in_is_gzip(ly->in))
			return fail_msg(ly->name, "a gzip-compressed image archive: decompress it "
					"first (gzip -dc FILE | tarflat -), or give --layers to "
					"read it as a layer");
		int r = 0;
		struct image img;
		if (looks) {
			struct image_member *m = xrealloc(NULL, (ly->nents + 1) * sizeof(*m));
			struct pool names = { NULL };
			for (size_t j = 0; j < ly->nents; j++) {
				const struct ent *t = &ly->ents[j];
				const char *path = ent_path(t);
				m[j] = (struct image_member){ pool_str(&names, path, strlen(path)),
							      ent_sparse(t) ? 'S' : t->type,
							      ent_link(t), t->data_off, t->size };
			}
			r = image_open_archive(ly->name, ly->fd, m, ly->nents, &in->sel, &img,
					       msg, sizeof(msg));
			pool_free(&names);
			free(m);
		}
		if (r < 0)
			return fail_msg(ly->name, msg);
		if (r == 0 && chosen)
			return fail_msg(ly->name, "not an image, but a tag or digest was given");
		if (r == 0)
			continue;
		/* the archive gives way to its layers; its file stays open */
		retired = xrealloc(retired, (nretired + 1) * sizeof(*retired));
		retired[nretired++] = ly;
		insert_image(i, 1, in, keep_image(ly->name, &img), ly->fd);
		added += img.nlayers;
	}
	return added ? index_all() : 0;
}

/* Every layer's digests, computed while it was indexed, against the image's. */
static int
verify_layers(void)
{
	char got[136], msg[400];

	for (size_t i = 0; i < nlayers; i++) {
		struct layer *ly = layers[i];
		if (ly->digest && !image_hash_check(&ly->hraw, ly->digest, got)) {
			snprintf(msg, sizeof(msg), "digest mismatch: the blob hashes to %.136s", got);
			return fail_msg(ly->name, msg);
		}
		if (ly->diff_id && !image_hash_check(&ly->htar, ly->diff_id, got)) {
			snprintf(msg, sizeof(msg), "diff_id mismatch: the uncompressed layer hashes "
				 "to %.136s, the config says %.136s", got, ly->diff_id);
			return fail_msg(ly->name, msg);
		}
	}
	return 0;
}

/* Layer positions changed when archives gave way to their layers: number
 * the entries again, in input order, which the output's order follows.
 * Returns 0, or -1 when the layers hold 2^32 members or more. */
static int
renumber(void)
{
	uint64_t seq = 0;

	for (size_t i = 0; i < nlayers; i++) {
		layers[i]->pos = i + 1;
		layer_at(i);
		for (size_t j = 0; j < layers[i]->nents; j++)
			layers[i]->ents[j].seq = (uint32_t)seq++;
	}
	if (seq > UINT32_MAX)
		return fail_msg("the layers", "more than 2^32 members in all");
	return 0;
}

/* ---- emitting -------------------------------------------------------- */

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

/*
 * Sorts DIR's list of children into output order: a merge sort of the
 * list itself, bottom up (runs of 1, 2, 4, ... merged in turn), so that
 * sorting costs no memory and no recursion.
 */
static void
sort_kids(struct node *dir)
{
	struct node *list = kids_of(dir);

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
				q = next_of(q);
			}
			while (np || (nq && q)) {
				struct node *take;
				if (np && (!nq || !q || kid_cmp(p, q) <= 0)) {
					take = p;
					p = next_of(p);
					np--;
				} else {
					take = q;
					q = next_of(q);
					nq--;
				}
				*tail = node_idx(take);
				tail = &take->next;
			}
			p = q;
		}
		*tail = 0;
		list = node_at(head);
		if (merges <= 1)
			break;
	}
	dir->child = node_idx(list);
	for (struct node *c = list, *prev = NULL; c; prev = c, c = next_of(c))
		c->prev = node_idx(prev);
	dir->resort = 0;
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
next_written(const struct node *dir, struct node *c)
{
	while (c && !written(dir, c))
		c = next_of(c);
	return c;
}

/*
 * First walk: the carrier of each file with several names is the first of
 * them in output order. It then takes the place of the entry that supplied
 * the bytes, if that came earlier (the output order of tarflat.1,
 * DESCRIPTION); it only moves forward within its own directory, so no
 * other carrier changes. Iterative, like emit_tree.
 */
static void
choose_carriers(void)
{
	struct node *dir = root, *n;

	sort_kids(dir);
	n = next_written(dir, kids_of(dir));
	while (dir) {
		if (!n) {
			/* DIR is done: on with what follows it in its parent */
			n = dir->parent ? next_written(parent_of(dir), next_of(dir)) : NULL;
			dir = parent_of(dir);
			continue;
		}
		if (n->dir) {
			sort_kids(n);
			dir = n;
			n = next_written(dir, kids_of(dir));
			continue;
		}
		struct inode *ino = ino_of(n);
		if (!ino || !ino->carrier) {
			if (ino)
				ino->carrier = n;
			if (n->src->seq < n->key) {
				n->key = n->src->seq;
				dir->resort = 1;
			}
		}
		n = next_written(dir, next_of(n));
	}
}

enum direct { DIRECT_NONE, DIRECT_SPLICE, DIRECT_COPY_RANGE };
#define DIRECT_MIN (64 * 1024)  /* content bytes worth a splice of their own */

struct emitter {
	struct tar_out out;
	const char *out_name;   /* for messages: FILE or "standard output" */
	char *path;
	size_t cap;
	enum direct direct;     /* how a plain layer's content may go out */
	struct ahead *ahead;    /* gzip content inflated on worker threads */
	int planning;           /* this walk lists content for AHEAD only */
};

/* Is SRC's content one that the workers inflate ahead of the writer? */
static int
use_ahead(const struct emitter *em, const struct ent *src)
{
	return em->ahead && tar_in_is_gzip(layers[src->layer]->in) && !ent_sparse(src) &&
	       src->size > 0;
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
			return fail_tar(layers[l], &te);
		if (tar_write_data(&em->out, p, n) < 0)
			return fail_sys(NULL, em->out_name);
		pos += n;
	}
	if (tar_write_pad(&em->out, src->size) < 0)
		return fail_sys(NULL, em->out_name);
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
	uint64_t done = 0, size = src->size;
	loff_t off = (loff_t)(ly->off + src->data_off);

	/* small files go through the buffer: a splice each would cost more
	 * in system calls than the copy */
	if (em->direct == DIRECT_NONE || tar_in_is_gzip(ly->in) || ent_sparse(src) ||
	    size < DIRECT_MIN)
		return 0;
	if (tar_out_flush(&em->out) < 0)
		return fail_sys(NULL, em->out_name);
	while (done < size) {
		size_t n = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
		ssize_t r = em->direct == DIRECT_SPLICE
			? splice(ly->fd, &off, em->out.fd, NULL, n, SPLICE_F_MORE)
			: copy_file_range(ly->fd, &off, em->out.fd, NULL, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS || errno == EXDEV ||
					   errno == EOPNOTSUPP || errno == EBADF)) {
			em->direct = DIRECT_NONE;       /* not for this pair of files */
			return 0;
		}
		if (r < 0)
			return fail_sys(NULL, em->out_name);
		if (r == 0)
			return fail(src, "input changed since it was indexed");
		done += (uint64_t)r;
		em->out.written += (uint64_t)r;
	}
	return 1;
}

/* Writes the content of SRC, whose tar_entry (ent_tar) is T. */
static int
copy_content(struct emitter *em, const struct ent *src, const struct tar_entry *t)
{
	struct layer *ly = layers[src->layer];
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
		unsigned char *p = tar_out_room(&em->out, size - pos < SIZE_MAX
						? (size_t)(size - pos) : SIZE_MAX, &n);
		if (!p)
			return fail_sys(NULL, em->out_name);
		if (tar_read_content(ly->in, t, pos, p, n, &te) < 0)
			return fail_tar(ly, &te);
		tar_out_commit(&em->out, n);
		pos += n;
	}
	if (tar_write_pad(&em->out, size) < 0)
		return fail_sys(NULL, em->out_name);
	return 0;
}

/* A line of -t's listing, built with printf formats. */
struct buf_line {
	char *p;
	size_t len, cap;
};

static void line_add(struct buf_line *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
line_add(struct buf_line *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends S to B, with a backslash and three octal digits for control
 * characters and backslashes, as tar -t writes names. */
static void
put_escaped(struct buf_line *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\')
			line_add(b, "\\%03o", c);
		else
			line_add(b, "%c", c);
	}
}

/* "drwxr-xr-x": the type letter of tar -tv and the mode. */
static void
mode_string(char type, uint32_t mode, char out[11])
{
	static const char types[] = "0-1h2l3c4b5d6p";
	const char *t = strchr(types, type);

	out[0] = t && (t - types) % 2 == 0 ? t[1] : '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (0400u >> i) ? "rwxrwxrwx"[i] : '-';
	if (mode & 04000)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (mode & 02000)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (mode & 01000)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

/*
 * -t: one line for entry T, supplied by layer LY, in the form of tar -tv
 * with numeric owners, the layer before the name so the name can end the
 * line: MODE UID/GID SIZE DATE TIME LAYER[:DIGEST] NAME [-> TARGET | link
 * to CARRIER].
 */
static int
list_entry(struct emitter *em, const struct tar_entry *t, const struct layer *ly)
{
	struct buf_line b = { 0 };
	char mode[11], when[32];
	struct tm tm;
	time_t secs = (time_t)t->mtime;

	mode_string(t->type, t->mode, mode);
	if ((int64_t)secs == t->mtime && gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	else
		snprintf(when, sizeof(when), "@%lld", (long long)t->mtime);
	line_add(&b, "%s %llu/%llu ", mode, (unsigned long long)t->uid,
		 (unsigned long long)t->gid);
	if (t->type == '3' || t->type == '4')
		line_add(&b, "%u,%u", t->devmajor, t->devminor);
	else
		line_add(&b, "%llu", (unsigned long long)t->size);
	line_add(&b, " %s %zu%s%s ", when, ly->pos, ly->id[0] ? ":" : "", ly->id);
	put_escaped(&b, t->name);
	if (t->type == '5')
		line_add(&b, "/");
	if (t->type == '2' || t->type == '1') {
		line_add(&b, t->type == '2' ? " -> " : " link to ");
		put_escaped(&b, t->linkname);
	}
	line_add(&b, "\n");
	int r = b.p ? tar_write_data(&em->out, b.p, b.len) : -1;
	free(b.p);
	return r;
}

static int
emit_node(struct emitter *em, struct node *n, size_t plen)
{
	struct inode *ino = ino_of(n);
	const struct ent *src = n->src;
	struct tar_entry t;
	char type = src->type;

	/* a later name of a file with several is a hardlink to the first;
	 * unknown types go out as regular files */
	if (ino && ino->carrier && ino->carrier != n)
		type = '1';
	else if (type != '2' && type != '3' && type != '4' && type != '5' && type != '6')
		type = '0';
	if (em->planning) {
		if (type == '0' && use_ahead(em, src) &&
		    ahead_add(em->ahead, layers[src->layer]->in, src->layer,
			      src->data_off, src->size) < 0)
			die_oom();
		return 0;
	}
	ent_tar(src, &t);
	t.name = em->path;
	t.type = type;
	if (type == '1') {
		t.linkname = ino->carrier_path;
		t.pax = NULL;
		t.paxlen = 0;
	}
	if (type != '0')
		t.size = 0;
	if (type != '1' && type != '2')
		t.linkname = (char *)"";
	if (verbose)
		fprintf(stderr, "%s\n", em->path);
	if (opt_list) {
		if (list_entry(em, &t, layers[src->layer]) < 0)
			return fail_sys(NULL, em->out_name);
	} else if (tar_write_header(&em->out, &t) < 0) {
		return fail_sys(NULL, em->out_name);
	} else if (t.type == '0' && copy_content(em, src, &t) < 0) {
		return -1;
	}
	if (ino && ino->carrier == n && ino->nnames > 1) {
		ino->carrier_path = arena_alloc(plen + 1);
		memcpy(ino->carrier_path, em->path, plen + 1);
	}
	return 0;
}

/*
 * Writes the tree depth-first, each directory followed at once by all that
 * is under it. Iterative, going back up by the parent links: the tree can
 * be deeper than the C stack. em->path holds the path of the directory
 * being walked (PLEN bytes), then of the entry being written.
 */
static int
emit_tree(struct emitter *em)
{
	struct node *dir = root, *n;
	size_t plen = 0;

	if (dir->resort)
		sort_kids(dir);
	n = next_written(dir, kids_of(dir));
	while (dir) {
		if (!n) {
			/* back to the parent's path, and on after DIR */
			plen = plen > dir->len ? plen - dir->len - 1 : 0;
			em->path[plen] = '\0';
			n = dir->parent ? next_written(parent_of(dir), next_of(dir)) : NULL;
			dir = parent_of(dir);
			continue;
		}
		size_t len = plen + (plen > 0) + n->len;
		if (len + 1 > em->cap) {
			em->cap = (len + 1) * 2;
			em->path = xrealloc(em->path, em->cap);
		}
		if (plen)
			em->path[plen] = '/';
		memcpy(em->path + plen + (plen > 0), n->name, n->len);
		em->path[len] = '\0';
		if (emit_node(em, n, len) < 0)
			return -1;
		if (n->dir) {
			if (n->resort)
				sort_kids(n);
			dir = n;
			plen = len;
			n = next_written(dir, kids_of(dir));
		} else {
			em->path[plen] = '\0';
			n = next_written(dir, next_of(n));
		}
	}
	return 0;
}

static int
inputs_unchanged(void)
{
	for (size_t i = 0; i < nlayers; i++) {
		if (!tar_in_unchanged(layers[i]->in)) {
			struct error *er = &layers[i]->err;
			er->file = layers[i]->name;
			er->off = 0;
			snprintf(er->msg, sizeof(er->msg), "input changed while tarflat was reading it");
			return 0;
		}
	}
	return 1;
}

static int
emit(int fd, const char *out_name)
{
	struct emitter em = { .cap = 4096, .out_name = out_name };
	int rc = -1;

	em.path = xrealloc(NULL, em.cap);
	em.path[0] = '\0';
	if (tar_out_init(&em.out, fd) < 0)
		die_oom();
	struct stat st;
	if (fstat(fd, &st) == 0) {
		/* a larger pipe: the reader and tarflat wake each other less
		 * often (where the system allows it; else the pipe stays) */
		if (S_ISFIFO(st.st_mode))
			(void)fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
		if (!opt_list)
			em.direct = S_ISFIFO(st.st_mode) ? DIRECT_SPLICE
				  : S_ISREG(st.st_mode) ? DIRECT_COPY_RANGE : DIRECT_NONE;
	}
	choose_carriers();
	if (!opt_list && (em.ahead = ahead_new(opt_jobs > 1 ? opt_jobs : 0))) {
		/* the same walk, once to list what the workers inflate */
		em.planning = 1;
		emit_tree(&em);
		em.planning = 0;
		if (ahead_count(em.ahead) == 0 || ahead_start(em.ahead) < 0) {
			ahead_free(em.ahead);
			em.ahead = NULL;
		}
	}
	if (!inputs_unchanged() || emit_tree(&em) < 0)
		goto out;
	if (!inputs_unchanged())
		goto out;
	if ((opt_list ? tar_out_flush(&em.out) : tar_write_end(&em.out)) < 0) {
		fail_sys(NULL, em.out_name);
		goto out;
	}
	rc = 0;
out:
	ahead_free(em.ahead);
	tar_out_free(&em.out);
	free(em.path);
	return rc;
}

/* ---- main ------------------------------------------------------------ */

#define USAGE "usage: tarflat [-tv] [-j N] [-o FILE] [--path PATH]... " \
	"[--platform OS/ARCH[/VARIANT]] [--layers] INPUT...\n"

static void
usage(FILE *f)
{
	fputs(USAGE
	      "Flatten a container image into one POSIX tar of its final filesystem.\n"
	      "Each INPUT is a layer (plain, gzip, zstd, xz or bzip2 tar; oldest\n"
	      "first) or an image standing for its layers: a docker save archive,\n"
	      "an OCI archive or an OCI image layout directory; '-' is standard\n"
	      "input. INPUT:TAG or INPUT@sha256:HEX picks one image of several.\n"
	      "\n"
	      "  -j N             use N threads (default: the processors, at most 8)\n"
	      "  -o FILE          write to FILE instead of standard output\n"
	      "  -t               list the flattened tree instead of writing it\n"
	      "  -v               name each written path on standard error\n"
	      "  --path PATH      write only PATH and what is under it (repeatable)\n"
	      "  --platform P     the platform to pick from an image index\n"
	      "                   (default: this machine's, e.g. linux/amd64)\n"
	      "  --layers         read every INPUT as a layer, even an image\n"
	      "  -h, --help       show this help\n"
	      "  --version        show the version\n", f);
}

/*
 * --path: marks each PATH's node and its ancestors. A PATH must name
 * something in the final tree, by its name in the output (never through
 * a symlink). Returns 0, or -1 naming the first PATH that is not there.
 */
static int
select_paths(void)
{
	root->in = nopt_paths == 0;
	for (size_t i = 0; i < nopt_paths; i++) {
		const char *p = opt_paths[i];
		struct node *n = root;
		size_t at = 0, clen;
		const char *c;
		while (n && next_comp(p, strlen(p), &at, &c, &clen))
			n = child_get(n, c, clen);
		if (!n || n->hidden) {
			err.file = NULL;
			snprintf(err.msg, sizeof(err.msg), "--path %.300s: not in the image%s", p,
				 *p ? "" : " (an empty name)");
			return -1;
		}
		if (n == root)
			root->in = 1;
		n->sel = 1;
		for (n = parent_of(n); n; n = parent_of(n))
			n->anc = 1;
	}
	return 0;
}

/* Shrinks the gzip layers' indexes (tar_in_pack), on a thread of its own
 * while the tree is resolved: nothing else reads them before the emit. */
static void *
pack_layers(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < nlayers; i++)
		if (layers[i]->in)
			(void)tar_in_pack(layers[i]->in);       /* else left whole */
	malloc_trim(0);         /* the windows' old pages back to the system */
	return NULL;
}

static int
flatten(void)
{
	tree = hl_new32(node_match, node_item_hash, NULL);
	waiting = hl_new(pending_match, pending_hash, NULL);
	if (!tree || !waiting)
		die_oom();
	struct ent *r = arena_alloc(sizeof(*r));
	r->type = '5';
	root = node_alloc();
	root->src = r;
	root->dir = 1;
	int rc = open_inputs();
	if (rc == 0)
		rc = index_all();
	if (rc == 0)
		rc = expand_archives();
	if (rc == 0)
		rc = verify_layers();
	if (renumber() < 0 && rc == 0)
		rc = -1;
	pthread_t packer;
	int packing = rc == 0 && opt_jobs > 1 && pthread_create(&packer, NULL, pack_layers, NULL) == 0;
	if (rc == 0 && !packing)
		pack_layers(NULL);
	for (size_t i = 0; rc == 0 && i < nlayers; i++)
		rc = apply_layer(layers[i], (uint32_t)i);
	if (rc == 0)
		rc = select_paths();
	if (packing)
		pthread_join(packer, NULL);
	/* the tree is final: its lookups are done, and the emit's list of
	 * gzip content takes the memory */
	hl_free(tree);
	hl_free(waiting);
	tree = waiting = NULL;
	for (size_t i = 0; i < nlayers; i++) {
		hl_free(layers[i]->attr_map);
		layers[i]->attr_map = NULL;
	}
	return rc;
}

static void
layer_free(struct layer *ly)
{
	free(ly->ents);
	free(ly->attrs);
	free(ly->dirs);
	free(ly->names);
	free(ly->xs);
	hl_free(ly->attr_map);
	hl_free(ly->dir_map);
	pool_free(&ly->pool);
	free(ly->warnings);
	if (ly->in)
		tar_in_close(ly->in);
	if (ly->own_fd && ly->fd > STDIN_FILENO)
		close(ly->fd);
	free(ly->label);
	free(ly);
}

/*
 * Releases everything a run built, so that the fuzz target can run again in
 * the same process and leak checkers see a clean exit.
 */
static void
cleanup(void)
{
	for (size_t i = 0; i < nlayers; i++)
		layer_free(layers[i]);
	for (size_t i = 0; i < nretired; i++)
		layer_free(retired[i]);
	free(layers);
	free(retired);
	layers = retired = NULL;
	nlayers = nretired = 0;
	for (size_t i = 0; i < nimages; i++)
		image_free(&images[i]);
	free(images);
	images = NULL;
	nimages = 0;
	pool_free(&arena);
	free(path_buf.p);
	free(dir_buf.p);
	path_buf = dir_buf = (struct buf){ NULL, 0 };
	hl_free(tree);
	hl_free(waiting);
	tree = waiting = NULL;
	nodes_free();
	memset(&err, 0, sizeof(err));
	warned_type = 0;
}

/*
 * Opens -o's temporary file beside FILE, renamed into place on success, so
 * a failed run leaves FILE as it was. A device or fifo is written directly.
 */
static int
open_output(const char *file, char **tmp)
{
	struct stat st;
	size_t n = strlen(file) + 16;

	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		return fd < 0 ? fail_sys(NULL, file) : fd;
	}

	*tmp = xrealloc(NULL, n);
	snprintf(*tmp, n, "%s.tmp.XXXXXX", file);
	int fd = mkstemp(*tmp);
	if (fd < 0)
		return fail_sys(NULL, file);
	out_tmp = *tmp;
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	return fd;
}

/* Index, resolve, emit to OUTPUT or standard output. Returns 0 or -1. */
static int
run(const char *output)
{
	char *tmp = NULL;
	int fd = STDOUT_FILENO, rc = -1;

	if (flatten() < 0)
		return -1;
	if (output && (fd = open_output(output, &tmp)) < 0)
		return -1;
	if (emit(fd, output ? output : "standard output") == 0) {
		/* A late error (NFS, quota) can show only at close. */
		if (close(fd) < 0 || (tmp && rename(tmp, output) < 0))
			fail_sys(NULL, output ? output : "standard output");
		else
			rc = 0;
	}
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	out_tmp = NULL;
	return rc;
}

#ifndef TARFLAT_NO_MAIN
/* A usage error: what is wrong, then the usage line; exit status 2. */
static int
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "tarflat: %s%s\n" USAGE "Try 'tarflat --help' for more.\n",
		what, arg);
	return 2;
}

/*
 * INPUT, INPUT:TAG or INPUT@DIGEST: the operand names a file or directory
 * as it stands when that exists; otherwise the first ':' or '@' after
 * which the part before exists (or is "-") starts the selection, so a tag
 * may itself hold ':' ("img.tar:alpine:3.20"). Returns 0, or -1 for a
 * malformed digest.
 */
static int
parse_input(const char *arg, struct input *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->arg = arg;
	in->path = strdup(arg);
	if (!in->path)
		die_oom();
	if (strcmp(arg, "-") == 0 || opt_layers || stat(arg, &st) == 0)
		return 0;
	for (char *p = in->path; *p; p++) {
		if (*p != ':' && *p != '@')
			continue;
		char sep = *p;
		*p = '\0';
		if (p > in->path && (strcmp(in->path, "-") == 0 || stat(in->path, &st) == 0)) {
			const char *sel = arg + (p - in->path) + 1;
			if (sep == ':')
				in->sel.ref = sel;
			else if (strncmp(sel, "sha256:", 7) == 0 || strncmp(sel, "sha512:", 7) == 0)
				in->sel.digest = sel;
			else
				return -1;
			return 0;
		}
		*p = sep;
	}
	return 0;
}

/* --path PATH, normalised like a member name. */
static void
add_path(const char *arg)
{
	char *p = strdup(arg);

	if (!p)
		die_oom();
	normalise(p);
	opt_paths = xrealloc(opt_paths, (nopt_paths + 1) * sizeof(*opt_paths));
	opt_paths[nopt_paths++] = p;
}

#define STDIN_MARK '\x01'

int
main(int argc, char **argv)
{
	enum { OPT_PATH = 256, OPT_PLATFORM, OPT_LAYERS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "layers", no_argument, NULL, OPT_LAYERS },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	int c, stdin_used = 0;

	/*
	 * "-:TAG" and "-@DIGEST" are standard input with a selection, not
	 * options: hide their dash from getopt, which may reorder argv.
	 */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && (argv[i][1] == ':' || argv[i][1] == '@'))
			argv[i][0] = STDIN_MARK;
#ifdef M_MMAP_THRESHOLD
	/*
	 * Large blocks (the entry arrays, the path map, the emit's list) from
	 * mmap always: glibc otherwise raises the threshold as such blocks are
	 * freed, serves the next ones from the heap, and keeps what is freed
	 * there when the resolve's map goes. 2 MiB keeps the emit's buffers of
	 * content (at most 1 MiB, one after another) in the heap, reused:
	 * mapping each afresh costs its page faults, 8% on a gzip stack.
	 */
	mallopt(M_MMAP_THRESHOLD, 2 << 20);
#endif
#ifdef M_ARENA_MAX
	/*
	 * One arena for all threads: the emit's workers allocate the buffers
	 * of content that the writer frees, and in arenas of their own what
	 * is freed was held apart from what is allocated next (2 MiB on a
	 * layer of 340k small files). Threads allocate seldom, in large
	 * pieces: the shared lock cost nothing measurable.
	 */
	mallopt(M_ARENA_MAX, 1);
#endif
	opterr = 0;     /* getopt would name argv[0]; usage_error says tarflat */
	opt_jobs = default_jobs();
	while ((c = getopt_long(argc, argv, ":hj:o:tv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tarflat " VERSION);
			return 0;
		case 'o':
			output = optarg;
			break;
		case 't':
			opt_list = 1;
			break;
		case 'j': {
			char *end;
			unsigned long j = strtoul(optarg, &end, 10);
			if (*end || j < 1 || j > MAX_JOBS || optarg[0] == '-')
				return usage_error("-j wants a number of threads from 1 to 8, not ",
						   optarg);
			opt_jobs = (size_t)j;
			break;
		}
		case 'v':
			verbose = 1;
			break;
		case OPT_PATH:
			add_path(optarg);
			break;
		case OPT_PLATFORM: {
			char os[64], arch[64];
			if (sscanf(optarg, "%63[^/]/%63[^/]", os, arch) != 2)
				return usage_error("--platform wants OS/ARCH[/VARIANT], not ", optarg);
			opt_platform = optarg;
			break;
		}
		case OPT_LAYERS:
			opt_layers = 1;
			break;
		case ':':
			if (optopt == 'o' || optopt == 'j')
				return usage_error(optopt == 'o' ? "option needs an argument: -o"
						   : "option needs an argument: -j", "");
			return usage_error("option needs an argument: ", argv[optind - 1]);
		default:
			if (optopt) {
				char opt[3] = { '-', (char)optopt, '\0' };
				return usage_error("unknown option: ", opt);
			}
			return usage_error("unknown option: ", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no layers given", "");
	if (!output && !opt_list && isatty(STDOUT_FILENO)) {
		fputs("tarflat: refusing to write a tar to a terminal; use -o FILE or a pipe\n", stderr);
		return 2;
	}
	ninputs = (size_t)(argc - optind);
	inputs = calloc(ninputs, sizeof(*inputs));
	if (!inputs)
		die_oom();
	for (size_t i = 0; i < ninputs; i++) {
		struct input *in = &inputs[i];
		if (argv[optind + (int)i][0] == STDIN_MARK)
			argv[optind + (int)i][0] = '-';
		if (parse_input(argv[optind + (int)i], in) < 0)
			return usage_error("a digest is sha256:HEX or sha512:HEX: ", in->arg);
		if (strcmp(in->path, "-") == 0 && stdin_used++) {
			fputs("tarflat: standard input given twice\n", stderr);
			return 2;
		}
	}
	int rc = 0;
	if (run(output) < 0) {
		report();
		rc = 1;
	}
	cleanup();
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i].path);
	free(inputs);
	for (size_t i = 0; i < nopt_paths; i++)
		free(opt_paths[i]);
	free(opt_paths);
	return rc;
}
#endif /* TARFLAT_NO_MAIN: t/fuzz/fuzz_flatten.c includes this file */
