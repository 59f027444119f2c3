/*
 * emit.h - the emit: the final tree written out, depth-first, through an
 * output (output.h).
 *
 * The walk writes each directory followed at once by everything under
 * it; among the children of one directory, by where the entry that made
 * each one stands in the input. The first written name of a file with
 * several is its carrier, written with the content; the others are
 * links to it (tarflat.1, OUTPUT). Selection (select.h: --path,
 * --exclude) decides which nodes are written; rewriting (rewrite.h) what
 * owners and times they have. Content is copied from the layers: a plain layer's
 * by pread, splice(2) or copy_file_range(2); a gzip layer's by worker
 * threads (ahead.c) that inflate it ahead of the writer.
 */
#ifndef TARFLAT_EMIT_H
#define TARFLAT_EMIT_H

#include <stddef.h>

#include "output.h"
#include "tree.h"

/*
 * Bounds (tarflat.1 LIMITS): no name in the output of PATH_MAX bytes or
 * more, and no output of more than EMIT_RATIO times the layers' tar
 * streams (uncompressed) plus EMIT_SLACK_MIB MiB. Both are checked before
 * the first byte is written.
 */
#define EMIT_RATIO 16
#define EMIT_SLACK_MIB 64

struct rewrite;

struct emit_opts {
	size_t jobs;            /* threads inflating content (ahead.c) */
	int verbose;            /* -v: each path on standard error */
	const char *out_name;   /* for messages: "standard output", FILE */
	const struct rewrite *rewrite;  /* owners and times (or NULL) */
};

/*
 * emit: writes tree T (final, selected) through OUT, ending the stream.
 * Returns 0, or -1 with the error in T's layers (layers_report), the
 * output then cut short.
 */
int emit(struct tree *t, struct output *out, const struct emit_opts *o);

#endif
