/* spec.h - config.json: read, validate, default.
 *
 * The configuration stays a jansson tree after validation; the modules read
 * their subtrees from it (cgroup_apply() takes linux.resources, seccomp
 * takes linux.seccomp...). Validation is complete before anything is
 * created on the host, and the first problem is reported as one message
 * naming the field: "config.json: process.args: must be a non-empty array
 * of strings".
 *
 *   spec_parse()     parse a buffer and validate it (the fuzz target)
 *   spec_load()      read BUNDLE/config.json, parse, validate
 *   spec_validate()  validate an already parsed tree
 *   spec_default()   the config `berth-runtime spec` writes (runc's defaults)
 *   spec_get_*()     typed lookups by dotted path ("linux.resources.memory"), NULL if absent
 */
#ifndef BERTH_OCI_SPEC_H
#define BERTH_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define OCI_VERSION "1.2.0"

int spec_parse(const char *buf, size_t len, json_t **out, berth_err *err);
int spec_load(const char *bundle, json_t **out, berth_err *err);
int spec_validate(json_t *spec, berth_err *err);
json_t *spec_default(bool rootless);

json_t *spec_get(json_t *spec, const char *dotted);
const char *spec_get_string(json_t *spec, const char *dotted);
bool spec_get_bool(json_t *spec, const char *dotted);

#endif
