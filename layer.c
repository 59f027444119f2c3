/*
 * layer.c - the index: opening layers, reading their headers into compact
 * entries, side by side on threads (see layer.h); what an eStargz layer
 * adds for lazy pulling is left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "filter.h"
#include "hlmap.h"
#include "io.h"
#include "layer.h"
#include "path.h"

#define COPY_BUF (256 * 1024)
#define MAX_FILTERS 4           /* compressions inside compressions undone */
#define MAX_JOBS 8

/* ---- messages ---------------------------------------------------------- */

void
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

int
layer_fail(struct layers *L, const struct ent *e, const char *fmt, ...)
{
	struct layer *ly = L->v[e->layer];
	va_list ap;

	ly->err.file = ly->name;
	ly->err.off = ent_hdr_off(L, e);
	va_start(ap, fmt);
	vsnprintf(ly->err.msg, sizeof(ly->err.msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
layer_fail_tar(struct layer *ly, const struct tar_err *te)
{
	ly->err.file = ly->name;
	ly->err.off = te->off;
	snprintf(ly->err.msg, sizeof(ly->err.msg), "%s", te->msg);
	return -1;
}

int
layer_fail_sys(struct layers *L, struct layer *ly, const char *what)
{
	struct error *er = ly ? &ly->err : &L->err;

	er->file = NULL;
	er->epipe = errno == EPIPE;
	snprintf(er->msg, sizeof(er->msg), "%.300s: %s", what, strerror(errno));
	return -1;
}

int
layers_fail(struct layers *L, const char *what, const char *msg)
{
	L->err.file = NULL;
	snprintf(L->err.msg, sizeof(L->err.msg), "%.200s: %.300s", what, msg);
	return -1;
}

void
layers_report(const struct layers *L)
{
	const struct error *er = &L->err;

	for (size_t i = 0; i < L->n; i++) {
		if (L->v[i]->err.msg[0]) {
			er = &L->v[i]->err;
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

/* ---- attrs ------------------------------------------------------------- */

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

uint32_t
layer_attrs_intern(struct layer *ly, const struct attrs *key)
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

/* ---- directory parts ------------------------------------------------------ */

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

/* Dir D of LY as a path at the start of B, with room for EXTRA bytes
 * after it; its length. */
static size_t
dir_path(const struct layer *ly, uint32_t d, struct namebuf *b, size_t extra)
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

/* ---- entries ------------------------------------------------------------- */

const char *
ent_dir(const struct layers *L, const struct ent *e, struct namebuf *b, size_t *len)
{
	*len = dir_path(L->v[e->layer], e->dir, b, 0);
	return b->p;
}

const char *
ent_path(const struct layers *L, const struct ent *e, struct namebuf *b)
{
	const char *base = ent_base(L, e);
	size_t bl = strlen(base), dl = dir_path(L->v[e->layer], e->dir, b, 1 + bl);

	if (dl)
		b->p[dl] = '/';
	memcpy(b->p + dl + (dl > 0), base, bl + 1);
	return b->p;
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

void
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

/* E's extra, for what few members have; T is the member just read. */
static void
keep_extra(struct layer *ly, struct ent *e, const struct tar_entry *t)
{
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
	e->attrs = layer_attrs_intern(ly, &key);
	e->x = 0;
	if (*t->linkname || e->hdr_back == HDR_FAR || t->devmajor || t->devminor || t->sparse ||
	    t->pax || t->data_len != t->size)
		keep_extra(ly, e, t);
	ent_set_mtime(ly, e, t->mtime);
	return NULL;
}

void
ent_tar(const struct layers *L, const struct ent *e, struct tar_entry *t)
{
	const struct attrs *a = ent_attrs(L, e);
	const struct extra *x = ent_x(L, e);

	*t = (struct tar_entry){
		.name = (char *)ent_base(L, e), .linkname = (char *)ent_link(L, e),
		.uname = (char *)a->uname, .gname = (char *)a->gname,
		.type = e->type, .mode = e->mode, .uid = a->uid, .gid = a->gid,
		.mtime = ent_mtime(L, e), .size = e->size, .hdr_off = ent_hdr_off(L, e),
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

/* ---- eStargz -------------------------------------------------------------- */

/*
 * An eStargz layer (docs/estargz.md in containerd/stargz-snapshotter) is a
 * gzip tar that ends with an empty gzip member, the footer, whose extra
 * field gives the offset of the gzip member holding the TOC (the tar
 * member stargz.index.json):
 *
 *   eStargz         51 bytes  subfield 'S' 'G', LEN 22: "%016xSTARGZ"
 *   legacy stargz   47 bytes  the extra field bare: "%016xSTARGZ"
 *                             (google/crfs)
 *   external TOC    46 bytes  subfield 'S' 'G', LEN 17: "STARGZEXTERNALTOC"
 *                             (no TOC in the layer)
 *
 * Each has a 10-byte gzip header with FEXTRA, XLEN, the extra field, an
 * empty stored block (5 bytes) and CRC and ISIZE (8 bytes).
 */
#define ESTARGZ_FOOTER 51
#define STARGZ_FOOTER 47
#define EXTERNAL_TOC_FOOTER 46
#define TOC_NONE UINT64_MAX     /* an external TOC */

/* Is P the start of a gzip member whose extra field is XLEN bytes and
 * that holds nothing else (FTEXT aside: no name, comment or CRC)? */
static int
footer_head(const unsigned char *p, unsigned xlen)
{
	return p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && (p[3] & 0xfe) == 0x04 &&
	       p[10] == (xlen & 0xff) && p[11] == xlen >> 8;
}

/* The 16 hex digits at P and "STARGZ" after them: the TOC's offset in
 * *TOC. Returns 1, or 0 when P is not that. */
static int
footer_offset(const unsigned char *p, uint64_t *toc)
{
	uint64_t v = 0;

	if (memcmp(p + 16, "STARGZ", 6) != 0)
		return 0;
	for (int i = 0; i < 16; i++) {
		int c = p[i], d = c >= '0' && c <= '9' ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return 0;
		v = v << 4 | (uint64_t)d;
	}
	*toc = v;
	return 1;
}

/*
 * B is the last N bytes of a layer (N <= ESTARGZ_FOOTER). Returns the
 * size of the footer it ends with, the TOC's offset in *TOC (TOC_NONE
 * for an external TOC); 0 when it ends with none.
 */
static size_t
stargz_footer(const unsigned char *b, size_t n, uint64_t *toc)
{
	const unsigned char *p;

	if (n >= ESTARGZ_FOOTER && footer_head(p = b + n - ESTARGZ_FOOTER, 26) &&
	    p[12] == 'S' && p[13] == 'G' && p[14] == 22 && p[15] == 0 &&
	    footer_offset(p + 16, toc))
		return ESTARGZ_FOOTER;
	if (n >= STARGZ_FOOTER && footer_head(p = b + n - STARGZ_FOOTER, 22) &&
	    footer_offset(p + 12, toc))
		return STARGZ_FOOTER;
	if (n >= EXTERNAL_TOC_FOOTER && footer_head(p = b + n - EXTERNAL_TOC_FOOTER, 21) &&
	    p[12] == 'S' && p[13] == 'G' && p[14] == 17 && p[15] == 0 &&
	    memcmp(p + 16, "STARGZEXTERNALTOC", 17) == 0) {
		*toc = TOC_NONE;
		return EXTERNAL_TOC_FOOTER;
	}
	return 0;
}

/*
 * Does the gzip member at TOC in LY (SIZE bytes) start with the tar header
 * of stargz.index.json, as the TOC's member does? Reads at most
 * TOC_PEEK bytes of it. Returns 1 or 0.
 */
#define TOC_PEEK 4096
static int
toc_member(const struct layer *ly, uint64_t toc, uint64_t size)
{
	static const char name[] = "stargz.index.json";
	unsigned char in[TOC_PEEK], blk[TAR_BLOCK];
	size_t want = size - toc < sizeof(in) ? (size_t)(size - toc) : sizeof(in);
	ssize_t n = pread(ly->fd, in, want, (off_t)(ly->off + toc));
	z_stream z = { 0 };
	int r;

	if (n < 10 || in[0] != 0x1f || in[1] != 0x8b || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return 0;
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = blk;
	z.avail_out = sizeof(blk);
	do
		r = inflate(&z, Z_NO_FLUSH);
	while (r == Z_OK && z.avail_out && z.avail_in);
	inflateEnd(&z);
	return z.avail_out == 0 && tar_is_header(blk, sizeof(blk)) &&
	       memcmp(blk, name, sizeof(name)) == 0;   /* its NUL too */
}

/*
 * Sets LY->estargz when the gzip layer LY ends with an eStargz or stargz
 * footer whose TOC offset gives a gzip member that starts with the TOC
 * (or when the footer says the TOC is external). A footer that points
 * elsewhere gets a warning and the layer is read as plain gzip: its tar
 * stream is whole without the footer, and hiding members on the word of
 * a damaged footer would be a guess. Returns 0, or -1 on a read error.
 */
static int
find_estargz(struct layer *ly)
{
	unsigned char b[ESTARGZ_FOOTER];
	struct stat st;
	uint64_t toc, size;
	size_t n, flen;
	ssize_t r;

	if (fstat(ly->fd, &st) < 0)
		return layer_fail_sys(NULL, ly, ly->name);
	size = ly->len != UINT64_MAX ? ly->len : (uint64_t)st.st_size - ly->off;
	n = size < sizeof(b) ? (size_t)size : sizeof(b);
	if ((r = pread(ly->fd, b, n, (off_t)(ly->off + size - n))) < 0)
		return layer_fail_sys(NULL, ly, ly->name);
	/* short: the file shrank, which reading it will report */
	if ((size_t)r != n || !(flen = stargz_footer(b, n, &toc)))
		return 0;
	if (toc != TOC_NONE && (toc >= size - flen || !toc_member(ly, toc, size - flen))) {
		char msg[200];
		snprintf(msg, sizeof(msg), "%s footer: no stargz.index.json at the TOC offset "
			 "%llu it gives; read as plain gzip, the TOC and landmarks kept",
			 flen == ESTARGZ_FOOTER ? "eStargz" : "stargz", (unsigned long long)toc);
		layer_warn(ly, size - flen, msg);
		return 0;
	}
	ly->estargz = 1;
	return 0;
}

/* Is NAME (normalised) what an eStargz layer adds at its top: the TOC or
 * a prefetch landmark? */
static int
estargz_meta(const char *name)
{
	return strcmp(name, "stargz.index.json") == 0 ||
	       strcmp(name, ".prefetch.landmark") == 0 ||
	       strcmp(name, ".no.prefetch.landmark") == 0;
}

/* ---- opening a layer ------------------------------------------------------ */

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
	if (fd < 0) {
		char what[300];
		snprintf(what, sizeof(what), "a temporary file in %.200s (TMPDIR)",
			 filter_temp_dir());
		return layer_fail_sys(NULL, ly, what);
	}
	char *buf = xmalloc(COPY_BUF);
	ssize_t n;
	while ((n = read(ly->fd, buf, COPY_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || io_write_all(fd, buf, (size_t)n) < 0) {
			int full = n >= 0 && filter_temp_full(fd, errno, ly->err.msg,
							      sizeof(ly->err.msg));
			free(buf);
			close(fd);
			if (!full)
				return layer_fail_sys(NULL, ly, n < 0 ? ly->name
						      : "spooling to a temporary file");
			ly->err.file = ly->name;
			ly->err.off = 0;
			return -1;
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
		return layer_fail_sys(NULL, ly, ly->name);
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
	/* the stored bytes stay open for an image output to copy (raw_fd);
	 * what an inner compression left is not needed again */
	if (!ly->filtered)
		ly->own_raw = ly->own_fd;
	else if (ly->own_fd)
		close(ly->fd);
	ly->fd = fd;
	ly->own_fd = 1;
	ly->off = 0;
	ly->len = UINT64_MAX;
	ly->filtered = 1;
	return 1;
}

/* Opens LY's own file ("-" is standard input; a pipe is spooled). */
static int
open_file(struct layer *ly)
{
	struct stat st;

	if (strcmp(ly->path, "-") == 0)
		ly->fd = STDIN_FILENO;
	else if ((ly->fd = open(ly->path, O_RDONLY | O_CLOEXEC)) < 0)
		return layer_fail_sys(NULL, ly, ly->name);
	ly->own_fd = 1;
	if (fstat(ly->fd, &st) < 0)
		return layer_fail_sys(NULL, ly, ly->name);
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return layer_fail_sys(NULL, ly, ly->name);
	}
	if (!S_ISREG(st.st_mode) && lseek(ly->fd, 0, SEEK_CUR) < 0 && spool(ly) < 0)
		return -1;
	/* 0 bytes are no layer: what a failed save leaves (an image blob of
	 * 0 bytes, whose digest says so, is one: it is no operand) */
	if (ly->operand && fstat(ly->fd, &st) == 0 && st.st_size == 0) {
		ly->err.file = NULL;
		snprintf(ly->err.msg, sizeof(ly->err.msg), "%.300s: empty input (0 bytes): "
			 "neither a layer nor an image",
			 strcmp(ly->name, "-") == 0 ? "standard input" : ly->name);
		return -1;
	}
	return 0;
}

/*
 * Opens layer LY: its file, or the range of an image archive it shares.
 * Hashing starts here when the image names digests: it happens while the
 * layer is indexed.
 */
static int
layer_open(struct layer *ly)
{
	if (ly->fd < 0 && open_file(ly) < 0)
		return -1;
	ly->raw_fd = ly->fd;
	ly->raw_off = ly->off;
	ly->raw_len = ly->len;
	if ((ly->digest && image_hash_init(&ly->hraw, ly->digest) < 0) ||
	    (ly->diff_id && image_hash_init(&ly->htar, ly->diff_id) < 0))
		return layer_fail_sys(NULL, ly, "bad digest");  /* image.c checked them */
	/* a compression inside another (xz of a zstd stream) is undone too */
	for (int depth = 0, r = 1; r > 0 && depth < MAX_FILTERS; depth++)
		if ((r = maybe_filter(ly)) < 0)
			return -1;
	struct tar_err te = { 0, "" };
	ly->in = tar_in_open_range(ly->fd, ly->off, ly->len, tar_warn, ly, &te);
	if (!ly->in)
		return layer_fail_tar(ly, &te);
	if (ly->digest || ly->diff_id)
		tar_in_feed(ly->in, feed_raw, feed_tar, ly);
	if (tar_in_is_gzip(ly->in) && !ly->estargz)
		return find_estargz(ly);
	return 0;
}

/* ---- indexing ------------------------------------------------------------ */

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
		if (strncmp(c, WH, strlen(WH)) == 0 && strncmp(c, WH_META, strlen(WH_META)) != 0)
			return 1;
	return 0;
}

/* Room for one more entry in LY; NULL, or the limit that stops it. */
static const char *
ents_room(struct layer *ly)
{
	if (ly->nents == ly->cap && ly->cap >= UINT32_MAX / 2)
		return "more than 2^31 members";
	if (ly->nents == ly->cap) {
		ly->cap = ly->cap ? ly->cap * 2 : 256;
		ly->ents = xrealloc(ly->ents, ly->cap * sizeof(*ly->ents));
	}
	return NULL;
}

/* The checks of member T, kept as entry E of the layer in slot L of LS. */
static int
check_entry(struct layers *LS, const struct ent *e, const struct tar_entry *t)
{
	if (e->type == '1' && !*ent_link(LS, e) && e->base)
		return layer_fail(LS, e, "%.200s: hardlink to a directory: /", t->name);
	if (whiteout_dir(t->name))
		return layer_fail(LS, e, "%.200s: a whiteout name used as a directory", t->name);
	return 0;
}

static int
index_layer(struct layers *LS, uint32_t l)
{
	struct layer *ly = LS->v[l];
	struct tar_err te = { 0, "" };
	struct tar_entry t;
	int r;

	while ((r = tar_next(ly->in, &t, &te)) > 0) {
		if (!*t.name)
			layer_warn(ly, t.hdr_off, "entry with an empty name ignored");
		path_normalise(t.name);
		if (ly->estargz && estargz_meta(t.name)) {
			tar_entry_free(&t);     /* as if not in the layer */
			continue;
		}
		if (t.type == '1')
			path_normalise(t.linkname);
		struct ent *e = NULL;
		const char *limit = ents_room(ly);
		if (!limit)
			limit = keep_entry(ly, e = &ly->ents[ly->nents], &t);
		if (limit) {
			struct tar_err le = { t.hdr_off, "" };
			snprintf(le.msg, sizeof(le.msg), "%.200s: %s", t.name, limit);
			tar_entry_free(&t);
			return layer_fail_tar(ly, &le);
		}
		ly->nents++;
		e->seq = (uint32_t)(ly->nents - 1);     /* input.c numbers them in all */
		e->layer = (uint16_t)l;        /* layers_index checked it fits */
		int bad = check_entry(LS, e, &t);
		tar_entry_free(&t);
		if (bad)
			return -1;
	}
	hl_free(ly->dir_map);   /* the names are all in */
	ly->dir_map = NULL;
	return r < 0 ? layer_fail_tar(ly, &te) : 0;
}

struct indexing {
	struct layers *L;
	size_t next;            /* the next layer for a worker */
};

static void *
index_worker(void *arg)
{
	struct indexing *ix = arg;

	for (;;) {
		size_t i = __atomic_fetch_add(&ix->next, 1, __ATOMIC_RELAXED);
		if (i >= ix->L->n)
			return NULL;
		struct layer *ly = ix->L->v[i];
		if (ly->indexed)
			continue;
		ly->indexed = 1;
		if (layer_open(ly) == 0)
			index_layer(ix->L, (uint32_t)i);
	}
}

/* Prints the warnings the indexing of the layers found, in layer order. */
static void
print_warnings(struct layers *L)
{
	for (size_t i = 0; i < L->n; i++) {
		struct layer *ly = L->v[i];
		if (ly->wlen)
			fputs(ly->warnings, stderr);
		free(ly->warnings);
		ly->warnings = NULL;
		ly->wlen = 0;
	}
}

/* A layer's headers do not depend on the others', and inflating them is
 * most of the first pass: several layers are indexed at a time. */
int
layers_index(struct layers *L)
{
	struct indexing ix = { L, 0 };
	size_t n = L->jobs ? L->jobs : 1;
	pthread_t tid[MAX_JOBS];
	size_t started = 0;

	if (L->n > MAX_LAYERS) {
		L->err.file = NULL;
		snprintf(L->err.msg, sizeof(L->err.msg), "more than %d layers", MAX_LAYERS);
		return -1;
	}
	if (n > L->n)
		n = L->n;
	if (n > MAX_JOBS)
		n = MAX_JOBS;
	while (started + 1 < n && pthread_create(&tid[started], NULL, index_worker, &ix) == 0)
		started++;
	index_worker(&ix);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	print_warnings(L);
	for (size_t i = 0; i < L->n; i++)
		if (L->v[i]->err.msg[0])
			return -1;
	return 0;
}

/* ---- the list of layers ------------------------------------------------ */

struct layer *
layer_new(const char *name, const char *path, const struct input *in)
{
	struct layer *ly = xmalloc(sizeof(*ly));

	memset(ly, 0, sizeof(*ly));
	ly->name = name;
	ly->path = path;
	ly->input = in;
	ly->fd = ly->raw_fd = -1;
	ly->len = UINT64_MAX;
	return ly;
}

void
layers_add(struct layers *L, struct layer *ly)
{
	L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
	L->v[L->n++] = ly;
}

int
layer_has_member(const struct layer *ly, const char *name)
{
	for (size_t i = 0; i < ly->nents; i++) {
		const struct ent *e = &ly->ents[i];
		if (!e->dir && e->type == '0' && strcmp(e->base ? ly->names + e->base : "", name) == 0)
			return 1;
	}
	return 0;
}

void
layers_moved(struct layers *L, size_t i)
{
	for (size_t j = 0; j < L->v[i]->nents; j++)
		L->v[i]->ents[j].layer = (uint16_t)i;
}

int
layers_unchanged(struct layers *L)
{
	for (size_t i = 0; i < L->n; i++) {
		if (!tar_in_unchanged(L->v[i]->in)) {
			struct error *er = &L->v[i]->err;
			er->file = L->v[i]->name;
			er->off = 0;
			snprintf(er->msg, sizeof(er->msg), "input changed while tarflat was reading it");
			return 0;
		}
	}
	return 1;
}

static void *
pack_layers(void *arg)
{
	struct layers *L = arg;

	for (size_t i = 0; i < L->n; i++)
		if (L->v[i]->in)
			(void)tar_in_pack(L->v[i]->in);  /* else left whole */
	malloc_trim(0);         /* the windows' old pages back to the system */
	return NULL;
}

void
layers_pack_start(struct layers *L)
{
	L->packing = L->jobs > 1 && pthread_create(&L->packer, NULL, pack_layers, L) == 0;
	if (!L->packing)
		pack_layers(L);
}

void
layers_pack_wait(struct layers *L)
{
	if (L->packing)
		pthread_join(L->packer, NULL);
	L->packing = 0;
}

void
layers_drop_maps(struct layers *L)
{
	for (size_t i = 0; i < L->n; i++) {
		hl_free(L->v[i]->attr_map);
		L->v[i]->attr_map = NULL;
	}
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
	if (ly->own_raw && ly->raw_fd > STDIN_FILENO)
		close(ly->raw_fd);
	free(ly->label);
	free(ly);
}

void
layers_free(struct layers *L)
{
	for (size_t i = 0; i < L->n; i++)
		layer_free(L->v[i]);
	for (size_t i = 0; i < L->nretired; i++)
		layer_free(L->retired[i]);
	free(L->v);
	free(L->retired);
	for (size_t i = 0; i < L->nimages; i++)
		image_free(&L->images[i]);
	free(L->images);
	size_t jobs = L->jobs;
	int verbose = L->verbose;
	memset(L, 0, sizeof(*L));
	L->jobs = jobs;
	L->verbose = verbose;
}
