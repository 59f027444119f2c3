/*
 * t/jsontest.c - the JSON reader (json.c) on its own, for t/t0030.
 *
 *   jsontest [-M BYTES] [-D DEPTH] [-S BYTES] [-V COUNT] [QUERY...] FILE
 *
 * Parses FILE ("-": standard input) under the given limits (default:
 * json.h's) and prints the canonical dump of the document: no whitespace,
 * members in document order, numbers as their source text, strings
 * re-escaped as Python's json.dumps(ensure_ascii=False) does. Each
 * QUERY prints one line instead, about the value at PATH (dot-separated
 * keys and array indices, looked up with json_get and json_at; "." is
 * the root):
 *   -q PATH   its dump, or "absent"
 *   -t PATH   its type (json_type_name)
 *   -i PATH   json_int64: the integer, or "not an int64"
 *   -b PATH   json_bool: true or false, or "not a boolean"
 *   -c PATH   json_cstr: the raw bytes, or "not a c string"
 *   -s PATH   json_str: the string's length, or "not a string"
 *   -l PATH   json_len
 *   -o PATH   json_offset
 * The dump also checks, for every member of every object, that json_get
 * finds it (exit 3 if not).
 *
 * Exits 0; 1 with "error: offset N: MESSAGE" on stdout when the parse
 * fails; 2 on a usage or read error; 3 when a check fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_QUERIES 64

struct query {
	char op;
	const char *path;
};

static void
usage(void)
{
	fputs("usage: jsontest [-M BYTES] [-D DEPTH] [-S BYTES] [-V COUNT] "
	      "[-q|-t|-i|-b|-c|-s|-l|-o PATH]... FILE\n", stderr);
	exit(2);
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		fprintf(stderr, "jsontest: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			char *bigger = realloc(buf, cap);
			if (!bigger) {
				fputs("jsontest: out of memory\n", stderr);
				exit(2);
			}
			buf = bigger;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "jsontest: %s: read error\n", path);
		exit(2);
	}
	if (f != stdin)
		fclose(f);
	/* An exact-size copy, so that ASan sees reads past the end. */
	char *exact = malloc(n ? n : 1);
	if (!exact)
		exit(2);
	memcpy(exact, buf, n);
	free(buf);
	*len = n;
	return exact;
}

static void
dump_string(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u00%c%c", hex[c >> 4], hex[c & 15]);
			else
				putchar(c);
		}
	}
	putchar('"');
}

/* Recursive, but no deeper than the parser's depth limit let it be. */
static void
dump(const struct json_value *v)
{
	size_t len;
	const char *s;
	int b;

	switch (json_type(v)) {
	case JSON_NULL:
		fputs("null", stdout);
		break;
	case JSON_BOOL:
		json_bool(v, &b);
		fputs(b ? "true" : "false", stdout);
		break;
	case JSON_NUMBER:
		s = json_num_text(v, &len);
		fwrite(s, 1, len, stdout);
		break;
	case JSON_STRING:
		s = json_str(v, &len);
		dump_string(s, len);
		break;
	case JSON_ARRAY:
		putchar('[');
		for (size_t i = 0; i < json_len(v); i++) {
			if (i)
				putchar(',');
			dump(json_at(v, i));
		}
		putchar(']');
		break;
	case JSON_OBJECT:
		putchar('{');
		for (size_t i = 0; i < json_len(v); i++) {
			s = json_key_at(v, i, &len);
			if (json_getn(v, s, len) != json_at(v, i)) {
				fprintf(stderr, "jsontest: json_getn misses member %zu\n", i);
				exit(3);
			}
			if (i)
				putchar(',');
			dump_string(s, len);
			putchar(':');
			dump(json_at(v, i));
		}
		putchar('}');
		break;
	default:
		fputs("jsontest: a value of no type\n", stderr);
		exit(3);
	}
}

/* The value at PATH under ROOT, or NULL. */
static const struct json_value *
lookup(const struct json_value *root, const char *path)
{
	const struct json_value *v = root;
	const char *seg = path;

	if (strcmp(path, ".") == 0)
		return root;
	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
		if (json_type(v) == JSON_ARRAY) {
			char *end;
			errno = 0;
			unsigned long long i = strtoull(seg, &end, 10);
			if (n == 0 || end != seg + n || errno || seg[0] == '-')
				return NULL;
			v = json_at(v, (size_t)i);
		} else {
			v = json_getn(v, seg, n);
		}
		if (!v || !dot)
			return v;
		seg = dot + 1;
	}
}

static void
run_query(const struct json_value *root, const struct query *q)
{
	const struct json_value *v = lookup(root, q->path);
	int64_t i;
	int b;
	const char *s;
	size_t len;

	switch (q->op) {
	case 'q':
		if (v)
			dump(v);
		else
			fputs("absent", stdout);
		break;
	case 't':
		fputs(json_type_name(json_type(v)), stdout);
		break;
	case 'i':
		if (json_int64(v, &i) == 0)
			printf("%" PRId64, i);
		else
			fputs("not an int64", stdout);
		break;
	case 'b':
		fputs(json_bool(v, &b) < 0 ? "not a boolean" : b ? "true" : "false", stdout);
		break;
	case 'c':
		fputs((s = json_cstr(v)) ? s : "not a c string", stdout);
		break;
	case 's':
		if (json_str(v, &len))
			printf("%zu", len);
		else
			fputs("not a string", stdout);
		break;
	case 'l':
		printf("%zu", json_len(v));
		break;
	case 'o':
		printf("%zu", json_offset(v));
		break;
	}
	putchar('\n');
}

static size_t
number_arg(const char *s)
{
	char *end;

	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-')
		usage();
	return (size_t)n;
}

int
main(int argc, char **argv)
{
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct query q[MAX_QUERIES];
	size_t nq = 0;
	int i;

	for (i = 1; i < argc - 1 && argv[i][0] == '-' && argv[i][1] && !argv[i][2]; i += 2) {
		const char *arg = argv[i + 1];
		switch (argv[i][1]) {
		case 'M': lim.max_input = number_arg(arg); break;
		case 'D': lim.max_depth = number_arg(arg); break;
		case 'S': lim.max_string = number_arg(arg); break;
		case 'V': lim.max_values = number_arg(arg); break;
		case 'q': case 't': case 'i': case 'b': case 'c': case 's': case 'l': case 'o':
			if (nq == MAX_QUERIES)
				usage();
			q[nq].op = argv[i][1];
			q[nq++].path = arg;
			break;
		default:
			usage();
		}
	}
	if (i != argc - 1)
		usage();

	size_t len;
	char *buf = read_all(argv[i], &len);
	struct json_error err;
	struct json_doc *doc = json_parse(buf, len, &lim, &err);
	free(buf);
	if (!doc) {
		printf("error: offset %zu: %s\n", err.offset, err.msg);
		return fflush(stdout) == 0 ? 1 : 2;
	}
	if (nq == 0) {
		dump(json_root(doc));
		putchar('\n');
	}
	for (size_t k = 0; k < nq; k++)
		run_query(json_root(doc), &q[k]);
	json_free(doc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("jsontest: write error\n", stderr);
		return 2;
	}
	return 0;
}
