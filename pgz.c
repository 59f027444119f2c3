/*
 * pgz.c - gzip compression on worker threads (see pgz.h).
 *
 * Block number N lives in slot N % nslots of a ring. Three block numbers
 * only grow: emit <= take <= fill. Blocks before emit have gone to the
 * sink; blocks emit..take-1 have been taken by a worker (running or
 * done); take..fill-1 are queued; block fill is the one the writer is
 * filling. The writer moves fill and emit, workers move take; one lock
 * guards fill, take, stop and the blocks' states, with one condition
 * variable for the workers (a block queued) and one for the writer (a
 * block done). A block's buffers are used outside the lock by whoever
 * holds it: the writer while filling and sending it, one worker while
 * compressing it; a worker's deflate and the writer's sha256 read the
 * same input at once, and nothing writes it then.
 *
 * Each block's input buffer starts with DICT_SIZE bytes for the last 32
 * KiB of the block before, copied in when the block is started: a block
 * is handed to the workers only once it is full and more input has come,
 * so every block but the last is PGZ_BLOCK bytes and the last always
 * carries the end of the stream (Z_FINISH), even when the input ends on
 * a block boundary.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pgz.h"
#include "sha2.h"

#define DICT_SIZE 32768         /* deflate's window */
#define SLOTS_PER_WORKER 2      /* one compressing, one queued or done */
#define GZIP_OS_UNIX 3          /* what gzip and pigz write on Unix */

_Static_assert(PGZ_BLOCK >= DICT_SIZE, "a block must hold a whole dictionary");
_Static_assert(PGZ_BLOCK <= UINT32_MAX / 2, "zlib counts a block in uInt");

enum { BLOCK_PENDING, BLOCK_DONE, BLOCK_FAILED };

struct block {
	unsigned char *in;      /* DICT_SIZE bytes of dictionary, then input */
	size_t dict;            /* dictionary bytes: 0 in block 0, else DICT_SIZE */
	size_t len;             /* input bytes, at most PGZ_BLOCK */
	int last;               /* ends the deflate stream */
	unsigned char *out;     /* the deflated block */
	size_t outlen;
	size_t outcap;
	uint32_t crc;           /* CRC-32 of the input */
	int state;              /* BLOCK_*, under the lock once queued */
	char err[128];          /* why, when BLOCK_FAILED */
};

struct worker {
	struct pgz *z;
	pthread_t tid;
	z_stream zs;
};

struct pgz {
	int level;
	pgz_sink_fn *sink;
	void *ctx;
	struct block *slot;
	size_t nslots;
	struct worker *w;
	size_t started;         /* workers running; 0: the writer deflates */
	z_stream self;          /* the writer's deflate when started is 0 */
	pthread_mutex_t mu;
	pthread_cond_t queued;  /* workers wait here for a block or stop */
	pthread_cond_t done;    /* the writer waits here for block emit */
	uint64_t fill, take, emit;
	int stop;
	/* The writer's alone. */
	int failed, finished, header_sent;
	int sink_errno;         /* errno of a failed sink, else 0 */
	uint64_t in_len, out_len;
	uint32_t crc;
	struct sha256 in_sha, out_sha;
	char msg[256];
};

static struct block *
slot_of(struct pgz *z, uint64_t n)
{
	return &z->slot[n % z->nslots];
}

/* Records the compressor's failure (the first one stays); returns -1. */
static int fail(struct pgz *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct pgz *z, const char *fmt, ...)
{
	va_list ap;

	if (!z->failed) {
		va_start(ap, fmt);
		vsnprintf(z->msg, sizeof z->msg, fmt, ap);
		va_end(ap);
		z->failed = 1;
	}
	if (z->sink_errno)
		errno = z->sink_errno;
	return -1;
}

static int
block_fail(struct block *b, const z_stream *zs, const char *what)
{
	snprintf(b->err, sizeof b->err, "deflate: %s%s%s", what, zs->msg ? ": " : "",
		 zs->msg ? zs->msg : "");
	return -1;
}

/* More room after OUTLEN, for a deflate that filled the buffer. */
static int
grow_out(struct block *b)
{
	size_t cap = b->outcap + b->outcap / 2;
	unsigned char *p = realloc(b->out, cap);

	if (!p) {
		snprintf(b->err, sizeof b->err, "out of memory");
		return -1;
	}
	b->out = p;
	b->outcap = cap;
	return 0;
}

/*
 * Deflates block B with ZS into B->out, primed with its dictionary, ended
 * on a byte boundary by Z_SYNC_FLUSH or, for the last block, by Z_FINISH.
 * The sync flush's empty stored block brings the bit stream to a byte, so
 * the next block's bytes follow on. Z_FULL_FLUSH would also forget the
 * history, but this stream ends here and the next block has its own,
 * with only the dictionary it is given: it writes the same bytes (tried).
 * pigz pads with empty static blocks instead, 2 bytes a block less: 0.0002%
 * at 1 MiB. Also takes the input's CRC-32. Returns 0, or -1 with B->err
 * filled.
 */
static int
deflate_block(z_stream *zs, struct block *b)
{
	int flush = b->last ? Z_FINISH : Z_SYNC_FLUSH;
	const unsigned char *in = b->in + DICT_SIZE;

	b->crc = (uint32_t)crc32(0, in, (uInt)b->len);
	if (deflateReset(zs) != Z_OK)
		return block_fail(b, zs, "reset failed");
	if (b->dict && deflateSetDictionary(zs, in - b->dict, (uInt)b->dict) != Z_OK)
		return block_fail(b, zs, "dictionary refused");
	zs->next_in = (unsigned char *)in; /* zlib's type; it only reads */
	zs->avail_in = (uInt)b->len;
	b->outlen = 0;
	for (;;) {
		zs->next_out = b->out + b->outlen;
		zs->avail_out = (uInt)(b->outcap - b->outlen);
		int r = deflate(zs, flush);
		b->outlen = b->outcap - zs->avail_out;
		if (r == Z_STREAM_END || (r == Z_OK && !b->last && zs->avail_out > 0))
			return 0;
		if ((r != Z_OK && r != Z_BUF_ERROR) || zs->avail_out > 0)
			return block_fail(b, zs, "failed");
		if (grow_out(b) < 0)
			return -1;
	}
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct pgz *z = w->z;

	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && z->take == z->fill)
			pthread_cond_wait(&z->queued, &z->mu);
		if (z->stop)
			break;
		struct block *b = slot_of(z, z->take++);
		pthread_mutex_unlock(&z->mu);
		int r = deflate_block(&w->zs, b);
		pthread_mutex_lock(&z->mu);
		b->state = r < 0 ? BLOCK_FAILED : BLOCK_DONE;
		pthread_cond_signal(&z->done);
	}
	pthread_mutex_unlock(&z->mu);
	return NULL;
}

/* The next LEN bytes of the gzip stream to the sink and the digest. */
static int
send_out(struct pgz *z, const void *buf, size_t len)
{
	if (z->sink(z->ctx, buf, len) < 0) {
		z->sink_errno = errno ? errno : EIO;
		return fail(z, "write error: %s", strerror(z->sink_errno));
	}
	sha256_update(&z->out_sha, buf, len);
	z->out_len += len;
	return 0;
}

/* RFC 1952's member header: no name, no timestamp, XFL as zlib sets it. */
static int
send_header(struct pgz *z)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, GZIP_OS_UNIX };

	h[8] = z->level == 9 ? 2 : z->level == 1 ? 4 : 0;
	z->header_sent = 1;
	return send_out(z, h, sizeof h);
}

/*
 * Sends block emit when it is done, waiting for it when WAIT. Returns 1
 * when a block was sent, 0 when none was ready (or none is queued), -1 on
 * failure.
 */
static int
send_block(struct pgz *z, int wait)
{
	struct block *b = slot_of(z, z->emit);
	int state;

	if (z->emit == z->fill)
		return 0;
	pthread_mutex_lock(&z->mu);
	while (wait && b->state == BLOCK_PENDING)
		pthread_cond_wait(&z->done, &z->mu);
	state = b->state;
	pthread_mutex_unlock(&z->mu);
	if (state == BLOCK_PENDING)
		return 0;
	if (state == BLOCK_FAILED)
		return fail(z, "%s", b->err);
	if (!z->header_sent && send_header(z) < 0)
		return -1;
	if (send_out(z, b->out, b->outlen) < 0)
		return -1;
	z->crc = (uint32_t)crc32_combine(z->crc, b->crc, (z_off_t)b->len);
	z->emit++;
	return 1;
}

/* Sends the blocks that are done, in order, without waiting. */
static int
send_ready(struct pgz *z)
{
	int r;

	while ((r = send_block(z, 0)) > 0)
		;
	return r;
}

/* Hands block fill to the workers (or deflates it here, without them),
 * hashes its input meanwhile, and sends what is done. */
static int
queue_block(struct pgz *z, int last)
{
	struct block *b = slot_of(z, z->fill);

	b->last = last;
	b->state = BLOCK_PENDING;
	if (z->started == 0) {
		b->state = deflate_block(&z->self, b) < 0 ? BLOCK_FAILED : BLOCK_DONE;
		z->take = ++z->fill;
	} else {
		pthread_mutex_lock(&z->mu);
		z->fill++;
		pthread_cond_signal(&z->queued);
		pthread_mutex_unlock(&z->mu);
	}
	sha256_update(&z->in_sha, b->in + DICT_SIZE, b->len);
	z->in_len += b->len;
	return send_ready(z);
}

/*
 * Readies block fill's slot: buffers (made at its first use, so a small
 * input on many workers allocates little) and, after block 0, the
 * dictionary: the end of block fill - 1, still in its slot (in this one
 * when there is one slot, since it has been sent).
 */
static int
start_block(struct pgz *z)
{
	struct block *b = slot_of(z, z->fill);

	if (!b->in) {
		b->outcap = deflateBound(NULL, PGZ_BLOCK) + 16; /* and the flush */
		b->in = malloc(DICT_SIZE + PGZ_BLOCK);
		b->out = malloc(b->outcap);
		if (!b->in || !b->out) {
			free(b->in);
			free(b->out);
			b->in = b->out = NULL;
			return fail(z, "out of memory");
		}
	}
	b->dict = 0;
	if (z->fill > 0) {
		/* the last DICT_SIZE bytes of the previous block's input */
		const struct block *prev = slot_of(z, z->fill - 1);
		memmove(b->in, prev->in + prev->len, DICT_SIZE);
		b->dict = DICT_SIZE;
	}
	b->len = 0; /* after the copy: PREV may be B */
	return 0;
}

/* After a block was queued: waits until a slot is free, starts block fill. */
static int
next_block(struct pgz *z)
{
	while (z->fill - z->emit >= z->nslots)
		if (send_block(z, 1) < 0)
			return -1;
	return start_block(z);
}

/* After a failure or pgz_finish: the first failure's message stays. */
static int
refuse(struct pgz *z)
{
	return fail(z, "compression already finished");
}

int
pgz_write(struct pgz *z, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (z->failed || z->finished)
		return refuse(z);
	while (len > 0) {
		struct block *b = slot_of(z, z->fill);
		if (b->len == PGZ_BLOCK) {
			if (queue_block(z, 0) < 0 || next_block(z) < 0)
				return -1;
			continue;
		}
		size_t n = PGZ_BLOCK - b->len < len ? PGZ_BLOCK - b->len : len;
		memcpy(b->in + DICT_SIZE + b->len, p, n);
		b->len += n;
		p += n;
		len -= n;
	}
	return 0;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* "sha256:" and the hex digest of C, into OUT (PGZ_DIGEST_LEN bytes). */
static void
digest_string(char *out, struct sha256 *c)
{
	unsigned char d[SHA256_DIGEST_SIZE];

	sha256_final(c, d);
	memcpy(out, "sha256:", 7);
	sha2_hex(out + 7, d, sizeof d);
}

int
pgz_finish(struct pgz *z, struct pgz_result *res)
{
	unsigned char trailer[8];

	if (z->failed || z->finished)
		return refuse(z);
	z->finished = 1;
	if (queue_block(z, 1) < 0)
		return -1;
	while (z->emit < z->fill)
		if (send_block(z, 1) < 0)
			return -1;
	put_le32(trailer, z->crc);
	put_le32(trailer + 4, (uint32_t)z->in_len); /* ISIZE: mod 2^32 */
	if (send_out(z, trailer, sizeof trailer) < 0)
		return -1;
	res->in_len = z->in_len;
	res->out_len = z->out_len;
	digest_string(res->diff_id, &z->in_sha);
	digest_string(res->digest, &z->out_sha);
	return 0;
}

const char *
pgz_error(const struct pgz *z)
{
	return z->msg;
}

static int
deflate_init(z_stream *zs, int level)
{
	memset(zs, 0, sizeof *zs);
	/* raw deflate: the gzip wrapper is written here, around all blocks */
	if (deflateInit2(zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	return 0;
}

/* Starts up to NWORKERS workers; where one cannot start, stops there. */
static void
start_workers(struct pgz *z, size_t nworkers)
{
	for (size_t i = 0; i < nworkers; i++) {
		struct worker *w = &z->w[i];
		w->z = z;
		if (deflate_init(&w->zs, z->level) < 0)
			break;
		if (pthread_create(&w->tid, NULL, work, w) != 0) {
			deflateEnd(&w->zs);
			break;
		}
		z->started++;
	}
}

struct pgz *
pgz_new(int level, size_t nworkers, pgz_sink_fn *sink, void *ctx)
{
	struct pgz *z;

	if (level < 1 || level > 9) {
		errno = EINVAL;
		return NULL;
	}
	if (nworkers > PGZ_MAX_WORKERS)
		nworkers = PGZ_MAX_WORKERS;
	if (!(z = calloc(1, sizeof *z)))
		return NULL;
	z->level = level;
	z->sink = sink;
	z->ctx = ctx;
	z->nslots = SLOTS_PER_WORKER * nworkers + 1; /* and the one filling */
	z->slot = calloc(z->nslots, sizeof *z->slot);
	z->w = calloc(nworkers ? nworkers : 1, sizeof *z->w);
	sha256_init(&z->in_sha);
	sha256_init(&z->out_sha);
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->queued, NULL);
	pthread_cond_init(&z->done, NULL);
	if (!z->slot || !z->w || start_block(z) < 0)
		goto nomem;
	start_workers(z, nworkers);
	if (z->started == 0 && deflate_init(&z->self, level) < 0)
		goto nomem;
	return z;
nomem:
	pgz_free(z);
	errno = ENOMEM;
	return NULL;
}

void
pgz_free(struct pgz *z)
{
	if (!z)
		return;
	pthread_mutex_lock(&z->mu);
	z->stop = 1;
	pthread_cond_broadcast(&z->queued);
	pthread_mutex_unlock(&z->mu);
	for (size_t i = 0; i < z->started; i++) {
		pthread_join(z->w[i].tid, NULL);
		deflateEnd(&z->w[i].zs);
	}
	if (z->started == 0)
		deflateEnd(&z->self); /* harmless on a stream never initialised */
	for (size_t i = 0; z->slot && i < z->nslots; i++) {
		free(z->slot[i].in);
		free(z->slot[i].out);
	}
	free(z->slot);
	free(z->w);
	pthread_cond_destroy(&z->done);
	pthread_cond_destroy(&z->queued);
	pthread_mutex_destroy(&z->mu);
	free(z);
}
