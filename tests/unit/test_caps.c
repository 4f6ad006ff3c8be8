/* test_caps.c - capability names, process.capabilities parsing, and applying sets in a child. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "oci/caps.h"

#define BIT(c) (UINT64_C(1) << (c))

static void test_names_round_trip(void **state)
{
	for (int i = 0; i <= CAP_LAST_CAP; i++) {
		const char *n = cap_name(i);
		assert_non_null(n);
		assert_int_equal(cap_number(n), i);
		/* libcap spells them lowercase; the table must agree with it. */
		char *lib = cap_to_name((cap_value_t)i);
		assert_non_null(lib);
		assert_int_equal(strcasecmp(lib, n), 0);
		cap_free(lib);
	}
	assert_null(cap_name(-1));
	assert_null(cap_name(CAP_LAST_CAP + 1));
	assert_int_equal(cap_number("cap_sys_admin"), CAP_SYS_ADMIN);
	assert_int_equal(cap_number("Cap_Net_Raw"), CAP_NET_RAW);
	assert_int_equal(cap_number("SYS_ADMIN"), -EINVAL);
	assert_int_equal(cap_number("CAP_FOO"), -EINVAL);
	assert_int_equal(cap_number("CAP_"), -EINVAL);
	assert_int_equal(cap_number(NULL), -EINVAL);

	const char *const *all = caps_all_names();
	size_t n = 0;
	while (all[n])
		n++;
	assert_int_equal(n, CAP_LAST_CAP + 1);
	assert_string_equal(all[CAP_CHOWN], "CAP_CHOWN");
	assert_string_equal(all[CAP_CHECKPOINT_RESTORE], "CAP_CHECKPOINT_RESTORE");
	assert_true(cap_last_cap() >= CAP_AUDIT_READ);
}

static void test_from_json_errors(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct caps_sets s;
	json_t *j = json_loads(
		"{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\",\"CAP_FOO\"]}", 0, NULL);
	assert_non_null(j);
	assert_int_equal(caps_from_json(j, "process.capabilities", &s, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "process.capabilities.effective[1]: unknown capability CAP_FOO");
	json_decref(j);

	berth_err_clear(&err);
	j = json_loads("{\"permitted\":\"CAP_CHOWN\"}", 0, NULL);
	assert_int_equal(caps_from_json(j, "process.capabilities", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "process.capabilities.permitted"));
	json_decref(j);

	berth_err_clear(&err);
	j = json_loads("{\"ambient\":[\"CAP_KILL\", 3]}", 0, NULL);
	assert_int_equal(caps_from_json(j, "process.capabilities", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "process.capabilities.ambient[1]"));
	json_decref(j);
}

static void test_from_json_to_json(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct caps_sets s;
	json_t *j = json_loads("{\"bounding\":[\"CAP_CHOWN\",\"cap_kill\"],"
			       "\"effective\":[\"CAP_NET_BIND_SERVICE\"],"
			       "\"permitted\":[\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_ADMIN\"]}",
			       0, NULL);
	assert_int_equal(caps_from_json(j, "process.capabilities", &s, &err), 0);
	json_decref(j);
	assert_true(s.bounding == (BIT(CAP_CHOWN) | BIT(CAP_KILL)));
	assert_true(s.effective == BIT(CAP_NET_BIND_SERVICE));
	assert_true(s.permitted == (BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_ADMIN)));
	assert_true(s.inheritable == 0 && s.ambient == 0);

	json_t *out = caps_to_json(&s);
	char *dump = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(dump, "{\"ambient\":[],\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
				  "\"effective\":[\"CAP_NET_BIND_SERVICE\"],\"inheritable\":[],"
				  "\"permitted\":[\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_ADMIN\"]}");
	struct caps_sets back;
	assert_int_equal(caps_from_json(out, NULL, &back, &err), 0);
	assert_memory_equal(&back, &s, sizeof(s));
	free(dump);
	json_decref(out);

	char *names = caps_mask_names(BIT(CAP_CHOWN) | BIT(CAP_KILL));
	assert_string_equal(names, "CAP_CHOWN, CAP_KILL");
	free(names);
}

/* Run fn in a forked child; what it writes into out (up to 4 KiB) comes back as a string. */
static char *run_in_child(void (*fn)(char *out, size_t len))
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char buf[4096] = "";
		fn(buf, sizeof(buf));
		size_t n = strlen(buf);
		_exit(write(p[1], buf, n) == (ssize_t)n ? 0 : 1);
	}
	close(p[1]);
	char *res = calloc(1, 4097);
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], res + got, 4096 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return res;
}

static void child_apply(char *out, size_t len)
{
	berth_err err = BERTH_ERR_INIT;
	uint64_t m = BIT(CAP_CHOWN) | BIT(CAP_KILL);
	struct caps_sets s = { m, m, m, m, m };
	if (caps_drop_bounding(&s, &err) < 0 || caps_apply(&s, &err) < 0) {
		snprintf(out, len, "error: %s", err.msg);
		return;
	}
	FILE *f = fopen("/proc/self/status", "re");
	if (!f) {
		snprintf(out, len, "error: open status");
		return;
	}
	char line[256];
	size_t used = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 && used + strlen(line) < len) {
			memcpy(out + used, line, strlen(line) + 1);
			used += strlen(line);
		}
	fclose(f);
}

static uint64_t status_mask(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	assert_non_null(p);
	return strtoull(p + strlen(key) + 1, NULL, 16);
}

static void test_apply_in_child(void **state)
{
	char *res = run_in_child(child_apply);
	assert_null(strstr(res, "error"));
	uint64_t m = BIT(CAP_CHOWN) | BIT(CAP_KILL);
	assert_true(status_mask(res, "CapEff:") == m);
	assert_true(status_mask(res, "CapPrm:") == m);
	assert_true(status_mask(res, "CapInh:") == m);
	assert_true(status_mask(res, "CapBnd:") == m);
	assert_true(status_mask(res, "CapAmb:") == m);
	free(res);
}

/* A capability the runtime itself lacks is reported by name. The child first makes
 * itself such a runtime by dropping CAP_MKNOD, so this holds on any host. */
static void child_missing(char *out, size_t len)
{
	berth_err err = BERTH_ERR_INIT;
	uint64_t all = (UINT64_C(1) << (cap_last_cap() + 1)) - 1;
	struct caps_sets avail = { all, all, all, all, all };
	caps_filter_available(&avail, NULL); /* what this host's runtime may hold */
	uint64_t have = avail.bounding & ~BIT(CAP_MKNOD);
	struct caps_sets self = { have, have, 0, have, 0 };
	if (!(avail.bounding & BIT(CAP_MKNOD)) || caps_drop_bounding(&self, &err) < 0 ||
	    caps_apply(&self, &err) < 0) {
		snprintf(out, len, "setup: %s", err.msg ? err.msg : "no CAP_MKNOD to start with");
		return;
	}
	uint64_t no_mknod = have;
	uint64_t wantm = have | BIT(CAP_MKNOD);
	struct caps_sets want = { wantm, wantm, 0, wantm, 0 };
	int r = caps_apply(&want, &err);
	uint64_t missing = 0;
	caps_filter_available(&want, &missing);
	int r2 = caps_apply(&want, &err);
	snprintf(out, len, "%d|%s|%d|%s|%d", r, err.msg ? err.msg : "", r2,
		 missing == BIT(CAP_MKNOD) ? "mknod" : "other",
		 want.bounding == no_mknod && want.effective == no_mknod &&
			 want.permitted == no_mknod);
}

static void test_missing_capability(void **state)
{
	char *res = run_in_child(child_missing);
	assert_null(strstr(res, "setup:"));
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "%d|process.capabilities: cannot grant CAP_MKNOD: not in the runtime's bounding "
		 "set|0|mknod|1",
		 -EPERM);
	assert_string_equal(res, expect);
	free(res);
}

static void test_ambient_needs_inheritable(void **state)
{
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	/* Rejected before anything changes, so it is safe in the test process. */
	struct caps_sets s = { .permitted = BIT(CAP_KILL), .ambient = BIT(CAP_KILL) };
	assert_int_equal(caps_apply(&s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "process.capabilities.ambient: CAP_KILL"));
	berth_err_clear(&err);
	struct caps_sets e = { .effective = BIT(CAP_KILL) };
	assert_int_equal(caps_apply(&e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "process.capabilities.effective: CAP_KILL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_from_json_errors),
		cmocka_unit_test(test_from_json_to_json),
		cmocka_unit_test(test_apply_in_child),
		cmocka_unit_test(test_missing_capability),
		cmocka_unit_test(test_ambient_needs_inheritable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
