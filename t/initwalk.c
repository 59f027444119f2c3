/*
 * t/initwalk.c - a static /init for t/lib-qemu.sh: walk the tree the kernel
 * unpacked from an initramfs, print one line a path to the console, power off.
 *
 * Built with `gcc -static`; it uses libc only (its own sha256, no libraries).
 * The kernel runs it as /init with the console (console=ttyS0) on fds 0-2
 * and the words after `--` on its command line as argv: the paths to leave
 * out of the listing (with everything under them), e.g. `dev root init`.
 *
 * Output, between two marker lines:
 *
 *   @@initwalk BEGIN
 *   P PATH TYPE MODE UID:GID MTIME SIZE HASH TARGET RDEV NLINK INO
 *   ...
 *   @@initwalk END COUNT SUM
 *
 * in depth-first order from / (the root itself not listed), the names of each
 * directory sorted bytewise, a directory before what it holds. PATH has no
 * leading '/'; it and TARGET escape every byte outside '!'..'~' and the
 * backslash as \xHH. TYPE is f d l c b p s; MODE the permission bits with
 * setuid, setgid and sticky as four octal digits; MTIME whole seconds;
 * SIZE the size of a file or symlink; HASH the first 16 hex digits of a
 * file's sha256; TARGET '->' and a symlink's target; RDEV MAJOR,MINOR of a
 * device; NLINK and INO the link count and inode number of anything but a
 * directory. A field that does not apply is '-'. COUNT is the number of P
 * lines and SUM the first 16 hex digits of the sha256 of those lines (each
 * with its '\n'), so the host can tell a listing cut or garbled by console
 * noise. A path the walk cannot read gives a line '@@initwalk ERROR ...'.
 * t/treelist.py turns INO into inode groups and prints a host tree alike.
 *
 * As pid 1 it first turns off the console's output processing (no \r before
 * \n) and keeps kernel messages below KERN_ALERT off the console, and at the
 * end waits for the UART to drain and powers off. As any other process (a
 * test running it on the host) it walks its working directory instead of /
 * and exits: it never reboots a machine it did not boot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* ---- sha256 (FIPS 180-4), enough for hashing files and the listing ---- */

struct sha256 {
	uint32_t h[8];
	uint64_t len;           /* bytes hashed so far */
	unsigned char buf[64];  /* the partial block, len % 64 bytes of it */
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(s->h, h0, sizeof h0);
	s->len = 0;
}

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	memcpy(v, s->h, sizeof v);
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
		t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = s->len % 64, take;

	s->len += n;
	if (have) {
		take = n < 64 - have ? n : 64 - have;
		memcpy(s->buf + have, p, take);
		p += take, n -= take;
		if (have + take < 64)
			return;
		sha256_block(s, s->buf);
	}
	for (; n >= 64; p += 64, n -= 64)
		sha256_block(s, p);
	memcpy(s->buf, p, n);
}

/* The first 16 hex digits of the digest (64 bits), into out[17]. */
static void sha256_hex16(struct sha256 *s, char *out)
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t npad = (s->len % 64 < 56 ? 56 : 120) - s->len % 64;
	int i;

	for (i = 0; i < 8; i++)
		pad[npad + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, npad + 8);
	snprintf(out, 17, "%08" PRIx32 "%08" PRIx32, s->h[0], s->h[1]);
}

/* ---- output: lines built in memory, then to the console ---- */

static struct sha256 out_sum;   /* over the P lines */
static unsigned long out_count; /* P lines */

/* The listing goes to stdout (the console), fully buffered: a line is
 * built in a memory stream first so that a path that cannot be read leaves
 * no half line behind, and so that the sum covers exactly what is printed. */
static void out_line(const char *p, size_t n)
{
	fwrite(p, 1, n, stdout);
	sha256_update(&out_sum, p, n);
	out_count++;
}

/* A path or target, every byte outside '!'..'~' and '\' as \xHH. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > ' ' && c <= '~' && c != '\\')
			putc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

/* ---- the walk ---- */

struct path {
	char *p;        /* relative to /, no leading '/' */
	size_t len, cap;
};

static char **skip_paths;  /* argv: paths to leave out, leading '/' dropped */
static int nskip;

static void fail(const struct path *path, const char *what)
{
	int err = errno;

	fflush(stdout);
	printf("@@initwalk ERROR %s ", what);
	put_escaped(stdout, path->p, path->len);
	printf(": %s\n", strerror(err));
}

static int skipped(const struct path *path)
{
	int i;

	for (i = 0; i < nskip; i++)
		if (strcmp(path->p, skip_paths[i]) == 0)
			return 1;
	return 0;
}

/* Append "/NAME" (or "NAME" at the root) to path; returns the old length. */
static size_t path_push(struct path *path, const char *name)
{
	size_t old = path->len, n = strlen(name);

	if (old + n + 2 > path->cap) {
		path->cap = (old + n + 2) * 2;
		path->p = realloc(path->p, path->cap);
		if (!path->p)
			abort();
	}
	if (old)
		path->p[path->len++] = '/';
	memcpy(path->p + path->len, name, n + 1);
	path->len += n;
	return old;
}

/* The first 16 hex digits of the sha256 of file NAME in dirfd, into out. */
static int hash_file(int dirfd, const char *name, char *out)
{
	static unsigned char buf[1 << 16];
	struct sha256 s;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	sha256_init(&s);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		sha256_update(&s, buf, (size_t)n);
	}
	close(fd);
	sha256_hex16(&s, out);
	return 0;
}

static char type_char(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' :
	       S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '?';
}

/* The SIZE HASH TARGET fields for NAME in dirfd; -1 on a read error. */
static int put_content(FILE *f, int dirfd, const char *name, const struct stat *st)
{
	char hex[17], *target;
	ssize_t n;

	if (S_ISREG(st->st_mode)) {
		if (hash_file(dirfd, name, hex) < 0)
			return -1;
		fprintf(f, " %jd %s -", (intmax_t)st->st_size, hex);
	} else if (S_ISLNK(st->st_mode)) {
		if (!(target = malloc((size_t)st->st_size + 1)))
			abort();
		n = readlinkat(dirfd, name, target, (size_t)st->st_size + 1);
		if (n < 0 || n > st->st_size) {
			free(target);
			return -1;
		}
		fprintf(f, " %jd - ->", (intmax_t)st->st_size);
		put_escaped(f, target, (size_t)n);
		free(target);
	} else {
		fputs(" - - -", f);
	}
	return 0;
}

/* Print the P line of path (NAME in dirfd); -1 on a read error. */
static int print_entry(int dirfd, const char *name, const struct path *path,
		       const struct stat *st)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int ok;

	if (!f)
		abort();
	fputs("P ", f);
	put_escaped(f, path->p, path->len);
	fprintf(f, " %c %04o %ju:%ju %jd", type_char(st->st_mode),
		(unsigned)(st->st_mode & 07777), (uintmax_t)st->st_uid,
		(uintmax_t)st->st_gid, (intmax_t)st->st_mtime);
	ok = put_content(f, dirfd, name, st) == 0;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		fprintf(f, " %u,%u", major(st->st_rdev), minor(st->st_rdev));
	else
		fputs(" -", f);
	if (S_ISDIR(st->st_mode))
		fputs(" - -\n", f);
	else
		fprintf(f, " %ju %ju\n", (uintmax_t)st->st_nlink, (uintmax_t)st->st_ino);
	if (fclose(f) != 0)
		abort();
	if (ok)
		out_line(line, len);
	free(line);
	return ok ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd (not . and ..), sorted, into *names and *n;
 * -1 if the directory cannot be read. */
static int read_names(int fd, char ***names, size_t *n)
{
	size_t cap = 0;
	struct dirent *d;
	DIR *dir;
	int fd2 = dup(fd);

	*names = NULL, *n = 0;
	if (fd2 < 0)
		return -1;
	if (!(dir = fdopendir(fd2))) {
		close(fd2);
		return -1;
	}
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(*names = realloc(*names, cap * sizeof **names)))
				abort();
		}
		if (!((*names)[(*n)++] = strdup(d->d_name)))
			abort();
	}
	closedir(dir);
	if (*n)
		qsort(*names, *n, sizeof **names, by_name);
	return 0;
}

static void walk(int fd, struct path *path);

static void walk_entry(int fd, const char *name, struct path *path)
{
	struct stat st;
	int sub;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(path, "stat");
		return;
	}
	if (print_entry(fd, name, path, &st) < 0) {
		fail(path, "read");
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0) {
		fail(path, "open");
		return;
	}
	walk(sub, path);
	close(sub);
}

/* Print what directory fd holds, depth-first; path names fd. */
static void walk(int fd, struct path *path)
{
	size_t i, n, old;
	char **names;

	if (read_names(fd, &names, &n) < 0) {
		fail(path, "readdir");
		return;
	}
	for (i = 0; i < n; i++) {
		old = path_push(path, names[i]);
		if (!skipped(path))
			walk_entry(fd, names[i], path);
		path->len = old;
		path->p[old] = '\0';
		free(names[i]);
	}
	free(names);
}

/* No output processing on the console (no \n to \r\n), and kernel messages
 * below KERN_ALERT kept off it so that they cannot cut into a line. */
static void quiet_console(void)
{
	struct termios t;

	klogctl(8, NULL, 1);  /* SYSLOG_ACTION_CONSOLE_LEVEL */
	if (tcgetattr(1, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(1, TCSANOW, &t);
	}
}

int main(int argc, char **argv)
{
	static char obuf[1 << 16];
	struct path path = {NULL, 0, 0};
	char sum[17];
	int i, root, is_init = getpid() == 1;

	skip_paths = argv + 1, nskip = argc - 1;
	for (i = 0; i < nskip; i++)
		while (skip_paths[i][0] == '/')
			skip_paths[i]++;
	path_push(&path, "");
	if (is_init)
		quiet_console();
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	sha256_init(&out_sum);
	printf("\n@@initwalk BEGIN\n");
	/* Not the init of a machine (a test running it on the host): walk the
	 * current directory and exit, nothing else. */
	root = open(is_init ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		fail(&path, "open");
	else
		walk(root, &path);
	sha256_hex16(&out_sum, sum);
	printf("@@initwalk END %lu %s\n", out_count, sum);
	if (fflush(stdout) != 0 || !is_init)
		return ferror(stdout) ? 1 : 0;
	tcdrain(1);  /* every byte out of the UART before the machine stops */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
