/*
 * newc.h - the SVR4 newc cpio (magic 070701) as an output (output.h):
 * the archive the Linux kernel unpacks as an initramfs
 * (init/initramfs.c), which GNU cpio -i and bsdtar read too.
 *
 * Each entry is a header of 110 bytes (the magic and 13 fields of eight
 * hex digits: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check), its name and a NUL,
 * padded with zeros so that header and name end on a multiple of 4, then
 * the content, padded to 4. TRAILER!!! ends the archive. The check field
 * is 0 (newc's, not crc's, 070702).
 *
 * Hardlinks: every name of a regular file, fifo or device carries the
 * file's inode number, its link count in the output and the file's
 * metadata (the kernel applies each name's owner, mode and mtime to the
 * inode, so they must all agree); the content goes with the first name,
 * the carrier of the tar output, and the others have size 0. The kernel
 * links each later name to the first and, opening it without truncating,
 * writes nothing into it; GNU cpio and libarchive take the content on
 * whichever name has it. The first rather than the last, as GNU cpio -o
 * puts it: tarflat knows the last name only at the end of the walk, and
 * a reader then has the bytes with the file's first name. The kernel
 * links no symlink: each name of a hardlinked symlink is a symlink of its
 * own (its own inode number, one link). A symlink's content is its
 * target. Sparse files are written whole, holes as zeros.
 *
 * What newc cannot hold is refused before anything is written, naming
 * the path: a file of 4 GiB or more, a uid, gid or mtime outside 0 to
 * 2^32 - 1. Extended attributes and ACLs (file capabilities among them)
 * have no place in newc: they are dropped, and a warning counts the
 * entries that had them and names the first few.
 */
#ifndef TARFLAT_NEWC_H
#define TARFLAT_NEWC_H

#include <stdint.h>

struct output_ops;
extern const struct output_ops newc_output;

/* NEWC_NAMED: how many paths the warning about dropped attributes names. */
#define NEWC_NAMED 3

/* The output's own state (output.self): zeroed before the first call. */
struct newc {
	uint64_t nattr;                 /* entries whose attributes are dropped */
	char named[NEWC_NAMED][128];    /* the first few of them */
};

#endif
