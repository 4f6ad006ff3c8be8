/* intelrdt.c - linux.intelRdt via /sys/fs/resctrl; see intelrdt.h. */
#include "oci/intelrdt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"

#define RESCTRL "/sys/fs/resctrl"
#define RDTGROUP_SUPER_MAGIC 0x7655821

int intelrdt_validate(json_t *rdt, berth_err *err)
{
	static const char *const strings[] = { "closID", "l3CacheSchema", "memBwSchema" };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		json_t *v = json_object_get(rdt, strings[i]);
		if (v && !json_is_string(v))
			return berth_error_code(err, EINVAL, "linux.intelRdt.%s: must be a string", strings[i]);
	}
	const char *clos = json_string_value(json_object_get(rdt, "closID"));
	if (clos && (!*clos || strchr(clos, '/') || strcmp(clos, ".") == 0 || strcmp(clos, "..") == 0))
		return berth_error_code(err, EINVAL, "linux.intelRdt.closID: \"%s\" is not a valid group name", clos);
	json_t *sch = json_object_get(rdt, "schemata");
	if (sch) {
		if (!json_is_array(sch))
			return berth_error_code(err, EINVAL, "linux.intelRdt.schemata: must be an array");
		size_t i;
		json_t *s;
		json_array_foreach (sch, i, s)
			if (!json_is_string(s))
				return berth_error_code(err, EINVAL, "linux.intelRdt.schemata[%zu]: must be a string", i);
	}
	json_t *mon = json_object_get(rdt, "enableMonitoring");
	if (mon && !json_is_boolean(mon))
		return berth_error_code(err, EINVAL, "linux.intelRdt.enableMonitoring: must be a boolean");
	return 0;
}

static const char *group_name(json_t *rdt, const char *id)
{
	const char *clos = json_string_value(json_object_get(rdt, "closID"));
	return clos ? clos : id;
}

int intelrdt_apply(json_t *rdt, const char *id, pid_t pid, berth_err *err)
{
	struct statfs sf;
	if (statfs(RESCTRL, &sf) < 0 || sf.f_type != RDTGROUP_SUPER_MAGIC)
		return berth_error_code(err, ENOTSUP,
					"linux.intelRdt: this host has no resctrl filesystem at " RESCTRL
					" (no Intel RDT, or not mounted)");
	_cleanup_free_ char *dir = xasprintf(RESCTRL "/%s", group_name(rdt, id));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return berth_error_errno(err, "linux.intelRdt: cannot create %s", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_errno(err, "linux.intelRdt: open %s", dir);
	static const char *const keys[] = { "l3CacheSchema", "memBwSchema" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = json_string_value(json_object_get(rdt, keys[i]));
		if (v && file_write_at(dfd, "schemata", v, strlen(v), err) < 0)
			return berth_error_wrap(err, "linux.intelRdt.%s", keys[i]);
	}
	size_t i;
	json_t *s;
	json_array_foreach (json_object_get(rdt, "schemata"), i, s)
		if (file_write_at(dfd, "schemata", json_string_value(s), json_string_length(s), err) < 0)
			return berth_error_wrap(err, "linux.intelRdt.schemata[%zu]", i);
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (file_write_at(dfd, "tasks", buf, (size_t)n, err) < 0)
		return berth_error_wrap(err, "linux.intelRdt");
	return 0;
}

void intelrdt_remove(json_t *rdt, const char *id)
{
	if (!rdt || json_object_get(rdt, "closID"))
		return;
	_cleanup_free_ char *dir = xasprintf(RESCTRL "/%s", id);
	rmdir(dir);
}
