/*
 * imgout.c - an image as an output (see imgout.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filter.h"
#include "imgmeta.h"
#include "imgout.h"
#include "io.h"
#include "json.h"
#include "mem.h"

#define COPY_BUF (256 * 1024)
#define MAX_FILES 16            /* files of a layout besides kept blobs */

struct imgout {
	struct imgout_opts o;
	struct output *out;             /* whose msg a failure fills */
	struct tar_out outer;           /* the archive (not a layout) */
	uint64_t start;                 /* where FD stood when we began */
	int patch;                      /* the blob's header is patched */
	uint64_t hdr_at;                /* ... at this offset of FD */
	int spool;                      /* the blob spooled here (a pipe) */
	char *dir, *tmpdir;             /* a layout: where, and where first */
	int blob_fd;                    /* a layout: the new blob, being written */
	char **made;                    /* a layout: the files made in tmpdir */
	size_t nmade;
	struct tar_out tar;             /* the new layer's tar: out->sink */
	struct blobw *bw;
	struct imgmeta_layer *layers;   /* the kept ones, then the new one */
	struct json_doc *config;        /* the input's config, parsed */
};

static int
failf(struct output *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
failf(struct output *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- where bytes go -------------------------------------------------------- */

/* The new blob's bytes: into the archive (patched header), the spool,
 * or the layout's file. */
static int
blob_sink(void *ctx, const void *p, size_t n)
{
	struct imgout *io = ctx;

	if (io->patch)
		return tar_write_data(&io->outer, p, n);
	if (io->spool < 0)
		return io_write_all(io->blob_fd, p, n);
	if (io_write_all(io->spool, p, n) == 0)
		return 0;
	/* the spool in $TMPDIR full: say where, as for spooled input */
	int e = errno;
	filter_temp_full(io->spool, e, io->out->msg, sizeof(io->out->msg));
	errno = e;
	return -1;
}

/* The tar's bytes, on their way to the compressor. */
static int
tar_drain(void *ctx, const void *p, size_t n)
{
	struct imgout *io = ctx;

	return blobw_write(io->bw, p, n);
}

/* The archive's members' date: 0, or --mtime's (clamped, 0 stays). */
static int64_t
member_time(const struct imgout *io)
{
	return io->o.mtime_set && !io->o.clamp ? io->o.mtime : 0;
}

/* A member of the archive: its header, then (DATA not NULL) its LEN
 * bytes and their padding. */
static int
put_member(struct output *out, const char *name, char type, const void *data, uint64_t len)
{
	struct imgout *io = out->self;
	unsigned char h[TAR_BLOCK];

	if (tar_member_block(name, type, type == '5' ? 0755 : 0644, member_time(io), len, h) < 0)
		return failf(out, "%s: cannot be written as a tar member", name);
	if (tar_write_data(&io->outer, h, sizeof(h)) < 0 ||
	    (data && (tar_write_data(&io->outer, data, len) < 0 || tar_write_pad(&io->outer, len) < 0)))
		return -1;
	return 0;
}

/* A file of the layout, REL under its directory: made, written, noted. */
static int
put_file(struct output *out, const char *rel, const void *data, size_t len)
{
	struct imgout *io = out->self;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", io->tmpdir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return failf(out, "%s: %s", path, strerror(errno));
	io->made = xrealloc(io->made, (io->nmade + 1) * sizeof(*io->made));
	io->made[io->nmade++] = xmalloc(strlen(rel) + 1);
	strcpy(io->made[io->nmade - 1], rel);
	int r = io_write_all(fd, data, len);
	if (close(fd) < 0 || r < 0)
		return failf(out, "%s: %s", path, strerror(errno));
	return 0;
}

/* Metadata NAME (P, LEN bytes): a member, or a file of the layout. */
static int
put_meta(struct output *out, const char *name, const void *p, size_t len)
{
	struct imgout *io = out->self;

	if (io->o.kind == IMGOUT_OCI_DIR)
		return put_file(out, name, p, len);
	return put_member(out, name, '0', p, len);
}

/* ---- the layers kept ---------------------------------------------------- */

/* An OCI layer media type for kept layer LY: its descriptor's (docker's
 * named as OCI names them), else what its bytes are. */
static const char *
kept_media_type(const struct layer *ly)
{
	const char *mt = ly->image_layer ? ly->image_layer->media_type : NULL;

	if (mt && strncmp(mt, "application/vnd.oci.", 20) == 0)
		return mt;
	if (mt && strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar") == 0)
		return "application/vnd.oci.image.layer.v1.tar";
	if ((mt && strstr(mt, "gzip")) || (!ly->filtered && ly->in && tar_in_is_gzip(ly->in)))
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (ly->filtered)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

/* The stored bytes of kept layer LY: their length. */
static uint64_t
kept_len(const struct layer *ly)
{
	struct stat st;

	if (ly->raw_len != UINT64_MAX)
		return ly->raw_len;
	return fstat(ly->raw_fd, &st) == 0 && (uint64_t)st.st_size > ly->raw_off
		? (uint64_t)st.st_size - ly->raw_off : 0;
}

/* Copies kept layer LY's stored bytes (LEN) to the archive or to FD. */
static int
copy_kept(struct output *out, const struct layer *ly, uint64_t len, int fd)
{
	struct imgout *io = out->self;
	char *buf = xmalloc(COPY_BUF);
	int rc = 0;

	for (uint64_t at = 0; rc == 0 && at < len;) {
		size_t want = len - at < COPY_BUF ? (size_t)(len - at) : COPY_BUF;
		ssize_t n = pread(ly->raw_fd, buf, want, (off_t)(ly->raw_off + at));
		if (n <= 0) {
			rc = failf(out, "%s: %s", ly->name, n < 0 ? strerror(errno)
				   : "input changed since it was indexed");
			break;
		}
		rc = fd >= 0 ? io_write_all(fd, buf, (size_t)n) : tar_write_data(&io->outer, buf, (size_t)n);
		at += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* Kept layer I: its blob copied as it is, its descriptor noted. */
static int
put_kept(struct output *out, size_t i)
{
	struct imgout *io = out->self;
	const struct layer *ly = io->o.kept[i];
	struct imgmeta_layer *m = &io->layers[i];
	uint64_t len = kept_len(ly);
	char path[128];
	int fd = -1, rc;

	/* an old docker save archive names no layer digest: its layer is
	 * the tar, whose digest is its diff_id */
	const char *digest = ly->digest ? ly->digest : ly->diff_id;
	if (!digest)
		return failf(out, "%s: no digest to keep it by", ly->name);
	snprintf(m->digest, sizeof(m->digest), "%s", digest);
	m->size = len;
	m->media_type = kept_media_type(ly);
	for (size_t j = 0; j < i; j++)
		if (strcmp(io->layers[j].digest, m->digest) == 0)
			return 0;       /* the same blob again: stored once */
	imgmeta_blob_path(digest, path, sizeof(path));
	if (io->o.kind == IMGOUT_OCI_DIR) {
		char full[4200];
		snprintf(full, sizeof(full), "%s/%s", io->tmpdir, path);
		if ((fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
			return errno == EEXIST ? 0 : failf(out, "%s: %s", full, strerror(errno));
		io->made = xrealloc(io->made, (io->nmade + 1) * sizeof(*io->made));
		io->made[io->nmade++] = strcpy(xmalloc(strlen(path) + 1), path);
	} else if (put_member(out, path, '0', NULL, len) < 0) {
		return -1;
	}
	rc = copy_kept(out, ly, len, fd);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = failf(out, "%s: %s", path, strerror(errno));
	if (fd < 0 && rc == 0 && tar_write_pad(&io->outer, len) < 0)
		rc = -1;
	return rc;
}

/* ---- the new layer's blob --------------------------------------------- */

/* Where the new blob goes, ready for its first byte. */
static int
open_blob(struct output *out)
{
	struct imgout *io = out->self;
	unsigned char h[TAR_BLOCK];

	if (io->o.kind == IMGOUT_OCI_DIR) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/blobs/sha256/.layer", io->tmpdir);
		io->blob_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (io->blob_fd < 0)
			return failf(out, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!io->patch) {
		if ((io->spool = filter_temp_file()) < 0)
			return failf(out, "a temporary file in %s (TMPDIR): %s", filter_temp_dir(),
				     strerror(errno));
		return 0;
	}
	/* the header with the right name's length, patched at the end */
	memset(h, 0, sizeof(h));
	if (tar_out_flush(&io->outer) < 0)
		return -1;
	io->hdr_at = io->start + io->outer.written;
	return tar_write_data(&io->outer, h, sizeof(h));
}

/* The new blob, all written (R): where it belongs. */
static int
close_blob(struct output *out, const struct blobw_result *r)
{
	struct imgout *io = out->self;
	unsigned char h[TAR_BLOCK];
	char path[128];

	imgmeta_blob_path(r->digest, path, sizeof(path));
	if (io->o.kind == IMGOUT_OCI_DIR) {
		char from[4200], to[4200];
		snprintf(from, sizeof(from), "%s/blobs/sha256/.layer", io->tmpdir);
		snprintf(to, sizeof(to), "%s/%s", io->tmpdir, path);
		int bad = close(io->blob_fd) < 0;
		io->blob_fd = -1;
		if (bad || rename(from, to) < 0)
			return failf(out, "%s: %s", to, strerror(errno));
		io->made = xrealloc(io->made, (io->nmade + 1) * sizeof(*io->made));
		io->made[io->nmade++] = strcpy(xmalloc(strlen(path) + 1), path);
		return 0;
	}
	if (!io->patch)
		return put_member(out, path, '0', NULL, r->size) < 0 ? -1 : 0;
	if (tar_write_pad(&io->outer, r->size) < 0 || tar_out_flush(&io->outer) < 0)
		return -1;
	if (tar_member_block(path, '0', 0644, member_time(io), r->size, h) < 0)
		return failf(out, "%s: cannot be written as a tar member", path);
	if (pwrite(io->outer.fd, h, sizeof(h), (off_t)io->hdr_at) != (ssize_t)sizeof(h))
		return -1;
	return 0;
}

/* The spooled blob (SIZE bytes), after its header, into the archive. */
static int
copy_spool(struct output *out, uint64_t size)
{
	struct imgout *io = out->self;
	char *buf = xmalloc(COPY_BUF);
	int rc = 0;

	for (uint64_t at = 0; rc == 0 && at < size;) {
		size_t want = size - at < COPY_BUF ? (size_t)(size - at) : COPY_BUF;
		ssize_t n = pread(io->spool, buf, want, (off_t)at);
		if (n <= 0)
			rc = failf(out, "the spooled layer: %s", n < 0 ? strerror(errno) : "short");
		else
			rc = tar_write_data(&io->outer, buf, (size_t)n);
		at += n > 0 ? (uint64_t)n : 0;
	}
	free(buf);
	return rc < 0 ? -1 : tar_write_pad(&io->outer, size);
}

/* ---- the output's functions -------------------------------------------- */

static int
image_begin(struct output *out)
{
	struct imgout *io = out->self;
	char msg[300];

	if (io->o.kind != IMGOUT_OCI_DIR &&
	    (put_member(out, "blobs/", '5', NULL, 0) < 0 ||
	     put_member(out, "blobs/sha256/", '5', NULL, 0) < 0))
		return -1;
	for (size_t i = 0; i < io->o.nkept; i++)
		if (put_kept(out, i) < 0)
			return -1;
	if (open_blob(out) < 0)
		return -1;
	io->bw = blobw_new(io->o.compress, io->o.level, io->o.jobs, blob_sink, io, msg,
			   sizeof(msg));
	if (!io->bw)
		return failf(out, "%s", msg);
	return 0;
}

static int
image_entry(struct output *out, const struct out_entry *e)
{
	return tar_write_header(out->sink, &e->t);
}

static int
image_content_end(struct output *out, const struct out_entry *e)
{
	return tar_write_pad(out->sink, e->t.sparse ? e->t.data_len : e->t.size);
}

/* The metadata of the finished image. */
static int
put_metadata(struct output *out)
{
	struct imgout *io = out->self;
	const struct imgout_opts *o = &io->o;
	struct imgmeta_in in = { io->config ? json_root(io->config) : NULL, o->platform,
				 o->mtime_set, o->mtime, o->clamp, o->nkept, 0, o->created_by,
				 io->layers, o->nkept + 1 };
	struct imgmeta_blob config = { 0 }, manifest = { 0 }, index = { 0 }, docker = { 0 };
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char path[128];
	int rc = -1;

	imgmeta_config(&in, &config);
	imgmeta_manifest(&in, &config, &manifest);
	imgmeta_index(&manifest, o->tag, o->kind == IMGOUT_DOCKER_ARCHIVE, &index);
	if (put_meta(out, imgmeta_blob_path(config.digest, path, sizeof(path)), config.p,
		     config.len) < 0 ||
	    put_meta(out, imgmeta_blob_path(manifest.digest, path, sizeof(path)), manifest.p,
		     manifest.len) < 0 ||
	    put_meta(out, "index.json", index.p, index.len) < 0 ||
	    put_meta(out, "oci-layout", layout, sizeof(layout) - 1) < 0)
		goto out;
	if (o->kind == IMGOUT_DOCKER_ARCHIVE) {
		imgmeta_docker(&in, &config, o->tag, &docker);
		if (put_meta(out, "manifest.json", docker.p, docker.len) < 0)
			goto out;
	}
	rc = 0;
out:
	imgmeta_blob_free(&config);
	imgmeta_blob_free(&manifest);
	imgmeta_blob_free(&index);
	imgmeta_blob_free(&docker);
	return rc;
}

/* A layout, finished in its temporary directory: renamed into place. */
static int
place_layout(struct output *out)
{
	struct imgout *io = out->self;

	if (rename(io->tmpdir, io->dir) < 0)
		return failf(out, "%s: %s", io->dir, strerror(errno));
	free(io->tmpdir);
	io->tmpdir = NULL;
	return 0;
}

static int
image_end(struct output *out)
{
	struct imgout *io = out->self;
	struct blobw_result r;

	if (tar_write_end(out->sink) < 0)
		return -1;
	if (blobw_finish(io->bw, &r) < 0) {
		if (errno && strncmp(blobw_error(io->bw), "write error", 11) == 0)
			return -1;
		return failf(out, "%s", blobw_error(io->bw));
	}
	struct imgmeta_layer *m = &io->layers[io->o.nkept];
	memcpy(m->digest, r.digest, sizeof(m->digest));
	memcpy(m->diff_id, r.diff_id, sizeof(m->diff_id));
	m->size = r.size;
	m->media_type = r.media_type;
	if (close_blob(out, &r) < 0)
		return -1;
	if (!io->patch && io->spool >= 0 && copy_spool(out, r.size) < 0)
		return -1;
	if (put_metadata(out) < 0)
		return -1;
	if (io->o.kind == IMGOUT_OCI_DIR)
		return place_layout(out);
	return tar_write_end(&io->outer);
}

const struct output_ops image_output = {
	.begin = image_begin,
	.entry = image_entry,
	.content_end = image_content_end,
	.end = image_end,
	.content = 1,
	.direct = 0,
	.sparse = 1,
};

/* ---- starting and ending --------------------------------------------- */

/* Does directory DIR hold nothing? */
static int
dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

/* A layout's directory: must be new or empty; written first in a new
 * directory beside it. */
static int
start_layout(struct output *out, const char *dir)
{
	struct imgout *io = out->self;
	struct stat st;
	char sub[4200];

	if (stat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_empty(dir)))
		return failf(out, "exists and is not an empty directory: nothing written");
	io->dir = strcpy(xmalloc(strlen(dir) + 1), dir);
	io->tmpdir = xmalloc(strlen(dir) + 16);
	sprintf(io->tmpdir, "%s.tmp.XXXXXX", dir);
	if (!mkdtemp(io->tmpdir)) {
		int e = errno;
		free(io->tmpdir);
		io->tmpdir = NULL;
		return failf(out, "%s: %s", dir, strerror(e));
	}
	chmod(io->tmpdir, 0755 & ~(mode_t)umask(umask(0)));
	snprintf(sub, sizeof(sub), "%s/blobs", io->tmpdir);
	if (mkdir(sub, 0755) < 0)
		return failf(out, "%s: %s", sub, strerror(errno));
	snprintf(sub, sizeof(sub), "%s/blobs/sha256", io->tmpdir);
	if (mkdir(sub, 0755) < 0)
		return failf(out, "%s: %s", sub, strerror(errno));
	return 0;
}

int
imgout_start(struct output *out, const struct imgout_opts *o, int fd, const char *dir)
{
	struct imgout *io = xmalloc(sizeof(*io));
	struct stat st;

	memset(io, 0, sizeof(*io));
	io->o = *o;
	io->out = out;
	io->spool = io->blob_fd = -1;
	io->layers = xmalloc((o->nkept + 1) * sizeof(*io->layers));
	memset(io->layers, 0, (o->nkept + 1) * sizeof(*io->layers));
	*out = (struct output){ &image_output, &io->tar, io, "" };
	if (tar_out_init(&io->tar, -1) < 0)
		die_oom();
	io->tar.drain = tar_drain;
	io->tar.drain_ctx = io;
	if (o->config && !(io->config = imgmeta_read_config(o->config, o->config_len, o->nkept,
							    out->msg, sizeof(out->msg))))
		return -1;
	if (o->kind == IMGOUT_OCI_DIR)
		return start_layout(out, dir);
	if (tar_out_init(&io->outer, fd) < 0)
		die_oom();
	off_t at = lseek(fd, 0, SEEK_CUR);
	int fl = fcntl(fd, F_GETFL);
	/* patch in place where a write lands where lseek says */
	io->patch = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && at >= 0 && fl >= 0 &&
		    !(fl & O_APPEND);
	io->start = at > 0 ? (uint64_t)at : 0;
	return 0;
}

/* Removes what a layout not finished holds. */
static void
remove_layout(struct imgout *io)
{
	char path[4200];

	for (size_t i = 0; i < io->nmade; i++) {
		snprintf(path, sizeof(path), "%s/%s", io->tmpdir, io->made[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256/.layer", io->tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/blobs/sha256", io->tmpdir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/blobs", io->tmpdir);
	rmdir(path);
	rmdir(io->tmpdir);
}

void
imgout_free(struct output *out)
{
	struct imgout *io = out->self;

	if (!io)
		return;
	blobw_free(io->bw);
	if (io->blob_fd >= 0)
		close(io->blob_fd);
	if (io->tmpdir)
		remove_layout(io);
	if (io->spool >= 0)
		close(io->spool);
	for (size_t i = 0; i < io->nmade; i++)
		free(io->made[i]);
	free(io->made);
	free(io->dir);
	free(io->tmpdir);
	free(io->layers);
	json_free(io->config);
	tar_out_free(&io->tar);
	tar_out_free(&io->outer);
	free(io);
	out->self = NULL;
}
