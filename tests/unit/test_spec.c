/* test_spec.c - config.json validation: good configs pass, each kind of bad
 * input fails with a message naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oci/spec.h"

static json_t *base(void)
{
	return spec_default(false);
}

static char *validate_msg(json_t *spec)
{
	berth_err err = BERTH_ERR_INIT;
	int r = spec_validate(spec, &err);
	json_decref(spec);
	if (r == 0)
		return NULL;
	assert_non_null(err.msg);
	return err.msg;
}

static void expect_error(json_t *spec, const char *needle)
{
	char *msg = validate_msg(spec);
	if (!msg)
		fail_msg("expected an error mentioning \"%s\", got success", needle);
	if (!strstr(msg, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", msg, needle);
	free(msg);
}

static void test_default_is_valid(void **state)
{
	(void)state;
	assert_null(validate_msg(base()));
	assert_null(validate_msg(spec_default(true)));
}

static void test_not_json(void **state)
{
	(void)state;
	json_t *out = NULL;
	berth_err err = BERTH_ERR_INIT;
	assert_true(spec_parse("{\"ociVersion\": ", 15, &out, &err) < 0);
	assert_null(out);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	berth_err_clear(&err);
	assert_true(spec_parse("[]", 2, &out, &err) < 0);
	assert_non_null(strstr(err.msg, "object"));
	berth_err_clear(&err);
}

static void test_missing_args(void **state)
{
	(void)state;
	json_t *s = base();
	json_object_del(json_object_get(s, "process"), "args");
	expect_error(s, "process.args");
	s = base();
	json_object_set_new(json_object_get(s, "process"), "args", json_array());
	expect_error(s, "process.args");
}

static void test_wrong_types(void **state)
{
	(void)state;
	json_t *s = base();
	json_object_set_new(json_object_get(s, "process"), "terminal", json_string("yes"));
	expect_error(s, "process.terminal");
	s = base();
	json_object_set_new(json_object_get(s, "root"), "path", json_integer(3));
	expect_error(s, "root.path");
	s = base();
	json_object_set_new(json_object_get(s, "process"), "cwd", json_string("relative"));
	expect_error(s, "process.cwd");
}

static void test_unknown_namespace(void **state)
{
	(void)state;
	json_t *s = base();
	json_array_append_new(json_object_get(json_object_get(s, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "foo"));
	expect_error(s, "linux.namespaces[5].type");
	s = base();
	json_array_append_new(json_object_get(json_object_get(s, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "pid"));
	expect_error(s, "given twice");
}

static void test_unknown_capability(void **state)
{
	(void)state;
	json_t *s = base();
	json_array_append_new(json_object_get(json_object_get(json_object_get(s, "process"), "capabilities"), "bounding"),
			      json_string("CAP_FLY"));
	expect_error(s, "process.capabilities.bounding[3]");
}

static void test_mount_dotdot(void **state)
{
	(void)state;
	json_t *s = base();
	json_array_append_new(json_object_get(s, "mounts"),
			      json_pack("{s:s,s:s,s:s}", "destination", "..", "type", "tmpfs", "source", "tmpfs"));
	expect_error(s, "mounts[7].destination");
	s = base();
	json_array_append_new(json_object_get(s, "mounts"),
			      json_pack("{s:s,s:s,s:s}", "destination", "/a/../../etc", "type", "tmpfs", "source", "tmpfs"));
	expect_error(s, "mounts[7].destination");
}

static void test_rlimits_and_oom(void **state)
{
	(void)state;
	json_t *s = base();
	json_object_set_new(json_object_get(s, "process"), "rlimits",
			    json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_BOGUS", "hard", 1, "soft", 1));
	expect_error(s, "process.rlimits[0].type");
	s = base();
	json_object_set_new(json_object_get(s, "process"), "rlimits",
			    json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "hard", 1, "soft", 2));
	expect_error(s, "process.rlimits[0].soft");
	s = base();
	json_object_set_new(json_object_get(s, "process"), "oomScoreAdj", json_integer(5000));
	expect_error(s, "process.oomScoreAdj");
}

static void test_sysctl_needs_namespace(void **state)
{
	(void)state;
	json_t *s = base();
	json_object_set_new(json_object_get(s, "linux"), "sysctl", json_pack("{s:s}", "vm.swappiness", "10"));
	expect_error(s, "linux.sysctl.vm.swappiness");
	s = base();
	json_object_set_new(json_object_get(s, "linux"), "sysctl", json_pack("{s:s}", "net.ipv4.ip_forward", "1"));
	assert_null(validate_msg(s));
}

static void test_userns_needs_maps(void **state)
{
	(void)state;
	json_t *s = base();
	json_array_append_new(json_object_get(json_object_get(s, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "user"));
	expect_error(s, "uidMappings");
}

static void test_hostname_needs_uts(void **state)
{
	(void)state;
	json_t *s = base();
	json_t *nss = json_object_get(json_object_get(s, "linux"), "namespaces");
	json_array_remove(nss, 3); /* uts */
	expect_error(s, "hostname");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_valid),  cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_missing_args),	  cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_unknown_namespace), cmocka_unit_test(test_unknown_capability),
		cmocka_unit_test(test_mount_dotdot),	  cmocka_unit_test(test_rlimits_and_oom),
		cmocka_unit_test(test_sysctl_needs_namespace), cmocka_unit_test(test_userns_needs_maps),
		cmocka_unit_test(test_hostname_needs_uts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
