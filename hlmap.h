/*
 * hlmap.h - a small open-addressing hash map of pointers (or of 32-bit
 * handles).
 *
 * The map stores items, not keys: the caller's MATCH function compares an
 * item with a key, and the caller supplies each item's hash. The path tree
 * keys nodes by (parent, name); pending hardlinks key by target path.
 * Capacity is a power of two, probing is linear, deletion shifts back, so
 * there are no tombstones.
 */
#ifndef TARFLAT_HLMAP_H
#define TARFLAT_HLMAP_H

#include <stddef.h>
#include <stdint.h>

struct hlmap;

/*
 * MATCH returns nonzero when ITEM has key KEY. HASH(ITEM, CTX) returns the
 * hash the caller passes for ITEM's key (the map keeps items only, and
 * asks again when it moves one). Returns NULL on ENOMEM.
 */
struct hlmap *hl_new(int (*match)(const void *item, const void *key),
		     uint64_t (*hash)(const void *item, void *ctx), void *ctx);

/*
 * The same map with slots of 4 bytes, for items that are nonzero 32-bit
 * handles (a table's indices) passed and returned as (void *)(uintptr_t)H.
 */
struct hlmap *hl_new32(int (*match)(const void *item, const void *key),
		       uint64_t (*hash)(const void *item, void *ctx), void *ctx);

/* The item with key KEY (and hash HASH), or NULL. */
void *hl_get(const struct hlmap *m, uint64_t hash, const void *key);

/* Adds ITEM, whose key must not be present. Returns 0, or -1 on ENOMEM. */
int hl_add(struct hlmap *m, uint64_t hash, void *item);

/* Removes and returns the item with key KEY, or NULL if absent. */
void *hl_del(struct hlmap *m, uint64_t hash, const void *key);

size_t hl_count(const struct hlmap *m);
void hl_free(struct hlmap *m);

/* A 64-bit hash of LEN bytes at P, mixed with SEED (e.g. a parent pointer). */
uint64_t hl_hash(const void *p, size_t len, uint64_t seed);

#endif
