/* fuzz_unpack.c - libFuzzer harness for layer tarballs (tar headers, gzip
 * and zstd framing, whiteouts, links).
 *
 * Each input is unpacked into a fresh directory under a per-process sandbox
 * dir; whatever the input, the result is a tree or one error message, and
 * nothing is ever created outside the layer directory: the harness checks
 * that the sandbox holds only the layer dir afterwards. Run (as root, so
 * owners and device nodes are exercised):
 *   build-fuzz/tests/fuzz/fuzz_unpack tests/fuzz/corpus-unpack */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/rmtree.h"
#include "image/unpack.h"

static int sandbox = -1;
static char sandbox_path[] = "/tmp/berth-fuzz-unpack.XXXXXX";

static void remove_sandbox(void)
{
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(AT_FDCWD, sandbox_path, &err);
	berth_err_clear(&err);
}

static int only_layer_dir(void)
{
	int fd = openat(sandbox, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	if (!d)
		return 0;
	struct dirent *de;
	int others = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "layer"))
			others++;
	closedir(d);
	return others == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sandbox < 0) {
		if (!mkdtemp(sandbox_path))
			abort();
		atexit(remove_sandbox);
		sandbox = open(sandbox_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sandbox < 0)
			abort();
	}
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(sandbox, "layer", &err);
	berth_err_clear(&err);
	if (mkdirat(sandbox, "layer", 0755) < 0)
		abort();
	int dir = openat(sandbox, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int in = memfd_create("layer", MFD_CLOEXEC);
	if (dir < 0 || in < 0 || (size && write(in, data, size) != (ssize_t)size) ||
	    lseek(in, 0, SEEK_SET) != 0)
		abort();
	char diffid[IMAGE_DIGEST_BUF];
	struct layer_unpack_stats st = { 0 };
	int r = layer_unpack(in, dir, diffid, &st, &err);
	if (r < 0 && !err.msg)
		__builtin_trap(); /* a failure always says why */
	berth_err_clear(&err);
	close(in);
	close(dir);
	if (!only_layer_dir())
		__builtin_trap(); /* something escaped the layer directory */
	return 0;
}
