/* test_volume.c - named volumes: Docker's name rule, idempotent create,
 * inspect fields, in-use refusal, prune (anonymous only unless all, label
 * filters), and what a killed process leaves behind being swept on open. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/rmtree.h"
#include "common/xalloc.h"
#include "engine/volume.h"
#include "image/db.h"

static char root[] = "/tmp/berth-test-volume.XXXXXX";
static sqlite3 *db;
static struct volume_store *vs;

static void open_store(void)
{
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *path = xasprintf("%s/berth.db", root);
	assert_int_equal(db_open(path, &db, &err), 0);
	assert_int_equal(volume_store_open(db, root, &vs, &err), 0);
}

static void close_store(void)
{
	volume_store_close(vs);
	db_close(db);
	vs = NULL;
	db = NULL;
}

static int setup(void **state)
{
	(void)state;
	strcpy(root + strlen(root) - 6, "XXXXXX");
	if (!mkdtemp(root))
		return -1;
	open_store();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close_store();
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(AT_FDCWD, root, &err);
	berth_err_clear(&err);
	return 0;
}

static bool exists(const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	struct stat sb;
	return lstat(p, &sb) == 0;
}

static void test_names(void **state)
{
	(void)state;
	const char *bad[] = { "a", "-ab", "_ab", ".ab", "a/b", "a b", "a:b", "./x", "ü1", "" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		berth_err err = BERTH_ERR_INIT;
		assert_int_equal(volume_create(vs, bad[i], NULL, NULL, NULL, NULL, &err), -EINVAL);
		_cleanup_free_ char *want = xasprintf(
			"create %s: \"%s\" includes invalid characters for a local volume name, "
			"only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
			"a host directory, use absolute path",
			bad[i], bad[i]);
		assert_string_equal(err.msg, want);
		berth_err_clear(&err);
	}
	const char *good[] = { "ab", "A9", "0_.-x", "my-vol.1" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		berth_err err = BERTH_ERR_INIT;
		assert_int_equal(volume_create(vs, good[i], NULL, NULL, NULL, NULL, &err), 0);
	}
}

static void test_create_idempotent_and_inspect(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *labels = json_pack("{s:s}", "a", "b");
	_cleanup_free_ char *mp = NULL, *name = NULL;
	assert_int_equal(volume_create(vs, "data", labels, NULL, &mp, &name, &err), 0);
	assert_string_equal(name, "data");
	_cleanup_free_ char *want_mp = xasprintf("%s/volumes/data/_data", root);
	assert_string_equal(mp, want_mp);
	struct stat sb;
	assert_int_equal(stat(mp, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0755);
	/* a file in it survives a second create of the same name */
	_cleanup_free_ char *f = xasprintf("%s/keep", mp);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	_cleanup_free_ char *mp2 = NULL;
	assert_int_equal(volume_create(vs, "data", NULL, NULL, &mp2, NULL, &err), 0);
	assert_string_equal(mp, mp2);
	assert_int_equal(access(f, F_OK), 0);

	_cleanup_json_ json_t *o = NULL;
	assert_int_equal(volume_get(vs, "data", &o, &err), 0);
	const char *keys[] = { "CreatedAt", "Driver",  "Labels", "Mountpoint",
			       "Name",      "Options", "Scope" };
	const char *key;
	json_t *val;
	size_t k = 0;
	json_object_foreach (o, key, val) {
		assert_true(k < ARRAY_SIZE(keys));
		assert_string_equal(key, keys[k++]);
	}
	assert_int_equal(k, ARRAY_SIZE(keys));
	assert_string_equal(json_string_value(json_object_get(o, "Driver")), "local");
	assert_string_equal(json_string_value(json_object_get(o, "Scope")), "local");
	assert_string_equal(json_string_value(json_object_get(o, "Name")), "data");
	assert_string_equal(json_string_value(json_object_get(o, "Mountpoint")), mp);
	assert_true(json_equal(json_object_get(o, "Labels"), labels)); /* the first create's */
	assert_true(json_is_object(json_object_get(o, "Options")));
	const char *created = json_string_value(json_object_get(o, "CreatedAt"));
	/* RFC 3339 with a zone, no fraction: 2026-01-02T03:04:05Z or +01:00 */
	assert_true(strlen(created) == 20 || strlen(created) == 25);
	assert_int_equal(created[10], 'T');
	assert_true(created[19] == 'Z' || created[19] == '+' || created[19] == '-');

	json_decref(o);
	o = NULL;
	assert_int_equal(volume_get(vs, "nope", &o, &err), -ENOENT);
	assert_string_equal(err.msg, "no such volume: nope");
	berth_err_clear(&err);
}

static void test_options_refused(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *o = json_pack("{s:s}", "type", "tmpfs");
	assert_int_equal(volume_create(vs, "tv", NULL, o, NULL, NULL, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "create tv: volume option \"type\""));
	berth_err_clear(&err);
	_cleanup_json_ json_t *bad = json_pack("{s:s}", "foo", "1");
	assert_int_equal(volume_create(vs, "tv", NULL, bad, NULL, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "create tv: invalid option key: \"foo\"");
	berth_err_clear(&err);
	assert_false(exists("volumes/tv"));
}

static void test_anonymous(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *name = NULL;
	assert_int_equal(volume_create(vs, NULL, NULL, NULL, NULL, &name, &err), 0);
	assert_int_equal(strlen(name), 64);
	assert_int_equal(strspn(name, "0123456789abcdef"), 64);
	_cleanup_json_ json_t *o = NULL;
	assert_int_equal(volume_get(vs, name, &o, &err), 0);
	assert_non_null(
		json_object_get(json_object_get(o, "Labels"), "com.docker.volume.anonymous"));
}

static void test_in_use(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(volume_create(vs, "used", NULL, NULL, NULL, NULL, &err), 0);
	const char *names[] = { "used", NULL };
	assert_int_equal(volume_set_users(vs, "c1", names, &err), 0);
	assert_int_equal(volume_set_users(vs, "c2", names, &err), 0);
	assert_int_equal(volume_remove(vs, "used", false, &err), -EBUSY);
	assert_string_equal(err.msg, "remove used: volume is in use - [c1, c2]");
	berth_err_clear(&err);
	assert_int_equal(volume_remove(vs, "used", true, &err), -EBUSY);
	berth_err_clear(&err);
	assert_true(exists("volumes/used/_data"));
	/* unknown volume for a user */
	const char *ghost[] = { "ghost", NULL };
	assert_int_equal(volume_set_users(vs, "c3", ghost, &err), -ENOENT);
	berth_err_clear(&err);
	assert_int_equal(volume_set_users(vs, "c1", NULL, &err), 0);
	assert_int_equal(volume_set_users(vs, "c2", NULL, &err), 0);
	assert_int_equal(volume_remove(vs, "used", false, &err), 0);
	assert_false(exists("volumes/used"));
	assert_int_equal(volume_remove(vs, "used", false, &err), -ENOENT);
	assert_string_equal(err.msg, "get used: no such volume");
	berth_err_clear(&err);
	assert_int_equal(volume_remove(vs, "used", true, &err), 0);

	/* create_used records the user with the volume, new or existing:
	 * nothing can prune it before the container records its mounts */
	_cleanup_free_ char *anon = NULL;
	assert_int_equal(volume_create_used(vs, NULL, NULL, NULL, "c4", NULL, &anon, &err), 0);
	assert_int_equal(volume_create_used(vs, "kept", NULL, NULL, "c5", NULL, NULL, &err), 0);
	assert_int_equal(volume_create_used(vs, "kept", NULL, NULL, "c6", NULL, NULL, &err), 0);
	char **removed = NULL;
	uint64_t bytes = 0;
	assert_int_equal(volume_prune(vs, true, NULL, &removed, &bytes, &err), 0);
	assert_null(removed[0]);
	strv_free(removed);
	_cleanup_strv_ char **users = NULL;
	assert_int_equal(volume_users(vs, "kept", &users, &err), 0);
	assert_string_equal(users[0], "c5");
	assert_string_equal(users[1], "c6");
	assert_null(users[2]);
}

static size_t count(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static void test_prune(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *anon = NULL, *anon_used = NULL, *mp = NULL;
	assert_int_equal(volume_create(vs, NULL, NULL, NULL, &mp, &anon, &err), 0);
	assert_int_equal(volume_create(vs, NULL, NULL, NULL, NULL, &anon_used, &err), 0);
	_cleanup_json_ json_t *lab = json_pack("{s:s}", "keep", "yes");
	assert_int_equal(volume_create(vs, "named", NULL, NULL, NULL, NULL, &err), 0);
	assert_int_equal(volume_create(vs, "labelled", lab, NULL, NULL, NULL, &err), 0);
	const char *u[] = { anon_used, NULL };
	assert_int_equal(volume_set_users(vs, "c1", u, &err), 0);
	_cleanup_free_ char *f = xasprintf("%s/file", mp);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("12345", fp);
	fclose(fp);

	char **removed = NULL;
	uint64_t bytes = 0;
	assert_int_equal(volume_prune(vs, false, NULL, &removed, &bytes, &err), 0);
	assert_int_equal(count(removed), 1);
	assert_string_equal(removed[0], anon);
	assert_int_equal(bytes, 5);
	strv_free(removed);
	_cleanup_free_ char *rel = xasprintf("volumes/%s", anon);
	assert_false(exists(rel));

	/* all, with a label filter: only the matching ones */
	_cleanup_json_ json_t *filt = json_pack("[s]", "keep=yes");
	assert_int_equal(volume_prune(vs, true, filt, &removed, &bytes, &err), 0);
	assert_int_equal(count(removed), 1);
	assert_string_equal(removed[0], "labelled");
	strv_free(removed);
	_cleanup_json_ json_t *neg = json_pack("[s]", "!keep");
	assert_int_equal(volume_prune(vs, true, neg, &removed, &bytes, &err), 0);
	assert_int_equal(count(removed), 1);
	assert_string_equal(removed[0], "named");
	strv_free(removed);
	/* the used one stays */
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(volume_list(vs, &all, &err), 0);
	assert_int_equal(json_array_size(all), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "Name")),
			    anon_used);
}

static void test_crash_leftovers(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(volume_create(vs, "real", NULL, NULL, NULL, NULL, &err), 0);
	assert_int_equal(volume_create(vs, "gone", NULL, NULL, NULL, NULL, &err), 0);
	close_store();
	/* a create killed before its commit: a dir without a row */
	_cleanup_free_ char *orphan = xasprintf("%s/volumes/orphan/_data", root);
	_cleanup_free_ char *orphan_parent = xasprintf("%s/volumes/orphan", root);
	assert_int_equal(mkdir(orphan_parent, 0700), 0);
	assert_int_equal(mkdir(orphan, 0755), 0);
	/* a remove killed after moving the dir away: a row without a dir */
	_cleanup_free_ char *gone = xasprintf("%s/volumes/gone", root);
	assert_int_equal(rm_rf_at(AT_FDCWD, gone, &err), 0);
	/* a half-made dir in tmp/ whose writer is dead */
	_cleanup_free_ char *tmp = xasprintf("%s/tmp/volume-deadbeef", root);
	assert_int_equal(mkdir(tmp, 0700), 0);
	_cleanup_free_ char *born = xasprintf("%s/tmp/.volume-0123", root);
	assert_int_equal(mkdir(born, 0700), 0);
	open_store();
	assert_false(exists("tmp/.volume-0123"));
	assert_false(exists("volumes/orphan"));
	assert_false(exists("tmp/volume-deadbeef"));
	assert_true(exists("volumes/real/_data"));
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(volume_list(vs, &all, &err), 0);
	assert_int_equal(json_array_size(all), 1);
	/* the orphan's name can be created again */
	assert_int_equal(volume_create(vs, "orphan", NULL, NULL, NULL, NULL, &err), 0);
	assert_true(exists("volumes/orphan/_data"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_idempotent_and_inspect, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_options_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
