/*
 * json.h - a small strict JSON reader (RFC 8259) for image metadata: OCI
 * index.json, manifests and configs, docker save's manifest.json.
 *
 * json_parse reads a whole buffer into an immutable tree that json_free
 * releases in one call. It accepts exactly one value with optional
 * whitespace around it and nothing RFC 8259 leaves out: no comments, no
 * trailing commas, no leading zeros, no NaN or Infinity, no byte order
 * mark, no control characters in strings, no invalid \u escapes (a
 * surrogate pair becomes one code point; a lone surrogate is an error),
 * no invalid UTF-8 (overlong forms, UTF-8-encoded surrogates and code
 * points past U+10FFFF are errors). Two members of one object with the
 * same key (compared after unescaping) are an error, so that no two
 * readers of a manifest can disagree about which value counts.
 *
 * Hostile input costs time and memory linear in its size (object keys are
 * sorted once: n log n), within the caps of struct json_limits. Nothing is
 * recursive. Nothing here prints or exits.
 *
 * Every accessor takes NULL for "no value" and then returns its "not that
 * type" answer, so lookups chain: json_str(json_get(root, "digest"), &n).
 */
#ifndef TARFLAT_JSON_H
#define TARFLAT_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Default caps against hostile input. */
#define JSON_MAX_INPUT  (16u << 20)     /* bytes of input */
#define JSON_MAX_DEPTH  64              /* arrays and objects open at once */
#define JSON_MAX_STRING (1u << 20)      /* bytes of one string or key, unescaped */
#define JSON_MAX_VALUES 1000000         /* values in the document (keys not counted) */

struct json_limits {
	size_t max_input;
	size_t max_depth;
	size_t max_string;
	size_t max_values;
};

#define JSON_LIMITS_DEFAULT \
	{ JSON_MAX_INPUT, JSON_MAX_DEPTH, JSON_MAX_STRING, JSON_MAX_VALUES }

/* What went wrong: MSG is short and lowercase ("unterminated string"),
 * OFFSET the byte of the input it is about. */
struct json_error {
	size_t offset;
	char msg[96];
};

enum json_type {
	JSON_NONE,      /* no value: what json_type says for NULL */
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json_doc;
struct json_value;

/*
 * json_parse: parses the LEN bytes at BUF (no NUL needed) under the caps in
 * LIM (NULL: JSON_LIMITS_DEFAULT). Returns the document, which owns copies
 * of everything it needs (BUF may go away), or NULL with *ERR filled: a
 * syntax error, a cap exceeded (the message names it: "nesting deeper than
 * the limit (64)"), a duplicate key or "out of memory". ERR must not be
 * NULL. A caller reading from a file need read at most max_input + 1
 * bytes: more is refused.
 */
struct json_doc *json_parse(const char *buf, size_t len, const struct json_limits *lim,
			    struct json_error *err);

/* The top-level value; never NULL for a parsed document. Every value and
 * string reached from it stays valid until json_free(DOC). */
const struct json_value *json_root(const struct json_doc *doc);

/* Frees DOC and every value in it. DOC may be NULL. */
void json_free(struct json_doc *doc);

/* V's type; JSON_NONE when V is NULL. */
enum json_type json_type(const struct json_value *v);

/* "null", "boolean", "number", "string", "array", "object", or "nothing"
 * for JSON_NONE: for messages ("expected a string, got a number"). */
const char *json_type_name(enum json_type t);

/* Where V starts in the input (for an object member, its value, not its
 * key): for messages about a value that parsed but is wrong. 0 for NULL. */
size_t json_offset(const struct json_value *v);

/* The number of elements of an array or members of an object; 0 for
 * anything else. */
size_t json_len(const struct json_value *v);

/* Element I of an array, or the value of member I of an object (document
 * order); NULL when V is neither or I >= json_len(V). */
const struct json_value *json_at(const struct json_value *v, size_t i);

/* The key of member I of object V, in document order, NUL-terminated and
 * unescaped, its length in *LEN (LEN may be NULL; a key may hold "\u0000",
 * so the length is the truth). NULL when V is not an object or I is out of
 * range. */
const char *json_key_at(const struct json_value *v, size_t i, size_t *len);

/* The value of OBJ's member with key KEY (NUL-terminated) or with the
 * KEYLEN bytes at KEY (KEY not NULL); NULL when absent or OBJ is not an
 * object. A binary search: log n. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
const struct json_value *json_getn(const struct json_value *obj, const char *key,
				   size_t keylen);

/* A string's bytes, unescaped, valid UTF-8 and NUL-terminated, and its
 * length in *LEN (LEN may be NULL); NULL when V is not a string. The
 * string may contain NUL bytes ("\u0000"): json_cstr is the same but also
 * returns NULL for those, so a caller that wants a C string cannot be
 * fooled into reading a shorter one. */
const char *json_str(const struct json_value *v, size_t *len);
const char *json_cstr(const struct json_value *v);

/* A number's text exactly as in the input ("1.50e+3"), NUL-terminated,
 * its length in *LEN (may be NULL); NULL when V is not a number. */
const char *json_num_text(const struct json_value *v, size_t *len);

/*
 * json_int64: for a number whose exact value is an integer that fits in
 * int64_t ("42", "-0", "1e3", "1.0", "150e-1"), returns 0 with *OUT set;
 * otherwise -1: not a number, not integral ("1.5", "1e-1"), out of range.
 * The text is read exactly, never through a double.
 */
int json_int64(const struct json_value *v, int64_t *out);

/* json_bool: 0 with *OUT set to 0 or 1 for false or true; -1 when V is not
 * a boolean. */
int json_bool(const struct json_value *v, int *out);

#endif
