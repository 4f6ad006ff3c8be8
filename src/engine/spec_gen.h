/* spec_gen.h - a container's OCI config.json from Docker's create request.
 *
 * Input is what `docker create` sends to the Engine API (Config, HostConfig)
 * plus the image's config; output is the runtime spec berth's runtime
 * executes. Docker's semantics throughout: Entrypoint/Cmd (an empty
 * --entrypoint clears the image's), Env merged over the image's (an empty
 * value kept as empty), WorkingDir, User resolved from the image's
 * /etc/passwd and /etc/group (user_resolve()), Docker's default capability
 * set, Berth's own default seccomp profile (seccomp_default.h), masked and
 * read-only /proc and /sys paths, a private /dev with the standard devices,
 * /dev/shm (ShmSize, 64 MiB default), --privileged, resources, ulimits,
 * sysctls, namespaces (host / private / joined by path).
 *
 *   spec_generate()   the spec; err names the offending option
 *   spec_merge_command()  Docker's merge of the image's Entrypoint and Cmd into
 *                     a request's Config (what create records, and inspect shows)
 */
#ifndef BERTH_ENGINE_SPEC_GEN_H
#define BERTH_ENGINE_SPEC_GEN_H

#include <jansson.h>

#include "common/error.h"

struct spec_gen_ctx {
	const char *id;            /* the container id, 64 hex */
	const char *rootfs;        /* absolute path of the mounted rootfs */
	json_t *mounts;            /* resolved mount points (mounts_resolve()), may be NULL */
	const char *hosts_path;    /* bound at /etc/hosts, /etc/hostname, /etc/resolv.conf; */
	const char *hostname_path; /* NULL: the image's own file is left */
	const char *resolv_path;
	const char *init_path; /* HostConfig.Init: the host's berth-init, bound read-only at
				* /sbin/docker-init and run as PID 1 with "--" and the command */
	/* Namespaces joined by path ("/proc/PID/ns/net") for container:X modes;
	 * NULL: HostConfig decides (private, or host for "host"). */
	const char *netns_path;
	const char *pidns_path;
	const char *ipcns_path;
	const char *utsns_path;
	const char *shm_path; /* --ipc container:X / shareable: that container's /dev/shm to bind */
	const char *cgroups_path; /* linux.cgroupsPath, e.g. "/berth/<id>" */
};

int spec_generate(json_t *config, json_t *host_config, json_t *image_config,
		  const struct spec_gen_ctx *ctx, json_t **spec, berth_err *err);
void spec_merge_command(json_t *config, json_t *image_config);

#endif
