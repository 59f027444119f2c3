/*
 * jsonw.h - writing JSON: the image metadata tarflat makes (configs,
 * manifests, indexes, docker's manifest.json), compact, keys in the
 * order given, and values of a parsed document (json.h) copied as they
 * were: numbers as their text, strings re-escaped the one way this
 * writer escapes (so a copy may differ in escapes, never in meaning).
 *
 * A struct jsonw is a growing buffer; separators are the writer's
 * business: jsonw_key and the value functions put a ',' before a member
 * or element that is not the first of its object or array. Nothing here
 * prints or exits but die_oom, when memory runs out.
 */
#ifndef TARFLAT_JSONW_H
#define TARFLAT_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define JSONW_DEPTH (JSON_MAX_DEPTH + 16)    /* a parsed value, inside ours */

struct jsonw {
	char *p;
	size_t len, cap;
	int depth;
	unsigned char first[JSONW_DEPTH];       /* nothing yet at this depth */
};

/* The text written so far is W->p (NUL-terminated), W->len bytes; the
 * caller frees W->p. */
void jsonw_init(struct jsonw *w);

void jsonw_object(struct jsonw *w);
void jsonw_array(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);

/* The key of the next member (jsonw_keyn: the LEN bytes at KEY). */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_keyn(struct jsonw *w, const char *key, size_t len);

/* Values. jsonw_string writes the LEN bytes at S (valid UTF-8; a NUL
 * among them is escaped). */
void jsonw_string(struct jsonw *w, const char *s, size_t len);
void jsonw_cstr(struct jsonw *w, const char *s);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, int v);

/* A copy of V, a value of a parsed document, with all it holds. */
void jsonw_value(struct jsonw *w, const struct json_value *v);

/* An RFC 3339 time in UTC ("2024-01-02T03:04:05Z") for T. */
void jsonw_time(struct jsonw *w, int64_t t);

#endif
