/*
 * blobw.h - an image layer's blob as it is written: the tar compressed
 * (gzip on worker threads through pgz.c, zstd through `zstd -c` on PATH
 * as GNU tar runs it, or not at all), with its two digests computed on
 * the way: the diff_id, sha256 of the tar, and the digest, sha256 of the
 * stored bytes.
 *
 * The stored bytes go to the caller's sink, in order, from the writer's
 * thread (gzip, none) or from a thread that reads zstd's output (zstd:
 * the sink is then called from that thread only, until blobw_finish
 * returns). Nothing here prints or exits but die_oom.
 */
#ifndef TARFLAT_BLOBW_H
#define TARFLAT_BLOBW_H

#include <stddef.h>
#include <stdint.h>

#include "pgz.h"

enum blobw_compress { BLOBW_GZIP, BLOBW_ZSTD, BLOBW_NONE };

/* Writes all LEN bytes at P; returns 0, or -1 with errno set. */
typedef int blobw_sink_fn(void *ctx, const void *p, size_t len);

struct blobw_result {
	uint64_t tar_len;               /* the tar's bytes */
	uint64_t size;                  /* the blob's */
	char diff_id[PGZ_DIGEST_LEN];   /* "sha256:HEX" of the tar */
	char digest[PGZ_DIGEST_LEN];    /* "sha256:HEX" of the blob */
	const char *media_type;         /* the OCI layer media type (static) */
};

struct blobw;

/*
 * blobw_new: a blob compressed by HOW (gzip at LEVEL 1..9 on JOBS
 * workers), its bytes to SINK with CTX. Returns the writer, or NULL with
 * a message in MSG (zstd not on PATH, no thread, a bad level).
 */
struct blobw *blobw_new(enum blobw_compress how, int level, size_t jobs, blobw_sink_fn *sink,
			void *ctx, char *msg, size_t msglen);

/* The next LEN bytes of the tar. Returns 0, or -1 (blobw_error). */
int blobw_write(struct blobw *b, const void *p, size_t len);

/* Ends the blob: the rest goes to the sink, the digests to *R. Returns 0,
 * or -1 (blobw_error). */
int blobw_finish(struct blobw *b, struct blobw_result *r);

/* What failed, once blobw_write or blobw_finish returned -1 (errno is
 * that of a failed sink). */
const char *blobw_error(const struct blobw *b);

/* Stops and frees B, finished or not. */
void blobw_free(struct blobw *b);

#endif
