/*
 * sha2.c - SHA-256 and SHA-512 as FIPS 180-4 defines them: the buffering of
 * a stream into blocks, the padding, and the block functions. SHA-256 has
 * two block functions, the x86 SHA extensions and portable C, picked at run
 * time; SHA-512 has the portable one only (image digests are mostly
 * sha256, so its speed matters less).
 *
 * Input bytes are read one at a time or through memcpy, never through a cast
 * pointer, so any alignment is fine and nothing breaks strict aliasing.
 */
#include <stdatomic.h>
#include <string.h>

#include "sha2.h"

#if defined(__x86_64__) || defined(__i386__)
#define SHA2_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define SHA2_X86 0
#endif

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint64_t sha512_k[80] = {
	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
	0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
	0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
	0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
	0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
	0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
	0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
	0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
	0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
	0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
	0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
	0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
	0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
	0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

/* ---- byte order and bit operations ---------------------------------- */

static uint32_t
load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
load_be64(const unsigned char *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void
store_be32(unsigned char *p, uint32_t x)
{
	p[0] = (unsigned char)(x >> 24);
	p[1] = (unsigned char)(x >> 16);
	p[2] = (unsigned char)(x >> 8);
	p[3] = (unsigned char)x;
}

static void
store_be64(unsigned char *p, uint64_t x)
{
	store_be32(p, (uint32_t)(x >> 32));
	store_be32(p + 4, (uint32_t)x);
}

/* N is a constant 1..31 (1..63) at every call, which compilers turn into
 * one rotate instruction. */
static inline uint32_t
ror32(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static inline uint64_t
ror64(uint64_t x, unsigned n)
{
	return x >> n | x << (64 - n);
}

/* Ch and Maj (FIPS 180-4 4.1.2, 4.1.3), one pair per word size, in forms
 * equal to the standard's with fewer operations (some 10% faster with gcc):
 * Ch picks y where x is set, else z; Maj is set where two of three are. */
static inline uint32_t ch32(uint32_t x, uint32_t y, uint32_t z) { return z ^ (x & (y ^ z)); }
static inline uint32_t maj32(uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (z & (x | y)); }
static inline uint64_t ch64(uint64_t x, uint64_t y, uint64_t z) { return z ^ (x & (y ^ z)); }
static inline uint64_t maj64(uint64_t x, uint64_t y, uint64_t z) { return (x & y) | (z & (x | y)); }

/* The sigma functions of FIPS 180-4 4.1.2 (SHA-256) and 4.1.3 (SHA-512):
 * big sigma mixes the working variables, small sigma the schedule. */
static inline uint32_t bsig0_32(uint32_t x) { return ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22); }
static inline uint32_t bsig1_32(uint32_t x) { return ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25); }
static inline uint32_t ssig0_32(uint32_t x) { return ror32(x, 7) ^ ror32(x, 18) ^ x >> 3; }
static inline uint32_t ssig1_32(uint32_t x) { return ror32(x, 17) ^ ror32(x, 19) ^ x >> 10; }
static inline uint64_t bsig0_64(uint64_t x) { return ror64(x, 28) ^ ror64(x, 34) ^ ror64(x, 39); }
static inline uint64_t bsig1_64(uint64_t x) { return ror64(x, 14) ^ ror64(x, 18) ^ ror64(x, 41); }
static inline uint64_t ssig0_64(uint64_t x) { return ror64(x, 1) ^ ror64(x, 8) ^ x >> 7; }
static inline uint64_t ssig1_64(uint64_t x) { return ror64(x, 19) ^ ror64(x, 61) ^ x >> 6; }

/*
 * One round. Instead of shifting all eight working variables along, the
 * caller passes them rotated by one place each round: the round adds T1 to
 * D (the next E) and leaves T1 + T2 in H (the next A). A macro because the
 * rotation is a renaming, which a function cannot do.
 */
#define SHA2_ROUND(n, a, b, c, d, e, f, g, h, k, w) do { \
	uint##n##_t t1_ = (h) + bsig1_##n(e) + ch##n(e, f, g) + (k) + (w); \
	uint##n##_t t2_ = bsig0_##n(a) + maj##n(a, b, c); \
	(d) += t1_; \
	(h) = t1_ + t2_; \
} while (0)

/* Eight rounds from round I on, after which the names are back in place. */
#define SHA2_ROUNDS8(n, v, k, w, i) do { \
	SHA2_ROUND(n, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], k[i], w[i]); \
	SHA2_ROUND(n, v[7], v[0], v[1], v[2], v[3], v[4], v[5], v[6], k[i + 1], w[i + 1]); \
	SHA2_ROUND(n, v[6], v[7], v[0], v[1], v[2], v[3], v[4], v[5], k[i + 2], w[i + 2]); \
	SHA2_ROUND(n, v[5], v[6], v[7], v[0], v[1], v[2], v[3], v[4], k[i + 3], w[i + 3]); \
	SHA2_ROUND(n, v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3], k[i + 4], w[i + 4]); \
	SHA2_ROUND(n, v[3], v[4], v[5], v[6], v[7], v[0], v[1], v[2], k[i + 5], w[i + 5]); \
	SHA2_ROUND(n, v[2], v[3], v[4], v[5], v[6], v[7], v[0], v[1], k[i + 6], w[i + 6]); \
	SHA2_ROUND(n, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[0], k[i + 7], w[i + 7]); \
} while (0)

/* ---- SHA-256, portable ---------------------------------------------- */

/* The message schedule W0..W63 of the 64-byte block at P (6.2.2 step 1). */
static void
sha256_schedule(uint32_t w[64], const unsigned char *p)
{
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(p + 4 * t);
	for (int t = 16; t < 64; t++)
		w[t] = ssig1_32(w[t - 2]) + w[t - 7] + ssig0_32(w[t - 15]) + w[t - 16];
}

/* Steps 2 to 4: 64 rounds on a copy of STATE, added back into it. The
 * working variables are an array so that SHA2_ROUNDS8 can name them by
 * index; with constant indexes they live in registers. */
static void
sha256_compress(uint32_t state[8], const uint32_t w[64])
{
	uint32_t v[8];

	memcpy(v, state, sizeof(v));
	for (int i = 0; i < 64; i += 8)
		SHA2_ROUNDS8(32, v, sha256_k, w, i);
	for (int i = 0; i < 8; i++)
		state[i] += v[i];
}

static void
sha256_blocks_portable(uint32_t state[8], const unsigned char *p, size_t n)
{
	uint32_t w[64];

	for (; n > 0; n--, p += 64) {
		sha256_schedule(w, p);
		sha256_compress(state, w);
	}
}

/* ---- SHA-256, x86 SHA extensions ------------------------------------- */

#if SHA2_X86
/*
 * Only these functions are compiled for the SHA, SSSE3 and SSE4.1
 * instructions, so the file builds without -msha and the rest of the
 * program runs on any x86; they run only after cpu_has_shani says yes.
 * The helpers carry the same target, or the compiler refuses to inline them.
 */
#define SHANI_TARGET __attribute__((target("sha,sse4.1")))

/* Unaligned 16-byte load and store; memcpy keeps it free of casts and
 * compiles to movdqu. */
SHANI_TARGET static inline __m128i
shani_load128(const void *p)
{
	__m128i v;

	memcpy(&v, p, sizeof(v));
	return v;
}

SHANI_TARGET static inline void
shani_store128(void *p, __m128i v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * sha256rnds2 wants the state as two vectors, ABEF and CDGH (A in the top
 * lane), where memory holds A..D and E..H with A in the bottom lane. The
 * names below list lanes from the top down, as Intel's manual does.
 */
SHANI_TARGET static inline void
shani_state_in(const uint32_t state[8], __m128i *abef, __m128i *cdgh)
{
	__m128i dcba = shani_load128(state);
	__m128i hgfe = shani_load128(state + 4);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);

	*abef = _mm_alignr_epi8(cdab, efgh, 8);
	*cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
}

SHANI_TARGET static inline void
shani_state_out(uint32_t state[8], __m128i abef, __m128i cdgh)
{
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);

	shani_store128(state, _mm_blend_epi16(feba, dchg, 0xf0));
	shani_store128(state + 4, _mm_alignr_epi8(dchg, feba, 8));
}

/*
 * Rounds I..I+3 with schedule words W. Each sha256rnds2 does two rounds,
 * taking W+K for them from the low half of its last operand, and returns
 * the new ABEF; the new CDGH is the old ABEF, so the two swap roles.
 */
SHANI_TARGET static inline void
shani_rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int i)
{
	__m128i wk = _mm_add_epi32(w, shani_load128(&sha256_k[i]));

	*cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	*abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

/*
 * The next four schedule words from the last sixteen, W0 holding the
 * oldest four: sha256msg1 adds small sigma 0, the alignr brings in
 * W[t-7], sha256msg2 adds small sigma 1 (including of the new words).
 */
SHANI_TARGET static inline __m128i
shani_schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1),
	                          _mm_alignr_epi8(w3, w2, 4));

	return _mm_sha256msg2_epu32(t, w3);
}

SHANI_TARGET static void
sha256_blocks_shani(uint32_t state[8], const unsigned char *p, size_t n)
{
	/* Byte-swaps each 32-bit lane: the message words are big-endian. */
	const __m128i bswap = _mm_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4,
	                                    11, 10, 9, 8, 15, 14, 13, 12);
	__m128i abef, cdgh;

	shani_state_in(state, &abef, &cdgh);
	for (; n > 0; n--, p += 64) {
		__m128i abef_in = abef, cdgh_in = cdgh;
		__m128i w0 = _mm_shuffle_epi8(shani_load128(p), bswap);
		__m128i w1 = _mm_shuffle_epi8(shani_load128(p + 16), bswap);
		__m128i w2 = _mm_shuffle_epi8(shani_load128(p + 32), bswap);
		__m128i w3 = _mm_shuffle_epi8(shani_load128(p + 48), bswap);

		shani_rounds4(&abef, &cdgh, w0, 0);
		shani_rounds4(&abef, &cdgh, w1, 4);
		shani_rounds4(&abef, &cdgh, w2, 8);
		shani_rounds4(&abef, &cdgh, w3, 12);
		for (int i = 16; i < 64; i += 16) {
			w0 = shani_schedule(w0, w1, w2, w3);
			shani_rounds4(&abef, &cdgh, w0, i);
			w1 = shani_schedule(w1, w2, w3, w0);
			shani_rounds4(&abef, &cdgh, w1, i + 4);
			w2 = shani_schedule(w2, w3, w0, w1);
			shani_rounds4(&abef, &cdgh, w2, i + 8);
			w3 = shani_schedule(w3, w0, w1, w2);
			shani_rounds4(&abef, &cdgh, w3, i + 12);
		}
		abef = _mm_add_epi32(abef, abef_in);
		cdgh = _mm_add_epi32(cdgh, cdgh_in);
	}
	shani_state_out(state, abef, cdgh);
}

/* CPUID bits: leaf 1 ECX 9 (SSSE3) and 19 (SSE4.1), leaf 7 EBX 29 (SHA).
 * __get_cpuid_count fails when leaf 7 is beyond the CPU's maximum. */
static int
cpu_has_shani(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	if (!(ecx & 1u << 9) || !(ecx & 1u << 19))
		return 0;
	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ebx & 1u << 29) != 0;
}
#endif /* SHA2_X86 */

/* ---- choosing the SHA-256 block function ---------------------------- */

/* Atomics, relaxed: threads may ask at once, and all reach the same answer. */
static atomic_int sha2_forced_portable;
#if SHA2_X86
static atomic_int sha2_cpu_state;       /* 0: not asked yet, 1: no SHA-NI, 2: SHA-NI */
#endif

static int
use_shani(void)
{
#if SHA2_X86
	if (atomic_load_explicit(&sha2_forced_portable, memory_order_relaxed))
		return 0;
	int s = atomic_load_explicit(&sha2_cpu_state, memory_order_relaxed);
	if (s == 0) {
		s = cpu_has_shani() ? 2 : 1;
		atomic_store_explicit(&sha2_cpu_state, s, memory_order_relaxed);
	}
	return s == 2;
#else
	return 0;
#endif
}

static void
sha256_blocks(uint32_t state[8], const unsigned char *p, size_t n)
{
#if SHA2_X86
	if (use_shani()) {
		sha256_blocks_shani(state, p, n);
		return;
	}
#endif
	sha256_blocks_portable(state, p, n);
}

void
sha2_force_portable(int on)
{
	atomic_store_explicit(&sha2_forced_portable, on != 0, memory_order_relaxed);
}

const char *
sha2_impl(void)
{
	return use_shani() ? "sha-ni" : "portable";
}

/* ---- SHA-256 streaming ---------------------------------------------- */

void
sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(c->h));
	c->len = 0;
	c->nbuf = 0;
}

void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len == 0)           /* DATA may be NULL, which memcpy must not see */
		return;
	c->len += len;
	if (c->nbuf > 0) {
		size_t n = 64 - c->nbuf < len ? 64 - c->nbuf : len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf < 64)
			return;
		sha256_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	/* Whole blocks straight from the caller's buffer, without a copy. */
	if (len >= 64) {
		sha256_blocks(c->h, p, len / 64);
		p += len - len % 64;
		len %= 64;
	}
	if (len > 0)
		memcpy(c->buf, p, len);
	c->nbuf = len;
}

/* Padding (5.1.1): a 1 bit, zeros up to 56 bytes into a block, then the
 * message length in bits as a 64-bit big-endian number. */
void
sha256_final(struct sha256 *c, unsigned char out[SHA256_DIGEST_SIZE])
{
	uint64_t bits = c->len * 8;     /* FIPS 180-4 takes it modulo 2^64 too */

	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 56) {
		memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
		sha256_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
	store_be64(c->buf + 56, bits);
	sha256_blocks(c->h, c->buf, 1);
	c->nbuf = 0;
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
}

/* ---- SHA-512 ------------------------------------------------------- */

static void
sha512_schedule(uint64_t w[80], const unsigned char *p)
{
	for (int t = 0; t < 16; t++)
		w[t] = load_be64(p + 8 * t);
	for (int t = 16; t < 80; t++)
		w[t] = ssig1_64(w[t - 2]) + w[t - 7] + ssig0_64(w[t - 15]) + w[t - 16];
}

static void
sha512_compress(uint64_t state[8], const uint64_t w[80])
{
	uint64_t v[8];

	memcpy(v, state, sizeof(v));
	for (int i = 0; i < 80; i += 8)
		SHA2_ROUNDS8(64, v, sha512_k, w, i);
	for (int i = 0; i < 8; i++)
		state[i] += v[i];
}

static void
sha512_blocks(uint64_t state[8], const unsigned char *p, size_t n)
{
	uint64_t w[80];

	for (; n > 0; n--, p += 128) {
		sha512_schedule(w, p);
		sha512_compress(state, w);
	}
}

void
sha512_init(struct sha512 *c)
{
	static const uint64_t iv[8] = {
		0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
		0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
	};

	memcpy(c->h, iv, sizeof(c->h));
	c->len = 0;
	c->nbuf = 0;
}

void
sha512_update(struct sha512 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len == 0)
		return;
	c->len += len;
	if (c->nbuf > 0) {
		size_t n = 128 - c->nbuf < len ? 128 - c->nbuf : len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf < 128)
			return;
		sha512_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	if (len >= 128) {
		sha512_blocks(c->h, p, len / 128);
		p += len - len % 128;
		len %= 128;
	}
	if (len > 0)
		memcpy(c->buf, p, len);
	c->nbuf = len;
}

/* As for SHA-256, but the length field is 128 bits at byte 112. */
void
sha512_final(struct sha512 *c, unsigned char out[SHA512_DIGEST_SIZE])
{
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 112) {
		memset(c->buf + c->nbuf, 0, 128 - c->nbuf);
		sha512_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 112 - c->nbuf);
	/* len * 8 as 128 bits: the top 3 bits of len, then the rest. */
	store_be64(c->buf + 112, c->len >> 61);
	store_be64(c->buf + 120, c->len << 3);
	sha512_blocks(c->h, c->buf, 1);
	c->nbuf = 0;
	for (int i = 0; i < 8; i++)
		store_be64(out + 8 * i, c->h[i]);
}

/* ---- output ---------------------------------------------------------- */

char *
sha2_hex(char *out, const unsigned char *digest, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}
