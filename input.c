/*
 * input.c - operands and the layers they stand for (see input.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "input.h"

int
input_parse(const char *arg, int layers_only, struct input *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->arg = arg;
	in->path = xstrdup(arg);
	if (strcmp(arg, "-") == 0 || layers_only || stat(arg, &st) == 0)
		return 0;
	for (char *p = in->path; *p; p++) {
		if (*p != ':' && *p != '@')
			continue;
		char sep = *p;
		*p = '\0';
		if (p > in->path && (strcmp(in->path, "-") == 0 || stat(in->path, &st) == 0)) {
			const char *sel = arg + (p - in->path) + 1;
			if (sep == ':')
				in->sel.ref = sel;
			else if (strncmp(sel, "sha256:", 7) == 0 || strncmp(sel, "sha512:", 7) == 0)
				in->sel.digest = sel;
			else
				return -1;
			return 0;
		}
		*p = sep;
	}
	return 0;
}

void
input_free(struct input *in)
{
	free(in->path);
	in->path = NULL;
}

/* Keeps IMG (which owns the strings its layers point to) in L; returns it. */
static struct image *
keep_image(struct layers *L, const char *name, const struct image *img)
{
	if (L->verbose)
		fprintf(stderr, "tarflat: %s: %s, image %s, %zu layer%s\n", name, img->form,
			img->chosen ? img->chosen : "(unnamed)", img->nlayers,
			img->nlayers == 1 ? "" : "s");
	L->images = xrealloc(L->images, (L->nimages + 1) * sizeof(*L->images));
	L->images[L->nimages] = *img;
	return &L->images[L->nimages++];
}

/*
 * The layers of image IMG of input IN, to stand in L at AT (one slot,
 * given up by the archive, if REPLACE). FD >= 0 is the archive they lie
 * in, shared; otherwise each is a file of its own.
 */
static void
insert_image(struct layers *L, size_t at, int replace, const struct input *in,
	     struct image *img, int fd)
{
	size_t n = img->nlayers, keep = L->n - at - (size_t)replace;

	L->v = xrealloc(L->v, (L->n - (size_t)replace + n + 1) * sizeof(*L->v));
	memmove(L->v + at + n, L->v + at + replace, keep * sizeof(*L->v));
	L->n = L->n - (size_t)replace + n;
	for (size_t i = 0; i < n; i++) {
		struct image_layer *il = &img->layers[i];
		struct layer *ly = layer_new(NULL, il->file, in);
		if (asprintf(&ly->label, "%s: layer %zu (%.19s)", in->path, i + 1,
			     il->digest ? il->digest : il->label) < 0)
			die_oom();
		ly->name = ly->label;
		ly->fd = fd;
		if (il->fd >= 0) {      /* a layout's blob, opened beneath it: ours now */
			ly->fd = il->fd;
			ly->own_fd = 1;
			il->fd = -1;
		}
		ly->off = il->off;
		ly->len = il->len;
		ly->digest = il->digest;
		ly->diff_id = il->diff_id;
		ly->estargz = il->estargz;
		ly->image_layer = il;
		const char *d = il->digest ? il->digest : il->diff_id;
		snprintf(ly->id, sizeof(ly->id), "%.12s", d ? strchr(d, ':') + 1 : "");
		L->v[at + i] = ly;
	}
	for (size_t i = at + n; i < L->n; i++)
		layers_moved(L, i);
}

/* Operands: a directory is an OCI image layout, read now; anything else is
 * a layer, or an image archive found out once it has been indexed. */
static int
open_inputs(struct layers *L, struct input *inputs, size_t n, const char *platform,
	    int layers_only)
{
	char msg[600];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		struct input *in = &inputs[i];
		in->sel.platform = platform;
		if (!layers_only && strcmp(in->path, "-") != 0 && stat(in->path, &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			struct image img;
			if (image_open_dir(in->path, &in->sel, &img, msg, sizeof(msg)) < 0)
				return layers_fail(L, in->path, msg);
			insert_image(L, L->n, 0, in, keep_image(L, in->path, &img), -1);
			continue;
		}
		struct layer *ly = layer_new(in->path, in->path, in);
		ly->operand = 1;
		ly->may_be_image = !layers_only;
		layers_add(L, ly);
	}
	return 0;
}

/* The members of layer LY, for image.c to tell an image archive by; their
 * names in NAMES. */
static struct image_member *
archive_members(const struct layers *L, const struct layer *ly, struct pool *names)
{
	struct image_member *m = xmalloc((ly->nents + 1) * sizeof(*m));
	struct namebuf b = { NULL, 0 };

	for (size_t j = 0; j < ly->nents; j++) {
		const struct ent *t = &ly->ents[j];
		const char *path = ent_path(L, t, &b);
		m[j] = (struct image_member){ pool_str(names, path, strlen(path)),
					      ent_sparse(L, t) ? 'S' : t->type,
					      ent_link(L, t), t->data_off, t->size };
	}
	free(b.p);
	return m;
}

/*
 * The layer in slot I, indexed, as an image archive: 1 when it is one
 * (it then gives way to its layers), 0 when it is a layer, -1 on error.
 */
static int
expand_one(struct layers *L, size_t i)
{
	struct layer *ly = L->v[i];
	const struct input *in = ly->input;
	char msg[600];
	struct image img;
	int r = 0;

	int chosen = in->sel.ref || in->sel.digest;
	int looks = layer_has_member(ly, "manifest.json") ||
		    (layer_has_member(ly, "index.json") && layer_has_member(ly, "oci-layout"));
	if (looks && tar_in_is_gzip(ly->in))
		return layers_fail(L, ly->name, "a gzip-compressed image archive: decompress it "
				   "first (gzip -dc FILE | tarflat -), or give --layers to "
				   "read it as a layer");
	if (looks) {
		struct pool names = { NULL };
		struct image_member *m = archive_members(L, ly, &names);
		r = image_open_archive(ly->name, ly->fd, m, ly->nents, &in->sel, &img,
				       msg, sizeof(msg));
		pool_free(&names);
		free(m);
	}
	if (r < 0)
		return layers_fail(L, ly->name, msg);
	if (r == 0 && chosen)
		return layers_fail(L, ly->name, "not an image, but a tag or digest was given");
	if (r == 0)
		return 0;
	/* the archive gives way to its layers; its file stays open */
	L->retired = xrealloc(L->retired, (L->nretired + 1) * sizeof(*L->retired));
	L->retired[L->nretired++] = ly;
	insert_image(L, i, 1, in, keep_image(L, ly->name, &img), ly->fd);
	return 1;
}

/*
 * After indexing: an operand that holds an image (image.c decides, from
 * the members) stands for its layers, which are indexed in turn. Returns
 * 0 or -1.
 */
static int
expand_archives(struct layers *L)
{
	size_t added = 0;

	/* a slot is looked at again until it holds no candidate: an image's
	 * own layers, which take the archive's slot, are none */
	for (size_t i = 0; i < L->n;) {
		struct layer *ly = L->v[i];
		if (!ly->may_be_image) {
			i++;
			continue;
		}
		ly->may_be_image = 0;
		size_t before = L->n;
		int r = expand_one(L, i);
		if (r < 0)
			return -1;
		added += r ? L->n + 1 - before : 0;
	}
	return added ? layers_index(L) : 0;
}

/* Every layer's digests, computed while it was indexed, against the image's. */
static int
verify_layers(struct layers *L)
{
	char got[136], msg[400];

	for (size_t i = 0; i < L->n; i++) {
		struct layer *ly = L->v[i];
		if (ly->digest && !image_hash_check(&ly->hraw, ly->digest, got)) {
			snprintf(msg, sizeof(msg), "digest mismatch: the blob hashes to %.136s", got);
			return layers_fail(L, ly->name, msg);
		}
		if (ly->diff_id && !image_hash_check(&ly->htar, ly->diff_id, got)) {
			snprintf(msg, sizeof(msg), "diff_id mismatch: the uncompressed layer hashes "
				 "to %.136s, the config says %.136s", got, ly->diff_id);
			return layers_fail(L, ly->name, msg);
		}
	}
	return 0;
}

int
inputs_number(struct layers *L)
{
	uint64_t seq = 0;

	for (size_t i = 0; i < L->n; i++) {
		L->v[i]->pos = i + 1;
		layers_moved(L, i);
		for (size_t j = 0; j < L->v[i]->nents; j++)
			L->v[i]->ents[j].seq = (uint32_t)seq++;
	}
	if (seq > UINT32_MAX)
		return layers_fail(L, "the layers", "more than 2^32 members in all");
	return 0;
}

int
inputs_load(struct layers *L, struct input *in, size_t n, const char *platform,
	    int layers_only)
{
	int rc = open_inputs(L, in, n, platform, layers_only);

	if (rc == 0)
		rc = layers_index(L);
	if (rc == 0)
		rc = expand_archives(L);
	if (rc == 0)
		rc = verify_layers(L);
	/* numbered even after a failure: entries find their layer by it */
	if (inputs_number(L) < 0 && rc == 0)
		rc = -1;
	return rc;
}
