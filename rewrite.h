/*
 * rewrite.h - owners and times rewritten on the way out, the same for
 * every output: GNU tar's --owner, --group, --numeric-owner, --mtime and
 * --clamp-mtime, for reproducible output.
 *
 * --owner=N and --group=N set every entry's uid or gid and drop its user
 * or group name (tarflat looks up no names on the host: the output would
 * depend on it); --numeric-owner drops every name. --mtime=@T sets every
 * mtime to T; with --clamp-mtime only mtimes later than T are lowered to
 * it (T from $SOURCE_DATE_EPOCH when no --mtime is given). The pax time
 * records an entry carries (a fractional mtime, atime, ctime) follow the
 * same rule, so that no time of the input survives the rewrite.
 */
#ifndef TARFLAT_REWRITE_H
#define TARFLAT_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "tar.h"

struct rewrite {
	int owner, group;       /* set UID, GID */
	uint64_t uid, gid;
	int numeric;            /* no user or group names */
	int mtime;              /* set (or, with CLAMP, lower to) TIME */
	int clamp;
	int64_t time;
};

/* Where rewrite_entry puts the records it rewrites: the caller's,
 * zeroed first, freed with rewrite_buf_free. */
struct rewrite_buf {
	char *p;
	size_t cap;
};

/* Is anything to be rewritten? */
int rewrite_any(const struct rewrite *rw);

/*
 * rewrite_entry: rewrites T in place by RW. T's strings are not written
 * to: the names become "" and new pax records, when the times in them
 * change, go to B, which T then points at until the next call on B.
 */
void rewrite_entry(const struct rewrite *rw, struct tar_entry *t, struct rewrite_buf *b);

void rewrite_buf_free(struct rewrite_buf *b);

/*
 * rewrite_time: "@SECONDS" (or "SECONDS", or $SOURCE_DATE_EPOCH's decimal)
 * into *T. Returns 0, or -1 when it is not a whole number of seconds.
 */
int rewrite_time(const char *s, int64_t *t);

#endif
