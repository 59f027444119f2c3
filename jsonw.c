/*
 * jsonw.c - writing JSON (see jsonw.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "mem.h"

void
jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
	w->p = xmalloc(256);
	w->cap = 256;
	w->p[0] = '\0';
	w->first[0] = 1;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap)
		w->p = xrealloc(w->p, w->cap = (w->len + n + 1) * 2);
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

/* Before a value or a key: a ',' unless it is the first of its level. */
static void
sep(struct jsonw *w)
{
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = 0;
}

static void
open_level(struct jsonw *w, const char *c)
{
	sep(w);
	put(w, c, 1);
	if (w->depth + 1 < JSONW_DEPTH)
		w->depth++;
	w->first[w->depth] = 1;
}

static void
close_level(struct jsonw *w, const char *c)
{
	put(w, c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_object(struct jsonw *w) { open_level(w, "{"); }
void jsonw_array(struct jsonw *w) { open_level(w, "["); }
void jsonw_end_object(struct jsonw *w) { close_level(w, "}"); }
void jsonw_end_array(struct jsonw *w) { close_level(w, "]"); }

/* The LEN bytes at S as a JSON string: '"' and '\\' escaped, control
 * characters as \uXXXX (\n, \t and the like by their short names). */
static void
put_string(struct jsonw *w, const char *s, size_t len)
{
	put(w, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		const char *short_name = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
				       : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '\b' ? "\\b"
				       : c == '\f' ? "\\f" : NULL;
		if (short_name)
			put(w, short_name, 2);
		else if (c < 0x20 || c == 0x7f) {
			int n = snprintf(e, sizeof(e), "\\u%04x", c);
			put(w, e, (size_t)n);
		}
		else
			put(w, s + i, 1);
	}
	put(w, "\"", 1);
}

void
jsonw_keyn(struct jsonw *w, const char *key, size_t len)
{
	sep(w);
	put_string(w, key, len);
	put(w, ":", 1);
	w->first[w->depth] = 1;         /* the value that follows takes no ',' */
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_keyn(w, key, strlen(key));
}

/* A value after a key: no separator of its own; else one. */
static void
value_sep(struct jsonw *w)
{
	sep(w);
}

void
jsonw_string(struct jsonw *w, const char *s, size_t len)
{
	value_sep(w);
	put_string(w, s, len);
}

void
jsonw_cstr(struct jsonw *w, const char *s)
{
	jsonw_string(w, s, strlen(s));
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	char n[24];
	int len = snprintf(n, sizeof(n), "%lld", (long long)v);

	value_sep(w);
	put(w, n, (size_t)len);
}

void
jsonw_bool(struct jsonw *w, int v)
{
	value_sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void
jsonw_value(struct jsonw *w, const struct json_value *v)
{
	size_t n;
	const char *s;

	switch (json_type(v)) {
	case JSON_OBJECT:
		jsonw_object(w);
		for (size_t i = 0; i < json_len(v); i++) {
			s = json_key_at(v, i, &n);
			jsonw_keyn(w, s, n);
			jsonw_value(w, json_at(v, i));
		}
		jsonw_end_object(w);
		break;
	case JSON_ARRAY:
		jsonw_array(w);
		for (size_t i = 0; i < json_len(v); i++)
			jsonw_value(w, json_at(v, i));
		jsonw_end_array(w);
		break;
	case JSON_STRING:
		s = json_str(v, &n);
		jsonw_string(w, s, n);
		break;
	case JSON_NUMBER:
		s = json_num_text(v, &n);
		value_sep(w);
		put(w, s, n);
		break;
	case JSON_BOOL: {
		int b = 0;
		json_bool(v, &b);
		jsonw_bool(w, b);
		break;
	}
	default:
		value_sep(w);
		put(w, "null", 4);
		break;
	}
}

void
jsonw_time(struct jsonw *w, int64_t t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jsonw_cstr(w, buf);
}
