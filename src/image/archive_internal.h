/* archive_internal.h - what archive.c (load) and archive_save.c (save) share.
 *
 *   archive_layer_media_type()  a layer's OCI media type from its first bytes
 *                               (gzip, zstd, else an uncompressed tar)
 */
#ifndef BERTH_IMAGE_ARCHIVE_INTERNAL_H
#define BERTH_IMAGE_ARCHIVE_INTERNAL_H

#include <stddef.h>

const char *archive_layer_media_type(const unsigned char *magic, size_t n);

#endif
