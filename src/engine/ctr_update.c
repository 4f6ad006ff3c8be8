/* ctr_update.c - `update`: new resource limits or restart policy for an
 * existing container. The HostConfig in the row changes; a running
 * container's cgroups change with it, through the runtime, from the same
 * linux.resources a start would compute (spec_gen's rules and checks). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "engine/engine_internal.h"
#include "engine/spec_gen_internal.h"
#include "oci/container.h"

/* linux.resources of a HostConfig, as at start, without the device rules
 * (update changes none; rewriting them would briefly deny devices on v1). */
static int resources_of(json_t *host, json_t **out, berth_err *err)
{
	_cleanup_json_ json_t *linux_ = json_object();
	struct gen g = {
		.host = host,
		.linux_ = linux_,
		.privileged = json_is_true(json_object_get(host, "Privileged")),
	};
	int r = gen_resources(&g, err);
	if (r < 0)
		return r;
	json_t *res = json_incref(json_object_get(linux_, "resources"));
	json_object_del(res, "devices");
	/* unlimited again: start leaves "pids" out, update must say so */
	if (gen_int(host, "PidsLimit") <= 0)
		json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)-1));
	*out = res;
	return 0;
}

static int check_changes(struct ctr_row *row, json_t *changes, berth_err *err)
{
	json_t *old = row->host_config;
	if (json_object_get(changes, "RestartPolicy") &&
	    json_is_true(json_object_get(old, "AutoRemove"))) {
		const char *name = json_string_value(
			json_object_get(json_object_get(changes, "RestartPolicy"), "Name"));
		if (name && *name && strcmp(name, "no"))
			return berth_error_code(
				err, EINVAL,
				"Restart policy cannot be updated because AutoRemove "
				"is enabled for the container");
	}
	/* A new memory limit above an explicit swap limit, swap left as it was. */
	json_int_t memory = gen_int(changes, "Memory"), swap = gen_int(old, "MemorySwap");
	if (memory > 0 && !json_object_get(changes, "MemorySwap") && swap > 0 && memory > swap)
		return berth_error_code(
			err, EINVAL,
			"Memory limit should be smaller than already set memoryswap "
			"limit, update the memoryswap at the same time");
	return 0;
}

int ctr_update(struct engine *e, const char *id, json_t *changes, berth_err *err)
{
	_cleanup_close_ int lock = ctr_lock(e, id, err);
	if (lock < 0)
		return lock;
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0 ||
	    (r = check_changes(&row, changes, err)) < 0)
		return berth_error_wrap(err, "Cannot update container %s", id);
	/* Docker's update: a zero leaves the value as it was (a pids limit of 0
	 * means unlimited, as at create) */
	const char *k;
	json_t *cv;
	json_object_foreach (changes, k, cv)
		if (!(json_is_integer(cv) && json_integer_value(cv) == 0) ||
		    !strcmp(k, "PidsLimit"))
			json_object_set(row.host_config, k, cv);
	const char *status = json_string_value(json_object_get(row.state, "Status")) ?: "";
	bool live = !strcmp(status, "running") || !strcmp(status, "paused");
	bool resources = false;
	const char *key;
	json_t *v;
	json_object_foreach (changes, key, v)
		resources = resources || strcmp(key, "RestartPolicy");
	_cleanup_json_ json_t *res = NULL;
	if (resources && (r = resources_of(row.host_config, &res, err)) < 0)
		return berth_error_wrap(err, "Cannot update container %s", id);
	if (resources && live && (r = container_update(e->runtime_root, id, res, err)) < 0)
		return berth_error_wrap(err, "Cannot update container %s", id);
	return ctr_row_save_host_config(e, &row, err);
}
