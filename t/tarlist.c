/*
 * tarlist - test helper, not part of tarflat: lists what tar.c reads.
 *
 *   tarlist [-n] [-c CHUNK] [-m MAX] [-R N -C REF] FILE...
 *
 * One tab-separated line per entry: name, type, mode (octal), uid, gid,
 * mtime, size, linkname, hdr_off, nsparse, pax records (escaped), and a
 * 64-bit FNV-1a hash of the content read with tar_read_content in CHUNK
 * byte pieces (default 65536). -n skips content; entries larger than MAX
 * bytes (default 1 GiB) print "hash=skipped". With -R N -C REF, after
 * listing FILE (only one), N pseudo-random (pos, len) reads of random
 * entries are compared with the same reads from REF, which must list the
 * same entries (e.g. REF is FILE gunzipped). Errors: "tarlist: FILE:
 * offset N: msg", exit 1.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tar.h"

static size_t chunk = 65536;
static uint64_t max_hash = (uint64_t)1 << 30;
static int no_content;

static void warn_cb(void *ctx, uint64_t off, const char *msg)
{
	fprintf(stderr, "tarlist: %s: offset %llu: warning: %s\n", (const char *)ctx,
		(unsigned long long)off, msg);
}

static void die_err(const char *file, const struct tar_err *err)
{
	fprintf(stderr, "tarlist: %s: offset %llu: %s\n", file,
		(unsigned long long)err->off, err->msg);
	exit(1);
}

static void put_escaped(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void print_entry(const struct tar_entry *e)
{
	fputs("name=", stdout);
	put_escaped(e->name, strlen(e->name));
	printf("\ttype=");
	put_escaped(&e->type, 1);
	printf("\tmode=%o\tuid=%llu\tgid=%llu\tmtime=%lld\tsize=%llu\tlink=", e->mode,
	       (unsigned long long)e->uid, (unsigned long long)e->gid,
	       (long long)e->mtime, (unsigned long long)e->size);
	put_escaped(e->linkname, strlen(e->linkname));
	printf("\tuname=");
	put_escaped(e->uname, strlen(e->uname));
	printf("\tgname=");
	put_escaped(e->gname, strlen(e->gname));
	if (e->type == '3' || e->type == '4')
		printf("\tdev=%u,%u", e->devmajor, e->devminor);
	printf("\thdr=%llu\tnsparse=%zu", (unsigned long long)e->hdr_off, e->nsparse);
	if (e->sparse) {
		printf("\tmap=");
		for (size_t i = 0; i < e->nsparse && i < 8; i++)
			printf("%s%llu+%llu", i ? "," : "",
			       (unsigned long long)e->sparse[i].off,
			       (unsigned long long)e->sparse[i].len);
		if (e->nsparse > 8)
			printf(",...");
	}
	printf("\tpax=");
	if (e->pax)
		put_escaped(e->pax, e->paxlen);
}

static void hash_content(struct tar_in *in, const struct tar_entry *e,
			 unsigned char *buf, const char *file)
{
	struct tar_err err;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (e->size > max_hash) {
		printf("\thash=skipped");
		return;
	}
	for (uint64_t pos = 0; pos < e->size;) {
		size_t n = e->size - pos < chunk ? (size_t)(e->size - pos) : chunk;
		if (tar_read_content(in, e, pos, buf, n, &err) < 0)
			die_err(file, &err);
		h = fnv1a(h, buf, n);
		pos += n;
	}
	printf("\thash=%016llx", (unsigned long long)h);
}

struct layer {
	const char *file;
	int fd;
	struct tar_in *in;
	struct tar_entry *e;
	size_t n, cap;
};

static void open_layer(struct layer *l, const char *file)
{
	struct tar_err err;

	memset(l, 0, sizeof *l);
	l->file = file;
	l->fd = open(file, O_RDONLY);
	if (l->fd < 0) {
		perror(file);
		exit(1);
	}
	l->in = tar_in_open(l->fd, warn_cb, (void *)file, &err);
	if (!l->in)
		die_err(file, &err);
}

/* Lists (and hashes) every entry; keeps them when KEEP. */
static void list_layer(struct layer *l, int keep, int print, unsigned char *buf)
{
	struct tar_err err;
	struct tar_entry e;
	int r;

	while ((r = tar_next(l->in, &e, &err)) > 0) {
		if (print) {
			print_entry(&e);
			if (!no_content)
				hash_content(l->in, &e, buf, l->file);
			putchar('\n');
		}
		if (!keep) {
			tar_entry_free(&e);
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 64;
			l->e = realloc(l->e, l->cap * sizeof *l->e);
			if (!l->e)
				exit(1);
		}
		l->e[l->n++] = e;
	}
	if (r < 0)
		die_err(l->file, &err);
}

static void close_layer(struct layer *l)
{
	for (size_t i = 0; i < l->n; i++)
		tar_entry_free(&l->e[i]);
	free(l->e);
	tar_in_close(l->in);
	close(l->fd);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* N random reads of FILE compared with the same reads of REF. */
static int random_reads(const char *file, const char *ref, long nreads)
{
	struct layer a, b;
	struct tar_err err;
	size_t cap = 4u << 20;
	unsigned char *x = malloc(cap), *y = malloc(cap);
	long bad = 0;

	open_layer(&a, file);
	open_layer(&b, ref);
	list_layer(&a, 1, 0, x);
	list_layer(&b, 1, 0, y);
	if (a.n != b.n) {
		fprintf(stderr, "tarlist: %s has %zu entries, %s has %zu\n", file, a.n,
			ref, b.n);
		return 1;
	}
	for (long i = 0; i < nreads; i++) {
		size_t k = (size_t)(rng() % a.n);
		for (size_t tries = 0; tries < a.n && a.e[k].size == 0; tries++)
			k = (k + 1) % a.n;
		const struct tar_entry *ea = &a.e[k], *eb = &b.e[k];
		if (ea->size == 0)
			break;
		if (ea->size != eb->size || strcmp(ea->name, eb->name)) {
			fprintf(stderr, "tarlist: entry %zu differs\n", k);
			return 1;
		}
		uint64_t pos = rng() % ea->size;
		uint64_t max = ea->size - pos < cap ? ea->size - pos : cap;
		size_t len = (size_t)(rng() % (max + 1));
		if (rng() % 4 == 0 && len > 4096)
			len = (size_t)(rng() % 4096);
		if (tar_read_content(a.in, ea, pos, x, len, &err) < 0)
			die_err(file, &err);
		if (tar_read_content(b.in, eb, pos, y, len, &err) < 0)
			die_err(ref, &err);
		if (memcmp(x, y, len) != 0) {
			fprintf(stderr, "tarlist: MISMATCH %s pos %llu len %zu\n", ea->name,
				(unsigned long long)pos, len);
			bad++;
		}
	}
	printf("random reads: %ld, mismatches: %ld\n", nreads, bad);
	close_layer(&a);
	close_layer(&b);
	free(x);
	free(y);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *ref = NULL;
	long nreads = 0;
	unsigned char *buf;
	int c;

	while ((c = getopt(argc, argv, "nc:m:R:C:")) != -1) {
		switch (c) {
		case 'n': no_content = 1; break;
		case 'c': chunk = strtoul(optarg, NULL, 0); break;
		case 'm': max_hash = strtoull(optarg, NULL, 0); break;
		case 'R': nreads = strtol(optarg, NULL, 0); break;
		case 'C': ref = optarg; break;
		default:
			fprintf(stderr, "usage: tarlist [-n] [-c CHUNK] [-m MAX] "
				"[-R N -C REF] FILE...\n");
			return 2;
		}
	}
	if (optind >= argc || chunk == 0)
		return 2;
	if (ref)
		return random_reads(argv[optind], ref, nreads);
	buf = malloc(chunk);
	if (!buf)
		return 1;
	for (int i = optind; i < argc; i++) {
		struct layer l;
		if (argc - optind > 1)
			printf("## %s\n", argv[i]);
		open_layer(&l, argv[i]);
		list_layer(&l, 0, 1, buf);
		close_layer(&l);
	}
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}
