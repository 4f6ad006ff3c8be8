/* test_spec_gen.c - Docker create requests turned into runtime specs, checked as a user of
 * `docker run` would: the command, environment, user, capabilities, mounts, limits and
 * namespaces the container gets. Every generated spec also passes spec_validate(). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <linux/sched.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "engine/seccomp_default.h"
#include "engine/spec_gen.h"
#include "oci/seccomp.h"
#include "oci/spec.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char rootfs[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", rootfs, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int group_setup(void **state)
{
	strcpy(rootfs, "/tmp/berth-test-specgen-XXXXXX");
	if (!mkdtemp(rootfs))
		return -1;
	char etc[128];
	snprintf(etc, sizeof(etc), "%s/etc", rootfs);
	mkdir(etc, 0755);
	write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
				 "app:x:1000:1000:App:/home/app:/bin/sh\n");
	write_file("etc/group", "root:x:0:\napp:x:1000:\naudio:x:29:app\nstaff:x:50:\n");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rootfs);
	return system(cmd) == 0 ? 0 : -1;
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s ? s : "{}", 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

static struct spec_gen_ctx base_ctx(void)
{
	return (struct spec_gen_ctx){ .id = ID, .rootfs = rootfs, .cgroups_path = "/berth/" ID };
}

/* Generate with ctx; the spec must pass the runtime's validation (spec_generate checks
 * it too, this makes the test say so). */
static json_t *gen_ctx(const char *config, const char *host, const char *image,
		       const struct spec_gen_ctx *ctx)
{
	_cleanup_json_ json_t *c = parse(config), *h = parse(host), *i = parse(image);
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	json_t *spec = NULL;
	int r = spec_generate(c, h, i, ctx, &spec, &err);
	if (r < 0)
		fail_msg("spec_generate: %s", err.msg);
	assert_int_equal(spec_validate(spec, &err), 0);
	return spec;
}

static json_t *gen(const char *config, const char *host, const char *image)
{
	struct spec_gen_ctx ctx = base_ctx();
	return gen_ctx(config, host, image, &ctx);
}

static void gen_fails(const char *config, const char *host, const char *image, const char *msg)
{
	_cleanup_json_ json_t *c = parse(config), *h = parse(host), *i = parse(image);
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct spec_gen_ctx ctx = base_ctx();
	json_t *spec = NULL;
	assert_true(spec_generate(c, h, i, &ctx, &spec, &err) < 0);
	assert_null(spec);
	assert_non_null(err.msg);
	if (!strstr(err.msg, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, msg);
}

/* The JSON of spec at dotted path, compact, for comparing with an expected literal. */
static char *dump(json_t *spec, const char *path)
{
	json_t *v = spec_get(spec, path);
	return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(none)");
}

static void expect(json_t *spec, const char *path, const char *json)
{
	_cleanup_free_ char *got = dump(spec, path);
	if (strcmp(got, json) != 0)
		fail_msg("%s: got %s, want %s", path, got, json);
}

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static json_t *find_mount(json_t *spec, const char *dest)
{
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(spec, "mounts"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
			return m;
	return NULL;
}

static bool has_ns(json_t *spec, const char *type)
{
	size_t i;
	json_t *n;
	json_array_foreach (spec_get(spec, "linux.namespaces"), i, n)
		if (strcmp(json_string_value(json_object_get(n, "type")), type) == 0)
			return true;
	return false;
}

#define IMAGE                                                                                      \
	"{\"Entrypoint\":[\"/entry.sh\"],\"Cmd\":[\"serve\",\"--port\",\"80\"],"                   \
	"\"Env\":[\"PATH=/opt/bin:/usr/bin\",\"LANG=C.UTF-8\",\"MODE=prod\"],"                     \
	"\"WorkingDir\":\"/srv\",\"User\":\"app\"}"

static void test_entrypoint_cmd(void **state)
{
	json_t *s = gen(NULL, NULL, IMAGE);
	expect(s, "process.args", "[\"/entry.sh\",\"serve\",\"--port\",\"80\"]");
	json_decref(s);
	/* docker run IMAGE sh: the image's entrypoint with the new command */
	s = gen("{\"Cmd\":[\"sh\"]}", NULL, IMAGE);
	expect(s, "process.args", "[\"/entry.sh\",\"sh\"]");
	json_decref(s);
	/* --entrypoint /bin/x: the image's Cmd goes too */
	s = gen("{\"Entrypoint\":[\"/bin/x\"]}", NULL, IMAGE);
	expect(s, "process.args", "[\"/bin/x\"]");
	json_decref(s);
	s = gen("{\"Entrypoint\":[\"/bin/x\"],\"Cmd\":[\"a\"]}", NULL, IMAGE);
	expect(s, "process.args", "[\"/bin/x\",\"a\"]");
	json_decref(s);
	/* --entrypoint "" IMAGE ls: no entrypoint at all */
	s = gen("{\"Entrypoint\":[\"\"],\"Cmd\":[\"ls\",\"-l\"]}", NULL, IMAGE);
	expect(s, "process.args", "[\"ls\",\"-l\"]");
	json_decref(s);
	/* an empty array clears the entrypoint, the image's Cmd stays */
	s = gen("{\"Entrypoint\":[]}", NULL, IMAGE);
	expect(s, "process.args", "[\"serve\",\"--port\",\"80\"]");
	json_decref(s);
	/* --entrypoint "" alone leaves nothing to run */
	gen_fails("{\"Entrypoint\":[\"\"]}", NULL, IMAGE, "No command specified");
	gen_fails(NULL, NULL, "{}", "No command specified");
	gen_fails("{\"Cmd\":[\"a\",1]}", NULL, "{}", "Entrypoint/Cmd: must be strings");
	gen_fails("{\"Entrypoint\":[2]}", NULL, "{}", "Entrypoint/Cmd: must be strings");
	/* the API's older string form */
	s = gen("{\"Entrypoint\":\"/bin/sh\",\"Cmd\":\"-c\"}", NULL, IMAGE);
	expect(s, "process.args", "[\"/bin/sh\",\"-c\"]");
	json_decref(s);
}

static void test_env_cwd(void **state)
{
	json_t *s = gen("{\"Env\":[\"MODE=dev\",\"EMPTY=\",\"LANG\",\"NEW=1\"],\"Tty\":true}", NULL,
			IMAGE);
	/* PATH replaced in place by the image's; the request overrides MODE, keeps EMPTY
	 * empty and unsets LANG; HOSTNAME is the short id; TERM with a tty. */
	expect(s, "process.env",
	       "[\"PATH=/opt/bin:/usr/bin\",\"HOSTNAME=0123456789ab\",\"TERM=xterm\","
	       "\"MODE=dev\",\"EMPTY=\",\"NEW=1\"]");
	expect(s, "process.terminal", "true");
	expect(s, "process.consoleSize", "(none)");
	expect(s, "process.cwd", "\"/srv\"");
	expect(s, "hostname", "\"0123456789ab\"");
	json_decref(s);
	s = gen("{\"Cmd\":[\"true\"],\"Hostname\":\"web1\",\"Domainname\":\"example.org\","
		"\"WorkingDir\":\"/tmp\"}",
		NULL, "{}");
	expect(s, "process.env",
	       "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	       "\"HOSTNAME=web1\"]");
	expect(s, "process.cwd", "\"/tmp\"");
	expect(s, "hostname", "\"web1\"");
	expect(s, "domainname", "\"example.org\"");
	expect(s, "process.terminal", "false");
	json_decref(s);
	s = gen("{\"Cmd\":[\"true\"],\"Tty\":true}", "{\"ConsoleSize\":[40,120]}", "{}");
	expect(s, "process.cwd", "\"/\"");
	expect(s, "process.consoleSize", "{\"height\":40,\"width\":120}");
	json_decref(s);
	gen_fails("{\"Cmd\":[\"true\"],\"WorkingDir\":\"rel\"}", NULL, "{}",
		  "the working directory 'rel' is invalid, it needs to be an absolute path");
}

static void test_user(void **state)
{
	json_t *s = gen(NULL, NULL, IMAGE);
	expect(s, "process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[29]}");
	json_decref(s);
	s = gen("{\"User\":\"app:staff\"}", "{\"GroupAdd\":[\"audio\",\"4000\"]}", IMAGE);
	expect(s, "process.user", "{\"uid\":1000,\"gid\":50,\"additionalGids\":[29,4000]}");
	json_decref(s);
	s = gen("{\"User\":\"123:456\"}", NULL, IMAGE);
	expect(s, "process.user", "{\"uid\":123,\"gid\":456}");
	json_decref(s);
	s = gen("{\"User\":\"root\"}", NULL, IMAGE);
	expect(s, "process.user", "{\"uid\":0,\"gid\":0}");
	json_decref(s);
	gen_fails("{\"User\":\"ghost\"}", NULL, IMAGE,
		  "unable to find user ghost: no matching entries in passwd file");
}

static void test_capabilities(void **state)
{
	json_t *s = gen(NULL, NULL, IMAGE);
	const char *def =
		"[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\","
		"\"CAP_KILL\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\","
		"\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\",\"CAP_SYS_CHROOT\",\"CAP_MKNOD\","
		"\"CAP_AUDIT_WRITE\",\"CAP_SETFCAP\"]";
	expect(s, "process.capabilities.bounding", def);
	expect(s, "process.capabilities.effective", def);
	expect(s, "process.capabilities.permitted", def);
	expect(s, "process.capabilities.inheritable", "(none)");
	expect(s, "process.capabilities.ambient", "(none)");
	expect(s, "process.noNewPrivileges", "false");
	json_decref(s);

	s = gen(NULL, "{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"net_admin\",\"CAP_chown\"]}", IMAGE);
	expect(s, "process.capabilities.bounding", "[\"CAP_CHOWN\",\"CAP_NET_ADMIN\"]");
	json_decref(s);
	s = gen(NULL, "{\"CapDrop\":[\"chown\",\"CAP_KILL\",\"Mknod\"],\"CapAdd\":[\"SYS_ADMIN\"]}",
		IMAGE);
	json_t *b = spec_get(s, "process.capabilities.bounding");
	assert_false(has_string(b, "CAP_CHOWN"));
	assert_false(has_string(b, "CAP_KILL"));
	assert_false(has_string(b, "CAP_MKNOD"));
	assert_true(has_string(b, "CAP_SYS_ADMIN"));
	assert_true(has_string(b, "CAP_SETUID"));
	json_decref(s);
	s = gen(NULL, "{\"CapAdd\":[\"ALL\"],\"CapDrop\":[\"SYS_ADMIN\"]}", IMAGE);
	b = spec_get(s, "process.capabilities.bounding");
	assert_false(has_string(b, "CAP_SYS_ADMIN"));
	assert_true(has_string(b, "CAP_SYS_MODULE"));
	assert_true(has_string(b, "CAP_NET_ADMIN"));
	json_decref(s);
	gen_fails(NULL, "{\"CapAdd\":[\"FLY\"]}", IMAGE, "unknown capability: \"CAP_FLY\"");
}

static void test_privileged(void **state)
{
	json_t *s = gen(NULL, "{\"Privileged\":true,\"CapDrop\":[\"ALL\"]}", IMAGE);
	json_t *b = spec_get(s, "process.capabilities.bounding");
	assert_true(has_string(b, "CAP_SYS_ADMIN"));
	assert_true(has_string(b, "CAP_SYS_MODULE"));
	expect(s, "linux.seccomp", "(none)");
	expect(s, "linux.maskedPaths", "(none)");
	expect(s, "linux.readonlyPaths", "(none)");
	expect(s, "linux.resources.devices", "[{\"allow\":true,\"access\":\"rwm\"}]");
	assert_true(has_string(json_object_get(find_mount(s, "/sys"), "options"), "rw"));
	assert_false(has_string(json_object_get(find_mount(s, "/sys"), "options"), "ro"));
	assert_false(has_string(json_object_get(find_mount(s, "/sys/fs/cgroup"), "options"), "ro"));
	/* the host's devices, but not its ptys or console */
	bool null_dev = false, pts = false;
	size_t i;
	json_t *d;
	json_array_foreach (spec_get(s, "linux.devices"), i, d) {
		const char *p = json_string_value(json_object_get(d, "path"));
		null_dev |= strcmp(p, "/dev/null") == 0;
		pts |= strncmp(p, "/dev/pts/", 9) == 0 || strcmp(p, "/dev/console") == 0;
	}
	assert_true(null_dev);
	assert_false(pts);
	json_decref(s);

	/* unprivileged: seccomp, masked paths, /sys read-only, only the standard devices */
	s = gen(NULL, NULL, IMAGE);
	assert_non_null(spec_get(s, "linux.seccomp"));
	assert_true(has_string(spec_get(s, "linux.maskedPaths"), "/proc/kcore"));
	assert_true(has_string(spec_get(s, "linux.readonlyPaths"), "/proc/sys"));
	assert_true(has_string(json_object_get(find_mount(s, "/sys"), "options"), "ro"));
	json_t *rules = spec_get(s, "linux.resources.devices");
	_cleanup_free_ char *first = json_dumps(json_array_get(rules, 0), JSON_COMPACT);
	assert_string_equal(first, "{\"allow\":false,\"access\":\"rwm\"}");
	bool pty_rule = false;
	json_array_foreach (rules, i, d)
		pty_rule |= json_integer_value(json_object_get(d, "major")) == 136 &&
			    !json_object_get(d, "minor") &&
			    json_is_true(json_object_get(d, "allow"));
	assert_true(pty_rule);
	expect(s, "linux.cgroupsPath", "\"/berth/" ID "\"");
	json_decref(s);
}

static void test_security_opts(void **state)
{
	json_t *s = gen(NULL,
			"{\"SecurityOpt\":[\"seccomp=unconfined\",\"no-new-privileges\","
			"\"label=disable\",\"apparmor=unconfined\"]}",
			IMAGE);
	expect(s, "linux.seccomp", "(none)");
	expect(s, "process.noNewPrivileges", "true");
	expect(s, "process.apparmorProfile", "(none)");
	json_decref(s);
	s = gen(NULL, "{\"SecurityOpt\":[\"no-new-privileges:false\",\"apparmor=my-profile\"]}",
		IMAGE);
	expect(s, "process.noNewPrivileges", "false");
	expect(s, "process.apparmorProfile", "\"my-profile\"");
	json_decref(s);
	gen_fails(NULL, "{\"SecurityOpt\":[\"bogus=1\"]}", IMAGE,
		  "invalid --security-opt 2: \"bogus=1\"");
	gen_fails(NULL, "{\"SecurityOpt\":[\"bogus\"]}", IMAGE,
		  "invalid --security-opt 1: \"bogus\"");

	/* A Docker-format profile: archMap for this host, entries selected by caps. */
	const char *profile =
		"{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\","
		"\\\"archMap\\\":[{\\\"architecture\\\":\\\"SCMP_ARCH_X86_64\\\","
		"\\\"subArchitectures\\\":[\\\"SCMP_ARCH_X86\\\"]},{\\\"architecture\\\":"
		"\\\"SCMP_ARCH_AARCH64\\\",\\\"subArchitectures\\\":[\\\"SCMP_ARCH_ARM\\\"]}],"
		"\\\"syscalls\\\":[{\\\"names\\\":[\\\"read\\\",\\\"write\\\"],\\\"action\\\":"
		"\\\"SCMP_ACT_ALLOW\\\"},{\\\"names\\\":[\\\"mount\\\"],\\\"action\\\":"
		"\\\"SCMP_ACT_ALLOW\\\",\\\"includes\\\":{\\\"caps\\\":[\\\"CAP_SYS_ADMIN\\\"]}},"
		"{\\\"name\\\":\\\"chown\\\",\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\","
		"\\\"excludes\\\":"
		"{\\\"caps\\\":[\\\"CAP_SYS_ADMIN\\\"]}}]}\"]%s}";
	char host[2048];
	snprintf(host, sizeof(host), profile, "");
	s = gen(NULL, host, IMAGE);
	json_t *sc = spec_get(s, "linux.seccomp");
	expect(s, "linux.seccomp.defaultAction", "\"SCMP_ACT_ERRNO\"");
#if defined(__x86_64__)
	expect(s, "linux.seccomp.architectures", "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"]");
#endif
	assert_int_equal(json_array_size(json_object_get(sc, "syscalls")), 2);
	_cleanup_free_ char *sys = json_dumps(json_object_get(sc, "syscalls"), JSON_COMPACT);
	assert_non_null(strstr(sys, "\"chown\""));
	assert_null(strstr(sys, "\"mount\""));
	json_decref(s);
	snprintf(host, sizeof(host), profile, ",\"CapAdd\":[\"SYS_ADMIN\"]");
	s = gen(NULL, host, IMAGE);
	free(sys);
	sys = json_dumps(spec_get(s, "linux.seccomp.syscalls"), JSON_COMPACT);
	assert_null(strstr(sys, "\"chown\""));
	assert_non_null(strstr(sys, "\"mount\""));
	json_decref(s);
}

/* seccomp=PATH: a profile file on the engine's host, in Docker's format. */
static void test_seccomp_profile_file(void **state)
{
	write_file("profile.json",
		   "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\","
		   "\"errnoRet\":13},{\"name\":\"rmdir\",\"action\":\"SCMP_ACT_ERRNO\","
		   "\"includes\":{\"minKernel\":\"99.0\"}}]}");
	char host[256];
	snprintf(host, sizeof(host), "{\"SecurityOpt\":[\"seccomp=%s/profile.json\"]}", rootfs);
	json_t *s = gen(NULL, host, IMAGE);
	/* the rule for a kernel from the future is left out */
	expect(s, "linux.seccomp",
	       "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[],"
	       "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}"
	       "]}");
	json_decref(s);
	write_file("profile.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
				   "[\"SCMP_ARCH_X86_64\"],\"archMap\":[{\"architecture\":"
				   "\"SCMP_ARCH_X86_64\"}]}");
	gen_fails(NULL, host, IMAGE, "use either 'architectures' or 'archMap'");
	write_file("profile.json", "{\"defaultAction\":");
	gen_fails(NULL, host, IMAGE, "Decoding seccomp profile");
	gen_fails(NULL, "{\"SecurityOpt\":[\"seccomp=/nonexistent/profile.json\"]}", IMAGE,
		  "opening seccomp profile (/nonexistent/profile.json) failed");
	/* a profile the runtime cannot load is refused here, not at start */
	write_file("profile.json", "{\"defaultAction\":\"SCMP_ACT_FLY\"}");
	gen_fails(NULL, host, IMAGE, "linux.seccomp.defaultAction: unknown action SCMP_ACT_FLY");
}

static void test_mounts(void **state)
{
	struct spec_gen_ctx ctx = base_ctx();
	ctx.hosts_path = "/run/berth/c/hosts";
	ctx.resolv_path = "/run/berth/c/resolv.conf";
	ctx.hostname_path = "/run/berth/c/hostname";
	ctx.mounts =
		parse("[{\"Type\":\"bind\",\"Source\":\"/srv/data\",\"Destination\":\"/data/sub\","
		      "\"RW\":false,\"Propagation\":\"rslave\"},"
		      "{\"Type\":\"volume\",\"Source\":\"/var/lib/berth/volumes/v/_data\","
		      "\"Destination\":\"/data\",\"RW\":true},"
		      "{\"Type\":\"tmpfs\",\"Destination\":\"/run\",\"RW\":true,"
		      "\"TmpfsOptions\":{\"SizeBytes\":1048576,\"Mode\":1023}},"
		      "{\"Type\":\"tmpfs\",\"Destination\":\"/scratch\",\"RW\":true,"
		      "\"Options\":\"size=64m,exec\"}]");
	json_t *s = gen_ctx(NULL, "{\"ShmSize\":1048576,\"ReadonlyRootfs\":true}", IMAGE, &ctx);
	json_decref(ctx.mounts);
	expect(s, "root.readonly", "true");
	_cleanup_free_ char *shm = json_dumps(find_mount(s, "/dev/shm"), JSON_COMPACT);
	assert_string_equal(
		shm,
		"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=1048576\"]}");
	_cleanup_free_ char *bind = json_dumps(find_mount(s, "/data/sub"), JSON_COMPACT);
	assert_string_equal(
		bind, "{\"destination\":\"/data/sub\",\"type\":\"bind\",\"source\":\"/srv/data\","
		      "\"options\":[\"rbind\",\"ro\",\"rslave\"]}");
	_cleanup_free_ char *vol =
		json_dumps(json_object_get(find_mount(s, "/data"), "options"), JSON_COMPACT);
	assert_string_equal(vol, "[\"rbind\",\"rprivate\"]");
	_cleanup_free_ char *run =
		json_dumps(json_object_get(find_mount(s, "/run"), "options"), JSON_COMPACT);
	assert_string_equal(
		run,
		"[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"size=1048576\",\"mode=1777\"]");
	_cleanup_free_ char *scr =
		json_dumps(json_object_get(find_mount(s, "/scratch"), "options"), JSON_COMPACT);
	assert_string_equal(scr, "[\"nosuid\",\"nodev\",\"rprivate\",\"size=64m\",\"exec\"]");
	/* with a read-only rootfs the network files are read-only too */
	_cleanup_free_ char *hosts = json_dumps(find_mount(s, "/etc/hosts"), JSON_COMPACT);
	assert_string_equal(hosts,
			    "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":"
			    "\"/run/berth/c/hosts\",\"options\":[\"rbind\",\"rprivate\",\"ro\"]}");
	assert_non_null(find_mount(s, "/etc/resolv.conf"));
	assert_non_null(find_mount(s, "/etc/hostname"));
	/* /data before /data/sub, whatever the order given */
	size_t i, at_data = 0, at_sub = 0;
	json_t *m;
	json_array_foreach (json_object_get(s, "mounts"), i, m) {
		const char *d = json_string_value(json_object_get(m, "destination"));
		if (!strcmp(d, "/data"))
			at_data = i;
		if (!strcmp(d, "/data/sub"))
			at_sub = i;
	}
	assert_true(at_data < at_sub);
	/* the rslave bind needs a slave rootfs to receive the host's mounts */
	expect(s, "linux.rootfsPropagation", "\"rslave\"");
	json_decref(s);

	/* defaults: 64 MiB of /dev/shm; a user tmpfs at /dev/shm replaces it */
	s = gen(NULL, NULL, IMAGE);
	assert_true(
		has_string(json_object_get(find_mount(s, "/dev/shm"), "options"), "size=67108864"));
	expect(s, "root.readonly", "false");
	assert_null(find_mount(s, "/etc/hosts"));
	json_decref(s);
	ctx = base_ctx();
	ctx.mounts = parse("[{\"Type\":\"tmpfs\",\"Destination\":\"/dev/shm\",\"RW\":true}]");
	s = gen_ctx(NULL, NULL, IMAGE, &ctx);
	json_decref(ctx.mounts);
	size_t n = 0;
	json_array_foreach (json_object_get(s, "mounts"), i, m)
		n += !strcmp(json_string_value(json_object_get(m, "destination")), "/dev/shm");
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(find_mount(s, "/dev/shm"), "source")),
			    "tmpfs");
	json_decref(s);
}

static void test_resources(void **state)
{
	json_t *s = gen(
		NULL,
		"{\"Memory\":268435456,\"MemoryReservation\":134217728,\"NanoCpus\":1500000000,"
		"\"CpuShares\":512,\"CpusetCpus\":\"0\",\"PidsLimit\":100,\"BlkioWeight\":300,"
		"\"OomScoreAdj\":500,\"Ulimits\":[{\"Name\":\"nproc\",\"Soft\":64,\"Hard\":128}]}",
		IMAGE);
	expect(s, "linux.resources.memory.limit", "268435456");
	expect(s, "linux.resources.memory.reservation", "134217728");
	if (spec_get(s, "linux.resources.memory.swap")) /* only with swap accounting */
		expect(s, "linux.resources.memory.swap", "536870912");
	expect(s, "linux.resources.cpu",
	       "{\"shares\":512,\"quota\":150000,\"period\":100000,\"cpus\":\"0\"}");
	expect(s, "linux.resources.pids", "{\"limit\":100}");
	expect(s, "linux.resources.blockIO", "{\"weight\":300}");
	expect(s, "process.oomScoreAdj", "500");
	_cleanup_free_ char *rl = dump(s, "process.rlimits");
	assert_non_null(strstr(rl, "{\"type\":\"RLIMIT_NPROC\",\"soft\":64,\"hard\":128}"));
	assert_non_null(strstr(rl, "RLIMIT_NOFILE"));
	json_decref(s);

	s = gen(NULL, "{\"Memory\":268435456,\"MemorySwap\":-1,\"PidsLimit\":-1}", IMAGE);
	if (spec_get(s, "linux.resources.memory.swap"))
		expect(s, "linux.resources.memory.swap", "-1");
	expect(s, "linux.resources.pids", "(none)");
	json_decref(s);
	s = gen(NULL, "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048}]}", IMAGE);
	expect(s, "process.rlimits", "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":2048}]");
	json_decref(s);

	gen_fails(NULL, "{\"MemorySwap\":1000000000}", IMAGE,
		  "You should always set the Memory limit when using Memoryswap limit");
	gen_fails(NULL, "{\"Memory\":1000}", IMAGE, "Minimum memory limit allowed is 6MB");
	gen_fails(NULL, "{\"NanoCpus\":1000000000,\"CpuQuota\":5000}", IMAGE,
		  "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	gen_fails(NULL, "{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":1}]}", IMAGE,
		  "invalid ulimit type: bogus");
	gen_fails(NULL, "{\"OomScoreAdj\":2000}", IMAGE,
		  "range for oom score adj is [-1000, 1000]");
}

static void test_devices(void **state)
{
	json_t *s = gen(
		NULL,
		"{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\","
		"\"CgroupPermissions\":\"rw\"}],\"DeviceCgroupRules\":[\"c 42:* rmw\"]}",
		IMAGE);
	json_t *d = json_array_get(spec_get(s, "linux.devices"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "path")), "/dev/mynull");
	assert_string_equal(json_string_value(json_object_get(d, "type")), "c");
	assert_int_equal(json_integer_value(json_object_get(d, "major")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "minor")), 3);
	_cleanup_free_ char *rules = dump(s, "linux.resources.devices");
	assert_non_null(strstr(
		rules,
		"{\"allow\":true,\"access\":\"rw\",\"type\":\"c\",\"major\":1,\"minor\":3}"));
	assert_non_null(
		strstr(rules, "{\"allow\":true,\"access\":\"rmw\",\"type\":\"c\",\"major\":42}"));
	json_decref(s);
	/* the CLI's string form: host path, container path, permissions */
	s = gen(NULL, "{\"Devices\":[\"/dev/zero:/dev/z0:r\",\"/dev/full:w\"]}", IMAGE);
	_cleanup_free_ char *devs = dump(s, "linux.devices");
	assert_non_null(
		strstr(devs, "\"path\":\"/dev/z0\",\"type\":\"c\",\"major\":1,\"minor\":5"));
	assert_non_null(
		strstr(devs, "\"path\":\"/dev/full\",\"type\":\"c\",\"major\":1,\"minor\":7"));
	free(rules);
	rules = dump(s, "linux.resources.devices");
	assert_non_null(strstr(
		rules, "{\"allow\":true,\"access\":\"r\",\"type\":\"c\",\"major\":1,\"minor\":5}"));
	assert_non_null(strstr(
		rules, "{\"allow\":true,\"access\":\"w\",\"type\":\"c\",\"major\":1,\"minor\":7}"));
	json_decref(s);
	gen_fails(NULL, "{\"Devices\":[{\"PathOnHost\":\"/etc/passwd\"}]}", IMAGE,
		  "not a device node");
	gen_fails(NULL, "{\"Devices\":[\"/dev/null:/dev/n:rwx\"]}", IMAGE,
		  "invalid device mode: rwx");
	gen_fails(NULL, "{\"BlkioDeviceReadBps\":[{\"Path\":\"/dev/null\",\"Rate\":1000}]}", IMAGE,
		  "/dev/null is not a block device");
	gen_fails(NULL, "{\"DeviceCgroupRules\":[\"x 1:2 r\"]}", IMAGE,
		  "invalid device cgroup rule format");
}

static void test_namespaces(void **state)
{
	json_t *s = gen(NULL, NULL, IMAGE);
	assert_true(has_ns(s, "pid"));
	assert_true(has_ns(s, "network"));
	assert_true(has_ns(s, "ipc"));
	assert_true(has_ns(s, "uts"));
	assert_true(has_ns(s, "mount"));
	/* the cgroup namespace: private on cgroup v2, the host's on v1 */
	assert_int_equal(has_ns(s, "cgroup"),
			 access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0);
	json_decref(s);

	char host_name[256] = "";
	gethostname(host_name, sizeof(host_name) - 1);
	s = gen(NULL,
		"{\"NetworkMode\":\"host\",\"PidMode\":\"host\",\"CgroupnsMode\":\"private\","
		"\"Sysctls\":{\"kernel.shmmax\":\"1000000\"}}",
		IMAGE);
	assert_false(has_ns(s, "network"));
	assert_false(has_ns(s, "pid"));
	assert_true(has_ns(s, "uts"));
	assert_true(has_ns(s, "cgroup"));
	assert_string_equal(json_string_value(json_object_get(s, "hostname")), host_name);
	expect(s, "linux.sysctl", "{\"kernel.shmmax\":\"1000000\"}");
	json_decref(s);

	s = gen(NULL, "{\"UTSMode\":\"host\",\"IpcMode\":\"host\"}", IMAGE);
	assert_false(has_ns(s, "uts"));
	assert_false(has_ns(s, "ipc"));
	assert_null(json_object_get(s, "hostname"));
	assert_string_equal(json_string_value(json_object_get(find_mount(s, "/dev/shm"), "source")),
			    "/dev/shm");
	json_decref(s);

	struct spec_gen_ctx ctx = base_ctx();
	ctx.netns_path = "/proc/42/ns/net";
	ctx.ipcns_path = "/proc/42/ns/ipc";
	ctx.shm_path = "/run/berth/other/shm";
	s = gen_ctx(NULL,
		    "{\"NetworkMode\":\"container:other\",\"IpcMode\":\"container:other\","
		    "\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}",
		    IMAGE, &ctx);
	_cleanup_free_ char *nss = dump(s, "linux.namespaces");
	assert_non_null(strstr(nss, "{\"type\":\"network\",\"path\":\"/proc/42/ns/net\"}"));
	assert_non_null(strstr(nss, "{\"type\":\"ipc\",\"path\":\"/proc/42/ns/ipc\"}"));
	assert_string_equal(json_string_value(json_object_get(find_mount(s, "/dev/shm"), "source")),
			    "/run/berth/other/shm");
	json_decref(s);

	gen_fails(NULL, "{\"NetworkMode\":\"host\",\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}",
		  IMAGE, "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
	gen_fails(NULL, "{\"Sysctls\":{\"kernel.panic\":\"1\"}}", IMAGE,
		  "sysctl \"kernel.panic\" is not allowed");
	gen_fails(NULL, "{\"PidMode\":\"container:x\"}", IMAGE, "no namespace path");
}

static void test_init(void **state)
{
	struct spec_gen_ctx ctx = base_ctx();
	ctx.init_path = "/usr/libexec/berth/berth-init";
	json_t *s = gen_ctx(NULL, "{\"Init\":true}", IMAGE, &ctx);
	expect(s, "process.args",
	       "[\"/sbin/docker-init\",\"--\",\"/entry.sh\",\"serve\",\"--port\",\"80\"]");
	_cleanup_free_ char *m = json_dumps(find_mount(s, "/sbin/docker-init"), JSON_COMPACT);
	assert_string_equal(m,
			    "{\"destination\":\"/sbin/docker-init\",\"type\":\"bind\",\"source\":"
			    "\"/usr/libexec/berth/berth-init\",\"options\":[\"bind\",\"ro\"]}");
	json_decref(s);
	s = gen_ctx(NULL, "{\"Init\":false}", IMAGE, &ctx);
	assert_null(find_mount(s, "/sbin/docker-init"));
	json_decref(s);
}

/* --- the default seccomp profile, compiled and loaded in a child ------------------- */

static void child_calls(long *res)
{
	char c;
	errno = 0;
	res[0] = read(-1, &c, 1) < 0 ? errno : 0; /* EBADF: the call got through */
	errno = 0;
	res[1] = mount("none", "/nonexistent-berth-test", "tmpfs", 0, NULL) < 0 ? errno : 0;
	errno = 0;
	res[2] = syscall(SYS_clone3, NULL, 0) < 0 ? errno : 0;
	errno = 0;
	res[3] = syscall(SYS_kexec_load, 0, 0, NULL, 0) < 0 ? errno : 0;
	errno = 0;
	/* a thread-less clone asking for a new UTS namespace, exiting at once in the child */
	long pid = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	res[4] = pid < 0 ? errno : 0;
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	errno = 0;
	res[5] = syscall(SYS_personality, 0xffffffff) < 0 ? errno : 0;
	errno = 0;
	res[6] = syscall(SYS_personality, 0x0100000 /* ADDR_NO_RANDOMIZE-ish flag */) < 0 ? errno
											  : 0;
}

static int run_filtered(json_t *profile, long *res)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	assert_int_equal(seccomp_validate(profile, &err), 0);
	struct seccomp_prog *p = NULL;
	if (seccomp_prepare(profile, NULL, &p, &err) < 0)
		fail_msg("seccomp_prepare: %s", err.msg);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_install(p, NULL, &err) < 0)
			_exit(100);
		long out[8] = { 0 };
		child_calls(out);
		_exit(write(fds[1], out, sizeof(out)) == sizeof(out) ? 0 : 101);
	}
	close(fds[1]);
	long out[8];
	ssize_t got = read(fds[0], out, sizeof(out));
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	seccomp_prog_free(p);
	if (got == sizeof(out))
		memcpy(res, out, sizeof(out));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CAPBIT(c) (UINT64_C(1) << (c))
#define DOCKER_DEFAULT_CAPS                                                                        \
	(CAPBIT(CAP_CHOWN) | CAPBIT(CAP_DAC_OVERRIDE) | CAPBIT(CAP_FSETID) | CAPBIT(CAP_FOWNER) |  \
	 CAPBIT(CAP_MKNOD) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SETGID) | CAPBIT(CAP_SETUID) |       \
	 CAPBIT(CAP_SETFCAP) | CAPBIT(CAP_SETPCAP) | CAPBIT(CAP_NET_BIND_SERVICE) |                \
	 CAPBIT(CAP_SYS_CHROOT) | CAPBIT(CAP_KILL) | CAPBIT(CAP_AUDIT_WRITE))

static void test_default_seccomp(void **state)
{
	long res[8];
	json_t *p = seccomp_default_profile(DOCKER_DEFAULT_CAPS);
	expect(p, "defaultAction", "\"SCMP_ACT_ERRNO\"");
	expect(p, "defaultErrnoRet", "1");
#if defined(__x86_64__)
	expect(p, "architectures", "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
#endif
	assert_int_equal(run_filtered(p, res), 0);
	assert_int_equal(res[0], EBADF);  /* read allowed */
	assert_int_equal(res[1], EPERM);  /* mount denied */
	assert_int_equal(res[2], ENOSYS); /* clone3: back to clone */
	assert_int_equal(res[3], EPERM);  /* kexec_load denied */
	assert_int_equal(res[4], EPERM);  /* clone with CLONE_NEWUTS denied */
	assert_int_equal(res[5], 0);      /* personality query */
	assert_int_equal(res[6], EPERM);  /* other personalities */
	json_decref(p);

	/* with CAP_SYS_ADMIN, mount and namespaces get through the filter to the kernel */
	p = seccomp_default_profile(DOCKER_DEFAULT_CAPS | CAPBIT(CAP_SYS_ADMIN));
	assert_int_equal(run_filtered(p, res), 0);
	assert_int_equal(res[0], EBADF);
	assert_int_equal(res[1], ENOENT);
	assert_int_equal(res[2], EINVAL); /* clone3(NULL, 0) reaches the kernel */
	assert_int_equal(res[3], EPERM);
	assert_int_equal(res[4], 0);
	json_decref(p);

	/* the spec of a container with --cap-add SYS_ADMIN holds the second profile */
	json_t *s = gen(NULL, "{\"CapAdd\":[\"SYS_ADMIN\"]}", IMAGE);
	_cleanup_free_ char *sys = dump(s, "linux.seccomp.syscalls");
	assert_non_null(strstr(sys, "\"mount\""));
	json_decref(s);
	s = gen(NULL, NULL, IMAGE);
	free(sys);
	sys = dump(s, "linux.seccomp.syscalls");
	assert_null(strstr(sys, "\"mount\""));
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entrypoint_cmd),
		cmocka_unit_test(test_env_cwd),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_privileged),
		cmocka_unit_test(test_security_opts),
		cmocka_unit_test(test_seccomp_profile_file),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_default_seccomp),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
