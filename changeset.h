/*
 * changeset.h - --squash-from: the layer that turns the tree of the
 * layers kept (BASE) into the final tree (FINAL), as the OCI image-spec's
 * layer.md describes a changeset: the names added or changed, whiteouts
 * (.wh.NAME) for the names removed, and an opaque marker (.wh..wh..opq)
 * where none of a directory's lower contents is left. Applied on top of
 * BASE by the rules of tarflat.1 (and umoci, containerd), it gives FINAL.
 *
 * What counts as changed: a name that BASE lacks; a different type; a
 * file, symlink or device whose entry is another (the same entry, the
 * same bytes and metadata, is unchanged); a directory whose metadata
 * differs (mode, owner, names, mtime, pax records). A changed directory
 * keeps its lower contents (directory over directory merges); the
 * directories that hold a change are written too, with their metadata,
 * which is unchanged.
 *
 * Hardlinks: a file some of whose names are unchanged in BASE is there
 * already: each of its new names is a hardlink to one of the unchanged
 * ones (the same on every run), which the changeset does not hold (a tar of the changeset alone
 * then has links to a file outside it, as a layer may). A file none of
 * whose names is in BASE as it is comes with its content, on its first
 * name, and links to that.
 *
 * The changeset is a tree (tree.h) the emit writes like any other: its
 * nodes' entries are FINAL's (and, for whiteouts, entries made here).
 * BASE and FINAL must keep their maps (no tree_drop_maps) until it is
 * built, and outlive it.
 */
#ifndef TARFLAT_CHANGESET_H
#define TARFLAT_CHANGESET_H

#include "tree.h"

/* changeset_build: the changeset from BASE to FINAL, into *C (to be
 * tree_free'd). */
void changeset_build(struct tree *c, struct tree *base, struct tree *final);

#endif
