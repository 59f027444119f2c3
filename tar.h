/*
 * tar.h - reading tar and gzip layers, writing one POSIX tar.
 *
 * Two files implement it. tar.c owns the tar format: the layer's bytes (a
 * file or a range of one, and the feed), headers, pax records, sparse
 * maps, the entries, the cursors' sparse lookups and the writer. gz.c
 * (gz.h) owns everything gzip: inflating the layer once while tar_next
 * reads it, with its members, trailers, CRC and length checks, the access
 * points, and the inflate streams of the cursors. Only tar.c calls gz.c.
 *
 * Nothing here prints or exits: every function returns a status and, on
 * failure, fills a struct tar_err that the caller turns into a message.
 */
#ifndef TARFLAT_TAR_H
#define TARFLAT_TAR_H

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512

/* Caps against hostile input (tarflat.1 EXIT STATUS and LIMITS). */
#define TAR_MAX_NAME   (64 * 1024)       /* one GNU long name or link target */
#define TAR_MAX_PAX    (1024 * 1024)     /* one pax extended header */
#define TAR_MAX_EXT    64                /* chained extension headers per member */
#define TAR_MAX_GLOBAL (64u << 20)       /* pax global records kept, per layer */
#define TAR_SPAN       (2u << 20)        /* gzip output between access points */

/* The on-disk header, as POSIX ustar lays it out; GNU reuses prefix. */
struct tar_header {
	char name[100];     /*   0 */
	char mode[8];       /* 100 */
	char uid[8];        /* 108 */
	char gid[8];        /* 116 */
	char size[12];      /* 124 */
	char mtime[12];     /* 136 */
	char chksum[8];     /* 148 */
	char typeflag;      /* 156 */
	char linkname[100]; /* 157 */
	char magic[6];      /* 257: "ustar\0" (POSIX) or "ustar " (GNU) */
	char version[2];    /* 263: "00" (POSIX) or " \0" (GNU) */
	char uname[32];     /* 265 */
	char gname[32];     /* 297 */
	char devmajor[8];   /* 329 */
	char devminor[8];   /* 337 */
	char prefix[155];   /* 345: GNU: atime 345, ctime 357, offset 369,
	                     * longnames 381, sparse[4] 386, isextended 482,
	                     * realsize 483 */
	char pad[12];       /* 500 */
};
_Static_assert(sizeof(struct tar_header) == TAR_BLOCK, "tar header is one block");

/* One data region of a sparse file: LEN bytes at OFF in the expanded file. */
struct tar_span {
	uint64_t off;
	uint64_t len;
};

/*
 * One member, parsed: extension headers (pax x/g/X, GNU L/K, old GNU sparse
 * extensions, Solaris A) folded in. All strings are NUL-terminated and owned
 * by the entry, in one block that NAME points at (they may be rewritten in
 * place, never freed or replaced one by one); tar_entry_free releases them.
 */
struct tar_entry {
	char *name;         /* as stored: pax path, else GNU L, else prefix/name;
	                     * not normalised */
	char *linkname;     /* pax linkpath, else GNU K, else linkname; "" if none */
	char *uname;        /* "" if none */
	char *gname;
	char type;          /* '0' regular (also for '\0', 'S', sparse pax),
	                     * '1' hardlink, '2' symlink, '3' char, '4' block,
	                     * '5' directory (also GNU 'D'), '6' fifo, '7'
	                     * contiguous, anything else: unknown, has content */
	uint32_t mode;      /* permission bits, 07777 */
	uint64_t uid, gid;
	int64_t mtime;      /* whole seconds (floor of a fractional pax mtime) */
	uint32_t devmajor, devminor;
	uint64_t size;      /* content size as extracted (sparse: expanded) */
	uint64_t hdr_off;   /* offset of the member's first header, extension
	                     * headers included, in the uncompressed stream */
	uint64_t data_off;  /* offset of the stored content */
	uint64_t data_len;  /* stored content bytes (== size unless sparse) */
	struct tar_span *sparse; /* data regions in order, stored back to back
	                          * from data_off; NULL when not sparse */
	size_t nsparse;
	/*
	 * Per-file pax records to carry into the output, already serialised as
	 * "LEN key=value\n" records, in input order, globals first: everything
	 * but path, linkpath, size, uid, gid, uname, gname, GNU.sparse.*,
	 * SCHILY.dev/ino/nlink/devmajor/devminor and an mtime with no fraction
	 * (a fractional mtime is kept verbatim). NULL when there is none.
	 */
	char *pax;
	size_t paxlen;
	/*
	 * The layer's pax global records that apply to this member and are
	 * carried verbatim, serialised the same way; written before PAX, and
	 * none of their keys is in PAX. Shared by the members that follow one
	 * g header and owned by the reader: valid until tar_in_close. NULL
	 * when there is none. (A member that overrides a global record gets
	 * the merged records in PAX instead.)
	 */
	const char *gpax;
	size_t gpaxlen;
};

void tar_entry_free(struct tar_entry *e);

/* What went wrong: OFF is the byte offset, in the uncompressed stream, of the
 * member header being read (or of the failing byte for gzip errors). */
struct tar_err {
	uint64_t off;
	char msg[256];
};

/*
 * A warning that does not stop reading (an ignored pax record, trailing
 * garbage after the gzip stream). The reader calls it; the caller prints.
 */
typedef void tar_warn_fn(void *ctx, uint64_t off, const char *msg);

struct tar_in;

/*
 * tar_in_open: takes a seekable, readable FD (the caller spools pipes) and
 * tells plain tar from gzip by content. zstd, xz, bzip2, lz4, lzip, lzma,
 * compress(1) and 7z are refused by magic with a message naming the format
 * and how to decompress it. Returns a reader or NULL with *err filled. The
 * reader does not close FD. WARN may be NULL.
 */
struct tar_in *tar_in_open(int fd, tar_warn_fn *warn, void *ctx, struct tar_err *err);

/*
 * tar_in_open_range: the same for a layer that is the LEN bytes at OFF in
 * FD (a blob inside an image archive); LEN UINT64_MAX means up to the end
 * of the file. Offsets in entries and errors are from OFF. Reading never
 * goes past OFF + LEN; a range past the end of the file is an error.
 */
struct tar_in *tar_in_open_range(int fd, uint64_t off, uint64_t len, tar_warn_fn *warn,
				 void *ctx, struct tar_err *err);

/* 1 when the N bytes at BLK start with a tar header (not all zeros, a
 * valid checksum), else 0: a layer that starts so is a plain tar. */
int tar_is_header(const void *blk, size_t n);

/* 1 if the layer is gzip, 0 if plain. */
int tar_in_is_gzip(const struct tar_in *in);

/*
 * tar_in_pack: once tar_next has returned 0, shrinks a gzip layer's index
 * (gz_pack); call it before any cursor is made. Returns 0, or -1 when out
 * of memory (nothing is lost).
 */
int tar_in_pack(struct tar_in *in);

/*
 * tar_in_feed: while tar_next indexes the layer, RAW gets every byte of
 * it, in order, each once: the stored bytes (compressed, for gzip), what
 * follows the end of the archive included, so that once tar_next has
 * returned 0 RAW has seen exactly the layer (for checking a digest; a
 * plain layer's content is then read instead of skipped). For a gzip
 * layer TAR gets every inflated byte the same way (for an uncompressed
 * digest); for a plain one TAR is not called, its bytes being RAW's.
 * Either may be NULL. Call it before the first tar_next.
 */
typedef void tar_feed_fn(void *ctx, const void *buf, size_t len);
void tar_in_feed(struct tar_in *in, tar_feed_fn *raw, tar_feed_fn *tar, void *ctx);

/*
 * tar_next: reads the next member into *E (zeroed first; on success owned by
 * the caller). Skips content (lseek for plain, inflate-and-discard for gzip)
 * and, for gzip, records an access point every TAR_SPAN bytes of output.
 * Returns 1 with an entry, 0 at the end of the archive (two zero blocks, or
 * end of input at a header boundary; a gzip stream is still read to its end
 * so its CRC and length are checked), -1 with *err filled.
 */
int tar_next(struct tar_in *in, struct tar_entry *e, struct tar_err *err);

/*
 * tar_read_content: copies LEN bytes of E's content, starting POS bytes into
 * the (expanded) file, into BUF; holes of sparse files read as zeros. Works
 * after indexing, in any order: plain layers use pread, gzip layers a forward
 * cursor restarted from the nearest access point when it would have to go
 * back or skip more than one span. Returns 0, or -1 with *err filled (a
 * short read means the input changed since it was indexed). It uses the
 * reader's own cursor (a tar_cursor made on the first call), so calls on
 * one reader must not overlap; tar cursors may run beside it.
 */
int tar_read_content(struct tar_in *in, const struct tar_entry *e, uint64_t pos,
		     void *buf, size_t len, struct tar_err *err);

/*
 * tar_read_stored: the LEN bytes at OFF of the layer's uncompressed
 * stream (a sparse entry's stored regions, say), through the reader's
 * own cursor, as tar_read_content reads. Returns 0, or -1 with *err
 * filled.
 */
int tar_read_stored(struct tar_in *in, uint64_t off, void *buf, size_t len,
		    struct tar_err *err);

/* tar_in_stream_len: once tar_next has returned 0, the bytes of the
 * layer's uncompressed stream that it read. */
uint64_t tar_in_stream_len(const struct tar_in *in);

/*
 * Cursors: content readers for several threads. Once tar_next has returned
 * 0, a layer's index is read-only and distinct cursors share nothing
 * mutable, so each thread may read any entries of the layer through its
 * own cursor at the same time (entries are only read; they must outlive
 * the reads). One cursor is used by one thread at a time.
 *
 * tar_cursor_new: a cursor on IN, or NULL when out of memory. A gzip
 * cursor holds an inflate stream and about 550 KiB of buffers, allocated
 * on its first read. Free it before tar_in_close.
 *
 * tar_cursor_read: tar_read_content through C: the same bytes, sparse
 * files too, the same errors, and the same forward inflate that restarts
 * from the nearest access point when it would have to go back or skip
 * more than one span. Returns 0, or -1 with *err filled.
 *
 * tar_cursor_read_stored: the LEN bytes at OFF of the layer's
 * uncompressed stream, whatever members they belong to (headers
 * included), the same way. Returns 0, or -1 with *err filled.
 *
 * tar_cursor_inflated: the bytes C has inflated so far (0 for a plain
 * layer), for statistics and tests.
 *
 * tar_cursor_free: frees C (may be NULL).
 */
struct tar_cursor;
struct tar_cursor *tar_cursor_new(struct tar_in *in);
int tar_cursor_read(struct tar_cursor *c, const struct tar_entry *e, uint64_t pos,
		    void *buf, size_t len, struct tar_err *err);
int tar_cursor_read_stored(struct tar_cursor *c, uint64_t off, void *buf, size_t len,
			   struct tar_err *err);
uint64_t tar_cursor_inflated(const struct tar_cursor *c);
void tar_cursor_free(struct tar_cursor *c);

/*
 * Spans, for sharing out work among threads. STORED_OFF is an offset in
 * the uncompressed stream, as data_off is (a sparse entry's data regions
 * lie back to back from data_off). A cursor that has to go back, or far
 * forward, to read the stored byte at STORED_OFF restarts inflate at
 * tar_in_span_start(STORED_OFF), and from there reads on without another
 * restart up to tar_in_span_end(STORED_OFF) and beyond. So work cut at
 * span ends costs each piece one restart, its own bytes, and the bytes of
 * its span before them.
 * tar_in_span_start: the uncompressed offset of the access point at or
 * before STORED_OFF (0 for a plain layer); tar_in_span_end: the next
 * access point's offset, or UINT64_MAX when there is none (always for a
 * plain layer). Meaningful once tar_next has returned 0.
 */
uint64_t tar_in_span_start(const struct tar_in *in, uint64_t stored_off);
uint64_t tar_in_span_end(const struct tar_in *in, uint64_t stored_off);

/* tar_in_unchanged: 1 if the file still has the size and mtime it had when
 * opened, 0 otherwise. */
int tar_in_unchanged(const struct tar_in *in);

/* Frees the reader, its own cursor and access points, not the tar cursors
 * made on it (free those first); does not close the fd. */
void tar_in_close(struct tar_in *in);

/*
 * Writing. A struct tar_out buffers whole blocks and writes in large chunks.
 * All functions return 0, or -1 with errno set by the failing write.
 */
struct tar_out {
	int fd;             /* -1 when DRAIN takes the bytes */
	unsigned char *buf;
	size_t len, cap;
	uint64_t written;   /* bytes handed to write(2) or DRAIN so far */
	/* where the bytes go instead of FD (a compressor): all LEN of them,
	 * returning 0, or -1 with errno set */
	int (*drain)(void *ctx, const void *p, size_t len);
	void *drain_ctx;
};

int tar_out_init(struct tar_out *o, int fd);

/*
 * tar_write_header: writes E as one member header. A sparse regular file
 * (E->sparse set) is written as pax sparse 1.0, as `tar --sparse --posix`
 * writes it: GNU.sparse.{major=1,minor=0,name,realsize} records, the name
 * DIR/GNUSparseFile.0/BASE and the stored size (the map and E->data_len)
 * in the ustar header, then the map, padded to a block: the caller then
 * writes E's stored regions (E->data_len bytes) and pads them. Otherwise:
 * a pax 'x' header first
 * when a value does not fit its ustar field (name, linkname, size >= 8 GiB,
 * uid/gid > 07777777, mtime < 0 or > 077777777777, uname/gname > 31 bytes,
 * device numbers > 07777777) or when E->pax has records, then the ustar
 * header. Uses E->name (a directory's name gets a trailing '/'),
 * E->linkname, E->type ('0','1','2','3','4','5','6' only), mode, ids,
 * names, mtime, devices and E->size (taken as 0 unless type is '0'). The
 * pax header is named DIR/PaxHeaders/BASE after E->name, so the bytes
 * depend only on E.
 */
int tar_write_header(struct tar_out *o, const struct tar_entry *e);

/*
 * tar_member_block: the one-block ustar header of a plain member: NAME
 * (split into prefix and name as ustar allows), TYPE, MODE, MTIME, owner
 * 0:0, no user names, SIZE (in base-256 when octal cannot hold it), into
 * OUT. Returns 0, or -1 when NAME or MTIME does not fit. For archives
 * tarflat writes around its own output (images), whose headers may be
 * patched in place once the size is known.
 */
int tar_member_block(const char *name, char type, uint32_t mode, int64_t mtime,
		     uint64_t size, unsigned char out[TAR_BLOCK]);

/* tar_write_data: appends content bytes; tar_write_pad: zeros up to the next
 * block boundary after SIZE content bytes. */
int tar_write_data(struct tar_out *o, const void *buf, size_t len);
int tar_write_pad(struct tar_out *o, uint64_t size);

/* tar_out_room: where the next content bytes go in the buffer, to be read
 * into it in place: room for *AVAIL of them, 1 <= *AVAIL <= LEN (LEN > 0),
 * flushing a full buffer first; NULL when that write fails.
 * tar_out_commit: the first N bytes there are written (N <= *AVAIL). */
unsigned char *tar_out_room(struct tar_out *o, size_t len, size_t *avail);
void tar_out_commit(struct tar_out *o, size_t n);

/* tar_write_end: two zero blocks, then flushes. */
int tar_write_end(struct tar_out *o);
int tar_out_flush(struct tar_out *o);
void tar_out_free(struct tar_out *o);

/* tar_output: the writer as an output of the emit (output.h): a header
 * for each entry, content padded to a block, two zero blocks at the end. */
struct output_ops;
extern const struct output_ops tar_output;

/*
 * Numeric fields: the only two functions that touch them.
 * tar_get_num: reads an octal (space/NUL padded or terminated, leading
 * spaces allowed) or base-256 field of LEN bytes. Returns 0, or -1 on
 * garbage or overflow. An all-NUL or all-space field reads as 0.
 * tar_put_num: writes V as octal filling LEN-1 digits and a NUL; returns -1
 * when it does not fit (the caller adds a pax record).
 */
int tar_get_num(const char *field, size_t len, int64_t *v);
int tar_put_num(char *field, size_t len, uint64_t v);

#endif
