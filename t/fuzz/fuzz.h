/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point's
 * prototype and a memfd holding the input, so the reader gets the seekable
 * file descriptor it needs.
 */
#ifndef TARFLAT_FUZZ_H
#define TARFLAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: libFuzzer and the stub driver both report an abort. */
#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz assertion failed: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* A memfd holding the N bytes at P (and the N2 bytes at P2 after them),
 * positioned at 0. Returns the fd; aborts when the kernel refuses, which
 * is the harness failing, not the code under test. */
static inline int
fuzz_memfd(const void *p, size_t n, const void *p2, size_t n2)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	FUZZ_ASSERT((n == 0 || write(fd, p, n) == (ssize_t)n) &&
		    (n2 == 0 || write(fd, p2, n2) == (ssize_t)n2) &&
		    lseek(fd, 0, SEEK_SET) == 0, "writing the memfd failed");
	return fd;
}

/* A small deterministic generator (xorshift64*) seeded from the input, for
 * offsets and lengths that must be the same on every run of one input. */
static inline uint64_t
fuzz_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603u;      /* FNV-1a */

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211u;
	return h ? h : 1;
}

static inline uint64_t
fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717u;
}

/*
 * Mutations almost never keep a header checksum right, so most mutated
 * inputs would stop at their first changed header. The targets run each
 * input as it is and then, when this changed anything, once more with the
 * checksum field of every non-zero 512-byte block of the N bytes at P
 * rewritten to the right (unsigned) sum. Content blocks get changed too,
 * which is harmless: content is arbitrary. Returns 1 if a byte changed.
 */
static inline int
fuzz_fix_checksums(unsigned char *p, size_t n)
{
	int changed = 0;

	for (size_t b = 0; b + 512 <= n; b += 512) {
		unsigned char *h = p + b;
		unsigned sum = 0, any = 0;
		char field[8];
		for (size_t i = 0; i < 512; i++) {
			any |= h[i];
			sum += i >= 148 && i < 156 ? ' ' : h[i];
		}
		if (!any)
			continue;
		snprintf(field, sizeof(field), "%06o", sum & 0777777);
		field[7] = ' ';
		if (memcmp(h + 148, field, 8) != 0) {
			memcpy(h + 148, field, 8);
			changed = 1;
		}
	}
	return changed;
}

#endif
