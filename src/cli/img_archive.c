/* img_archive.c - save, load and import: images to and from tar archives. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "image/archive.h"
#include "image/reference.h"
#include "image/store.h"

/* A failed save, load or import: exit 1, as docker's does (125 is for usage errors). */
static int archive_fail(berth_err *err)
{
	return berth_fail(err);
}

int cmd_save(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	enum image_archive_format fmt = IMAGE_ARCHIVE_DOCKER;
	int c;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'F':
			if (strcmp(optarg, "docker") == 0 || strcmp(optarg, "docker-archive") == 0)
				fmt = IMAGE_ARCHIVE_DOCKER;
			else if (strcmp(optarg, "oci") == 0 || strcmp(optarg, "oci-archive") == 0)
				fmt = IMAGE_ARCHIVE_OCI;
			else
				return berth_usage_error(
					argv[0], "--format: \"%s\" is neither docker nor oci",
					optarg);
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"save\" requires at least 1 argument.");
	if (!out && isatty(STDOUT_FILENO)) {
		fprintf(stderr,
			"berth: cowardly refusing to save to a terminal. Use the -o flag or "
			"redirect\n");
		return 1;
	}
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return archive_fail(&err);
	/* image_save() resolves every name before it writes a byte. */
	int fd = STDOUT_FILENO;
	_cleanup_free_ char *tmp = NULL;
	if (out) {
		/* A regular file is written under a temp name and renamed at the end,
		 * so a failed save leaves no half archive; a device or fifo directly. */
		struct stat st;
		if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
			fd = open(out, O_WRONLY | O_CLOEXEC);
		} else {
			tmp = xasprintf("%s.berth-save-%d", out, (int)getpid());
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, 0644);
		}
		if (fd < 0) {
			berth_error_errno(&err, "open %s", out);
			return archive_fail(&err);
		}
	}
	int r = image_save(s, (const char *const *)argv + optind, (size_t)(argc - optind), fmt, fd,
			   &err);
	if (out) {
		if (r == 0 && tmp && fsync(fd) < 0)
			r = berth_error_errno(&err, "write %s", out);
		close(fd);
		if (r == 0 && tmp && rename(tmp, out) < 0)
			r = berth_error_errno(&err, "rename to %s", out);
		if (r < 0 && tmp)
			unlink(tmp);
	}
	return r < 0 ? archive_fail(&err) : 0;
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL;
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "i:q", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'q': quiet = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"load\" accepts no arguments.");
	if (!in && isatty(STDIN_FILENO)) {
		fprintf(stderr, "berth: requested load from stdin, but stdin is empty\n");
		return 1;
	}
	berth_err err = BERTH_ERR_INIT;
	_cleanup_close_ int fd = -1;
	bool is_dir = false;
	if (in) {
		fd = open(in, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			berth_error_errno(&err, "open %s", in);
			return archive_fail(&err);
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			berth_error_errno(&err, "stat %s", in);
			return archive_fail(&err);
		}
		is_dir = S_ISDIR(st.st_mode);
	}
	struct image_store *s = berth_store(&err);
	if (!s)
		return archive_fail(&err);
	_cleanup_strv_ char **loaded = NULL;
	int r = is_dir ? image_load_dir(s, in, &loaded, &err)
		       : image_load(s, in ? fd : STDIN_FILENO, &loaded, &err);
	if (r < 0) {
		if (in && !is_dir)
			berth_error_wrap(&err, "%s", in);
		return archive_fail(&err);
	}
	for (size_t i = 0; !quiet && loaded && loaded[i]; i++)
		printf("%s\n", loaded[i]);
	return 0;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ const char **changes = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t nc = 0;
	const char *message = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': changes[nc++] = optarg; break;
		case 'm': message = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc || argc - optind > 2)
		return berth_usage_error(argv[0],
					 "\"import\" requires at least 1 and at most 2 arguments.");
	const char *src = argv[optind];
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *tag = NULL;
	if (optind + 1 < argc) {
		struct image_ref ref = { 0 };
		if (image_ref_parse(argv[optind + 1], &ref, &err) < 0)
			return archive_fail(&err);
		if (ref.digest) {
			image_ref_free(&ref);
			berth_error_code(&err, EINVAL, "import: \"%s\": a digest cannot be a tag",
					 argv[optind + 1]);
			return archive_fail(&err);
		}
		tag = image_ref_string(&ref);
		image_ref_free(&ref);
	}
	if (strstr(src, "://")) {
		berth_error_code(&err, EINVAL,
				 "import %s: importing from a URL is not supported; download it "
				 "and import the file",
				 src);
		return archive_fail(&err);
	}
	_cleanup_close_ int fd = -1;
	if (strcmp(src, "-") != 0) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			berth_error_errno(&err, "open %s", src);
			return archive_fail(&err);
		}
	}
	/* Docker's history comment for an import without -m. */
	_cleanup_free_ char *msg = NULL;
	if (!message)
		message = msg = xasprintf("Imported from %s", src);
	struct image_store *s = berth_store(&err);
	if (!s)
		return archive_fail(&err);
	_cleanup_free_ char *id = NULL;
	if (image_import(s, fd >= 0 ? fd : STDIN_FILENO, changes, message, tag, &id, &err) < 0)
		return archive_fail(&err);
	printf("%s\n", id);
	return 0;
}
