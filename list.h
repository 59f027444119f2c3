/*
 * list.h - the -t listing as an output (output.h): one line per entry in
 * the form of tar -tv with numeric owners, the layer that wrote it before
 * the name so the name can end the line:
 *
 *   MODE UID/GID SIZE DATE TIME LAYER[:DIGEST] NAME [-> TARGET | link to NAME]
 *
 * Names are written as tar -t writes them: control characters and
 * backslashes as a backslash and three octal digits. It takes no content.
 */
#ifndef TARFLAT_LIST_H
#define TARFLAT_LIST_H

struct output_ops;
extern const struct output_ops list_output;

#endif
