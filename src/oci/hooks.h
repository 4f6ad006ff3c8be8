/* hooks.h - OCI lifecycle hooks.
 *
 * Each hook runs with path, args and env from config.json, the container
 * state JSON on its stdin, and its optional timeout (seconds; the hook is
 * SIGKILLed when it passes). A hook that exits non-zero or times out is an
 * error naming the hook kind, index and path, with the first line of its
 * stderr.
 *
 *   hook_kind_name()  HOOK_PRESTART -> "prestart" (the config.json key)
 *   hooks_run()       run every hook of one kind in order; stop at the first failure
 *   hooks_validate()  check the "hooks" object (absolute paths, types) naming the field
 */
#ifndef BERTH_OCI_HOOKS_H
#define BERTH_OCI_HOOKS_H

#include <jansson.h>

#include "common/error.h"

enum hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
};

const char *hook_kind_name(enum hook_kind kind);
/* hooks: the config.json "hooks" object, may be NULL (nothing to run). */
int hooks_run(json_t *hooks, enum hook_kind kind, const char *state_json, berth_err *err);
int hooks_validate(json_t *hooks, berth_err *err);

#endif
