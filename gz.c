/*
 * gz.c - a random-access view of a gzip file (see gz.h).
 *
 * The technique is zlib's examples/zran.c: inflate the whole stream once,
 * and every SPAN bytes of output stop at the next deflate block boundary
 * (inflate with Z_BLOCK) to save the bit position there and the 32 KiB of
 * output before it. Later, inflate restarts at such a point in raw mode
 * with inflatePrime for the bits of the byte before it and
 * inflateSetDictionary for the window. Where one gzip member ends and the
 * next begins, an access point needs no window: inflate restarts in gzip
 * mode at the member's header.
 *
 * Who owns what: struct gz owns the scan's inflate stream and buffers and
 * the access points and trailers it records; once the scan has ended they
 * are only read. Each struct gz_cursor owns its own inflate stream and
 * buffers and only reads the struct gz it was made from.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gz.h"

#define ZCHUNK       (256u * 1024)  /* compressed bytes read at once */
#define ZOUT         (256u * 1024)  /* inflate output buffer */
#define WINSIZE      32768u         /* deflate window */
#define MAX_TRAILERS 4096           /* member trailers remembered */

/* A place in the gzip file where inflate can restart (zran.c). */
struct access_point {
	uint64_t out;           /* offset in the uncompressed stream */
	uint64_t in;            /* compressed offset of the first whole byte */
	int bits;               /* bits (0..7) of the byte before IN to use */
	unsigned wlen;          /* bytes of window */
	unsigned plen;          /* 0, or WINDOW holds them deflated into PLEN
	                         * bytes (gz_pack) */
	unsigned char *window;  /* NULL: a gzip member starts at IN */
};

/* Where a gzip member's CRC32 and ISIZE lie and what they said; read again
 * by gz_unchanged to catch a file rewritten in place. */
struct gz_trailer {
	uint64_t off;
	uint32_t crc, isize;
};

/* An inflate stream fed by a gz_read_fn. */
struct zsrc {
	z_stream zs;
	unsigned char *ibuf;    /* ZCHUNK bytes */
	uint64_t next;          /* file offset after the loaded input */
	int live;               /* inflateInit2 done */
	gz_read_fn *read;
	void *ctx;
};

struct gz {
	struct gz_src src;
	uint64_t span;

	/* the scan */
	struct zsrc scan;
	unsigned char *out;     /* ZOUT bytes */
	uint64_t total;         /* bytes inflated so far */
	uint64_t last_ap;       /* TOTAL at the last access point */
	int eof;
	int failed;
	struct gz_err failure;  /* what gz_scan returns again after -1 */

	/* what the scan leaves, read-only once it has ended */
	struct access_point *ap;
	size_t nap, capap;
	struct gz_trailer *trailers;    /* one per member read */
	size_t ntrailers, captrailers;
};

struct gz_cursor {
	const struct gz *g;
	struct zsrc s;
	unsigned char *out;     /* ZOUT bytes: the output at BASE */
	unsigned char *win;     /* WINSIZE bytes: a packed window inflated */
	uint64_t base;
	size_t len;
	int raw;                /* inflating raw deflate (from a window point) */
	int eof, valid;
	uint64_t inflated;
};

static int fail(struct gz_err *err, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills *ERR and returns -1, so callers can write `return fail(...)`. */
static int fail(struct gz_err *err, uint64_t off, const char *fmt, ...)
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

static size_t min_size(size_t a, uint64_t b)
{
	return b < a ? (size_t)b : a;
}

static int all_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ */
/* Inflate input plumbing                                               */

static int zsrc_init(struct zsrc *s, int window_bits)
{
	memset(&s->zs, 0, sizeof s->zs);
	if (!s->ibuf && !(s->ibuf = malloc(ZCHUNK)))
		return -1;
	if (inflateInit2(&s->zs, window_bits) != Z_OK)
		return -1;
	s->live = 1;
	return 0;
}

static void zsrc_free(struct zsrc *s)
{
	if (s->live)
		inflateEnd(&s->zs);
	free(s->ibuf);
	memset(s, 0, sizeof *s);
}

/* The file offset of the next input byte inflate will see. */
static uint64_t zsrc_pos(const struct zsrc *s)
{
	return s->next - s->zs.avail_in;
}

static void zsrc_seek(struct zsrc *s, uint64_t off)
{
	s->next = off;
	s->zs.avail_in = 0;
	s->zs.next_in = s->ibuf;
}

/* Makes at least N (<= ZCHUNK) input bytes available if the file has
 * them. Returns the bytes available, or -1 with errno set. */
static ssize_t zsrc_peek(struct zsrc *s, size_t n)
{
	if (s->zs.avail_in >= n)
		return (ssize_t)s->zs.avail_in;
	if (s->zs.avail_in > 0 && s->zs.next_in != s->ibuf)
		memmove(s->ibuf, s->zs.next_in, s->zs.avail_in);
	s->zs.next_in = s->ibuf;
	ssize_t r = s->read(s->ctx, s->ibuf + s->zs.avail_in, ZCHUNK - s->zs.avail_in,
			    s->next);
	if (r < 0)
		return -1;
	s->next += (uint64_t)r;
	s->zs.avail_in += (uInt)r;
	return (ssize_t)s->zs.avail_in;
}

/* Moves past N input bytes (a raw member's 8-byte trailer). */
static void zsrc_skip(struct zsrc *s, size_t n)
{
	if (s->zs.avail_in >= n) {
		s->zs.next_in += n;
		s->zs.avail_in -= (uInt)n;
	} else {
		zsrc_seek(s, zsrc_pos(s) + n);
	}
}

/* ------------------------------------------------------------------ */
/* The scan                                                             */

struct gz *gz_open(const struct gz_src *src, uint64_t span, struct gz_err *err)
{
	struct gz *g = calloc(1, sizeof *g);

	if (!g) {
		fail(err, 0, "out of memory");
		return NULL;
	}
	g->src = *src;
	g->span = span ? span : 1;  /* > 0 keeps access points increasing */
	g->scan.read = src->scan;
	g->scan.ctx = src->ctx;
	if (zsrc_init(&g->scan, 31) < 0 || !(g->out = malloc(ZOUT)) ||
	    !(g->ap = malloc(16 * sizeof *g->ap))) {
		gz_close(g);
		fail(err, 0, "out of memory");
		return NULL;
	}
	zsrc_seek(&g->scan, 0);
	g->capap = 16;
	g->ap[g->nap++] = (struct access_point){ 0, 0, 0, 0, 0, NULL };
	return g;
}

static int add_point(struct gz *g, uint64_t inpos, int bits,
		     const unsigned char *window, unsigned wlen)
{
	if (g->nap == g->capap) {
		size_t cap = 2 * g->capap;
		struct access_point *v = realloc(g->ap, cap * sizeof *v);
		if (!v)
			return -1;
		g->ap = v;
		g->capap = cap;
	}
	struct access_point *p = &g->ap[g->nap];
	*p = (struct access_point){ g->total, inpos, bits, 0, 0, NULL };
	if (window) {
		/* never NULL for a window point, even when empty */
		if (!(p->window = malloc(wlen ? wlen : 1)))
			return -1;
		memcpy(p->window, window, wlen);
		p->wlen = wlen;
	}
	g->nap++;
	g->last_ap = g->total;
	return 0;
}

/* At a deflate block boundary in the scan: remember it. */
static int add_window_point(struct gz *g)
{
	unsigned char window[WINSIZE];
	uInt wlen = WINSIZE;

	if (inflateGetDictionary(&g->scan.zs, window, &wlen) != Z_OK)
		return -1;
	return add_point(g, zsrc_pos(&g->scan), g->scan.zs.data_type & 7, window, wlen);
}

/*
 * Records where a member's trailer lies. Past MAX_TRAILERS members (a
 * hostile stream of millions of empty members) only the newest replaces
 * the last slot: the check then covers the first members and the last.
 */
static int add_trailer(struct gz *g)
{
	struct zsrc *s = &g->scan;

	if (g->ntrailers == MAX_TRAILERS)
		g->ntrailers--;
	if (g->ntrailers == g->captrailers) {
		size_t cap = g->captrailers ? 2 * g->captrailers : 16;
		struct gz_trailer *v = realloc(g->trailers, cap * sizeof *v);
		if (!v)
			return -1;
		g->trailers = v;
		g->captrailers = cap;
	}
	/* inflate in gzip mode has just checked these 8 bytes */
	g->trailers[g->ntrailers++] = (struct gz_trailer){
		zsrc_pos(s) - 8, (uint32_t)s->zs.adler, (uint32_t)s->zs.total_out
	};
	return 0;
}

/* After the last member: only zero bytes may follow. */
static int scan_trailing(struct gz *g, struct gz_err *err)
{
	struct zsrc *s = &g->scan;

	for (;;) {
		ssize_t n = zsrc_peek(s, 1);
		if (n < 0)
			return fail(err, g->total, "read error: %s", strerror(errno));
		if (n == 0)
			return 0;
		if (!all_zero(s->zs.next_in, (size_t)n)) {
			if (g->src.warn)
				g->src.warn(g->src.ctx, g->total,
					    "trailing garbage after gzip stream ignored");
			return 0;
		}
		zsrc_skip(s, (size_t)n);
	}
}

/* Z_STREAM_END in the scan: start the next member or stop. */
static int scan_member_end(struct gz *g, struct gz_err *err)
{
	struct zsrc *s = &g->scan;

	if (add_trailer(g) < 0)
		return fail(err, g->total, "out of memory");
	ssize_t n = zsrc_peek(s, 2);

	if (n < 0)
		return fail(err, g->total, "read error: %s", strerror(errno));
	if (n >= 2 && s->zs.next_in[0] == 0x1f && s->zs.next_in[1] == 0x8b) {
		/* A member start is an access point without a window, at the
		 * same spacing as the others: empty members make none. */
		if (inflateReset(&s->zs) != Z_OK ||
		    (g->total - g->last_ap >= g->span &&
		     add_point(g, zsrc_pos(s), 0, NULL, 0) < 0))
			return fail(err, g->total, "out of memory");
		return 0;
	}
	g->eof = 1;
	return scan_trailing(g, err);
}

/*
 * Inflates more of the file into g->out. Past a span of output since the
 * last access point it inflates with Z_BLOCK, so that it stops at the next
 * block boundary and records one there. Returns the output length, 0 at
 * the end of the stream, -1 on error.
 */
static ssize_t scan_fill(struct gz *g, struct gz_err *err)
{
	struct zsrc *s = &g->scan;
	size_t got = 0;

	while (got == 0) {
		if (g->eof)
			return 0;
		if (s->zs.avail_in == 0) {
			ssize_t n = zsrc_peek(s, 1);
			if (n < 0)
				return fail(err, g->total, "read error: %s", strerror(errno));
			if (n == 0)
				return fail(err, g->total, "truncated gzip stream");
		}
		int flush = g->total - g->last_ap >= g->span ? Z_BLOCK : Z_NO_FLUSH;
		uInt avail_in = s->zs.avail_in;
		s->zs.next_out = g->out;
		s->zs.avail_out = ZOUT;
		int ret = inflate(&s->zs, flush);
		got = ZOUT - s->zs.avail_out;
		g->total += got;
		if (ret == Z_NEED_DICT || ret == Z_DATA_ERROR)
			return fail(err, g->total, "corrupt gzip data: %s",
				    s->zs.msg ? s->zs.msg : "bad data");
		if (ret == Z_MEM_ERROR)
			return fail(err, g->total, "out of memory");
		if (ret == Z_BUF_ERROR && got == 0 && s->zs.avail_in == avail_in)
			return fail(err, g->total, "corrupt gzip data: no progress");
		if (flush == Z_BLOCK && ret == Z_OK && (s->zs.data_type & 128) &&
		    !(s->zs.data_type & 64) && add_window_point(g) < 0)
			return fail(err, g->total, "out of memory");
		if (ret == Z_STREAM_END && scan_member_end(g, err) < 0)
			return -1;
	}
	return (ssize_t)got;
}

int gz_scan(struct gz *g, const unsigned char **out, size_t *len, struct gz_err *err)
{
	*out = g->out;
	*len = 0;
	if (!g->failed) {
		ssize_t r = scan_fill(g, &g->failure);
		if (r == 0 && g->out) {
			/* the scan is over: only cursors read on */
			zsrc_free(&g->scan);
			free(g->out);
			g->out = NULL;
			*out = NULL;
		}
		if (r >= 0) {
			*len = (size_t)r;
			return r > 0;
		}
		g->failed = 1;
	}
	if (err)
		*err = g->failure;
	return -1;
}

/* The last access point at or before OFF (the first is at 0). */
static size_t find_point(const struct gz *g, uint64_t off)
{
	size_t lo = 0, hi = g->nap;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->ap[mid].out <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

uint64_t gz_span_start(const struct gz *g, uint64_t off)
{
	return g->ap[find_point(g, off)].out;
}

uint64_t gz_span_end(const struct gz *g, uint64_t off)
{
	size_t i = find_point(g, off) + 1;

	return i < g->nap ? g->ap[i].out : UINT64_MAX;
}

int gz_unchanged(const struct gz *g)
{
	unsigned char t[8];

	for (size_t i = 0; i < g->ntrailers; i++) {
		const struct gz_trailer *tr = &g->trailers[i];
		if (g->src.pread(g->src.ctx, t, sizeof t, tr->off) != (ssize_t)sizeof t ||
		    get_le32(t) != tr->crc || get_le32(t + 4) != tr->isize)
			return 0;
	}
	return 1;
}

int gz_pack(struct gz *g)
{
	unsigned char buf[WINSIZE];
	z_stream zs;
	int rc = 0;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	for (size_t i = 0; i < g->nap; i++) {
		struct access_point *p = &g->ap[i];
		if (!p->window || p->plen || p->wlen < 64)
			continue;
		zs.next_in = p->window;
		zs.avail_in = p->wlen;
		zs.next_out = buf;
		zs.avail_out = p->wlen - 1;     /* kept only if smaller */
		int r = deflate(&zs, Z_FINISH);
		size_t n = p->wlen - 1 - zs.avail_out;
		if (deflateReset(&zs) != Z_OK) {
			rc = -1;
			break;
		}
		if (r != Z_STREAM_END)
			continue;
		unsigned char *w = malloc(n);
		if (!w) {
			rc = -1;
			break;
		}
		memcpy(w, buf, n);
		free(p->window);
		p->window = w;
		p->plen = (unsigned)n;
	}
	deflateEnd(&zs);
	return rc;
}

void gz_close(struct gz *g)
{
	if (!g)
		return;
	zsrc_free(&g->scan);
	free(g->out);
	for (size_t i = 0; i < g->nap; i++)
		free(g->ap[i].window);
	free(g->ap);
	free(g->trailers);
	free(g);
}

/* ------------------------------------------------------------------ */
/* Cursors                                                              */

struct gz_cursor *gz_cursor_new(const struct gz *g)
{
	struct gz_cursor *c = calloc(1, sizeof *c);

	if (c) {
		c->g = g;
		c->s.read = g->src.pread;
		c->s.ctx = g->src.ctx;
	}
	return c;
}

void gz_cursor_free(struct gz_cursor *c)
{
	if (!c)
		return;
	zsrc_free(&c->s);
	free(c->out);
	free(c->win);
	free(c);
}

uint64_t gz_cursor_inflated(const struct gz_cursor *c)
{
	return c->inflated;
}

/* Restarts the cursor at access point P (zran.c's way). */
static int cur_restart(struct gz_cursor *c, const struct access_point *p,
		       struct gz_err *err)
{
	struct zsrc *s = &c->s;
	int wbits = p->window ? -15 : 31;
	const unsigned char *window = p->window;  /* inflated, if packed */

	c->valid = 0;
	if (!c->out && !(c->out = malloc(ZOUT)))
		return fail(err, p->out, "out of memory");
	if (!s->live ? zsrc_init(s, wbits) < 0 : inflateReset2(&s->zs, wbits) != Z_OK)
		return fail(err, p->out, "out of memory");
	if (p->plen) {
		/* the window first, through the same stream */
		if (!c->win && !(c->win = malloc(WINSIZE)))
			return fail(err, p->out, "out of memory");
		s->zs.next_in = p->window;
		s->zs.avail_in = p->plen;
		s->zs.next_out = c->win;
		s->zs.avail_out = WINSIZE;
		if (inflate(&s->zs, Z_FINISH) != Z_STREAM_END || WINSIZE - s->zs.avail_out != p->wlen ||
		    inflateReset2(&s->zs, wbits) != Z_OK)
			return fail(err, p->out, "corrupt packed window");
		window = c->win;
	}
	zsrc_seek(s, p->in - (p->bits ? 1 : 0));
	if (p->window) {
		if (p->bits) {
			ssize_t n = zsrc_peek(s, 1);
			if (n < 1)
				return fail(err, p->out, "input changed since it was indexed");
			int ch = s->zs.next_in[0];
			zsrc_skip(s, 1);
			inflatePrime(&s->zs, p->bits, ch >> (8 - p->bits));
		}
		if (p->wlen)
			inflateSetDictionary(&s->zs, window, p->wlen);
	}
	c->raw = p->window != NULL;
	c->eof = 0;
	c->base = p->out;
	c->len = 0;
	c->valid = 1;
	return 0;
}

/* A member ended under the cursor: go on with the next one, if any. */
static int cur_member_end(struct gz_cursor *c, struct gz_err *err)
{
	struct zsrc *s = &c->s;

	if (c->raw)
		zsrc_skip(s, 8);  /* raw inflate leaves the trailer to us */
	ssize_t n = zsrc_peek(s, 2);
	if (n < 0)
		return fail(err, c->base, "read error: %s", strerror(errno));
	if (n >= 2 && s->zs.next_in[0] == 0x1f && s->zs.next_in[1] == 0x8b) {
		if (inflateReset2(&s->zs, 31) != Z_OK)
			return fail(err, c->base, "out of memory");
		c->raw = 0;
	} else {
		c->eof = 1;
	}
	return 0;
}

/* Moves the cursor's window forward: inflates the next ZOUT bytes.
 * Returns 1 with output, 0 at the end of the stream, -1 on error. */
static int cur_fill(struct gz_cursor *c, struct gz_err *err)
{
	struct zsrc *s = &c->s;

	c->base += c->len;
	c->len = 0;
	while (c->len < ZOUT && !c->eof) {
		if (s->zs.avail_in == 0) {
			ssize_t n = zsrc_peek(s, 1);
			if (n < 0)
				return fail(err, c->base, "read error: %s", strerror(errno));
			if (n == 0) {
				c->eof = 1;
				break;
			}
		}
		uInt avail_in = s->zs.avail_in;
		s->zs.next_out = c->out + c->len;
		s->zs.avail_out = ZOUT - (uInt)c->len;
		int ret = inflate(&s->zs, Z_NO_FLUSH);
		size_t got = ZOUT - c->len - s->zs.avail_out;
		c->len += got;
		c->inflated += got;
		if (ret == Z_STREAM_END) {
			if (cur_member_end(c, err) < 0)
				return -1;
		} else if (ret == Z_NEED_DICT || ret == Z_DATA_ERROR) {
			return fail(err, c->base + c->len, "corrupt gzip data: %s",
				    s->zs.msg ? s->zs.msg : "bad data");
		} else if (ret == Z_MEM_ERROR) {
			return fail(err, c->base, "out of memory");
		} else if (ret == Z_BUF_ERROR && got == 0 && s->zs.avail_in == avail_in) {
			return fail(err, c->base, "corrupt gzip data: no progress");
		}
	}
	return c->len > 0;
}

int gz_cursor_read(struct gz_cursor *c, uint64_t off, void *buf, size_t len,
		   struct gz_err *err)
{
	const struct gz *g = c->g;
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t end = c->base + c->len;
		if (c->valid && off >= c->base && off < end) {
			size_t k = min_size(len, end - off);
			memcpy(p, c->out + (off - c->base), k);
			p += k;
			off += k;
			len -= k;
			continue;
		}
		/* Go forward unless an access point beyond the cursor saves
		 * at least a span of inflate; backwards always restarts. */
		const struct access_point *ap = &g->ap[find_point(g, off)];
		if (!c->valid || off < c->base || (ap->out > end && off - end >= g->span)) {
			if (cur_restart(c, ap, err) < 0)
				return -1;
		}
		int r = cur_fill(c, err);
		if (r <= 0) {
			c->valid = 0;
			return r < 0 ? -1 : fail(err, off, "input changed since it was indexed");
		}
	}
	return 0;
}
