/*
 * blobw.c - a layer's blob as it is written (see blobw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blobw.h"
#include "filter.h"
#include "mem.h"
#include "sha2.h"

#define READ_BUF (256 * 1024)

struct blobw {
	enum blobw_compress how;
	blobw_sink_fn *sink;
	void *ctx;
	struct pgz *z;                  /* gzip */
	struct sha256 tar_hash, blob_hash;
	uint64_t tar_len, size;
	int to_zstd, from_zstd;         /* zstd: its standard input, output */
	pid_t pid;
	pthread_t reader;
	int reading;
	int sink_errno;                 /* the reader's sink failed */
	char msg[300];
};

static int
fail(struct blobw *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct blobw *b, const char *fmt, ...)
{
	va_list ap;

	if (b->msg[0])
		return -1;      /* the first failure is the one to tell */
	va_start(ap, fmt);
	vsnprintf(b->msg, sizeof(b->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void
digest_of(struct sha256 *h, char out[PGZ_DIGEST_LEN])
{
	unsigned char d[SHA256_DIGEST_SIZE];

	sha256_final(h, d);
	memcpy(out, "sha256:", 7);
	sha2_hex(out + 7, d, sizeof(d));
}

/* zstd's output, read on a thread of its own: hashed and sunk. */
static void *
read_zstd(void *arg)
{
	struct blobw *b = arg;
	char *buf = xmalloc(READ_BUF);
	ssize_t n;

	while ((n = read(b->from_zstd, buf, READ_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		sha256_update(&b->blob_hash, buf, (size_t)n);
		b->size += (uint64_t)n;
		if (!b->sink_errno && b->sink(b->ctx, buf, (size_t)n) < 0)
			b->sink_errno = errno ? errno : EIO;
		/* after a failed sink, read on to the end: zstd must finish */
	}
	free(buf);
	return NULL;
}

/* Starts `zstd -q -c` (one thread: the same bytes on every machine). */
static int
start_zstd(struct blobw *b)
{
	char *argv[] = { (char *)"zstd", (char *)"-q", (char *)"-c", NULL };
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return fail(b, "a pipe for zstd: %s", strerror(errno));
	int r = filter_spawn(argv, in[0], out[1], &b->pid, b->msg, sizeof(b->msg));
	close(in[0]);
	close(out[1]);
	b->to_zstd = in[1];
	b->from_zstd = out[0];
	if (r < 0) {
		b->pid = 0;
		return -1;
	}
	if (pthread_create(&b->reader, NULL, read_zstd, b) != 0)
		return fail(b, "a thread to read zstd: %s", strerror(errno));
	b->reading = 1;
	return 0;
}

struct blobw *
blobw_new(enum blobw_compress how, int level, size_t jobs, blobw_sink_fn *sink, void *ctx,
	  char *msg, size_t msglen)
{
	struct blobw *b = xmalloc(sizeof(*b));

	memset(b, 0, sizeof(*b));
	b->how = how;
	b->sink = sink;
	b->ctx = ctx;
	b->to_zstd = b->from_zstd = -1;
	sha256_init(&b->tar_hash);
	sha256_init(&b->blob_hash);
	if (how == BLOBW_GZIP && !(b->z = pgz_new(level, jobs, sink, ctx)))
		fail(b, "gzip: %s", errno == EINVAL ? "the level is 1 to 9" : strerror(errno));
	else if (how == BLOBW_ZSTD)
		start_zstd(b);
	if (b->msg[0]) {
		snprintf(msg, msglen, "%s", b->msg);
		blobw_free(b);
		return NULL;
	}
	return b;
}

/* Writes LEN bytes at P to zstd's input, SIGPIPE held back: a zstd that
 * died is an error, not the end of tarflat. */
static int
to_zstd(struct blobw *b, const char *p, size_t len)
{
	sigset_t pipe_set, old;
	int rc = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (len > 0) {
		ssize_t n = write(b->to_zstd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(b, "writing to zstd: %s", strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (rc < 0 && errno == EPIPE) {
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
blobw_write(struct blobw *b, const void *p, size_t len)
{
	if (b->msg[0])
		return -1;
	sha256_update(&b->tar_hash, p, len);
	b->tar_len += len;
	switch (b->how) {
	case BLOBW_GZIP:
		return pgz_write(b->z, p, len) < 0 ? fail(b, "%s", pgz_error(b->z)) : 0;
	case BLOBW_ZSTD:
		return to_zstd(b, p, len);
	default:
		sha256_update(&b->blob_hash, p, len);
		b->size += len;
		return b->sink(b->ctx, p, len) < 0 ? fail(b, "write error: %s", strerror(errno)) : 0;
	}
}

/* zstd's end: its input closed, its output read to the end, its status. */
static int
finish_zstd(struct blobw *b)
{
	int status = 0;

	close(b->to_zstd);
	b->to_zstd = -1;
	if (b->reading)
		pthread_join(b->reader, NULL);
	b->reading = 0;
	while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
		;
	b->pid = 0;
	if (b->sink_errno) {
		errno = b->sink_errno;
		return fail(b, "write error: %s", strerror(b->sink_errno));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(b, "zstd -c failed (%s %d)", WIFEXITED(status) ? "exit status"
			    : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int
blobw_finish(struct blobw *b, struct blobw_result *r)
{
	static const char *const types[] = {
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.v1.tar",
	};

	if (b->msg[0])
		return -1;
	memset(r, 0, sizeof(*r));
	r->media_type = types[b->how];
	if (b->how == BLOBW_GZIP) {
		struct pgz_result pr;
		if (pgz_finish(b->z, &pr) < 0)
			return fail(b, "%s", pgz_error(b->z));
		r->tar_len = pr.in_len;
		r->size = pr.out_len;
		memcpy(r->diff_id, pr.diff_id, sizeof(r->diff_id));
		memcpy(r->digest, pr.digest, sizeof(r->digest));
		return 0;
	}
	if (b->how == BLOBW_ZSTD && finish_zstd(b) < 0)
		return -1;
	r->tar_len = b->tar_len;
	r->size = b->size;
	digest_of(&b->tar_hash, r->diff_id);
	digest_of(&b->blob_hash, r->digest);
	return 0;
}

const char *
blobw_error(const struct blobw *b)
{
	return b->msg[0] ? b->msg : "no error";
}

void
blobw_free(struct blobw *b)
{
	if (!b)
		return;
	if (b->to_zstd >= 0)
		close(b->to_zstd);
	if (b->reading)
		pthread_join(b->reader, NULL);
	if (b->from_zstd >= 0)
		close(b->from_zstd);
	if (b->pid > 0)
		while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
			;
	pgz_free(b->z);
	free(b);
}
