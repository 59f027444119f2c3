/*
 * t/pgztest.c - pgz.c on its own: gzip-compresses a file to another and
 * prints what pgz_finish returns, for t/t0250.
 *
 *   pgztest [-l LEVEL] [-j N] [-w SIZE|r] [-n N] [-f N] [-s MS] [-a N] [-m] IN OUT
 *   pgztest -B
 *
 *   -l LEVEL  compression level (default 6)
 *   -j N      worker threads (default 0: compress on the writer)
 *   -w SIZE   pass the input to pgz_write SIZE bytes at a time (default
 *             256 KiB); -w r uses sizes from a fixed pseudo-random
 *             sequence, with 0, 1 and sizes around the dictionary and
 *             block sizes among them
 *   -n N      read only the first N bytes of IN (which may be /dev/zero)
 *   -f N      the sink's Nth call fails with ENOSPC
 *   -s MS     the sink sleeps MS milliseconds a call (a slow output)
 *   -a N      stop after N bytes of input: pgz_free without pgz_finish
 *   -m        also print "maxrss KIB", the peak resident memory
 *   -B        print PGZ_BLOCK and exit
 *
 * Prints "IN_LEN OUT_LEN DIFF_ID DIGEST". On a failure prints "pgztest:
 * CALL: MESSAGE (errno: STRERROR)" to stderr, CALL being the pgz function
 * that failed, checks that a later pgz_write and pgz_finish fail too with
 * the same message, and exits 1 (3 if they did not); 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pgz.h"

#define DEFAULT_PIECE (256 * 1024)
#define MAX_PIECE (4 * PGZ_BLOCK) /* random pieces stay below */

struct out {
	FILE *f;
	unsigned long calls;
	unsigned long fail_at;  /* the call that fails, 0 for none */
	long sleep_ms;
};

static int
sink(void *ctx, const void *buf, size_t len)
{
	struct out *o = ctx;

	if (++o->calls == o->fail_at) {
		errno = ENOSPC;
		return -1;
	}
	if (o->sleep_ms > 0) {
		struct timespec ts = { o->sleep_ms / 1000, (o->sleep_ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (fwrite(buf, 1, len, o->f) != len)
		return -1;
	return 0;
}

/* The next piece size for -w r: a fixed xorshift sequence, mostly small
 * and medium pieces, with the edge sizes mixed in. */
static size_t
random_piece(uint64_t *state)
{
	static const size_t edge[] = { 0, 1, 2, 32767, 32768, 32769, PGZ_BLOCK - 1,
				       PGZ_BLOCK, PGZ_BLOCK + 1, 3 * PGZ_BLOCK + 5 };
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	if (x % 8 == 0)
		return edge[(x >> 8) % (sizeof edge / sizeof edge[0])];
	if (x % 8 < 5)
		return (size_t)((x >> 8) % 4096);
	return (size_t)((x >> 8) % (2 * PGZ_BLOCK));
}

static int
failed(struct pgz *z, const char *call)
{
	struct pgz_result res;
	char first[256];
	int e = errno;

	fprintf(stderr, "pgztest: %s: %s (errno: %s)\n", call, pgz_error(z), strerror(e));
	snprintf(first, sizeof first, "%s", pgz_error(z));
	if (pgz_write(z, "x", 1) == 0 || pgz_finish(z, &res) == 0 ||
	    strcmp(first, pgz_error(z)) != 0 || errno != e) {
		fprintf(stderr, "pgztest: a call after the failure did not fail the same way\n");
		return 3;
	}
	return 1;
}

/*
 * Feeds IN to Z in pieces of PIECE bytes (0: random sizes), stopping
 * after LIMIT bytes when that is not 0. Returns 0, or 2 at the end when
 * DROP; 1 or 3 when pgz failed (see failed), -1 when IN could not be
 * read.
 */
static int
feed(struct pgz *z, FILE *in, size_t piece, unsigned long long limit, int drop)
{
	static unsigned char buf[MAX_PIECE];
	uint64_t rng = 0x9e3779b97f4a7c15u;
	unsigned long long total = 0;

	for (;;) {
		size_t want = piece ? piece : random_piece(&rng);
		if (limit && total + want > limit)
			want = (size_t)(limit - total);
		size_t n = fread(buf, 1, want, in);
		if (n < want && ferror(in))
			return -1;
		if (pgz_write(z, buf, n) < 0)
			return failed(z, "pgz_write");
		total += n;
		if ((limit && total == limit) || (n < want && feof(in)))
			return drop ? 2 : 0;
	}
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: pgztest [-l LEVEL] [-j N] [-w SIZE|r] [-n N] [-f N] [-s MS] "
			"[-a N] [-m] IN OUT\n       pgztest -B\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int level = 6, rss = 0, c;
	size_t nworkers = 0, piece = DEFAULT_PIECE;
	unsigned long long limit = 0;
	int drop = 0;
	struct out o = { 0 };
	struct pgz_result res;

	while ((c = getopt(argc, argv, "l:j:w:n:f:s:a:mB")) != -1) {
		switch (c) {
		case 'l': level = atoi(optarg); break;
		case 'j': nworkers = strtoul(optarg, NULL, 10); break;
		case 'w': piece = strcmp(optarg, "r") ? strtoul(optarg, NULL, 10) : 0; break;
		case 'f': o.fail_at = strtoul(optarg, NULL, 10); break;
		case 's': o.sleep_ms = atol(optarg); break;
		case 'n': limit = strtoull(optarg, NULL, 10); break;
		case 'a': limit = strtoull(optarg, NULL, 10); drop = 1; break;
		case 'm': rss = 1; break;
		case 'B': printf("%zu\n", PGZ_BLOCK); return 0;
		default: return usage();
		}
	}
	if (argc - optind != 2 || piece > MAX_PIECE)
		return usage();
	FILE *in = fopen(argv[optind], "rb");
	if (!in || !(o.f = fopen(argv[optind + 1], "wb"))) {
		fprintf(stderr, "pgztest: %s\n", strerror(errno));
		return 1;
	}
	setvbuf(in, NULL, _IOFBF, 1 << 20);
	struct pgz *z = pgz_new(level, nworkers, sink, &o);
	if (!z) {
		fprintf(stderr, "pgztest: pgz_new: %s\n", strerror(errno));
		return 1;
	}
	int r = feed(z, in, piece, limit, drop);
	if (r < 0) {
		fprintf(stderr, "pgztest: %s: %s\n", argv[optind], strerror(errno));
		r = 1;
	} else if (r == 2) {
		r = 0; /* -a: pgz_free without pgz_finish */
	} else if (r == 0) {
		if (pgz_finish(z, &res) < 0)
			r = failed(z, "pgz_finish");
		else
			printf("%llu %llu %s %s\n", (unsigned long long)res.in_len,
			       (unsigned long long)res.out_len, res.diff_id, res.digest);
	}
	pgz_free(z);
	fclose(in);
	if (fclose(o.f) != 0 && r == 0) {
		fprintf(stderr, "pgztest: %s: %s\n", argv[optind + 1], strerror(errno));
		r = 1;
	}
	if (rss)
		printf("maxrss %ld\n", maxrss_kib());
	return r;
}
