/*
 * imgout.h - an image as an output (output.h): --format oci-archive, oci
 * (an OCI image layout directory) and docker-archive (what docker load
 * and podman load take: manifest.json with RepoTags, and the OCI layout
 * inside, as Docker 25 writes it).
 *
 * The image has the layers kept from the input (--squash-from; none
 * otherwise), their blobs copied byte for byte, then one new layer: the
 * tar the emit writes through this output, compressed by blobw.c (gzip on
 * the -j workers, zstd, or none) and hashed as it is written. Its config
 * and manifest follow (imgmeta.c).
 *
 * Streaming: the new blob's digest is known only at its end, so the blob
 * goes first and the metadata after it. Into a regular file the blob's
 * member header is written as a placeholder and patched in place at the
 * end; into a pipe (or a file opened to append) the compressed layer is
 * spooled once to an unlinked file in $TMPDIR and then copied out. A
 * layout is written into a new directory beside the one asked for, then
 * renamed into place; a failed run leaves nothing.
 *
 * Every member of an archive is 0:0, mode 0644 (directories 0755), dated
 * 0 or, with --mtime (not --clamp-mtime), by it. Nothing here prints or exits but die_oom.
 */
#ifndef TARFLAT_IMGOUT_H
#define TARFLAT_IMGOUT_H

#include <stddef.h>
#include <stdint.h>

#include "blobw.h"
#include "layer.h"
#include "output.h"

enum imgout_kind { IMGOUT_OCI_ARCHIVE, IMGOUT_OCI_DIR, IMGOUT_DOCKER_ARCHIVE };

struct imgout_opts {
	enum imgout_kind kind;
	enum blobw_compress compress;
	int level;              /* gzip's, 1..9 */
	size_t jobs;            /* gzip's workers */
	const char *tag;        /* --tag or the layout's :TAG, or NULL */
	const char *platform;   /* for a config made anew */
	int mtime_set;          /* --mtime */
	int64_t mtime;
	int clamp;              /* --clamp-mtime */
	const char *config;     /* the input image's config, or NULL */
	size_t config_len;
	struct layer *const *kept;      /* layers kept as they are (their
	                                 * stored bytes, raw_fd) */
	size_t nkept;
	const char *created_by; /* the history entry of the new layer */
};

struct imgout;

/*
 * imgout_start: makes OUT an image output by O (copied; its strings must
 * outlive OUT): an archive written to FD, or with IMGOUT_OCI_DIR a layout
 * in DIR (which must not exist or be an empty directory). OUT->sink is
 * then the new layer's tar. Returns 0, or -1 with a message in OUT->msg.
 */
int imgout_start(struct output *out, const struct imgout_opts *o, int fd, const char *dir);

/* Frees OUT's image state; a layout not finished is removed. */
void imgout_free(struct output *out);

extern const struct output_ops image_output;

#endif
