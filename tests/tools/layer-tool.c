/* layer-tool - drive image/unpack.c from the shell, for benchmarks and by hand.
 *
 *   layer-tool unpack FILE|- DIR   unpack a layer (plain, gzip or zstd tar) into DIR
 *                                  (created if missing); prints the DiffID
 *   layer-tool pack DIR OUT.tar|-  write DIR as a layer tar; prints the DiffID
 *   layer-tool gzip IN OUT.gz      gzip a file as layer blobs are; prints the digest
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/unpack.h"

static int open_in(const char *path)
{
	if (!strcmp(path, "-"))
		return dup(STDIN_FILENO);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int open_out(const char *path)
{
	if (!strcmp(path, "-"))
		return dup(STDOUT_FILENO);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "layer-tool: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
			"usage: layer-tool unpack FILE DIR | pack DIR OUT.tar | gzip IN OUT\n");
		return 2;
	}
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char digest[IMAGE_DIGEST_BUF];
	int r;
	FILE *report = stdout;
	if (!strcmp(argv[1], "unpack")) {
		_cleanup_close_ int in = open_in(argv[2]);
		if (in < 0)
			return fail("opening", argv[2]);
		if (mkdir(argv[3], 0755) < 0 && errno != EEXIST)
			return fail("creating", argv[3]);
		_cleanup_close_ int dir = open(argv[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return fail("opening", argv[3]);
		struct layer_unpack_stats st;
		r = layer_unpack(in, dir, digest, &st, &err);
		if (r == 0)
			fprintf(stderr, "%" PRIu64 " entries, %" PRIu64 " bytes of tar\n",
				st.entries, st.tar_size);
	} else if (!strcmp(argv[1], "pack")) {
		_cleanup_close_ int dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return fail("opening", argv[2]);
		_cleanup_close_ int out = open_out(argv[3]);
		if (out < 0)
			return fail("creating", argv[3]);
		uint64_t size;
		r = layer_pack(dir, out, digest, &size, &err);
		if (!strcmp(argv[3], "-"))
			report = stderr;
	} else if (!strcmp(argv[1], "gzip")) {
		_cleanup_close_ int in = open_in(argv[2]);
		if (in < 0)
			return fail("opening", argv[2]);
		_cleanup_close_ int out = open_out(argv[3]);
		if (out < 0)
			return fail("creating", argv[3]);
		uint64_t size;
		r = layer_compress_gzip(in, out, digest, &size, &err);
		if (!strcmp(argv[3], "-"))
			report = stderr;
	} else {
		fprintf(stderr, "layer-tool: unknown command %s\n", argv[1]);
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "layer-tool: %s\n", err.msg ? err.msg : strerror(-r));
		return 1;
	}
	fprintf(report, "%s\n", digest);
	return 0;
}
