/* caps.h - Linux capabilities by name and their five sets.
 *
 *   cap_number()        "CAP_SYS_ADMIN" -> 21, -EINVAL when unknown (case-insensitive, CAP_ needed;
 *                       not cap_from_name(): libcap exports that symbol)
 *   cap_name()          21 -> "CAP_SYS_ADMIN"
 *   cap_last_cap()      highest cap the running kernel knows (/proc/sys/kernel/cap_last_cap)
 *   caps_from_json()    process.capabilities object -> sets; unknown name is an error naming
 *                       the field ("process.capabilities.bounding[3]: unknown capability CAP_FOO")
 *   caps_drop_bounding() drop everything not in bounding (needs CAP_SETPCAP; before setuid)
 *   caps_apply()        set effective/permitted/inheritable, then raise ambient (after setuid)
 *   caps_to_json()      sets -> the spec's JSON object (for features / exec)
 *   caps_filter_available() drop from all sets what the runtime's bounding set lacks (privileged)
 *   caps_mask_names()   mask -> "CAP_A, CAP_B" (malloc'd), for messages
 */
#ifndef BERTH_OCI_CAPS_H
#define BERTH_OCI_CAPS_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"

struct caps_sets {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

int cap_number(const char *name);
const char *cap_name(int cap);
int cap_last_cap(void);
int caps_from_json(json_t *caps, const char *field, struct caps_sets *out, berth_err *err);
int caps_drop_bounding(const struct caps_sets *s, berth_err *err);
int caps_apply(const struct caps_sets *s, berth_err *err);
json_t *caps_to_json(const struct caps_sets *s);
/* Every capability name the library knows (for `features`), NULL-terminated, static. */
const char *const *caps_all_names(void);
/* Remove from every set the capabilities not in the calling process's bounding set;
 * *missing (may be NULL) gets what was removed, for "could not grant ..." warnings. */
int caps_filter_available(struct caps_sets *s, uint64_t *missing);
/* "CAP_CHOWN, CAP_KILL" for a mask; malloc'd, never NULL ("" for an empty mask). */
char *caps_mask_names(uint64_t mask);

#endif
