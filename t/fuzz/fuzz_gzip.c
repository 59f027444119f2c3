/*
 * fuzz_gzip.c - gz.c through tar.c: inflate while indexing, several
 * members, trailers (CRC and length rechecked), access points every
 * TAR_SPAN bytes and the random-access cursor of tar_read_content.
 *
 * The input is a gzip stream as it would be on disk: the fuzz bytes, with
 * the magic 1f 8b 08 put in front when they do not start with it. After
 * indexing, the content of each entry is read at offsets and lengths drawn
 * from the input, in an order drawn from it too, and compared with one
 * sequential read: any two reads that both succeed must agree, and after
 * a clean end of archive every read must succeed. When some member's
 * deflate data is sound but its trailer is wrong (the usual result of a
 * mutation), the input runs again with the trailers made right.
 */
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "tar.h"

#define SEQ_MAX (16u << 20)     /* bytes kept from the sequential read */
#define GZ_MAX (9u << 20)       /* skip inputs that inflate to more: a
                                 * few access points (TAR_SPAN) fit, and
                                 * a 25 MB gzip bomb no longer costs a
                                 * second an input */
#define READS 16                /* random reads per input */

struct seen {
	struct tar_entry e;
	unsigned char *bytes;   /* the sequential read, when it worked */
	size_t len;             /* how much of the content BYTES holds */
};

/* Reads the first LEN bytes of S->e into S->bytes in 64 KiB steps. */
static void
sequential(struct tar_in *in, struct seen *s, uint64_t *budget, int must)
{
	struct tar_err err = { 0, "" };
	size_t len = s->e.size < *budget ? (size_t)s->e.size : (size_t)*budget;

	if (!len)
		return;
	unsigned char *b = malloc(len);
	FUZZ_ASSERT(b, "out of memory");
	for (size_t pos = 0; pos < len;) {
		size_t k = len - pos < 65536 ? len - pos : 65536;
		if (tar_read_content(in, &s->e, pos, b + pos, k, &err) < 0) {
			FUZZ_ASSERT(!must, "entry at %llu: sequential read at %zu after a clean index: %s",
				    (unsigned long long)s->e.hdr_off, pos, err.msg);
			free(b);
			return;
		}
		pos += k;
	}
	s->bytes = b;
	s->len = len;
	*budget -= len;
}

static void
random_read(struct tar_in *in, const struct seen *s, uint64_t *rng, unsigned char *buf,
	    int must)
{
	const struct tar_entry *e = &s->e;
	struct tar_err err = { 0, "" };
	uint64_t r = fuzz_rand(rng), pos;
	size_t len;

	if (e->size == 0)
		return;
	/* Mostly near the start, sometimes anywhere, sometimes at the end. */
	switch (r & 3) {
	case 0:
		pos = e->size - 1 - (r >> 8) % (e->size < 65536 ? e->size : 65536);
		break;
	case 1:
		pos = (r >> 8) % e->size;
		break;
	default:
		pos = (r >> 8) % (e->size < 65536 ? e->size : 65536);
		break;
	}
	len = 1 + (size_t)(fuzz_rand(rng) % 70000);
	if (len > e->size - pos)
		len = (size_t)(e->size - pos);
	if (tar_read_content(in, e, pos, buf, len, &err) < 0) {
		FUZZ_ASSERT(!must, "entry at %llu: %zu bytes at %llu after a clean index: %s",
			    (unsigned long long)e->hdr_off, len, (unsigned long long)pos, err.msg);
		return;
	}
	if (s->bytes && pos < s->len) {
		size_t k = s->len - pos < len ? (size_t)(s->len - pos) : len;
		FUZZ_ASSERT(memcmp(buf, s->bytes + pos, k) == 0,
			    "entry at %llu: %zu bytes at %llu differ from the sequential read",
			    (unsigned long long)e->hdr_off, k, (unsigned long long)pos);
	}
}

/* The length of the gzip member header at P (N bytes), or 0 if cut off. */
static size_t
member_header(const unsigned char *p, size_t n)
{
	size_t i = 10;

	if (n < 10 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8)
		return 0;
	if (p[3] & 4) {                 /* FEXTRA */
		if (n < 12)
			return 0;
		i = 12 + (p[10] | (size_t)p[11] << 8);
	}
	for (int flag = 8; flag <= 16; flag <<= 1) {    /* FNAME, FCOMMENT */
		if (!(p[3] & flag))
			continue;
		while (i < n && p[i])
			i++;
		i++;
	}
	if (p[3] & 2)                   /* FHCRC */
		i += 2;
	return i <= n ? i : 0;
}

/*
 * Mutated deflate data nearly always fails its member's CRC, which hides
 * everything after that member. So: inflate each member of the N bytes at
 * P here and, where the deflate data is sound but the trailer is wrong,
 * write the right CRC-32 and length. Returns 1 if a byte changed; *TOTAL
 * is what the members inflated to (counted up to GZ_MAX and a little).
 */
static int
fix_trailers(unsigned char *p, size_t n, uint64_t *total)
{
	static unsigned char out[65536];
	size_t pos = 0;
	int changed = 0;

	*total = 0;
	for (; *total <= GZ_MAX;) {
		size_t h = member_header(p + pos, n - pos);
		if (!h)
			return changed;
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, -15) != Z_OK)
			return changed;
		zs.next_in = p + pos + h;
		zs.avail_in = (uInt)(n - pos - h < UINT32_MAX ? n - pos - h : UINT32_MAX);
		uLong crc = crc32(0, Z_NULL, 0);
		int ret;
		do {
			zs.next_out = out;
			zs.avail_out = sizeof(out);
			ret = inflate(&zs, Z_NO_FLUSH);
			crc = crc32(crc, out, (uInt)(sizeof(out) - zs.avail_out));
		} while (ret == Z_OK && *total + zs.total_out <= GZ_MAX);
		size_t end = pos + h + zs.total_in;
		uLong isize = zs.total_out;
		*total += zs.total_out;
		inflateEnd(&zs);
		if (ret != Z_STREAM_END || n - end < 8)
			return changed;
		unsigned char t[8];
		for (int i = 0; i < 4; i++) {
			t[i] = (unsigned char)(crc >> (8 * i));
			t[4 + i] = (unsigned char)(isize >> (8 * i));
		}
		if (memcmp(p + end, t, 8) != 0) {
			memcpy(p + end, t, 8);
			changed = 1;
		}
		pos = end + 8;
	}
	return changed;
}

static void
parse(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd(data, size, NULL, 0);
	struct tar_err err = { 0, "" };
	struct tar_in *in = tar_in_open(fd, NULL, NULL, &err);
	struct seen *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t rng = fuzz_seed(data, size), budget = SEQ_MAX;
	unsigned char *buf = malloc(70000);
	int r = -1;

	FUZZ_ASSERT(buf, "out of memory");
	if (!in) {
		FUZZ_ASSERT(err.msg[0], "tar_in_open failed without a message");
		goto out;
	}
	/* Not necessarily gzip: a first block with a valid tar checksum is
	 * plain tar whatever its first bytes (F1 in bugs-fuzz.md). */
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(v, cap * sizeof(*v));
			FUZZ_ASSERT(v, "out of memory");
		}
		memset(&v[n], 0, sizeof(v[n]));
		r = tar_next(in, &v[n].e, &err);
		if (r <= 0)
			break;
		n++;
	}
	FUZZ_ASSERT(r == 0 || err.msg[0], "tar_next failed without a message");

	/* Every entry read once from its start, in input order, then reads
	 * hopping back and forth between entries. */
	for (size_t i = 0; i < n; i++)
		sequential(in, &v[i], &budget, r == 0);
	for (int k = 0; n > 0 && k < READS; k++)
		random_read(in, &v[fuzz_rand(&rng) % n], &rng, buf, r == 0);
	tar_in_close(in);
out:
	for (size_t i = 0; i < n; i++) {
		tar_entry_free(&v[i].e);
		free(v[i].bytes);
	}
	free(v);
	free(buf);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[3] = { 0x1f, 0x8b, 0x08 };
	size_t skip = size >= 3 && memcmp(data, magic, 3) == 0 ? 3 : 0;
	size_t n = 3 + size - skip;
	unsigned char *p = malloc(n), *fixed = malloc(n);
	uint64_t total;

	FUZZ_ASSERT(p && fixed, "out of memory");
	memcpy(p, magic, 3);
	memcpy(p + 3, data + skip, size - skip);
	memcpy(fixed, p, n);
	int changed = fix_trailers(fixed, n, &total);
	if (total <= GZ_MAX) {
		parse(p, n);
		if (changed)
			parse(fixed, n);
	}
	free(p);
	free(fixed);
	return 0;
}
