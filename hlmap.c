/*
 * hlmap.c - open addressing, linear probing, backward-shift deletion.
 */
#include <stdlib.h>
#include <string.h>

#include "hlmap.h"

/*
 * A slot holds the item alone (NULL: empty), 8 bytes, or 4 for a map of
 * 32-bit handles: the path tree has an item per name, and a stored hash
 * would double the map. A probe compares items with MATCH; growing and
 * deleting ask HASH for an item's home.
 */
struct hlmap {
	void *slots;
	size_t cap;     /* a power of two */
	size_t count;
	int narrow;     /* slots of 4 bytes */
	int (*match)(const void *item, const void *key);
	uint64_t (*hash)(const void *item, void *ctx);
	void *ctx;
};

static void *
slot(const void *slots, int narrow, size_t i)
{
	return narrow ? (void *)(uintptr_t)((const uint32_t *)slots)[i]
		      : ((void *const *)slots)[i];
}

static void
set_slot(void *slots, int narrow, size_t i, void *item)
{
	if (narrow)
		((uint32_t *)slots)[i] = (uint32_t)(uintptr_t)item;
	else
		((void **)slots)[i] = item;
}

static struct hlmap *
map_new(int (*match)(const void *item, const void *key),
	uint64_t (*hash)(const void *item, void *ctx), void *ctx, int narrow)
{
	struct hlmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 64;
	m->narrow = narrow;
	m->slots = calloc(m->cap, narrow ? sizeof(uint32_t) : sizeof(void *));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	m->match = match;
	m->hash = hash;
	m->ctx = ctx;
	return m;
}

struct hlmap *
hl_new(int (*match)(const void *item, const void *key),
       uint64_t (*hash)(const void *item, void *ctx), void *ctx)
{
	return map_new(match, hash, ctx, 0);
}

struct hlmap *
hl_new32(int (*match)(const void *item, const void *key),
	 uint64_t (*hash)(const void *item, void *ctx), void *ctx)
{
	return map_new(match, hash, ctx, 1);
}

static size_t
find(const struct hlmap *m, uint64_t hash, const void *key)
{
	size_t mask = m->cap - 1;
	size_t i = hash & mask;
	void *item;

	while ((item = slot(m->slots, m->narrow, i))) {
		if (m->match(item, key))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

void *
hl_get(const struct hlmap *m, uint64_t hash, const void *key)
{
	return slot(m->slots, m->narrow, find(m, hash, key));
}

static int
grow(struct hlmap *m)
{
	size_t cap = m->cap * 2;
	void *old = m->slots;
	void *slots = calloc(cap, m->narrow ? sizeof(uint32_t) : sizeof(void *));

	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		void *item = slot(old, m->narrow, i);
		if (!item)
			continue;
		size_t j = m->hash(item, m->ctx) & (cap - 1);
		while (slot(slots, m->narrow, j))
			j = (j + 1) & (cap - 1);
		set_slot(slots, m->narrow, j, item);
	}
	free(old);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int
hl_add(struct hlmap *m, uint64_t hash, void *item)
{
	/* Keep the load at most 1/2 so probe runs stay short. */
	if ((m->count + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	size_t i = hash & (m->cap - 1);
	while (slot(m->slots, m->narrow, i))
		i = (i + 1) & (m->cap - 1);
	set_slot(m->slots, m->narrow, i, item);
	m->count++;
	return 0;
}

void *
hl_del(struct hlmap *m, uint64_t hash, const void *key)
{
	size_t mask = m->cap - 1;
	size_t i = find(m, hash, key);
	void *item = slot(m->slots, m->narrow, i), *next;

	if (!item)
		return NULL;
	/*
	 * Shift later members of the probe run back into the hole, unless
	 * their home slot lies cyclically in (hole, j]: then they are already
	 * reachable from home without crossing the hole.
	 */
	size_t j = i;
	for (;;) {
		set_slot(m->slots, m->narrow, i, NULL);
		for (;;) {
			j = (j + 1) & mask;
			if (!(next = slot(m->slots, m->narrow, j)))
				goto done;
			size_t home = m->hash(next, m->ctx) & mask;
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		set_slot(m->slots, m->narrow, i, next);
		i = j;
	}
done:
	m->count--;
	return item;
}

size_t
hl_count(const struct hlmap *m)
{
	return m->count;
}

void
hl_free(struct hlmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* FNV-1a over the bytes, then a 64-bit finaliser (splitmix) so that the low
 * bits used for the slot index depend on every input bit. */
uint64_t
hl_hash(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}
