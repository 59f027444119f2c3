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
 * Every metadata blob read is checked against its digest and size before
 * it is parsed; the layers' sizes are checked here, their digests by the
 * caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image.h"
#include "json.h"

#define MAX_HOPS 8              /* symlink members followed to a blob */
#define MAX_NEST 8              /* image indexes inside indexes */
#define MAX_LAYERS 100000

#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2    "application/vnd.docker.distribution.manifest.v2+json"

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
	const char *dir;
	const char *file;
	int fd;
	const struct image_member *m;
	size_t n;
	const char *form;
	char *err;
	size_t errlen;
};

/* A blob: LEN bytes at OFF in FILE (owned). */
struct blob {
	char *file;
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
xstrdup(const char *p)
{
	return p ? strdup(p) : NULL;
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

/* "blobs/ALG/HEX" for a well-formed digest; owned by the caller. */
static char *
blob_path(const char *digest)
{
	size_t n = strlen(digest) + 8;
	char *p = malloc(n);

	if (p)
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

static const struct image_member *
member_get(const struct src *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->m[i].name, name) == 0)
			return &s->m[i];
	return NULL;
}

/*
 * blob_find: the blob at REL (a path relative to the image's top). In an
 * archive a symlink or hardlink member leads to another member. Returns 1
 * with *B filled, 0 when there is no such regular file, -1 on error.
 */
static int
blob_find(struct src *s, const char *rel, struct blob *b)
{
	memset(b, 0, sizeof(*b));
	if (s->dir) {
		size_t n = strlen(s->dir) + strlen(rel) + 2;
		struct stat st;
		if (!(b->file = malloc(n)))
			return errf(s, "out of memory");
		snprintf(b->file, n, "%s/%s", s->dir, rel);
		if (stat(b->file, &st) < 0 || !S_ISREG(st.st_mode)) {
			int missing = errno == ENOENT || errno == ENOTDIR || !S_ISREG(st.st_mode);
			if (!missing)
				errf(s, "%s: %s", rel, strerror(errno));
			free(b->file);
			b->file = NULL;
			return missing ? 0 : -1;
		}
		b->len = (uint64_t)st.st_size;
		return 1;
	}
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
	int fd = s->dir ? open(b->file, O_RDONLY | O_CLOEXEC) : s->fd;
	char *p = malloc(b->len ? (size_t)b->len : 1);
	size_t done = 0;

	if (fd < 0 || !p) {
		errf(s, "%s: %s", what, fd < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	while (done < b->len) {
		ssize_t r = pread(fd, p + done, (size_t)b->len - done, (off_t)(b->off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errf(s, "%s: %s", what, r < 0 ? strerror(errno) : "shorter than its size");
			goto fail;
		}
		done += (size_t)r;
	}
	if (s->dir)
		close(fd);
	*len = done;
	return p;
fail:
	if (s->dir && fd >= 0)
		close(fd);
	free(p);
	return NULL;
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

/* Reads and parses the blob at REL; 0 (and no message) when it is missing,
 * when MISSING_OK. */
static struct json_doc *
read_json(struct src *s, const char *rel, int missing_ok, int *missing)
{
	struct blob b;
	size_t len;
	int r = blob_find(s, rel, &b);

	*missing = r == 0;
	if (r <= 0) {
		if (r == 0 && !missing_ok)
			errf(s, "%s is missing", rel);
		return NULL;
	}
	char *p = blob_read(s, &b, rel, &len);
	free(b.file);
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
 * The blob a descriptor names, its size checked. Returns 1, or 0 when it
 * is missing (no message), -1 on error.
 */
static int
desc_blob(struct src *s, const struct desc *d, struct blob *b)
{
	char *rel = blob_path(d->digest);

	if (!rel)
		return errf(s, "out of memory");
	int r = blob_find(s, rel, b);
	if (r > 0 && b->len != d->size) {
		r = errf(s, "%s: wrong size: %llu bytes, the descriptor says %llu", rel,
			 (unsigned long long)b->len, (unsigned long long)d->size);
		free(b->file);
		b->file = NULL;
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

/* Reads, checks and parses the metadata blob D names (WHAT: "manifest"). */
static struct json_doc *
desc_json(struct src *s, const struct desc *d, const char *what)
{
	struct blob b;
	size_t len;
	char label[200];
	int r = desc_blob(s, d, &b);

	snprintf(label, sizeof(label), "%s %s", what, d->digest);
	if (r == 0)
		errf(s, "%s: blob %s is missing", label, d->digest);
	if (r <= 0)
		return NULL;
	char *p = blob_read(s, &b, label, &len);
	free(b.file);
	if (!p)
		return NULL;
	struct json_doc *doc = NULL;
	if (check_digest(s, p, len, d->digest, label) == 0)
		doc = parse(s, p, len, label);
	free(p);
	return doc;
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

/* A tag as docker and nerdctl write it, without the default registry. */
static const char *
short_name(const char *name)
{
	if (strncmp(name, "docker.io/library/", 18) == 0)
		return name + 18;
	if (strncmp(name, "docker.io/", 10) == 0)
		return name + 10;
	return name;
}

/* Does descriptor D carry the tag REF (OCI ref.name, or containerd's full
 * image name, with or without docker.io/library/)? */
static int
ref_match(const struct desc *d, const char *ref)
{
	const char *r = annotation(d, "org.opencontainers.image.ref.name");
	const char *c = annotation(d, "io.containerd.image.name");
	const char *sr = short_name(ref);
	size_t n = strlen(sr);

	if (r && strcmp(r, ref) == 0)
		return 1;
	if (!c)
		return 0;
	if (strcmp(c, ref) == 0 || strcmp(short_name(c), sr) == 0)
		return 1;
	/* "app" is app:latest, as docker reads it */
	return !strchr(sr, ':') && !strchr(sr, '@') && strncmp(short_name(c), sr, n) == 0 &&
	       strcmp(short_name(c) + n, ":latest") == 0;
}

/* Appends ", NAME" to the list in BUF (at most LEN bytes). */
static void
list_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	if (n + 3 < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

struct pick {
	struct src *s;
	const struct image_sel *sel;
	const char *platform;   /* what to match in an index */
	struct image *img;
	int depth;
};

static int take_manifest(struct pick *pk, const struct desc *d);

/* "TAG (sha256:0123456789ab)" or the platform of candidate D, for a list
 * of choices. */
static void
candidate_name(const struct desc *d, char *buf, size_t len)
{
	const char *tag = annotation(d, "org.opencontainers.image.ref.name");
	char pname[140];

	platform_name(d, pname, sizeof(pname));
	snprintf(buf, len, "%.60s%s(%.19s%s%s)", tag ? tag : "", tag ? " " : "", d->digest,
		 json_get(d->v, "platform") ? " " : "",
		 json_get(d->v, "platform") ? pname : "");
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
	size_t n = json_len(manifests), nc = 0, np = 0, with_platform = 0;
	struct desc d, hit = { 0 }, *c;
	char names[400] = "", cands[600] = "", one[240];
	int r;

	if (json_type(manifests) != JSON_ARRAY)
		return errf(s, "index: manifests is not an array");
	if (!(c = calloc(n ? n : 1, sizeof(*c))))
		return errf(s, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (desc_parse(s, json_at(manifests, i), "index: manifests", &d) < 0) {
			free(c);
			return -1;
		}
		const char *name = annotation(&d, "org.opencontainers.image.ref.name");
		if (is_attestation(&d))
			continue;
		list_add(names, sizeof(names), name ? name : d.digest);
		if (tag && !ref_match(&d, tag))
			continue;
		size_t k = 0;
		while (k < nc && strcmp(c[k].digest, d.digest) != 0)
			k++;
		if (k == nc)
			c[nc++] = d;
	}
	for (size_t i = 0; i < nc; i++) {
		candidate_name(&c[i], one, sizeof(one));
		list_add(cands, sizeof(cands), one);
		if (!json_get(c[i].v, "platform"))
			continue;
		with_platform++;
		if (platform_match(&c[i], pk->platform) && np++ == 0)
			hit = c[i];
	}
	if (nc == 1 && !with_platform)
		hit = c[0], np = 1;
	free(c);
	if (np == 1)
		return take_manifest(pk, &hit);
	if (tag && nc == 0)
		r = errf(s, "no image tagged %s; the image has: %s", tag,
			 names[0] ? names : "none");
	else if (nc == 0)
		r = errf(s, "the index lists no image");
	else if (np == 0 && with_platform)
		r = errf(s, "no image for platform %s; the image has: %s (choose one with "
			 "--platform)", pk->platform, cands);
	else if (np > 1)
		r = errf(s, "%zu images for platform %s; the image has: %s (choose one with "
			 "INPUT@DIGEST)", np, pk->platform, cands);
	else
		r = errf(s, "%zu images%s%s; the image has: %s (choose one with %s)", nc,
			 tag ? " tagged " : "", tag ? tag : "", cands,
			 tag ? "INPUT@DIGEST" : "INPUT:TAG or INPUT@DIGEST");
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

static int
add_layer(struct src *s, struct image *img, struct blob *b, const char *digest,
	  const char *diff_id, const char *label)
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
	b->file = NULL;
	l->off = b->off;
	l->len = s->dir ? UINT64_MAX : b->len;
	l->digest = xstrdup(digest);
	l->diff_id = xstrdup(diff_id);
	l->label = xstrdup(label);
	if (!l->file || (digest && !l->digest) || (diff_id && !l->diff_id) || !l->label)
		return errf(s, "out of memory");
	return 0;
}

/* The layers of image manifest DOC (digest DIGEST). */
/* An explicit --platform against what the config says the image is for,
 * when no descriptor said it. */
static int
config_platform(struct src *s, const struct json_value *config, const char *want)
{
	const char *os = json_cstr(json_get(config, "os"));
	const char *arch = json_cstr(json_get(config, "architecture"));
	const char *var = json_cstr(json_get(config, "variant"));

	if (!os || !arch || os_arch_match(os, arch, var, want))
		return 0;       /* it says nothing, or the right thing */
	return errf(s, "the image is for %.40s/%.40s%s%.40s, not --platform %s", os, arch,
		    var ? "/" : "", var ? var : "", want);
}

/* The layers of image manifest MAN; PLATFORM is an explicit --platform
 * to check the config against, or NULL. */
static int
oci_layers(struct src *s, const struct json_value *man, struct image *img,
	   const char *platform)
{
	const struct json_value *layers = json_get(man, "layers");
	struct desc d;
	char where[64];

	if (desc_parse(s, json_get(man, "config"), "manifest: config", &d) < 0)
		return -1;
	struct json_doc *config = desc_json(s, &d, "config");
	if (!config)
		return -1;
	int bad = platform && config_platform(s, json_root(config), platform) < 0;
	json_free(config);
	if (bad)
		return -1;
	if (json_type(layers) != JSON_ARRAY)
		return errf(s, "manifest: layers is not an array");
	for (size_t i = 0; i < json_len(layers); i++) {
		struct blob b;
		snprintf(where, sizeof(where), "manifest: layer %zu", i + 1);
		if (desc_parse(s, json_at(layers, i), where, &d) < 0)
			return -1;
		if (!known_layer_type(d.media_type))
			return errf(s, "%s: %s: unknown media type %.100s", where, d.digest,
				    d.media_type[0] ? d.media_type : "(none)");
		int r = desc_blob(s, &d, &b);
		if (r == 0 && json_len(json_get(d.v, "urls")))
			return errf(s, "%s: %s is a foreign layer, not in the image (only "
				    "its URLs are): fetch it into the image first", where, d.digest);
		if (r == 0)
			return errf(s, "%s: blob %s is missing", where, d.digest);
		if (r < 0)
			return -1;
		char *label = blob_path(d.digest);
		r = add_layer(s, img, &b, d.digest, NULL, label ? label : d.digest);
		free(label);
		free(b.file);
		if (r < 0)
			return -1;
	}
	return 0;
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
	const struct json_value *root = json_root(doc);
	const char *mt = json_cstr(json_get(root, "mediaType"));
	int r;
	if (mt && strcmp(mt, d->media_type[0] ? d->media_type : mt) != 0)
		r = errf(s, "%s: the blob says it is %.100s, its descriptor %.100s", d->digest,
			 mt, d->media_type);
	else if (index || (mt && is_index_type(mt))) {
		pk->depth++;
		r = choose(pk, json_get(root, "manifests"), 0);
		pk->depth--;
	} else {
		free(pk->img->chosen);
		pk->img->chosen = strdup(d->digest);
		r = oci_layers(s, root, pk->img, json_get(d->v, "platform") ? NULL
						 : pk->sel->platform);
	}
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
		char *rel = blob_path(d.digest);
		int r = rel ? blob_find(s, rel, &b) : -1;
		free(rel);
		free(b.file);
		if (r > 0)
			return 1;
	}
	return 0;
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
	if (sel->digest) {
		r = find_digest(&pk, manifests, sel->digest);
		if (r == 0)
			r = errf(s, "no manifest with digest %s", sel->digest);
	} else {
		r = choose(&pk, manifests, 1);
	}
	r = r < 0 ? -1 : 1;
out:
	json_free(index);
	json_free(layout);
	return r;
}

/* Does docker save entry E have tag REF (with ":latest" implied)? */
static int
docker_tag_match(const struct json_value *e, const char *ref)
{
	const struct json_value *tags = json_get(e, "RepoTags");
	size_t rl = strlen(ref);

	for (size_t i = 0; i < json_len(tags); i++) {
		const char *t = json_cstr(json_at(tags, i));
		if (!t)
			continue;
		if (strcmp(t, ref) == 0 || strcmp(short_name(t), short_name(ref)) == 0)
			return 1;
		if (!strchr(short_name(ref), ':') && strncmp(t, ref, rl) == 0 &&
		    strcmp(t + rl, ":latest") == 0)
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
		free(b.file);
		if (r <= 0)
			return 0;
	}
	return 1;
}

static int
docker_image(struct src *s, const struct json_value *e, struct image *img)
{
	const char *config = json_cstr(json_get(e, "Config"));
	const struct json_value *layers = json_get(e, "Layers");
	struct blob b;
	size_t len;
	int r;

	if ((r = blob_find(s, config, &b)) <= 0)
		return r < 0 ? -1 : errf(s, "%s is missing", config);
	char *p = blob_read(s, &b, config, &len);
	free(b.file);
	if (!p)
		return -1;
	char *digest = digest_of_name(config);
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
	} else if (check_digest(s, p, len, digest, config) < 0) {
		free(p);
		free(digest);
		return -1;
	}
	free(img->chosen);
	img->chosen = digest;
	struct json_doc *doc = parse(s, p, len, config);
	free(p);
	if (!doc)
		return -1;
	const struct json_value *diff_ids = json_get(json_get(json_root(doc), "rootfs"), "diff_ids");
	r = 0;
	if (json_type(layers) != JSON_ARRAY || json_len(diff_ids) != json_len(layers))
		r = errf(s, "%s: the config has %zu diff_ids for %zu layers", config,
			 json_len(diff_ids), json_len(layers));
	for (size_t i = 0; r == 0 && i < json_len(layers); i++) {
		const char *path = json_cstr(json_at(layers, i));
		const char *diff_id = json_cstr(json_at(diff_ids, i));
		if (!path)
			r = errf(s, "manifest.json: layer %zu is not a string", i + 1);
		else if (!digest_alg(diff_id))
			r = errf(s, "%s: diff_id %zu is not a digest", config, i + 1);
		else if ((r = blob_find(s, path, &b)) == 0)
			r = errf(s, "manifest.json: layer %zu: %s is missing", i + 1, path);
		if (r < 0)
			break;
		char *ld = digest_of_name(path);
		if (ld && strncmp(path, "blobs/", 6) != 0) {
			free(ld);       /* ID/layer.tar: the id is no digest of it */
			ld = NULL;
		}
		r = add_layer(s, img, &b, ld, diff_id, path);
		free(ld);
		free(b.file);
	}
	json_free(doc);
	return r;
}

static int
docker_open(struct src *s, const struct json_value *root, const struct image_sel *sel,
	    struct image *img)
{
	const struct json_value *hit = NULL;
	size_t found = 0;
	char names[400] = "";

	img->form = "docker save archive";
	for (size_t i = 0; i < json_len(root); i++) {
		const struct json_value *e = json_at(root, i);
		const struct json_value *tags = json_get(e, "RepoTags");
		const char *config = json_cstr(json_get(e, "Config"));
		char *cd = digest_of_name(config);
		int match = 1;
		if (sel->ref)
			match = docker_tag_match(e, sel->ref);
		else if (sel->digest)
			match = cd && strcmp(cd, sel->digest) == 0;
		list_add(names, sizeof(names), json_len(tags) ? json_cstr(json_at(tags, 0)) : config);
		free(cd);
		if (match && found++ == 0)
			hit = e;
	}
	if (found == 1)
		return docker_image(s, hit, img) < 0 ? -1 : 1;
	if (found == 0)
		return errf(s, "no image %s %s; the archive has: %s",
			    sel->ref ? "tagged" : "with config digest",
			    sel->ref ? sel->ref : sel->digest, names);
	return errf(s, "%zu images in the archive: %s (choose one with INPUT:TAG)", found, names);
}

int
image_open_dir(const char *dir, const struct image_sel *sel, struct image *img,
	       char *err, size_t errlen)
{
	struct src s = { .dir = dir, .fd = -1, .form = "OCI image layout", .err = err,
			 .errlen = errlen };

	memset(img, 0, sizeof(*img));
	if (oci_open(&s, sel, img, 0) < 0) {
		image_free(img);
		return -1;
	}
	return 1;
}

int
image_open_archive(const char *file, int fd, const struct image_member *m, size_t n,
		   const struct image_sel *sel, struct image *img, char *err, size_t errlen)
{
	struct src s = { .file = file, .fd = fd, .m = m, .n = n, .form = "OCI archive",
			 .err = err, .errlen = errlen };
	int r = 0, missing;

	memset(img, 0, sizeof(*img));
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
		free(img->layers[i].digest);
		free(img->layers[i].diff_id);
		free(img->layers[i].label);
	}
	free(img->layers);
	free(img->chosen);
	memset(img, 0, sizeof(*img));
}
