/*
 * sha2.h - SHA-256 and SHA-512 (FIPS 180-4), streaming, for checking that a
 * container image blob matches its digest.
 *
 * sha2.c owns the hash state and the choice of SHA-256 implementation: the
 * x86 SHA extensions (SHA-NI) when the CPU has them, found at run time, else
 * portable C. Both give the same state after every block, so the choice
 * changes only the speed. SHA-512 is portable C only. Nothing here prints,
 * exits or allocates; the functions cannot fail.
 *
 * Use: X_init, then X_update any number of times with any split of the
 * input, then X_final. A context is plain data (copy it to hash a common
 * prefix once); after X_final it must be initialised again before reuse.
 * Contexts are not shared between threads; the functions are thread-safe
 * for distinct contexts.
 */
#ifndef TARFLAT_SHA2_H
#define TARFLAT_SHA2_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA512_DIGEST_SIZE 64

struct sha256 {
	uint32_t h[8];          /* the chaining state, H0..H7 */
	uint64_t len;           /* bytes hashed so far, modulo 2^64 */
	unsigned char buf[64];  /* a partial block, waiting for more input */
	size_t nbuf;            /* bytes in buf, always < 64 */
};

struct sha512 {
	uint64_t h[8];
	uint64_t len;           /* bytes so far: inputs up to 2^64 - 1 bytes */
	unsigned char buf[128];
	size_t nbuf;            /* always < 128 */
};

/* Starts a new SHA-256 hash in C. */
void sha256_init(struct sha256 *c);

/* Hashes LEN bytes at DATA (DATA may be NULL when LEN is 0). */
void sha256_update(struct sha256 *c, const void *data, size_t len);

/* Writes the 32-byte digest of everything passed to sha256_update to OUT.
 * C is used up: call sha256_init before hashing with it again. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_DIGEST_SIZE]);

/* The same for SHA-512, with a 64-byte digest. */
void sha512_init(struct sha512 *c);
void sha512_update(struct sha512 *c, const void *data, size_t len);
void sha512_final(struct sha512 *c, unsigned char out[SHA512_DIGEST_SIZE]);

/*
 * Writes the LEN bytes at DIGEST as 2 * LEN lowercase hex digits and a NUL
 * to OUT, which must hold 2 * LEN + 1 bytes (65 for SHA-256, 129 for
 * SHA-512). Returns OUT.
 */
char *sha2_hex(char *out, const unsigned char *digest, size_t len);

/*
 * The SHA-256 implementation in use: "sha-ni" or "portable". A static
 * string, valid for the life of the program.
 */
const char *sha2_impl(void);

/*
 * Test-only: ON nonzero makes SHA-256 use the portable code even where
 * SHA-NI is available; 0 restores the run-time choice. It takes effect from
 * the next block hashed, which is safe even mid-hash since both
 * implementations keep the same state.
 */
void sha2_force_portable(int on);

#endif
