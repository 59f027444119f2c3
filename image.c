/*
 * image.c - reading container images: which layers, in which file, with
 * which digests (see image.h).
 *
 * An image is found through its metadata, all JSON (json.c):
 * - OCI (a layout directory, an OCI archive, Docker 25's docker save):
 *   oci-layout; index.json, whose "manifests" are descriptors of image
 *   manifests or of nested indexes (one per platform); a manifest's
 *   "config" and "layers" descriptors. A descriptor names a blob
 *   blobs/ALG/HEX by digest and gives its size and media type.
 * - docker save, old form: manifest.json, an array of
 *   { "Config": "HEX.json", "RepoTags": [...], "Layers": ["ID/layer.tar"] };
 *   the layers are uncompressed tars whose digests are the config's
 *   rootfs.diff_ids. skopeo writes a layer twice as a symlink member.
 * - a dir: layout (containers/image's directory transport, version 1.1):
 *   manifest.json is the image manifest itself (OCI or Docker schema 2),
 *   or an image index whose manifests are HEX.manifest.json (skopeo copy
 *   --all); every other blob is the file HEX; "version" says
 *   "Directory Transport Version: 1.1". The top manifest.json is named by
 *   no digest (like index.json): it is checked only against a digest the
 *   user gives.
 * Every metadata blob read is checked against its digest and size before
 * it is parsed; the layers' sizes are checked here, their digests by the
 * caller. In a layout directory every file is opened beneath it (openat2
 * RESOLVE_BENEATH, or a walk of its own on kernels without openat2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif

#include "image.h"
#include "json.h"

#define MAX_HOPS 8              /* symlink members followed to a blob */
#define MAX_NEST 8              /* image indexes inside indexes */
#define MAX_LAYERS 100000
#define MAX_LINKS 40            /* symlinks followed in a layout directory */
#define MAX_DEPTH 64            /* directories below a layout's top, walking */
/* A list of choices in a message: short enough that the whole message
 * (what is wrong, the list, what to do) fits the 300 bytes the caller
 * prints of it. */
#define LIST_LEN 224

#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2    "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1    "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1S   "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define DIR_VERSION "Directory Transport Version: 1.1"

/* Layer media types we can read (the content is sniffed all the same). */
static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	NULL
};

/* Where the blobs are: a layout directory, or the members of an archive. */
struct src {
	const char *dir;        /* a layout directory: its path, for names */
	int dirfd;              /* ... open (O_PATH) */
	int dirform;            /* 1: a dir: layout, 0: an OCI layout */
	const char *file;       /* an archive: its name, */
	int fd;                 /* ... open */
	const struct image_member *m;
	size_t n;
	const struct image_member **sorted;     /* M by name, for member_get */
	const char *form;
	char *err;
	size_t errlen;
};

/* A blob: LEN bytes at OFF in FILE (owned); FD, owned, the file open when
 * it is a layout's (-1 in an archive). */
struct blob {
	char *file;
	int fd;
	uint64_t off, len;
};

/* A parsed descriptor; the strings live in the JSON document. */
struct desc {
	const char *media_type; /* "" when absent */
	const char *digest;
	uint64_t size;
	const struct json_value *v;
};

static int errf(struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
errf(struct src *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static char *
strdup_or_null(const char *p)
{
	return p ? strdup(p) : NULL;
}

static void
blob_release(struct blob *b)
{
	free(b->file);
	if (b->fd >= 0)
		close(b->fd);
	b->file = NULL;
	b->fd = -1;
}

/* ---- digests ----------------------------------------------------------- */

/* The algorithm (256 or 512) of a well-formed digest, else 0. */
static int
digest_alg(const char *d)
{
	size_t hexlen;
	int alg;

	if (!d)
		return 0;
	if (strncmp(d, "sha256:", 7) == 0)
		alg = 256, hexlen = 64;
	else if (strncmp(d, "sha512:", 7) == 0)
		alg = 512, hexlen = 128;
	else
		return 0;
	if (strlen(d + 7) != hexlen)
		return 0;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return alg;
}

int
image_hash_init(struct image_hash *h, const char *digest)
{
	memset(h, 0, sizeof(*h));
	h->alg = digest_alg(digest);
	if (h->alg == 256)
		sha256_init(&h->u.s256);
	else if (h->alg == 512)
		sha512_init(&h->u.s512);
	else
		return -1;
	return 0;
}

void
image_hash_update(struct image_hash *h, const void *buf, size_t len)
{
	if (h->alg == 256)
		sha256_update(&h->u.s256, buf, len);
	else
		sha512_update(&h->u.s512, buf, len);
	h->len += len;
}

int
image_hash_check(struct image_hash *h, const char *digest, char got[136])
{
	unsigned char d[SHA512_DIGEST_SIZE];
	size_t n = h->alg == 256 ? SHA256_DIGEST_SIZE : SHA512_DIGEST_SIZE;

	if (h->alg == 256)
		sha256_final(&h->u.s256, d);
	else
		sha512_final(&h->u.s512, d);
	memcpy(got, h->alg == 256 ? "sha256:" : "sha512:", 7);
	sha2_hex(got + 7, d, n);
	return strcmp(got, digest) == 0;
}

/*
 * The file that holds the blob DIGEST (well formed), relative to the
 * image's top: blobs/ALG/HEX; in a dir: layout HEX, or HEX.manifest.json
 * for a MANIFEST (or index) below manifest.json. Owned by the caller.
 */
static char *
blob_rel(const struct src *s, const char *digest, int manifest)
{
	size_t n = strlen(digest) + 16;
	char *p = malloc(n);

	if (!p)
		return NULL;
	if (s->dirform)
		snprintf(p, n, "%s%s", digest + 7, manifest ? ".manifest.json" : "");
	else
		snprintf(p, n, "blobs/%.6s/%s", digest, digest + 7);
	return p;
}

/* The digest a blob's name gives it: blobs/sha256/HEX or HEX.json (docker
 * save's config); NULL when the name says nothing. Owned by the caller. */
static char *
digest_of_name(const char *name)
{
	char buf[160];
	const char *b = strrchr(name, '/');
	size_t n;

	b = b ? b + 1 : name;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".json") == 0)
		n -= 5;
	if (strncmp(name, "blobs/sha512/", 13) == 0)
		snprintf(buf, sizeof(buf), "sha512:%.*s", (int)(n > 128 ? 129 : n), b);
	else
		snprintf(buf, sizeof(buf), "sha256:%.*s", (int)(n > 64 ? 65 : n), b);
	return digest_alg(buf) ? strdup(buf) : NULL;
}

/* ---- files of a layout directory --------------------------------------- */

/*
 * Nothing a layout's files are opened through may lead out of the layout:
 * a blob that is a symlink to /etc/shadow must not be read, nor its size
 * told in a "wrong size" message. Relative symlinks that stay inside work.
 *
 * Test hook: TARFLAT_TEST_NO_OPENAT2 set (non-empty) in the environment
 * makes beneath_open take the path of kernels without openat2(2) (before
 * Linux 5.6, or a seccomp filter that refuses it), so that both paths are
 * tested on one machine (t0456).
 */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* openat2(DIRFD, REL) with RESOLVE_BENEATH: glibc 2.36 (Debian 12) has no
 * wrapper. -1 with errno ENOSYS where the kernel or the headers lack it. */
static int
openat2_beneath(int dirfd, const char *rel)
{
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		/* EAGAIN: a rename raced the lookup of a '..'; look again */
		if (fd >= 0 || errno != EAGAIN || tries == 8)
			return (int)fd;
	}
#else
	(void)dirfd, (void)rel;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * The walk for kernels without openat2: one component at a time, each
 * looked at (lstat) and opened with O_NOFOLLOW relative to the directory
 * before it, so nothing is followed unseen. A symlink's target is walked
 * in its place; an absolute one, or a '..' above the top, fails with EXDEV
 * as RESOLVE_BENEATH does; more than MAX_LINKS links with ELOOP.
 */
struct walk {
	int dir[MAX_DEPTH + 1]; /* the directories walked: DIR[0] the top */
	int depth;
	int links;
	char *todo;             /* the path still to walk (owned) */
};

/* Walks the target of symlink NAME (in the current directory) in its
 * place; REST is what followed NAME. Returns 0 or an errno value. */
static int
walk_link(struct walk *w, const char *name, const char *rest)
{
	char target[4096];
	ssize_t n = readlinkat(w->dir[w->depth], name, target, sizeof(target) - 1);

	if (n < 0)
		return errno;
	if (++w->links > MAX_LINKS)
		return ELOOP;
	if (n > 0 && target[0] == '/')
		return EXDEV;
	size_t rl = strlen(rest);
	char *next = malloc((size_t)n + rl + 2);
	if (!next)
		return ENOMEM;
	memcpy(next, target, (size_t)n);
	next[n] = '/';
	memcpy(next + n + 1, rest, rl + 1);
	free(w->todo);
	w->todo = next;
	return 0;
}

/* Steps into directory NAME of the current one. Returns 0 or an errno. */
static int
walk_down(struct walk *w, const char *name)
{
	struct stat st;

	if (w->depth == MAX_DEPTH)
		return ENAMETOOLONG;
	int d = openat(w->dir[w->depth], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return errno;
	if (fstat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(d);
		return ENOTDIR;
	}
	w->dir[++w->depth] = d;
	return 0;
}

/* One step of the walk at component P (NUL-terminated; REST follows it):
 * 0 to go on at *NEXT, 1 when *FD is the file, or an errno value. */
static int
walk_step(struct walk *w, char *p, char *rest, char **next, int *fd)
{
	struct stat st;
	int err;

	*next = rest;
	if (strcmp(p, ".") == 0)
		return 0;
	if (strcmp(p, "..") == 0) {
		if (w->depth == 0)
			return EXDEV;
		close(w->dir[w->depth--]);
		return 0;
	}
	if (fstatat(w->dir[w->depth], p, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	if (S_ISLNK(st.st_mode)) {
		if ((err = walk_link(w, p, rest)) == 0)
			*next = w->todo;
		return err;
	}
	if (*rest)
		return walk_down(w, p);
	*fd = openat(w->dir[w->depth], p, OPEN_FLAGS | O_NOFOLLOW);
	return *fd < 0 ? errno : 1;
}

static int
walk_beneath(int top, const char *rel)
{
	struct walk w = { .dir = { top }, .todo = strdup(rel) };
	char *p = w.todo;
	int fd = -1, r = w.todo ? 0 : ENOMEM;

	while (r == 0) {
		while (*p == '/')
			p++;
		if (!*p) {      /* the path ended on a directory (or "..") */
			fd = openat(w.dir[w.depth], ".", OPEN_FLAGS);
			r = fd < 0 ? errno : 1;
			break;
		}
		char *e = strchr(p, '/'), *rest = e ? e + 1 : p + strlen(p);
		if (e)
			*e = '\0';
		while (*rest == '/')
			rest++;
		r = walk_step(&w, p, rest, &p, &fd);
	}
	while (w.depth > 0)
		close(w.dir[w.depth--]);
	free(w.todo);
	errno = r == 1 ? 0 : r;
	return r == 1 ? fd : -1;
}

/* Opens REL (a path of ours, relative) beneath the layout directory DIRFD:
 * an fd, or -1 with errno (EXDEV: it leads out). */
static int
beneath_open(int dirfd, const char *rel)
{
	const char *force = getenv("TARFLAT_TEST_NO_OPENAT2");

	if (!force || !*force) {
		int fd = openat2_beneath(dirfd, rel);
		/* EPERM: a seccomp filter that does not know openat2 (older
		 * container runtimes) */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
	}
	return walk_beneath(dirfd, rel);
}

/* The layout's file REL, opened: as blob_find. */
static int
layout_find(struct src *s, const char *rel, struct blob *b)
{
	struct stat st;
	int fd = beneath_open(s->dirfd, rel);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		if (errno == EXDEV)
			return errf(s, "%s: a symlink that leads out of the layout directory "
				    "(refused: every file of an image must be inside it)", rel);
		if (errno == ELOOP)
			return errf(s, "%s: a symlink loop, or more than %d symlinks", rel,
				    MAX_LINKS);
		return errf(s, "%s: %s", rel, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;       /* a directory, a fifo: no blob */
	}
	fcntl(fd, F_SETFL, 0);  /* O_NONBLOCK was for a fifo's open only */
	size_t n = strlen(s->dir) + strlen(rel) + 2;
	if (!(b->file = malloc(n))) {
		close(fd);
		return errf(s, "out of memory");
	}
	snprintf(b->file, n, "%s/%s", s->dir, rel);
	b->fd = fd;
	b->len = (uint64_t)st.st_size;
	return 1;
}

/* ---- blobs ------------------------------------------------------------- */

/* NAME without leading "./" and "/", into BUF (lexical, for archives). */
static const char *
strip_dot(const char *name)
{
	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	return name;
}

/* Joins the directory of FROM with the symlink target T, lexically, '..'
 * clamped; into a new string. */
static char *
join_link(const char *from, const char *t)
{
	size_t n = strlen(from) + strlen(t) + 2;
	char *p = malloc(n), *o;

	if (!p)
		return NULL;
	const char *slash = strrchr(from, '/');
	size_t dlen = t[0] == '/' || !slash ? 0 : (size_t)(slash - from);
	memcpy(p, from, dlen);
	o = p + dlen;
	for (const char *c = t; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (o > p && o[-1] != '/')
				o--;
			if (o > p)
				o--;
		} else if (len && !(len == 1 && c[0] == '.')) {
			if (o > p)
				*o++ = '/';
			memcpy(o, c, len);
			o += len;
		}
		c += len;
	}
	*o = '\0';
	return p;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct image_member *x = *(const struct image_member *const *)a;
	const struct image_member *y = *(const struct image_member *const *)b;
	int c = strcmp(x->name, y->name);

	/* the first of two members with one name, as a linear search finds it */
	return c ? c : x < y ? -1 : x > y;
}

/* Sorts the archive's members by name once, so that a manifest naming
 * many blobs of an archive of many members is no product of the two. */
static int
members_sort(struct src *s)
{
	if (!(s->sorted = malloc((s->n ? s->n : 1) * sizeof(*s->sorted))))
		return errf(s, "out of memory");
	for (size_t i = 0; i < s->n; i++)
		s->sorted[i] = &s->m[i];
	qsort(s->sorted, s->n, sizeof(*s->sorted), member_cmp);
	return 0;
}

static const struct image_member *
member_get(const struct src *s, const char *name)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {       /* the first member whose name is >= NAME */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->sorted[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && strcmp(s->sorted[lo]->name, name) == 0 ? s->sorted[lo] : NULL;
}

/*
 * blob_find: the blob at REL (a path relative to the image's top). In a
 * layout directory it is opened (beneath the directory); in an archive a
 * symlink or hardlink member leads to another member. Returns 1 with *B
 * filled (blob_release frees it), 0 when there is no such regular file,
 * -1 on error.
 */
static int
blob_find(struct src *s, const char *rel, struct blob *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (s->dir)
		return layout_find(s, rel, b);
	char *name = strdup(strip_dot(rel));
	const struct image_member *m = NULL;
	for (int hops = 0; name && hops <= MAX_HOPS; hops++) {
		m = member_get(s, name);
		if (!m || (m->type != '2' && m->type != '1'))
			break;
		char *next = m->type == '1' ? strdup(strip_dot(m->linkname))
					    : join_link(name, m->linkname);
		free(name);
		name = next;
		m = NULL;
	}
	free(name);
	if (!m || (m->type != '0' && m->type != '7'))
		return 0;
	if (!(b->file = strdup(s->file)))
		return errf(s, "out of memory");
	b->off = m->off;
	b->len = m->size;
	return 1;
}

/* Reads blob B (at most JSON_MAX_INPUT bytes) into a new buffer. */
static char *
blob_read(struct src *s, const struct blob *b, const char *what, size_t *len)
{
	if (b->len > JSON_MAX_INPUT) {
		errf(s, "%s: %llu bytes, more than the %u a metadata blob may have", what,
		     (unsigned long long)b->len, JSON_MAX_INPUT);
		return NULL;
	}
	int fd = s->dir ? b->fd : s->fd;
	char *p = malloc(b->len ? (size_t)b->len : 1);
	size_t done = 0;

	if (!p) {
		errf(s, "%s: out of memory", what);
		return NULL;
	}
	while (done < b->len) {
		ssize_t r = pread(fd, p + done, (size_t)b->len - done, (off_t)(b->off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errf(s, "%s: %s", what, r < 0 ? strerror(errno) : "shorter than its size");
			free(p);
			return NULL;
		}
		done += (size_t)r;
	}
	*len = done;
	return p;
}

/* Parses the LEN bytes at P as JSON; WHAT names them in a message. */
static struct json_doc *
parse(struct src *s, const char *p, size_t len, const char *what)
{
	struct json_error je;
	struct json_doc *doc = json_parse(p, len, NULL, &je);

	if (!doc)
		errf(s, "%s: offset %zu: %s", what, je.offset, je.msg);
	return doc;
}

/* Reads the file REL whole into a new buffer (*LEN bytes): NULL, and a
 * message unless it is missing and MISSING_OK. */
static char *
read_file(struct src *s, const char *rel, int missing_ok, int *missing, size_t *len)
{
	struct blob b;
	int r = blob_find(s, rel, &b);

	*missing = r == 0;
	if (r <= 0) {
		if (r == 0 && !missing_ok)
			errf(s, "%s is missing", rel);
		return NULL;
	}
	char *p = blob_read(s, &b, rel, len);
	blob_release(&b);
	return p;
}

/* Reads and parses the blob at REL; 0 (and no message) when it is missing,
 * when MISSING_OK. */
static struct json_doc *
read_json(struct src *s, const char *rel, int missing_ok, int *missing)
{
	size_t len;
	char *p = read_file(s, rel, missing_ok, missing, &len);

	if (!p)
		return NULL;
	struct json_doc *doc = parse(s, p, len, rel);
	free(p);
	return doc;
}

/* ---- descriptors ------------------------------------------------------- */

static int
desc_parse(struct src *s, const struct json_value *v, const char *where, struct desc *d)
{
	int64_t size;

	memset(d, 0, sizeof(*d));
	d->v = v;
	if (json_type(v) != JSON_OBJECT)
		return errf(s, "%s: a descriptor must be an object", where);
	const struct json_value *mt = json_get(v, "mediaType");
	d->media_type = mt ? json_cstr(mt) : "";
	d->digest = json_cstr(json_get(v, "digest"));
	if (!d->media_type)
		return errf(s, "%s: mediaType is not a string", where);
	if (!digest_alg(d->digest))
		return errf(s, "%s: %s digest: %.80s", where,
			    d->digest ? "unsupported or malformed" : "no", d->digest ? d->digest : "");
	if (json_int64(json_get(v, "size"), &size) < 0 || size < 0)
		return errf(s, "%s: %s: size is not a non-negative integer", where, d->digest);
	d->size = (uint64_t)size;
	return 0;
}

/*
 * The blob a descriptor names (a MANIFEST or index, or not), its size
 * checked. Returns 1, or 0 when it is missing (no message), -1 on error.
 */
static int
desc_blob(struct src *s, const struct desc *d, int manifest, struct blob *b)
{
	char *rel = blob_rel(s, d->digest, manifest);

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (!rel)
		return errf(s, "out of memory");
	int r = blob_find(s, rel, b);
	if (r > 0 && b->len != d->size) {
		r = errf(s, "%s: wrong size: %llu bytes, the descriptor says %llu", rel,
			 (unsigned long long)b->len, (unsigned long long)d->size);
		blob_release(b);
	}
	free(rel);
	return r;
}

/* Checks the LEN bytes at P against DIGEST; WHAT names the blob. */
static int
check_digest(struct src *s, const char *p, size_t len, const char *digest, const char *what)
{
	struct image_hash h;
	char got[136];

	if (image_hash_init(&h, digest) < 0)
		return errf(s, "%s: malformed digest %.80s", what, digest);
	image_hash_update(&h, p, len);
	if (!image_hash_check(&h, digest, got))
		return errf(s, "%s: digest mismatch: the content hashes to %s", what, got);
	return 0;
}

/* Reads, checks and parses the metadata blob D names (WHAT: "manifest",
 * "index" or "config"); its bytes in *RAW (*RAWLEN of them, malloc'd)
 * when RAW is not NULL. */
static struct json_doc *
desc_json_raw(struct src *s, const struct desc *d, const char *what, char **raw,
	      size_t *rawlen)
{
	struct blob b;
	size_t len;
	char label[200];
	int r = desc_blob(s, d, strcmp(what, "config") != 0, &b);

	snprintf(label, sizeof(label), "%s %s", what, d->digest);
	if (r == 0)
		errf(s, "%s: blob %s is missing", label, d->digest);
	if (r <= 0)
		return NULL;
	char *p = blob_read(s, &b, label, &len);
	blob_release(&b);
	if (!p)
		return NULL;
	struct json_doc *doc = NULL;
	if (check_digest(s, p, len, d->digest, label) == 0)
		doc = parse(s, p, len, label);
	if (doc && raw) {
		*raw = p;
		*rawlen = len;
	} else {
		free(p);
	}
	return doc;
}

static struct json_doc *
desc_json(struct src *s, const struct desc *d, const char *what)
{
	return desc_json_raw(s, d, what, NULL, NULL);
}

/* Keeps config P (LEN bytes, taken) as IMG's. */
static void
keep_config(struct image *img, char *p, size_t len)
{
	free(img->config);
	img->config = p;
	img->config_len = len;
}

/* ---- choosing an image ------------------------------------------------- */

const char *
image_host_platform(void)
{
	static const struct {
		const char *machine, *platform;
	} map[] = {
		{ "x86_64", "linux/amd64" }, { "amd64", "linux/amd64" },
		{ "aarch64", "linux/arm64/v8" }, { "arm64", "linux/arm64/v8" },
		{ "armv7l", "linux/arm/v7" }, { "armv6l", "linux/arm/v6" },
		{ "armv5tel", "linux/arm/v5" }, { "i386", "linux/386" },
		{ "i486", "linux/386" }, { "i586", "linux/386" }, { "i686", "linux/386" },
		{ "ppc64le", "linux/ppc64le" }, { "s390x", "linux/s390x" },
		{ "riscv64", "linux/riscv64" }, { "mips64", "linux/mips64" },
		{ "loongarch64", "linux/loong64" },
	};
	static char other[80];
	struct utsname u;

	if (uname(&u) < 0)
		return "linux/unknown";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(u.machine, map[i].machine) == 0)
			return map[i].platform;
	snprintf(other, sizeof(other), "linux/%.60s", u.machine);
	return other;
}

/* Splits "os/arch[/variant]" into three strings of at most 63 bytes. */
static int
split_platform(const char *p, char os[64], char arch[64], char variant[64])
{
	os[0] = arch[0] = variant[0] = '\0';
	if (sscanf(p, "%63[^/]/%63[^/]/%63[^/]", os, arch, variant) < 2)
		return -1;
	return 0;
}

/* Does the platform OS/ARCH[/VAR] match WANT? arm64 without a variant is
 * v8; a WANT without a variant takes any. */
static int
os_arch_match(const char *os, const char *arch, const char *var, const char *want)
{
	char wos[64], warch[64], wvar[64];

	if (!os || !arch || split_platform(want, wos, warch, wvar) < 0)
		return 0;
	if (strcmp(os, wos) != 0 || strcmp(arch, warch) != 0)
		return 0;
	if (!var && strcmp(arch, "arm64") == 0)
		var = "v8";
	return !wvar[0] || (var && strcmp(var, wvar) == 0);
}

/* Does descriptor D's platform match WANT? */
static int
platform_match(const struct desc *d, const char *want)
{
	const struct json_value *pl = json_get(d->v, "platform");

	return os_arch_match(json_cstr(json_get(pl, "os")), json_cstr(json_get(pl, "architecture")),
			     json_cstr(json_get(pl, "variant")), want);
}

/* "os/arch[/variant]" of D, for messages. */
static void
platform_name(const struct desc *d, char *buf, size_t len)
{
	const struct json_value *pl = json_get(d->v, "platform");
	const char *os = json_cstr(json_get(pl, "os"));
	const char *arch = json_cstr(json_get(pl, "architecture"));
	const char *var = json_cstr(json_get(pl, "variant"));

	if (!os || !arch)
		snprintf(buf, len, "%.20s (no platform)", d->digest);
	else
		snprintf(buf, len, "%.40s/%.40s%s%.40s", os, arch, var ? "/" : "", var ? var : "");
}

static const char *
annotation(const struct desc *d, const char *key)
{
	return json_cstr(json_get(json_get(d->v, "annotations"), key));
}

static int
is_attestation(const struct desc *d)
{
	const char *t = annotation(d, "vnd.docker.reference.type");

	return t && strcmp(t, "attestation-manifest") == 0;
}

static int
is_index_type(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

/* A name as docker and podman write it, without the default registry and
 * namespace: docker.io/library/, docker.io/, localhost/ (podman's, for an
 * image built or tagged with no registry). */
static const char *
short_name(const char *name)
{
	static const char *const prefixes[] = { "docker.io/library/", "docker.io/",
						"localhost/" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return name + strlen(prefixes[i]);
	return name;
}

/* Does NAME carry a tag or digest (a ':' or '@' after its last '/')? */
static int
has_tag(const char *name)
{
	const char *slash = strrchr(name, '/');

	slash = slash ? slash : name;
	return strchr(slash, ':') || strchr(slash, '@');
}

/*
 * Does the name an image was saved under, HAVE (a RepoTags entry, an OCI
 * ref.name, containerd's image name), answer to WANT, what the user asked
 * for? The same string; the same without docker.io/library/, docker.io/
 * or localhost/; or WANT without a tag and HAVE the same name :latest,
 * as docker reads "app".
 */
static int
name_match(const char *have, const char *want)
{
	const char *h = short_name(have), *w = short_name(want);
	size_t n = strlen(w);

	if (strcmp(have, want) == 0 || strcmp(h, w) == 0)
		return 1;
	return !has_tag(w) && strncmp(h, w, n) == 0 && strcmp(h + n, ":latest") == 0;
}

/* Does descriptor D carry the tag REF (OCI ref.name, or containerd's full
 * image name)? */
static int
ref_match(const struct desc *d, const char *ref)
{
	const char *r = annotation(d, "org.opencontainers.image.ref.name");
	const char *c = annotation(d, "io.containerd.image.name");

	return (r && name_match(r, ref)) || (c && name_match(c, ref));
}

/* The name descriptor D gives its image, for a list: containerd's (short),
 * else the OCI ref.name; NULL when it has none. */
static const char *
desc_name(const struct desc *d)
{
	const char *c = annotation(d, "io.containerd.image.name");

	return c ? short_name(c) : annotation(d, "org.opencontainers.image.ref.name");
}

/* Appends ", ITEM" to the list in BUF (LEN bytes); when it does not fit,
 * ", ..." once, and returns -1 (the list is full). */
static int
list_add(char *buf, size_t len, const char *item)
{
	size_t n = strlen(buf);

	if (n >= 3 && strcmp(buf + n - 3, "...") == 0)
		return -1;
	if (n + strlen(item) + 2 + 6 < len) {
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", item);
		return 0;
	}
	if (n + 6 < len)
		snprintf(buf + n, len - n, "%s...", n ? ", " : "");
	return -1;
}

#define ITEM_TAIL 60            /* room kept for "(sha256:.. PLATFORM)" */

/* Appends to ITEM (LEN bytes) " NAME", when NAME is not there already;
 * " ..." once when it does not fit with ITEM_TAIL bytes to spare. */
static void
item_name(char *item, size_t len, const char *name)
{
	size_t n = strlen(item), k = strlen(name);

	if (n >= 3 && strcmp(item + n - 3, "...") == 0)
		return;
	for (const char *p = item; (p = strstr(p, name)); p++)
		if ((p == item || p[-1] == ' ') && (p[k] == ' ' || !p[k]))
			return;
	if (n + 1 + k + ITEM_TAIL < len)
		snprintf(item + n, len - n, "%s%s", n ? " " : "", name);
	else if (n + 4 + ITEM_TAIL < len)
		snprintf(item + n, len - n, "%s...", n ? " " : "");
}

/*
 * The images descriptors D[0..N) name, for a message, into BUF (LEN
 * bytes): one item per digest, in order, with every name its descriptors
 * give it, its digest's first 12 digits and its platform when they say:
 * "foo:1.0 foo:latest (sha256:0123456789ab linux/amd64)". With TAG, only
 * the descriptors carrying it. Attestation manifests are left out.
 */
static void
list_images(const struct desc *d, size_t n, const char *tag, char *buf, size_t len)
{
	size_t listed[64], nl = 0;
	char item[LIST_LEN], pname[140];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (is_attestation(&d[i]) || (tag && !ref_match(&d[i], tag)))
			continue;
		size_t k = 0;
		while (k < nl && strcmp(d[listed[k]].digest, d[i].digest) != 0)
			k++;
		if (k < nl)
			continue;       /* listed under its first descriptor */
		item[0] = '\0';
		for (size_t j = i; j < n; j++)
			if (!is_attestation(&d[j]) && (!tag || ref_match(&d[j], tag)) &&
			    strcmp(d[j].digest, d[i].digest) == 0 && desc_name(&d[j]))
				item_name(item, sizeof(item), desc_name(&d[j]));
		platform_name(&d[i], pname, sizeof(pname));
		size_t il = strlen(item);
		snprintf(item + il, sizeof(item) - il, "%s(%.19s%s%.36s)", il ? " " : "", d[i].digest,
			 json_get(d[i].v, "platform") ? " " : "",
			 json_get(d[i].v, "platform") ? pname : "");
		if (list_add(buf, len, item) < 0 || nl == sizeof(listed) / sizeof(listed[0]))
			break;
		listed[nl++] = i;
	}
}

struct pick {
	struct src *s;
	const struct image_sel *sel;
	const char *platform;   /* what to match in an index */
	struct image *img;
	int depth;
};

static int take_manifest(struct pick *pk, const struct desc *d);

struct by_digest {
	const char *digest;
	size_t i;
};

static int
by_digest_cmp(const void *a, const void *b)
{
	const struct by_digest *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Marks the candidates among D[0..N): KEEP[I] is 1 for the first
 * descriptor of each digest that is no attestation manifest and carries
 * TAG (when given), 0 for the others. Sorted, not compared in pairs: an
 * index may list a hundred thousand. Returns the number of candidates, or
 * -1 out of memory.
 */
static long
mark_candidates(const struct desc *d, size_t n, const char *tag, unsigned char *keep)
{
	struct by_digest *v = malloc((n ? n : 1) * sizeof(*v));
	size_t nv = 0;
	long nc = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		keep[i] = 0;
		if (!is_attestation(&d[i]) && (!tag || ref_match(&d[i], tag)))
			v[nv++] = (struct by_digest){ d[i].digest, i };
	}
	qsort(v, nv, sizeof(*v), by_digest_cmp);
	for (size_t k = 0; k < nv; k++)
		if (k == 0 || strcmp(v[k].digest, v[k - 1].digest) != 0) {
			keep[v[k].i] = 1;
			nc++;
		}
	free(v);
	return nc;
}

/* Why no image of the index D[0..N) was chosen (NC candidates, NP for
 * the platform, WITH_PLATFORM of them naming one): -1, a message. */
static int
choose_failed(struct pick *pk, const struct desc *d, size_t n, const char *tag, size_t nc,
	      size_t np, size_t with_platform)
{
	struct src *s = pk->s;
	char list[LIST_LEN];

	/* an unknown tag lists them all; otherwise the candidates */
	list_images(d, n, tag && nc ? tag : NULL, list, sizeof(list));
	if (tag && nc == 0)
		return errf(s, "no image tagged %s; the input has: %s", tag,
			    list[0] ? list : "none");
	if (nc == 0)
		return errf(s, "the index lists no image");
	if (np == 0 && with_platform)
		return errf(s, "no image for platform %s; the input has: %s (choose one with "
			    "--platform)", pk->platform, list);
	if (np > 1)
		return errf(s, "%zu images for platform %s; the input has: %s (choose one with "
			    "INPUT@DIGEST)", np, pk->platform, list);
	return errf(s, "%zu images%s%s; the input has: %s (choose one with %s)", nc,
		    tag ? " tagged " : "", tag ? tag : "", list,
		    tag ? "INPUT@DIGEST" : "INPUT:TAG or INPUT@DIGEST");
}

/*
 * choose: one of the descriptors of the index array MANIFESTS. In the
 * layout's own index.json (TOP) a tag selects first. Descriptors with the
 * same digest are one image (one image saved under two tags). Then the
 * platform decides: a candidate that names one must match it; a single
 * candidate that names none is taken as it is. An attestation manifest is
 * never a candidate.
 */
static int
choose(struct pick *pk, const struct json_value *manifests, int top)
{
	struct src *s = pk->s;
	const char *tag = top ? pk->sel->ref : NULL;
	size_t n = json_len(manifests), np = 0, with_platform = 0;
	struct desc *d = calloc(n ? n : 1, sizeof(*d)), hit = { 0 };
	unsigned char *keep = malloc(n ? n : 1);
	long nc;
	int r = -1;

	if (json_type(manifests) != JSON_ARRAY) {
		r = errf(s, "index: manifests is not an array");
		goto out;
	}
	if (!d || !keep) {
		r = errf(s, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (desc_parse(s, json_at(manifests, i), "index: manifests", &d[i]) < 0)
			goto out;
	if ((nc = mark_candidates(d, n, tag, keep)) < 0) {
		r = errf(s, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if (!json_get(d[i].v, "platform")) {
			if (nc == 1)
				hit = d[i], np = 1;
			continue;
		}
		with_platform++;
		if (platform_match(&d[i], pk->platform) && np++ == 0)
			hit = d[i];
	}
	if (np == 1)
		r = take_manifest(pk, &hit);
	else
		r = choose_failed(pk, d, n, tag, (size_t)nc, np, with_platform);
out:
	free(d);
	free(keep);
	return r;
}

/* Looks for the descriptor with digest WANT in MANIFESTS and the indexes
 * they name; takes it when found. Returns 1 found, 0 not, -1 error. */
static int
find_digest(struct pick *pk, const struct json_value *manifests, const char *want)
{
	struct src *s = pk->s;
	struct desc d;

	for (size_t i = 0; i < json_len(manifests); i++) {
		if (desc_parse(s, json_at(manifests, i), "index: manifests", &d) < 0)
			return -1;
		if (strcmp(d.digest, want) == 0)
			return take_manifest(pk, &d) < 0 ? -1 : 1;
	}
	for (size_t i = 0; i < json_len(manifests); i++) {
		desc_parse(s, json_at(manifests, i), "index: manifests", &d);
		if (!is_index_type(d.media_type) || pk->depth >= MAX_NEST)
			continue;
		struct json_doc *doc = desc_json(s, &d, "index");
		if (!doc)
			return -1;
		pk->depth++;
		int r = find_digest(pk, json_get(json_root(doc), "manifests"), want);
		pk->depth--;
		json_free(doc);
		if (r != 0)
			return r;
	}
	return 0;
}

static int
known_layer_type(const char *mt)
{
	for (size_t i = 0; layer_types[i]; i++)
		if (strcmp(mt, layer_types[i]) == 0)
			return 1;
	return 0;
}

/* Adds blob B (taken: its file and fd are the layer's now) as a layer. */
static int
add_layer(struct src *s, struct image *img, struct blob *b, const char *digest,
	  const char *diff_id, const char *label, const struct desc *d)
{
	if (img->nlayers == MAX_LAYERS)
		return errf(s, "more than %d layers", MAX_LAYERS);
	struct image_layer *v = realloc(img->layers, (img->nlayers + 1) * sizeof(*v));
	if (!v)
		return errf(s, "out of memory");
	img->layers = v;
	struct image_layer *l = &v[img->nlayers++];
	memset(l, 0, sizeof(*l));
	l->file = b->file;
	l->fd = b->fd;
	b->file = NULL;
	b->fd = -1;
	l->off = b->off;
	l->len = b->len;
	l->digest = strdup_or_null(digest);
	l->diff_id = strdup_or_null(diff_id);
	l->label = strdup_or_null(label);
	l->media_type = strdup_or_null(d && d->media_type[0] ? d->media_type : NULL);
	/* stargz-snapshotter's annotation: an eStargz layer, whatever its
	 * footer says (layer.c) */
	l->estargz = d && json_get(json_get(d->v, "annotations"),
				   "containerd.io/snapshot/stargz/toc.digest") != NULL;
	if (!l->file || (digest && !l->digest) || (diff_id && !l->diff_id) || !l->label ||
	    (d && d->media_type[0] && !l->media_type))
		return errf(s, "out of memory");
	return 0;
}

/* An explicit --platform against what the config says the image is for,
 * when nothing else (an index's descriptor) said it. */
static int
config_platform(struct src *s, const struct json_value *config, const char *want)
{
	const char *os = json_cstr(json_get(config, "os"));
	const char *arch = json_cstr(json_get(config, "architecture"));
	const char *var = json_cstr(json_get(config, "variant"));

	if (!want || !os || !arch || os_arch_match(os, arch, var, want))
		return 0;       /* it says nothing, or the right thing */
	return errf(s, "the image is for %.40s/%.40s%s%.40s, not --platform %s", os, arch,
		    var ? "/" : "", var ? var : "", want);
}

/* The layers of image manifest MAN (WHERE names it in messages:
 * "manifest", "manifest.json"); PLATFORM is an explicit --platform to
 * check the config against, or NULL. */
static int
oci_layers(struct src *s, const struct json_value *man, const char *where, struct image *img,
	   const char *platform)
{
	const struct json_value *layers = json_get(man, "layers");
	struct desc d;
	char at[80];

	snprintf(at, sizeof(at), "%s: config", where);
	if (desc_parse(s, json_get(man, "config"), at, &d) < 0)
		return -1;
	char *raw;
	size_t rawlen;
	struct json_doc *config = desc_json_raw(s, &d, "config", &raw, &rawlen);
	if (!config)
		return -1;
	keep_config(img, raw, rawlen);
	int bad = config_platform(s, json_root(config), platform) < 0;
	json_free(config);
	if (bad)
		return -1;
	if (json_type(layers) != JSON_ARRAY)
		return errf(s, "%s: layers is not an array", where);
	for (size_t i = 0; i < json_len(layers); i++) {
		struct blob b;
		snprintf(at, sizeof(at), "%s: layer %zu", where, i + 1);
		if (desc_parse(s, json_at(layers, i), at, &d) < 0)
			return -1;
		if (!known_layer_type(d.media_type))
			return errf(s, "%s: %s: unknown media type %.100s", at, d.digest,
				    d.media_type[0] ? d.media_type : "(none)");
		int r = desc_blob(s, &d, 0, &b);
		if (r == 0 && json_len(json_get(d.v, "urls")))
			return errf(s, "%s: %s is a foreign layer, not in the image (only "
				    "its URLs are): fetch it into the image first", at, d.digest);
		if (r == 0)
			return errf(s, "%s: blob %s is missing", at, d.digest);
		if (r < 0)
			return -1;
		char *label = blob_rel(s, d.digest, 0);
		r = add_layer(s, img, &b, d.digest, NULL, label ? label : d.digest, &d);
		free(label);
		blob_release(&b);
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * The image the manifest or index ROOT (digest DIGEST) is: its layers, or
 * one its index names. DESC_MT is the media type its descriptor gives
 * ("" for none, or no descriptor); INDEX says the descriptor makes it an
 * index; DESCRIBED, that the descriptor said its platform. WHERE names it.
 */
static int
take_doc(struct pick *pk, const struct json_value *root, const char *digest,
	 const char *desc_mt, int index, int described, const char *where)
{
	struct src *s = pk->s;
	const char *mt = json_cstr(json_get(root, "mediaType"));

	if (mt && desc_mt[0] && strcmp(mt, desc_mt) != 0)
		return errf(s, "%s: the blob says it is %.100s, its descriptor %.100s", digest,
			    mt, desc_mt);
	if (index || (mt && is_index_type(mt))) {
		if (pk->depth >= MAX_NEST)
			return errf(s, "%s: image indexes nested more than %d deep", digest,
				    MAX_NEST);
		pk->depth++;
		int r = choose(pk, json_get(root, "manifests"), 0);
		pk->depth--;
		return r;
	}
	free(pk->img->chosen);
	if (!(pk->img->chosen = strdup(digest)))
		return errf(s, "out of memory");
	return oci_layers(s, root, where, pk->img, described ? NULL : pk->sel->platform);
}

/* The image D describes: a manifest, or an index to choose from again. */
static int
take_manifest(struct pick *pk, const struct desc *d)
{
	struct src *s = pk->s;
	int index = is_index_type(d->media_type);

	if (!index && d->media_type[0] && strcmp(d->media_type, MT_OCI_MANIFEST) != 0 &&
	    strcmp(d->media_type, MT_DOCKER_V2) != 0)
		return errf(s, "%s: unknown manifest media type %.100s", d->digest, d->media_type);
	if (index && pk->depth >= MAX_NEST)
		return errf(s, "%s: image indexes nested more than %d deep", d->digest, MAX_NEST);
	struct json_doc *doc = desc_json(s, d, index ? "index" : "manifest");
	if (!doc)
		return -1;
	int r = take_doc(pk, json_root(doc), d->digest, d->media_type, index,
			 json_get(d->v, "platform") != NULL, "manifest");
	json_free(doc);
	return r;
}

/* ---- the forms --------------------------------------------------------- */

/* Does one of the descriptors MANIFESTS name a blob that is there (of
 * whatever size: a wrong one is an error later, not a sign of a layer)? */
static int
names_a_blob(struct src *s, const struct json_value *manifests)
{
	struct desc d;
	struct blob b;

	for (size_t i = 0; i < json_len(manifests); i++) {
		if (desc_parse(s, json_at(manifests, i), "index", &d) < 0)
			continue;
		char *rel = blob_rel(s, d.digest, 1);
		int r = rel ? blob_find(s, rel, &b) : -1;
		free(rel);
		if (r > 0)
			blob_release(&b);
		if (r > 0)
			return 1;
	}
	return 0;
}

/* The images of the index array MANIFESTS, for a message (list_images). */
static void
list_index(struct src *s, const struct json_value *manifests, char *buf, size_t len)
{
	size_t n = json_len(manifests), k = 0;
	struct desc *d = calloc(n ? n : 1, sizeof(*d));
	struct src quiet = *s;  /* a descriptor that does not parse is left out */
	char scratch[8];

	buf[0] = '\0';
	if (!d)
		return;
	quiet.err = scratch;
	quiet.errlen = sizeof(scratch);
	for (size_t i = 0; i < n; i++)
		if (desc_parse(&quiet, json_at(manifests, i), "", &d[k]) == 0)
			k++;
	list_images(d, k, NULL, buf, len);
	free(d);
}

/* An image by digest in MANIFESTS (an index's) and the indexes below
 * it: 1, or -1 with a message. */
static int
take_digest(struct pick *pk, const struct json_value *manifests)
{
	char list[LIST_LEN];
	int r = find_digest(pk, manifests, pk->sel->digest);

	if (r != 0)
		return r < 0 ? -1 : 1;
	list_index(pk->s, manifests, list, sizeof(list));
	return errf(pk->s, "no manifest with digest %s; the input has: %s", pk->sel->digest,
		    list[0] ? list : "none");
}

/* An OCI layout: oci-layout, then index.json. Returns 1, 0 when there is
 * no layout here and NOT_THERE_OK, -1 on error. */
static int
oci_open(struct src *s, const struct image_sel *sel, struct image *img, int not_there_ok)
{
	int missing, r = -1;
	struct json_doc *layout = read_json(s, "oci-layout", not_there_ok, &missing);

	if (!layout)
		return not_there_ok ? 0 : -1;
	struct json_doc *index = NULL;
	if (!json_cstr(json_get(json_root(layout), "imageLayoutVersion"))) {
		r = not_there_ok ? 0 : errf(s, "oci-layout: no imageLayoutVersion");
		goto out;
	}
	if (!(index = read_json(s, "index.json", not_there_ok, &missing))) {
		r = not_there_ok ? 0 : -1;
		goto out;
	}
	const struct json_value *manifests = json_get(json_root(index), "manifests");
	if (json_type(manifests) != JSON_ARRAY) {
		r = not_there_ok ? 0 : errf(s, "index.json: manifests is not an array");
		goto out;
	}
	if (not_there_ok && !names_a_blob(s, manifests)) {
		r = 0;          /* metadata that describes nothing here */
		goto out;
	}
	struct pick pk = { s, sel, sel->platform ? sel->platform : image_host_platform(), img, 0 };
	img->form = s->form;
	if (sel->digest)
		r = take_digest(&pk, manifests);
	else
		r = choose(&pk, manifests, 1);
	r = r < 0 ? -1 : 1;
out:
	json_free(index);
	json_free(layout);
	return r;
}

/* Does docker save entry E have tag REF (name_match)? */
static int
docker_tag_match(const struct json_value *e, const char *ref)
{
	const struct json_value *tags = json_get(e, "RepoTags");

	for (size_t i = 0; i < json_len(tags); i++) {
		const char *t = json_cstr(json_at(tags, i));
		if (t && name_match(t, ref))
			return 1;
	}
	return 0;
}

/* Is the manifest.json of docker save what this archive holds? */
static int
docker_shaped(struct src *s, const struct json_value *root)
{
	struct blob b;

	if (json_type(root) != JSON_ARRAY || json_len(root) == 0)
		return 0;
	for (size_t i = 0; i < json_len(root); i++) {
		const struct json_value *e = json_at(root, i);
		const char *config = json_cstr(json_get(e, "Config"));
		if (!config || json_type(json_get(e, "Layers")) != JSON_ARRAY)
			return 0;
		int r = blob_find(s, config, &b);
		if (r > 0)
			blob_release(&b);
		if (r <= 0)
			return 0;
	}
	return 1;
}

/* The config digest of docker save's config file P (LEN bytes, named
 * CONFIG): the one its name gives, checked, or its hash. NULL: a message. */
static char *
docker_config_digest(struct src *s, const char *config, const char *p, size_t len)
{
	char *digest = digest_of_name(config);

	if (digest && check_digest(s, p, len, digest, config) < 0) {
		free(digest);
		return NULL;
	}
	if (!digest) {
		/* the image id is the config's digest: name it so anyway */
		struct sha256 h;
		unsigned char d[SHA256_DIGEST_SIZE];
		char hex[2 * SHA256_DIGEST_SIZE + 1];
		sha256_init(&h);
		sha256_update(&h, p, len);
		sha256_final(&h, d);
		if ((digest = malloc(7 + sizeof(hex))))
			snprintf(digest, 7 + sizeof(hex), "sha256:%s", sha2_hex(hex, d, sizeof(d)));
		else
			errf(s, "out of memory");
	}
	return digest;
}

/* The layers of docker save entry E, against the config's diff_ids. */
static int
docker_layers(struct src *s, const struct json_value *e, const struct json_value *diff_ids,
	      const char *config, struct image *img)
{
	const struct json_value *layers = json_get(e, "Layers");
	struct blob b;
	int r = 0;

	if (json_type(layers) != JSON_ARRAY || json_len(diff_ids) != json_len(layers))
		return errf(s, "%s: the config has %zu diff_ids for %zu layers", config,
			    json_len(diff_ids), json_len(layers));
	for (size_t i = 0; r == 0 && i < json_len(layers); i++) {
		const char *path = json_cstr(json_at(layers, i));
		const char *diff_id = json_cstr(json_at(diff_ids, i));
		if (!path)
			return errf(s, "manifest.json: layer %zu is not a string", i + 1);
		if (!digest_alg(diff_id))
			return errf(s, "%s: diff_id %zu is not a digest", config, i + 1);
		if ((r = blob_find(s, path, &b)) == 0)
			r = errf(s, "manifest.json: layer %zu: %s is missing", i + 1, path);
		if (r < 0)
			return -1;
		char *ld = digest_of_name(path);
		if (ld && strncmp(path, "blobs/", 6) != 0) {
			free(ld);       /* ID/layer.tar: the id is no digest of it */
			ld = NULL;
		}
		r = add_layer(s, img, &b, ld, diff_id, path, NULL);
		free(ld);
		blob_release(&b);
	}
	return r;
}

/* The image of docker save entry E; PLATFORM, an explicit --platform for
 * the config to match, or NULL. */
static int
docker_image(struct src *s, const struct json_value *e, const char *platform,
	     struct image *img)
{
	const char *config = json_cstr(json_get(e, "Config"));
	struct blob b;
	size_t len;
	int r;

	if ((r = blob_find(s, config, &b)) <= 0)
		return r < 0 ? -1 : errf(s, "%s is missing", config);
	char *p = blob_read(s, &b, config, &len);
	blob_release(&b);
	if (!p)
		return -1;
	char *digest = docker_config_digest(s, config, p, len);
	struct json_doc *doc = digest ? parse(s, p, len, config) : NULL;
	keep_config(img, p, len);
	free(img->chosen);
	img->chosen = digest;
	if (!doc)
		return -1;
	const struct json_value *root = json_root(doc);
	r = config_platform(s, root, platform);
	if (r == 0)
		r = docker_layers(s, e, json_get(json_get(root, "rootfs"), "diff_ids"), config, img);
	json_free(doc);
	return r;
}

/* Docker save entry E for a list: "foo:1.0 bar:2 (sha256:0123456789ab)". */
static void
docker_item(const struct json_value *e, char *item, size_t len)
{
	const struct json_value *tags = json_get(e, "RepoTags");
	const char *config = json_cstr(json_get(e, "Config"));
	char *cd = config ? digest_of_name(config) : NULL;

	item[0] = '\0';
	for (size_t i = 0; i < json_len(tags); i++)
		if (json_cstr(json_at(tags, i)))
			item_name(item, len, json_cstr(json_at(tags, i)));
	size_t n = strlen(item);
	snprintf(item + n, len - n, "%s(%.19s)", n ? " " : "",
		 cd ? cd : config ? config : "no config");
	free(cd);
}

static int
docker_open(struct src *s, const struct json_value *root, const struct image_sel *sel,
	    struct image *img)
{
	const struct json_value *hit = NULL;
	size_t found = 0;
	char list[LIST_LEN] = "", item[LIST_LEN];
	int full = 0;

	img->form = "docker save archive";
	for (size_t i = 0; i < json_len(root); i++) {
		const struct json_value *e = json_at(root, i);
		const char *config = json_cstr(json_get(e, "Config"));
		char *cd = digest_of_name(config);
		int match = 1;
		if (sel->ref)
			match = docker_tag_match(e, sel->ref);
		else if (sel->digest)
			match = cd && strcmp(cd, sel->digest) == 0;
		free(cd);
		docker_item(e, item, sizeof(item));
		if (!full)
			full = list_add(list, sizeof(list), item) < 0;
		if (match && found++ == 0)
			hit = e;
	}
	if (found == 1)
		return docker_image(s, hit, sel->platform, img) < 0 ? -1 : 1;
	if (found == 0)
		return errf(s, "no image %s %s; the input has: %s",
			    sel->ref ? "tagged" : "with config digest",
			    sel->ref ? sel->ref : sel->digest, list);
	return errf(s, "%zu images; the input has: %s (choose one with INPUT:TAG or "
		    "INPUT@DIGEST)", found, list);
}

/* A dir: layout's version file, when it is there, must be the one whose
 * blobs are named HEX (1.0 named them HEX.tar). */
static int
dir_version(struct src *s)
{
	int missing;
	size_t len, n = strlen(DIR_VERSION);
	char *p = read_file(s, "version", 1, &missing, &len);

	if (!p)
		return missing ? 0 : -1;
	int ok = len >= n && memcmp(p, DIR_VERSION, n) == 0 &&
		 (len == n || (len == n + 1 && p[n] == '\n'));
	size_t shown = 0;       /* what it says, up to the first unprintable byte */
	while (shown < len && shown < 60 && p[shown] >= ' ' && p[shown] < 127)
		shown++;
	if (!ok)
		errf(s, "version: \"%.*s\": not a dir: layout tarflat reads (%s)", (int)shown, p,
		     DIR_VERSION);
	free(p);
	return ok ? 0 : -1;
}

/* What manifest.json is, when it does not say (containers/image guesses so
 * too): an index when it has manifests, an image manifest when it has
 * layers; NULL for Docker schema 1, which has neither. */
static const char *
dir_media_type(const struct json_value *root)
{
	const char *mt = json_cstr(json_get(root, "mediaType"));

	if (mt)
		return mt;
	if (json_get(root, "manifests"))
		return MT_OCI_INDEX;
	if (json_get(root, "layers") || json_get(root, "config"))
		return MT_OCI_MANIFEST;
	return NULL;
}

/* The digest of the LEN bytes at P into OUT, "sha256:HEX", or "sha512:HEX"
 * when the digest the user gave, WANT, is a sha512 one. */
static void
dir_digest(const char *p, size_t len, const char *want, char out[136])
{
	static const char sha256_any[] =
		"sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct image_hash h;

	if (digest_alg(want) != 512)
		want = sha256_any;      /* names the algorithm only */
	image_hash_init(&h, want);
	image_hash_update(&h, p, len);
	image_hash_check(&h, want, out);        /* fills OUT; the match is no matter */
}

/* The image of a dir: layout whose manifest.json (LEN bytes at P, digest
 * DIGEST) parsed to ROOT. */
static int
dir_take(struct pick *pk, const struct json_value *root, const char *digest)
{
	struct src *s = pk->s;
	const struct image_sel *sel = pk->sel;
	const char *mt = dir_media_type(root);
	int index = mt && is_index_type(mt);
	char list[LIST_LEN];

	if (!mt || (!index && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_V2) != 0))
		return errf(s, "manifest.json: %s%.100s, which tarflat does not read%s",
			    mt ? "media type " : "no media type, no layers, no manifests",
			    mt ? mt : "", !mt || strcmp(mt, MT_DOCKER_V1) == 0 ||
			    strcmp(mt, MT_DOCKER_V1S) == 0 ? " (Docker schema 1? convert it: "
			    "skopeo copy --format v2s2 dir:DIR dir:NEW)" : "");
	if (index)
		list_index(s, json_get(root, "manifests"), list, sizeof(list));
	else
		snprintf(list, sizeof(list), "(%.19s)", digest);
	if (sel->ref)
		return errf(s, "no image tagged %s: a dir: layout holds one image and names no "
			    "tag; the input has: %s", sel->ref, list[0] ? list : "none");
	if (sel->digest && strcmp(sel->digest, digest) != 0) {
		if (index)
			return take_digest(pk, json_get(root, "manifests"));
		return errf(s, "no manifest with digest %s; the input has: %s", sel->digest,
			    list);
	}
	return take_doc(pk, root, digest, "", index, 0, "manifest.json");
}

/* A dir: layout: version, manifest.json, blobs HEX. */
static int
dir_open(struct src *s, const struct image_sel *sel, struct image *img)
{
	int missing;
	size_t len;
	char digest[136];

	if (dir_version(s) < 0)
		return -1;
	char *p = read_file(s, "manifest.json", 0, &missing, &len);
	if (!p)
		return -1;
	struct json_doc *doc = parse(s, p, len, "manifest.json");
	dir_digest(p, len, sel->digest ? sel->digest : "", digest);
	free(p);
	if (!doc)
		return -1;
	int r;
	const struct json_value *root = json_root(doc);
	if (json_type(root) == JSON_ARRAY)
		r = errf(s, "manifest.json: an array, as in a docker save archive: archive the "
			 "directory again (tar -cf - -C DIR . | tarflat -)");
	else if (json_type(root) != JSON_OBJECT)
		r = errf(s, "manifest.json: not a JSON object");
	else {
		struct pick pk = { s, sel, sel->platform ? sel->platform : image_host_platform(),
				   img, 0 };
		img->form = s->form;
		r = dir_take(&pk, root, digest);
	}
	json_free(doc);
	return r;
}

int
image_open_dir(const char *dir, const struct image_sel *sel, struct image *img,
	       char *err, size_t errlen)
{
	struct src s = { .dir = dir, .fd = -1, .form = "OCI image layout", .err = err,
			 .errlen = errlen };
	struct blob b;
	int r;

	memset(img, 0, sizeof(*img));
	if ((s.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		errf(&s, "%s", strerror(errno));
		return -1;
	}
	if ((r = blob_find(&s, "oci-layout", &b)) > 0) {
		blob_release(&b);
		r = oci_open(&s, sel, img, 0);
	} else if (r == 0 && (r = blob_find(&s, "manifest.json", &b)) > 0) {
		blob_release(&b);
		s.dirform = 1;
		s.form = "dir: layout";
		r = dir_open(&s, sel, img);
	} else if (r == 0) {
		r = errf(&s, "not an image layout: no oci-layout (an OCI image layout) and no "
			 "manifest.json (a dir: layout, as skopeo and podman write it)");
	}
	close(s.dirfd);
	if (r < 0) {
		image_free(img);
		return -1;
	}
	return 1;
}

int
image_open_archive(const char *file, int fd, const struct image_member *m, size_t n,
		   const struct image_sel *sel, struct image *img, char *err, size_t errlen)
{
	struct src s = { .file = file, .fd = fd, .dirfd = -1, .m = m, .n = n,
			 .form = "OCI archive", .err = err, .errlen = errlen };
	int r = 0, missing;

	memset(img, 0, sizeof(*img));
	if (members_sort(&s) < 0)
		return -1;
	if (member_get(&s, "oci-layout") && member_get(&s, "index.json")) {
		if (member_get(&s, "manifest.json"))
			s.form = "docker save archive";
		r = oci_open(&s, sel, img, 1);
	}
	if (r == 0 && member_get(&s, "manifest.json")) {
		struct json_doc *doc = read_json(&s, "manifest.json", 1, &missing);
		/* a layer holding a file called manifest.json is still a layer */
		if (doc && docker_shaped(&s, json_root(doc)))
			r = docker_open(&s, json_root(doc), sel, img);
		json_free(doc);
	}
	free(s.sorted);
	if (r <= 0)
		image_free(img);
	if (r == 0)
		err[0] = '\0';
	return r;
}

void
image_free(struct image *img)
{
	for (size_t i = 0; i < img->nlayers; i++) {
		free(img->layers[i].file);
		if (img->layers[i].fd >= 0)
			close(img->layers[i].fd);
		free(img->layers[i].digest);
		free(img->layers[i].diff_id);
		free(img->layers[i].label);
		free(img->layers[i].media_type);
	}
	free(img->layers);
	free(img->chosen);
	free(img->config);
	memset(img, 0, sizeof(*img));
}
