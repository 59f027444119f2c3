/*
 * fuzz_image.c - reading image metadata (image.c over json.c): an OCI
 * archive's and an OCI layout directory's oci-layout, index.json, nested
 * indexes, manifests and configs; a docker save archive's manifest.json
 * and config; a dir: layout's manifest.json (an image manifest, or an
 * index over HEX.manifest.json files) and blobs.
 *
 * A random blob would never match the digest its descriptor names, so the
 * input is a list of parts split at lines "--": part 0 is index.json (or,
 * when it starts with '[', docker save's manifest.json; or, when the input
 * starts with "dir:", a dir: layout's manifest.json), part I > 0 is a blob
 * named by its own SHA-256. In every part "@I" becomes part I's digest
 * ("sha256:HEX"), "$I" its name ("blobs/sha256/HEX", or HEX in a dir:
 * layout) and "#I" its size; parts are finished from the last to the
 * first, so a part can name those after it and the digests still hold. A
 * part "->TARGET" is a symlink to TARGET (a symlink member in an archive, a
 * symlink file in a directory).
 *
 * The archive forms are read from a memfd (image_open_archive), the
 * directory forms from files written under a temporary directory ($TMPDIR,
 * else /dev/shm, else /tmp) that also
 * holds a file outside the layout, "secret", 987654321 bytes (sparse).
 * Inputs whose length is odd are read with TARFLAT_TEST_NO_OPENAT2 set:
 * the walk for kernels without openat2.
 *
 * Checked beyond "no crash, no leak": every call returns 1, 0 or -1 with a
 * message exactly when it says it failed; an image found has layers that
 * lie inside the archive, each with a digest or a diff_id that is well
 * formed; a directory's layers are open regular files of the size said,
 * inside the layout, never the secret; no message tells the secret's size
 * (unless the input holds its digits).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "image.h"
#include "sha2.h"

#define MAX_PARTS 16
#define MAX_PART (64 * 1024)
#define SECRET_SIZE 987654321
#define SECRET_SAYS "987654321 bytes"

struct part {
	char *p;
	size_t len;
	char digest[80];
	int link;               /* "->TARGET": P is the target */
};

/* Part I with "@J", "$J" and "#J" (J > I) replaced. */
static void
finish(struct part *v, size_t n, size_t i, const uint8_t *src, size_t len, int dirform)
{
	size_t room = len + 1, o = 0;

	for (size_t k = 0; k + 1 < len; k++)   /* a marker becomes at most 80 bytes */
		if (src[k] == '@' || src[k] == '#' || src[k] == '$')
			room += 80;
	char *out = malloc(room);
	FUZZ_ASSERT(out, "out of memory");
	for (size_t k = 0; k < len; k++) {
		size_t j = k + 1 < len ? (size_t)(src[k + 1] - '0') : 99;
		if ((src[k] == '@' || src[k] == '#' || src[k] == '$') && j < n && j > i) {
			if (src[k] == '@')
				o += (size_t)sprintf(out + o, "%s", v[j].digest);
			else if (src[k] == '$')
				o += (size_t)sprintf(out + o, "%s%s", dirform ? "" : "blobs/sha256/",
						     v[j].digest + 7);
			else
				o += (size_t)sprintf(out + o, "%zu", v[j].len);
			k++;
			continue;
		}
		out[o++] = (char)src[k];
	}
	out[o] = '\0';
	struct sha256 h;
	unsigned char d[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	sha256_init(&h);
	sha256_update(&h, out, o);
	sha256_final(&h, d);
	snprintf(v[i].digest, sizeof(v[i].digest), "sha256:%s", sha2_hex(hex, d, sizeof(d)));
	/* a link's target is what follows "->", up to a NUL (it is a path) */
	v[i].link = o >= 2 && out[0] == '-' && out[1] == '>';
	if (v[i].link) {
		memmove(out, out + 2, o - 2);
		o -= 2;
		out[o] = '\0';
		o = strlen(out);
	}
	v[i].p = out;
	v[i].len = o;
}

/* ---- the archive forms ------------------------------------------------- */

/* The parts as an archive's members M (their bytes in FD): oci-layout,
 * index.json or manifest.json, blobs/sha256/HEX, a symlink member
 * layer.tar. Returns the number of members; *SIZE the bytes in FD. */
static size_t
write_archive(const struct part *v, size_t n, int fd, struct image_member *m,
	      char names[][96], uint64_t *size)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	size_t nm = 0;
	uint64_t off = 0;
	int docker = v[0].len > 0 && v[0].p[0] == '[';

	if (!docker) {
		m[nm++] = (struct image_member){ "oci-layout", '0', "", off, sizeof(layout) - 1 };
		FUZZ_ASSERT(write(fd, layout, sizeof(layout) - 1) == (ssize_t)sizeof(layout) - 1,
			    "write failed");
		off += sizeof(layout) - 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0)
			snprintf(names[i], 96, "%s", docker ? "manifest.json" : "index.json");
		else
			snprintf(names[i], 96, "blobs/sha256/%s", v[i].digest + 7);
		if (v[i].link) {
			m[nm++] = (struct image_member){ names[i], '2', v[i].p, 0, 0 };
			continue;
		}
		m[nm++] = (struct image_member){ names[i], '0', "", off, v[i].len };
		FUZZ_ASSERT(v[i].len == 0 || write(fd, v[i].p, v[i].len) == (ssize_t)v[i].len,
			    "write failed");
		off += v[i].len;
	}
	/* a symlink member, as skopeo writes them */
	m[nm++] = (struct image_member){ "layer.tar", '2', n > 1 ? names[n - 1] : "nowhere", 0, 0 };
	*size = off;
	return nm;
}

static void
check_archive(const struct part *v, size_t n)
{
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	struct image_member m[MAX_PARTS + 2];
	char names[MAX_PARTS][96];
	uint64_t off;

	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	size_t nm = write_archive(v, n, fd, m, names, &off);
	struct image img;
	struct image_sel sel = { NULL, NULL, "linux/amd64" };
	char err[600];
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			sel.ref = "latest";
		err[0] = 'x';
		err[1] = '\0';
		int r = image_open_archive("fuzz", fd, m, nm, &sel, &img, err, sizeof(err));
		FUZZ_ASSERT(r >= -1 && r <= 1, "image_open_archive returned %d", r);
		FUZZ_ASSERT(r != -1 || err[0], "failed without a message");
		FUZZ_ASSERT(r != 0 || !err[0], "not an image, yet a message: %s", err);
		if (r != 1)
			continue;
		for (size_t i = 0; i < img.nlayers; i++) {
			const struct image_layer *l = &img.layers[i];
			FUZZ_ASSERT(l->off <= off && l->len <= off - l->off,
				    "layer %zu lies outside the archive", i);
			FUZZ_ASSERT(l->fd == -1, "an archive's layer %zu has an fd", i);
			struct image_hash h;
			FUZZ_ASSERT(!l->digest || image_hash_init(&h, l->digest) == 0,
				    "malformed layer digest %s", l->digest);
			FUZZ_ASSERT(!l->diff_id || image_hash_init(&h, l->diff_id) == 0,
				    "malformed diff_id %s", l->diff_id);
		}
		FUZZ_ASSERT(img.chosen, "an image with no manifest chosen");
		image_free(&img);
	}
	close(fd);
}

/* ---- the directory forms ----------------------------------------------- */

/* The scratch directory: BASE/secret, BASE/L the layout (made per input). */
static char base[256], top[300];
static struct stat secret;
static char made[3 * MAX_PARTS + 8][400];
static size_t nmade;

static void
scratch_remove(void)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/secret", base);
	unlink(p);
	rmdir(base);
}

static void
scratch_init(void)
{
	char p[300];

	if (base[0])
		return;
	/* TMPDIR, else /dev/shm: a tmpfs makes and removes the files of an
	 * input some ten times faster than a disk */
	const char *t = getenv("TMPDIR");
	if (!t || !*t)
		t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(base, sizeof(base), "%s/fuzz_image.XXXXXX", t);
	FUZZ_ASSERT(mkdtemp(base), "mkdtemp %s: %s", base, strerror(errno));
	snprintf(p, sizeof(p), "%s/secret", base);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0 && ftruncate(fd, SECRET_SIZE) == 0 && fstat(fd, &secret) == 0,
		    "making %s failed", p);
	close(fd);
	snprintf(top, sizeof(top), "%s/L", base);
	atexit(scratch_remove);
}

/* Makes REL in the layout: a directory (DATA NULL, LINK 0), a symlink to
 * DATA (LINK), or a file holding LEN bytes of DATA. */
static void
make(const char *rel, const char *data, size_t len, int link)
{
	char *p = made[nmade];

	FUZZ_ASSERT(nmade < sizeof(made) / sizeof(made[0]), "too many files");
	snprintf(p, sizeof(made[0]), "%s%s%s", top, rel[0] ? "/" : "", rel);
	if (!data && !link) {
		FUZZ_ASSERT(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	} else if (link) {
		if (symlink(data, p) < 0) {
			FUZZ_ASSERT(errno == EEXIST || errno == ENAMETOOLONG || errno == ENOENT,
				    "symlink %s: %s", p, strerror(errno));
			return;
		}
	} else {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			return; /* two parts alike: one blob */
		FUZZ_ASSERT(fd >= 0 && (len == 0 || write(fd, data, len) == (ssize_t)len),
			    "writing %s: %s", p, strerror(errno));
		close(fd);
	}
	nmade++;
}

static void
scratch_clear(void)
{
	while (nmade > 0) {
		const char *p = made[--nmade];
		if (unlink(p) < 0)
			FUZZ_ASSERT(errno == EISDIR && rmdir(p) == 0, "removing %s: %s", p,
				    strerror(errno));
	}
}

/* Is FD a file under the layout directory (its path, as the kernel says)? */
static int
under_top(int fd)
{
	char link[64], path[4096];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 1;       /* no /proc: nothing to say */
	path[n] = '\0';
	return strncmp(path, top, strlen(top)) == 0 && path[strlen(top)] == '/';
}

/* Writes the parts as a layout at TOP: an OCI layout, or a dir: one. */
static void
write_layout(const struct part *v, size_t n, int dirform)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	static const char version[] = "Directory Transport Version: 1.1\n";
	char rel[200];

	scratch_init();
	make("", NULL, 0, 0);
	if (dirform) {
		make("version", version, sizeof(version) - 1, 0);
		make("manifest.json", v[0].p, v[0].len, v[0].link);
	} else {
		make("oci-layout", layout, sizeof(layout) - 1, 0);
		make("index.json", v[0].p, v[0].len, v[0].link);
		make("blobs", NULL, 0, 0);
		make("blobs/sha256", NULL, 0, 0);
	}
	for (size_t i = 1; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s%s", dirform ? "" : "blobs/sha256/", v[i].digest + 7);
		make(rel, v[i].p, v[i].len, v[i].link);
		if (dirform) {  /* a manifest below an index, reached by a link inside */
			snprintf(rel, sizeof(rel), "%s.manifest.json", v[i].digest + 7);
			make(rel, v[i].digest + 7, 0, 1);
		}
	}
}

/* The layers of an image read from the layout: open regular files of the
 * size said, inside the layout, not the secret. */
static void
check_dir_layers(const struct image *img)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		const struct image_layer *l = &img->layers[i];
		struct stat st;
		FUZZ_ASSERT(l->fd >= 0 && fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode),
			    "layer %zu: no open regular file", i);
		FUZZ_ASSERT(st.st_dev != secret.st_dev || st.st_ino != secret.st_ino,
			    "layer %zu is the secret, outside the layout", i);
		FUZZ_ASSERT(under_top(l->fd), "layer %zu lies outside the layout", i);
		FUZZ_ASSERT(l->off == 0 && l->len == (uint64_t)st.st_size,
			    "layer %zu: %llu bytes said, %llu there", i,
			    (unsigned long long)l->len, (unsigned long long)st.st_size);
		struct image_hash h;
		FUZZ_ASSERT(l->digest && image_hash_init(&h, l->digest) == 0,
			    "malformed layer digest %s", l->digest ? l->digest : "(none)");
	}
	FUZZ_ASSERT(img->chosen, "an image with no manifest chosen");
}

static void
check_dir(struct part *v, size_t n, int dirform, int no_openat2, int says_size)
{
	struct image img;
	struct image_sel sel = { NULL, NULL, "linux/amd64" };
	char err[600];

	write_layout(v, n, dirform);
	if (no_openat2)
		setenv("TARFLAT_TEST_NO_OPENAT2", "1", 1);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)     /* manifest.json's own, or a blob's */
			sel.digest = dirform || n == 1 ? v[0].digest : v[1].digest;
		err[0] = '\0';
		int r = image_open_dir(top, &sel, &img, err, sizeof(err));
		FUZZ_ASSERT(r == 1 || r == -1, "image_open_dir returned %d", r);
		FUZZ_ASSERT(r == 1 || err[0], "failed without a message");
		FUZZ_ASSERT(says_size || !strstr(err, SECRET_SAYS),
			    "a message tells the secret's size: %s", err);
		if (r != 1)
			continue;
		check_dir_layers(&img);
		image_free(&img);
	}
	unsetenv("TARFLAT_TEST_NO_OPENAT2");
	scratch_clear();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *start[MAX_PARTS];
	size_t len[MAX_PARTS], n = 0;
	struct part v[MAX_PARTS];
	int no_openat2 = size % 2, dirform = size >= 4 && memcmp(data, "dir:", 4) == 0;
	/* the fuzzer learns strings from the comparisons: an input that holds
	 * the secret's size may well see it in a message */
	int says_size = memmem(data, size, SECRET_SAYS, 9) != NULL;

	if (size > 4 * MAX_PART)
		return 0;
	if (dirform)
		data += 4, size -= 4;
	for (size_t at = 0; n < MAX_PARTS;) {
		const uint8_t *sep = NULL;
		for (size_t k = at; k + 3 <= size; k++)
			if (data[k] == '\n' && data[k + 1] == '-' && data[k + 2] == '-' &&
			    (k + 3 == size || data[k + 3] == '\n')) {
				sep = data + k;
				break;
			}
		start[n] = data + at;
		len[n] = sep ? (size_t)(sep - (data + at)) : size - at;
		n++;
		if (!sep)
			break;
		at = (size_t)(sep - data) + 4 > size ? size : (size_t)(sep - data) + 4;
	}
	memset(v, 0, sizeof(v));
	for (size_t i = n; i-- > 0;)
		finish(v, n, i, start[i], len[i], dirform);

	if (!dirform)
		check_archive(v, n);
	if (v[0].p[0] != '[' || dirform)
		check_dir(v, n, dirform, no_openat2, says_size);
	for (size_t i = 0; i < n; i++)
		free(v[i].p);
	return 0;
}
