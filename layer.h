/*
 * layer.h - the index: each layer's members, kept compact, without their
 * content.
 *
 * A layer is a file, a byte range of an image archive, or a spooled or
 * decompressed copy of either (layer_open). Indexing reads its headers
 * once (tar.c; gzip through gz.c) into struct ent records of 48 bytes:
 * the normalised name as a directory (interned, by index) and a base name
 * (an offset into the layer's names), what many members share (owner,
 * pax globals: struct attrs, interned) and what few members have (link
 * target, devices, sparse map, pax records: struct extra, out of line).
 * An eStargz layer's TOC and prefetch landmarks are not indexed.
 * ent_tar gives a member's tar_entry back. Layers are indexed side by
 * side on threads (layers_index), one layer per thread at a time.
 *
 * Ownership: struct layers owns its layers; a layer owns its entries,
 * names, attrs, dirs and extras (in its pool), its reader and its file
 * (own_fd). Entries made outside a layer (the tree's implicit
 * directories) still find their name and attrs through the layer they
 * name. Everything lives until layers_free.
 *
 * Errors: what goes wrong with a layer is kept in its err (the first
 * error wins), what goes wrong outside any layer in layers.err;
 * layers_report prints the first. Nothing here exits but die_oom.
 */
#ifndef TARFLAT_LAYER_H
#define TARFLAT_LAYER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "mem.h"
#include "tar.h"

#define MAX_LAYERS 65534        /* so that 1 + a layer fits in 16 bits */
#define MAX_STREAM ((uint64_t)1 << 48)  /* bytes of a layer's tar stream */
#define MTIME_FAR UINT32_MAX
#define HDR_FAR UINT32_MAX

struct error {
	const char *file;       /* NULL: the message stands alone */
	uint64_t off;
	char msg[512];
	int epipe;              /* the reader of our output went away */
};

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

struct input;

struct layer {
	const char *name;       /* for messages: the file as given, or
	                         * "IMAGE: layer N (sha256:0123456789ab)" */
	char *label;            /* NAME, when made for an image's layer */
	const char *path;       /* the file to open; "-" standard input */
	const struct input *input;      /* the operand it comes from */
	int fd, own_fd;
	uint64_t off, len;      /* the layer's bytes in the file; LEN
	                         * UINT64_MAX: up to the end */
	int operand;            /* an operand itself, not an image's layer */
	int may_be_image;       /* an operand that may hold an image */
	int indexed;
	int filtered;           /* decompressed by zstd, xz or bzip2 into FD */
	int raw_fd, own_raw;    /* the layer's bytes as stored, RAW_LEN at
	                         * RAW_OFF (before any filter): what an image
	                         * output copies; RAW_FD is closed with the
	                         * layer when OWN_RAW */
	uint64_t raw_off, raw_len;
	int estargz;            /* eStargz: its stargz.index.json,
	                         * .prefetch.landmark and .no.prefetch.landmark
	                         * at the top are left out of the index. The
	                         * caller sets it before layers_index when the
	                         * layer's descriptor has the annotation
	                         * containerd.io/snapshot/stargz/toc.digest;
	                         * layer_open sets it on finding the footer */
	const struct image_layer *image_layer;  /* what the image says of it,
	                                         * or NULL (input.c) */
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

/* The layers of a run, oldest first, and what they came from. */
struct layers {
	struct layer **v;
	size_t n;
	size_t jobs;            /* threads for indexing (and the emit) */
	int verbose;            /* -v: say what images were found */
	struct error err;       /* what went wrong outside any one layer */
	struct layer **retired; /* image archives, read through their layers:
	                         * their files stay open (input.c) */
	size_t nretired;
	struct image *images;   /* own the digests and blob names (input.c) */
	size_t nimages;
	pthread_t packer;       /* layers_pack_start's thread */
	int packing;
};

/* A growable buffer for names put together. */
struct namebuf {
	char *p;
	size_t cap;
};

/* ---- an entry's fields (inline: the resolve and the emit read them for
 * every entry) ---------------------------------------------------------- */

static inline const char *
ent_base(const struct layers *L, const struct ent *e)
{
	return e->base ? L->v[e->layer]->names + e->base : "";
}

static inline const struct extra *
ent_x(const struct layers *L, const struct ent *e)
{
	return e->x ? &L->v[e->layer]->xs[e->x - 1] : NULL;
}

/* The link target ("" if none). */
static inline const char *
ent_link(const struct layers *L, const struct ent *e)
{
	const struct extra *x = ent_x(L, e);

	return x && x->linkname ? x->linkname : "";
}

/* Where the member's first header starts in the layer's stream. */
static inline uint64_t
ent_hdr_off(const struct layers *L, const struct ent *e)
{
	return e->hdr_back == HDR_FAR ? ent_x(L, e)->hdr_off : e->data_off - e->hdr_back;
}

static inline int64_t
ent_mtime(const struct layers *L, const struct ent *e)
{
	return e->mtime == MTIME_FAR ? ent_x(L, e)->mtime : e->mtime;
}

static inline int
ent_sparse(const struct layers *L, const struct ent *e)
{
	const struct extra *x = ent_x(L, e);

	return x && x->sparse;
}

static inline const struct attrs *
ent_attrs(const struct layers *L, const struct ent *e)
{
	return L->v[e->layer]->attrs[e->attrs];
}

/* E's directory part in B (reused by the next call on B); its length in
 * *LEN. */
const char *ent_dir(const struct layers *L, const struct ent *e, struct namebuf *b,
		    size_t *len);

/* E's whole normalised name, in B. */
const char *ent_path(const struct layers *L, const struct ent *e, struct namebuf *b);

/*
 * ent_tar: E as the tar_entry that tar.c reads and writes through: its
 * strings E's own (its name the base name), not to be freed.
 */
void ent_tar(const struct layers *L, const struct ent *e, struct tar_entry *t);

/* Sets E's mtime to T, out of line (in LY's extras) if it must be. */
void ent_set_mtime(struct layer *ly, struct ent *e, int64_t t);

/* The index of KEY in LY's attrs, added (its strings copied) if new. */
uint32_t layer_attrs_intern(struct layer *ly, const struct attrs *key);

/* ---- layers ------------------------------------------------------------ */

/* A new layer, not yet open: NAME for messages, PATH the file ("-":
 * standard input), IN the operand it stands for (or NULL). */
struct layer *layer_new(const char *name, const char *path, const struct input *in);

/* Appends LY to L. */
void layers_add(struct layers *L, struct layer *ly);

/*
 * layers_index: opens and indexes every layer of L not yet indexed,
 * L->jobs of them at a time, and prints their warnings in layer order.
 * Returns 0, or -1 when some layer failed (its err says why).
 */
int layers_index(struct layers *L);

/* Does LY have a top-level regular file NAME? */
int layer_has_member(const struct layer *ly, const char *name);

/* Relabels the entries of the layer in slot I of L: they find their
 * names through it. */
void layers_moved(struct layers *L, size_t i);

/* tar_in_unchanged for every layer: 0, with the layer's err set, when
 * one changed since it was opened. */
int layers_unchanged(struct layers *L);

/*
 * Packing the gzip layers' indexes (tar_in_pack) while the tree is
 * resolved, on a thread of its own where there are several jobs: nothing
 * reads the indexes before the emit. layers_pack_wait waits for it.
 */
void layers_pack_start(struct layers *L);
void layers_pack_wait(struct layers *L);

/* Drops the maps that only indexing and resolving use. */
void layers_drop_maps(struct layers *L);

/* Frees every layer, retired ones and images included; L is then empty. */
void layers_free(struct layers *L);

/* ---- errors -------------------------------------------------------------- */

/* Records, in its layer, what is wrong with entry E; returns -1. */
int layer_fail(struct layers *L, const struct ent *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a system call's failure (errno) about WHAT, in LY's err or,
 * with LY NULL, in L's; returns -1. */
int layer_fail_sys(struct layers *L, struct layer *ly, const char *what);

/* Records reading error TE in LY's err; returns -1. */
int layer_fail_tar(struct layer *ly, const struct tar_err *te);

/* Records "WHAT: MSG" in L's err; returns -1. */
int layers_fail(struct layers *L, const char *what, const char *msg);

/* Prints "tarflat: FILE: offset N: warning: ..." to standard error. */
void warn(const char *file, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints the first layer's error, or else L's own (nothing for a closed
 * pipe downstream). */
void layers_report(const struct layers *L);

#endif
