/* ctr_opts.h - `berth run` / `berth create` flags, parsed into the request
 * Docker's CLI sends to the Engine API (POST /containers/create): Config,
 * HostConfig and NetworkingConfig with the API's field names, so the CLI
 * and the API server (later) hand the engine the same thing.
 *
 * Every docker run/create flag issue 4 lists is parsed with docker's
 * spelling and checks (units like 512m, --cpus 1.5 -> NanoCpus, -p left for
 * the networking issue but parsed into PortBindings/ExposedPorts, -e NAME
 * without a value taken from the caller's environment, --env-file,
 * --label-file...). Errors are docker's wording; the CLI prints them with
 * "See 'berth run --help'." and exits 125.
 *
 *   ctr_opts_parse()    argv from the command name on; the image and the
 *                       command after it end the options (as docker)
 *   create_request_free()
 */
#ifndef BERTH_CLI_CTR_OPTS_H
#define BERTH_CLI_CTR_OPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct create_request {
	char *name;          /* --name, or NULL */
	char *image;         /* as typed; also in config.Image */
	json_t *config;      /* Config: Image, Cmd, Entrypoint, Env, WorkingDir, User, Hostname,
			      * Domainname, Labels, Tty, OpenStdin, StdinOnce, AttachStdin/out/err,
			      * StopSignal, StopTimeout, Healthcheck, Volumes, ExposedPorts... */
	json_t *host_config; /* HostConfig: Binds, Mounts, Tmpfs, AutoRemove, RestartPolicy,
			      * NetworkMode, PidMode, IpcMode, UTSMode, CgroupnsMode, Privileged,
			      * CapAdd, CapDrop, SecurityOpt, ReadonlyRootfs, Memory, MemorySwap,
			      * NanoCpus, CpuShares, CpusetCpus, PidsLimit, Ulimits, ShmSize,
			      * Devices, Sysctls, LogConfig, Init, ExtraHosts, Dns, DnsSearch,
			      * DnsOptions, VolumesFrom, PortBindings, PublishAllPorts... */
	json_t *networking;  /* NetworkingConfig: EndpointsConfig (aliases, --ip) */
	char *platform;      /* --platform, or NULL */
	char *pull;          /* --pull: "missing" (default), "always", "never" */
	char *detach_keys;   /* --detach-keys, or NULL */
	char *cidfile;       /* --cidfile, or NULL */
	bool detach;         /* -d */
	bool quiet;          /* -q: no pull progress */
	bool sig_proxy;      /* --sig-proxy (run only; default true): forward signals */
};

/* argv[0] is "run" or "create". Returns 0, or -EINVAL with err naming the flag. */
int ctr_opts_parse(int argc, char **argv, struct create_request *out, berth_err *err);
void create_request_free(struct create_request *r);

#endif
