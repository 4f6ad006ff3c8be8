/* spec_gen_internal.h - what spec_gen.c and spec_gen_linux.c share.
 *
 * spec_gen.c builds the process (command, env, user, capabilities, security
 * options) and the namespaces; spec_gen_linux.c the mounts, resources,
 * devices, rlimits and sysctls.
 */
#ifndef BERTH_ENGINE_SPEC_GEN_INTERNAL_H
#define BERTH_ENGINE_SPEC_GEN_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "engine/spec_gen.h"

struct gen {
	json_t *config, *host, *image;
	const struct spec_gen_ctx *ctx;
	json_t *spec, *process, *linux_;
	bool privileged;
	bool net_host, ipc_host, ipc_none, uts_host;
	bool writable_cgroups; /* --security-opt writable-cgroups=true */
};

/* obj.key as a non-empty string, else NULL. */
const char *gen_str(json_t *obj, const char *key);
/* obj.key as an integer, 0 when absent or null. */
json_int_t gen_int(json_t *obj, const char *key);

int gen_mounts(struct gen *g, berth_err *err);
int gen_resources(struct gen *g, berth_err *err);
int gen_rlimits(struct gen *g, berth_err *err);
int gen_sysctls(struct gen *g, berth_err *err);

#endif
