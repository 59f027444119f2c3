/*
 * tarflat - flatten the layers of a container image into one tar.
 *
 * This file is the command line: options, operands, the three steps in
 * order, messages and the exit status. The steps (README, "How the code
 * is laid out"):
 *
 *   index    input.c, layer.c   every layer's headers, read once
 *   resolve  tree.c             the final tree, by tarflat.1's LAYER
 *                               SEMANTICS
 *   emit     emit.c, select.c,  the tree written depth-first through an
 *            rewrite.c          output: tar.c's writer, newc.c's or
 *                               list.c's -t
 *
 * Nothing is written before the whole tree is resolved, so bad input
 * produces no output at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changeset.h"
#include "emit.h"
#include "imgout.h"
#include "input.h"
#include "list.h"
#include "newc.h"
#include "path.h"
#include "rewrite.h"
#include "select.h"
#include "tree.h"

#define VERSION "1.0"
#define MAX_JOBS 8

enum format { FORMAT_TAR, FORMAT_NEWC, FORMAT_OCI_ARCHIVE, FORMAT_OCI, FORMAT_DOCKER_ARCHIVE };

#define IS_IMAGE(f) ((f) >= FORMAT_OCI_ARCHIVE)

struct opts {
	enum format format;     /* --format */
	int list;               /* -t */
	int verbose;            /* -v */
	size_t jobs;            /* -j */
	int layers_only;        /* --layers */
	const char *platform;   /* --platform */
	char **paths;           /* --path, normalised */
	size_t npaths;
	char **excludes;        /* --exclude, --exclude-from */
	size_t nexcludes;
	struct rewrite rw;      /* --owner, --group, --mtime, ... */
	const char *tag;        /* --tag, or -o DIR:TAG's */
	char *dir;              /* --format oci: -o DIR */
	int level;              /* --gzip-level */
	enum blobw_compress compress;   /* --compress */
	size_t squash_from;     /* --squash-from N: layers 1..N-1 kept */
	const char *output;     /* -o */
	struct input *inputs;   /* the operands */
	size_t ninputs;
};

/* One flatten: its options, its layers and its tree (with --squash-from,
 * the tree of the layers kept and the changeset too). */
struct run {
	const struct opts *o;
	struct layers L;
	struct tree t;
	struct tree base, changes;
	char created_by[80];    /* an image's history entry */
};

/* The processors online, at most MAX_JOBS. */
static size_t
default_jobs(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (size_t)cpus;
}

/*
 * --squash-from N: the changeset from the tree of layers 1..N-1, which
 * must be the image's, to the final tree. Returns 0, or -1 with the
 * error in R->L.
 */
static int
squash(struct run *r)
{
	size_t keep = r->o->squash_from - 1;
	char msg[200];

	if (r->o->squash_from > r->L.n) {
		snprintf(msg, sizeof(msg), "past the top: the input has %zu layer%s", r->L.n,
			 r->L.n == 1 ? "" : "s");
		return layers_fail(&r->L, "--squash-from", msg);
	}
	if (r->L.nimages != 1)
		return layers_fail(&r->L, "--squash-from", r->L.nimages ? "the input holds "
				   "several images: give one" : "the input holds no image: the "
				   "layers kept must be an image's");
	for (size_t i = 0; i < keep; i++) {
		if (!r->L.v[i]->image_layer) {
			snprintf(msg, sizeof(msg), "layer %zu (%s) is no layer of the image: the "
				 "layers kept must be", i + 1, r->L.v[i]->name);
			return layers_fail(&r->L, "--squash-from", msg);
		}
	}
	if (tree_build_upto(&r->base, &r->L, keep) < 0)
		return -1;
	changeset_build(&r->changes, &r->base, &r->t);
	snprintf(r->created_by, sizeof(r->created_by), "tarflat: squashed layers %zu to %zu",
		 r->o->squash_from, r->L.n);
	return 0;
}

/*
 * Index and resolve: R's layers (those of its operands, or any the caller
 * put in R->L first) into the final tree, selected. Returns 0 or -1 (the
 * error in R->L).
 */
static int
flatten(struct run *r)
{
	const struct opts *o = r->o;

	r->L.jobs = o->jobs;
	r->L.verbose = o->verbose;
	int rc = inputs_load(&r->L, o->inputs, o->ninputs, o->platform, o->layers_only);
	if (rc == 0) {
		layers_pack_start(&r->L);
		rc = tree_build(&r->t, &r->L);
		if (rc == 0)
			rc = select_paths(&r->t, o->paths, o->npaths);
		if (rc == 0 && o->nexcludes)
			select_exclude(&r->t, o->excludes, o->nexcludes);
		if (rc == 0 && o->squash_from)
			rc = squash(r);
		layers_pack_wait(&r->L);
	}
	/* the tree is final: its lookups are done, and the emit's list of
	 * gzip content takes the memory */
	tree_drop_maps(&r->t);
	tree_drop_maps(&r->base);
	tree_drop_maps(&r->changes);
	layers_drop_maps(&r->L);
	return rc;
}

/* R's image output, to FD or o->dir: the layers it keeps and the config
 * of the last image among the operands. Returns 0, or -1 with a
 * message in OUT. */
static int
start_image(struct run *r, struct output *out, int fd)
{
	const struct opts *o = r->o;
	static const enum imgout_kind kinds[] = { IMGOUT_OCI_ARCHIVE, IMGOUT_OCI_DIR,
						   IMGOUT_DOCKER_ARCHIVE };
	const struct image *img = r->L.nimages ? &r->L.images[r->L.nimages - 1] : NULL;
	struct imgout_opts io = {
		.kind = kinds[o->format - FORMAT_OCI_ARCHIVE], .compress = o->compress,
		.level = o->level, .jobs = o->jobs, .tag = o->tag,
		.platform = o->platform ? o->platform : image_host_platform(),
		.mtime_set = o->rw.mtime, .mtime = o->rw.time, .clamp = o->rw.clamp,
		.config = img ? img->config : NULL, .config_len = img ? img->config_len : 0,
		.kept = r->L.v, .nkept = o->squash_from ? o->squash_from - 1 : 0,
		.created_by = r->created_by,
	};

	if (!o->squash_from)
		snprintf(r->created_by, sizeof(r->created_by), "tarflat: flattened %zu layer%s",
			 r->L.n, r->L.n == 1 ? "" : "s");
	return imgout_start(out, &io, fd, o->dir);
}

/* Emit: R's tree to FD (NAME in messages), in its format, or the -t
 * listing whatever the format. */
static int
write_tree(struct run *r, int fd, const char *name)
{
	const struct opts *o = r->o;
	struct emit_opts eo = { o->jobs, o->verbose, name, &o->rw };
	struct tar_out sink;
	struct newc nc = { 0 };
	struct output out = { &tar_output, &sink, NULL, "" };
	int rc = -1;

	if (tar_out_init(&sink, fd) < 0)
		die_oom();
	if (o->list)
		out.ops = &list_output;
	else if (o->format == FORMAT_NEWC)
		out = (struct output){ &newc_output, &sink, &nc, "" };
	else if (IS_IMAGE(o->format) && start_image(r, &out, fd) < 0)
		layers_fail(&r->L, name, out.msg);
	if (!r->L.err.msg[0])
		rc = emit(o->squash_from && !o->list ? &r->changes : &r->t, &out, &eo);
	if (!o->list && IS_IMAGE(o->format))
		imgout_free(&out);
	tar_out_free(&sink);
	return rc;
}

/* Releases everything a run built, so that the fuzz target can run again
 * in the same process and leak checkers see a clean exit. */
static void
run_free(struct run *r)
{
	tree_free(&r->changes);
	tree_free(&r->base);
	tree_free(&r->t);
	layers_free(&r->L);
}

/*
 * Opens -o's temporary file beside FILE, renamed into place on success, so
 * a failed run leaves FILE as it was. A device or fifo is written directly.
 */
static int
open_output(struct run *r, const char *file, char **tmp)
{
	struct stat st;
	size_t n = strlen(file) + 16;

	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		return fd < 0 ? layer_fail_sys(&r->L, NULL, file) : fd;
	}
	*tmp = xmalloc(n);
	snprintf(*tmp, n, "%s.tmp.XXXXXX", file);
	int fd = mkstemp(*tmp);
	if (fd < 0)
		return layer_fail_sys(&r->L, NULL, file);
	mem_on_oom(*tmp);
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	return fd;
}

/* Index, resolve, emit to -o's file or standard output. Returns 0 or -1. */
static int
run(struct run *r)
{
	const char *output = r->o->output, *name = output ? output : "standard output";
	char *tmp = NULL;
	int fd = STDOUT_FILENO, rc = -1;

	if (flatten(r) < 0)
		return -1;
	if (output && r->o->format == FORMAT_OCI && !r->o->list)
		fd = -1;        /* a layout: imgout.c makes the directory */
	else if (output && (fd = open_output(r, output, &tmp)) < 0)
		return -1;
	if (write_tree(r, fd, name) == 0) {
		/* A late error (NFS, quota) can show only at close. */
		if ((fd >= 0 && close(fd) < 0) || (tmp && rename(tmp, output) < 0))
			layer_fail_sys(&r->L, NULL, name);
		else
			rc = 0;
	}
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	mem_on_oom(NULL);
	return rc;
}

#ifndef TARFLAT_NO_MAIN

#define USAGE "usage: tarflat [-tv] [-j N] [-o FILE] [--format F] [--path PATH]...\n" \
	"               [--exclude PATTERN]... [--exclude-from FILE] [--owner N] [--group N]\n" \
	"               [--numeric-owner] [--mtime @T] [--clamp-mtime] [--tag NAME]\n" \
	"               [--gzip-level N] [--compress gzip|zstd|none] [--squash-from N]\n" \
	"               [--platform OS/ARCH[/VARIANT]] [--layers] INPUT...\n"

static void
usage(FILE *f)
{
	fputs(USAGE
	      "Flatten a container image into one POSIX tar of its final filesystem\n"
	      "(or a newc cpio, or an image of one layer).\n"
	      "Each INPUT is a layer (plain, gzip, zstd, xz or bzip2 tar; oldest\n"
	      "first) or an image standing for its layers: a docker save archive,\n"
	      "an OCI archive, an OCI image layout or a dir: layout directory;\n"
	      "'-' is standard input. INPUT:TAG or INPUT@sha256:HEX picks one image\n"
	      "of several.\n"
	      "\n"
	      "  -j N             use N threads (default: the processors, at most 8)\n"
	      "  -o FILE          write to FILE instead of standard output\n"
	      "  -t               list the flattened tree instead of writing it\n"
	      "  -v               name each written path on standard error\n"
	      "  --format F       tar (the default); newc (also cpio): the SVR4 cpio\n"
	      "                   the Linux kernel unpacks as an initramfs; or an\n"
	      "                   image of one layer: oci-archive, docker-archive\n"
	      "                   (-o FILE or a pipe), oci (a layout: -o DIR[:TAG])\n"
	      "  --tag NAME       the image's name (docker-archive: its RepoTags)\n"
	      "  --gzip-level N   the image layer's gzip level, 1 to 9 (default 6)\n"
	      "  --compress C     the image layer: gzip (default), zstd or none\n"
	      "  --squash-from N  keep the image's layers 1..N-1 as they are; write\n"
	      "                   the rest as one layer of changes (with whiteouts)\n"
	      "  --path PATH      write only PATH and what is under it (repeatable)\n"
	      "  --exclude PAT    leave out what PAT matches, and all under it; PAT\n"
	      "                   is anchored, * ? [..] stay in a component, **\n"
	      "                   spans any (repeatable)\n"
	      "  --exclude-from F the patterns in file F, one a line\n"
	      "  --owner N        every entry's uid N, no user name\n"
	      "  --group N        every entry's gid N, no group name\n"
	      "  --numeric-owner  no user or group names\n"
	      "  --mtime @T       every entry's mtime T (seconds since 1970)\n"
	      "  --clamp-mtime    with --mtime only lower later mtimes to it;\n"
	      "                   without, to $SOURCE_DATE_EPOCH\n"
	      "  --platform P     the platform to pick from an image index\n"
	      "                   (default: this machine's, e.g. linux/amd64)\n"
	      "  --layers         read every INPUT as a layer, even an image\n"
	      "  -h, --help       show this help\n"
	      "  --version        show the version\n", f);
}

/* A usage error: what is wrong, then the usage line; exit status 2. */
static int
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "tarflat: %s%s\n" USAGE "Try 'tarflat --help' for more.\n",
		what, arg);
	return 2;
}

/* --path PATH, normalised like a member name. */
static void
add_path(struct opts *o, const char *arg)
{
	char *p = xstrdup(arg);

	path_normalise(p);
	o->paths = xrealloc(o->paths, (o->npaths + 1) * sizeof(*o->paths));
	o->paths[o->npaths++] = p;
}

#define STDIN_MARK '\x01'

/*
 * "-:TAG" and "-@DIGEST" are standard input with a selection, not
 * options: hide their dash from getopt, which may reorder argv.
 */
static void
hide_stdin_operands(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && (argv[i][1] == ':' || argv[i][1] == '@'))
			argv[i][0] = STDIN_MARK;
}

static void
tune_malloc(void)
{
#ifdef M_MMAP_THRESHOLD
	/*
	 * Large blocks (the entry arrays, the path map, the emit's list) from
	 * mmap always: glibc otherwise raises the threshold as such blocks are
	 * freed, serves the next ones from the heap, and keeps what is freed
	 * there when the resolve's map goes. 2 MiB keeps the emit's buffers of
	 * content (at most 1 MiB, one after another) in the heap, reused:
	 * mapping each afresh costs its page faults, 8% on a gzip stack.
	 */
	mallopt(M_MMAP_THRESHOLD, 2 << 20);
#endif
#ifdef M_ARENA_MAX
	/*
	 * One arena for all threads: the emit's workers allocate the buffers
	 * of content that the writer frees, and in arenas of their own what
	 * is freed was held apart from what is allocated next (2 MiB on a
	 * layer of 340k small files). Threads allocate seldom, in large
	 * pieces: the shared lock cost nothing measurable.
	 */
	mallopt(M_ARENA_MAX, 1);
#endif
}

enum {
	OPT_PATH = 256, OPT_PLATFORM, OPT_LAYERS, OPT_FORMAT, OPT_EXCLUDE, OPT_EXCLUDE_FROM,
	OPT_OWNER, OPT_GROUP, OPT_NUMERIC, OPT_MTIME, OPT_CLAMP, OPT_TAG, OPT_LEVEL, OPT_COMPRESS,
	OPT_SQUASH,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "layers", no_argument, NULL, OPT_LAYERS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "numeric-owner", no_argument, NULL, OPT_NUMERIC },
	{ "mtime", required_argument, NULL, OPT_MTIME },
	{ "clamp-mtime", no_argument, NULL, OPT_CLAMP },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "gzip-level", required_argument, NULL, OPT_LEVEL },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "squash-from", required_argument, NULL, OPT_SQUASH },
	{ NULL, 0, NULL, 0 },
};

/* --format's names, by enum format. */
static const char *const formats[] = { "tar", "newc", "oci-archive", "oci", "docker-archive" };

static int
take_format(struct opts *o, const char *arg)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
		if (strcmp(arg, formats[i]) == 0) {
			o->format = (enum format)i;
			return -1;
		}
	}
	if (strcmp(arg, "cpio") == 0) {
		o->format = FORMAT_NEWC;
		return -1;
	}
	return usage_error("--format is tar, newc (cpio), oci-archive, oci or docker-archive, "
			   "not ", arg);
}

/* The image options. Returns -1 to go on, or the exit status. */
static int
take_image(struct opts *o, int c)
{
	if (c == OPT_TAG) {
		o->tag = optarg;
		return -1;
	}
	if (c == OPT_SQUASH) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(optarg, &end, 10);
		if (errno || *end || optarg[0] < '1' || optarg[0] > '9' || v > MAX_LAYERS)
			return usage_error("--squash-from wants a layer number from 1, not ", optarg);
		o->squash_from = v;
		return -1;
	}
	if (c == OPT_LEVEL) {
		if (strlen(optarg) != 1 || optarg[0] < '1' || optarg[0] > '9')
			return usage_error("--gzip-level wants 1 to 9, not ", optarg);
		o->level = optarg[0] - '0';
		return -1;
	}
	if (strcmp(optarg, "gzip") == 0)
		o->compress = BLOBW_GZIP;
	else if (strcmp(optarg, "zstd") == 0)
		o->compress = BLOBW_ZSTD;
	else if (strcmp(optarg, "none") == 0)
		o->compress = BLOBW_NONE;
	else
		return usage_error("--compress is gzip, zstd or none, not ", optarg);
	return -1;
}

/*
 * --format oci writes a layout: -o DIR[:TAG] (a ':' after which no '/'
 * follows starts the tag), which must not exist or be empty; the image
 * formats' options without an image format are refused. Returns -1 to
 * go on, or 2.
 */
#define TAG_MAX 255     /* docker's and containerd's longest name */

static int
settle_image(struct opts *o)
{
	if (!IS_IMAGE(o->format) && (o->tag || o->level || o->compress || o->squash_from))
		return usage_error("--tag, --gzip-level, --compress and --squash-from go with an "
				   "image --format (oci-archive, oci, docker-archive)", "");
	if (o->squash_from && (o->npaths || o->nexcludes))
		return usage_error("--squash-from keeps the whole image: no --path or --exclude",
				   "");
	if (!o->level)
		o->level = 6;
	if (o->format == FORMAT_OCI && !o->list) {
		if (!o->output)
			return usage_error("--format oci writes a directory: give -o DIR[:TAG]", "");
		o->dir = xstrdup(o->output);
		char *colon = strrchr(o->dir, ':');
		if (colon && colon > o->dir && !strchr(colon, '/') && colon[1]) {
			*colon = '\0';
			if (!o->tag)
				o->tag = o->output + (colon - o->dir) + 1;
		}
	}
	if (o->tag && (!o->tag[0] || strlen(o->tag) > TAG_MAX))
		return usage_error("--tag or -o DIR:TAG: a name of 1 to 255 bytes, not ", o->tag);
	return -1;
}

static void
add_exclude(struct opts *o, const char *pattern)
{
	char *p = xstrdup(pattern);

	o->excludes = xrealloc(o->excludes, (o->nexcludes + 1) * sizeof(*o->excludes));
	o->excludes[o->nexcludes++] = p;
}

/* --exclude-from FILE: a pattern a line (empty lines skipped). Returns -1
 * to go on, or the exit status. */
static int
exclude_from(struct opts *o, const char *file)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "tarflat: --exclude-from %s: %s\n", file, strerror(errno));
		return 2;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0)
			add_exclude(o, line);
	}
	free(line);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "tarflat: --exclude-from %s: read error\n", file);
		return 2;
	}
	return -1;
}

/* --owner and --group take a number. Returns -1 to go on, or 2. */
static int
take_id(const char *opt, const char *arg, uint64_t *id)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	/* digits only: strtoull would take " -1" as 2^64 - 1 */
	if (errno || *end || arg[0] < '0' || arg[0] > '9')
		return usage_error(opt, arg);
	*id = v;
	return -1;
}

/* The rewriting options. Returns -1 to go on, or the exit status. */
static int
take_rewrite(struct opts *o, int c)
{
	switch (c) {
	case OPT_OWNER:
		o->rw.owner = 1;
		return take_id("--owner wants a number (a uid), not ", optarg, &o->rw.uid);
	case OPT_GROUP:
		o->rw.group = 1;
		return take_id("--group wants a number (a gid), not ", optarg, &o->rw.gid);
	case OPT_NUMERIC:
		o->rw.numeric = 1;
		return -1;
	case OPT_MTIME:
		o->rw.mtime = 1;
		if (optarg[0] != '@' || rewrite_time(optarg, &o->rw.time) < 0)
			return usage_error("--mtime wants @SECONDS (since 1970), not ", optarg);
		return -1;
	default:        /* OPT_CLAMP */
		o->rw.clamp = 1;
		return -1;
	}
}

/* --clamp-mtime without --mtime clamps to $SOURCE_DATE_EPOCH. Returns -1
 * to go on, or 2. */
static int
settle_clamp(struct opts *o)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	if (!o->rw.clamp || o->rw.mtime)
		return -1;
	if (!sde || !*sde)
		return usage_error("--clamp-mtime needs --mtime or $SOURCE_DATE_EPOCH", "");
	if (rewrite_time(sde, &o->rw.time) < 0 || sde[0] == '@')
		return usage_error("SOURCE_DATE_EPOCH is not a number of seconds: ", sde);
	o->rw.mtime = 1;
	return -1;
}

/* -j N. Returns -1 to go on, or 2. */
static int
take_jobs(struct opts *o, const char *arg)
{
	char *end;
	unsigned long j = strtoul(arg, &end, 10);

	if (*end || j < 1 || j > MAX_JOBS || arg[0] == '-')
		return usage_error("-j wants a number of threads from 1 to 8, not ", arg);
	o->jobs = (size_t)j;
	return -1;
}

/* --platform OS/ARCH[/VARIANT]. Returns -1 to go on, or 2. */
static int
take_platform(struct opts *o, const char *arg)
{
	char os[64], arch[64];

	if (sscanf(arg, "%63[^/]/%63[^/]", os, arch) != 2)
		return usage_error("--platform wants OS/ARCH[/VARIANT], not ", arg);
	o->platform = arg;
	return -1;
}

/* What getopt refused (C is ':' for a missing argument): exit 2. */
static int
bad_option(int c, char **argv)
{
	if (c == ':' && (optopt == 'o' || optopt == 'j'))
		return usage_error(optopt == 'o' ? "option needs an argument: -o"
				   : "option needs an argument: -j", "");
	if (c == ':')
		return usage_error("option needs an argument: ", argv[optind - 1]);
	if (optopt) {
		char opt[3] = { '-', (char)optopt, '\0' };
		return usage_error("unknown option: ", opt);
	}
	return usage_error("unknown option: ", argv[optind - 1]);
}

/* One option C (with optarg) into O. Returns -1 to go on, or the exit
 * status main returns. */
static int
take_option(struct opts *o, int c, char **argv)
{
	switch (c) {
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		puts("tarflat " VERSION);
		return 0;
	case 'o':
		o->output = optarg;
		return -1;
	case 't':
		o->list = 1;
		return -1;
	case 'j':
		return take_jobs(o, optarg);
	case 'v':
		o->verbose = 1;
		return -1;
	case OPT_PATH:
		add_path(o, optarg);
		return -1;
	case OPT_PLATFORM:
		return take_platform(o, optarg);
	case OPT_LAYERS:
		o->layers_only = 1;
		return -1;
	case OPT_FORMAT:
		return take_format(o, optarg);
	case OPT_TAG: case OPT_LEVEL: case OPT_COMPRESS: case OPT_SQUASH:
		return take_image(o, c);
	case OPT_EXCLUDE:
		add_exclude(o, optarg);
		return -1;
	case OPT_EXCLUDE_FROM:
		return exclude_from(o, optarg);
	case OPT_OWNER: case OPT_GROUP: case OPT_NUMERIC: case OPT_MTIME: case OPT_CLAMP:
		return take_rewrite(o, c);
	default:
		return bad_option(c, argv);
	}
}

/* The operands from argv[optind] on into O. Returns -1 to go on, or the
 * exit status. */
static int
take_operands(struct opts *o, int argc, char **argv)
{
	int stdin_used = 0;

	if (optind >= argc)
		return usage_error("no layers given", "");
	if (settle_clamp(o) >= 0 || settle_image(o) >= 0)
		return 2;
	if (!o->output && !o->list && isatty(STDOUT_FILENO)) {
		fputs("tarflat: refusing to write a tar to a terminal; use -o FILE or a pipe\n",
		      stderr);
		return 2;
	}
	o->ninputs = (size_t)(argc - optind);
	o->inputs = calloc(o->ninputs, sizeof(*o->inputs));
	if (!o->inputs)
		die_oom();
	for (size_t i = 0; i < o->ninputs; i++) {
		struct input *in = &o->inputs[i];
		char *arg = argv[optind + (int)i];
		if (arg[0] == STDIN_MARK)
			arg[0] = '-';
		if (input_parse(arg, o->layers_only, in) < 0)
			return usage_error("a digest is sha256:HEX or sha512:HEX: ", in->arg);
		if (strcmp(in->path, "-") == 0 && stdin_used++) {
			fputs("tarflat: standard input given twice\n", stderr);
			return 2;
		}
	}
	return -1;
}

static void
opts_free(struct opts *o)
{
	for (size_t i = 0; i < o->ninputs; i++)
		input_free(&o->inputs[i]);
	free(o->inputs);
	for (size_t i = 0; i < o->npaths; i++)
		free(o->paths[i]);
	free(o->paths);
	for (size_t i = 0; i < o->nexcludes; i++)
		free(o->excludes[i]);
	free(o->excludes);
	free(o->dir);
}

int
main(int argc, char **argv)
{
	struct opts o = { .jobs = default_jobs() };
	int c, rc = -1;

	hide_stdin_operands(argc, argv);
	tune_malloc();
	/* past the file size limit (ulimit -f) a write fails with EFBIG, which
	 * tarflat can report, rather than killing it (and, ignored, the same
	 * for the programs it runs) */
	signal(SIGXFSZ, SIG_IGN);
	opterr = 0;     /* getopt would name argv[0]; usage_error says tarflat */
	while (rc < 0 && (c = getopt_long(argc, argv, ":hj:o:tv", longopts, NULL)) != -1)
		rc = take_option(&o, c, argv);
	if (rc < 0)
		rc = take_operands(&o, argc, argv);
	if (rc < 0) {
		struct run r = { .o = &o };
		rc = 0;
		if (run(&r) < 0) {
			layers_report(&r.L);
			rc = 1;
		}
		run_free(&r);
	}
	opts_free(&o);
	return rc;
}
#endif /* TARFLAT_NO_MAIN: t/fuzz/fuzz_flatten.c includes this file */
