/*
 * filter.c - decompressing a layer with an external program (see filter.h).
 *
 * The program writes straight into the temporary file, so only its input
 * goes through a pipe: tarflat writes, the program reads, and nothing can
 * deadlock. Its standard error is tarflat's, so its own message is seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"

#define CHUNK (256 * 1024)

extern char **environ;

const char *
filter_for(const unsigned char *b, size_t n)
{
	static const unsigned char pi[6] = { 0x31, 0x41, 0x59, 0x26, 0x53, 0x59 };

	if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return "zstd";
	/* a zstd skippable frame (pzstd writes one first) */
	if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18)
		return "zstd";
	if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	if (n >= 10 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' &&
	    b[3] <= '9' && memcmp(b + 4, pi, sizeof(pi)) == 0)
		return "bzip2";
	return NULL;
}

static int msgf(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
msgf(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * PROG's path on PATH (default "/usr/bin:/bin") into BUF, or -1: looked
 * up here rather than left to posix_spawnp, which cannot always tell a
 * missing program from one that failed (under valgrind, or where it is
 * fork and exec, the child just exits 127).
 */
static int
find_program(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		/* an empty entry, a trailing ':' too, is the current directory */
		snprintf(buf, len, "%.*s/%s", n ? (int)n : 1, n ? p : ".", prog);
		if (access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (!*p)
			break;
	}
	return -1;
}

const char *
filter_temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

int
filter_temp_full(int fd, int err, char *msg, size_t msglen)
{
	struct stat st;
	struct statvfs vfs;
	struct rlimit rl;
	uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	int full = err == ENOSPC || err == EDQUOT ||
		   (fstatvfs(fd, &vfs) == 0 && vfs.f_bavail == 0);
	int limit = err == EFBIG || (getrlimit(RLIMIT_FSIZE, &rl) == 0 &&
				     rl.rlim_cur != RLIM_INFINITY && size >= rl.rlim_cur);

	if (!full && !limit)
		return 0;
	msgf(msg, msglen, "the temporary file in %s %s after %llu bytes: set TMPDIR to a "
	     "directory with more room", filter_temp_dir(),
	     full ? "ran out of room" : "reached the file size limit (ulimit -f)",
	     (unsigned long long)size);
	return 1;
}

int
filter_temp_file(void)
{
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/tarflat.XXXXXX", filter_temp_dir());
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

/* Writes the range to W. Returns 0, or -1 with errno set (EPIPE: the
 * program stopped reading). */
static int
pump(int fd, uint64_t off, uint64_t len, int w, filter_feed_fn *feed, void *ctx)
{
	char *buf = malloc(CHUNK);
	uint64_t done = 0;
	int rc = -1;

	if (!buf)
		return -1;
	while (done < len) {
		size_t want = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;          /* the end of the file: LEN was "all" */
		if (feed)
			feed(ctx, buf, (size_t)r);
		for (ssize_t w0 = 0; w0 < r;) {
			ssize_t k = write(w, buf + w0, (size_t)(r - w0));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				goto out;
			w0 += k;
		}
		done += (uint64_t)r;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
filter_spawn(char *const argv[], int in, int out, pid_t *pid, char *msg, size_t msglen)
{
	posix_spawn_file_actions_t fa;
	char path[4096];
	int err;

	if (find_program(argv[0], path, sizeof(path)) < 0)
		return msgf(msg, msglen, "no %s on PATH: install it (apt-get install %s)", argv[0],
			    strcmp(argv[0], "xz") == 0 ? "xz-utils" : argv[0]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	err = posix_spawn(pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return msgf(msg, msglen, "cannot run %s: %s", path, strerror(err));
	return 0;
}

/* Writes the range to W, SIGPIPE held back: a program that stops reading
 * early is an error, not the end of tarflat. Returns 0, or -1 with errno
 * set. */
static int
pump_quietly(int fd, uint64_t off, uint64_t len, int w, filter_feed_fn *feed, void *ctx)
{
	sigset_t pipe_set, old;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	int r = pump(fd, off, len, w, feed, ctx), err = errno;
	if (r < 0 && err == EPIPE) {
		/* take the pending SIGPIPE before unblocking it */
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return r;
}

/* Why PROG, whose output went to OUT, failed (exit STATUS, the pump's
 * result PUMPED and errno ERR), in MSG; 0 when it did not. */
static int
why_failed(const char *prog, int out, int status, int pumped, int err, char *msg,
	   size_t msglen)
{
	if ((WIFSIGNALED(status) || WEXITSTATUS(status) != 0) &&
	    filter_temp_full(out, 0, msg, msglen))
		return -1;      /* the program's output did not fit: say where */
	if (WIFSIGNALED(status))
		return msgf(msg, msglen, "%s -dc was killed by signal %d", prog, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return msgf(msg, msglen, "%s -dc failed (exit status %d)", prog,
			    WEXITSTATUS(status));
	if (pumped < 0)
		return msgf(msg, msglen, "reading the layer for %s -dc: %s", prog, strerror(err));
	return 0;
}

int
filter_run(const char *prog, int fd, uint64_t off, uint64_t len, filter_feed_fn *feed,
	   void *ctx, char *msg, size_t msglen)
{
	char *argv[] = { (char *)prog, (char *)"-dc", NULL };
	char path[4096];
	int p[2], out, status;
	pid_t pid;

	if (find_program(prog, path, sizeof(path)) < 0)
		return msgf(msg, msglen, "%s-compressed layer, and no %s on PATH: "
			    "install it (apt-get install %s)", prog, prog,
			    strcmp(prog, "xz") == 0 ? "xz-utils" : prog);
	if ((out = filter_temp_file()) < 0)
		return msgf(msg, msglen, "a temporary file in %s (TMPDIR) for %s -dc: %s",
			    filter_temp_dir(), prog, strerror(errno));
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(out);
		return msgf(msg, msglen, "pipe for %s -dc: %s", prog, strerror(errno));
	}
	int spawned = filter_spawn(argv, p[0], out, &pid, msg, msglen);
	close(p[0]);
	if (spawned < 0) {
		close(p[1]);
		close(out);
		return -1;
	}
	int pumped = pump_quietly(fd, off, len, p[1], feed, ctx), err = errno;
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (why_failed(prog, out, status, pumped, err, msg, msglen) < 0) {
		close(out);
		return -1;
	}
	return out;
}
