/* sys_reset.c - `berth system reset`: back to an empty Berth. Every
 * container is removed (running ones killed), every network's bridge, rules
 * and DNS responder torn down, then the --root and --runroot directories
 * themselves go, images and volumes with them.
 *
 *   cmd_system_reset()   [-f]: without -f, asks first
 */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/rmtree.h"
#include "common/xalloc.h"
#include "engine/engine.h"

/* rm -rf DIR, refusing "/" and relative oddities. */
static int remove_dir(const char *dir, berth_err *err)
{
	_cleanup_free_ char *real = realpath(dir, NULL);
	if (!real)
		return 0;
	if (!strcmp(real, "/"))
		return berth_error(err, 0, "refusing to remove /");
	_cleanup_free_ char *copy = xstrdup(real), *copy2 = xstrdup(real);
	const char *parent = dirname(copy), *base = basename(copy2);
	_cleanup_close_ int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open %s", parent);
	return rm_rf_at(fd, base, err);
}

int cmd_system_reset(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		force = true;
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"reset\" accepts no arguments.");
	if (!force) {
		printf("WARNING! This will remove:\n  - all containers\n  - all networks\n"
		       "  - all volumes\n  - all images\n  - %s and %s\n"
		       "\nAre you sure you want to continue? [y/N] ",
		       berth.root, berth.runroot);
		fflush(stdout);
		char answer[16] = "";
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = access(berth.root, F_OK) == 0 ? berth_engine(&err) : NULL;
	if (access(berth.root, F_OK) == 0 && !e)
		return berth_fail(&err);
	if (e && engine_reset(e, &err) < 0)
		return berth_fail(&err);
	berth_close();
	if (remove_dir(berth.runroot, &err) < 0 || remove_dir(berth.root, &err) < 0)
		return berth_fail(&err);
	return 0;
}
