/*
 * t/hltest.c - checks hlmap against a plain array under random adds and
 * deletes, with a weak hash so that probe runs collide and wrap around.
 * Prints TAP; exits 1 on the first mismatch.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hlmap.h"

#define N 20000

static int
match(const void *item, const void *key)
{
	return *(const int *)item == *(const int *)key;
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
	return weak_hash(*(const int *)item);
}

int
main(void)
{
	static int keys[N], present[N];
	struct hlmap *m = hl_new(match, item_hash, NULL);
	size_t count = 0;
	unsigned seed = 1;

	if (!m)
		return 1;
	for (int i = 0; i < N; i++)
		keys[i] = i;
	for (long step = 0; step < 400000; step++) {
		seed = seed * 1103515245u + 12345u;
		int k = (int)((seed >> 8) % N);
		if (!present[k]) {
			if (hl_get(m, weak_hash(k), &k)) {
				printf("not ok 1 - absent key %d found\n", k);
				return 1;
			}
			if (hl_add(m, weak_hash(k), &keys[k]) < 0)
				return 1;
			present[k] = 1;
			count++;
		} else if ((seed >> 4) & 1) {
			if (hl_del(m, weak_hash(k), &k) != &keys[k]) {
				printf("not ok 1 - delete of %d missed\n", k);
				return 1;
			}
			present[k] = 0;
			count--;
		}
	}
	for (int k = 0; k < N; k++) {
		void *got = hl_get(m, weak_hash(k), &k);
		if (got != (present[k] ? &keys[k] : NULL)) {
			printf("not ok 1 - key %d: map and reference disagree\n", k);
			return 1;
		}
	}
	printf("ok 1 - 400000 random adds and deletes agree with the reference\n");
	printf("%s 2 - count is %zu\n", hl_count(m) == count ? "ok" : "not ok", count);
	printf("%s 3 - hash spreads a one-byte change\n",
	       hl_hash("a", 1, 0) != hl_hash("b", 1, 0) &&
	       (hl_hash("a", 1, 0) & 1023) != (hl_hash("a", 1, 1) & 1023) ? "ok" : "not ok");
	hl_free(m);
	return 0;
}
