/* ctr_opts_values.h - the values of `berth run` / `berth create` flags that
 * have a syntax of their own (sizes, Go durations, ports, mounts, ulimits,
 * devices, restart policies, key=value files), parsed the way docker's CLI
 * does. Private to ctr_opts.c; each returns 0 or -EINVAL with err holding
 * docker's message for the value (the caller adds the flag when docker does).
 *
 *   ctr_parse_size()      "512m", "1.5g", "100" -> bytes (go-units RAMInBytes)
 *   ctr_parse_duration()  Go's time.ParseDuration: "1m30s", "500ms" -> ns
 *   ctr_parse_int()       Go's strconv.ParseInt(s, 0, bits) with its messages
 *   ctr_parse_nano_cpus() "1.5" -> 1500000000
 *   ctr_parse_bool()      strconv.ParseBool
 *   ctr_parse_ulimit()    "nofile=1024:2048" -> {Name, Soft, Hard}
 *   ctr_parse_device()    "/dev/x[:/dev/y][:rwm]" -> {PathOnHost, PathInContainer, ...}
 *   ctr_parse_mount()     --mount's CSV -> a HostConfig.Mounts object
 *   ctr_parse_publish()   -p's syntax into PortBindings and ExposedPorts
 *   ctr_parse_expose()    --expose's syntax into ExposedPorts
 *   ctr_parse_restart()   --restart -> RestartPolicy
 *   ctr_read_kv_file()    --env-file / --label-file lines appended to an array
 *   ctr_parse_extra_host()  --add-host "host:ip" / "host=ip" -> "host:ip"
 *   ctr_parse_network()   --network NAME or "name=N,alias=A,ip=..." -> name + EndpointSettings
 *   ctr_read_seccomp_profile()  seccomp=FILE: the file's JSON, compacted
 *   ctr_check_device_cgroup_rule(), ctr_check_sysctl()  docker's checks
 *   ctr_parse_throttle()  --device-read-bps "/dev/sda:1mb", --blkio-weight-device "/dev/sda:200"...
 *   ctr_bind_spec()       -v SRC:DST[:OPTS] as docker sends it ("./x" made absolute)
 *   ctr_check_ns_mode()   --pid/--ipc/--uts/--cgroupns/--userns values
 *   ctr_capability()      "net_admin" -> "CAP_NET_ADMIN", "all" -> "ALL"
 *   ctr_is_ip(), ctr_mac_valid()
 */
#ifndef BERTH_CLI_CTR_OPTS_VALUES_H
#define BERTH_CLI_CTR_OPTS_VALUES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

int ctr_parse_size(const char *s, int64_t *out, berth_err *err);
int ctr_parse_duration(const char *s, int64_t *ns, berth_err *err);
int ctr_parse_int(const char *s, int bits, bool is_unsigned, int64_t *out, berth_err *err);
int ctr_parse_nano_cpus(const char *s, int64_t *out, berth_err *err);
int ctr_parse_bool(const char *s, bool *out, berth_err *err);
int ctr_parse_ulimit(const char *s, json_t **out, berth_err *err);
int ctr_parse_device(const char *s, json_t **out, berth_err *err);
int ctr_parse_mount(const char *s, json_t **out, berth_err *err);
int ctr_parse_publish(const char *s, json_t *bindings, json_t *exposed, berth_err *err);
int ctr_parse_expose(const char *s, json_t *exposed, berth_err *err);
int ctr_parse_restart(const char *s, json_t **out, berth_err *err);
/* Append the file's entries to arr. With from_env, a NAME without "=" takes
 * its value from the environment and is dropped when unset (--env-file);
 * without, it is kept as is (--label-file). */
int ctr_read_kv_file(const char *path, bool from_env, json_t *arr, berth_err *err);
int ctr_parse_extra_host(const char *s, char **entry, berth_err *err);
int ctr_parse_network(const char *s, char **name, json_t **endpoint, berth_err *err);
int ctr_read_seccomp_profile(const char *path, char **compact, berth_err *err);
int ctr_check_device_cgroup_rule(const char *s, berth_err *err);
int ctr_check_sysctl(const char *s, berth_err *err);
enum ctr_throttle { CTR_THROTTLE_RATE, CTR_THROTTLE_IOPS, CTR_THROTTLE_WEIGHT };
/* "PATH:VALUE" -> {Path, Rate} (a size for RATE, a count for IOPS) or {Path, Weight} */
int ctr_parse_throttle(const char *s, enum ctr_throttle kind, json_t **out, berth_err *err);
int ctr_bind_spec(const char *s, char **bind, berth_err *err);
/* flag: "pid", "ipc", "uts", "cgroupns" or "userns" */
int ctr_check_ns_mode(const char *flag, const char *val, berth_err *err);
char *ctr_capability(const char *s);
/* family: AF_INET, AF_INET6, or 0 for either */
bool ctr_is_ip(const char *s, int family);
bool ctr_mac_valid(const char *s);

#endif
