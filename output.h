/*
 * output.h - what the emit hands its entries to: an output format.
 *
 * The emit walks the final tree twice. First, before anything is
 * written, it hands every entry it will write to the output's CHECK (when
 * there is one), which may refuse a value the format cannot hold; then
 * BEGIN. Then, writing, it calls ENTRY for each entry; when the output
 * takes content (CONTENT) and the entry is a regular file, the emit then
 * appends the file's bytes to the output's sink itself, by whatever way
 * is fastest (it may splice them into the sink's file when DIRECT), and
 * calls CONTENT_END. A sparse file's content is its stored regions when
 * the output keeps files sparse (SPARSE), else the whole file, holes
 * read as zeros. END closes the stream. An output knows nothing about
 * layers or the tree: what it needs of them comes in struct out_entry.
 *
 * Every function returns 0, or -1: with MSG set when the format cannot
 * hold a value (the emit prints it as it stands), else with errno set by
 * the write that failed. BEGIN may leave a warning in MSG and return 0.
 * CHECK, BEGIN and CONTENT_END may be NULL.
 */
#ifndef TARFLAT_OUTPUT_H
#define TARFLAT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "tar.h"

struct out_entry {
	/*
	 * The entry: name its path in the output (no trailing '/'), type one
	 * of '0' (regular, content follows), '1' (another name of a file
	 * written before: linkname is that name), '2' (symlink: linkname
	 * its target), '3', '4', '5', '6'; size 0 unless '0'.
	 */
	struct tar_entry t;
	char ftype;             /* the file's own type, for a '1' too: what
	                         * its first name was written as */
	const char *target;     /* a symlink's target, for a '1' too */
	uint64_t ino;           /* the same for every name of one file */
	uint64_t id;            /* this name's own, unique in the output */
	uint32_t nlink;         /* names of its file in the output */
	size_t layer;           /* the layer that wrote it: 1 for the oldest */
	const char *layer_id;   /* that layer's digest, 12 hex digits, or "" */
};

struct output;

struct output_ops {
	int (*check)(struct output *o, const struct out_entry *e);
	int (*begin)(struct output *o);
	int (*entry)(struct output *o, const struct out_entry *e);
	int (*content_end)(struct output *o, const struct out_entry *e);
	int (*end)(struct output *o);
	int content;            /* it takes the content of regular files */
	int direct;             /* content goes to the sink as it is */
	int sparse;             /* a sparse file's content is its stored
	                         * regions (ENTRY wrote its map) */
};

struct output {
	const struct output_ops *ops;
	struct tar_out *sink;   /* the buffered stream it writes */
	void *self;             /* the format's own state */
	char msg[512];          /* why a value did not fit; a warning */
};

#endif
