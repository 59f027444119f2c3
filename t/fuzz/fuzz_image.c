/*
 * fuzz_image.c - reading image metadata (image.c over json.c): an OCI
 * archive's oci-layout, index.json, nested indexes, manifests and configs,
 * or a docker save archive's manifest.json and config.
 *
 * A random blob would never match the digest its descriptor names, so the
 * input is a list of parts split at lines "--": part 0 is index.json (or,
 * when it starts with '[', docker save's manifest.json), part I > 0 is
 * stored as blobs/sha256/HEX, HEX its own SHA-256. In every part "@I"
 * becomes part I's digest ("sha256:HEX"), "$I" its name ("blobs/...",
 * for docker save's paths) and "#I" its size; parts are
 * finished from the last to the first, so a part can name those after it
 * and the digests still hold. Checked beyond "no crash, no leak": an image
 * found has layers that lie inside the archive, each with a digest or a
 * diff_id that is well formed, and every call returns 1, 0 or -1 with a
 * message exactly when it says it failed.
 */
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "sha2.h"

#define MAX_PARTS 16
#define MAX_PART (64 * 1024)

struct part {
	char *p;
	size_t len;
	char digest[80];
};

/* Part I with "@J" and "#J" (J > I) replaced. */
static void
finish(struct part *v, size_t n, size_t i, const uint8_t *src, size_t len)
{
	char *out = malloc(len * 4 + 1);
	size_t o = 0;

	FUZZ_ASSERT(out, "out of memory");
	for (size_t k = 0; k < len; k++) {
		size_t j = k + 1 < len ? (size_t)(src[k + 1] - '0') : 99;
		if ((src[k] == '@' || src[k] == '#' || src[k] == '$') && j < n && j > i &&
		    o + 90 < len * 4) {
			if (src[k] == '@')
				o += (size_t)sprintf(out + o, "%s", v[j].digest);
			else if (src[k] == '$')
				o += (size_t)sprintf(out + o, "blobs/sha256/%s", v[j].digest + 7);
			else
				o += (size_t)sprintf(out + o, "%zu", v[j].len);
			k++;
			continue;
		}
		if (o + 1 < len * 4 + 1)
			out[o++] = (char)src[k];
	}
	v[i].p = out;
	v[i].len = o;
	struct sha256 h;
	unsigned char d[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	sha256_init(&h);
	sha256_update(&h, out, o);
	sha256_final(&h, d);
	snprintf(v[i].digest, sizeof(v[i].digest), "sha256:%s", sha2_hex(hex, d, sizeof(d)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *start[MAX_PARTS];
	size_t len[MAX_PARTS], n = 0;
	struct part v[MAX_PARTS];
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

	if (size > 4 * MAX_PART)
		return 0;
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
		finish(v, n, i, start[i], len[i]);

	/* the archive: its members back to back in a memfd */
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0, "memfd_create failed");
	struct image_member m[MAX_PARTS + 2];
	char names[MAX_PARTS][96];
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
			snprintf(names[i], sizeof(names[i]), "%s", docker ? "manifest.json" : "index.json");
		else
			snprintf(names[i], sizeof(names[i]), "blobs/sha256/%s", v[i].digest + 7);
		m[nm++] = (struct image_member){ names[i], '0', "", off, v[i].len };
		FUZZ_ASSERT(v[i].len == 0 || write(fd, v[i].p, v[i].len) == (ssize_t)v[i].len,
			    "write failed");
		off += v[i].len;
	}
	/* a symlink member, as skopeo writes them */
	m[nm++] = (struct image_member){ "layer.tar", '2', n > 1 ? names[n - 1] : "nowhere", 0, 0 };

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
	for (size_t i = 0; i < n; i++)
		free(v[i].p);
	return 0;
}
