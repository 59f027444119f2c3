/*
 * io.h - writing all of a buffer to a file descriptor, through short
 * writes and EINTR: what spooling a pipe and writing an image's files
 * need. Inline: it is a loop.
 */
#ifndef TARFLAT_IO_H
#define TARFLAT_IO_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* Writes the N bytes at P to FD. Returns 0, or -1 with errno set. */
static inline int
io_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

#endif
