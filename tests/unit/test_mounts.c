/* test_mounts.c - -v / --mount / --tmpfs / VolumesFrom / image Volumes into
 * Docker's "Mounts": every error message, modes and propagation, volumes
 * made (named and anonymous) and recorded as used, and the copy-up of the
 * image's content (owners, modes, symlinks copied as links, never followed
 * out of the rootfs). */
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
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/rmtree.h"
#include "common/xalloc.h"
#include "engine/mounts.h"
#include "engine/volume.h"
#include "image/db.h"

static char root[] = "/tmp/berth-test-mounts.XXXXXX";
static sqlite3 *db;
static struct volume_store *vs;

static int setup(void **state)
{
	(void)state;
	strcpy(root + strlen(root) - 6, "XXXXXX");
	if (!mkdtemp(root))
		return -1;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *path = xasprintf("%s/berth.db", root);
	_cleanup_free_ char *vroot = xasprintf("%s/root", root);
	if (db_open(path, &db, &err) < 0 || volume_store_open(db, vroot, &vs, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	volume_store_close(vs);
	db_close(db);
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(AT_FDCWD, root, &err);
	berth_err_clear(&err);
	return 0;
}

static json_t *hc_binds(const char *bind)
{
	return json_pack("{s:[s]}", "Binds", bind);
}

/* validate must fail with exactly msg */
static void bind_fails(const char *bind, const char *msg)
{
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *hc = hc_binds(bind);
	int r = mounts_validate(NULL, hc, &err);
	if (r == 0)
		fail_msg("%s: accepted", bind);
	if (!err.msg || strcmp(err.msg, msg) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", bind, err.msg, msg);
	berth_err_clear(&err);
}

static void test_bind_errors(void **state)
{
	(void)state;
	bind_fails("", "invalid volume specification: ''");
	bind_fails(":/x", "invalid volume specification: ':/x'");
	bind_fails("/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'");
	bind_fails("/foo:rw", "invalid volume specification: '/foo:rw'");
	bind_fails("/a:/b:bogus", "invalid mode: bogus");
	bind_fails("/a:/b:ro,rw", "invalid mode: ro,rw");
	bind_fails("/a:/b:z,Z", "invalid mode: z,Z");
	bind_fails("/a:/b:shared,slave", "invalid mode: shared,slave");
	bind_fails("/a:/b:ro,", "invalid mode: ro,");
	bind_fails("/a:rel",
		   "invalid volume specification: '/a:rel': invalid mount config for "
		   "type \"bind\": invalid mount path: 'rel' mount path must be absolute");
	bind_fails("rel", "invalid volume specification: 'rel': invalid mount config for type "
			  "\"volume\": invalid mount path: 'rel' mount path must be absolute");
	bind_fails("/a:/", "invalid volume specification: '/a:/': invalid mount config for type "
			   "\"bind\": invalid specification: destination can't be '/'");
	bind_fails("/a:/b:nocopy",
		   "invalid volume specification: '/a:/b:nocopy': invalid mount config for type "
		   "\"bind\": field VolumeOptions must not be specified");
	bind_fails("vol:/b:shared",
		   "invalid volume specification: 'vol:/b:shared': invalid mount config for type "
		   "\"volume\": field BindOptions must not be specified");
	bind_fails("./rel:/b",
		   "invalid volume specification: './rel:/b': create ./rel: \"./rel\" includes "
		   "invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
		   "are allowed. If you intended to pass a host directory, use absolute path");
}

static void hc_fails(json_t *config, json_t *hc, const char *msg)
{
	berth_err err = BERTH_ERR_INIT;
	int r = mounts_validate(config, hc, &err);
	_cleanup_free_ char *dump = json_dumps(hc, JSON_COMPACT);
	if (r == 0)
		fail_msg("%s: accepted", dump);
	if (!err.msg || strcmp(err.msg, msg) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", dump, err.msg, msg);
	berth_err_clear(&err);
	json_decref(hc);
	json_decref(config);
}

static void test_mount_errors(void **state)
{
	(void)state;
	hc_fails(NULL, json_pack("{s:[{s:s,s:s}]}", "Mounts", "Type", "bind", "Target", "/x"),
		 "invalid mount config for type \"bind\": field Source must not be empty");
	hc_fails(NULL,
		 json_pack("{s:[{s:s,s:s,s:s}]}", "Mounts", "Type", "bind", "Source",
			   "/nonexistent/berth", "Target", "/x"),
		 "invalid mount config for type \"bind\": bind source path does not exist: "
		 "/nonexistent/berth");
	hc_fails(NULL,
		 json_pack("{s:[{s:s,s:s,s:s}]}", "Mounts", "Type", "bind", "Source", "rel",
			   "Target", "/x"),
		 "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path "
		 "must be absolute");
	hc_fails(NULL, json_pack("{s:[{s:s,s:s}]}", "Mounts", "Type", "volume", "Source", "v1"),
		 "invalid mount config for type \"volume\": field Target must not be empty");
	hc_fails(NULL,
		 json_pack("{s:[{s:s,s:s,s:s}]}", "Mounts", "Type", "tmpfs", "Source", "x",
			   "Target", "/t"),
		 "invalid mount config for type \"tmpfs\": field Source must not be specified");
	hc_fails(NULL,
		 json_pack("{s:[{s:s,s:s,s:{s:s}}]}", "Mounts", "Type", "volume", "Target", "/t",
			   "BindOptions", "Propagation", "shared"),
		 "invalid mount config for type \"volume\": field BindOptions must not be "
		 "specified");
	hc_fails(NULL,
		 json_pack("{s:[{s:s,s:s,s:s,s:{s:s}}]}", "Mounts", "Type", "bind", "Source", "/",
			   "Target", "/t", "BindOptions", "Propagation", "sideways"),
		 "invalid mount config for type \"bind\": invalid propagation mode: sideways");
	hc_fails(NULL, json_pack("{s:[{s:s,s:s}]}", "Mounts", "Type", "npipe", "Target", "/t"),
		 "invalid mount config for type \"npipe\": mount type unknown");
	/* duplicates across kinds */
	hc_fails(NULL, json_pack("{s:[s,s]}", "Binds", "/a:/x", "v1:/x/"),
		 "Duplicate mount point: /x");
	hc_fails(NULL,
		 json_pack("{s:[s],s:[{s:s,s:s}]}", "Binds", "/a:/x", "Mounts", "Type", "tmpfs",
			   "Target", "/x"),
		 "Duplicate mount point: /x");
	hc_fails(NULL, json_pack("{s:[s],s:{s:s}}", "Binds", "/a:/x", "Tmpfs", "/x", ""),
		 "Duplicate mount point: /x");
	hc_fails(NULL, json_pack("{s:{s:s}}", "Tmpfs", "/t", "size=lots"),
		 "invalid tmpfs option \"size=lots\" for /t");
	hc_fails(NULL, json_pack("{s:{s:s}}", "Tmpfs", "/t", "mode=999"),
		 "invalid tmpfs option \"mode=999\" for /t");
	hc_fails(NULL, json_pack("{s:[s]}", "VolumesFrom", "c1:rx"), "invalid mode: rx");
	hc_fails(json_pack("{s:{s:{}}}", "Volumes", "rel"), json_object(),
		 "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path "
		 "must be absolute");
}

static json_t *find(json_t *mounts, const char *dest)
{
	size_t i;
	json_t *m;
	json_array_foreach (mounts, i, m)
		if (strcmp(json_string_value(json_object_get(m, "Destination")), dest) == 0)
			return m;
	return NULL;
}

static const char *s(json_t *m, const char *k)
{
	return json_string_value(json_object_get(m, k));
}

static void test_resolve(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *host = xasprintf("%s/host/sub", root);
	_cleanup_free_ char *b1 = xasprintf("%s:/b1:ro,rslave", host);
	_cleanup_free_ char *b2 = xasprintf("%s/", root); /* exists, for --mount */
	_cleanup_json_ json_t *hc = json_pack(
		"{s:[s,s,s,s], s:[{s:s,s:s,s:s,s:b}, {s:s,s:s,s:s,s:{s:b,s:{s:s}}}], s:{s:s}}",
		"Binds", b1, "named:/data/", "/anon", "named2:/n2:nocopy,ro", "Mounts", "Type",
		"bind", "Source", b2, "Target", "/m1", "ReadOnly", 1, "Type", "volume", "Source",
		"mvol", "Target", "/m2", "VolumeOptions", "NoCopy", 1, "Labels", "l", "v", "Tmpfs",
		"/run", "size=64m,noexec");
	_cleanup_json_ json_t *img = json_pack("{s:{s:{},s:{}}}", "Volumes", "/data", "/img");
	_cleanup_json_ json_t *config = json_pack("{s:{s:{}}}", "Volumes", "/cfg");
	assert_int_equal(mounts_validate(config, hc, &err), 0);
	_cleanup_json_ json_t *mounts = NULL;
	assert_int_equal(mounts_resolve(config, hc, img, NULL, vs, "c1", &mounts, &err), 0);
	assert_int_equal(json_array_size(mounts), 9);

	json_t *m = find(mounts, "/b1");
	assert_string_equal(s(m, "Type"), "bind");
	assert_string_equal(s(m, "Source"), host);
	assert_string_equal(s(m, "Mode"), "ro,rslave");
	assert_false(json_is_true(json_object_get(m, "RW")));
	assert_string_equal(s(m, "Propagation"), "rslave");
	assert_null(json_object_get(m, "Name"));
	struct stat sb;
	assert_int_equal(stat(host, &sb), 0); /* -v makes a missing source */

	m = find(mounts, "/data");
	assert_string_equal(s(m, "Type"), "volume");
	assert_string_equal(s(m, "Name"), "named");
	assert_string_equal(s(m, "Driver"), "local");
	assert_string_equal(s(m, "Mode"), "z");
	assert_true(json_is_true(json_object_get(m, "RW")));
	assert_string_equal(s(m, "Propagation"), "");
	_cleanup_free_ char *named_mp = NULL;
	assert_int_equal(volume_mountpoint(vs, "named", &named_mp, &err), 0);
	assert_string_equal(s(m, "Source"), named_mp);

	m = find(mounts, "/anon");
	assert_int_equal(strlen(s(m, "Name")), 64);
	m = find(mounts, "/n2");
	assert_string_equal(s(m, "Mode"), "nocopy,ro");
	assert_false(json_is_true(json_object_get(m, "RW")));

	m = find(mounts, "/m1");
	assert_string_equal(s(m, "Propagation"), "rprivate");
	assert_false(json_is_true(json_object_get(m, "RW")));
	m = find(mounts, "/m2");
	assert_string_equal(s(m, "Name"), "mvol");
	assert_string_equal(s(m, "Mode"), "nocopy");
	_cleanup_json_ json_t *mvol = NULL;
	assert_int_equal(volume_get(vs, "mvol", &mvol, &err), 0);
	assert_string_equal(s(json_object_get(mvol, "Labels"), "l"), "v");

	m = find(mounts, "/run");
	assert_string_equal(s(m, "Type"), "tmpfs");
	assert_non_null(json_object_get(m, "TmpfsOptions"));
	json_t *topts = json_object_get(json_object_get(m, "TmpfsOptions"), "Options");
	assert_string_equal(json_string_value(json_array_get(json_array_get(topts, 1), 0)),
			    "noexec");
	assert_string_equal(json_string_value(json_array_get(json_array_get(topts, 0), 1)), "64m");

	/* image Volumes: /data is covered by the named volume, /img and /cfg are anonymous */
	m = find(mounts, "/img");
	assert_int_equal(strlen(s(m, "Name")), 64);
	assert_string_equal(s(m, "Mode"), "");
	m = find(mounts, "/cfg");
	assert_int_equal(strlen(s(m, "Name")), 64);

	/* parents before children */
	size_t i;
	json_t *e;
	size_t last = 0;
	json_array_foreach (mounts, i, e) {
		size_t d = 0;
		for (const char *p = s(e, "Destination"); *p; p++)
			d += *p == '/';
		assert_true(d >= last);
		last = d;
	}

	/* recorded as used: rm refuses */
	assert_int_equal(volume_remove(vs, "named", false, &err), -EBUSY);
	assert_string_equal(err.msg, "remove named: volume is in use - [c1]");
	berth_err_clear(&err);
}

static void test_volumes_from(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *theirs = json_pack(
		"[{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}, {s:s,s:s,s:s,s:s,s:b,s:s}]", "Type", "volume",
		"Name", "shared", "Source", "/x/_data", "Destination", "/shared", "Driver", "local",
		"Mode", "z", "RW", 1, "Propagation", "", "Type", "bind", "Source", "/etc",
		"Destination", "/hostetc", "Mode", "", "RW", 1, "Propagation", "rprivate");
	assert_int_equal(volume_create(vs, "shared", NULL, NULL, NULL, NULL, &err), 0);
	_cleanup_json_ json_t *hc =
		json_pack("{s:[s], s:[s]}", "VolumesFrom", "other:ro", "Binds", "/tmp:/hostetc");
	json_t *const from[] = { theirs };
	_cleanup_json_ json_t *mounts = NULL;
	assert_int_equal(mounts_resolve(NULL, hc, NULL, from, vs, "c2", &mounts, &err), 0);
	assert_int_equal(json_array_size(mounts), 2);
	json_t *m = find(mounts, "/shared");
	assert_string_equal(s(m, "Name"), "shared");
	assert_false(json_is_true(json_object_get(m, "RW"))); /* :ro */
	m = find(mounts, "/hostetc"); /* the explicit bind wins over the copied one */
	assert_string_equal(s(m, "Source"), "/tmp");
	assert_true(json_is_true(json_object_get(m, "RW")));
	_cleanup_strv_ char **users = NULL;
	assert_int_equal(volume_users(vs, "shared", &users, &err), 0);
	assert_string_equal(users[0], "c2");
}

static void test_resolve_failure_leaves_nothing(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	/* the anonymous volume is made first, then the refused driver option fails */
	_cleanup_json_ json_t *hc =
		json_pack("{s:[s], s:[{s:s,s:s,s:s,s:{s:{s:{s:s}}}}]}", "Binds", "/anon", "Mounts",
			  "Type", "volume", "Source", "opts", "Target", "/z", "VolumeOptions",
			  "DriverConfig", "Options", "type", "tmpfs");
	assert_int_equal(mounts_validate(NULL, hc, &err), 0);
	_cleanup_json_ json_t *mounts = NULL;
	assert_int_equal(mounts_resolve(NULL, hc, NULL, NULL, vs, "c9", &mounts, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "create opts: volume option \"type\""));
	berth_err_clear(&err);
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(volume_list(vs, &all, &err), 0);
	assert_int_equal(json_array_size(all), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_copy_up(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", root);
	_cleanup_free_ char *p = NULL;
	assert_int_equal(mkdir(rootfs, 0755), 0);
	/* /data: a dir with a file, a sub dir, a symlink out; /escape: a symlink to
	 * the host's /etc (resolved in the rootfs, so it is the rootfs's /etc) */
	p = xasprintf("%s/data", rootfs);
	assert_int_equal(mkdir(p, 0750), 0);
	assert_int_equal(chown(p, 1000, 1001), 0);
	free(p);
	p = xasprintf("%s/data/conf", rootfs);
	write_file(p, "hello", 04710);
	assert_int_equal(chown(p, 123, 456), 0);
	assert_int_equal(chmod(p, 04710), 0);
	bool have_xattrs = setxattr(p, "user.berth", "v1", 2, 0) == 0;
	free(p);
	p = xasprintf("%s/data/sub", rootfs);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%s/data/sub/f", rootfs);
	write_file(p, "x", 0600);
	free(p);
	p = xasprintf("%s/data/passwd-link", rootfs);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = xasprintf("%s/escape", rootfs);
	assert_int_equal(symlink("/etc", p), 0);
	free(p);
	p = xasprintf("%s/etc", rootfs);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/etc/only-in-rootfs", rootfs);
	write_file(p, "r", 0644);

	_cleanup_json_ json_t *hc = json_pack("{s:[s,s,s,s]}", "Binds", "cv:/data", "esc:/escape",
					      "nc:/data2:nocopy", "full:/etc");
	_cleanup_json_ json_t *mounts = NULL;
	assert_int_equal(mounts_resolve(NULL, hc, NULL, NULL, vs, "c3", &mounts, &err), 0);
	/* "full" is not empty: not copied into */
	_cleanup_free_ char *full = NULL;
	assert_int_equal(volume_mountpoint(vs, "full", &full, &err), 0);
	_cleanup_free_ char *full_file = xasprintf("%s/mine", full);
	write_file(full_file, "m", 0644);
	/* /data2 exists in the rootfs too, but nocopy */
	free(p);
	p = xasprintf("%s/data2", rootfs);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/data2/f", rootfs);
	write_file(p, "n", 0644);

	assert_int_equal(mounts_copy_up(mounts, rootfs, &err), 0);

	_cleanup_free_ char *cv = NULL, *esc = NULL, *nc = NULL;
	assert_int_equal(volume_mountpoint(vs, "cv", &cv, &err), 0);
	assert_int_equal(volume_mountpoint(vs, "esc", &esc, &err), 0);
	assert_int_equal(volume_mountpoint(vs, "nc", &nc, &err), 0);
	struct stat sb;
	/* the volume root takes the directory's owner and mode */
	assert_int_equal(stat(cv, &sb), 0);
	assert_int_equal(sb.st_uid, 1000);
	assert_int_equal(sb.st_gid, 1001);
	assert_int_equal(sb.st_mode & 07777, 0750);
	free(p);
	p = xasprintf("%s/conf", cv);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_uid, 123);
	assert_int_equal(sb.st_gid, 456);
	assert_int_equal(sb.st_mode & 07777, 04710);
	assert_int_equal(sb.st_size, 5);
	if (have_xattrs) {
		char val[8] = "";
		assert_int_equal(getxattr(p, "user.berth", val, sizeof(val)), 2);
		assert_string_equal(val, "v1");
	}
	free(p);
	p = xasprintf("%s/sub/f", cv);
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	p = xasprintf("%s/passwd-link", cv);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	char target[64] = "";
	assert_int_equal(readlink(p, target, sizeof(target) - 1), 11);
	assert_string_equal(target, "/etc/passwd");
	/* the symlinked destination copied the rootfs's /etc, not the host's */
	free(p);
	p = xasprintf("%s/only-in-rootfs", esc);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	p = xasprintf("%s/passwd", esc);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	p = xasprintf("%s/f", nc);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	p = xasprintf("%s/only-in-rootfs", full);
	assert_int_equal(access(p, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mount_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volumes_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_failure_leaves_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy_up, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
