/*
 * newc.c - the newc cpio writer (see newc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "newc.h"
#include "output.h"

#define NEWC_HDR 110
#define NEWC_MAX 0xffffffffu

#define PAD4(n) ((4 - ((n) % 4)) % 4)

/* The mode bits of the file's type (sys/stat.h's, as newc holds them). */
static uint32_t
type_bits(char ftype)
{
	switch (ftype) {
	case '2': return 0120000;
	case '3': return 0020000;
	case '4': return 0060000;
	case '5': return 0040000;
	case '6': return 0010000;
	default: return 0100000;
	}
}

/* Zeros up to the next multiple of 4 after N bytes. */
static int
pad4(struct tar_out *s, uint64_t n)
{
	static const char zeros[4];

	return tar_write_data(s, zeros, PAD4(n));
}

/* One header, its name and the name's padding. */
static int
put_header(struct tar_out *s, const uint32_t f[11], const char *name)
{
	char h[NEWC_HDR + 1];
	size_t nsize = strlen(name) + 1;

	snprintf(h, sizeof(h), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		 f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10],
		 (uint32_t)nsize, 0u);
	if (tar_write_data(s, h, NEWC_HDR) < 0 || tar_write_data(s, name, nsize) < 0)
		return -1;
	return pad4(s, NEWC_HDR + nsize);
}

/* The content size newc gives entry E: a carrier's bytes, a symlink's
 * target; 0 for anything else. */
static uint64_t
file_size(const struct out_entry *e)
{
	if (e->ftype == '2')
		return strlen(e->target);
	return e->t.type == '0' ? e->t.size : 0;
}

/* Is E one of several names that newc links? */
static int
linked(const struct out_entry *e)
{
	return e->nlink > 1 && e->ftype != '2' && e->ftype != '5';
}

/* Does the serialised record list P (LEN bytes of "N key=value\n"
 * records, N counting the whole record) hold an extended attribute, an
 * ACL or an SELinux label (GNU tar's RHT.security.selinux)? Records are
 * taken by their length: a value may hold a newline. */
static int
has_attrs(const char *p, size_t len)
{
	static const char *const keys[] = { "SCHILY.xattr.", "LIBARCHIVE.xattr.", "SCHILY.acl.",
					    "RHT.security.selinux=" };

	while (p && len > 0) {
		size_t n = 0, i = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9' && n <= len)
			n = n * 10 + (size_t)(p[i++] - '0');
		if (i == len || p[i] != ' ' || n <= i + 1 || n > len)
			return 0;
		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++)
			if (n - i - 2 > strlen(keys[k]) &&
			    strncmp(p + i + 1, keys[k], strlen(keys[k])) == 0)
				return 1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
refuse(struct output *o, const struct out_entry *e, const char *what)
{
	snprintf(o->msg, sizeof(o->msg), "%.300s: %s: newc cannot hold it (nothing written)",
		 e->t.name, what);
	return -1;
}

static int
newc_check(struct output *o, const struct out_entry *e)
{
	struct newc *nc = o->self;
	const struct tar_entry *t = &e->t;

	if (file_size(e) > NEWC_MAX)
		return refuse(o, e, "a file of 4 GiB or more");
	if (t->uid > NEWC_MAX || t->gid > NEWC_MAX)
		return refuse(o, e, "a uid or gid past 2^32 - 1");
	if (t->mtime < 0 || t->mtime > (int64_t)NEWC_MAX)
		return refuse(o, e, "an mtime before 1970 or past 2106 (outside 32 bits)");
	if (has_attrs(t->pax, t->pax ? t->paxlen : 0) ||
	    has_attrs(t->gpax, t->gpax ? t->gpaxlen : 0)) {
		if (nc->nattr < NEWC_NAMED)
			snprintf(nc->named[nc->nattr], sizeof(nc->named[0]), "%s", t->name);
		nc->nattr++;
	}
	return 0;
}

/* Before the first entry: the warning about what was dropped. */
static int
newc_begin(struct output *o)
{
	const struct newc *nc = o->self;
	size_t n = 0;

	if (!nc->nattr)
		return 0;
	n = (size_t)snprintf(o->msg, sizeof(o->msg), "newc holds no extended attributes or "
			     "ACLs: %llu %s lose%s them (",
			     (unsigned long long)nc->nattr, nc->nattr == 1 ? "entry" : "entries",
			     nc->nattr == 1 ? "s" : "");
	for (uint64_t i = 0; i < nc->nattr && i < NEWC_NAMED && n < sizeof(o->msg); i++)
		n += (size_t)snprintf(o->msg + n, sizeof(o->msg) - n, "%s%s", i ? ", " : "",
				      nc->named[i]);
	if (n < sizeof(o->msg))
		snprintf(o->msg + n, sizeof(o->msg) - n, "%s)", nc->nattr > NEWC_NAMED ? ", ..." : "");
	return 0;
}

static int
newc_entry(struct output *o, const struct out_entry *e)
{
	const struct tar_entry *t = &e->t;
	uint32_t nlink = e->ftype == '5' ? 2 : linked(e) ? e->nlink : 1;
	uint32_t f[11] = {
		(uint32_t)(linked(e) ? e->ino : e->id),
		type_bits(e->ftype) | (t->mode & 07777),
		(uint32_t)t->uid, (uint32_t)t->gid, nlink, (uint32_t)t->mtime,
		(uint32_t)file_size(e), 0, 0,
		e->ftype == '3' || e->ftype == '4' ? t->devmajor : 0,
		e->ftype == '3' || e->ftype == '4' ? t->devminor : 0,
	};

	if (put_header(o->sink, f, t->name) < 0)
		return -1;
	if (e->ftype == '2')
		return tar_write_data(o->sink, e->target, f[6]) < 0 ? -1 : pad4(o->sink, f[6]);
	return 0;
}

static int
newc_content_end(struct output *o, const struct out_entry *e)
{
	return pad4(o->sink, e->t.size);
}

static int
newc_end(struct output *o)
{
	static const uint32_t f[11] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	if (put_header(o->sink, f, "TRAILER!!!") < 0)
		return -1;
	return tar_out_flush(o->sink);
}

const struct output_ops newc_output = {
	.check = newc_check,
	.begin = newc_begin,
	.entry = newc_entry,
	.content_end = newc_content_end,
	.end = newc_end,
	.content = 1,
	.direct = 1,
	.sparse = 0,
};
