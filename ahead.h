/*
 * ahead.h - inflating gzip layers' content ahead of the writer, on worker
 * threads, so that the second inflate of a flatten runs on every core.
 *
 * The order of the output is known before its first byte is written, so
 * the content the writer will need is a list, made first: every entry's
 * bytes, cut where its layer's access points lie (tar_in_span_*). The
 * list is then planned into jobs: each job is the parts of one span of
 * one layer that one pass of inflate fills, from the span's access point
 * forward, even where the output comes back to that span later (a later
 * layer's files stand among an earlier layer's in the output, so its
 * reading jumps back and forth). A part's bytes are held from its job's
 * run until the writer takes them, and the plan keeps what is held at
 * once within 64 MiB (and a job): past that a span is inflated again.
 * Each worker takes the next job in order of first use, restarts inflate
 * with a cursor of its own and fills the job's parts; the writer takes
 * the parts back in list order. At most one job per worker is taken
 * ahead of the writer's, and a job holds at most 4 MiB (a span that one
 * huge deflate block makes is cut into several), which bounds memory to
 * the held 64 MiB and (workers + 1) * 4 MiB. Spans that hold nothing
 * the output needs are never inflated.
 *
 * Nothing here prints or exits; an error in a worker comes back to the
 * writer with the part it concerns.
 */
#ifndef TARFLAT_AHEAD_H
#define TARFLAT_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "tar.h"

struct ahead;

/* A new, empty list for NWORKERS threads; with 0, the writer inflates
 * each job itself when it reaches it. NULL on ENOMEM. */
struct ahead *ahead_new(size_t nworkers);

/*
 * ahead_add: appends the SIZE bytes (SIZE > 0) at DATA_OFF of layer LAYER's
 * uncompressed stream, an entry's content (not sparse) read through IN, a
 * gzip layer, to the list, in output order. Returns 0 or -1 on ENOMEM. IN
 * must stay valid until ahead_free.
 */
int ahead_add(struct ahead *a, struct tar_in *in, uint32_t layer, uint64_t data_off,
	      uint64_t size);

/* The number of entries added. */
size_t ahead_count(const struct ahead *a);

/* ahead_start: plans the jobs and starts the workers (where no thread can
 * be made, the writer fills the jobs itself, in ahead_next). Returns 0, or
 * -1 on ENOMEM. */
int ahead_start(struct ahead *a);

/*
 * ahead_next: the writer's next piece of content, at most WANT (> 0) bytes
 * at OFF of layer IN_LAYER: the rest of what the list added, in order,
 * waiting for a worker if need be. Returns a pointer to *LEN bytes, valid
 * until the next call, or NULL with *ERR filled and *LAYER set to the
 * layer it concerns.
 */
const void *ahead_next(struct ahead *a, uint32_t in_layer, uint64_t off, uint64_t want,
		       size_t *len, struct tar_err *err, uint32_t *layer);

/* Stops the workers (waiting for the jobs they are in) and frees A. */
void ahead_free(struct ahead *a);

#endif
