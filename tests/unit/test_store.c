/* test_store.c - the store's blobs and names without a registry: a blob is
 * stored only when its digest and size match, leaves nothing in tmp/ either
 * way, a killed writer's leftovers are swept by the next open, and what a
 * failed load stored is taken back. Also the credentials file (auth.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/rmtree.h"
#include "image/auth.h"
#include "image/digest.h"
#include "image/store.h"

static char root[] = "/tmp/berth-test-store.XXXXXX";

static int setup(void **state)
{
	(void)state;
	strcpy(root + strlen(root) - 6, "XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(AT_FDCWD, root, &err);
	berth_err_clear(&err);
	return 0;
}

/* Entries in DIR under the root (not counting . and ..). */
static int count(const char *dir)
{
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/%s", root, dir) < 0)
		return -1;
	_cleanup_dir_ DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	return n;
}

static void test_blob_verified(void **state)
{
	(void)state;
	_cleanup_free_ char *store_dir = NULL;
	assert_true(asprintf(&store_dir, "%s/s", root) > 0);
	struct image_store *s = NULL;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(image_store_open(store_dir, &s, &err), 0);
	const char *data = "hello, blobs\n";
	char want[IMAGE_DIGEST_BUF], got[IMAGE_DIGEST_BUF];
	digest_buffer(data, strlen(data), want);

	/* a wrong digest: refused, nothing stored, nothing left in tmp/ */
	char wrong[IMAGE_DIGEST_BUF];
	digest_buffer("other", 5, wrong);
	assert_int_equal(image_store_put_blob(s, data, strlen(data), wrong, got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, wrong));
	berth_err_clear(&err);
	assert_false(image_store_has_blob(s, wrong));
	assert_int_equal(count("s/tmp"), 0);
	assert_int_equal(count("s/blobs/sha256"), 0);

	/* a wrong size through the streaming writer */
	struct blob_writer *w;
	assert_int_equal(blob_writer_new(s, &w, &err), 0);
	assert_int_equal(blob_writer_write(w, data, strlen(data), &err), 0);
	assert_int_equal(blob_writer_commit(w, want, 3, got, &err), -EBADMSG);
	berth_err_clear(&err);
	assert_int_equal(count("s/tmp"), 0);

	/* the right one: stored under its digest, readable, and idempotent */
	assert_int_equal(image_store_put_blob(s, data, strlen(data), want, got, &err), 0);
	assert_string_equal(got, want);
	assert_true(image_store_has_blob(s, want));
	assert_int_equal(image_store_put_blob(s, data, strlen(data), want, got, &err), 0);
	char *back = NULL;
	size_t len = 0;
	assert_int_equal(image_store_read_blob(s, want, 1024, &back, &len, &err), 0);
	assert_int_equal(len, strlen(data));
	assert_memory_equal(back, data, len);
	free(back);
	assert_int_equal(image_store_read_blob(s, want, 4, &back, &len, &err), -EFBIG);
	berth_err_clear(&err);

	/* no image uses it: a failed load's discard takes it back */
	char *added[] = { want, NULL };
	image_store_discard_blobs(s, added);
	assert_false(image_store_has_blob(s, want));
	assert_int_equal(image_store_open_blob(s, want, NULL, &err), -ENOENT);
	berth_err_clear(&err);
	image_store_close(s);
}

static void test_killed_writer_swept(void **state)
{
	(void)state;
	_cleanup_free_ char *store_dir = NULL;
	assert_true(asprintf(&store_dir, "%s/k", root) > 0);
	struct image_store *s = NULL;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(image_store_open(store_dir, &s, &err), 0);
	image_store_close(s);
	/* what a killed process leaves: an unlocked file and an unlocked dir */
	_cleanup_free_ char *f = NULL, *d = NULL, *held = NULL;
	assert_true(asprintf(&f, "%s/tmp/blob-dead", store_dir) > 0);
	assert_true(asprintf(&d, "%s/tmp/layer-dead", store_dir) > 0);
	assert_true(asprintf(&held, "%s/tmp/blob-alive", store_dir) > 0);
	int fd = open(f, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdir(d, 0700), 0);
	/* and one a live writer holds: left alone */
	int live = open(held, O_CREAT | O_WRONLY, 0600);
	assert_true(live >= 0);
	assert_int_equal(flock(live, LOCK_EX), 0);
	pid_t child = fork();
	if (child == 0) {
		/* another process opens the store (flock is per open file, so a
		 * separate process is what a concurrent berth would be) */
		struct image_store *s2 = NULL;
		berth_err e2 = BERTH_ERR_INIT;
		_exit(image_store_open(store_dir, &s2, &e2) == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(f, F_OK), -1);
	assert_int_equal(access(d, F_OK), -1);
	assert_int_equal(access(held, F_OK), 0);
	close(live);
}

static void test_auth_file(void **state)
{
	(void)state;
	_cleanup_free_ char *cfg = NULL;
	assert_true(asprintf(&cfg, "%s/docker-config", root) > 0);
	berth_err err = BERTH_ERR_INIT;
	char *user = NULL, *pass = NULL;
	assert_int_equal(auth_lookup(cfg, "localhost:5000", &user, &pass, &err), 1);
	/* a file docker wrote, with keys of its own that must survive */
	assert_int_equal(mkdir(cfg, 0700), 0);
	_cleanup_free_ char *path = NULL;
	assert_true(asprintf(&path, "%s/config.json", cfg) > 0);
	const char *docker =
		"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\"}},"
		"\"credsStore\":\"\",\"detachKeys\":\"ctrl-x\"}";
	_cleanup_close_ int dfd = open(cfg, O_RDONLY | O_DIRECTORY);
	assert_int_equal(file_write_atomic(dfd, "config.json", docker, strlen(docker), 0600, &err),
			 0);
	/* docker.io's key is Docker Hub's v1 URL; "hub:secret" in base64 */
	assert_int_equal(auth_lookup(cfg, "docker.io", &user, &pass, &err), 0);
	assert_string_equal(user, "hub");
	assert_string_equal(pass, "secret");
	free(user);
	free(pass);
	/* a password with a colon: split at the first one, as docker does */
	assert_int_equal(auth_save(cfg, "localhost:5000", "me", "pa:ss", &err), 0);
	assert_int_equal(auth_lookup(cfg, "localhost:5000", &user, &pass, &err), 0);
	assert_string_equal(user, "me");
	assert_string_equal(pass, "pa:ss");
	free(user);
	free(pass);
	char *text = NULL;
	size_t len;
	assert_int_equal(file_read(path, &text, &len, &err), 0);
	assert_non_null(strstr(text, "\"detachKeys\": \"ctrl-x\""));
	assert_non_null(strstr(text, "\"localhost:5000\""));
	assert_non_null(strstr(text, "bWU6cGE6c3M=")); /* base64("me:pa:ss") */
	free(text);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(auth_remove(cfg, "localhost:5000", &err), 0);
	assert_int_equal(auth_remove(cfg, "localhost:5000", &err), 1);
	assert_int_equal(auth_lookup(cfg, "docker.io", &user, &pass, &err), 0);
	free(user);
	free(pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_verified),
		cmocka_unit_test(test_killed_writer_swept),
		cmocka_unit_test(test_auth_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
