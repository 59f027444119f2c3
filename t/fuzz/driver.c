/*
 * driver.c - a main() for the fuzz targets when there is no libFuzzer:
 * runs LLVMFuzzerTestOneInput once over each FILE, or over each file in a
 * DIRECTORY (sorted, dot files skipped). Plain `make` links every target
 * with it so the targets always compile, and t/t0800 runs the regression
 * inputs through it.
 *
 *   driver [-v] FILE|DIR...
 *
 * Exits 0 when every input ran, 1 when a file could not be read; a failing
 * input aborts (the target calls abort(), or a sanitizer stops the run).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int verbose;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (!(buf = realloc(buf, cap))) {
				fputs("driver: out of memory\n", stderr);
				exit(1);
			}
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "driver: %s: read error\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (verbose)
		fprintf(stderr, "driver: %s: %zu bytes\n", path, len);
	/* An exact-size copy, so ASan sees reads past the input's end. */
	unsigned char *data = malloc(len ? len : 1);
	if (!data) {
		fputs("driver: out of memory\n", stderr);
		exit(1);
	}
	memcpy(data, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "driver: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(names = realloc(names, cap * sizeof(*names))))
				exit(1);
		}
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		if (!(names[n] = malloc(len)))
			exit(1);
		snprintf(names[n++], len, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0, i = 1;

	if (i < argc && strcmp(argv[i], "-v") == 0) {
		verbose = 1;
		i++;
	}
	if (i >= argc) {
		fputs("usage: driver [-v] FILE|DIR...\n", stderr);
		return 2;
	}
	for (; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "driver: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if ((S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i])) < 0) {
			rc = 1;
		}
	}
	return rc;
}
