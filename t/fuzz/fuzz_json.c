/*
 * fuzz_json.c - the JSON reader (json.c) on arbitrary bytes.
 *
 * Each input is parsed under the default limits and, again, under small
 * limits drawn from the input. Checked beyond "no crash, no leak":
 *  - a failure has a message and an offset inside the input; a success
 *    under small limits is a success under the defaults, with the same
 *    tree;
 *  - every value keeps json.h's promises: strings NUL-terminated, valid
 *    UTF-8, json_cstr NULL exactly when a NUL is inside; number text
 *    in RFC 8259's grammar and json_int64 equal to a reference that reads
 *    the digits another way; elements and members where json_len says,
 *    json_getn finding every member by its key (so no key repeats);
 *    offsets rising in document order, each on the byte that starts its
 *    value;
 *  - each limit is exact: the document parses with max_depth, max_string
 *    and max_values set to what it uses, and fails with one less;
 *  - the canonical dump parses again to the same dump.
 */
#include <inttypes.h>

#include "fuzz.h"
#include "json.h"

struct buf {
	char *p;
	size_t len, cap;
};

/* What a document uses, against the limits. */
struct usage {
	size_t depth, longest, values;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		while (b->cap - b->len < n)
			b->cap = b->cap ? b->cap * 2 : 4096;
		char *bigger = realloc(b->p, b->cap);
		FUZZ_ASSERT(bigger, "out of memory");
		b->p = bigger;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	put(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			put(b, e, 2);
		} else if (c < 0x20) {
			put(b, e, 6);
		} else {
			put(b, &s[i], 1);
		}
	}
	put(b, "\"", 1);
}

/* An independent UTF-8 check: decode, then refuse what cannot be. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 0;
		unsigned long cp = len == 1 ? c : len == 2 ? c & 31 : len == 3 ? c & 15 : c & 7;
		static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (!len || n - i < len)
			return 0;
		for (unsigned k = 1; k < len; k++) {
			if (s[i + k] >> 6 != 2)
				return 0;
			cp = cp << 6 | (s[i + k] & 63);
		}
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259's number grammar, written out again. */
static int
valid_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	for (d = i; i < n && digit(s[i]); i++)
		;
	if (i == d || (s[d] == '0' && i - d > 1))
		return 0;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

/*
 * The reference for json_int64, read another way: the number's digits D
 * (integer part, then fraction) with the decimal point after P of them,
 * P = (integer digits) + exponent. It is an integer when no digit from P
 * on is nonzero; its digits are D[0..P), zero-padded. Returns 0 with the
 * decimal text in OUT, or -1.
 */
static int
ref_int64(const char *s, size_t n, char *out, size_t size)
{
	const char *end = s + n;
	int neg = *s == '-';
	long long il = 0, idx = 0, exp = 0;
	char num[24];
	size_t k = 0;

	s += neg;
	for (const char *t = s; t < end && digit(*t); t++)
		il++;
	const char *e = s;
	while (e < end && *e != 'e' && *e != 'E')
		e++;
	if (e < end) {
		int eneg = e[1] == '-';
		for (const char *t = e + 1 + (e[1] == '-' || e[1] == '+'); t < end; t++)
			if (exp < 1000000)
				exp = exp * 10 + (*t - '0');
		exp = eneg ? -exp : exp;
	}
	long long point = il + exp;
	for (const char *t = s; t < e; t++) {
		if (*t == '.')
			continue;
		if (idx++ >= point) {
			if (*t != '0')
				return -1;
		} else if (k > 0 || *t != '0') {
			if (k == 20)
				return -1;
			num[k++] = *t;
		}
	}
	if (k > 0 && point > idx) {
		if (point - idx > 19 - (long long)k)
			return -1;
		for (long long z = idx; z < point; z++)
			num[k++] = '0';
	}
	num[k] = '\0';
	if (k == 0) {
		snprintf(out, size, "0");
		return 0;
	}
	if (k > 19 || (k == 19 && strcmp(num, neg ? "9223372036854775808" : "9223372036854775807") > 0))
		return -1;
	snprintf(out, size, "%s%s", neg ? "-" : "", num);
	return 0;
}

static void
check_number(const struct json_value *v)
{
	size_t len;
	const char *s = json_num_text(v, &len);
	char want[40];
	int64_t i;

	FUZZ_ASSERT(s && s[len] == '\0' && strlen(s) == len, "number text not NUL-terminated");
	FUZZ_ASSERT(valid_number(s, len), "number %s outside the grammar", s);
	int r = json_int64(v, &i), ref = ref_int64(s, len, want, sizeof(want));
	FUZZ_ASSERT(r == ref, "json_int64(%s) returned %d, the reference %d", s, r, ref);
	if (r == 0) {
		char got[40];
		snprintf(got, sizeof(got), "%" PRId64, i);
		FUZZ_ASSERT(strcmp(got, want) == 0, "json_int64(%s) = %s, the reference %s", s, got,
			    want);
	}
}

static void
check_string(const struct json_value *v, struct usage *u)
{
	size_t len;
	const char *s = json_str(v, &len);

	FUZZ_ASSERT(s && s[len] == '\0', "string not NUL-terminated");
	FUZZ_ASSERT(valid_utf8((const unsigned char *)s, len), "string is not valid UTF-8");
	FUZZ_ASSERT((json_cstr(v) == NULL) == (memchr(s, 0, len) != NULL),
		    "json_cstr disagrees with the bytes about a NUL");
	if (len > u->longest)
		u->longest = len;
}

static void check_value(const struct json_value *v, const uint8_t *data, size_t size,
			size_t depth, struct usage *u, struct buf *out);

static void
check_key(const struct json_value *obj, size_t i, struct usage *u, struct buf *out)
{
	size_t klen;
	const char *k = json_key_at(obj, i, &klen);

	FUZZ_ASSERT(k && k[klen] == '\0', "key %zu not NUL-terminated", i);
	FUZZ_ASSERT(valid_utf8((const unsigned char *)k, klen), "key %zu is not valid UTF-8", i);
	FUZZ_ASSERT(json_getn(obj, k, klen) == json_at(obj, i), "json_getn misses member %zu", i);
	if (!memchr(k, 0, klen))
		FUZZ_ASSERT(json_get(obj, k) == json_at(obj, i), "json_get misses member %zu", i);
	if (klen > u->longest)
		u->longest = klen;
	put_string(out, k, klen);
	put(out, ":", 1);
}

static void
check_children(const struct json_value *v, const uint8_t *data, size_t size, size_t depth,
	       struct usage *u, struct buf *out)
{
	int obj = json_type(v) == JSON_OBJECT;
	size_t n = json_len(v), prev = json_offset(v);

	put(out, obj ? "{" : "[", 1);
	for (size_t i = 0; i < n; i++) {
		const struct json_value *c = json_at(v, i);
		FUZZ_ASSERT(c, "member %zu of %zu missing", i, n);
		FUZZ_ASSERT(json_offset(c) > prev, "offsets do not rise");
		prev = json_offset(c);
		if (i)
			put(out, ",", 1);
		if (obj)
			check_key(v, i, u, out);
		else
			FUZZ_ASSERT(!json_key_at(v, i, NULL), "an array element has a key");
		check_value(c, data, size, depth + 1, u, out);
	}
	FUZZ_ASSERT(!json_at(v, n) && !json_key_at(v, n, NULL), "a member past the end");
	put(out, obj ? "}" : "]", 1);
}

/* Checks V and everything under it, and dumps it into OUT. Recursive: no
 * deeper than the default depth limit lets a document be. */
static void
check_value(const struct json_value *v, const uint8_t *data, size_t size, size_t depth,
	    struct usage *u, struct buf *out)
{
	static const char starts[][12] = {
		[JSON_NULL] = "n", [JSON_BOOL] = "tf", [JSON_NUMBER] = "-0123456789",
		[JSON_STRING] = "\"", [JSON_ARRAY] = "[", [JSON_OBJECT] = "{",
	};
	enum json_type t = json_type(v);
	size_t off = json_offset(v), len;
	const char *s;
	int b;

	FUZZ_ASSERT(t >= JSON_NULL && t <= JSON_OBJECT, "type %d", (int)t);
	FUZZ_ASSERT(off < size && data[off] && strchr(starts[t], data[off]),
		    "a %s at offset %zu starts with byte %d", json_type_name(t), off,
		    off < size ? data[off] : -1);
	u->values++;
	if ((t == JSON_ARRAY || t == JSON_OBJECT) && depth + 1 > u->depth)
		u->depth = depth + 1;      /* containers open at once */
	FUZZ_ASSERT((json_bool(v, &b) == 0) == (t == JSON_BOOL), "json_bool and the type disagree");
	FUZZ_ASSERT(t == JSON_ARRAY || t == JSON_OBJECT || json_len(v) == 0, "a scalar with members");
	switch (t) {
	case JSON_NULL:
		put(out, "null", 4);
		break;
	case JSON_BOOL:
		put(out, b ? "true" : "false", b ? 4 : 5);
		break;
	case JSON_NUMBER:
		check_number(v);
		s = json_num_text(v, &len);
		put(out, s, len);
		break;
	case JSON_STRING:
		check_string(v, u);
		s = json_str(v, &len);
		put_string(out, s, len);
		break;
	default:
		check_children(v, data, size, depth, u, out);
	}
}

/* Parses under LIM; on success, checks the tree and returns its dump. */
static struct buf
parse(const uint8_t *data, size_t size, const struct json_limits *lim, struct usage *u,
      int *ok)
{
	struct json_error err = { 99, "x" };
	struct json_doc *doc = json_parse((const char *)data, size, lim, &err);
	struct buf out = { NULL, 0, 0 };

	memset(u, 0, sizeof(*u));
	*ok = doc != NULL;
	if (!doc) {
		FUZZ_ASSERT(err.msg[0] >= 'a' && err.msg[0] <= 'z', "error message \"%s\"", err.msg);
		FUZZ_ASSERT(err.offset <= size, "error offset %zu past the input (%zu)", err.offset,
			    size);
		return out;
	}
	check_value(json_root(doc), data, size, 0, u, &out);
	json_free(doc);
	return out;
}

enum limit { DEPTH, STRING, VALUES, INPUT };

static size_t *
limit_field(struct json_limits *l, enum limit which)
{
	switch (which) {
	case DEPTH: return &l->max_depth;
	case STRING: return &l->max_string;
	case VALUES: return &l->max_values;
	default: return &l->max_input;
	}
}

/* The default limits with one set to N, what the document uses: it must
 * pass at N and fail at N - 1. */
static void
check_limit(const uint8_t *data, size_t size, enum limit which, size_t n, const char *name)
{
	struct json_limits l = JSON_LIMITS_DEFAULT;
	struct usage u;
	int ok;

	*limit_field(&l, which) = n;
	free(parse(data, size, &l, &u, &ok).p);
	FUZZ_ASSERT(ok, "fails with %s at the %zu it uses", name, n);
	if (n == 0)
		return;
	*limit_field(&l, which) = n - 1;
	free(parse(data, size, &l, &u, &ok).p);
	FUZZ_ASSERT(!ok, "passes with %s at %zu, below the %zu it uses", name, n - 1, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usage u, su;
	int ok, sok;
	uint64_t seed = fuzz_seed(data, size);

	struct buf dump = parse(data, size, NULL, &u, &ok);
	struct json_limits small = { 1 + seed % 4096, seed >> 12 & 15, seed >> 16 & 63,
				     seed >> 22 & 127 };
	struct buf sdump = parse(data, size, &small, &su, &sok);
	FUZZ_ASSERT(!sok || ok, "passes under small limits, fails under the defaults");
	FUZZ_ASSERT(!sok || (sdump.len == dump.len && memcmp(sdump.p, dump.p, dump.len) == 0),
		    "small limits give another tree");
	free(sdump.p);
	if (!ok)
		return 0;

	check_limit(data, size, DEPTH, u.depth, "max_depth");
	check_limit(data, size, STRING, u.longest, "max_string");
	check_limit(data, size, VALUES, u.values, "max_values");
	check_limit(data, size, INPUT, size, "max_input");

	struct buf again = parse((const uint8_t *)dump.p, dump.len, NULL, &su, &sok);
	FUZZ_ASSERT(sok, "the canonical dump does not parse");
	FUZZ_ASSERT(again.len == dump.len && memcmp(again.p, dump.p, dump.len) == 0,
		    "the canonical dump dumps differently");
	free(again.p);
	free(dump.p);
	return 0;
}
