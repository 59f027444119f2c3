/*
 * image.h - container images as input: an OCI image layout (a directory),
 * an OCI archive (a tar of one), what `docker save` writes (its old form,
 * manifest.json with ID/layer.tar, and Docker 25's, which adds an OCI
 * layout), and a dir: layout (a directory as skopeo's dir: transport and
 * `podman save --format docker-dir` write it: manifest.json, version,
 * blobs named by bare hex digest). image.c reads the metadata (index,
 * manifests, config),
 * picks one image by tag, digest and platform, checks every metadata blob
 * against its digest and size, and hands back the image's layers, oldest
 * first, as byte ranges of files: nothing is extracted or copied. The
 * layers themselves are checked by the caller while it indexes them
 * (image_hash_*), so no byte is read twice for it.
 *
 * Nothing here prints or exits: failures are a message in a buffer.
 */
#ifndef TARFLAT_IMAGE_H
#define TARFLAT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sha2.h"

/* One layer: the LEN bytes at OFF in FILE (a whole blob of a layout
 * directory, OFF 0, LEN its size, checked; LEN may be 0: an empty layer). */
struct image_layer {
	char *file;
	int fd;                 /* a layout's blob: FILE opened beneath the
	                         * layout directory (read this, not FILE, which
	                         * only names it: the path may lead elsewhere by
	                         * now); the image owns it until image_free,
	                         * unless the caller takes it (sets it to -1).
	                         * An archive's layer: -1 (the layers lie in
	                         * the archive's file, open already) */
	uint64_t off, len;
	char *digest;           /* "sha256:HEX" or "sha512:HEX" the stored bytes
	                         * must hash to; NULL when the image names none */
	char *diff_id;          /* the same for the uncompressed tar (docker
	                         * save's config rootfs.diff_ids); or NULL */
	char *label;            /* the blob's name in the image, for messages */
	char *media_type;       /* its descriptor's; NULL for docker save's
	                         * (a tar) */
	int estargz;            /* its descriptor's annotations say eStargz */
};

struct image {
	const char *form;       /* "OCI image layout", "OCI archive",
	                         * "docker save archive", "dir: layout"
	                         * (static strings) */
	char *chosen;           /* the manifest picked: its digest, or for an
	                         * old docker save archive its config's */
	struct image_layer *layers;
	size_t nlayers;
	char *config;           /* the chosen image's config as stored (its
	                         * digest checked), CONFIG_LEN bytes; NULL
	                         * when it has none */
	size_t config_len;
};

/* Which image of several: at most one of REF (a tag: "v1", "app:1",
 * "docker.io/library/app:1"; docker.io/library/, docker.io/ and podman's
 * localhost/ may be left out, and a name without a tag is NAME:latest) and
 * DIGEST ("sha256:HEX", a manifest's or, for docker save, a config's);
 * PLATFORM "os/arch[/variant]", or NULL for the running machine's. The
 * platform picks among the entries of an image index; an explicit one is
 * also checked against the config's os, architecture and variant when
 * nothing else (an index entry) said what the image is for (every form),
 * where the running machine's is not: an image for one platform, saved
 * without an index, is read whatever that platform is. */
struct image_sel {
	const char *ref;
	const char *digest;
	const char *platform;
};

/* A member of an archive that may be an image, as the caller indexed it:
 * NAME normalised (no leading "./" or "/"), TYPE the tar typeflag ('0'
 * regular, '2' symlink, ...), LINKNAME a symlink's target, the content's
 * SIZE bytes stored at OFF in the archive file. */
struct image_member {
	const char *name;
	char type;
	const char *linkname;
	uint64_t off, size;
};

/*
 * image_open_dir: DIR is an OCI image layout (it has oci-layout) or a dir:
 * layout (it has manifest.json: the image manifest, or an image index
 * whose manifests are HEX.manifest.json; the blobs are HEX). Returns 1
 * with *IMG filled (image_free releases it), or -1 with a message in ERR
 * ("index.json: offset 12: unterminated string", "manifest.json: ...",
 * "blobs/sha256/ab..: wrong size"). A directory that is neither is an
 * error too. Every file is opened beneath DIR: a symlink in the layout
 * that leads out of it (an absolute one, or '..' above DIR) is an error,
 * and nothing about where it leads is told. A dir: layout holds one image
 * and no tags: a tag in SEL is an error, a digest names its manifest (or
 * one its index names).
 */
int image_open_dir(const char *dir, const struct image_sel *sel, struct image *img,
		   char *err, size_t errlen);

/*
 * image_open_archive: FILE (open as FD) is a plain tar holding the N
 * members M. Returns 1 with *IMG filled when it is an image: an OCI
 * archive (oci-layout and index.json naming manifests that are there) or
 * a docker save archive (manifest.json naming a config that is there);
 * 0 when it is not, so it is a layer after all; -1 with a message in ERR
 * when it is an image that cannot be read (a blob missing, tampered or of
 * the wrong size, no image matching SEL, an unknown media type). The
 * layers' FILE is FILE. M and its strings are only read during the call.
 */
int image_open_archive(const char *file, int fd, const struct image_member *m, size_t n,
		       const struct image_sel *sel, struct image *img,
		       char *err, size_t errlen);

/* Frees IMG's strings and closes the layers' descriptors still open. */
void image_free(struct image *img);

/*
 * The platform tarflat runs on, as an image index names it: "linux/amd64",
 * "linux/arm64/v8", ...: a static string.
 */
const char *image_host_platform(void);

/* A running hash for a digest "sha256:HEX" or "sha512:HEX". */
struct image_hash {
	int alg;                /* 256 or 512 */
	union {
		struct sha256 s256;
		struct sha512 s512;
	} u;
	uint64_t len;           /* bytes hashed */
};

/* Starts a hash of DIGEST's algorithm. Returns 0, or -1 when DIGEST is not
 * a well-formed sha256 or sha512 digest. */
int image_hash_init(struct image_hash *h, const char *digest);

void image_hash_update(struct image_hash *h, const void *buf, size_t len);

/* Ends H and compares it with DIGEST. Returns 1 when they match, else 0
 * with the digest found in GOT ("sha256:HEX", at most 136 bytes). */
int image_hash_check(struct image_hash *h, const char *digest, char got[136]);

#endif
