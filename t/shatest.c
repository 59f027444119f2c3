/*
 * t/shatest.c - sha2.c on its own, printing digests the way sha256sum does
 * ("HEX  NAME", "-" for standard input) so that t/t0020 can compare the two.
 *
 *   shatest [-a 256|512] [-p] [-c SIZE|r] [FILE...]
 *   shatest [-p] -i
 *
 *   -a BITS  SHA-256 (the default) or SHA-512
 *   -p       force the portable SHA-256 code (sha2_force_portable)
 *   -c SIZE  pass each buffer read to the update function SIZE bytes at a
 *            time; -c r uses sizes from a fixed pseudo-random sequence,
 *            zero and sizes around the block lengths among them
 *   -i       print the SHA-256 implementation in use and exit
 *
 * Exits 0, 1 if a file could not be read, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha2.h"

#define READ_SIZE (256 * 1024)

/* Either hash, so that the reading and chunking below are written once. */
struct hasher {
	int bits;               /* 256 or 512 */
	struct sha256 s256;
	struct sha512 s512;
};

static void
hasher_init(struct hasher *h)
{
	if (h->bits == 256)
		sha256_init(&h->s256);
	else
		sha512_init(&h->s512);
}

static void
hasher_update(struct hasher *h, const void *p, size_t len)
{
	if (h->bits == 256)
		sha256_update(&h->s256, p, len);
	else
		sha512_update(&h->s512, p, len);
}

/* HEX must hold 2 * SHA512_DIGEST_SIZE + 1 bytes. */
static void
hasher_final(struct hasher *h, char *hex)
{
	unsigned char d[SHA512_DIGEST_SIZE];

	if (h->bits == 256) {
		sha256_final(&h->s256, d);
		sha2_hex(hex, d, SHA256_DIGEST_SIZE);
	} else {
		sha512_final(&h->s512, d);
		sha2_hex(hex, d, SHA512_DIGEST_SIZE);
	}
}

/* An LCG, fixed seed: a failure under -c r happens again on the next run. */
static size_t
random_chunk(void)
{
	static uint64_t seed = 20;
	unsigned long r;

	seed = seed * 6364136223846793005u + 1442695040888963407u;
	r = (unsigned long)(seed >> 33);
	switch (r % 4) {
	case 0: return r / 4 % 4;               /* 0..3, zero included */
	case 1: return r / 4 % 130;             /* around one SHA-512 block */
	case 2: return 64 * (1 + r / 4 % 4) + r / 64 % 3 - 1; /* 64k - 1 .. 64k + 1 */
	default: return r / 4 % 5000;
	}
}

/* Feeds LEN bytes at P to H in pieces of CHUNK bytes (0: random sizes). */
static void
feed(struct hasher *h, const unsigned char *p, size_t len, size_t chunk)
{
	while (len > 0) {
		size_t n = chunk ? chunk : random_chunk();
		if (n > len)
			n = len;
		hasher_update(h, p, n);
		p += n;
		len -= n;
	}
}

/* Hashes F into HEX. Returns 0, or -1 with errno set on a read error. */
static int
hash_stream(struct hasher *h, FILE *f, size_t chunk, char *hex)
{
	static unsigned char buf[READ_SIZE];
	size_t n;

	hasher_init(h);
	hasher_update(h, NULL, 0);      /* allowed, and must change nothing */
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (chunk == (size_t)-1)
			hasher_update(h, buf, n);
		else
			feed(h, buf, n, chunk);
	}
	if (ferror(f))
		return -1;
	hasher_final(h, hex);
	return 0;
}

/* Prints the digest of NAME ("-": standard input). Returns 0 or 1. */
static int
hash_file(struct hasher *h, const char *name, size_t chunk)
{
	char hex[2 * SHA512_DIGEST_SIZE + 1];
	int is_stdin = strcmp(name, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(name, "rb");
	int rc;

	if (!f) {
		fprintf(stderr, "shatest: %s: %s\n", name, strerror(errno));
		return 1;
	}
	rc = hash_stream(h, f, chunk, hex);
	if (rc < 0)
		fprintf(stderr, "shatest: %s: %s\n", name, strerror(errno));
	else
		printf("%s  %s\n", hex, name);
	if (!is_stdin)
		fclose(f);
	return rc < 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: shatest [-a 256|512] [-p] [-c SIZE|r] [FILE...]\n"
	                "       shatest [-p] -i\n");
	return 2;
}

/* -c's argument: "r" for random sizes (0), else a size of at least 1. */
static int
parse_chunk(const char *s, size_t *chunk)
{
	char *end;
	unsigned long long v;

	if (strcmp(s, "r") == 0) {
		*chunk = 0;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > READ_SIZE)
		return -1;
	*chunk = (size_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct hasher h = { .bits = 256 };
	size_t chunk = (size_t)-1;      /* whole buffers */
	int opt, info = 0, status = 0;

	while ((opt = getopt(argc, argv, "a:c:ip")) != -1) {
		switch (opt) {
		case 'a':
			if (strcmp(optarg, "256") && strcmp(optarg, "512"))
				return usage();
			h.bits = atoi(optarg);
			break;
		case 'c':
			if (parse_chunk(optarg, &chunk) < 0)
				return usage();
			break;
		case 'i': info = 1; break;
		case 'p': sha2_force_portable(1); break;
		default: return usage();
		}
	}
	if (info) {
		printf("%s\n", sha2_impl());
	} else if (optind == argc) {
		status = hash_file(&h, "-", chunk);
	} else {
		for (int i = optind; i < argc; i++)
			status |= hash_file(&h, argv[i], chunk);
	}
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		fprintf(stderr, "shatest: standard output: %s\n", strerror(errno));
		return 1;
	}
	return status;
}
