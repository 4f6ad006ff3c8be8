/* user.h - Docker's --user resolved against the image's /etc/passwd and /etc/group.
 *
 * The spec is "user", "uid", "user:group", "uid:gid" (and the mixes). Names are
 * looked up in the rootfs' files, opened inside the rootfs (a symlinked
 * /etc/passwd cannot point at the host's). Missing files are empty files: a
 * numeric uid works without them, a name does not. As Docker: a user matched
 * in /etc/passwd without an explicit group gets its primary gid and the
 * supplementary groups listing it by name; HostConfig.GroupAdd adds more.
 *
 *   user_resolve()       uid, gid, additional gids (and home, for messages and HOME)
 *   user_ids_release()   free what user_resolve() allocated
 */
#ifndef BERTH_ENGINE_USER_H
#define BERTH_ENGINE_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t *sgids; /* supplementary groups, then GroupAdd's, in order; malloc'd */
	size_t n_sgids;
	char *home; /* the passwd entry's home directory, NULL when none matched */
};

/* rootfd: the rootfs directory; spec: NULL or "" for root. group_add: n_group_add names
 * or numbers. Errors are Docker's: "unable to find user NAME: no matching entries in
 * passwd file". */
int user_resolve(int rootfd, const char *spec, const char *const *group_add, size_t n_group_add,
		 struct user_ids *out, berth_err *err);
void user_ids_release(struct user_ids *u);

#endif
