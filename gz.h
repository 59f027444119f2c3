/*
 * gz.h - a random-access view of a gzip file.
 *
 * A gzip file (one member or several, then nothing or zero bytes) is read
 * in two ways. First gz_scan inflates it once, forward, from its first
 * byte to its end, checking every member's CRC-32 and length; on the way
 * it records an access point about every SPAN bytes of output (zlib's
 * examples/zran.c: the bit position of a deflate block boundary and the
 * 32 KiB window before it, or the start of a member) and where each
 * member's trailer lies. Then any number of cursors read any range of the
 * uncompressed stream, each restarting inflate at the access point at or
 * before the bytes it wants.
 *
 * The file is never opened here: the caller hands in read functions, so it
 * may be a byte range of a larger file and may watch what the scan reads.
 * Nothing here prints or exits; failures fill a struct gz_err.
 *
 * Threads: once gz_scan has returned 0 the index is read-only, and
 * distinct cursors on it share nothing mutable, so each may be used by its
 * own thread at the same time (SRC->pread must then be safe to call from
 * several threads at once; pread(2) is). One cursor, or the scan, is used
 * by one thread at a time.
 */
#ifndef TARFLAT_GZ_H
#define TARFLAT_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What went wrong: OFF is the offset in the uncompressed stream that the
 * inflate had reached (or was asked for). */
struct gz_err {
	uint64_t off;
	char msg[256];
};

/*
 * Reads up to N bytes at offset OFF of the gzip file into BUF. Returns the
 * count, short only at the end of the file, or -1 with errno set.
 */
typedef ssize_t gz_read_fn(void *ctx, void *buf, size_t n, uint64_t off);

/* A warning that does not stop the scan; OFF as in struct gz_err. */
typedef void gz_warn_fn(void *ctx, uint64_t off, const char *msg);

/*
 * Where the bytes come from. SCAN serves gz_scan: its first call asks for
 * offset 0 and each later one for the offset where the bytes returned so
 * far end, so it sees every byte the scan reads exactly once, in order. The
 * scan reads ahead in large pieces, so it may read past the end of the
 * gzip data, but never again once gz_scan has returned 0 or -1. PREAD
 * serves cursors and gz_unchanged, at any offset. WARN may be NULL. CTX is
 * passed to all three.
 */
struct gz_src {
	gz_read_fn *scan;
	gz_read_fn *pread;
	gz_warn_fn *warn;
	void *ctx;
};

struct gz;
struct gz_cursor;

/*
 * gz_open: starts an index of the file SRC describes (copied), with an
 * access point about every SPAN (> 0) bytes of output; the first is at 0.
 * Reads nothing yet. Returns the index, or NULL with *ERR filled ("out of
 * memory").
 */
struct gz *gz_open(const struct gz_src *src, uint64_t span, struct gz_err *err);

/*
 * gz_scan: inflates the next piece of the file. Returns 1 with *OUT and
 * *LEN (> 0) set to the next output bytes, which stay valid until the next
 * call; 0 at the end of the last member, once its CRC and length have
 * checked out and the bytes after it have been looked at (zero bytes are
 * skipped, anything else is warned about, "trailing garbage after gzip
 * stream ignored", and left unread); or -1 with *ERR filled: "read error:
 * ...", "truncated gzip stream", "corrupt gzip data: ..." (a bad header,
 * deflate data, CRC or length), or "out of memory". After 0 it returns 0
 * again (the scan's buffers, about 550 KiB, are freed at the first), after
 * -1 the same error again.
 */
int gz_scan(struct gz *g, const unsigned char **out, size_t *len, struct gz_err *err);

/*
 * gz_span_start: the uncompressed offset of the access point at or before
 * OFF, where a cursor reading OFF starts inflating; gz_span_end: the next
 * access point's offset, or UINT64_MAX when there is none. Reading from
 * the one up to the other costs one restart and one span of inflate.
 * Meaningful once the scan has ended (before, later points are missing).
 */
uint64_t gz_span_start(const struct gz *g, uint64_t off);
uint64_t gz_span_end(const struct gz *g, uint64_t off);

/*
 * gz_unchanged: 1 if the trailer (CRC-32 and length) of every member the
 * scan has passed still reads the same through SRC->pread, else 0. Past
 * 4096 members only the first 4095 and the last are kept.
 */
int gz_unchanged(const struct gz *g);

/*
 * gz_pack: deflates the access points' windows (level 1), each one that
 * shrinks, so that an index of text-like data takes about a quarter of
 * the memory; a cursor inflates a window again when it restarts there.
 * Call it once gz_scan has returned 0 and before any cursor is made.
 * Returns 0, or -1 when out of memory (the index stays whole and usable).
 */
int gz_pack(struct gz *g);

/* gz_close: frees the index (G may be NULL); free its cursors first. */
void gz_close(struct gz *g);

/*
 * gz_cursor_new: a cursor on G, holding its own inflate stream and buffers
 * (about 550 KiB, allocated on the first read). Returns NULL when out of
 * memory. Valid until gz_cursor_free, which must come before gz_close.
 */
struct gz_cursor *gz_cursor_new(const struct gz *g);

/*
 * gz_cursor_read: copies the LEN uncompressed bytes at OFF into BUF. The
 * cursor keeps the last 256 KiB it inflated and goes on forward from
 * there, unless OFF lies behind them or an access point between them and
 * OFF saves at least a span of inflate: then it restarts at the access
 * point at or before OFF. Returns 0, or -1 with *ERR filled: "read error:
 * ...", "corrupt gzip data: ...", "out of memory", or "input changed since
 * it was indexed" (the stream ends before OFF + LEN, or an access point's
 * byte is gone). After an error the next read restarts.
 */
int gz_cursor_read(struct gz_cursor *c, uint64_t off, void *buf, size_t len,
		   struct gz_err *err);

/* gz_cursor_inflated: the bytes the cursor has inflated so far, for
 * statistics and tests (a read behind the cursor should not cost the
 * whole stream again). */
uint64_t gz_cursor_inflated(const struct gz_cursor *c);

/* gz_cursor_free: frees C (may be NULL). */
void gz_cursor_free(struct gz_cursor *c);

#endif
