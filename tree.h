/*
 * tree.h - the resolve: the final tree of an image, built from the
 * layers' indexes by the rules of tarflat.1's LAYER SEMANTICS.
 *
 * tree_build applies every layer in order, oldest first (tree.c names
 * the numbered rule each step implements). The result is a tree of
 * nodes, one per name in the final filesystem; each node knows the entry
 * whose metadata and content it has (node.src), and names of one file
 * (hardlinks) share a struct inode. No content is read: the emit copies
 * it from the layers.
 *
 * Nodes live in a table of 32-bit indices (0 is no node; the root is 1);
 * links between nodes are indices, tree_node turns one into a node. The
 * tree owns its nodes, inodes and the records of the resolve (an arena),
 * and keeps a pointer to the layers, which must outlive it. Nothing is
 * freed before tree_free.
 */
#ifndef TARFLAT_TREE_H
#define TARFLAT_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "mem.h"

/* A file with several names (hardlinks), made when the second is. */
struct inode {
	size_t nnames;          /* names in the tree, hidden ones included */
	uint32_t nout;          /* names written (emit) */
	struct node *carrier;   /* the name written with the content (emit) */
	const char *lower;      /* a changeset's: the file is in a lower
	                         * layer by this name, and every name here is
	                         * a hardlink to it */
	char *carrier_path;     /* its path in the output, once written */
};

/*
 * A name in the tree: 48 bytes. Its links to other names are indices
 * into the node table, 0 for none. Removed nodes stay allocated until
 * tree_free.
 */
struct node {
	const char *name;
	const struct ent *src;  /* whose metadata and content it has */
	uint32_t parent;
	uint32_t next, prev;    /* siblings */
	union {
		uint32_t child;         /* a directory's children: unordered,
		                         * then sorted for the emit */
		uint32_t ino;           /* 1 + the index in inodes of the names
		                         * a file shares SRC with (hardlinks),
		                         * or 0 */
	};
	unsigned len:24;        /* of NAME: a component, so within the name
	                         * caps of tar.c (1 MiB) */
	unsigned dir:1;         /* a directory: CHILD, not INO */
	unsigned hidden:1;      /* AUFS metadata (.wh..wh.*): never emitted */
	unsigned sel:1;         /* named by --path: written with all below */
	unsigned anc:1;         /* an ancestor of a --path: written itself */
	unsigned in:1;          /* at or below a --path (or no --path) */
	unsigned resort:1;      /* a carrier below moved: sort again */
	unsigned out:1;         /* left out by --exclude, with all below */
	uint32_t key;           /* seq of the entry that created it: orders
	                         * a directory's children in the output */
	uint32_t wseq;          /* seq of the last entry that wrote it */
	uint16_t upper;         /* 1 + last layer that created or passed it */
	uint16_t wiped;         /* 1 + a layer after whose whiteouts it holds
	                         * nothing from below (or that created it):
	                         * wiping it again in that layer is a no-op */
};

/* The node table: chunks of TREE_CHUNK_NODES nodes, each at the start of
 * a block aligned to TREE_CHUNK_BYTES whose header holds the chunk's first
 * index, so that a node's index comes from its address. */
#define TREE_CHUNK_SHIFT 14
#define TREE_CHUNK_NODES (1u << TREE_CHUNK_SHIFT)
#define TREE_CHUNK_BYTES ((size_t)1 << 20)

struct node_chunk;

struct tree {
	struct layers *L;
	struct node *root;              /* node 1 */
	struct node_chunk **chunks;     /* the node table */
	size_t nchunks;
	uint32_t nnodes;                /* indices given out, 0 included */
	struct inode **inodes;          /* by node.ino - 1 */
	size_t ninodes;
	struct pool arena;              /* inodes, names, implicit entries */
	struct hlmap *map;              /* (parent, name) -> node index */
	struct hlmap *waiting;          /* target path -> struct pending */
	struct namebuf dir_buf, path_buf;
	int warned_type;
};

struct node_chunk {
	uint64_t first;                 /* the index of nodes[0] */
	struct node nodes[];
};

/* The node of index I (0: NULL). */
static inline struct node *
tree_node(const struct tree *t, uint32_t i)
{
	return i ? &t->chunks[i >> TREE_CHUNK_SHIFT]->nodes[i & (TREE_CHUNK_NODES - 1)] : NULL;
}

/* N's index (0 for NULL): its chunk's header, found by alignment. */
static inline uint32_t
node_idx(const struct node *n)
{
	const struct node_chunk *c;

	if (!n)
		return 0;
	c = (const struct node_chunk *)((uintptr_t)n & ~(uintptr_t)(TREE_CHUNK_BYTES - 1));
	return (uint32_t)(c->first + (size_t)(n - c->nodes));
}

static inline struct node *
node_parent(const struct tree *t, const struct node *n)
{
	return tree_node(t, n->parent);
}

static inline struct node *
node_next(const struct tree *t, const struct node *n)
{
	return tree_node(t, n->next);
}

/* N's children (NULL for a file), and the names N shares its file with
 * (NULL for a directory, and for a file of one name): the union's two
 * sides, told apart by N->dir. */
static inline struct node *
node_kids(const struct tree *t, const struct node *n)
{
	return n->dir ? tree_node(t, n->child) : NULL;
}

static inline struct inode *
node_ino(const struct tree *t, const struct node *n)
{
	return n->dir || !n->ino ? NULL : t->inodes[n->ino - 1];
}

/*
 * tree_build: the final tree of L's layers (indexed and numbered) into *T.
 * Returns 0, or -1 with the error in the layer of the entry concerned
 * (layers_report). T must be tree_free'd either way. tree_build_upto:
 * the tree of the first N layers alone.
 */
int tree_build(struct tree *t, struct layers *L);
int tree_build_upto(struct tree *t, struct layers *L, size_t n);

/*
 * Trees made otherwise (a changeset, changeset.c): tree_init makes T an
 * empty tree of L's; tree_add adds a name NAME (LEN bytes, copied) in DIR
 * for entry SRC, or with LIKE another name of LIKE's file, ordered among
 * its siblings by KEY; tree_inode gives N's inode, made if N has none.
 * tree_child: DIR's child NAME, or NULL (before tree_drop_maps).
 */
void tree_init(struct tree *t, struct layers *L);
struct node *tree_add(struct tree *t, struct node *dir, const char *name, size_t len,
		      const struct ent *src, struct node *like, uint32_t key);
struct inode *tree_inode(struct tree *t, struct node *n);
struct node *tree_child(const struct tree *t, const struct node *dir, const char *name,
			size_t len);

/*
 * tree_find: the node that the normalised PATH names in the final tree,
 * by its names (no symlink followed), or NULL. "" is the root. Only
 * before tree_drop_maps.
 */
struct node *tree_find(const struct tree *t, const char *path);

/* Frees the lookup maps once the tree is final. */
void tree_drop_maps(struct tree *t);

void tree_free(struct tree *t);

#endif
