/*
 * input.h - operands and the layers they stand for.
 *
 * An operand is a layer file, or an image that stands for its layers
 * (image.c reads the metadata): a directory is read as an OCI image
 * layout at once; a file is indexed as a layer first and, when its
 * members make it an image archive, gives way to the image's layers,
 * which are byte ranges of it and are indexed in turn. inputs_load runs
 * the whole index step: afterwards every layer of the run is indexed,
 * its digests checked, and its entries numbered in input order.
 */
#ifndef TARFLAT_INPUT_H
#define TARFLAT_INPUT_H

#include "image.h"
#include "layer.h"

/* An operand: a layer or an image, with what selects an image in it. */
struct input {
	const char *arg;        /* as given */
	char *path;             /* the file or directory; "-" standard input */
	struct image_sel sel;
};

/*
 * input_parse: INPUT, INPUT:TAG or INPUT@DIGEST into *IN (IN->path is
 * malloc'd: input_free). The operand names a file or directory as it
 * stands when that exists (or with LAYERS_ONLY); otherwise the first ':'
 * or '@' after which the part before exists (or is "-") starts the
 * selection, so a tag may itself hold ':' ("img.tar:alpine:3.20").
 * Returns 0, or -1 for a malformed digest.
 */
int input_parse(const char *arg, int layers_only, struct input *in);
void input_free(struct input *in);

/*
 * inputs_load: the layers of the N operands IN, into L (empty; its jobs
 * and verbose set), indexed and verified. PLATFORM picks among an image
 * index's manifests (NULL: this machine's); LAYERS_ONLY reads every
 * operand as a layer. IN must outlive L. Returns 0, or -1 with the error
 * in L (layers_report).
 */
int inputs_load(struct layers *L, struct input *in, size_t n, const char *platform,
		int layers_only);

/*
 * inputs_number: numbers the entries of L's layers in input order (the
 * output's order follows it) and each layer's position. inputs_load calls
 * it; a caller that fills L itself calls it after layers_index. Returns
 * 0, or -1 when the layers hold 2^32 members or more.
 */
int inputs_number(struct layers *L);

#endif
