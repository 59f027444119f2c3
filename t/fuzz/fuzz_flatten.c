/*
 * fuzz_flatten.c - tarflat's whole path: index -> resolve -> emit, over a
 * two-layer image cut from the fuzz input.
 *
 * Input: two bytes, big-endian, give the length of the first layer (cut to
 * what there is); the rest is the second layer (possibly empty: an empty
 * file is an empty layer). Each layer is a memfd, opened by tarflat by its
 * /proc/self/fd name like any other file.
 *
 * tarflat.c is compiled into this file (its main() left out by
 * TARFLAT_NO_MAIN) so its static functions can be called: flatten(),
 * write_tree(), run_free(), each on a struct run of its own. Checked
 * beyond "no crash, no leak, no hang":
 *  - once flatten() accepted the layers, emit() succeeds (a late error
 *    would leave a cut tar on stdout);
 *  - round trip: tarflat's output, flattened again as a one-layer image,
 *    gives the very same bytes;
 *  - the same tree as newc is written whole, or refused before its first
 *    byte, and is a newc archive.
 * Each input runs as it is and, if that changes it, with the header
 * checksums of its plain layers made right (fuzz_fix_checksums in fuzz.h).
 * With FUZZ_MUST_ACCEPT=1 in the environment an input that flatten()
 * refuses aborts too (t0800 uses it for inputs known to be valid).
 */
#include "../../tarflat.c"

#include "fuzz.h"

/* Skip emitting when the image holds more content than this: a sparse file
 * may claim terabytes of holes, and that is not a bug. */
#define EMIT_MAX (32u << 20)

struct fdnames {
	char names[2][32];
};

/* The options of every run here: one thread, so that a run is the same
 * every time; no operands: the layers are put in by set_layers. */
static const struct opts fuzz_opts = { .jobs = 1 };

/* Sets up R's layers from the fds FD[0..N-1]. */
static void
set_layers(struct run *r, struct fdnames *img, const int *fd, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->o = &fuzz_opts;
	for (size_t i = 0; i < n; i++) {
		snprintf(img->names[i], sizeof(img->names[i]), "/proc/self/fd/%d", fd[i]);
		layers_add(&r->L, layer_new(img->names[i], img->names[i], NULL));
	}
}

static uint64_t
content_bytes(const struct run *r)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < r->L.n; i++)
		for (size_t j = 0; j < r->L.v[i]->nents; j++)
			if (sum < EMIT_MAX)
				sum += r->L.v[i]->ents[j].size;
	return sum;
}

/* The bytes in memfd FD, malloc'd; *LEN their count. */
static unsigned char *
slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);

	FUZZ_ASSERT(end >= 0, "lseek on a memfd failed");
	unsigned char *p = malloc(end ? (size_t)end : 1);
	FUZZ_ASSERT(p && pread(fd, p, (size_t)end, 0) == end, "reading a memfd failed");
	*len = (size_t)end;
	return p;
}

/* Flattens tarflat's own output OUT (LEN bytes in fd OUTFD) again as a
 * one-layer image: it must be accepted and give OUT back. */
static void
round_trip(int outfd, const unsigned char *out, size_t len)
{
	struct fdnames img;
	struct run r;
	int fd2 = memfd_create("fuzz-out2", MFD_CLOEXEC);

	FUZZ_ASSERT(fd2 >= 0, "memfd_create failed");
	set_layers(&r, &img, &outfd, 1);
	if (flatten(&r) < 0) {
		layers_report(&r.L);
		FUZZ_ASSERT(0, "tarflat refuses its own output");
	}
	if (write_tree(&r, fd2, "fuzz output") < 0) {
		layers_report(&r.L);
		FUZZ_ASSERT(0, "emitting tarflat's own output failed");
	}
	size_t len2;
	unsigned char *out2 = slurp(fd2, &len2);
	if (len2 != len || memcmp(out, out2, len) != 0) {
		size_t i = 0;
		while (i < len && i < len2 && out[i] == out2[i])
			i++;
		FUZZ_ASSERT(0, "round trip: %zu bytes flatten to %zu bytes, first difference at %zu",
			    len, len2, i);
	}
	free(out2);
	run_free(&r);
	close(fd2);
}

/*
 * The same tree written again as newc: it is written whole, or refused
 * before its first byte (a value newc cannot hold), and is then a newc
 * archive: 070701 first, TRAILER!!! last.
 */
static void
newc_too(struct run *r)
{
	static const struct opts newc_opts = { .jobs = 1, .format = FORMAT_NEWC };
	static const char trailer[] = "TRAILER!!!";
	int fd = memfd_create("fuzz-newc", MFD_CLOEXEC);
	size_t len;

	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	r->o = &newc_opts;
	int rc = write_tree(r, fd, "fuzz newc");
	r->o = &fuzz_opts;
	unsigned char *p = slurp(fd, &len);
	if (rc < 0)
		FUZZ_ASSERT(len == 0 && strstr(r->L.err.msg, "newc cannot hold"),
			    "newc failed after writing %zu bytes: %s", len, r->L.err.msg);
	else
		FUZZ_ASSERT(len >= 124 && memcmp(p, "070701", 6) == 0 && len % 4 == 0 &&
			    memmem(p + len - 16, 16, trailer, sizeof(trailer)),
			    "newc output of %zu bytes is no newc archive", len);
	memset(&r->L.err, 0, sizeof(r->L.err));
	free(p);
	close(fd);
}

static int
must_accept(void)
{
	const char *s = getenv("FUZZ_MUST_ACCEPT");

	return s && *s && strcmp(s, "0") != 0;
}

/* Runs the image of layers L1 (N1 bytes) and L2 (N2 bytes). */
static void
run_image(const uint8_t *l1, size_t n1, const uint8_t *l2, size_t n2)
{
	int fd[2] = {
		fuzz_memfd(l1, n1, NULL, 0),
		fuzz_memfd(l2, n2, NULL, 0),
	};
	struct fdnames img;
	struct run r;
	int outfd = -1;

	set_layers(&r, &img, fd, 2);
	if (flatten(&r) < 0 || content_bytes(&r) >= EMIT_MAX) {
		/* t0800 sets FUZZ_MUST_ACCEPT for seeds it knows are valid, so
		 * that the round trip cannot be skipped without notice. */
		if (must_accept()) {
			layers_report(&r.L);
			FUZZ_ASSERT(0, "input refused (or more than EMIT_MAX of content)");
		}
		run_free(&r);
		goto out;
	}
	outfd = memfd_create("fuzz-out", MFD_CLOEXEC);
	FUZZ_ASSERT(outfd >= 0, "memfd_create failed");
	if (write_tree(&r, outfd, "fuzz output") < 0) {
		layers_report(&r.L);
		FUZZ_ASSERT(0, "emit failed after flatten succeeded");
	}
	newc_too(&r);
	run_free(&r);

	size_t len;
	unsigned char *out = slurp(outfd, &len);
	round_trip(outfd, out, len);
	free(out);
out:
	if (outfd >= 0)
		close(outfd);
	close(fd[0]);
	close(fd[1]);
}

/* Plain tar layers get their header checksums made right (fuzz.h). */
static int
fix_layer(unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return 0;
	return fuzz_fix_checksums(p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The CLI half of tarflat.c is not used here; this keeps
	 * -Wunused-function quiet without touching tarflat.c. */
	(void)run;
	(void)default_jobs;

	if (size < 2)
		return 0;
	size_t n1 = (size_t)data[0] << 8 | data[1];
	if (n1 > size - 2)
		n1 = size - 2;
	size_t n2 = size - 2 - n1;
	run_image(data + 2, n1, data + 2 + n1, n2);
	if (must_accept())
		return 0;       /* a known-valid input needs no repair */

	unsigned char *fixed = malloc(size - 2 + 1);
	FUZZ_ASSERT(fixed, "out of memory");
	memcpy(fixed, data + 2, size - 2);
	int a = fix_layer(fixed, n1), b = fix_layer(fixed + n1, n2);
	if (a || b)
		run_image(fixed, n1, fixed + n1, n2);
	free(fixed);
	return 0;
}
