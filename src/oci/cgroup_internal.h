/* cgroup_internal.h - what cgroup.c, cgroup_v1.c and cgroup_v2.c share.
 *
 * A manager holds one directory per hierarchy it uses: every v1 controller
 * hierarchy (plus name=systemd), and/or the v2 one. Each knows whether this
 * runtime created it (and how many of its ancestors), so destroy removes
 * exactly what create made.
 *
 *   cg_write()       write a value to DIR/FILE; the error names the OCI field
 *   cg_read()        read DIR/FILE, trailing newline stripped
 *   cg_mkdir_p()     create DIR and missing parents, counting the levels made
 *   cg_rmdir()       remove DIR (retrying EBUSY), then the parents we made
 *   cg_find()        the hierarchy holding a v1 controller, or the v2 one
 *   cgroup_v1_ops / cgroup_v2_ops   the drivers
 *   cg_v2_apply()    write v2 files for linux.resources (pure v2, and hybrid's hugetlb/unified)
 *   cg_v2_devices_apply()  linux.resources.devices as an eBPF device filter on a v2 dir (replacing any)
 */
#ifndef BERTH_OCI_CGROUP_INTERNAL_H
#define BERTH_OCI_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/cgroup.h"

struct cg_hier {
	char *name;   /* "memory", "cpu,cpuacct", "name=systemd", "" for v2 */
	char *mount;  /* where the hierarchy is mounted on the host */
	char *dir;    /* the container's directory in it */
	bool v2;
	int made;     /* how many path levels create made (0: it existed) */
};

struct cgroup_manager {
	enum cgroup_mode mode;
	const struct cgroup_ops *ops;
	char *path; /* the resolved cgroup path, "/berth/ID" */
	struct cg_hier *h;
	size_t nh;
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

int cg_write(const char *dir, const char *file, const char *value, const char *field, berth_err *err);
int cg_read(const char *dir, const char *file, char **out, berth_err *err);
int cg_mkdir_p(const char *dir, int *made, berth_err *err);
int cg_rmdir(const char *dir, int made, berth_err *err);
struct cg_hier *cg_find(struct cgroup_manager *m, const char *controller);
int cg_read_pids(const char *dir, pid_t **pids, size_t *n, berth_err *err);
int cg_v2_apply(const char *dir, json_t *res, bool only_unified_keys, berth_err *err);
int cg_v2_devices_apply(const char *dir, json_t *devices, berth_err *err);
/* Enable every available controller in the subtree_control of dir's ancestors. */
void cg_v2_enable_controllers(const char *mount, const char *dir);
int cg_enter_all(struct cgroup_manager *m, pid_t pid, berth_err *err);
int cg_destroy_all(struct cgroup_manager *m, berth_err *err);

#endif
