/*
 * imgmeta.c - the metadata of the image tarflat writes (see imgmeta.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imgmeta.h"
#include "json.h"
#include "jsonw.h"
#include "mem.h"
#include "sha2.h"

#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"

/* W's text as a blob, its digest computed; W is then done. */
static void
blob_of(struct jsonw *w, struct imgmeta_blob *out)
{
	struct sha256 h;
	unsigned char d[SHA256_DIGEST_SIZE];

	out->p = w->p;
	out->len = w->len;
	sha256_init(&h);
	sha256_update(&h, out->p, out->len);
	sha256_final(&h, d);
	memcpy(out->digest, "sha256:", 7);
	sha2_hex(out->digest + 7, d, sizeof(d));
}

void
imgmeta_blob_free(struct imgmeta_blob *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int
is_key(const struct json_value *obj, size_t i, const char *key)
{
	size_t n;
	const char *k = json_key_at(obj, i, &n);

	return k && n == strlen(key) && memcmp(k, key, n) == 0;
}

/* rootfs: the input's first KEPT diff_ids (DIFF_IDS), then the new
 * layers'. */
static void
put_rootfs(const struct imgmeta_in *in, struct jsonw *w, const struct json_value *diff_ids)
{
	jsonw_object(w);
	jsonw_key(w, "type");
	jsonw_cstr(w, "layers");
	jsonw_key(w, "diff_ids");
	jsonw_array(w);
	for (size_t i = 0; i < in->kept; i++)
		jsonw_value(w, json_at(diff_ids, i));
	for (size_t i = in->kept; i < in->nlayers; i++)
		jsonw_cstr(w, in->layers[i].diff_id);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

/* Is history entry H for no layer (empty_layer: true)? */
static int
empty_layer(const struct json_value *h)
{
	int b = 0;

	return json_bool(json_get(h, "empty_layer"), &b) == 0 && b;
}

/* How many entries of HISTORY are of a layer. */
static size_t
history_layers(const struct json_value *history)
{
	size_t n = 0;

	for (size_t i = 0; i < json_len(history); i++)
		n += !empty_layer(json_at(history, i));
	return n;
}

/* An RFC 3339 time ("2024-01-02T03:04:05.5+01:00") into *T, seconds since
 * 1970 (the fraction dropped). Returns 0, or -1 when S is not one. */
static int
rfc3339(const char *s, int64_t *t)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	char sign;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.')
		while (*++s >= '0' && *s <= '9')
			;
	if (*s == 'Z' || *s == 'z')
		sign = '+';
	else if ((*s != '+' && *s != '-') || sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
		return -1;
	else
		sign = *s;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm) - (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return 0;
}

/*
 * The date of what tarflat writes: the input's CREATED (a value of its
 * config, or NULL) as it was, or --mtime's: every date T, or with
 * --clamp-mtime only a later one (or one that cannot be read) lowered to
 * T. Returns 0 when there is no date to write.
 */
static int
put_date(const struct imgmeta_in *in, struct jsonw *w, const struct json_value *created)
{
	int64_t t;

	if (!in->mtime_set && !created)
		return 0;
	if (in->mtime_set && (!in->clamp || !created ||
			      rfc3339(json_cstr(created), &t) < 0 || t > in->mtime))
		jsonw_time(w, in->mtime);
	else
		jsonw_value(w, created);
	return 1;
}

/*
 * history: the input's entries up to that of the last layer kept, then
 * one for the new layer, dated by --mtime, else the config's "created",
 * else the last entry kept's.
 */
static void
put_history(const struct imgmeta_in *in, struct jsonw *w, const struct json_value *config)
{
	const struct json_value *hist = json_get(config, "history"), *created = NULL;
	size_t layers = 0;

	jsonw_array(w);
	for (size_t i = 0; i < json_len(hist) && layers < in->kept; i++) {
		const struct json_value *h = json_at(hist, i);
		jsonw_value(w, h);
		layers += !empty_layer(h);
		if (json_get(h, "created"))
			created = json_get(h, "created");
	}
	if (json_type(json_get(config, "created")) == JSON_STRING)
		created = json_get(config, "created");
	jsonw_object(w);
	if (in->mtime_set || created) {
		jsonw_key(w, "created");
		put_date(in, w, created);
	}
	jsonw_key(w, "created_by");
	jsonw_cstr(w, in->created_by);
	jsonw_end_object(w);
	jsonw_end_array(w);
}

/* The input's config ROOT, rootfs and history replaced in place. */
static void
put_config(const struct imgmeta_in *in, struct jsonw *w, const struct json_value *root)
{
	const struct json_value *diff_ids = json_get(json_get(root, "rootfs"), "diff_ids");
	int rootfs = 0, history = 0;

	jsonw_object(w);
	for (size_t i = 0; i < json_len(root); i++) {
		size_t n;
		const char *k = json_key_at(root, i, &n);
		jsonw_keyn(w, k, n);
		if (is_key(root, i, "rootfs") && (rootfs = 1))
			put_rootfs(in, w, diff_ids);
		else if (is_key(root, i, "history") && (history = 1))
			put_history(in, w, root);
		else if (is_key(root, i, "created"))
			put_date(in, w, json_at(root, i));
		else
			jsonw_value(w, json_at(root, i));
	}
	if (!rootfs) {
		jsonw_key(w, "rootfs");
		put_rootfs(in, w, diff_ids);
	}
	if (!history) {
		jsonw_key(w, "history");
		put_history(in, w, root);
	}
	jsonw_end_object(w);
}

/* A config for layers that came without one: the platform's, no more. */
static void
new_config(const struct imgmeta_in *in, struct jsonw *w)
{
	char os[64] = "", arch[64] = "", variant[64] = "";

	sscanf(in->platform, "%63[^/]/%63[^/]/%63s", os, arch, variant);
	jsonw_object(w);
	if (in->mtime_set) {
		jsonw_key(w, "created");
		jsonw_time(w, in->mtime);
	}
	jsonw_key(w, "architecture");
	jsonw_cstr(w, arch);
	jsonw_key(w, "os");
	jsonw_cstr(w, os);
	if (variant[0]) {
		jsonw_key(w, "variant");
		jsonw_cstr(w, variant);
	}
	jsonw_key(w, "config");
	jsonw_object(w);
	jsonw_end_object(w);
	jsonw_key(w, "rootfs");
	put_rootfs(in, w, NULL);
	jsonw_key(w, "history");
	put_history(in, w, NULL);
	jsonw_end_object(w);
}

struct json_doc *
imgmeta_read_config(const char *p, size_t len, size_t kept, char *msg, size_t msglen)
{
	struct json_error je;
	struct json_doc *doc = json_parse(p, len, NULL, &je);

	if (!doc) {
		snprintf(msg, msglen, "the image's config: offset %zu: %s", je.offset, je.msg);
		return NULL;
	}
	const struct json_value *root = json_root(doc);
	const struct json_value *ids = json_get(json_get(root, "rootfs"), "diff_ids");
	const struct json_value *history = json_get(root, "history");
	const char *why = json_type(root) != JSON_OBJECT ? "it is not a JSON object"
			: json_len(ids) < kept ? "its rootfs.diff_ids name fewer layers "
			"than are kept" : NULL;
	for (size_t i = 0; !why && i < kept; i++)
		if (!json_cstr(json_at(ids, i)))
			why = "a diff_id is not a string";
	if (!why && json_len(history) && history_layers(history) < kept)
		why = "its history names fewer layers than are kept";
	if (why) {
		snprintf(msg, msglen, "the image's config: %s", why);
		json_free(doc);
		return NULL;
	}
	return doc;
}

void
imgmeta_config(const struct imgmeta_in *in, struct imgmeta_blob *out)
{
	struct jsonw w;

	jsonw_init(&w);
	if (in->config)
		put_config(in, &w, in->config);
	else
		new_config(in, &w);
	blob_of(&w, out);
}

/* A descriptor: {"mediaType","digest","size" ...: left open for the
 * caller to add to, and close. */
static void
put_desc(struct jsonw *w, const char *media_type, const char *digest, uint64_t size)
{
	jsonw_object(w);
	jsonw_key(w, "mediaType");
	jsonw_cstr(w, media_type);
	jsonw_key(w, "digest");
	jsonw_cstr(w, digest);
	jsonw_key(w, "size");
	jsonw_int(w, (int64_t)size);
}

void
imgmeta_manifest(const struct imgmeta_in *in, const struct imgmeta_blob *config,
		 struct imgmeta_blob *out)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_object(&w);
	jsonw_key(&w, "schemaVersion");
	jsonw_int(&w, 2);
	jsonw_key(&w, "mediaType");
	jsonw_cstr(&w, MT_MANIFEST);
	jsonw_key(&w, "config");
	put_desc(&w, MT_CONFIG, config->digest, config->len);
	jsonw_end_object(&w);
	jsonw_key(&w, "layers");
	jsonw_array(&w);
	for (size_t i = 0; i < in->nlayers; i++) {
		const struct imgmeta_layer *l = &in->layers[i];
		put_desc(&w, l->media_type, l->digest, l->size);
		jsonw_end_object(&w);
	}
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	blob_of(&w, out);
}

const char *
imgmeta_docker_tag(const char *tag, char *buf, size_t len)
{
	const char *slash = strrchr(tag, '/');
	const char *colon = strrchr(slash ? slash : tag, ':');

	snprintf(buf, len, "%s%s", tag, colon ? "" : ":latest");
	return buf;
}

/* TAG as a whole name, as docker and containerd write it: ":latest" when
 * it has no tag, and the registry docker.io (and library/ for a name of
 * one component) when its first component names no host ("foo" is
 * docker.io/library/foo:latest; "reg:5000/foo" and "localhost/foo" keep
 * theirs). In BUF. */
static const char *
full_name(const char *tag, char *buf, size_t len)
{
	char t[300];          /* a tag is at most 255 bytes (tarflat.c) */
	const char *slash = strchr(imgmeta_docker_tag(tag, t, sizeof(t)), '/');
	size_t first = slash ? (size_t)(slash - t) : 0;
	int host = slash && (memchr(t, '.', first) || memchr(t, ':', first) ||
			     (first == 9 && memcmp(t, "localhost", 9) == 0));

	snprintf(buf, len, "%s%s", host ? "" : slash ? "docker.io/" : "docker.io/library/", t);
	return buf;
}

void
imgmeta_index(const struct imgmeta_blob *manifest, const char *tag, int docker,
	      struct imgmeta_blob *out)
{
	struct jsonw w;
	char name[600];

	jsonw_init(&w);
	jsonw_object(&w);
	jsonw_key(&w, "schemaVersion");
	jsonw_int(&w, 2);
	jsonw_key(&w, "mediaType");
	jsonw_cstr(&w, MT_INDEX);
	jsonw_key(&w, "manifests");
	jsonw_array(&w);
	put_desc(&w, MT_MANIFEST, manifest->digest, manifest->len);
	if (tag) {
		jsonw_key(&w, "annotations");
		jsonw_object(&w);
		if (docker) {
			/* Docker 25: the whole name, and the tag alone as the ref */
			const char *full = full_name(tag, name, sizeof(name));
			jsonw_key(&w, "io.containerd.image.name");
			jsonw_cstr(&w, full);
			jsonw_key(&w, "org.opencontainers.image.ref.name");
			jsonw_cstr(&w, strrchr(full, ':') + 1);
		} else {
			jsonw_key(&w, "org.opencontainers.image.ref.name");
			jsonw_cstr(&w, tag);
		}
		jsonw_end_object(&w);
	}
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	blob_of(&w, out);
}

const char *
imgmeta_blob_path(const char *digest, char *buf, size_t len)
{
	const char *colon = strchr(digest, ':');

	snprintf(buf, len, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
	return buf;
}

void
imgmeta_docker(const struct imgmeta_in *in, const struct imgmeta_blob *config,
	       const char *tag, struct imgmeta_blob *out)
{
	struct jsonw w;
	char path[128], name[600];

	jsonw_init(&w);
	jsonw_array(&w);
	jsonw_object(&w);
	jsonw_key(&w, "Config");
	jsonw_cstr(&w, imgmeta_blob_path(config->digest, path, sizeof(path)));
	jsonw_key(&w, "RepoTags");
	jsonw_array(&w);
	if (tag)
		jsonw_cstr(&w, imgmeta_docker_tag(tag, name, sizeof(name)));
	jsonw_end_array(&w);
	jsonw_key(&w, "Layers");
	jsonw_array(&w);
	for (size_t i = 0; i < in->nlayers; i++)
		jsonw_cstr(&w, imgmeta_blob_path(in->layers[i].digest, path, sizeof(path)));
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	blob_of(&w, out);
}
