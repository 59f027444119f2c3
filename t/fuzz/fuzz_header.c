/*
 * fuzz_header.c - the tar header and pax parser (tar.c), on plain tar input.
 *
 * The input is a layer as it would be on disk: tar_in_open on a memfd, then
 * tar_next until the end or an error, reading each entry's content as it
 * comes and again, in reverse order, once indexing stopped. Checked beyond
 * "no crash, no leak":
 *  - every entry keeps tar.h's promises: strings set, a sparse map in order
 *    and inside the file, stored bytes inside the input;
 *  - after a clean end of archive every content read succeeds (tarflat
 *    writes output while it reads, so a late read error would leave a cut
 *    tar on stdout);
 *  - the same bytes come back whatever the order and size of the reads.
 * Each input runs as it is and, if that changes it, with its header
 * checksums made right (fuzz_fix_checksums in fuzz.h).
 */
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tar.h"

#define READ_ALL (256 * 1024)   /* read smaller entries whole */
#define PIECE 4096              /* head and tail compared on the second pass */

struct seen {
	struct tar_entry e;
	uint64_t head, tail;    /* FNV-1a of the first and last PIECE bytes */
	int have;               /* both pieces read on the first pass */
};

static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

static void
check_entry(const struct tar_entry *e, uint64_t input_size, int gzip, int clean)
{
	FUZZ_ASSERT(e->name && e->linkname && e->uname && e->gname,
		    "entry at %llu: a string is NULL", (unsigned long long)e->hdr_off);
	FUZZ_ASSERT(e->data_off >= e->hdr_off + TAR_BLOCK && e->data_off % TAR_BLOCK == 0,
		    "entry at %llu: data_off %llu", (unsigned long long)e->hdr_off,
		    (unsigned long long)e->data_off);
	FUZZ_ASSERT((e->pax == NULL) == (e->paxlen == 0), "pax and paxlen disagree");
	/* Only once the archive ended cleanly: a member cut short may be
	 * returned and the error given by the next tar_next. */
	if (clean && !gzip)
		FUZZ_ASSERT(e->data_len <= input_size && e->data_off <= input_size - e->data_len,
			    "entry at %llu: content (%llu bytes at %llu) past the input's end (%llu)",
			    (unsigned long long)e->hdr_off, (unsigned long long)e->data_len,
			    (unsigned long long)e->data_off, (unsigned long long)input_size);
	if (!e->sparse) {
		FUZZ_ASSERT(e->nsparse == 0 && e->data_len == e->size,
			    "entry at %llu: not sparse but size %llu != data_len %llu",
			    (unsigned long long)e->hdr_off, (unsigned long long)e->size,
			    (unsigned long long)e->data_len);
		return;
	}
	uint64_t end = 0, sum = 0;
	for (size_t i = 0; i < e->nsparse; i++) {
		const struct tar_span *s = &e->sparse[i];
		FUZZ_ASSERT(s->off >= end && s->len <= e->size && s->off <= e->size - s->len,
			    "entry at %llu: sparse region %zu out of order or outside the file",
			    (unsigned long long)e->hdr_off, i);
		end = s->off + s->len;
		sum += s->len;
	}
	FUZZ_ASSERT(sum <= e->data_len, "entry at %llu: sparse map wants more than stored",
		    (unsigned long long)e->hdr_off);
}

/* Reads [POS, POS+LEN) of E; asserts success when MUST. 0 or -1. */
static int
read_at(struct tar_in *in, const struct tar_entry *e, uint64_t pos, unsigned char *buf,
	size_t len, int must)
{
	struct tar_err err = { 0, "" };
	int r = tar_read_content(in, e, pos, buf, len, &err);

	FUZZ_ASSERT(r == 0 || !must, "entry at %llu: reading %zu bytes at %llu after a clean index: %s",
		    (unsigned long long)e->hdr_off, len, (unsigned long long)pos, err.msg);
	return r;
}

/*
 * First pass over E, right after tar_next returned it. A small entry is
 * read whole, then again in random-sized chunks that must give the same
 * bytes; a big one only at its head, middle and tail.
 */
static void
first_read(struct tar_in *in, struct seen *s, unsigned char *buf, unsigned char *buf2,
	   uint64_t *rng)
{
	const struct tar_entry *e = &s->e;
	size_t piece = e->size < PIECE ? (size_t)e->size : PIECE;

	if (e->size <= READ_ALL) {
		size_t n = (size_t)e->size;
		if (read_at(in, e, 0, buf, n, 0) < 0)
			return;
		for (size_t pos = 0; pos < n;) {
			size_t k = 1 + fuzz_rand(rng) % 8192;
			if (k > n - pos)
				k = n - pos;
			if (read_at(in, e, pos, buf2 + pos, k, 0) < 0)
				return;
			pos += k;
		}
		FUZZ_ASSERT(memcmp(buf, buf2, n) == 0,
			    "entry at %llu: chunked reads differ from one whole read",
			    (unsigned long long)e->hdr_off);
		s->head = fnv(buf, piece);
		s->tail = fnv(buf + n - piece, piece);
		s->have = 1;
		return;
	}
	if (read_at(in, e, 0, buf, piece, 0) < 0)
		return;
	s->head = fnv(buf, piece);
	uint64_t mid = fuzz_rand(rng) % (e->size - PIECE);
	if (read_at(in, e, mid, buf, PIECE, 0) < 0 ||
	    read_at(in, e, e->size - piece, buf, piece, 0) < 0)
		return;
	s->tail = fnv(buf, piece);
	s->have = 1;
}

static void
parse(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd(data, size, NULL, 0);
	struct tar_err err = { 0, "" };
	struct tar_in *in = tar_in_open(fd, NULL, NULL, &err);
	struct seen *v = NULL;
	size_t n = 0, cap = 0;
	unsigned char *buf = malloc(READ_ALL), *buf2 = malloc(READ_ALL);
	uint64_t rng = fuzz_seed(data, size);
	int r = -1;

	FUZZ_ASSERT(buf && buf2, "out of memory");
	if (!in) {
		FUZZ_ASSERT(err.msg[0], "tar_in_open failed without a message");
		goto out;
	}
	int gzip = tar_in_is_gzip(in);
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
		check_entry(&v[n].e, size, gzip, 0);
		first_read(in, &v[n], buf, buf2, &rng);
		n++;
	}
	FUZZ_ASSERT(r == 0 || err.msg[0], "tar_next failed without a message");
	/* The reader stays failed, or stays at the end. */
	struct tar_entry again;
	FUZZ_ASSERT(tar_next(in, &again, &err) == r, "tar_next changed its mind");
	tar_entry_free(&again);
	FUZZ_ASSERT(tar_in_unchanged(in), "a memfd nobody wrote changed");

	for (size_t i = 0; r == 0 && i < n; i++)
		check_entry(&v[i].e, size, gzip, 1);

	/* Second pass, last entry first: a gzip layer restarts its cursor. */
	for (size_t i = n; i-- > 0;) {
		const struct tar_entry *e = &v[i].e;
		size_t piece = e->size < PIECE ? (size_t)e->size : PIECE;
		if (read_at(in, e, e->size - piece, buf, piece, r == 0) < 0)
			continue;
		uint64_t tail = fnv(buf, piece);
		if (read_at(in, e, 0, buf, piece, r == 0) < 0)
			continue;
		if (v[i].have)
			FUZZ_ASSERT(tail == v[i].tail && fnv(buf, piece) == v[i].head,
				    "entry at %llu: content differs between two reads",
				    (unsigned long long)e->hdr_off);
	}
	/* Reading past the end is refused, not served. */
	if (n > 0)
		FUZZ_ASSERT(tar_read_content(in, &v[0].e, v[0].e.size, buf, 1, &err) < 0,
			    "read past the end of an entry succeeded");
	tar_in_close(in);
out:
	for (size_t i = 0; i < n; i++)
		tar_entry_free(&v[i].e);
	free(v);
	free(buf);
	free(buf2);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed = malloc(size ? size : 1);

	FUZZ_ASSERT(fixed, "out of memory");
	parse(data, size);
	memcpy(fixed, data, size);
	if (fuzz_fix_checksums(fixed, size))
		parse(fixed, size);
	free(fixed);
	return 0;
}
