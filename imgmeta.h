/*
 * imgmeta.h - the metadata of the image tarflat writes (--format
 * oci-archive, oci, docker-archive): its config, manifest and index, and
 * docker's manifest.json, as JSON bytes with their digests.
 *
 * The config is the input image's with rootfs.diff_ids and history
 * replaced, every other key kept as it was and where it was (Env,
 * Entrypoint, Cmd, User, Labels, ..., and keys tarflat does not know);
 * with --mtime its "created" too (with --clamp-mtime only when later). Without an input image it is a minimal
 * config for the platform. The history keeps the input's entries of the
 * layers kept (--squash-from) and adds one entry saying what was done,
 * dated by the input's "created" (or --mtime).
 *
 * Nothing here prints or exits but die_oom; what cannot be read of the
 * input's config is a message.
 */
#ifndef TARFLAT_IMGMETA_H
#define TARFLAT_IMGMETA_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "pgz.h"

/* A layer of the image written: its blob's digest, size and media type,
 * and the digest of its tar. */
struct imgmeta_layer {
	char digest[PGZ_DIGEST_LEN];
	char diff_id[PGZ_DIGEST_LEN];
	uint64_t size;
	const char *media_type;
};

/* A piece of metadata: its bytes (malloc'd) and their digest. */
struct imgmeta_blob {
	char *p;
	size_t len;
	char digest[PGZ_DIGEST_LEN];
};

struct imgmeta_in {
	const struct json_value *config;        /* the input image's config
	                                         * (imgmeta_read_config), or NULL */
	const char *platform;           /* "os/arch[/variant]" for a new config */
	int mtime_set;
	int64_t mtime;                  /* --mtime */
	int clamp;                      /* --clamp-mtime: only later dates */
	size_t kept;                    /* the input's layers kept as they are */
	size_t flattened;               /* the layers the new one stands for */
	const char *created_by;         /* the new history entry's words */
	const struct imgmeta_layer *layers;     /* the image's, kept first */
	size_t nlayers;
};

/*
 * imgmeta_read_config: the LEN bytes at P, the input image's config,
 * parsed and checked once, before anything is written: the document
 * (json_free), or NULL with a message in MSG when it is not a JSON object
 * or its rootfs.diff_ids or history (when it has one) name fewer than
 * KEPT layers.
 */
struct json_doc *imgmeta_read_config(const char *p, size_t len, size_t kept, char *msg,
				     size_t msglen);

/* The config for IN, in *OUT. */
void imgmeta_config(const struct imgmeta_in *in, struct imgmeta_blob *out);

/* The OCI image manifest of CONFIG and IN's layers. */
void imgmeta_manifest(const struct imgmeta_in *in, const struct imgmeta_blob *config,
		      struct imgmeta_blob *out);

/* index.json naming MANIFEST, tagged TAG (NULL: no tag); DOCKER adds the
 * annotation Docker 25 writes (io.containerd.image.name). */
void imgmeta_index(const struct imgmeta_blob *manifest, const char *tag, int docker,
		   struct imgmeta_blob *out);

/* docker's manifest.json: CONFIG and the layers by their blob paths,
 * RepoTags TAG (NULL: none). */
void imgmeta_docker(const struct imgmeta_in *in, const struct imgmeta_blob *config,
		    const char *tag, struct imgmeta_blob *out);

/* TAG as docker names an image: "NAME:TAG", with ":latest" when it has
 * no tag (a ':' after the last '/'); in BUF. */
const char *imgmeta_docker_tag(const char *tag, char *buf, size_t len);

/* "blobs/ALG/HEX" for DIGEST "ALG:HEX", in BUF (128 bytes hold any). */
const char *imgmeta_blob_path(const char *digest, char *buf, size_t len);

void imgmeta_blob_free(struct imgmeta_blob *b);

#endif
