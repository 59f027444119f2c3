/*
 * tar.c - reading tar and gzip layers, writing one POSIX tar.
 *
 * Reading is split in two: tar_next walks a layer once, header by header,
 * folding extension headers (pax x/X/g, GNU L/K, old GNU sparse, Solaris A)
 * into one struct tar_entry and skipping content; tar_read_content and
 * tar cursors later fetch any entry's bytes by offset. A gzip layer is
 * gz.c's business: tar_next reads it through gz_scan, which records the
 * access points that let the cursors restart inflate near the bytes they
 * want. This file keeps the tar format: headers, pax, sparse maps, the
 * writer, and the layer's bytes (a range of a file, and the feed).
 *
 * Nothing here prints or exits: failures fill a struct tar_err.
 *
 * Where tar readers disagree (corpus rows flagged DISAGREE), the reader
 * takes these positions:
 * - GNU magic: the prefix field holds atime/ctime, never a name prefix
 *   (GNU tar, bsdtar; Python and Go prepend it).
 * - Several L, K or x headers before one member: the last one wins (a
 *   later x header replaces all records of an earlier one).
 * - Typeflags 1-6 never have content, whatever their size field says
 *   (Go, libarchive); '\0' with a name ending in '/' is a directory.
 * - A 'g' record applies to every later member of the layer; an empty
 *   value deletes it (POSIX). path, linkpath, size and GNU.sparse.* name
 *   or frame one member, so in a 'g' header they are dropped with a
 *   warning (Go, bsdtar). In a member's own records an empty xattr
 *   (SCHILY.xattr.K=, LIBARCHIVE.xattr.K=) is an empty attribute, kept
 *   (GNU tar, bsdtar, Go, containerd), not a deletion.
 * - GNU 'V' and 'N' and Solaris 'A' headers are consumed, never returned.
 * - Malformed pax records, a NUL in a pax path, linkpath, uname or gname,
 *   an x header of more than TAR_MAX_PAX bytes, and an extension header
 *   with no member after it are errors (Go); a malformed pax mtime is
 *   only a warning and the header's mtime stands (libarchive).
 * - One zero block ends the archive; data after it is ignored with a
 *   warning. Trailing non-zero bytes after a gzip stream: a warning.
 * - A member whose content or padding is cut off is an error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* memrchr, st_mtim */
#endif
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "gz.h"
#include "hlmap.h"
#include "output.h"
#include "tar.h"

#define TAR_PAD(x)  ((TAR_BLOCK - ((x) % TAR_BLOCK)) % TAR_BLOCK)
#define GAPCHUNK    (256u * 1024)   /* bytes fed at once past what tar_next reads */
#define OUTCAP      (256u * 1024)   /* tar_out buffer */
#define SPARSE_MAX  (1u << 24)      /* data regions of one sparse file */

/* Offsets inside the GNU part of a header (struct tar_header.prefix). */
#define GNU_SPARSE      386     /* 4 entries of offset[12] numbytes[12] */
#define GNU_ISEXTENDED  482
#define GNU_REALSIZE    483
#define GNU_EXT_ENTRIES 21      /* entries in one sparse extension block */
#define GNU_EXT_ISEXT   504

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static int fail(struct tar_err *err, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills *ERR and returns -1, so callers can write `return fail(...)`. */
static int fail(struct tar_err *err, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->off = off;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static char *memdup_str(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* A header string field: up to LEN bytes, cut at the first NUL. */
static char *field_str(const char *f, size_t len)
{
	return memdup_str(f, strnlen(f, len));
}

static size_t min_size(size_t a, uint64_t b)
{
	return b < a ? (size_t)b : a;
}

/* Reads up to N bytes at OFF; returns the count (short only at end of
 * file) or -1 with errno set. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		if (off + done > (uint64_t)INT64_MAX)
			break;
		ssize_t r = pread(fd, (char *)buf + done, n - done,
				  (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const void *s, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	if (n)          /* B may still have no buffer */
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static size_t dec_digits(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/*
 * Appends one pax record "LEN key=value\n". LEN counts itself, so it is
 * re-measured until it no longer changes (as OpenBSD pax does).
 */
static int buf_add_record(struct buf *b, const char *key, size_t klen,
			  const char *val, size_t vlen)
{
	size_t body = klen + vlen + 3;  /* ' ', '=', '\n' */
	size_t len = body, prev = 0;
	char num[32];

	while (len != prev) {
		prev = len;
		len = body + dec_digits(prev);
	}
	snprintf(num, sizeof num, "%zu ", len);
	if (buf_add(b, num, strlen(num)) || buf_add(b, key, klen) ||
	    buf_add(b, "=", 1) || buf_add(b, val, vlen) || buf_add(b, "\n", 1))
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Numeric fields                                                       */

/* Base-256 (GNU/star): the first byte's top bit marks it, bit 6 is the
 * sign; the value is two's complement over the whole field. */
static int get_base256(const unsigned char *p, size_t len, int64_t *v)
{
	unsigned char inv = (p[0] & 0x40) ? 0xff : 0x00;
	uint64_t x = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i] ^ inv;
		if (i == 0)
			c &= 0x7f;
		if (x >> 56)
			return -1;
		x = x << 8 | c;
	}
	if (x >> 63)
		return -1;
	*v = inv ? ~(int64_t)x : (int64_t)x;
	return 0;
}

int tar_get_num(const char *field, size_t len, int64_t *v)
{
	const unsigned char *p = (const unsigned char *)field;
	uint64_t x = 0;
	size_t i = 0;

	if (len > 0 && (p[0] & 0x80))
		return get_base256(p, len, v);
	while (i < len && p[i] == ' ')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (x > ((uint64_t)INT64_MAX >> 3))
			return -1;
		x = x << 3 | (uint64_t)(p[i] - '0');
	}
	/* GNU tar's rule: the digits end at a space or NUL, or at the end
	 * of the field; what follows the terminator does not matter. */
	if (i < len && p[i] != ' ' && p[i] != '\0')
		return -1;
	*v = (int64_t)x;
	return 0;
}

int tar_put_num(char *field, size_t len, uint64_t v)
{
	if (len < 2)
		return -1;
	size_t digits = len - 1;
	if (digits < 22 && (v >> (3 * digits)) != 0)
		return -1;
	for (size_t i = digits; i-- > 0;) {
		field[i] = (char)('0' + (v & 7));
		v >>= 3;
	}
	field[digits] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* Header blocks                                                        */

static int block_is_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* The checksum over unsigned bytes with the chksum field as spaces;
 * old tars (HP-UX, some v7) summed signed chars, so accept that too. */
static int header_checksum_ok(const unsigned char *b)
{
	const struct tar_header *h = (const struct tar_header *)(const void *)b;
	int64_t stored;
	int32_t usum = 0, ssum = 0;     /* at most 512 * 255 in size */

	if (tar_get_num(h->chksum, sizeof h->chksum, &stored) < 0)
		return 0;
	/* every byte, then the checksum field counted as eight spaces (two
	 * plain loops, which the compiler vectorises) */
	for (size_t i = 0; i < TAR_BLOCK; i++)
		usum += b[i];
	for (size_t i = 0; i < TAR_BLOCK; i++)
		ssum += (signed char)b[i];
	for (size_t i = 148; i < 156; i++) {
		usum += ' ' - b[i];
		ssum += ' ' - (signed char)b[i];
	}
	return stored == usum || stored == ssum;
}

enum { FMT_V7, FMT_USTAR, FMT_GNU, FMT_STAR };

static int header_format(const struct tar_header *h)
{
	const char *raw = (const char *)h;

	if (memcmp(h->magic, "ustar", 6) == 0)  /* "ustar\0" */
		return memcmp(raw + 508, "tar", 4) == 0 ? FMT_STAR : FMT_USTAR;
	if (memcmp(h->magic, "ustar ", 6) == 0)
		return FMT_GNU;
	return FMT_V7;
}

/* ------------------------------------------------------------------ */
/* Compression detection                                                */

/* Returns a message refusing a compressed or foreign file, or NULL. */
static const char *foreign_format(const unsigned char *b, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *msg;
	} tab[] = {
		{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed layer; decompress it first: tarflat <(zstd -dc FILE)" },
		{ "\xfd\x37\x7a\x58\x5a\x00", 6, "xz-compressed layer; decompress it first: tarflat <(xz -dc FILE)" },
		{ "BZh", 3, "bzip2-compressed layer; decompress it first: tarflat <(bzip2 -dc FILE)" },
		{ "\x04\x22\x4d\x18", 4, "lz4-compressed layer; decompress it first: tarflat <(lz4 -dc FILE)" },
		{ "\x02\x21\x4c\x18", 4, "lz4-compressed layer (legacy frame); decompress it first: tarflat <(lz4 -dc FILE)" },
		{ "LZIP", 4, "lzip-compressed layer; decompress it first: tarflat <(lzip -dc FILE)" },
		{ "\x1f\x9d", 2, "compress(1)-compressed layer (.Z); decompress it first: tarflat <(gzip -dc FILE)" },
		{ "\x37\x7a\xbc\xaf\x27\x1c", 6, "7z archive, not a tar archive; extract it with 7z" },
		{ "\x89LZO\x00\x0d\x0a\x1a\x0a", 9, "lzop-compressed layer; decompress it first: tarflat <(lzop -dc FILE)" },
		{ "LRZI", 4, "lrzip-compressed layer; decompress it first: tarflat <(lrzcat FILE)" },
		{ "GRZipII", 7, "grzip-compressed layer; decompress it first with grzip" },
		{ "PK\x03\x04", 4, "not a tar archive (zip archive)" },
	};

	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (n >= tab[i].len && memcmp(b, tab[i].magic, tab[i].len) == 0)
			return tab[i].msg;
	/* zstd skippable frames (pzstd puts one first): 0x184D2A5? LE. */
	if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d &&
	    b[3] == 0x18)
		return "zstd-compressed layer; decompress it first: tarflat <(zstd -dc FILE)";
	return NULL;
}

/* Raw lzma ("lzma_alone"): properties byte 0x5d, then a little-endian
 * dictionary size; only consulted when the block is not a tar header. */
static int is_raw_lzma(const unsigned char *b, size_t n)
{
	return n >= 13 && b[0] == 0x5d && b[1] == 0x00 && b[2] == 0x00;
}

/* ------------------------------------------------------------------ */
/* Pax records                                                          */

struct pax_rec {
	char *key;      /* NUL-terminated; VAL lives in the same allocation */
	char *val;      /* VLEN bytes, may hold NULs, NUL-terminated */
	size_t klen, vlen;
	int carried;    /* a global copied verbatim onto members */
};

struct pax_list {
	struct pax_rec *v;
	size_t n, cap;
};

static void pax_list_free(struct pax_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int pax_list_add(struct pax_list *l, const char *k, size_t klen,
			const char *val, size_t vlen)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct pax_rec *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	char *p = malloc(klen + vlen + 2);
	if (!p)
		return -1;
	memcpy(p, k, klen);
	p[klen] = '\0';
	memcpy(p + klen + 1, val, vlen);
	p[klen + 1 + vlen] = '\0';
	/* the list owns P now (cppcheck loses track of it in the literal) */
	l->v[l->n++] = (struct pax_rec){ p, p + klen + 1, klen, vlen, 0 };
	// cppcheck-suppress memleak
	return 0;
}

static int key_is(const struct pax_rec *r, const char *k)
{
	return strcmp(r->key, k) == 0;
}

/* What one member collects from its extension headers. */
struct member {
	uint64_t hdr_off;       /* first header of the member */
	int pending;            /* a per-member extension header was read */
	int nhdr;               /* extension headers read so far */
	struct pax_list pax;    /* x/X records, in order */
	char *longname, *longlink;
	struct tar_span *sp00;  /* pax sparse 0.0 offset/numbytes pairs */
	size_t nsp00, capsp00;
	int sp00_have_off;
	uint64_t sp00_off;
};

static void member_free(struct member *m)
{
	pax_list_free(&m->pax);
	free(m->longname);
	free(m->longlink);
	free(m->sp00);
	memset(m, 0, sizeof *m);
}

/* Strict decimal: digits only, no sign, no overflow past MAX. */
static int parse_dec(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* A pax time: [-]digits[.digits]. Sets *SECS to the floor and *FRAC to
 * whether a fractional part was written. */
static int parse_pax_time(const char *s, size_t len, int64_t *secs, int *frac)
{
	int neg = len > 0 && s[0] == '-';
	size_t i = neg, start = i;
	uint64_t x;
	int nonzero = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (parse_dec(s + start, i - start, (uint64_t)INT64_MAX, &x) < 0)
		return -1;
	*frac = 0;
	if (i < len) {
		if (s[i] != '.')
			return -1;
		*frac = 1;
		for (i++; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			nonzero |= s[i] != '0';
		}
	}
	if (!neg)
		*secs = (int64_t)x;
	else if (nonzero)
		*secs = -(int64_t)x - 1;  /* floor(-1.5) = -2 */
	else
		*secs = -(int64_t)x;
	return 0;
}

static int sp00_add(struct member *m, uint64_t off, uint64_t len)
{
	if (m->nsp00 == m->capsp00) {
		size_t cap = m->capsp00 ? 2 * m->capsp00 : 16;
		struct tar_span *v = realloc(m->sp00, cap * sizeof *v);
		if (!v)
			return -1;
		m->sp00 = v;
		m->capsp00 = cap;
	}
	m->sp00[m->nsp00++] = (struct tar_span){ off, len };
	return 0;
}

/* GNU pax sparse 0.0 repeats GNU.sparse.offset/numbytes; their order is
 * the map, so they are kept out of the keyed list. Returns 1 if consumed. */
static int pax_sparse00(struct member *m, const char *k, const char *val,
			size_t vlen, uint64_t off, struct tar_err *err)
{
	uint64_t x;
	int is_off = strcmp(k, "GNU.sparse.offset") == 0;

	if (!is_off && strcmp(k, "GNU.sparse.numbytes") != 0)
		return 0;
	if (parse_dec(val, vlen, (uint64_t)INT64_MAX, &x) < 0 ||
	    is_off == m->sp00_have_off)
		return fail(err, off, "bad GNU sparse map in pax header");
	if (is_off) {
		m->sp00_off = x;
		m->sp00_have_off = 1;
		return 1;
	}
	m->sp00_have_off = 0;
	if (sp00_add(m, m->sp00_off, x) < 0)
		return fail(err, off, "out of memory");
	return 1;
}

/*
 * Parses the body of a pax x/g header: "LEN key=value\n" records, every
 * byte accounted for. M is NULL for a global header. Returns 0 or -1.
 */
static int pax_parse(const char *p, size_t len, struct pax_list *out,
		     struct member *m, uint64_t off, struct tar_err *err)
{
	while (len > 0) {
		size_t i = 0;
		uint64_t rl = 0;

		while (i < len && p[i] >= '0' && p[i] <= '9' && rl <= len) {
			rl = rl * 10 + (uint64_t)(p[i] - '0');
			i++;
		}
		/* shortest record after "LEN ": "k=\n" */
		if (i == 0 || i >= len || p[i] != ' ' || rl > len ||
		    rl < i + 4 || p[rl - 1] != '\n')
			return fail(err, off, "malformed pax record");
		const char *kv = p + i + 1;
		size_t kvlen = (size_t)rl - i - 2;
		const char *eq = memchr(kv, '=', kvlen);
		if (!eq || eq == kv || memchr(kv, '\0', (size_t)(eq - kv)))
			return fail(err, off, "malformed pax record");
		size_t klen = (size_t)(eq - kv);
		const char *val = eq + 1;
		size_t vlen = kvlen - klen - 1;
		char key[64];
		int known = klen < sizeof key;
		if (known) {
			memcpy(key, kv, klen);
			key[klen] = '\0';
		}
		if (known && (!strcmp(key, "path") || !strcmp(key, "linkpath") ||
			      !strcmp(key, "uname") || !strcmp(key, "gname")) &&
		    memchr(val, '\0', vlen))
			return fail(err, off, "pax %s contains a NUL byte", key);
		int r = (known && m) ? pax_sparse00(m, key, val, vlen, off, err) : 0;
		if (r < 0)
			return -1;
		if (r == 0 && pax_list_add(out, kv, klen, val, vlen) < 0)
			return fail(err, off, "out of memory");
		p += rl;
		len -= (size_t)rl;
	}
	return 0;
}

struct recref {
	const struct pax_rec *r;
	size_t idx;
};

static int recref_cmp(const void *a, const void *b)
{
	const struct recref *x = a, *y = b;
	size_t n = x->r->klen < y->r->klen ? x->r->klen : y->r->klen;
	int c = memcmp(x->r->key, y->r->key, n);

	if (c)
		return c;
	if (x->r->klen != y->r->klen)
		return x->r->klen < y->r->klen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Of a member's N records, keeps only the last one of each key: KEEP[i] is
 * 1 for it, 0 for an earlier one and for a last value that is empty (that
 * takes back a global; merge_pax sees to it). Sorting keeps it O(n log n)
 * for hostile headers with many records. Returns 0 or -1 when out of
 * memory.
 */
/*
 * In a member's own records an empty value is a value for an extended
 * attribute (an empty xattr, as setfattr makes it and GNU tar, bsdtar,
 * Go and containerd keep it), not POSIX's "delete what was set before",
 * which stays the rule for every other key and for globals.
 */
static int empty_is_value(const struct pax_rec *r)
{
	return strncmp(r->key, "SCHILY.xattr.", 13) == 0 ||
	       strncmp(r->key, "LIBARCHIVE.xattr.", 17) == 0;
}

static int pax_dedupe(const struct pax_rec *const *v, size_t n, unsigned char *keep)
{
	struct recref *refs;

	if (n == 0)
		return 0;
	refs = malloc(n * sizeof *refs);
	if (!refs)
		return -1;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct recref){ v[i], i };
	qsort(refs, n, sizeof *refs, recref_cmp);
	for (size_t i = 0; i < n; i++) {
		int last = i + 1 == n || refs[i + 1].r->klen != refs[i].r->klen ||
			   memcmp(refs[i + 1].r->key, refs[i].r->key, refs[i].r->klen);
		keep[refs[i].idx] = last && (refs[i].r->vlen > 0 || empty_is_value(refs[i].r));
	}
	free(refs);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The reader                                                           */

/*
 * The global records carried verbatim, serialised once for all the members
 * that follow until the next g header (tar_entry.gpax points into it).
 */
struct gsnap {
	struct gsnap *next;
	size_t len;
	char recs[];
};

enum { ST_READING, ST_DONE, ST_FAILED };

/* Bytes LEN of a plain layer read at OFF into BUF; WANT is how many the
 * last read asked for (window_get). */
struct window {
	unsigned char *buf;
	uint64_t off;
	size_t len, want;
};

struct tar_in {
	int fd;
	int gzip;
	tar_warn_fn *warn;
	void *ctx;
	off_t size0;            /* fstat at open, for tar_in_unchanged */
	struct timespec mtim0;
	uint64_t base;          /* where the layer starts in the file */
	uint64_t fsize;         /* the layer's length; offsets below are
	                         * from BASE and never reach past it */

	/* tar_in_feed: every byte of the layer, in order, while indexing */
	tar_feed_fn *feed_raw, *feed_tar;
	void *feed_ctx;
	uint64_t fed;           /* layer bytes [0, fed) went to feed_raw */
	unsigned char *gapbuf;  /* GAPCHUNK bytes for what indexing skips */
	struct window ra;       /* plain layers: the headers' read window */

	/* tar_next */
	int state;
	struct tar_err failed;
	uint64_t pos;           /* uncompressed offset of the next byte */
	/*
	 * pax global records: in order of first appearance, a deleted one
	 * left in place with vlen 0 until there are more dead than live;
	 * GMAP finds a key's index. GPI is what they say about every member,
	 * valid with the newest snapshot.
	 */
	struct pax_list globals;
	struct hlmap *gmap;     /* key -> index + 1 (hl_new32) */
	size_t gdead;
	size_t globals_bytes;
	struct paxinfo *gpi;
	struct gsnap *snaps;    /* every snapshot handed out, newest first */
	int snap_valid;         /* snaps and gpi hold the current globals */
	uint64_t gkept;         /* bytes of global records handed out */

	/* gzip: the index gz_scan builds while tar_next reads, and the
	 * piece of output it returned last */
	struct gz *gz;
	const unsigned char *ix_out;
	size_t ix_opos, ix_olen;

	struct tar_cursor *cur; /* tar_read_content's */
};

/*
 * A reader of content. Only reads IN (and the entries it is given); what
 * it changes is its own, so that distinct cursors can work at once.
 */
struct tar_cursor {
	const struct tar_in *in;
	struct gz_cursor *gz;   /* NULL for a plain layer */

	/* sparse lookups: where the last read of a sparse entry ended */
	const struct tar_span *sp_map;
	uint64_t sp_hdr_off;    /* with SP_MAP, names the entry */
	size_t sp_idx;
	uint64_t sp_stored;     /* stored bytes before region sp_idx */

	struct window w;        /* a plain layer: small content reads */
};

static void warnf(struct tar_in *in, uint64_t off, const char *msg)
{
	if (in->warn)
		in->warn(in->ctx, off, msg);
}

/* --- reading the layer's bytes --- */

/* Reads up to N bytes at layer offset OFF, never past the layer's end;
 * returns the count (short only at the end) or -1 with errno set. */
static ssize_t in_pread(const struct tar_in *in, void *buf, size_t n, uint64_t off)
{
	if (off >= in->fsize)
		return 0;
	return pread_full(in->fd, buf, min_size(n, in->fsize - off), in->base + off);
}

/* Passes the bytes from in->fed up to OFF to the feed, reading them: what
 * indexing skipped (a plain layer's content) is read after all. */
static int feed_gap(struct tar_in *in, uint64_t off)
{
	if (!in->gapbuf && !(in->gapbuf = malloc(GAPCHUNK)))
		return -1;
	while (in->fed < off) {
		ssize_t r = in_pread(in, in->gapbuf, min_size(GAPCHUNK, off - in->fed), in->fed);
		if (r <= 0) {
			if (r == 0)
				errno = EIO;    /* shorter than at open */
			return -1;
		}
		in->feed_raw(in->feed_ctx, in->gapbuf, (size_t)r);
		in->fed += (uint64_t)r;
	}
	return 0;
}

/* in_pread for the indexing stream: with a feed, every byte up to OFF + N
 * goes to it once, in order. */
static ssize_t ix_pread(struct tar_in *in, void *buf, size_t n, uint64_t off)
{
	if (in->feed_raw && off > in->fed && feed_gap(in, off) < 0)
		return -1;
	ssize_t r = in_pread(in, buf, n, off);
	if (r > 0 && in->feed_raw && off + (uint64_t)r > in->fed) {
		in->feed_raw(in->feed_ctx, (const char *)buf + (in->fed - off),
			     (size_t)(off + (uint64_t)r - in->fed));
		in->fed = off + (uint64_t)r;
	}
	return r;
}

/* --- a gzip layer, through gz.c --- */

/* gz.c's three callbacks, with the reader as their context (the first two
 * are also window_get's reads: the indexing stream's and a plain one). */
static ssize_t gz_scan_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	return ix_pread(ctx, buf, n, off);
}

static ssize_t gz_pread(void *ctx, void *buf, size_t n, uint64_t off)
{
	return in_pread(ctx, buf, n, off);
}

static void gz_warn(void *ctx, uint64_t off, const char *msg)
{
	warnf(ctx, off, msg);
}

/* Passes a gz.c failure on; returns -1. */
static int gz_failed(struct tar_err *err, const struct gz_err *ge)
{
	return fail(err, ge->off, "%s", ge->msg);
}

/* The next piece of the inflated layer into ix_out, for feed_tar too.
 * Returns 1 with output, 0 at the end of the gzip stream, -1 on error. */
static int ix_fill(struct tar_in *in, struct tar_err *err)
{
	struct gz_err ge;

	in->ix_opos = in->ix_olen = 0;
	int r = gz_scan(in->gz, &in->ix_out, &in->ix_olen, &ge);
	if (r < 0)
		return gz_failed(err, &ge);
	if (r > 0 && in->feed_tar)
		in->feed_tar(in->feed_ctx, in->ix_out, in->ix_olen);
	return r;
}

/* --- the stream tar_next reads, plain or gzip --- */

/*
 * A plain layer read through a window: one pread serves a run of small
 * reads (headers of small members, small files written in about the
 * order they are stored). The window is MIN bytes after a jump and
 * doubles up to MAX while each read starts at most GAP past its end, so
 * a read before a large member, skipped or spliced, copies little of it.
 * Returns the bytes at OFF the window holds, up to N (N <= MAX; fewer only
 * at the layer's end), or -1 with errno set.
 */
static ssize_t window_get(struct window *w, ssize_t (*rd)(void *, void *, size_t, uint64_t),
			  void *ctx, uint64_t off, size_t n, size_t min, size_t max, size_t gap)
{
	uint64_t end = w->off + w->len;

	if (!w->buf || off < w->off || off + n > end) {
		if (!w->buf && !(w->buf = malloc(max))) {
			errno = ENOMEM;
			return -1;
		}
		w->want = w->want && off >= w->off && off <= end + gap
			? min_size(2 * w->want, max) : min;
		ssize_t r = rd(ctx, w->buf, w->want > n ? w->want : n, off);
		if (r < 0)
			return -1;
		w->off = off;
		w->len = (size_t)r;
	}
	return (ssize_t)min_size(n, w->off + w->len - off);
}

/* The index pass: headers through a window (a layer of 60 000 small files
 * made 60 000 preads), content skipped. */
#define READAHEAD (32u * 1024)
#define RA_MIN (4u * 1024)

/* Reads up to N bytes at the stream position; fewer only at the end.
 * Returns the count or -1. */
static ssize_t plain_read(struct tar_in *in, void *buf, size_t n)
{
	if (n > READAHEAD)
		return ix_pread(in, buf, n, in->pos);
	ssize_t k = window_get(&in->ra, gz_scan_read, in, in->pos, n, RA_MIN, READAHEAD, 0);
	if (k > 0)
		memcpy(buf, in->ra.buf + (in->pos - in->ra.off), (size_t)k);
	return k;
}

static ssize_t src_read(struct tar_in *in, void *buf, size_t n, struct tar_err *err)
{
	size_t done = 0;

	if (!in->gzip) {
		ssize_t r = plain_read(in, buf, n);
		if (r < 0)
			return fail(err, in->pos, "read error: %s", strerror(errno));
		in->pos += (uint64_t)r;
		return r;
	}
	while (done < n) {
		if (in->ix_opos == in->ix_olen) {
			int r = ix_fill(in, err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
		size_t k = min_size(n - done, in->ix_olen - in->ix_opos);
		memcpy((char *)buf + done, in->ix_out + in->ix_opos, k);
		in->ix_opos += k;
		done += k;
	}
	in->pos += done;
	return (ssize_t)done;
}

/* Skips N bytes. Returns 0, 1 when the stream ended first, -1 on error. */
static int src_skip(struct tar_in *in, uint64_t n, struct tar_err *err)
{
	if (!in->gzip) {
		if (in->pos > in->fsize || n > in->fsize - in->pos) {
			in->pos = in->fsize;
			return 1;
		}
		in->pos += n;
		return 0;
	}
	while (n > 0) {
		if (in->ix_opos == in->ix_olen) {
			int r = ix_fill(in, err);
			if (r < 0)
				return -1;
			if (r == 0)
				return 1;
		}
		size_t k = min_size(in->ix_olen - in->ix_opos, n);
		in->ix_opos += k;
		in->pos += k;
		n -= k;
	}
	return 0;
}

/* Reads one 512-byte block. Returns bytes read (0..512) or -1. */
static ssize_t src_block(struct tar_in *in, unsigned char *blk, struct tar_err *err)
{
	return src_read(in, blk, TAR_BLOCK, err);
}

/* --- opening --- */

static int gzip_open(struct tar_in *in, struct tar_err *err)
{
	const struct gz_src src = { gz_scan_read, gz_pread, gz_warn, in };
	struct gz_err ge;

	if (!(in->gz = gz_open(&src, TAR_SPAN, &ge)))
		return gz_failed(err, &ge);
	return 0;
}

static int plain_open(const unsigned char *b, size_t n, struct tar_err *err)
{
	if (n == 0)
		return 0;  /* an empty file is an empty archive */
	if (n == TAR_BLOCK && (block_is_zero(b, TAR_BLOCK) || header_checksum_ok(b)))
		return 0;
	if (is_raw_lzma(b, n))
		return fail(err, 0, "lzma-compressed layer; decompress it first: "
			    "tarflat <(xz -dc FILE)");
	if (n < TAR_BLOCK)
		return fail(err, 0, "not a tar archive (truncated header)");
	return fail(err, 0, "not a tar archive (bad header checksum)");
}

struct tar_in *tar_in_open(int fd, tar_warn_fn *warn, void *ctx, struct tar_err *err)
{
	return tar_in_open_range(fd, 0, UINT64_MAX, warn, ctx, err);
}

struct tar_in *tar_in_open_range(int fd, uint64_t off, uint64_t len, tar_warn_fn *warn,
				 void *ctx, struct tar_err *err)
{
	unsigned char b[TAR_BLOCK];
	struct stat st;
	struct tar_in *in;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		fail(err, 0, "cannot stat: %s", strerror(errno));
		return NULL;
	}
	uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if (off > size || (len != UINT64_MAX && len > size - off)) {
		fail(err, 0, "layer lies past the end of the file");
		return NULL;
	}
	in = calloc(1, sizeof *in);
	if (!in) {
		fail(err, 0, "out of memory");
		return NULL;
	}
	in->fd = fd;
	in->warn = warn;
	in->ctx = ctx;
	in->size0 = st.st_size;
	in->mtim0 = st.st_mtim;
	in->base = off;
	in->fsize = len == UINT64_MAX ? size - off : len;
	n = in_pread(in, b, sizeof b, 0);
	if (n < 0) {
		fail(err, 0, "read error: %s", strerror(errno));
		free(in);
		return NULL;
	}
	/*
	 * A valid tar header first: a member may be named "BZh91" or start
	 * with gzip's magic, and a compressed stream does not carry a valid
	 * tar checksum at bytes 148..155.
	 */
	int tar = n == TAR_BLOCK && !block_is_zero(b, TAR_BLOCK) && header_checksum_ok(b);
	in->gzip = !tar && n >= 2 && b[0] == 0x1f && b[1] == 0x8b;

	const char *msg = tar || in->gzip ? NULL : foreign_format(b, (size_t)n);
	int r = msg ? fail(err, 0, "%s", msg)
		    : in->gzip ? gzip_open(in, err)
			       : plain_open(b, (size_t)n, err);
	if (r < 0) {
		tar_in_close(in);
		return NULL;
	}
	return in;
}

int tar_is_header(const void *blk, size_t n)
{
	return n >= TAR_BLOCK && !block_is_zero(blk, TAR_BLOCK) && header_checksum_ok(blk);
}

int tar_in_is_gzip(const struct tar_in *in)
{
	return in->gzip;
}

int tar_in_pack(struct tar_in *in)
{
	return in->gz && in->state == ST_DONE ? gz_pack(in->gz) : 0;
}

void tar_in_feed(struct tar_in *in, tar_feed_fn *raw, tar_feed_fn *tar, void *ctx)
{
	in->feed_raw = raw;
	in->feed_tar = in->gzip ? tar : NULL;
	in->feed_ctx = ctx;
}

/*
 * Size and mtime as at open; for gzip also every member trailer (CRC32 and
 * length) read so far, so that a layer rewritten in place with the same
 * size and a restored mtime is caught too: 8 bytes per member.
 */
int tar_in_unchanged(const struct tar_in *in)
{
	struct stat st;

	if (fstat(in->fd, &st) < 0)
		return 0;
	if (st.st_size != in->size0 || st.st_mtim.tv_sec != in->mtim0.tv_sec ||
	    st.st_mtim.tv_nsec != in->mtim0.tv_nsec)
		return 0;
	return !in->gz || gz_unchanged(in->gz);
}

void tar_in_close(struct tar_in *in)
{
	if (!in)
		return;
	tar_cursor_free(in->cur);
	gz_close(in->gz);
	free(in->gapbuf);
	free(in->ra.buf);
	pax_list_free(&in->globals);
	hl_free(in->gmap);
	free(in->gpi);
	while (in->snaps) {
		struct gsnap *g = in->snaps;
		in->snaps = g->next;
		free(g);
	}
	free(in);
}

void tar_entry_free(struct tar_entry *e)
{
	if (!e)
		return;
	free(e->name);          /* and linkname, uname, gname: one block */
	free(e->sparse);
	free(e->pax);
	memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------------ */
/* Extension headers                                                    */

/*
 * Reads the SIZE-byte body of an extension header into a new buffer,
 * NUL-terminated, then skips its padding. CAP bounds SIZE before anything
 * is allocated; for a plain file so does the remaining file size.
 */
static char *read_ext_body(struct tar_in *in, struct member *m, uint64_t size,
			   uint64_t cap, const char *what, struct tar_err *err)
{
	char *p;
	ssize_t r;

	if (size > cap) {
		fail(err, m->hdr_off, "%s too large (%llu bytes)", what,
		     (unsigned long long)size);
		return NULL;
	}
	if (!in->gzip && (in->pos > in->fsize || size > in->fsize - in->pos)) {
		fail(err, m->hdr_off, "truncated member");
		return NULL;
	}
	if (!(p = malloc((size_t)size + 1))) {
		fail(err, m->hdr_off, "out of memory");
		return NULL;
	}
	r = src_read(in, p, (size_t)size, err);
	if (r >= 0 && (uint64_t)r < size)
		r = fail(err, m->hdr_off, "truncated member");
	if (r >= 0) {
		int s = src_skip(in, TAR_PAD(size), err);
		if (s > 0)
			s = fail(err, m->hdr_off, "truncated member");
		r = s;
	}
	if (r < 0) {
		free(p);
		return NULL;
	}
	p[size] = '\0';
	return p;
}

/*
 * A path, linkpath or size names or frames one member; in a global header
 * it would give every later member the same name (losing all but one) or
 * the same framing, so it is dropped with a warning (Go and bsdtar ignore
 * it too). So are GNU.sparse.* records.
 */
static void drop_member_records(struct tar_in *in, struct pax_list *g,
				uint64_t off)
{
	size_t j = 0;
	int dropped = 0;

	for (size_t i = 0; i < g->n; i++) {
		struct pax_rec *r = &g->v[i];
		if (key_is(r, "path") || key_is(r, "linkpath") || key_is(r, "size") ||
		    strncmp(r->key, "GNU.sparse.", 11) == 0) {
			dropped |= r->vlen > 0;
			free(r->key);
			continue;
		}
		/* A comment (git archive's commit id) is about the archive,
		 * not about each file: it is not copied onto every member. */
		if (key_is(r, "comment")) {
			free(r->key);
			continue;
		}
		g->v[j++] = *r;
	}
	g->n = j;
	if (dropped)
		warnf(in, off, "ignoring path, linkpath, size or GNU.sparse "
		      "records in a pax global header");
}

/* Finds a global record by key: KEY names the list and the key. */
struct gkey {
	const struct pax_list *list;
	const char *k;
	size_t klen;
};

static int gkey_match(const void *item, const void *key)
{
	const struct gkey *g = key;
	const struct pax_rec *r = &g->list->v[(uintptr_t)item - 1];

	return r->klen == g->klen && memcmp(r->key, g->k, g->klen) == 0;
}

static uint64_t key_hash(const char *k, size_t klen)
{
	return hl_hash(k, klen, 0);
}

static uint64_t gkey_hash(const void *item, void *ctx)
{
	const struct pax_list *list = ctx;
	const struct pax_rec *r = &list->v[(uintptr_t)item - 1];

	return key_hash(r->key, r->klen);
}

static size_t global_find(const struct tar_in *in, const char *k, size_t klen)
{
	struct gkey g = { &in->globals, k, klen };

	return in->gmap ? (uintptr_t)hl_get(in->gmap, key_hash(k, klen), &g) : 0;
}

/* Drops deleted globals once they outnumber the live ones; re-indexes. */
static int global_compact(struct tar_in *in)
{
	struct pax_list *g = &in->globals;
	size_t j = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].vlen == 0)
			free(g->v[i].key);
		else
			g->v[j++] = g->v[i];
	}
	g->n = j;
	in->gdead = 0;
	hl_free(in->gmap);
	if (!(in->gmap = hl_new32(gkey_match, gkey_hash, g)))
		return -1;
	for (size_t i = 0; i < g->n; i++)
		if (hl_add(in->gmap, key_hash(g->v[i].key, g->v[i].klen),
			   (void *)(uintptr_t)(i + 1)) < 0)
			return -1;
	return 0;
}

/*
 * Merges a g header's records into the layer's globals: a key's last
 * value wins, an empty value deletes it. The work is proportional to the
 * header, not to all the globals (a hostile layer sends thousands of g
 * headers over a megabyte of records).
 */
static int read_global(struct tar_in *in, struct member *m, uint64_t size,
		       struct tar_err *err)
{
	struct pax_list *g = &in->globals, batch = { 0 };
	char *body = read_ext_body(in, m, size, TAR_MAX_PAX, "pax header", err);
	int r = 0;

	if (!body)
		return -1;
	in->snap_valid = 0;
	if (!in->gmap && !(in->gmap = hl_new32(gkey_match, gkey_hash, g)))
		r = fail(err, m->hdr_off, "out of memory");
	if (r == 0)
		r = pax_parse(body, (size_t)size, &batch, NULL, m->hdr_off, err);
	free(body);
	if (r == 0)
		drop_member_records(in, &batch, m->hdr_off);
	for (size_t i = 0; r == 0 && i < batch.n; i++) {
		struct pax_rec b = batch.v[i];
		size_t idx = global_find(in, b.key, b.klen);
		batch.v[i].key = NULL;          /* moved or freed below */
		if (idx) {
			struct pax_rec *old = &g->v[idx - 1];
			in->globals_bytes -= old->klen + old->vlen;
			in->gdead += (b.vlen == 0) - (old->vlen == 0);
			free(old->key);
			*old = b;
			in->globals_bytes += b.klen + b.vlen;
		} else if (b.vlen == 0) {
			free(b.key);            /* deletes what is not there */
		} else if (pax_list_add(g, b.key, b.klen, b.val, b.vlen) < 0 ||
			   hl_add(in->gmap, key_hash(b.key, b.klen),
				  (void *)(uintptr_t)g->n) < 0) {
			free(b.key);
			r = fail(err, m->hdr_off, "out of memory");
		} else {
			free(b.key);            /* pax_list_add made a copy */
			in->globals_bytes += b.klen + b.vlen;
		}
	}
	for (size_t i = 0; i < batch.n; i++)
		free(batch.v[i].key);
	free(batch.v);
	if (r == 0 && in->gdead > g->n - in->gdead && global_compact(in) < 0)
		r = fail(err, m->hdr_off, "out of memory");
	if (r == 0 && in->globals_bytes > TAR_MAX_PAX)
		r = fail(err, m->hdr_off, "pax global headers too large");
	return r;
}

/* GNU L or K: the last one before a member wins. */
static int read_long(struct tar_in *in, struct member *m, uint64_t size,
		     int link, struct tar_err *err)
{
	char *body = read_ext_body(in, m, size, TAR_MAX_NAME,
				   link ? "GNU long link name" : "GNU long name", err);

	if (!body)
		return -1;
	char **dst = link ? &m->longlink : &m->longname;
	free(*dst);
	*dst = body;  /* cut at the first NUL, trailing NULs included */
	return 0;
}

static int read_pax(struct tar_in *in, struct member *m, uint64_t size,
		    struct tar_err *err)
{
	char *body = read_ext_body(in, m, size, TAR_MAX_PAX, "pax header", err);

	if (!body)
		return -1;
	/* of several x headers before one member the last one counts, as
	 * the last GNU L does (GNU tar, bsdtar, Go) */
	pax_list_free(&m->pax);
	m->nsp00 = 0;
	m->sp00_have_off = 0;
	int r = pax_parse(body, (size_t)size, &m->pax, m, m->hdr_off, err);
	free(body);
	return r;
}

/* ------------------------------------------------------------------ */
/* Sparse maps                                                          */

struct spanvec {
	struct tar_span *v;
	size_t n, cap;
};

static int spanvec_add(struct spanvec *s, uint64_t off, uint64_t len)
{
	if (s->n >= SPARSE_MAX)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct tar_span *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct tar_span){ off, len };
	return 0;
}

/*
 * Checks a map against the expanded size REALSIZE and the stored bytes
 * STORED (regions in order, not overlapping, inside the file, no more
 * data than stored), drops empty regions and moves it into E.
 */
static int sparse_finish(struct spanvec *s, uint64_t realsize, uint64_t stored,
			 struct tar_entry *e, uint64_t off, struct tar_err *err)
{
	uint64_t end = 0, sum = 0;
	size_t j = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct tar_span sp = s->v[i];
		if (sp.off > (uint64_t)INT64_MAX || sp.len > (uint64_t)INT64_MAX - sp.off ||
		    sp.off < end || sp.off + sp.len > realsize)
			return fail(err, off, "bad sparse map");
		end = sp.off + sp.len;
		sum += sp.len;
		if (sp.len)
			s->v[j++] = sp;
	}
	if (sum > stored)
		return fail(err, off, "sparse map needs more data than stored");
	if (!s->v && !(s->v = malloc(sizeof *s->v)))
		return fail(err, off, "out of memory");
	e->sparse = s->v;
	e->nsparse = j;
	e->size = realsize;
	e->data_len = stored;
	s->v = NULL;
	return 0;
}

/* Old GNU entries: N pairs of offset[12] numbytes[12]; an entry whose
 * offset starts with NUL ends the list (as GNU and BSD tar do). */
static int gnu_sparse_entries(const char *p, int n, struct spanvec *s)
{
	for (int i = 0; i < n; i++) {
		int64_t o, l;
		if (p[24 * i] == '\0')
			return 0;
		if (tar_get_num(p + 24 * i, 12, &o) < 0 ||
		    tar_get_num(p + 24 * i + 12, 12, &l) < 0 || o < 0 || l < 0 ||
		    spanvec_add(s, (uint64_t)o, (uint64_t)l) < 0)
			return -1;
	}
	return 0;
}

/* Old GNU 'S': map in the header, continued in extension blocks. */
static int read_gnu_sparse(struct tar_in *in, struct member *m,
			   const unsigned char *blk, uint64_t stored,
			   struct tar_entry *e, struct tar_err *err)
{
	const char *h = (const char *)blk;
	struct spanvec s = { 0 };
	unsigned char ext[TAR_BLOCK];
	int64_t realsize;
	int more = h[GNU_ISEXTENDED] != 0;

	if (tar_get_num(h + GNU_REALSIZE, 12, &realsize) < 0 || realsize < 0 ||
	    gnu_sparse_entries(h + GNU_SPARSE, 4, &s) < 0) {
		free(s.v);
		return fail(err, m->hdr_off, "bad GNU sparse header");
	}
	while (more) {
		ssize_t r = src_block(in, ext, err);
		if (r >= 0 && r < TAR_BLOCK)
			r = fail(err, m->hdr_off, "truncated header");
		if (r >= 0 && gnu_sparse_entries((const char *)ext, GNU_EXT_ENTRIES, &s) < 0)
			r = fail(err, m->hdr_off, "bad GNU sparse header");
		if (r < 0) {
			free(s.v);
			return -1;
		}
		more = ext[GNU_EXT_ISEXT] != 0;
	}
	e->data_off = in->pos;
	int r = sparse_finish(&s, (uint64_t)realsize, stored, e, m->hdr_off, err);
	free(s.v);
	return r;
}

/* GNU.sparse.map "off,len,off,len" (pax sparse 0.1). */
static int parse_sparse_map(const struct pax_rec *r, struct spanvec *s)
{
	const char *p = r->val, *end = r->val + r->vlen;
	uint64_t num[2];
	int k = 0;

	if (r->vlen == 0)
		return 0;
	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		if (parse_dec(p, (size_t)(e - p), (uint64_t)INT64_MAX, &num[k]) < 0)
			return -1;
		if (++k == 2) {
			if (spanvec_add(s, num[0], num[1]) < 0)
				return -1;
			k = 0;
		}
		if (!c)
			break;
		p = c + 1;
	}
	return k == 0 ? 0 : -1;
}

/*
 * Pax sparse 1.0: the map is at the start of the data area as decimal
 * lines: the count, then offset and length per region, padded to a block.
 * Lines starting with '#' before the count are skipped (libarchive's
 * tests write a "#!gnu-sparse-format" preamble). Sets *USED to the bytes
 * of data the map took.
 */
static int read_sparse10_map(struct tar_in *in, struct member *m, uint64_t stored,
			     struct spanvec *s, uint64_t *used, struct tar_err *err)
{
	unsigned char blk[TAR_BLOCK];
	uint64_t num = 0, count = 0, pair[2];
	size_t nnum = 0;        /* numbers complete so far, count included */
	int digits = 0, comment = 0, bol = 1;

	*used = 0;
	for (;;) {
		if (*used + TAR_BLOCK > stored)
			return fail(err, m->hdr_off, "bad GNU sparse map");
		ssize_t r = src_block(in, blk, err);
		if (r < 0)
			return -1;
		if (r < TAR_BLOCK)
			return fail(err, m->hdr_off, "truncated member");
		*used += TAR_BLOCK;
		for (size_t i = 0; i < TAR_BLOCK; i++) {
			unsigned char c = blk[i];
			if (comment) {
				comment = c != '\n';
				bol = !comment;
				continue;
			}
			if (bol && nnum == 0 && c == '#') {
				comment = 1;
				continue;
			}
			bol = 0;
			if (c >= '0' && c <= '9') {
				if (num > ((uint64_t)INT64_MAX - 9) / 10)
					return fail(err, m->hdr_off, "bad GNU sparse map");
				num = num * 10 + (c - '0');
				digits = 1;
				continue;
			}
			if (c != '\n' || !digits)
				return fail(err, m->hdr_off, "bad GNU sparse map");
			bol = 1;
			if (nnum == 0) {
				/* each region needs at least "0\n0\n" of data */
				if (num > SPARSE_MAX || num > stored / 4)
					return fail(err, m->hdr_off, "bad GNU sparse map");
				count = num;
			} else {
				pair[(nnum - 1) % 2] = num;
				if (nnum % 2 == 0 && spanvec_add(s, pair[0], pair[1]) < 0)
					return fail(err, m->hdr_off, "out of memory");
			}
			nnum++;
			num = 0;
			digits = 0;
			if (nnum == 1 + 2 * count)
				return 0;  /* the rest of this block is padding */
		}
	}
}

/* The GNU.sparse.* records of one member, after merging. */
struct sparse_recs {
	const struct pax_rec *major, *minor, *map, *size, *realsize, *numblocks;
};

/* Pax sparse (0.0, 0.1, 1.0): E becomes a sparse regular file. */
static int pax_sparse(struct tar_in *in, struct member *m, const struct sparse_recs *sr,
		      uint64_t stored, struct tar_entry *e, struct tar_err *err)
{
	struct spanvec s = { 0 };
	uint64_t realsize, nblocks, used = 0;
	int v1 = sr->major && strcmp(sr->major->val, "1") == 0;
	const struct pax_rec *rs = v1 ? sr->realsize : sr->size;
	int r = 0;

	/* 0.0 and 0.1 have no version records; 1.x keeps 1.0's layout
	 * (toybox's tests hold a "1.1"); anything else is unknown */
	if (sr->major && !v1 && strcmp(sr->major->val, "0") != 0)
		return fail(err, m->hdr_off, "unsupported GNU sparse format %s",
			    sr->major->val);

	if (!rs || parse_dec(rs->val, rs->vlen, (uint64_t)INT64_MAX, &realsize) < 0)
		return fail(err, m->hdr_off, "bad GNU sparse header");
	e->data_off = in->pos;
	if (v1) {
		r = read_sparse10_map(in, m, stored, &s, &used, err);
	} else if (sr->map) {
		if (parse_sparse_map(sr->map, &s) < 0)
			r = fail(err, m->hdr_off, "bad GNU sparse map");
	} else {
		for (size_t i = 0; r == 0 && i < m->nsp00; i++)
			if (spanvec_add(&s, m->sp00[i].off, m->sp00[i].len) < 0)
				r = fail(err, m->hdr_off, "out of memory");
	}
	if (r == 0 && !v1 && sr->numblocks &&
	    (parse_dec(sr->numblocks->val, sr->numblocks->vlen, SIZE_MAX, &nblocks) < 0 ||
	     nblocks != s.n))
		r = fail(err, m->hdr_off, "bad GNU sparse map");
	if (r == 0) {
		e->data_off = in->pos;
		r = sparse_finish(&s, realsize, stored - used, e, m->hdr_off, err);
	}
	free(s.v);
	return r;
}

/* ------------------------------------------------------------------ */
/* Building an entry                                                    */

/* What the merged pax records say about one member. */
struct paxinfo {
	const struct pax_rec *path, *linkpath, *uname, *gname, *sparse_name;
	int has_size, has_uid, has_gid, has_mtime, has_major, has_minor;
	uint64_t size, uid, gid, major, minor;
	int64_t mtime;
	struct sparse_recs sp;
};

static int starts_with(const struct pax_rec *r, const char *prefix)
{
	return strncmp(r->key, prefix, strlen(prefix)) == 0;
}

/*
 * Reads one surviving record into PI. Returns 1 if the record is kept in
 * e->pax, 0 if dropped, -1 on error.
 */
static int pax_apply(struct tar_in *in, const struct pax_rec *r, struct paxinfo *pi,
		     uint64_t off, struct tar_err *err)
{
	int frac;

	if (key_is(r, "path"))
		pi->path = r;
	else if (key_is(r, "linkpath"))
		pi->linkpath = r;
	else if (key_is(r, "uname"))
		pi->uname = r;
	else if (key_is(r, "gname"))
		pi->gname = r;
	else if (key_is(r, "size")) {
		if (parse_dec(r->val, r->vlen, (uint64_t)INT64_MAX, &pi->size) < 0)
			return fail(err, off, "bad pax size");
		pi->has_size = 1;
	} else if (key_is(r, "uid") || key_is(r, "gid")) {
		int u = r->key[0] == 'u';
		if (parse_dec(r->val, r->vlen, UINT64_MAX, u ? &pi->uid : &pi->gid) < 0)
			return fail(err, off, "bad pax %s", r->key);
		*(u ? &pi->has_uid : &pi->has_gid) = 1;
	} else if (key_is(r, "mtime")) {
		if (parse_pax_time(r->val, r->vlen, &pi->mtime, &frac) < 0) {
			warnf(in, off, "ignoring malformed pax mtime");
			return 0;
		}
		pi->has_mtime = 1;
		return frac;
	} else if (key_is(r, "SCHILY.devmajor") || key_is(r, "SCHILY.devminor")) {
		int maj = r->key[11] == 'a';
		if (parse_dec(r->val, r->vlen, UINT32_MAX, maj ? &pi->major : &pi->minor) < 0)
			return fail(err, off, "bad pax %s", r->key);
		*(maj ? &pi->has_major : &pi->has_minor) = 1;
	} else if (starts_with(r, "GNU.sparse.")) {
		const char *k = r->key + 11;
		if (!strcmp(k, "major"))
			pi->sp.major = r;
		else if (!strcmp(k, "minor"))
			pi->sp.minor = r;
		else if (!strcmp(k, "map"))
			pi->sp.map = r;
		else if (!strcmp(k, "size"))
			pi->sp.size = r;
		else if (!strcmp(k, "realsize"))
			pi->sp.realsize = r;
		else if (!strcmp(k, "numblocks"))
			pi->sp.numblocks = r;
		else if (!strcmp(k, "name"))
			pi->sparse_name = r;
	} else if (key_is(r, "SCHILY.dev") || key_is(r, "SCHILY.ino") ||
		   key_is(r, "SCHILY.nlink")) {
		return 0;
	} else {
		return 1;
	}
	return 0;
}

/* Counts N more bytes of global records against TAR_MAX_GLOBAL. */
static int charge_globals(struct tar_in *in, size_t n, uint64_t off, struct tar_err *err)
{
	in->gkept += n;
	if (in->gkept > TAR_MAX_GLOBAL)
		return fail(err, off, "pax global records too large for this many members");
	return 0;
}

/*
 * Brings GPI and the snapshot up to date after a g header: applies every
 * live global once, marks the ones carried verbatim, and serialises those
 * for the members that follow to share. Returns the snapshot or NULL.
 */
static struct gsnap *global_snapshot(struct tar_in *in, uint64_t off, struct tar_err *err)
{
	struct buf b = { 0 };
	struct gsnap *g;

	if (in->snap_valid)
		return in->snaps;
	if (!in->gpi && !(in->gpi = malloc(sizeof *in->gpi))) {
		fail(err, off, "out of memory");
		return NULL;
	}
	memset(in->gpi, 0, sizeof *in->gpi);
	for (size_t i = 0; i < in->globals.n; i++) {
		struct pax_rec *r = &in->globals.v[i];
		int k = r->vlen ? pax_apply(in, r, in->gpi, off, err) : 0;
		if (k < 0 || (k > 0 && buf_add_record(&b, r->key, r->klen, r->val, r->vlen) < 0)) {
			free(b.p);
			return k < 0 ? NULL : (fail(err, off, "out of memory"), NULL);
		}
		r->carried = k > 0;
	}
	if (charge_globals(in, b.len, off, err) < 0 ||
	    !(g = malloc(sizeof(*g) + b.len + 1))) {
		free(b.p);
		if (in->gkept <= TAR_MAX_GLOBAL)
			fail(err, off, "out of memory");
		return NULL;
	}
	g->len = b.len;
	if (b.len)
		memcpy(g->recs, b.p, b.len);
	free(b.p);
	g->next = in->snaps;
	in->snaps = g;
	in->snap_valid = 1;
	return g;
}

static int rec_key_cmp(const void *a, const void *b)
{
	const struct pax_rec *x = *(const struct pax_rec *const *)a;
	const struct pax_rec *y = *(const struct pax_rec *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* A member's record with an empty value takes back what a global set. */
static void pax_unset(struct paxinfo *pi, const struct pax_rec *r)
{
	if (key_is(r, "uname"))
		pi->uname = NULL;
	else if (key_is(r, "gname"))
		pi->gname = NULL;
	else if (key_is(r, "uid"))
		pi->has_uid = 0;
	else if (key_is(r, "gid"))
		pi->has_gid = 0;
	else if (key_is(r, "mtime"))
		pi->has_mtime = 0;
	else if (key_is(r, "SCHILY.devmajor"))
		pi->has_major = 0;
	else if (key_is(r, "SCHILY.devminor"))
		pi->has_minor = 0;
}

/*
 * Merges the globals and the member's records and fills PI. The member's
 * records carried verbatim go to E->pax, the globals' to E->gpax (the
 * shared snapshot) -- unless the member replaces or deletes a carried
 * global: then E->pax gets both merged, a copy charged to TAR_MAX_GLOBAL.
 * The work is proportional to the member's records.
 */
static int merge_pax(struct tar_in *in, struct member *m, struct paxinfo *pi,
		     struct tar_entry *e, struct tar_err *err)
{
	size_t n = m->pax.n;
	const struct pax_rec **refs = NULL;
	unsigned char *keep = NULL;
	const struct gsnap *g = NULL;
	struct buf out = { 0 };
	int r = 0, overridden = 0;

	memset(pi, 0, sizeof *pi);
	if (in->globals.n - in->gdead > 0) {
		if (!(g = global_snapshot(in, m->hdr_off, err)))
			return -1;
		*pi = *in->gpi;
	}
	if (n && (!(refs = malloc(n * sizeof *refs)) || !(keep = malloc(n))))
		r = fail(err, m->hdr_off, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++)
		refs[i] = &m->pax.v[i];
	if (r == 0 && pax_dedupe(refs, n, keep) < 0)
		r = fail(err, m->hdr_off, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct pax_rec *x = refs[i];
		size_t gi = g ? global_find(in, x->key, x->klen) : 0;
		int value = x->vlen > 0 || empty_is_value(x), k;
		if (keep[i] == 0 && value)
			continue;       /* a later record of the member wins */
		if (gi && in->globals.v[gi - 1].carried && in->globals.v[gi - 1].vlen)
			overridden = 1;
		if (!value) {
			pax_unset(pi, x);
			continue;
		}
		if ((k = pax_apply(in, x, pi, m->hdr_off, err)) < 0)
			r = -1;
		else if (k > 0)
			keep[i] = 2;
	}
	/* The merged copy: carried globals the member leaves alone first. */
	const struct pax_rec **sorted = NULL;
	if (r == 0 && overridden) {
		if (!(sorted = malloc(n * sizeof *sorted)))
			r = fail(err, m->hdr_off, "out of memory");
		else {
			memcpy(sorted, refs, n * sizeof *sorted);
			qsort(sorted, n, sizeof *sorted, rec_key_cmp);
		}
	}
	for (size_t i = 0; r == 0 && overridden && i < in->globals.n; i++) {
		const struct pax_rec *x = &in->globals.v[i];
		if (x->carried && x->vlen &&
		    !bsearch(&x, sorted, n, sizeof *sorted, rec_key_cmp) &&
		    buf_add_record(&out, x->key, x->klen, x->val, x->vlen) < 0)
			r = fail(err, m->hdr_off, "out of memory");
	}
	free(sorted);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (keep[i] == 2 && buf_add_record(&out, refs[i]->key, refs[i]->klen,
						   refs[i]->val, refs[i]->vlen) < 0)
			r = fail(err, m->hdr_off, "out of memory");
	}
	free(refs);
	free(keep);
	if (r == 0 && overridden)
		r = charge_globals(in, out.len, m->hdr_off, err);
	if (r == 0 && !overridden && g && g->len) {
		e->gpax = g->recs;
		e->gpaxlen = g->len;
	}
	/* PI points into M's and the globals' records; both outlive the
	 * member being built */
	if (r == 0 && out.len) {
		e->pax = out.p;
		e->paxlen = out.len;
	} else {
		free(out.p);
	}
	return r;
}

static char *ustar_name(const struct tar_header *h, int fmt)
{
	size_t nlen = strnlen(h->name, sizeof h->name);
	/* GNU reuses the prefix field (atime, ctime, ...); star's is shorter. */
	size_t plen = fmt == FMT_USTAR ? strnlen(h->prefix, sizeof h->prefix)
		    : fmt == FMT_STAR ? strnlen(h->prefix, 131) : 0;
	char *p;

	if (plen == 0)
		return memdup_str(h->name, nlen);
	if (!(p = malloc(plen + 1 + nlen + 1)))
		return NULL;
	memcpy(p, h->prefix, plen);
	p[plen] = '/';
	memcpy(p + plen + 1, h->name, nlen);
	p[plen + 1 + nlen] = '\0';
	return p;
}

static char *rec_str(const struct pax_rec *r)
{
	return memdup_str(r->val, r->vlen);
}

/* The string fields: pax first, then GNU L/K, then the header. */
/*
 * The entry's four strings in one block, E->name first: an index of many
 * entries keeps one allocation each instead of four (tar_entry_free frees
 * E->name only). Returns 0, or -1 on ENOMEM with the strings freed.
 */
static int pack_strings(struct tar_entry *e)
{
	char **f[4] = { &e->name, &e->linkname, &e->uname, &e->gname };
	size_t len[4], total = 0;

	for (int i = 0; i < 4; i++)
		total += (len[i] = strlen(*f[i])) + 1;
	char *p = malloc(total), *o = p;
	for (int i = 0; i < 4; i++) {
		if (p) {
			memcpy(o, *f[i], len[i] + 1);
			free(*f[i]);
			*f[i] = o;
			o += len[i] + 1;
		} else {
			free(*f[i]);
			*f[i] = NULL;
		}
	}
	return p ? 0 : -1;
}

static int entry_strings(struct member *m, const struct tar_header *h, int fmt,
			 const struct paxinfo *pi, struct tar_entry *e)
{
	const struct pax_rec *path = pi->sparse_name ? pi->sparse_name : pi->path;

	e->name = path ? rec_str(path)
		: m->longname ? memdup_str(m->longname, strlen(m->longname))
			      : ustar_name(h, fmt);
	e->linkname = pi->linkpath ? rec_str(pi->linkpath)
		    : m->longlink ? memdup_str(m->longlink, strlen(m->longlink))
				  : field_str(h->linkname, sizeof h->linkname);
	e->uname = pi->uname ? rec_str(pi->uname)
		 : fmt == FMT_V7 ? memdup_str("", 0) : field_str(h->uname, sizeof h->uname);
	e->gname = pi->gname ? rec_str(pi->gname)
		 : fmt == FMT_V7 ? memdup_str("", 0) : field_str(h->gname, sizeof h->gname);
	if (e->name && e->linkname && e->uname && e->gname)
		return pack_strings(e);
	free(e->name);
	free(e->linkname);
	free(e->uname);
	free(e->gname);
	e->name = e->linkname = e->uname = e->gname = NULL;
	return -1;
}

static int header_num(const char *f, size_t len, const char *what, int64_t min,
		      int64_t *v, uint64_t off, struct tar_err *err)
{
	if (tar_get_num(f, len, v) < 0 || *v < min)
		return fail(err, off, "bad %s field in header", what);
	return 0;
}

/* The numeric fields; the header's, unless a pax record says otherwise. */
static int entry_numbers(const struct tar_header *h, int fmt, const struct paxinfo *pi,
			 struct tar_entry *e, uint64_t off, struct tar_err *err)
{
	int64_t mode, uid, gid, mtime, maj = 0, min = 0;

	if (header_num(h->mode, sizeof h->mode, "mode", INT64_MIN, &mode, off, err) ||
	    header_num(h->uid, sizeof h->uid, "uid", 0, &uid, off, err) ||
	    header_num(h->gid, sizeof h->gid, "gid", 0, &gid, off, err) ||
	    header_num(h->mtime, sizeof h->mtime, "mtime", INT64_MIN, &mtime, off, err))
		return -1;
	if (fmt != FMT_V7 && (e->type == '3' || e->type == '4') &&
	    (header_num(h->devmajor, sizeof h->devmajor, "devmajor", 0, &maj, off, err) ||
	     header_num(h->devminor, sizeof h->devminor, "devminor", 0, &min, off, err)))
		return -1;
	if (maj > (int64_t)UINT32_MAX || min > (int64_t)UINT32_MAX)
		return fail(err, off, "bad device number in header");
	e->mode = (uint32_t)mode & 07777;
	e->uid = pi->has_uid ? pi->uid : (uint64_t)uid;
	e->gid = pi->has_gid ? pi->gid : (uint64_t)gid;
	e->mtime = pi->has_mtime ? pi->mtime : mtime;
	e->devmajor = pi->has_major ? (uint32_t)pi->major : (uint32_t)maj;
	e->devminor = pi->has_minor ? (uint32_t)pi->minor : (uint32_t)min;
	return 0;
}

/* The entry type; sets *DATA when content follows the header. */
static char entry_type(char tf, const char *name, int *data)
{
	size_t len = strlen(name);

	*data = 1;
	switch (tf) {
	case '\0':
		/* old tars: a directory is a regular file whose name ends '/' */
		if (len > 0 && name[len - 1] == '/') {
			*data = 0;
			return '5';
		}
		return '0';
	case 'S':
		return '0';
	case 'D':
		return '5';  /* GNU dumpdir: its listing follows, skipped */
	case '1': case '2': case '3': case '4': case '5': case '6':
		/* no data whatever the size field says (Go, libarchive) */
		*data = 0;
		return tf;
	default:
		return tf;
	}
}

/*
 * The member's own header at OFF (BLK), its extensions in M: fills E and
 * leaves the stream after the member's content.
 */
static int read_member(struct tar_in *in, struct member *m, const unsigned char *blk,
		       struct tar_entry *e, struct tar_err *err)
{
	const struct tar_header *h = (const struct tar_header *)(const void *)blk;
	int fmt = header_format(h);
	struct paxinfo pi;
	int64_t hsize;
	int data;

	if (merge_pax(in, m, &pi, e, err) < 0)
		return -1;
	if (entry_strings(m, h, fmt, &pi, e) < 0)
		return fail(err, m->hdr_off, "out of memory");
	e->type = entry_type(h->typeflag, e->name, &data);
	if (entry_numbers(h, fmt, &pi, e, m->hdr_off, err) < 0)
		return -1;
	if (header_num(h->size, sizeof h->size, "size", 0, &hsize, m->hdr_off, err) < 0)
		return -1;
	uint64_t stored = pi.has_size ? pi.size : (uint64_t)hsize;
	if (!data)
		stored = 0;
	/* the content and its padding must stay addressable */
	if (stored > (uint64_t)INT64_MAX - TAR_BLOCK - in->pos)
		return fail(err, m->hdr_off, "member size too large");
	e->hdr_off = m->hdr_off;
	e->data_off = in->pos;
	e->data_len = stored;
	e->size = (e->type == '5' || !data) ? 0 : stored;

	/* old GNU sparse extension blocks come before the content */
	if (h->typeflag == 'S' && read_gnu_sparse(in, m, blk, stored, e, err) < 0)
		return -1;
	uint64_t area = in->pos;  /* where the content starts */
	if (!in->gzip && stored > in->fsize - area)
		return fail(err, m->hdr_off, "truncated member");
	int sparse = h->typeflag != 'S' && e->type == '0' &&
		     (pi.sp.major || pi.sp.minor || pi.sp.map || m->nsp00 || pi.sp.size);
	if (sparse && pax_sparse(in, m, &pi.sp, stored, e, err) < 0)
		return -1;
	/* skip what is left of the content and its padding (GNU tar,
	 * bsdtar and Python all refuse a last block cut short) */
	int r = src_skip(in, stored - (in->pos - area) + TAR_PAD(stored), err);
	if (r < 0)
		return -1;
	if (r > 0)
		return fail(err, m->hdr_off, "truncated member");
	if (e->type == '5')
		e->data_len = 0;  /* a GNU dumpdir's listing is not content */
	return 0;
}

/* The end of the archive: what follows it still goes to the feed, so
 * that it has seen every byte of the layer. */
static int layer_done(struct tar_in *in, struct tar_err *err)
{
	if (in->feed_raw && feed_gap(in, in->fsize) < 0)
		return fail(err, in->fed, "read error: %s", strerror(errno));
	free(in->gapbuf);
	free(in->ra.buf);
	in->gapbuf = in->ra.buf = NULL;
	in->state = ST_DONE;
	return 0;
}

/* The end of the archive: check what follows one zero block, and read a
 * gzip stream to its end so every member's CRC and length are checked. */
static int finish(struct tar_in *in, struct member *m, uint64_t zero_off,
		  struct tar_err *err)
{
	unsigned char blk[TAR_BLOCK];
	ssize_t r;

	if (m->pending)
		return fail(err, m->hdr_off, "extension header not followed by a member");
	r = src_block(in, blk, err);
	if (r < 0)
		return -1;
	if (!block_is_zero(blk, (size_t)r))
		warnf(in, zero_off, "lone zero block; ignoring the rest of the archive");
	while (in->gzip) {
		in->pos += in->ix_olen - in->ix_opos;
		int f = ix_fill(in, err);
		if (f < 0)
			return -1;
		if (f == 0)
			break;
	}
	return layer_done(in, err);
}

/* One extension header more; TAR_MAX_EXT bounds a chain. */
static int count_ext(struct member *m, struct tar_err *err)
{
	if (++m->nhdr > TAR_MAX_EXT)
		return fail(err, m->hdr_off, "too many extension headers");
	return 0;
}

static int next_member(struct tar_in *in, struct member *m, struct tar_entry *e,
		       struct tar_err *err)
{
	unsigned char blk[TAR_BLOCK];
	const struct tar_header *h = (const struct tar_header *)(const void *)blk;

	for (;;) {
		uint64_t off = in->pos;
		ssize_t n = src_block(in, blk, err);
		int64_t size;

		if (n < 0)
			return -1;
		if (!m->pending)
			m->hdr_off = off;
		if (n == 0) {
			if (m->pending)
				return fail(err, m->hdr_off,
					    "extension header not followed by a member");
			return layer_done(in, err);
		}
		if (n < TAR_BLOCK)
			return fail(err, m->hdr_off, off == 0 ?
				    "not a tar archive (truncated header)" :
				    "truncated header");
		if (block_is_zero(blk, TAR_BLOCK))
			return finish(in, m, off, err);
		if (!header_checksum_ok(blk))
			return fail(err, m->hdr_off, off == 0 ?
				    "not a tar archive (bad header checksum)" :
				    "bad header checksum");
		if (tar_get_num(h->size, sizeof h->size, &size) < 0 || size < 0)
			return fail(err, m->hdr_off, "bad size field in header");

		int r;
		switch (h->typeflag) {
		case 'x':
		case 'X':
			r = count_ext(m, err) ? -1 : read_pax(in, m, (uint64_t)size, err);
			m->pending = 1;
			break;
		case 'L':
		case 'K':
			r = count_ext(m, err) ? -1 :
			    read_long(in, m, (uint64_t)size, h->typeflag == 'K', err);
			m->pending = 1;
			break;
		case 'A':  /* Solaris ACL: belongs to the next member, ignored */
			m->pending = 1;
			/* fall through */
		case 'V':  /* GNU volume label */
		case 'N':  /* old GNU long names: obsolete, skipped */
			r = count_ext(m, err);
			if (r == 0 && (uint64_t)size > (uint64_t)INT64_MAX - TAR_BLOCK - in->pos)
				r = fail(err, m->hdr_off, "member size too large");
			if (r == 0)
				r = src_skip(in, (uint64_t)size + TAR_PAD((uint64_t)size), err);
			if (r > 0)
				r = fail(err, m->hdr_off, "truncated member");
			break;
		case 'g':
			r = count_ext(m, err) ? -1 : read_global(in, m, (uint64_t)size, err);
			break;
		default:
			r = read_member(in, m, blk, e, err);
			return r < 0 ? -1 : 1;
		}
		if (r < 0)
			return -1;
	}
}

int tar_next(struct tar_in *in, struct tar_entry *e, struct tar_err *err)
{
	struct member m;
	int r;

	memset(e, 0, sizeof *e);
	if (in->state == ST_DONE)
		return 0;
	if (in->state == ST_FAILED) {
		if (err)
			*err = in->failed;
		return -1;
	}
	memset(&m, 0, sizeof m);
	r = next_member(in, &m, e, err);
	member_free(&m);
	if (r < 0) {
		tar_entry_free(e);
		in->state = ST_FAILED;
		if (err)
			in->failed = *err;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Reading content                                                      */

struct tar_cursor *tar_cursor_new(struct tar_in *in)
{
	struct tar_cursor *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->in = in;
	if (in->gzip && !(c->gz = gz_cursor_new(in->gz))) {
		free(c);
		return NULL;
	}
	return c;
}

void tar_cursor_free(struct tar_cursor *c)
{
	if (!c)
		return;
	gz_cursor_free(c->gz);
	free(c->w.buf);
	free(c);
}

uint64_t tar_cursor_inflated(const struct tar_cursor *c)
{
	return c->gz ? gz_cursor_inflated(c->gz) : 0;
}

uint64_t tar_in_span_start(const struct tar_in *in, uint64_t stored_off)
{
	return in->gzip ? gz_span_start(in->gz, stored_off) : 0;
}

uint64_t tar_in_span_end(const struct tar_in *in, uint64_t stored_off)
{
	return in->gzip ? gz_span_end(in->gz, stored_off) : UINT64_MAX;
}

/* The emit: small files through a window (window_get), large ones by a
 * pread of their own (or splice, in tarflat.c). */
#define CUR_WINDOW (128u * 1024)
#define CUR_SMALL (16u * 1024)
#define CUR_GAP (8u * 1024)     /* the next member's header, and more */

/* Copies LEN stored bytes at OFF in the (uncompressed) layer. */
static int read_stored(struct tar_cursor *c, uint64_t off, unsigned char *buf,
		       size_t len, struct tar_err *err)
{
	struct gz_err ge;

	if (c->gz)
		return gz_cursor_read(c->gz, off, buf, len, &ge) < 0 ? gz_failed(err, &ge) : 0;
	if (len <= CUR_SMALL) {
		ssize_t k = window_get(&c->w, gz_pread, (void *)c->in, off, len, CUR_SMALL,
				       CUR_WINDOW, CUR_GAP);
		if (k < 0)
			return fail(err, off, "read error: %s", strerror(errno));
		if ((size_t)k == len) {
			memcpy(buf, c->w.buf + (off - c->w.off), len);
			return 0;
		}
	}
	ssize_t r = in_pread(c->in, buf, len, off);
	if (r < 0)
		return fail(err, off, "read error: %s", strerror(errno));
	if ((size_t)r < len)
		return fail(err, off, "input changed since it was indexed");
	return 0;
}

/* Reads a sparse entry: data regions from the store, holes as zeros. */
static int read_sparse(struct tar_cursor *c, const struct tar_entry *e, uint64_t pos,
		       unsigned char *buf, size_t len, struct tar_err *err)
{
	size_t i = 0;
	uint64_t stored = 0;

	/* sequential reads resume where the last one stopped */
	if (c->sp_map == e->sparse && c->sp_hdr_off == e->hdr_off &&
	    c->sp_idx < e->nsparse &&
	    e->sparse[c->sp_idx].off <= pos) {
		i = c->sp_idx;
		stored = c->sp_stored;
	}
	while (len > 0) {
		while (i < e->nsparse && e->sparse[i].off + e->sparse[i].len <= pos) {
			stored += e->sparse[i].len;
			i++;
		}
		const struct tar_span *sp = i < e->nsparse ? &e->sparse[i] : NULL;
		size_t k;
		if (!sp || pos < sp->off) {
			k = min_size(len, (sp ? sp->off : e->size) - pos);
			memset(buf, 0, k);
		} else {
			k = min_size(len, sp->off + sp->len - pos);
			if (read_stored(c, e->data_off + stored + (pos - sp->off),
					buf, k, err) < 0)
				return -1;
		}
		buf += k;
		pos += k;
		len -= k;
	}
	c->sp_map = e->sparse;
	c->sp_hdr_off = e->hdr_off;
	c->sp_idx = i;
	c->sp_stored = stored;
	return 0;
}

int tar_cursor_read(struct tar_cursor *c, const struct tar_entry *e, uint64_t pos,
		    void *buf, size_t len, struct tar_err *err)
{
	if (pos > e->size || len > e->size - pos)
		return fail(err, e->hdr_off, "read past the end of the entry");
	if (len == 0)
		return 0;
	if (e->sparse)
		return read_sparse(c, e, pos, buf, len, err);
	return read_stored(c, e->data_off + pos, buf, len, err);
}

int tar_cursor_read_stored(struct tar_cursor *c, uint64_t off, void *buf, size_t len,
			   struct tar_err *err)
{
	return len ? read_stored(c, off, buf, len, err) : 0;
}

int tar_read_content(struct tar_in *in, const struct tar_entry *e, uint64_t pos,
		     void *buf, size_t len, struct tar_err *err)
{
	if (!in->cur && !(in->cur = tar_cursor_new(in)))
		return fail(err, e->hdr_off, "out of memory");
	return tar_cursor_read(in->cur, e, pos, buf, len, err);
}

int tar_read_stored(struct tar_in *in, uint64_t off, void *buf, size_t len,
		    struct tar_err *err)
{
	if (!in->cur && !(in->cur = tar_cursor_new(in)))
		return fail(err, off, "out of memory");
	return tar_cursor_read_stored(in->cur, off, buf, len, err);
}

uint64_t tar_in_stream_len(const struct tar_in *in)
{
	return in->pos;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

int tar_out_init(struct tar_out *o, int fd)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->buf = malloc(OUTCAP);
	if (!o->buf) {
		errno = ENOMEM;
		return -1;
	}
	o->cap = OUTCAP;
	return 0;
}

void tar_out_free(struct tar_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

static int write_all(struct tar_out *o, const unsigned char *p, size_t n)
{
	if (o->drain) {
		if (n && o->drain(o->drain_ctx, p, n) < 0)
			return -1;
		o->written += n;
		return 0;
	}
	while (n > 0) {
		ssize_t r = write(o->fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
		o->written += (uint64_t)r;
	}
	return 0;
}

int tar_out_flush(struct tar_out *o)
{
	int r = write_all(o, o->buf, o->len);

	o->len = 0;
	return r;
}

int tar_write_data(struct tar_out *o, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		if (o->len == 0 && len >= o->cap)
			return write_all(o, p, len);  /* big writes skip the copy */
		size_t k = min_size(o->cap - o->len, len);
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		len -= k;
		if (o->len == o->cap && tar_out_flush(o) < 0)
			return -1;
	}
	return 0;
}

unsigned char *tar_out_room(struct tar_out *o, size_t len, size_t *avail)
{
	if (o->len == o->cap && tar_out_flush(o) < 0)
		return NULL;
	*avail = min_size(o->cap - o->len, len);
	return o->buf + o->len;
}

void tar_out_commit(struct tar_out *o, size_t n)
{
	o->len += n;
}

int tar_write_pad(struct tar_out *o, uint64_t size)
{
	static const unsigned char zeros[TAR_BLOCK];

	return tar_write_data(o, zeros, TAR_PAD(size));
}

int tar_write_end(struct tar_out *o)
{
	static const unsigned char zeros[2 * TAR_BLOCK];

	if (tar_write_data(o, zeros, sizeof zeros) < 0)
		return -1;
	return tar_out_flush(o);
}

/*
 * Puts NAME into the ustar name and prefix fields: whole if it fits in
 * 100 bytes, else split at a '/' leaving the longest prefix (<= 155) and a
 * non-empty name (<= 100). Returns -1 when no split fits.
 */
static int ustar_split(const char *name, size_t len, struct tar_header *h)
{
	if (len <= sizeof h->name) {
		memcpy(h->name, name, len);
		return 0;
	}
	if (len > sizeof h->prefix + 1 + sizeof h->name)
		return -1;
	for (size_t i = len - 1 < sizeof h->prefix ? len - 1 : sizeof h->prefix; i > 0; i--) {
		if (name[i] != '/' || i + 1 == len)
			continue;
		if (len - i - 1 > sizeof h->name)
			return -1;  /* shorter prefixes leave longer names */
		memcpy(h->prefix, name, i);
		memcpy(h->name, name + i + 1, len - i - 1);
		return 0;
	}
	return -1;
}

static void put_checksum(struct tar_header *h)
{
	const unsigned char *b = (const unsigned char *)h;
	unsigned sum = 0;

	memset(h->chksum, ' ', sizeof h->chksum);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	snprintf(h->chksum, sizeof h->chksum, "%06o", sum & 0777777);
	h->chksum[7] = ' ';  /* "NNNNNN\0 " as GNU tar writes it */
}

static void ustar_magic(struct tar_header *h)
{
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
}

/* Does the serialised record list P hold a record with key K? */
static int pax_has_key(const char *p, size_t len, const char *k)
{
	size_t klen = strlen(k);

	while (len > 0) {
		size_t i = 0, rl = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9' && rl <= len)
			rl = rl * 10 + (size_t)(p[i++] - '0');
		if (i >= len || p[i] != ' ' || rl > len || rl <= i + 1)
			return 0;  /* malformed: stop looking */
		if (rl - i - 1 > klen && memcmp(p + i + 1, k, klen) == 0 &&
		    p[i + 1 + klen] == '=')
			return 1;
		p += rl;
		len -= rl;
	}
	return 0;
}

/* A decimal pax record; IS_SIGNED picks S over U. */
static int add_num_record(struct buf *b, const char *key, uint64_t u, int64_t s,
			  int is_signed)
{
	char num[32];

	if (is_signed)
		snprintf(num, sizeof num, "%lld", (long long)s);
	else
		snprintf(num, sizeof num, "%llu", (unsigned long long)u);
	return buf_add_record(b, key, strlen(key), num, strlen(num));
}

/* The pax header's own name: DIR/PaxHeaders/BASE after the entry name. */
static void pax_header_name(const char *name, size_t len, struct tar_header *h)
{
	struct buf b = { 0 };

	while (len > 1 && name[len - 1] == '/')
		len--;
	const char *slash = memrchr(name, '/', len);
	size_t dlen = slash ? (size_t)(slash - name) : 0;
	const char *base = slash ? slash + 1 : name;
	size_t blen = len - (size_t)(base - name);
	int ok = 0;

	if (dlen && (buf_add(&b, name, dlen) || buf_add(&b, "/", 1)))
		ok = -1;
	if (ok == 0 && (buf_add(&b, "PaxHeaders/", 11) || buf_add(&b, base, blen)))
		ok = -1;
	if (ok == 0 && ustar_split(b.p, b.len, h) == 0) {
		free(b.p);
		return;
	}
	/* too long, or no memory: a truncated name is still deterministic */
	size_t n = ok == 0 ? min_size(sizeof h->name, b.len) : 0;
	memset(h->prefix, 0, sizeof h->prefix);
	memset(h->name, 0, sizeof h->name);
	if (n)
		memcpy(h->name, b.p, n);
	else
		memcpy(h->name, "PaxHeaders/x", 12);
	free(b.p);
}

static int write_pax_header(struct tar_out *o, const struct tar_entry *e,
			    const char *name, size_t nlen, const struct buf *rec)
{
	struct tar_header h;
	int64_t mt = e->mtime < 0 ? 0 : e->mtime > 077777777777 ? 077777777777 : e->mtime;

	memset(&h, 0, sizeof h);
	pax_header_name(name, nlen, &h);
	tar_put_num(h.mode, sizeof h.mode, 0644);
	tar_put_num(h.uid, sizeof h.uid, 0);
	tar_put_num(h.gid, sizeof h.gid, 0);
	if (tar_put_num(h.size, sizeof h.size, rec->len) < 0) {
		errno = EFBIG;
		return -1;
	}
	tar_put_num(h.mtime, sizeof h.mtime, (uint64_t)mt);
	h.typeflag = 'x';
	ustar_magic(&h);
	put_checksum(&h);
	if (tar_write_data(o, &h, sizeof h) < 0 ||
	    tar_write_data(o, rec->p, rec->len) < 0 ||
	    tar_write_pad(o, rec->len) < 0)
		return -1;
	return 0;
}

/* A string field, or a pax record when it does not fit. */
static int put_str(char *field, size_t cap, const char *s, const char *key,
		   struct buf *pax)
{
	size_t len = strlen(s);

	if (len <= cap) {
		memcpy(field, s, len);
		return 0;
	}
	memcpy(field, s, cap);  /* a truncated value for pax-unaware readers */
	return buf_add_record(pax, key, strlen(key), s, len);
}

/* A numeric field, or 0 and a pax record when it does not fit. */
static int put_num(char *field, size_t len, uint64_t v, const char *key, struct buf *pax)
{
	if (tar_put_num(field, len, v) == 0)
		return 0;
	tar_put_num(field, len, 0);
	return key ? add_num_record(pax, key, v, 0, 0) : 0;
}

static int fill_header(const struct tar_entry *e, const char *name, size_t nlen,
		       struct tar_header *h, struct buf *pax)
{
	int dev = e->type == '3' || e->type == '4';
	int r = 0;

	if (ustar_split(name, nlen, h) < 0) {
		memcpy(h->name, name, min_size(sizeof h->name, nlen));
		r |= buf_add_record(pax, "path", 4, name, nlen);
	}
	r |= put_str(h->linkname, sizeof h->linkname, e->linkname ? e->linkname : "",
		     "linkpath", pax);
	tar_put_num(h->mode, sizeof h->mode, e->mode & 07777);
	r |= put_num(h->uid, sizeof h->uid, e->uid, "uid", pax);
	r |= put_num(h->gid, sizeof h->gid, e->gid, "gid", pax);
	r |= put_num(h->size, sizeof h->size, e->type == '0' ? e->size : 0, "size", pax);
	if (e->mtime < 0 || tar_put_num(h->mtime, sizeof h->mtime, (uint64_t)e->mtime) < 0) {
		tar_put_num(h->mtime, sizeof h->mtime, 0);
		if (!pax_has_key(e->pax, e->pax ? e->paxlen : 0, "mtime") &&
		    !pax_has_key(e->gpax, e->gpax ? e->gpaxlen : 0, "mtime"))
			r |= add_num_record(pax, "mtime", 0, e->mtime, 1);
	}
	h->typeflag = e->type;
	ustar_magic(h);
	/* ustar's uname and gname hold 31 bytes and a NUL */
	r |= put_str(h->uname, sizeof h->uname - 1, e->uname ? e->uname : "", "uname", pax);
	r |= put_str(h->gname, sizeof h->gname - 1, e->gname ? e->gname : "", "gname", pax);
	r |= put_num(h->devmajor, sizeof h->devmajor, dev ? e->devmajor : 0,
		     "SCHILY.devmajor", pax);
	r |= put_num(h->devminor, sizeof h->devminor, dev ? e->devminor : 0,
		     "SCHILY.devminor", pax);
	if (e->gpax && e->gpaxlen)
		r |= buf_add(pax, e->gpax, e->gpaxlen);
	if (e->pax && e->paxlen)
		r |= buf_add(pax, e->pax, e->paxlen);
	return r ? -1 : 0;
}

/* E's header, with the records of EXTRA (or none) first in its pax
 * header. */
static int write_member(struct tar_out *o, const struct tar_entry *e, const struct buf *extra)
{
	struct tar_header h;
	struct buf pax = { 0 }, name = { 0 };
	size_t nlen = strlen(e->name);
	int r = buf_add(&name, e->name, nlen);

	if (r == 0 && extra)
		r = buf_add(&pax, extra->p, extra->len);

	/* a directory's name ends in '/' */
	if (r == 0 && e->type == '5' && (nlen == 0 || e->name[nlen - 1] != '/'))
		r = buf_add(&name, "/", 1);
	memset(&h, 0, sizeof h);
	if (r == 0)
		r = fill_header(e, name.p, name.len, &h, &pax);
	if (r < 0) {
		errno = ENOMEM;
	} else {
		put_checksum(&h);
		if (pax.len)
			r = write_pax_header(o, e, name.p, name.len, &pax);
		if (r == 0)
			r = tar_write_data(o, &h, sizeof h);
	}
	free(pax.p);
	free(name.p);
	return r;
}

/* One region of a sparse map, as its two lines. */
static int sparse_region(struct buf *m, uint64_t off, uint64_t len)
{
	char num[48];

	snprintf(num, sizeof num, "%llu\n%llu\n", (unsigned long long)off,
		 (unsigned long long)len);
	return buf_add(m, num, strlen(num));
}

/*
 * The map of a sparse 1.0 member: the count of regions, then each one's
 * offset and length, a decimal number a line. A hole at the end is a
 * last region of no bytes at the file's size, as GNU tar writes it: GNU
 * tar's extraction takes the size from it, not from realsize.
 */
static int sparse_map(const struct tar_entry *e, struct buf *m)
{
	const struct tar_span *last = e->nsparse ? &e->sparse[e->nsparse - 1] : NULL;
	int tail = !last || last->off + last->len < e->size;
	char num[32];
	int r = 0;

	snprintf(num, sizeof num, "%zu\n", e->nsparse + (size_t)tail);
	r |= buf_add(m, num, strlen(num));
	for (size_t i = 0; i < e->nsparse; i++)
		r |= sparse_region(m, e->sparse[i].off, e->sparse[i].len);
	if (tail)
		r |= sparse_region(m, e->size, 0);
	return r;
}

/* "DIR/GNUSparseFile.0/BASE", the ustar name of sparse member NAME: what
 * GNU tar writes, with 0 for its process id, so that the bytes depend on
 * the entry alone. */
static int sparse_name(const char *name, struct buf *b)
{
	const char *slash = strrchr(name, '/');
	size_t dlen = slash ? (size_t)(slash - name + 1) : 0;

	return buf_add(b, name, dlen) || buf_add(b, "GNUSparseFile.0/", 16) ||
	       buf_add(b, name + dlen, strlen(name + dlen) + 1);
}

/*
 * A sparse file as pax sparse 1.0 (what `tar --sparse --posix` writes):
 * GNU.sparse.* records give the real name and size, the ustar header a
 * stand-in name and the stored size, and the data area starts with the
 * map, padded to a block; the data regions follow (the caller's).
 */
static int write_sparse(struct tar_out *o, const struct tar_entry *e)
{
	struct buf map = { 0 }, extra = { 0 }, name = { 0 };
	struct tar_entry se = *e;
	char num[32];
	int r = sparse_map(e, &map) || sparse_name(e->name, &name);

	snprintf(num, sizeof num, "%llu", (unsigned long long)e->size);
	r = r || buf_add_record(&extra, "GNU.sparse.major", 16, "1", 1) ||
	    buf_add_record(&extra, "GNU.sparse.minor", 16, "0", 1) ||
	    buf_add_record(&extra, "GNU.sparse.name", 15, e->name, strlen(e->name)) ||
	    buf_add_record(&extra, "GNU.sparse.realsize", 19, num, strlen(num));
	if (r) {
		errno = ENOMEM;
		r = -1;
	} else {
		se.name = name.p;
		se.size = map.len + TAR_PAD(map.len) + e->data_len;
		r = write_member(o, &se, &extra);
	}
	if (r == 0)
		r = tar_write_data(o, map.p, map.len) || tar_write_pad(o, map.len) ? -1 : 0;
	free(map.p);
	free(extra.p);
	free(name.p);
	return r;
}

int tar_member_block(const char *name, char type, uint32_t mode, int64_t mtime,
		     uint64_t size, unsigned char out[TAR_BLOCK])
{
	struct tar_header *h = (struct tar_header *)out;

	memset(out, 0, TAR_BLOCK);
	if (ustar_split(name, strlen(name), h) < 0 || mtime < 0)
		return -1;
	tar_put_num(h->mode, sizeof h->mode, mode & 07777);
	tar_put_num(h->uid, sizeof h->uid, 0);
	tar_put_num(h->gid, sizeof h->gid, 0);
	if (tar_put_num(h->size, sizeof h->size, size) < 0) {
		/* GNU's base-256, which GNU tar, bsdtar, Go and Python read */
		h->size[0] = (char)0x80;
		for (size_t i = sizeof h->size - 1; i > 0; i--, size >>= 8)
			h->size[i] = (char)(size & 0xff);
	}
	if (tar_put_num(h->mtime, sizeof h->mtime, (uint64_t)mtime) < 0)
		return -1;
	h->typeflag = type;
	ustar_magic(h);
	put_checksum(h);
	return 0;
}

int tar_write_header(struct tar_out *o, const struct tar_entry *e)
{
	if (e->type == '0' && e->sparse)
		return write_sparse(o, e);
	return write_member(o, e, NULL);
}

/* tar as an output (output.h): the writer above, entry by entry. */
static int tar_output_entry(struct output *o, const struct out_entry *e)
{
	return tar_write_header(o->sink, &e->t);
}

static int tar_output_content_end(struct output *o, const struct out_entry *e)
{
	/* a sparse member's stored regions end its data area (its map is
	 * padded to a block already) */
	return tar_write_pad(o->sink, e->t.sparse ? e->t.data_len : e->t.size);
}

static int tar_output_end(struct output *o)
{
	return tar_write_end(o->sink);
}

const struct output_ops tar_output = {
	.entry = tar_output_entry,
	.content_end = tar_output_content_end,
	.end = tar_output_end,
	.content = 1,
	.direct = 1,
	.sparse = 1,
};
