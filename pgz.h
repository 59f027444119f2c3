/*
 * pgz.h - gzip compression on worker threads (the way pigz does it), with
 * the sha256 digests an image layer needs computed on the way.
 *
 * One writer thread hands in the uncompressed bytes, in any sizes. They are
 * cut into blocks of PGZ_BLOCK bytes at fixed offsets of the stream; each
 * block is deflated on its own, primed with the 32 KiB of input before it,
 * and ended on a byte boundary (the last one ends the deflate stream), so
 * the pieces concatenate into one gzip member. Blocks are compressed on
 * NWORKERS threads and sent to the sink in order, from the writer's thread.
 *
 * The output depends only on the input bytes and the level: not on how the
 * input is split into pgz_write calls, nor on the number of workers. The
 * gzip header holds no name and no timestamp (MTIME 0, OS 3).
 *
 * Memory is bounded: at most 2 * NWORKERS + 1 blocks (input and output
 * buffers, about 2.2 MiB a block) exist at once, made as they are first
 * needed; pgz_write waits for the oldest block when they are all in use.
 *
 * The input is hashed on the writer's thread as each block is queued, the
 * output as it goes to the sink. Both are sequential, and the workers
 * compress meanwhile. With SHA-NI the hashing is about 4% of the CPU time
 * at level 6 (0.7 ms a MiB on the writer, against about 25 ms a MiB of
 * deflate on a worker), so a thread of its own would only help where the
 * writer's thread is the bottleneck, and with every core compressing it
 * would take the same CPU from the workers.
 *
 * Nothing here prints or exits; failures come back as -1 with a message
 * (pgz_error).
 */
#ifndef TARFLAT_PGZ_H
#define TARFLAT_PGZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Uncompressed bytes per block. Part of the output's definition: another
 * value gives other (equally valid) gzip bytes. Each block costs a 32 KiB
 * dictionary to prime and 4 or 5 bytes of flush: at 1 MiB the priming is
 * 3% of the input where pigz's 128 KiB makes it 25%, which measured 3%
 * fewer instructions at level 6 (5% at level 1) for the same size (within
 * 0.01%); 2 MiB saves 0.2% more and doubles the memory. The cost is that
 * an input under 1 MiB is compressed by one worker.
 */
#define PGZ_BLOCK ((size_t)1 << 20)

/* Workers beyond this many are not started. */
#define PGZ_MAX_WORKERS 64

/* "sha256:" and 64 hex digits, and the NUL. */
#define PGZ_DIGEST_LEN 72

/*
 * Writes the LEN (> 0) bytes at BUF, the next piece of the gzip stream, all
 * of them. Returns 0, or -1 with errno set (the compression then stops).
 * Called only from within pgz_write and pgz_finish, on their thread.
 */
typedef int pgz_sink_fn(void *ctx, const void *buf, size_t len);

/* What pgz_finish returns. */
struct pgz_result {
	uint64_t in_len;                /* uncompressed bytes */
	uint64_t out_len;               /* gzip bytes, header and trailer included */
	char diff_id[PGZ_DIGEST_LEN];   /* sha256 of the uncompressed bytes */
	char digest[PGZ_DIGEST_LEN];    /* sha256 of the gzip bytes */
};

struct pgz;

/*
 * pgz_new: a compressor at LEVEL (1..9, zlib's levels) on NWORKERS threads
 * (0: pgz_write compresses on the calling thread; more than
 * PGZ_MAX_WORKERS count as that many; where a thread cannot be made, fewer
 * are used, down to 0, with the same output). SINK receives the gzip
 * bytes, with CTX. Sends nothing yet. Returns the compressor, to be freed
 * with pgz_free, or NULL with errno set: EINVAL for a bad level, ENOMEM.
 */
struct pgz *pgz_new(int level, size_t nworkers, pgz_sink_fn *sink, void *ctx);

/*
 * pgz_write: compresses the LEN bytes at BUF (BUF may be NULL when LEN is
 * 0), the next piece of the input. The bytes are copied; some of the gzip
 * stream may go to the sink meanwhile. Waits when every block is in use.
 * Returns 0, or -1 (see pgz_error) when the sink failed, zlib failed, or
 * pgz_finish was called already; once it has returned -1, every later
 * pgz_write and pgz_finish returns -1 too.
 */
int pgz_write(struct pgz *z, const void *buf, size_t len);

/*
 * pgz_finish: compresses the rest, sends it and the gzip trailer (CRC-32,
 * length mod 2^32) to the sink, and fills *RES. Returns 0, or -1 as
 * pgz_write does. The compressor is then done: only pgz_free remains.
 */
int pgz_finish(struct pgz *z, struct pgz_result *res);

/*
 * What failed, after pgz_write or pgz_finish returned -1: "write error:
 * STRERROR" when the sink failed (errno is then the sink's errno again),
 * "deflate: ..." for zlib, "out of memory". Empty before any failure.
 * Valid until pgz_free.
 */
const char *pgz_error(const struct pgz *z);

/* Stops the workers (after the blocks they are in) and frees Z, whether
 * finished or not. Z may be NULL. */
void pgz_free(struct pgz *z);

#endif
