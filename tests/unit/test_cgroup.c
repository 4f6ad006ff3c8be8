/* test_cgroup.c - the cgroup driver: linux.resources validation naming the field,
 * cgroupsPath resolution (systemd slices, absolute, relative, default), the v1 to v2
 * conversions written into a fake v2 directory, and, as root on a host with
 * cgroups, a real cgroup for a forked child: limits read back from the kernel's
 * files, update in both directions, freeze/thaw, pids, kill_all, and a destroy that
 * removes exactly the directories it made. Every cgroup made here has a unique
 * name and is removed in teardown even when an assertion fails. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "oci/cgroup.h"
#include "oci/cgroup_internal.h"

/* --- helpers ------------------------------------------------------------------ */

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad JSON in test: %s: %s", text, e.text);
	return j;
}

/* Validation of res fails, and the message contains needle. */
static void expect_invalid(const char *res, const char *needle)
{
	json_t *j = J(res);
	berth_err err = BERTH_ERR_INIT;
	int r = cgroup_resources_validate(j, &err);
	json_decref(j);
	if (r == 0)
		fail_msg("%s: expected an error naming \"%s\", got success", res, needle);
	assert_true(r < 0);
	assert_non_null(err.msg);
	if (!strstr(err.msg, needle))
		fail_msg("%s: error \"%s\" does not name \"%s\"", res, err.msg, needle);
	berth_err_clear(&err);
}

static void expect_valid(const char *res)
{
	json_t *j = J(res);
	berth_err err = BERTH_ERR_INIT;
	int r = cgroup_resources_validate(j, &err);
	json_decref(j);
	if (r < 0)
		fail_msg("%s: unexpected error: %s", res, err.msg);
	berth_err_clear(&err);
}

static char *slurp(const char *path)
{
	char *out = NULL;
	size_t len = 0;
	berth_err err = BERTH_ERR_INIT;
	if (file_read(path, &out, &len, &err) < 0) {
		berth_err_clear(&err);
		return NULL;
	}
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	return out;
}

static void assert_file_is(const char *dir, const char *file, const char *want)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *got = slurp(path);
	if (!got)
		fail_msg("cannot read %s", path);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", path, got, want);
}

/* The dir of the hierarchy whose name (controllers) is exactly name, or the v2 one
 * for "" , from the manager's persisted form. NULL when not there. */
static const char *hier_dir(json_t *mj, const char *name)
{
	size_t i;
	json_t *h;
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		bool v2 = json_is_true(json_object_get(h, "v2"));
		const char *n = json_string_value(json_object_get(h, "name"));
		if ((!*name && v2) || (*name && !v2 && n && strcmp(n, name) == 0))
			return json_string_value(json_object_get(h, "dir"));
	}
	return NULL;
}

/* The runtime's own cgroup in v1 hierarchy name (or v2 for ""), from /proc/self/cgroup. */
static char *own_cgroup_of(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		if (strcmp(a + 1, name) == 0)
			return xstrdup(b + 1);
	}
	return NULL;
}

/* --- validation --------------------------------------------------------------- */

static void test_validate_accepts_good_resources(void **state)
{
	(void)state;
	expect_valid("{}");
	expect_valid("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
	expect_valid("{\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":134217728,"
		     "\"swappiness\":0,\"disableOOMKiller\":true},"
		     "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"0\"},"
		     "\"pids\":{\"limit\":10},"
		     "\"blockIO\":{\"weight\":300,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1}]},"
		     "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
		     "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
		     "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],"
		     "\"network\":{\"classID\":1048577},\"unified\":{\"memory.high\":\"max\"}}");
	/* Unlimited swap with any limit is fine. */
	expect_valid("{\"memory\":{\"limit\":67108864,\"swap\":-1}}");
}

static void test_validate_names_the_field(void **state)
{
	(void)state;
	expect_invalid("[]", "linux.resources");
	expect_invalid("{\"memory\":{\"limit\":\"64M\"}}", "linux.resources.memory.limit");
	expect_invalid("{\"memory\":{\"swappiness\":101}}", "linux.resources.memory.swappiness");
	expect_invalid("{\"memory\":{\"swappiness\":-2}}", "linux.resources.memory.swappiness");
	expect_invalid("{\"memory\":{\"disableOOMKiller\":1}}", "linux.resources.memory.disableOOMKiller");
	/* OCI swap is memory+swap: below the limit it cannot be applied. */
	expect_invalid("{\"memory\":{\"limit\":67108864,\"swap\":1048576}}", "linux.resources.memory.swap");
	expect_invalid("{\"cpu\":{\"shares\":\"512\"}}", "linux.resources.cpu.shares");
	expect_invalid("{\"cpu\":{\"cpus\":0}}", "linux.resources.cpu.cpus");
	expect_invalid("{\"pids\":{\"limit\":\"10\"}}", "linux.resources.pids.limit");
	expect_invalid("{\"blockIO\":{\"weight\":5}}", "linux.resources.blockIO.weight");
	expect_invalid("{\"blockIO\":{\"weight\":1001}}", "linux.resources.blockIO.weight");
	expect_invalid("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
		       "linux.resources.blockIO.throttleReadBpsDevice[0]");
	expect_invalid("{\"blockIO\":{\"weightDevice\":[{\"minor\":0}]}}", "linux.resources.blockIO.weightDevice[0]");
	expect_invalid("{\"hugepageLimits\":[{\"limit\":1}]}", "linux.resources.hugepageLimits[0]");
	/* pageSize becomes part of a file name: nothing but the kernel's "2MB" form. */
	expect_invalid("{\"hugepageLimits\":[{\"pageSize\":\"2MB/../../x\",\"limit\":1}]}",
		       "linux.resources.hugepageLimits[0].pageSize");
	expect_invalid("{\"hugepageLimits\":[{\"pageSize\":\"2mb\",\"limit\":1}]}",
		       "linux.resources.hugepageLimits[0].pageSize");
	expect_invalid("{\"hugepageLimits\":[{\"pageSize\":\"MB\",\"limit\":1}]}",
		       "linux.resources.hugepageLimits[0].pageSize");
	expect_valid("{\"hugepageLimits\":[{\"pageSize\":\"64KB\",\"limit\":1},{\"pageSize\":\"1GB\",\"limit\":0}]}");
	expect_invalid("{\"devices\":[{\"type\":\"c\"}]}", "linux.resources.devices[0].allow");
	expect_invalid("{\"devices\":[{\"allow\":false},{\"allow\":true,\"type\":\"x\"}]}",
		       "linux.resources.devices[1].type");
	expect_invalid("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"access\":\"rwx\"}]}",
		       "linux.resources.devices[0].access");
	expect_invalid("{\"devices\":[{\"allow\":true,\"access\":\"\"}]}", "linux.resources.devices[0].access");
	expect_invalid("{\"network\":{\"classID\":\"1\"}}", "linux.resources.network.classID");
	expect_invalid("{\"unified\":{\"memory.max\":5}}", "linux.resources.unified.memory.max");
	expect_invalid("{\"unified\":{\"../../etc/passwd\":\"x\"}}", "linux.resources.unified");
	expect_invalid("{\"unified\":{\".hidden\":\"x\"}}", "linux.resources.unified..hidden");
}

/* --- cgroupsPath resolution ---------------------------------------------------- */

/* The resolved "path" of a manager, or NULL with the error message in *msg. */
static char *resolve(const char *cgroups_path, const char *id, bool systemd, char **msg, json_t **mj)
{
	struct cgroup_manager *m = NULL;
	berth_err err = BERTH_ERR_INIT;
	*msg = NULL;
	int r = cgroup_manager_new(cgroups_path, id, systemd, &m, &err);
	if (r == -ENOTSUP) {
		berth_err_clear(&err);
		skip(); /* no cgroup hierarchy mounted where this runs */
	}
	if (r < 0) {
		*msg = TAKE_PTR(err.msg);
		berth_err_clear(&err);
		return NULL;
	}
	json_t *j = cgroup_to_json(m);
	cgroup_manager_free(m);
	char *path = xstrdup(json_string_value(json_object_get(j, "path")));
	if (mj)
		*mj = j;
	else
		json_decref(j);
	return path;
}

static void expect_path(const char *cgroups_path, bool systemd, const char *want)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *got = resolve(cgroups_path, "ctr1", systemd, &msg, NULL);
	if (!got)
		fail_msg("\"%s\": unexpected error %s", cgroups_path ?: "(null)", msg);
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\" (systemd=%d): got \"%s\", want \"%s\"", cgroups_path ?: "(null)", systemd, got,
			 want);
}

static void expect_path_error(const char *cgroups_path, bool systemd, const char *needle)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *got = resolve(cgroups_path, "ctr1", systemd, &msg, NULL);
	if (got)
		fail_msg("\"%s\": expected an error, got path \"%s\"", cgroups_path, got);
	assert_non_null(msg);
	if (!strstr(msg, needle))
		fail_msg("\"%s\": error \"%s\" does not name \"%s\"", cgroups_path, msg, needle);
}

static void test_systemd_slices_expand(void **state)
{
	(void)state;
	/* systemd's convention: each dash opens a nested slice. */
	expect_path("a-b.slice:pre:name", true, "/a.slice/a-b.slice/pre-name.scope");
	expect_path("a-b-c.slice:docker:0123", true, "/a.slice/a-b.slice/a-b-c.slice/docker-0123.scope");
	expect_path("system.slice:berth:x", true, "/system.slice/berth-x.scope");
	/* An empty slice is system.slice; "-.slice" is the root slice. */
	expect_path(":pre:name", true, "/system.slice/pre-name.scope");
	expect_path("-.slice:pre:name", true, "/pre-name.scope");
	expect_path_error("not-a-triple", true, "linux.cgroupsPath");
	expect_path_error("user:pre:name", true, "linux.cgroupsPath");
}

static void test_plain_paths(void **state)
{
	(void)state;
	/* cgroupsPath unset: the header's documented default. */
	expect_path(NULL, false, "/berth/ctr1");
	expect_path("", false, "/berth/ctr1");
	expect_path("/machine/x", false, "/machine/x");
	expect_path_error("/a/../../b", false, "linux.cgroupsPath");
}

static void test_absolute_and_relative_dirs(void **state)
{
	(void)state;
	_cleanup_free_ char *msg = NULL;
	json_t *mj = NULL;
	_cleanup_free_ char *p = resolve("/abs/x", "c", false, &msg, &mj);
	assert_non_null(p);
	size_t i;
	json_t *h;
	size_t n = 0;
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		/* Absolute: under each hierarchy's root, wherever the runtime itself is. */
		const char *mount = json_string_value(json_object_get(h, "mount"));
		const char *dir = json_string_value(json_object_get(h, "dir"));
		_cleanup_free_ char *want = xasprintf("%s/abs/x", mount);
		assert_string_equal(dir, want);
		assert_int_equal(json_integer_value(json_object_get(h, "made")), 0);
		n++;
	}
	assert_true(n >= 1);
	json_decref(mj);

	/* Relative: under the runtime's own cgroup of that hierarchy. */
	free(msg);
	msg = NULL;
	_cleanup_free_ char *rel = resolve("rel/y", "c", false, &msg, &mj);
	assert_non_null(rel);
	n = 0;
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		bool v2 = json_is_true(json_object_get(h, "v2"));
		const char *name = json_string_value(json_object_get(h, "name"));
		_cleanup_free_ char *own = own_cgroup_of(v2 ? "" : name);
		if (!own)
			continue;
		const char *mount = json_string_value(json_object_get(h, "mount"));
		_cleanup_free_ char *want = xasprintf("%s%s/rel/y", mount, strcmp(own, "/") ? own : "");
		const char *dir = json_string_value(json_object_get(h, "dir"));
		/* "//" from a root own cgroup is harmless to the kernel; compare without it. */
		_cleanup_free_ char *norm = xstrdup(dir);
		char *dd = strstr(norm, "//");
		if (dd)
			memmove(dd, dd + 1, strlen(dd));
		if (strcmp(norm, want) != 0)
			fail_msg("hierarchy %s: got %s, want %s", v2 ? "(v2)" : name, dir, want);
		n++;
	}
	assert_true(n >= 1);
	json_decref(mj);
}

/* --- v1 -> v2 conversions, written into a fake v2 directory -------------------- */

static const char *const v2_files[] = {
	"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "cpu.max.burst",
	"cpu.idle", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
	"hugetlb.2MB.max", "memory.high",
};

struct fakedir {
	char path[64];
};

static int fake_setup(void **state)
{
	struct fakedir *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->path, "/tmp/berth-test-cgroup-XXXXXX");
	if (!mkdtemp(f->path))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", f->path, v2_files[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	*state = f;
	return 0;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int fake_teardown(void **state)
{
	struct fakedir *f = *state;
	nftw(f->path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Truncate every fake file, so a test sees only what its apply wrote. */
static void fake_reset(struct fakedir *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", f->path, v2_files[i]);
		assert_int_equal(truncate(p, 0), 0);
	}
}

static void v2_apply_ok(struct fakedir *f, const char *res)
{
	fake_reset(f);
	json_t *j = J(res);
	berth_err err = BERTH_ERR_INIT;
	int r = cg_v2_apply(f->path, j, false, &err);
	json_decref(j);
	if (r < 0)
		fail_msg("%s: %s", res, err.msg);
}

static void test_v2_cpu_shares_to_weight(void **state)
{
	struct fakedir *f = *state;
	/* crun's formula 1 + ((shares - 2) * 9999) / 262142 at both ends and in between. */
	v2_apply_ok(f, "{\"cpu\":{\"shares\":2}}");
	assert_file_is(f->path, "cpu.weight", "1");
	v2_apply_ok(f, "{\"cpu\":{\"shares\":262144}}");
	assert_file_is(f->path, "cpu.weight", "10000");
	v2_apply_ok(f, "{\"cpu\":{\"shares\":512}}");
	assert_file_is(f->path, "cpu.weight", "20");
	v2_apply_ok(f, "{\"cpu\":{\"shares\":1024}}");
	assert_file_is(f->path, "cpu.weight", "39");
}

static void test_v2_cpu_max(void **state)
{
	struct fakedir *f = *state;
	v2_apply_ok(f, "{\"cpu\":{\"quota\":50000,\"period\":100000}}");
	assert_file_is(f->path, "cpu.max", "50000 100000");
	v2_apply_ok(f, "{\"cpu\":{\"quota\":-1,\"period\":250000}}");
	assert_file_is(f->path, "cpu.max", "max 250000");
	/* An update of the period alone keeps the quota in force, and the other way round. */
	fake_reset(f);
	_cleanup_free_ char *cpumax = xasprintf("%s/cpu.max", f->path);
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(file_write_at(AT_FDCWD, cpumax, "50000 100000\n", 13, &err), 0);
	json_t *j = J("{\"cpu\":{\"period\":200000}}");
	assert_int_equal(cg_v2_apply(f->path, j, false, &err), 0);
	json_decref(j);
	assert_file_is(f->path, "cpu.max", "50000 200000");
	j = J("{\"cpu\":{\"quota\":20000}}");
	assert_int_equal(cg_v2_apply(f->path, j, false, &err), 0);
	json_decref(j);
	assert_file_is(f->path, "cpu.max", "20000 200000");
	v2_apply_ok(f, "{\"cpu\":{\"quota\":30000}}");
	assert_file_is(f->path, "cpu.max", "30000 100000");
	v2_apply_ok(f, "{\"cpu\":{\"cpus\":\"0-1\",\"mems\":\"0\"}}");
	assert_file_is(f->path, "cpuset.cpus", "0-1");
	assert_file_is(f->path, "cpuset.mems", "0");
}

static void test_v2_memory_and_swap(void **state)
{
	struct fakedir *f = *state;
	/* OCI swap is memory+swap; v2's swap.max counts swap alone. */
	v2_apply_ok(f, "{\"memory\":{\"limit\":67108864,\"swap\":134217728,\"reservation\":33554432}}");
	assert_file_is(f->path, "memory.max", "67108864");
	assert_file_is(f->path, "memory.swap.max", "67108864");
	assert_file_is(f->path, "memory.low", "33554432");
	/* swap == limit: no swap at all. */
	v2_apply_ok(f, "{\"memory\":{\"limit\":67108864,\"swap\":67108864}}");
	assert_file_is(f->path, "memory.swap.max", "0");
	v2_apply_ok(f, "{\"memory\":{\"limit\":-1,\"swap\":-1}}");
	assert_file_is(f->path, "memory.max", "max");
	assert_file_is(f->path, "memory.swap.max", "max");
}

static void test_v2_pids_io_hugetlb_unified(void **state)
{
	struct fakedir *f = *state;
	v2_apply_ok(f, "{\"pids\":{\"limit\":10}}");
	assert_file_is(f->path, "pids.max", "10");
	v2_apply_ok(f, "{\"pids\":{\"limit\":-1}}");
	assert_file_is(f->path, "pids.max", "max");
	/* blkio weight 10..1000 -> io.weight 1..10000. */
	v2_apply_ok(f, "{\"blockIO\":{\"weight\":300}}");
	assert_file_is(f->path, "io.weight", "default 2930");
	v2_apply_ok(f, "{\"blockIO\":{\"weight\":10}}");
	assert_file_is(f->path, "io.weight", "default 1");
	v2_apply_ok(f, "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}]}}");
	assert_file_is(f->path, "io.max", "8:0 rbps=1048576");
	v2_apply_ok(f, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}");
	assert_file_is(f->path, "hugetlb.2MB.max", "4194304");
	/* unified keys go verbatim to the file they name. */
	v2_apply_ok(f, "{\"unified\":{\"memory.high\":\"123456\"}}");
	assert_file_is(f->path, "memory.high", "123456");
}

static void test_v2_errors_name_the_field(void **state)
{
	struct fakedir *f = *state;
	static const struct {
		const char *res, *needle;
	} cases[] = {
		{ "{\"unified\":{\"memory.nosuchfile\":\"1\"}}", "linux.resources.unified.memory.nosuchfile" },
		{ "{\"memory\":{\"kernel\":1048576}}", "linux.resources.memory.kernel" },
		{ "{\"memory\":{\"disableOOMKiller\":true}}", "linux.resources.memory.disableOOMKiller" },
		{ "{\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":1}]}", "linux.resources.hugepageLimits[0]" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = J(cases[i].res);
		berth_err err = BERTH_ERR_INIT;
		int r = cg_v2_apply(f->path, j, false, &err);
		json_decref(j);
		if (r == 0)
			fail_msg("%s: expected an error", cases[i].res);
		if (!strstr(err.msg, cases[i].needle))
			fail_msg("%s: error \"%s\" does not name \"%s\"", cases[i].res, err.msg, cases[i].needle);
		berth_err_clear(&err);
	}
	/* Only hugetlb and unified keys when asked (hybrid hosts apply the rest through v1). */
	fake_reset(f);
	json_t *j = J("{\"memory\":{\"limit\":1048576},\"unified\":{\"memory.high\":\"7\"}}");
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(cg_v2_apply(f->path, j, true, &err), 0);
	json_decref(j);
	assert_file_is(f->path, "memory.high", "7");
	assert_file_is(f->path, "memory.max", "");
}

/* --- a real cgroup, as root --------------------------------------------------- */

struct live {
	char name[64]; /* unique top-level cgroup name */
	pid_t child;
	struct cgroup_manager *m;
	char *pre; /* a directory the test made itself, to be removed by teardown */
};

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
		_exit(0);
	}
	return pid;
}

static int live_setup(void **state)
{
	struct live *l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	snprintf(l->name, sizeof(l->name), "berth-unit-cgroup-%d", (int)getpid());
	l->child = -1;
	*state = l;
	return 0;
}

/* Whatever happened, leave no process, no frozen cgroup and no directory behind. */
static int live_teardown(void **state)
{
	struct live *l = *state;
	if (l->m)
		cgroup_freeze(l->m, false, NULL);
	if (l->child > 0) {
		kill(l->child, SIGKILL);
		waitpid(l->child, NULL, 0);
	}
	if (l->m) {
		json_t *mj = cgroup_to_json(l->m);
		size_t i;
		json_t *h;
		json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
			const char *dir = json_string_value(json_object_get(h, "dir"));
			_cleanup_free_ char *inner = xasprintf("%s/inner", dir);
			rmdir(inner);
			for (int t = 0; t < 100 && rmdir(dir) < 0 && errno == EBUSY; t++)
				usleep(10000);
		}
		json_decref(mj);
		cgroup_manager_free(l->m);
	}
	if (l->pre)
		rmdir(l->pre);
	free(l->pre);
	free(l);
	return 0;
}

static bool can_do_live(void)
{
	return geteuid() == 0 && access("/sys/fs/cgroup", W_OK) == 0;
}

static bool pids_contain(struct cgroup_manager *m, pid_t want)
{
	pid_t *pids = NULL;
	size_t n = 0;
	berth_err err = BERTH_ERR_INIT;
	if (cgroup_pids(m, &pids, &n, &err) < 0)
		fail_msg("cgroup_pids: %s", err.msg);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= pids[i] == want;
	free(pids);
	return found;
}

static void apply_ok(struct cgroup_manager *m, const char *res)
{
	json_t *j = J(res);
	berth_err err = BERTH_ERR_INIT;
	int r = cgroup_apply(m, j, &err);
	json_decref(j);
	if (r < 0)
		fail_msg("apply %s: %s", res, err.msg);
}

/* The child's cgroup in v1 hierarchy name (or v2 for ""), from /proc/PID/cgroup. */
static char *cgroup_of(pid_t pid, const char *name)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		if (strcmp(a + 1, name) == 0)
			return xstrdup(b + 1);
	}
	return NULL;
}

static void test_live_lifecycle(void **state)
{
	struct live *l = *state;
	if (!can_do_live())
		skip();
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *path = xasprintf("/%s", l->name);
	if (cgroup_manager_new(path, "unit", false, &l->m, &err) < 0)
		fail_msg("manager: %s", err.msg);
	enum cgroup_mode mode = cgroup_detect_mode();
	l->child = spawn_sleeper();
	assert_true(l->child > 0);
	if (cgroup_create(l->m, l->child, &err) < 0)
		fail_msg("create: %s", err.msg);

	/* The child is in the container's cgroup of every hierarchy. */
	json_t *mj = cgroup_to_json(l->m);
	size_t i;
	json_t *h;
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		bool v2 = json_is_true(json_object_get(h, "v2"));
		const char *name = json_string_value(json_object_get(h, "name"));
		_cleanup_free_ char *cg = cgroup_of(l->child, v2 ? "" : name);
		assert_non_null(cg);
		if (strcmp(cg, path) != 0)
			fail_msg("hierarchy %s: child is in %s, not %s", v2 ? "(v2)" : name, cg, path);
		assert_int_equal(json_integer_value(json_object_get(h, "made")), 1);
	}
	assert_true(pids_contain(l->m, l->child));

	/* Limits reach the kernel's files. */
	bool v1 = mode != CGROUP_MODE_UNIFIED;
	const char *memdir = v1 ? hier_dir(mj, "memory") : hier_dir(mj, "");
	const char *pidsdir = v1 ? hier_dir(mj, "pids") : hier_dir(mj, "");
	assert_non_null(memdir);
	assert_non_null(pidsdir);
	bool memsw = v1 && ({
		_cleanup_free_ char *p = xasprintf("%s/memory.memsw.limit_in_bytes", memdir);
		access(p, F_OK) == 0;
	});
	if (v1 && memsw) {
		apply_ok(l->m, "{\"memory\":{\"limit\":67108864,\"swap\":67108864},\"pids\":{\"limit\":20}}");
		assert_file_is(memdir, "memory.limit_in_bytes", "67108864");
		assert_file_is(memdir, "memory.memsw.limit_in_bytes", "67108864");
		/* Raising both needs memsw first, lowering both needs the limit first:
		 * the kernel refuses memsw < limit at every step. */
		apply_ok(l->m, "{\"memory\":{\"limit\":134217728,\"swap\":268435456}}");
		assert_file_is(memdir, "memory.limit_in_bytes", "134217728");
		assert_file_is(memdir, "memory.memsw.limit_in_bytes", "268435456");
		apply_ok(l->m, "{\"memory\":{\"limit\":33554432,\"swap\":33554432}}");
		assert_file_is(memdir, "memory.limit_in_bytes", "33554432");
		assert_file_is(memdir, "memory.memsw.limit_in_bytes", "33554432");
	} else if (v1) {
		apply_ok(l->m, "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":20}}");
		assert_file_is(memdir, "memory.limit_in_bytes", "67108864");
	} else {
		apply_ok(l->m, "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":20}}");
		assert_file_is(memdir, "memory.max", "67108864");
	}
	assert_file_is(pidsdir, "pids.max", "20");
	apply_ok(l->m, "{\"pids\":{\"limit\":-1}}");
	assert_file_is(pidsdir, "pids.max", "max");

	/* A value the kernel refuses names the field. */
	json_t *bad = J(v1 ? "{\"cpu\":{\"cpus\":\"4096\"}}" : "{\"pids\":{\"limit\":10},\"unified\":{\"pids.max\":\"x\"}}");
	assert_true(cgroup_apply(l->m, bad, &err) < 0);
	json_decref(bad);
	assert_non_null(strstr(err.msg, v1 ? "linux.resources.cpu.cpus" : "linux.resources.unified.pids.max"));
	berth_err_clear(&err);

	/* Freeze and thaw settle, and the state reads back. */
	bool frozen = true;
	assert_int_equal(cgroup_is_frozen(l->m, &frozen, NULL), 0);
	assert_false(frozen);
	if (cgroup_freeze(l->m, true, &err) < 0)
		fail_msg("freeze: %s", err.msg);
	assert_int_equal(cgroup_is_frozen(l->m, &frozen, NULL), 0);
	assert_true(frozen);
	if (cgroup_freeze(l->m, false, &err) < 0)
		fail_msg("thaw: %s", err.msg);
	assert_int_equal(cgroup_is_frozen(l->m, &frozen, NULL), 0);
	assert_false(frozen);

	/* Stats are the runc "events --stats" shape with the kernel's numbers. */
	json_t *st = NULL;
	if (cgroup_stats(l->m, &st, &err) < 0)
		fail_msg("stats: %s", err.msg);
	json_t *cur = json_object_get(json_object_get(st, "pids"), "current");
	assert_true(json_is_integer(cur));
	assert_int_equal(json_integer_value(cur), 1);
	assert_true(json_is_integer(json_object_get(json_object_get(json_object_get(st, "memory"), "usage"), "usage")));
	json_decref(st);

	/* The container makes a cgroup of its own inside (as systemd or a nested engine
	 * would) and moves into it: still listed, still killed, and removed by destroy. */
	_cleanup_free_ char *inner = xasprintf("%s/inner", pidsdir);
	assert_int_equal(mkdir(inner, 0755), 0);
	char pidbuf[32];
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)l->child);
	_cleanup_free_ char *inner_procs = xasprintf("%s/cgroup.procs", inner);
	if (file_write_at(AT_FDCWD, inner_procs, pidbuf, strlen(pidbuf), &err) < 0)
		fail_msg("moving the child into %s: %s", inner, err.msg);
	assert_true(pids_contain(l->m, l->child));

	/* kill_all reaches the child; destroy then removes every directory it made. */
	if (cgroup_kill_all(l->m, SIGKILL, &err) < 0)
		fail_msg("kill_all: %s", err.msg);
	int status = 0;
	assert_int_equal(waitpid(l->child, &status, 0), l->child);
	l->child = -1;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	if (cgroup_destroy(l->m, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		const char *dir = json_string_value(json_object_get(h, "dir"));
		struct stat sb;
		if (stat(dir, &sb) == 0)
			fail_msg("%s is still there after destroy", dir);
	}
	json_decref(mj);
	/* A second destroy (delete after a crash) finds nothing and is fine. */
	assert_int_equal(cgroup_destroy(l->m, NULL), 0);
}

static void test_live_v1_cpuset_inherited(void **state)
{
	struct live *l = *state;
	if (!can_do_live() || cgroup_detect_mode() == CGROUP_MODE_UNIFIED)
		skip();
	berth_err err = BERTH_ERR_INIT;
	/* Two new levels: both get the parent's cpus and mems, or the join fails. */
	_cleanup_free_ char *path = xasprintf("/%s/nested", l->name);
	if (cgroup_manager_new(path, "unit", false, &l->m, &err) < 0)
		fail_msg("manager: %s", err.msg);
	json_t *mj = cgroup_to_json(l->m);
	const char *cs = hier_dir(mj, "cpuset");
	if (!cs) {
		json_decref(mj);
		skip();
	}
	l->child = spawn_sleeper();
	if (cgroup_create(l->m, l->child, &err) < 0)
		fail_msg("create: %s", err.msg);
	_cleanup_free_ char *root_cpus = slurp("/sys/fs/cgroup/cpuset/cpuset.cpus");
	_cleanup_free_ char *leaf = xasprintf("%s/cpuset.cpus", cs);
	_cleanup_free_ char *cpus = slurp(leaf);
	assert_non_null(cpus);
	assert_true(*cpus != '\0');
	if (root_cpus)
		assert_string_equal(cpus, root_cpus);
	_cleanup_free_ char *cg = cgroup_of(l->child, "cpuset");
	assert_non_null(cg);
	assert_string_equal(cg, path);
	kill(l->child, SIGKILL);
	waitpid(l->child, NULL, 0);
	l->child = -1;
	assert_int_equal(cgroup_destroy(l->m, NULL), 0);
	/* Both levels were made by this manager: which of them destroy removes is the
	 * driver's policy (shared parents may stay), but the leaf must go. */
	struct stat sb;
	assert_true(stat(cs, &sb) < 0 && errno == ENOENT);
	_cleanup_free_ char *parent = xstrdup(cs);
	*strrchr(parent, '/') = '\0';
	json_decref(mj);
	/* Clean the parent level here so nothing is left whatever the policy. */
	json_t *mj2 = cgroup_to_json(l->m);
	size_t i;
	json_t *h;
	json_array_foreach (json_object_get(mj2, "hierarchies"), i, h) {
		_cleanup_free_ char *d = xstrdup(json_string_value(json_object_get(h, "dir")));
		*strrchr(d, '/') = '\0';
		rmdir(d);
	}
	json_decref(mj2);
}

static void test_live_preexisting_dir_survives_destroy(void **state)
{
	struct live *l = *state;
	if (!can_do_live())
		skip();
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *path = xasprintf("/%s", l->name);
	if (cgroup_manager_new(path, "unit", false, &l->m, &err) < 0)
		fail_msg("manager: %s", err.msg);
	json_t *mj = cgroup_to_json(l->m);
	bool v1 = cgroup_detect_mode() != CGROUP_MODE_UNIFIED;
	const char *pre = hier_dir(mj, v1 ? "pids" : "");
	if (!pre) {
		json_decref(mj);
		skip();
	}
	/* Someone else's directory: the manager must not remove it. */
	assert_int_equal(mkdir(pre, 0755), 0);
	l->pre = xstrdup(pre);
	l->child = spawn_sleeper();
	if (cgroup_create(l->m, l->child, &err) < 0)
		fail_msg("create: %s", err.msg);
	/* Persisted and reloaded, as delete does from state.json. */
	json_t *saved = cgroup_to_json(l->m);
	struct cgroup_manager *back = NULL;
	if (cgroup_manager_from_json(saved, &back, &err) < 0)
		fail_msg("from_json: %s", err.msg);
	json_decref(saved);
	assert_true(pids_contain(back, l->child));
	kill(l->child, SIGKILL);
	waitpid(l->child, NULL, 0);
	l->child = -1;
	if (cgroup_destroy(back, &err) < 0)
		fail_msg("destroy: %s", err.msg);
	cgroup_manager_free(back);
	struct stat sb;
	assert_int_equal(stat(pre, &sb), 0);
	size_t i;
	json_t *h;
	json_array_foreach (json_object_get(mj, "hierarchies"), i, h) {
		const char *dir = json_string_value(json_object_get(h, "dir"));
		if (strcmp(dir, pre) != 0 && stat(dir, &sb) == 0)
			fail_msg("%s (made by the manager) is still there", dir);
	}
	json_decref(mj);
}

/* --- the v2 device filter (eBPF), on whatever v2 hierarchy the host has -------- */

static const char *v2_mount(void)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

enum { CAN_NULL_R = 1, CAN_NULL_W = 2, CAN_NULL_RW = 4, CAN_ZERO_R = 8, CAN_ZERO_W = 16, CAN_FULL_R = 32 };

/* Fork a child into dir; it reports which opens the device filter let through. */
static int probe_devices(const char *dir)
{
	int go[2];
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(255);
		static const struct {
			const char *path;
			int flags, bit;
		} probes[] = {
			{ "/dev/null", O_RDONLY, CAN_NULL_R }, { "/dev/null", O_WRONLY, CAN_NULL_W },
			{ "/dev/null", O_RDWR, CAN_NULL_RW },  { "/dev/zero", O_RDONLY, CAN_ZERO_R },
			{ "/dev/zero", O_WRONLY, CAN_ZERO_W }, { "/dev/full", O_RDONLY, CAN_FULL_R },
		};
		int got = 0;
		for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
			int fd = open(probes[i].path, probes[i].flags | O_CLOEXEC);
			if (fd >= 0) {
				got |= probes[i].bit;
				close(fd);
			} else if (errno != EPERM) {
				_exit(254);
			}
		}
		_exit(got);
	}
	close(go[0]);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
	berth_err err = BERTH_ERR_INIT;
	int r = file_write_at(AT_FDCWD, procs, buf, strlen(buf), &err);
	if (r == 0)
		assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (r < 0)
		fail_msg("moving the probe into %s: %s", dir, err.msg);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) < 254);
	return WEXITSTATUS(status);
}

static uint32_t attached_filters(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	uint32_t ids[8];
	union bpf_attr attr = { 0 };
	attr.query.target_fd = (uint32_t)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = ARRAY_SIZE(ids);
	assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
	return attr.query.prog_cnt;
}

static void devices_ok(const char *dir, const char *rules)
{
	json_t *j = J(rules);
	berth_err err = BERTH_ERR_INIT;
	int r = cg_v2_devices_apply(dir, j, &err);
	json_decref(j);
	if (r < 0)
		fail_msg("%s: %s", rules, err.msg);
}

static void test_live_v2_device_filter(void **state)
{
	struct live *l = *state;
	const char *mount = v2_mount();
	if (!can_do_live() || !mount)
		skip();
	l->pre = xasprintf("%s/%s-bpf", mount, l->name);
	assert_int_equal(mkdir(l->pre, 0755), 0);
	/* Later rules win: rw on /dev/null, then w taken back; /dev/zero read-only;
	 * /dev/full never allowed. */
	devices_ok(l->pre, "[{\"allow\":false,\"access\":\"rwm\"},"
			   "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"r\"},"
			   "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"},"
			   "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"w\"}]");
	assert_int_equal(attached_filters(l->pre), 1);
	assert_int_equal(probe_devices(l->pre), CAN_NULL_R | CAN_ZERO_R);
	/* Any minor of major 1, and a block rule that must not match char devices. */
	devices_ok(l->pre, "[{\"allow\":false,\"access\":\"rwm\"},"
			   "{\"allow\":true,\"type\":\"b\",\"major\":1,\"access\":\"rwm\"},"
			   "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":-1,\"access\":\"rw\"},"
			   "{\"allow\":false,\"type\":\"a\",\"major\":1,\"minor\":7}]");
	/* An update replaces the filter rather than stacking a second one. */
	assert_int_equal(attached_filters(l->pre), 1);
	assert_int_equal(probe_devices(l->pre), CAN_NULL_R | CAN_NULL_W | CAN_NULL_RW | CAN_ZERO_R | CAN_ZERO_W);
	/* No rules: nothing refused. */
	devices_ok(l->pre, "[]");
	assert_int_equal(attached_filters(l->pre), 1);
	assert_int_equal(probe_devices(l->pre),
			 CAN_NULL_R | CAN_NULL_W | CAN_NULL_RW | CAN_ZERO_R | CAN_ZERO_W | CAN_FULL_R);
	/* A bad rule is refused naming it, and leaves the filter in force. */
	json_t *bad = J("[{\"allow\":true,\"type\":\"c\",\"access\":\"rwx\"}]");
	berth_err err = BERTH_ERR_INIT;
	assert_true(cg_v2_devices_apply(l->pre, bad, &err) < 0);
	json_decref(bad);
	assert_non_null(strstr(err.msg, "linux.resources.devices[0].access"));
	berth_err_clear(&err);
	assert_int_equal(attached_filters(l->pre), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_accepts_good_resources),
		cmocka_unit_test(test_validate_names_the_field),
		cmocka_unit_test(test_systemd_slices_expand),
		cmocka_unit_test(test_plain_paths),
		cmocka_unit_test(test_absolute_and_relative_dirs),
		cmocka_unit_test_setup_teardown(test_v2_cpu_shares_to_weight, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_v2_cpu_max, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_v2_memory_and_swap, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_v2_pids_io_hugetlb_unified, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_v2_errors_name_the_field, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_live_lifecycle, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_live_v1_cpuset_inherited, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_live_preexisting_dir_survives_destroy, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_live_v2_device_filter, live_setup, live_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
