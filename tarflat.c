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
 *   emit     emit.c             the tree written depth-first through an
 *                               output: tar.c's writer or list.c's -t
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

#include "emit.h"
#include "input.h"
#include "list.h"
#include "path.h"
#include "tree.h"

#define VERSION "1.0"
#define MAX_JOBS 8

struct opts {
	int list;               /* -t */
	int verbose;            /* -v */
	size_t jobs;            /* -j */
	int layers_only;        /* --layers */
	const char *platform;   /* --platform */
	char **paths;           /* --path, normalised */
	size_t npaths;
	const char *output;     /* -o */
	struct input *inputs;   /* the operands */
	size_t ninputs;
};

/* One flatten: its options, its layers and its tree. */
struct run {
	const struct opts *o;
	struct layers L;
	struct tree t;
};

/* The processors online, at most MAX_JOBS. */
static size_t
default_jobs(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : (size_t)cpus;
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
			rc = emit_select(&r->t, o->paths, o->npaths);
		layers_pack_wait(&r->L);
	}
	/* the tree is final: its lookups are done, and the emit's list of
	 * gzip content takes the memory */
	tree_drop_maps(&r->t);
	layers_drop_maps(&r->L);
	return rc;
}

/* Emit: R's tree to FD (NAME in messages), as a tar or the -t listing. */
static int
write_tree(struct run *r, int fd, const char *name)
{
	struct emit_opts eo = { r->o->jobs, r->o->verbose, name };
	struct tar_out sink;
	struct output out = { r->o->list ? &list_output : &tar_output, &sink, NULL, "" };

	if (tar_out_init(&sink, fd) < 0)
		die_oom();
	int rc = emit(&r->t, &out, &eo);
	tar_out_free(&sink);
	return rc;
}

/* Releases everything a run built, so that the fuzz target can run again
 * in the same process and leak checkers see a clean exit. */
static void
run_free(struct run *r)
{
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
	if (output && (fd = open_output(r, output, &tmp)) < 0)
		return -1;
	if (write_tree(r, fd, name) == 0) {
		/* A late error (NFS, quota) can show only at close. */
		if (close(fd) < 0 || (tmp && rename(tmp, output) < 0))
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

#define USAGE "usage: tarflat [-tv] [-j N] [-o FILE] [--path PATH]... " \
	"[--platform OS/ARCH[/VARIANT]] [--layers] INPUT...\n"

static void
usage(FILE *f)
{
	fputs(USAGE
	      "Flatten a container image into one POSIX tar of its final filesystem.\n"
	      "Each INPUT is a layer (plain, gzip, zstd, xz or bzip2 tar; oldest\n"
	      "first) or an image standing for its layers: a docker save archive,\n"
	      "an OCI archive or an OCI image layout directory; '-' is standard\n"
	      "input. INPUT:TAG or INPUT@sha256:HEX picks one image of several.\n"
	      "\n"
	      "  -j N             use N threads (default: the processors, at most 8)\n"
	      "  -o FILE          write to FILE instead of standard output\n"
	      "  -t               list the flattened tree instead of writing it\n"
	      "  -v               name each written path on standard error\n"
	      "  --path PATH      write only PATH and what is under it (repeatable)\n"
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
	char *p = strdup(arg);

	if (!p)
		die_oom();
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

enum { OPT_PATH = 256, OPT_PLATFORM, OPT_LAYERS };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "layers", no_argument, NULL, OPT_LAYERS },
	{ NULL, 0, NULL, 0 },
};

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
	case 'j': {
		char *end;
		unsigned long j = strtoul(optarg, &end, 10);
		if (*end || j < 1 || j > MAX_JOBS || optarg[0] == '-')
			return usage_error("-j wants a number of threads from 1 to 8, not ", optarg);
		o->jobs = (size_t)j;
		return -1;
	}
	case 'v':
		o->verbose = 1;
		return -1;
	case OPT_PATH:
		add_path(o, optarg);
		return -1;
	case OPT_PLATFORM: {
		char os[64], arch[64];
		if (sscanf(optarg, "%63[^/]/%63[^/]", os, arch) != 2)
			return usage_error("--platform wants OS/ARCH[/VARIANT], not ", optarg);
		o->platform = optarg;
		return -1;
	}
	case OPT_LAYERS:
		o->layers_only = 1;
		return -1;
	case ':':
		if (optopt == 'o' || optopt == 'j')
			return usage_error(optopt == 'o' ? "option needs an argument: -o"
					   : "option needs an argument: -j", "");
		return usage_error("option needs an argument: ", argv[optind - 1]);
	default:
		if (optopt) {
			char opt[3] = { '-', (char)optopt, '\0' };
			return usage_error("unknown option: ", opt);
		}
		return usage_error("unknown option: ", argv[optind - 1]);
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
