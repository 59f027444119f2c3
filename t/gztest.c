/*
 * gztest - test helper, not part of tarflat: tar cursors from several
 * threads at once, and the access points behind them.
 *
 *   gztest [-j THREADS] [-m shuffle|reverse|spans] [-s SEED] FILE
 *   gztest -r FILE
 *
 * The first form indexes FILE (plain or gzip tar), then reads the content
 * of every regular entry through tar cursors from THREADS threads (default
 * 4) at once, and prints one line per regular entry in input order: the
 * SHA-256 of its content, two spaces, its name. How the threads read:
 *   shuffle  every thread reads every entry, each thread in its own random
 *            order, front to back in random-sized pieces;
 *   reverse  every thread reads every entry, last entry first, each from
 *            its end back to its start in random-sized pieces;
 *   spans    the entries are cut where access points lie
 *            (tar_in_span_start/end), and the threads share out the
 *            pieces in a random order; each entry is hashed at the end.
 * In the first two, the threads must agree on every digest. On stderr:
 * "gztest: N entries, S spans", S counted through tar_in_span_end.
 *
 * -r checks the restart rule on one cursor, measuring with
 * tar_cursor_inflated: reads behind the cursor, or more than a span ahead
 * of it, must inflate from the access point at or before the bytes read,
 * not from the start of the layer nor all the way; a read a little ahead
 * must inflate on without a restart. Prints what it measured and
 * "restart ok".
 *
 * Errors: "gztest: FILE: offset N: msg" (or what failed), exit 1.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sha2.h"
#include "../tar.h"

#define PIECE_MAX 300000        /* largest random read */
#define BACK_MAX (2u << 20)     /* largest read backwards: each restarts */
#define ZOUT_SLACK (256u << 10) /* a cursor inflates in 256 KiB steps */

enum mode { SHUFFLE, REVERSE, SPANS };

static const char *file;

static void die(const char *what)
{
	fprintf(stderr, "gztest: %s: %s\n", file, what);
	exit(1);
}

static void die_err(const struct tar_err *err)
{
	fprintf(stderr, "gztest: %s: offset %llu: %s\n", file,
		(unsigned long long)err->off, err->msg);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* xorshift64: each thread has its own state */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void shuffle(size_t *v, size_t n, uint64_t *s)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rng(s) % i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* A random length up to MAX, and now and then a short one. */
static size_t piece_len(uint64_t *s, uint64_t left, uint64_t max)
{
	uint64_t r = rng(s);
	uint64_t n = r % 8 == 0 ? 1 + (r >> 8) % 512 : 1 + (r >> 8) % max;

	return (size_t)(n < left ? n : left);
}

/* The layer: its reader and its regular entries. */
static struct tar_in *in;
static struct tar_entry *ents;
static size_t nents;

static void index_layer(int fd)
{
	struct tar_err err;
	struct tar_entry e;
	size_t cap = 0;
	int r;

	in = tar_in_open(fd, NULL, NULL, &err);
	if (!in)
		die_err(&err);
	while ((r = tar_next(in, &e, &err)) > 0) {
		if (e.type != '0' && e.type != '7') {
			tar_entry_free(&e);
			continue;
		}
		if (nents == cap) {
			cap = cap ? 2 * cap : 64;
			ents = realloc(ents, cap * sizeof *ents);
			if (!ents)
				die("out of memory");
		}
		ents[nents++] = e;
	}
	if (r < 0)
		die_err(&err);
}

/* Counts the spans and checks that start and end agree with each other. */
static size_t count_spans(void)
{
	uint64_t start = 0, end;
	size_t n = 1;

	if (tar_in_span_start(in, 0) != 0)
		die("the first span does not start at 0");
	while ((end = tar_in_span_end(in, start)) != UINT64_MAX) {
		if (end <= start || tar_in_span_start(in, end) != end ||
		    tar_in_span_start(in, end - 1) != start ||
		    tar_in_span_end(in, end - 1) != end)
			die("span start and end disagree");
		start = end;
		n++;
	}
	return n;
}

struct worker {
	pthread_t tid;
	int k;
	enum mode mode;
	uint64_t seed;
	unsigned char (*digest)[SHA256_DIGEST_SIZE];   /* per entry */
	uint64_t inflated;
};

/* spans mode: the pieces, shared out through NEXT_PIECE */
struct piece {
	size_t ent;
	uint64_t pos, len;
};
static struct piece *pieces;
static size_t npieces;
static atomic_size_t next_piece;
static unsigned char **contents;        /* per entry, written by pieces */

static void read_or_die(struct tar_cursor *c, const struct tar_entry *e, uint64_t pos,
			void *buf, size_t len)
{
	struct tar_err err;

	if (tar_cursor_read(c, e, pos, buf, len, &err) < 0)
		die_err(&err);
}

static void read_forward(struct worker *w, struct tar_cursor *c, size_t i,
			 unsigned char *buf, uint64_t *s)
{
	const struct tar_entry *e = &ents[i];
	struct sha256 h;

	sha256_init(&h);
	for (uint64_t pos = 0; pos < e->size;) {
		size_t n = piece_len(s, e->size - pos, PIECE_MAX);
		read_or_die(c, e, pos, buf, n);
		sha256_update(&h, buf, n);
		pos += n;
	}
	sha256_final(&h, w->digest[i]);
}

static void read_backward(struct worker *w, struct tar_cursor *c, size_t i,
			  uint64_t *s)
{
	const struct tar_entry *e = &ents[i];
	unsigned char *all = xmalloc((size_t)e->size);
	struct sha256 h;

	for (uint64_t end = e->size; end > 0;) {
		size_t n = piece_len(s, end, BACK_MAX);
		read_or_die(c, e, end - n, all + (end - n), n);
		end -= n;
	}
	sha256_init(&h);
	sha256_update(&h, all, (size_t)e->size);
	sha256_final(&h, w->digest[i]);
	free(all);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct tar_cursor *c = tar_cursor_new(in);
	unsigned char *buf = xmalloc(PIECE_MAX);
	size_t *order = xmalloc(nents * sizeof *order);
	uint64_t s = w->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)w->k + 1;

	if (!c)
		die("out of memory");
	for (size_t i = 0; i < nents; i++)
		order[i] = w->mode == REVERSE ? nents - 1 - i : i;
	if (w->mode == SHUFFLE)
		shuffle(order, nents, &s);
	if (w->mode == SPANS) {
		size_t k;
		while ((k = atomic_fetch_add(&next_piece, 1)) < npieces) {
			const struct piece *p = &pieces[k];
			read_or_die(c, &ents[p->ent], p->pos, contents[p->ent] + p->pos,
				    (size_t)p->len);
		}
	} else {
		for (size_t i = 0; i < nents; i++) {
			if (w->mode == REVERSE)
				read_backward(w, c, order[i], &s);
			else
				read_forward(w, c, order[i], buf, &s);
		}
	}
	w->inflated = tar_cursor_inflated(c);
	tar_cursor_free(c);
	free(order);
	free(buf);
	return NULL;
}

static void add_piece(size_t *cap, size_t ent, uint64_t pos, uint64_t len)
{
	if (npieces == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		pieces = realloc(pieces, *cap * sizeof *pieces);
		if (!pieces)
			die("out of memory");
	}
	pieces[npieces++] = (struct piece){ ent, pos, len };
}

/*
 * Cuts every entry where an access point lies in its stored bytes; a
 * sparse entry, whose stored bytes do not map straight onto its content,
 * into 1 MiB pieces. Then shuffles the pieces.
 */
static void make_pieces(uint64_t seed)
{
	size_t cap = 0;
	uint64_t s = seed + 77;

	contents = xmalloc(nents * sizeof *contents);
	for (size_t i = 0; i < nents; i++) {
		const struct tar_entry *e = &ents[i];
		contents[i] = xmalloc((size_t)e->size);
		for (uint64_t pos = 0; pos < e->size;) {
			uint64_t end = e->size;
			if (e->sparse) {
				end = pos + (1u << 20);
			} else {
				uint64_t ap = tar_in_span_end(in, e->data_off + pos);
				if (ap != UINT64_MAX)
					end = ap - e->data_off;
			}
			if (end > e->size)
				end = e->size;
			add_piece(&cap, i, pos, end - pos);
			pos = end;
		}
	}
	size_t *order = xmalloc(npieces * sizeof *order);
	struct piece *v = xmalloc(npieces * sizeof *v);
	for (size_t i = 0; i < npieces; i++)
		order[i] = i;
	shuffle(order, npieces, &s);
	for (size_t i = 0; i < npieces; i++)
		v[i] = pieces[order[i]];
	free(pieces);
	free(order);
	pieces = v;
}

static void print_digests(unsigned char (*digest)[SHA256_DIGEST_SIZE])
{
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	for (size_t i = 0; i < nents; i++)
		printf("%s  %s\n", sha2_hex(hex, digest[i], SHA256_DIGEST_SIZE), ents[i].name);
}

static int run_threads(int nthreads, enum mode mode, uint64_t seed)
{
	struct worker *w = xmalloc((size_t)nthreads * sizeof *w);
	uint64_t inflated = 0;

	if (mode == SPANS)
		make_pieces(seed);
	for (int k = 0; k < nthreads; k++) {
		w[k] = (struct worker){ .k = k, .mode = mode, .seed = seed };
		w[k].digest = xmalloc((nents ? nents : 1) * sizeof *w[k].digest);
		if (pthread_create(&w[k].tid, NULL, work, &w[k]) != 0)
			die("cannot create a thread");
	}
	for (int k = 0; k < nthreads; k++) {
		pthread_join(w[k].tid, NULL);
		inflated += w[k].inflated;
	}
	if (mode == SPANS) {
		for (size_t i = 0; i < nents; i++) {
			struct sha256 h;
			sha256_init(&h);
			sha256_update(&h, contents[i], (size_t)ents[i].size);
			sha256_final(&h, w[0].digest[i]);
			free(contents[i]);
		}
		free(contents);
		free(pieces);
	}
	for (int k = 1; k < nthreads && mode != SPANS; k++)
		for (size_t i = 0; i < nents; i++)
			if (memcmp(w[k].digest[i], w[0].digest[i], SHA256_DIGEST_SIZE)) {
				fprintf(stderr, "gztest: %s: %s: threads 0 and %d disagree\n",
					file, ents[i].name, k);
				exit(1);
			}
	print_digests(w[0].digest);
	fprintf(stderr, "gztest: %d threads inflated %llu bytes\n", nthreads,
		(unsigned long long)inflated);
	for (int k = 0; k < nthreads; k++)
		free(w[k].digest);
	free(w);
	return 0;
}

/* The entry whose stored bytes hold OFF, or NULL. */
static const struct tar_entry *entry_at(uint64_t off)
{
	for (size_t i = 0; i < nents; i++)
		if (!ents[i].sparse && off >= ents[i].data_off &&
		    off - ents[i].data_off < ents[i].size)
			return &ents[i];
	return NULL;
}

/*
 * Reads 4096 bytes at stored offset OFF through C and checks what the
 * cursor inflated for it: less than OFF (not from the start of the layer)
 * and no more than MAX, or, when MAX is 0, than from the access point at
 * or before OFF.
 */
static void read_measured(struct tar_cursor *c, uint64_t off, uint64_t max,
			  const char *what)
{
	static unsigned char buf[4096];
	const struct tar_entry *e = entry_at(off);
	uint64_t before = tar_cursor_inflated(c), start = tar_in_span_start(in, off);

	if (!e || off + sizeof buf > e->data_off + e->size)
		die("no entry holds the bytes to read");
	read_or_die(c, e, off - e->data_off, buf, sizeof buf);
	uint64_t cost = tar_cursor_inflated(c) - before;
	printf("%s: read at %llu, span from %llu, inflated %llu\n", what,
	       (unsigned long long)off, (unsigned long long)start,
	       (unsigned long long)cost);
	if (!max)
		max = off - start + sizeof buf + ZOUT_SLACK;
	if (cost > max || cost >= off) {
		fprintf(stderr, "gztest: %s: %s: inflated %llu bytes to read at %llu\n",
			file, what, (unsigned long long)cost, (unsigned long long)off);
		exit(1);
	}
}

/*
 * Where a read 1 MiB into span I would be, if one entry holds 1 MiB and
 * 4096 bytes from there within the span; else 0.
 */
static uint64_t probe(const uint64_t *starts, size_t n, size_t i)
{
	uint64_t t = starts[i] + (1u << 20), want = t + (1u << 20) + 4096;
	const struct tar_entry *e = entry_at(t);

	if (!e || want > e->data_off + e->size || (i + 1 < n && want > starts[i + 1]))
		return 0;
	return t;
}

/*
 * A read late in the layer, then one at least two spans behind it, then
 * one a little behind that in the same span: each must restart from its
 * own access point, and none from the start of the layer. Then a read a
 * little ahead in the same span must go on without a restart (which would
 * cost 1.5 MiB), and one two spans ahead must restart rather than inflate
 * its way there. The layer needs enough spans that begin 1 MiB and more
 * before the end of a plain entry.
 */
static int check_restart(void)
{
	uint64_t starts[4096];
	size_t n = 0, last = 0, back = 0;
	uint64_t s = 0, end;

	starts[n++] = 0;
	while ((end = tar_in_span_end(in, s)) != UINT64_MAX && n < 4096)
		starts[n++] = s = end;
	for (size_t i = 1; i < n; i++)
		if (probe(starts, n, i))
			last = i;
	for (size_t i = 1; i + 1 < last && !back; i++)
		if (probe(starts, n, i))
			back = i;
	if (!back)
		die("no two spans far enough apart to read in");
	struct tar_cursor *c = tar_cursor_new(in);
	if (!c)
		die("out of memory");
	uint64_t late = probe(starts, n, last), early = probe(starts, n, back);
	read_measured(c, late + (1u << 20), 0, "late in the layer");
	read_measured(c, early + (1u << 20), 0, "two spans back or more");
	read_measured(c, early, 0, "back in the same span");
	read_measured(c, early + (512u << 10), (512u << 10) + 4096 + ZOUT_SLACK,
		      "a little ahead, no restart");
	read_measured(c, late, 0, "two spans ahead or more");
	tar_cursor_free(c);
	printf("restart ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	enum mode mode = SHUFFLE;
	int nthreads = 4, restart = 0, pack = 0, c;
	uint64_t seed = 1;

	while ((c = getopt(argc, argv, "j:m:s:rp")) != -1) {
		switch (c) {
		case 'j': nthreads = atoi(optarg); break;
		case 'm':
			mode = !strcmp(optarg, "reverse") ? REVERSE :
			       !strcmp(optarg, "spans") ? SPANS : SHUFFLE;
			break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'r': restart = 1; break;
		case 'p': pack = 1; break;
		default:
			fprintf(stderr, "usage: gztest [-p] [-j THREADS] [-m shuffle|reverse|spans] "
				"[-s SEED] FILE\n       gztest [-p] -r FILE\n");
			return 2;
		}
	}
	if (optind + 1 != argc || nthreads < 1)
		return 2;
	file = argv[optind];
	int fd = open(file, O_RDONLY);
	if (fd < 0) {
		perror(file);
		return 1;
	}
	index_layer(fd);
	if (pack && tar_in_pack(in) < 0) {
		fprintf(stderr, "gztest: tar_in_pack failed\n");
		return 1;
	}
	size_t nspans = count_spans();
	fprintf(stderr, "gztest: %zu entries, %zu spans\n", nents, nspans);
	int r = restart ? check_restart() : run_threads(nthreads, mode, seed);
	for (size_t i = 0; i < nents; i++)
		tar_entry_free(&ents[i]);
	free(ents);
	tar_in_close(in);
	close(fd);
	return r || fflush(stdout) != 0;
}
