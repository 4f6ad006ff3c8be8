/* rt_spec.c - `spec` (write a default config.json) and `features` (what this
 * runtime supports, in the runtime spec's features.md shape). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/runtime.h"
#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "oci/caps.h"
#include "oci/cgroup.h"
#include "oci/spec.h"

int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "rootless", no_argument, NULL, 'R' },
					      { NULL, 0, NULL, 0 } };
	const char *bundle = ".";
	bool rootless = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'R')
			rootless = true;
		else
			return rt_usage_error(argv[0], "unknown option \"%s\"", argv[optind - 1]);
	}
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	_cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_errno(&err, "--bundle %s", bundle), rt_fail(&err);
	if (faccessat(dfd, "config.json", F_OK, 0) == 0) {
		berth_error_code(&err, EEXIST, "%s/config.json exists: remove it first", bundle);
		return rt_fail(&err);
	}
	_cleanup_json_ json_t *spec = spec_default(rootless);
	_cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(8));
	size_t len = strlen(text);
	_cleanup_free_ char *withnl = malloc(len + 2);
	memcpy(withnl, text, len);
	withnl[len] = '\n';
	if (file_write_atomic(dfd, "config.json", withnl, len + 1, 0644, &err) < 0)
		return rt_fail(&err);
	return 0;
}

int cmd_features(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static const char *const mount_opts[] = {
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
		"mand", "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime",
		"nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev",
		"rdiratime", "relatime", "remount", "rexec", "ridmap", "rnoatime", "rnodev",
		"rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow",
		"ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime",
		"rsuid", "rsymfollow", "runbindable", "rw", "shared", "slave", "strictatime", "suid",
		"symfollow", "sync", "tmpcopyup", "unbindable",
	};
	json_t *mo = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
		json_array_append_new(mo, json_string(mount_opts[i]));
	json_t *capsj = json_array();
	for (const char *const *n = caps_all_names(); n && *n; n++)
		json_array_append_new(capsj, json_string(*n));
	enum cgroup_mode mode = cgroup_detect_mode();
	json_t *f = json_pack(
		"{s:s,s:s,s:[s,s,s,s,s,s,s],s:o,s:{s:[s,s,s,s,s,s,s,s],s:o,s:{s:b,s:b,s:b,s:b,s:b},"
		"s:{s:b,s:[s,s,s,s,s,s,s,s,s],s:[s,s,s,s,s,s,s],s:[s,s,s,s,s,s],"
		"s:[s,s,s,s],s:[s,s,s,s]},s:{s:b},s:{s:b},s:{s:b},s:{s:{s:b}}},s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION,
		"hooks", "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", "poststop",
		"mountOptions", mo,
		"linux",
		"namespaces", "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
		"capabilities", capsj,
		"cgroup", "v1", mode != CGROUP_MODE_UNIFIED, "v2", mode != CGROUP_MODE_LEGACY, "systemd", true,
		"systemdUser", false, "rdma", false,
		"seccomp", "enabled", true,
		"actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
		"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
		"operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
		"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
		"archs", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
		"SCMP_ARCH_ARM", "SCMP_ARCH_S390X",
		"knownFlags", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
		"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
		"supportedFlags", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
		"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
		"apparmor", "enabled", access("/sys/kernel/security/apparmor", F_OK) == 0,
		"selinux", "enabled", access("/sys/fs/selinux/enforce", F_OK) == 0,
		"intelRdt", "enabled", access("/sys/fs/resctrl/schemata", F_OK) == 0,
		"mountExtensions", "idmap", "enabled", true,
		"annotations", "org.opencontainers.runc.no-pivot-root", "accepted as --no-pivot");
	if (!f) {
		_cleanup_err_ berth_err err = BERTH_ERR_INIT;
		berth_error_code(&err, EINVAL, "internal error building the features document");
		return rt_fail(&err);
	}
	json_dumpf(f, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(f);
	return 0;
}
