/* unpack.h - layer tarballs to directories for overlayfs, and back.
 *
 * A layer is unpacked into its own empty directory (the caller's dirfd; in
 * the store, layers/<chainid>/diff). Every entry is created relative to that
 * directory with *at() calls that never follow a symlink the tar made: a
 * name with "..", an absolute name (a leading "/" is stripped as GNU tar does, but
 * "../" anywhere is refused), an entry below a symlink, a hard link to a
 * target outside the layer or to a name not yet in the layer, a whiteout of
 * ".." or "." each fail with an error naming the entry.
 *
 * Whiteouts become overlayfs ones: ".wh.NAME" a 0:0 character device NAME,
 * ".wh..wh..opq" the xattr trusted.overlay.opaque="y" on its directory.
 * Owners, modes (setuid/setgid/sticky), mtimes/atimes, xattrs (including
 * security.capability), hard links, device nodes, fifos and sparse files are
 * kept as the tar says. Directory times are set after their contents.
 *
 * Compression is detected from the stream's magic, not from a media type:
 * gzip (decompressed with ISA-L's igzip inflate, several times zlib's speed),
 * zstd, or none.
 *
 *   layer_unpack()   read a layer from fd (file or pipe), unpack into dirfd,
 *                    and return the DiffID (sha256 of the uncompressed tar)
 *                    and the uncompressed size
 *   layer_pack()     write dirfd (an overlay upper dir or an unpacked layer)
 *                    as a tar to outfd, overlay whiteouts back to .wh. names;
 *                    returns the DiffID of the tar written (uncompressed)
 *   layer_pack_excluding() the same, leaving out the given paths (relative, no
 *                    leading "/": what `commit` must not keep)
 *   layer_pack_entry() one entry of dirfd (recursively), its top renamed to as
 *                    (NULL: its own name): what `cp` sends
 *   layer_extract()  unpack a tar into an existing directory for `cp`: flags say
 *                    whether owners are the tar's and whether .wh. names mean whiteouts
 *   layer_compress_gzip() gzip a stream fd->fd, returning the sha256 digest and
 *                    size of the compressed output (for blobs)
 */
#ifndef BERTH_IMAGE_UNPACK_H
#define BERTH_IMAGE_UNPACK_H

#include <stdint.h>

#include "common/error.h"

/* "sha256:" + 64 hex + NUL */
#define IMAGE_DIGEST_BUF 72

struct layer_unpack_stats {
	uint64_t tar_size; /* bytes of uncompressed tar read */
	uint64_t entries;
};

int layer_unpack(int fd, int dirfd, char diffid[IMAGE_DIGEST_BUF], struct layer_unpack_stats *st,
		 berth_err *err);
int layer_pack(int dirfd, int outfd, char diffid[IMAGE_DIGEST_BUF], uint64_t *tar_size,
	       berth_err *err);
int layer_pack_excluding(int dirfd, const char *const *exclude, int outfd,
			 char diffid[IMAGE_DIGEST_BUF], uint64_t *tar_size, berth_err *err);
int layer_pack_entry(int dirfd, const char *name, const char *as, int outfd, berth_err *err);
/* The caller's uid/gid own what is made, not the tar's. */
#define LAYER_EXTRACT_OWN 0x1
/* ".wh." names are files like any other. */
#define LAYER_EXTRACT_PLAIN 0x2
int layer_extract(int fd, int dirfd, unsigned flags, berth_err *err);
int layer_compress_gzip(int infd, int outfd, char digest[IMAGE_DIGEST_BUF], uint64_t *size,
			berth_err *err);

#endif
