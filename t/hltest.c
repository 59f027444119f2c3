/*
 * t/hltest.c - checks hlmap against a plain array under random adds and
 * deletes, with a weak hash so that probe runs collide and wrap around:
 * once as a map of pointers, once as a map of 32-bit handles (hl_new32).
 * Prints TAP; exits 1 on the first mismatch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hlmap.h"

#define N 20000

static int keys[N];
static int narrow;              /* items are handles: (1 + the key) * SPREAD */
#define SPREAD 65537u           /* so that handles use all 32 bits */

static void *
item_of(int k)
{
	return narrow ? (void *)(uintptr_t)((uint32_t)(k + 1) * SPREAD) : (void *)&keys[k];
}

static int
key_of(const void *item)
{
	return narrow ? (int)((uintptr_t)item / SPREAD) - 1 : *(const int *)item;
}

static int
match(const void *item, const void *key)
{
	return key_of(item) == *(const int *)key;
}

static uint64_t
weak_hash(int k)
{
	return (uint64_t)(k % 97) * 0x10001u;   /* many keys share a slot */
}

static uint64_t
item_hash(const void *item, void *ctx)
{
	(void)ctx;
	return weak_hash(key_of(item));
}

/* Tests N0 and N0 + 1, on a map made by MAKE. */
static int
run(struct hlmap *(*make)(int (*)(const void *, const void *),
			  uint64_t (*)(const void *, void *), void *),
    int n0, const char *what)
{
	static int present[N];
	struct hlmap *m = make(match, item_hash, NULL);
	size_t count = 0;
	unsigned seed = 1;

	if (!m)
		return 1;
	for (int k = 0; k < N; k++)
		present[k] = 0;
	for (long step = 0; step < 400000; step++) {
		seed = seed * 1103515245u + 12345u;
		int k = (int)((seed >> 8) % N);
		if (!present[k]) {
			if (hl_get(m, weak_hash(k), &k)) {
				printf("not ok %d - %s: absent key %d found\n", n0, what, k);
				return 1;
			}
			if (hl_add(m, weak_hash(k), item_of(k)) < 0)
				return 1;
			present[k] = 1;
			count++;
		} else if ((seed >> 4) & 1) {
			if (hl_del(m, weak_hash(k), &k) != item_of(k)) {
				printf("not ok %d - %s: delete of %d missed\n", n0, what, k);
				return 1;
			}
			present[k] = 0;
			count--;
		}
	}
	for (int k = 0; k < N; k++) {
		void *got = hl_get(m, weak_hash(k), &k);
		if (got != (present[k] ? item_of(k) : NULL)) {
			printf("not ok %d - %s: key %d: map and reference disagree\n", n0, what, k);
			return 1;
		}
	}
	printf("ok %d - %s: 400000 random adds and deletes agree with the reference\n", n0, what);
	int bad = hl_count(m) != count;
	printf("%s %d - %s: count is %zu\n", bad ? "not ok" : "ok", n0 + 1, what, count);
	hl_free(m);
	return bad;
}

int
main(void)
{
	for (int i = 0; i < N; i++)
		keys[i] = i;
	if (run(hl_new, 1, "pointers"))
		return 1;
	narrow = 1;
	if (run(hl_new32, 3, "32-bit handles"))
		return 1;
	int spread = hl_hash("a", 1, 0) != hl_hash("b", 1, 0) &&
		     (hl_hash("a", 1, 0) & 1023) != (hl_hash("a", 1, 1) & 1023);
	printf("%s 5 - hash spreads a one-byte change\n", spread ? "ok" : "not ok");
	return !spread;
}
