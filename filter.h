/*
 * filter.h - layers compressed with zstd, xz or bzip2: decompressed by the
 * program of that name found on PATH (`zstd -dc`, as GNU tar does), into
 * an unlinked temporary file that is then read like any plain layer.
 *
 * Nothing here prints or exits: failures are a message in a buffer.
 */
#ifndef TARFLAT_FILTER_H
#define TARFLAT_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * filter_for: the program that decompresses data starting with the N
 * bytes at B ("zstd", "xz" or "bzip2"), or NULL when the magic is none of
 * theirs. A static string.
 */
const char *filter_for(const unsigned char *b, size_t n);

typedef void filter_feed_fn(void *ctx, const void *buf, size_t len);

/*
 * filter_run: runs `PROG -dc` with the LEN bytes at OFF in FD on its
 * standard input (LEN UINT64_MAX: up to the end of the file) and its
 * standard output in a new temporary file in TMPDIR (default /tmp),
 * unlinked at once. FEED, unless NULL, sees every byte given to PROG, in
 * order. Returns the temporary file's descriptor, or -1 with a message in
 * MSG: PROG not found (saying what to install), failed, or killed.
 * SIGPIPE is blocked in the calling thread while it writes, so a program
 * that stops reading early is an error, not the end of tarflat.
 */
int filter_run(const char *prog, int fd, uint64_t off, uint64_t len, filter_feed_fn *feed,
	       void *ctx, char *msg, size_t msglen);

/* filter_temp_dir: where temporary files go: $TMPDIR, or /tmp. */
const char *filter_temp_dir(void);

/*
 * filter_temp_full: after a write into temporary file FD failed with
 * errno ERR (or 0 when a program writing it failed), whether the cause is
 * room: the file system full, a quota, or the file size limit. Returns 1
 * with a message in MSG naming the directory, the bytes written and what
 * to do (set TMPDIR), else 0.
 */
int filter_temp_full(int fd, int err, char *msg, size_t msglen);

/*
 * filter_spawn: runs ARGV[0], found on PATH as filter_run finds it, with
 * ARGV, its standard input IN and its standard output OUT (the caller's
 * descriptors, which it closes itself). Returns 0 with *PID set, or -1
 * with a message in MSG: the program not found (saying what to install)
 * or not run.
 */
int filter_spawn(char *const argv[], int in, int out, pid_t *pid, char *msg, size_t msglen);

/*
 * filter_temp_file: a new file in TMPDIR (default /tmp), already unlinked,
 * open for reading and writing (close-on-exec): where a decompressed layer
 * goes, and where tarflat spools a pipe. Returns the descriptor or -1 with
 * errno set.
 */
int filter_temp_file(void);

#endif
