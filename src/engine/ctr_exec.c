/* ctr_exec.c - what `exec` needs from the engine: its --user resolved
 * against the running container's own /etc/passwd and /etc/group. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/user.h"

int ctr_exec_user(struct engine *e, const char *id, const char *user, json_t *process,
		  berth_err *err)
{
	_cleanup_free_ char *run = ctr_rundir(e, id);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", run);
	_cleanup_close_ int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open the root filesystem of container %s",
					 id);
	struct user_ids u = { 0 };
	int r = user_resolve(fd, user, NULL, 0, &u, err);
	if (r < 0)
		return r;
	json_t *gids = json_array();
	for (size_t i = 0; i < u.n_sgids; i++)
		json_array_append_new(gids, json_integer(u.sgids[i]));
	json_t *o = json_pack("{s:I,s:I,s:o}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
			      "additionalGids", gids);
	json_object_set_new(process, "user", o);
	user_ids_release(&u);
	return 0;
}
