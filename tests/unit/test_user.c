/* test_user.c - --user and --group-add resolved against a rootfs' passwd and group files. */
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
#include "engine/user.h"

struct fixture {
	char dir[64];
	int rootfd;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/berth-test-user-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	char etc[128];
	snprintf(etc, sizeof(etc), "%s/etc", fx->dir);
	mkdir(etc, 0755);
	write_file(fx->dir, "etc/passwd",
		   "root:x:0:0:root:/root:/bin/sh\n"
		   "# a comment\n"
		   "\n"
		   "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
		   "app:x:1000:1000:App:/home/app:/bin/sh\n"
		   "web:x:33:33::/var/www:/bin/false\n");
	write_file(fx->dir, "etc/group",
		   "root:x:0:\n"
		   "daemon:x:1:\n"
		   "app:x:1000:\n"
		   "audio:x:29:app,web\n"
		   "video:x:44: web , app\n"
		   "staff:x:50:\n");
	fx->rootfd = open(fx->dir, O_PATH | O_DIRECTORY);
	*state = fx;
	return fx->rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	close(fx->rootfd);
	int r = system(cmd);
	free(fx);
	return r == 0 ? 0 : -1;
}

static void test_names_and_numbers(void **state)
{
	struct fixture *fx = *state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct user_ids u;

	/* A name: its uid, primary gid and the groups listing it, in file order. */
	assert_int_equal(user_resolve(fx->rootfd, "app", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_int_equal(u.n_sgids, 2);
	assert_int_equal(u.sgids[0], 29);
	assert_int_equal(u.sgids[1], 44);
	assert_string_equal(u.home, "/home/app");
	user_ids_release(&u);

	/* A uid found in passwd behaves as its name. */
	assert_int_equal(user_resolve(fx->rootfd, "33", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 33);
	assert_int_equal(u.gid, 33);
	assert_int_equal(u.n_sgids, 2);
	user_ids_release(&u);

	/* A uid not in passwd: gid 0, no groups. */
	assert_int_equal(user_resolve(fx->rootfd, "4242", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	assert_int_equal(u.n_sgids, 0);
	assert_null(u.home);
	user_ids_release(&u);

	/* An explicit group replaces the primary one and drops the supplementary ones. */
	assert_int_equal(user_resolve(fx->rootfd, "app:staff", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 50);
	assert_int_equal(u.n_sgids, 0);
	user_ids_release(&u);
	assert_int_equal(user_resolve(fx->rootfd, "4242:4343", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 4343);
	user_ids_release(&u);

	/* Nothing given: root. GroupAdd by name and by number. */
	const char *add[] = { "staff", "777" };
	assert_int_equal(user_resolve(fx->rootfd, NULL, add, 2, &u, &err), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_int_equal(u.n_sgids, 2);
	assert_int_equal(u.sgids[0], 50);
	assert_int_equal(u.sgids[1], 777);
	user_ids_release(&u);
}

static void test_errors(void **state)
{
	struct fixture *fx = *state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct user_ids u;
	assert_int_equal(user_resolve(fx->rootfd, "nobody", NULL, 0, &u, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "unable to find user nobody: no matching entries in passwd file");
	berth_err_clear(&err);
	assert_int_equal(user_resolve(fx->rootfd, "app:nogroup", NULL, 0, &u, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "unable to find group nogroup: no matching entries in group file");
	berth_err_clear(&err);
	const char *add[] = { "wheel" };
	assert_int_equal(user_resolve(fx->rootfd, "app", add, 1, &u, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "unable to find group wheel: no matching entries in group file");
	berth_err_clear(&err);
	assert_true(user_resolve(fx->rootfd, "99999999999", NULL, 0, &u, &err) < 0);
	assert_non_null(strstr(err.msg, "must be in range"));
}

/* No /etc at all: numbers work, names do not. A symlinked passwd cannot reach the host. */
static void test_missing_and_symlinked_files(void **state)
{
	struct fixture *fx = *state;
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	char path[256], host[128];
	snprintf(path, sizeof(path), "%s/etc/passwd", fx->dir);
	assert_int_equal(unlink(path), 0);
	struct user_ids u;
	assert_int_equal(user_resolve(fx->rootfd, "1000:1000", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 1000);
	user_ids_release(&u);
	assert_int_equal(user_resolve(fx->rootfd, "app", NULL, 0, &u, &err), -ENOENT);
	berth_err_clear(&err);

	/* A file outside the rootfs naming "hostonly": the link is resolved inside the root. */
	snprintf(host, sizeof(host), "%s.hostpw", fx->dir);
	write_file("/", host + 1, "hostonly:x:1234:1234::/:/bin/sh\n");
	assert_int_equal(symlink(host, path), 0);
	assert_int_equal(user_resolve(fx->rootfd, "hostonly", NULL, 0, &u, &err), -ENOENT);
	unlink(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_and_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_symlinked_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
