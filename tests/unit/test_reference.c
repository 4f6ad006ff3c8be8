/* test_reference.c - image references as the docker CLI normalises them.
 *
 * The expected values are what `docker pull`, `docker tag` and `docker images`
 * show for the same input (distribution's ParseNormalizedNamed and
 * FamiliarString), including Docker's error wording. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "image/reference.h"

#define D64 "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"
#define DIGEST "sha256:" D64

static const struct {
	const char *in;
	const char *domain, *path, *tag, *digest; /* tag/digest NULL when absent */
	const char *canonical, *familiar, *familiar_repo;
} good[] = {
	{ "busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest", "busybox" },
	{ "busybox:1.36.1", "docker.io", "library/busybox", "1.36.1", NULL,
	  "docker.io/library/busybox:1.36.1", "busybox:1.36.1", "busybox" },
	{ "library/busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest", "busybox" },
	{ "docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest", "busybox" },
	{ "docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", NULL,
	  "docker.io/library/busybox:musl", "busybox:musl", "busybox" },
	/* The legacy index name is docker.io. */
	{ "index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
	  "docker.io/library/busybox:latest", "busybox:latest", "busybox" },
	{ "index.docker.io/user/app:1", "docker.io", "user/app", "1", NULL, "docker.io/user/app:1",
	  "user/app:1", "user/app" },
	{ "user/app", "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest",
	  "user/app:latest", "user/app" },
	/* "library/" is dropped only for a two-component official name. */
	{ "library/a/b", "docker.io", "library/a/b", "latest", NULL, "docker.io/library/a/b:latest",
	  "library/a/b:latest", "library/a/b" },
	{ "a/b/c/d/e", "docker.io", "a/b/c/d/e", "latest", NULL, "docker.io/a/b/c/d/e:latest",
	  "a/b/c/d/e:latest", "a/b/c/d/e" },
	/* localhost is a domain even without a port or a dot. */
	{ "localhost/foo", "localhost", "foo", "latest", NULL, "localhost/foo:latest",
	  "localhost/foo:latest", "localhost/foo" },
	{ "localhost:5000/x:y", "localhost:5000", "x", "y", NULL, "localhost:5000/x:y",
	  "localhost:5000/x:y", "localhost:5000/x" },
	{ "localhost:5000/a/b@" DIGEST, "localhost:5000", "a/b", NULL, DIGEST,
	  "localhost:5000/a/b@" DIGEST, "localhost:5000/a/b@" DIGEST, "localhost:5000/a/b" },
	/* ... but alone it is a repository, and ":5000" its tag. */
	{ "localhost", "docker.io", "library/localhost", "latest", NULL,
	  "docker.io/library/localhost:latest", "localhost:latest", "localhost" },
	{ "localhost:5000", "docker.io", "library/localhost", "5000", NULL,
	  "docker.io/library/localhost:5000", "localhost:5000", "localhost" },
	{ "registry.example.com/team/app:v1.2-rc_3", "registry.example.com", "team/app",
	  "v1.2-rc_3", NULL, "registry.example.com/team/app:v1.2-rc_3",
	  "registry.example.com/team/app:v1.2-rc_3", "registry.example.com/team/app" },
	{ "127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", NULL,
	  "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app" },
	{ "[::1]:5000/app:1", "[::1]:5000", "app", "1", NULL, "[::1]:5000/app:1",
	  "[::1]:5000/app:1", "[::1]:5000/app" },
	{ "[2001:db8::1]/app", "[2001:db8::1]", "app", "latest", NULL, "[2001:db8::1]/app:latest",
	  "[2001:db8::1]/app:latest", "[2001:db8::1]/app" },
	/* A domain may hold capitals and dashes; a port makes one of a plain word. */
	{ "Registry-1.Example.COM/app", "Registry-1.Example.COM", "app", "latest", NULL,
	  "Registry-1.Example.COM/app:latest", "Registry-1.Example.COM/app:latest",
	  "Registry-1.Example.COM/app" },
	{ "myhost:443/app", "myhost:443", "app", "latest", NULL, "myhost:443/app:latest",
	  "myhost:443/app:latest", "myhost:443/app" },
	/* Tag and digest together keep both. */
	{ "busybox:latest@" DIGEST, "docker.io", "library/busybox", "latest", DIGEST,
	  "docker.io/library/busybox:latest@" DIGEST, "busybox:latest@" DIGEST, "busybox" },
	{ "busybox@" DIGEST, "docker.io", "library/busybox", NULL, DIGEST,
	  "docker.io/library/busybox@" DIGEST, "busybox@" DIGEST, "busybox" },
	/* Separators: one '.', one or two '_', any run of '-'. */
	{ "foo_bar/a__b/c---d/e.f", "docker.io", "foo_bar/a__b/c---d/e.f", "latest", NULL,
	  "docker.io/foo_bar/a__b/c---d/e.f:latest", "foo_bar/a__b/c---d/e.f:latest",
	  "foo_bar/a__b/c---d/e.f" },
	/* A docker.io path that reads as a domain keeps "docker.io/" in its short form. */
	{ "index.docker.io/index.docker/app:1", "docker.io", "index.docker/app", "1", NULL,
	  "docker.io/index.docker/app:1", "docker.io/index.docker/app:1",
	  "docker.io/index.docker/app" },
	{ "docker.io/localhost/app", "docker.io", "localhost/app", "latest", NULL,
	  "docker.io/localhost/app:latest", "docker.io/localhost/app:latest",
	  "docker.io/localhost/app" },
	/* Tags may hold capitals, '_' first, '.' and '-'. */
	{ "app:_Build.2-X", "docker.io", "library/app", "_Build.2-X", NULL,
	  "docker.io/library/app:_Build.2-X", "app:_Build.2-X", "app" },
	/* Docker reads a bare digest as a repository "sha256" with the hex as tag. */
	{ DIGEST, "docker.io", "library/sha256", D64, NULL, "docker.io/library/sha256:" D64,
	  "sha256:" D64, "sha256" },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct image_ref r;
		berth_err err = BERTH_ERR_INIT;
		int rc = image_ref_parse(good[i].in, &r, &err);
		if (rc != 0)
			fail_msg("%s: %s", good[i].in, err.msg);
		assert_string_equal(r.domain, good[i].domain);
		assert_string_equal(r.path, good[i].path);
		if (good[i].tag)
			assert_string_equal(r.tag, good[i].tag);
		else
			assert_null(r.tag);
		if (good[i].digest)
			assert_string_equal(r.digest, good[i].digest);
		else
			assert_null(r.digest);
		char *s = image_ref_string(&r);
		assert_string_equal(s, good[i].canonical);
		free(s);
		s = image_ref_familiar(&r);
		assert_string_equal(s, good[i].familiar);
		free(s);
		s = image_ref_familiar_repo(&r);
		assert_string_equal(s, good[i].familiar_repo);
		free(s);
		s = image_ref_repo(&r);
		char *want = strdup(good[i].canonical);
		/* The repository is the canonical form up to the tag or digest. */
		size_t dlen = strlen(good[i].domain);
		char *cut = strpbrk(want + dlen, ":@");
		if (cut)
			*cut = '\0';
		assert_string_equal(s, want);
		free(want);
		free(s);

		/* The canonical and the short form both parse back to the same image. */
		struct image_ref again;
		assert_int_equal(image_ref_parse(good[i].canonical, &again, &err), 0);
		s = image_ref_string(&again);
		assert_string_equal(s, good[i].canonical);
		free(s);
		image_ref_free(&again);
		assert_int_equal(image_ref_parse(good[i].familiar, &again, &err), 0);
		s = image_ref_string(&again);
		assert_string_equal(s, good[i].canonical);
		free(s);
		image_ref_free(&again);
		image_ref_free(&r);
		assert_null(r.domain);
		berth_err_clear(&err);
	}
}

static const struct {
	const char *in;
	const char *msg;
} bad[] = {
	{ "Busybox", "\"Busybox\": invalid reference format: repository name must be lowercase" },
	{ "user/App:tag",
	  "\"user/App:tag\": invalid reference format: repository name must be lowercase" },
	/* A capitalised first component is not a domain (newer Docker reads one). */
	{ "Docker/ubuntu",
	  "\"Docker/ubuntu\": invalid reference format: repository name must be lowercase" },
	{ "localhost:5000/Foo",
	  "\"localhost:5000/Foo\": invalid reference format: repository name must be lowercase" },
	{ "busybox@SHA256:" D64,
	  "\"busybox@SHA256:" D64
	  "\": invalid reference format: repository name must be lowercase" },
	{ "", "\"\": invalid reference format" },
	{ "busybox:", "\"busybox:\": invalid reference format: bad tag" },
	{ ":tag", "\":tag\": invalid reference format" },
	{ "a//b", "\"a//b\": invalid reference format" },
	{ "/busybox", "\"/busybox\": invalid reference format" },
	{ "busybox/", "\"busybox/\": invalid reference format" },
	{ "-foo", "\"-foo\": invalid reference format" },
	{ "foo-", "\"foo-\": invalid reference format" },
	{ "foo..bar", "\"foo..bar\": invalid reference format" },
	{ "foo___bar", "\"foo___bar\": invalid reference format" },
	{ "foo._bar", "\"foo._bar\": invalid reference format" },
	{ "foo bar", "\"foo bar\": invalid reference format" },
	{ "foo:bar:baz", "\"foo:bar:baz\": invalid reference format: bad tag" },
	{ "foo:-x", "\"foo:-x\": invalid reference format: bad tag" },
	{ "foo:a/b", "\"foo:a/b\": invalid reference format: bad registry domain" },
	{ "foo@sha256:abc", "\"foo@sha256:abc\": invalid reference format: bad digest" },
	{ "foo@" DIGEST "@" DIGEST,
	  "\"foo@" DIGEST "@" DIGEST "\": invalid reference format: bad digest" },
	{ "foo@", "\"foo@\": invalid reference format: bad digest" },
	{ "foo@sha256:" D64 "0", "\"foo@sha256:" D64 "0\": invalid checksum digest length" },
	{ "foo@sha256:7CC4B5AEFD1D0CADF8D97D4350462BA51C694EBCA145B08D7D41B41ACC8DB5AA",
	  "\"foo@sha256:7CC4B5AEFD1D0CADF8D97D4350462BA51C694EBCA145B08D7D41B41ACC8DB5AA\": "
	  "invalid checksum digest format" },
	{ "foo@md5:d41d8cd98f00b204e9800998ecf8427e",
	  "\"foo@md5:d41d8cd98f00b204e9800998ecf8427e\": unsupported digest algorithm \"md5\" "
	  "(only "
	  "sha256)" },
	{ D64, "invalid repository name (" D64 "), cannot specify 64-byte hexadecimal strings" },
	{ "foo:5000:bar/baz",
	  "\"foo:5000:bar/baz\": invalid reference format: bad registry domain" },
	{ "exa_mple.com/foo",
	  "\"exa_mple.com/foo\": invalid reference format: bad registry domain" },
	{ "-example.com/foo",
	  "\"-example.com/foo\": invalid reference format: bad registry domain" },
	{ "example-.com/foo",
	  "\"example-.com/foo\": invalid reference format: bad registry domain" },
	{ "localhost:/foo", "\"localhost:/foo\": invalid reference format: bad registry domain" },
	{ "[::1/foo", "\"[::1/foo\": invalid reference format: bad registry domain" },
	{ "[]:5000/foo", "\"[]:5000/foo\": invalid reference format: bad registry domain" },
	{ "[fe80::1%eth0]/foo",
	  "\"[fe80::1%eth0]/foo\": invalid reference format: bad registry domain" },
	{ "localhost:5000/", "\"localhost:5000/\": invalid reference format" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_ref r;
		berth_err err = BERTH_ERR_INIT;
		int rc = image_ref_parse(bad[i].in, &r, &err);
		if (rc != -EINVAL)
			fail_msg("%s: parsed (rc %d)", bad[i].in, rc);
		assert_non_null(err.msg);
		assert_string_equal(err.msg, bad[i].msg);
		assert_null(r.domain);
		assert_null(r.path);
		berth_err_clear(&err);
	}
	struct image_ref r;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(image_ref_parse(NULL, &r, &err), -EINVAL);
	berth_err_clear(&err);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_lengths(void **state)
{
	(void)state;
	struct image_ref r;
	berth_err err = BERTH_ERR_INIT;
	/* "docker.io/library/" is 18 characters of the 255. */
	char *name = repeat('a', 237);
	assert_int_equal(image_ref_parse(name, &r, &err), 0);
	image_ref_free(&r);
	free(name);
	name = repeat('a', 238);
	assert_int_equal(image_ref_parse(name, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ": repository name must not be more than 255 characters"));
	berth_err_clear(&err);
	free(name);

	/* The limit counts the domain too. */
	char *path = repeat('b', 255 - strlen("localhost:5000/"));
	char *s;
	assert_true(asprintf(&s, "localhost:5000/%s", path) > 0);
	assert_int_equal(image_ref_parse(s, &r, &err), 0);
	image_ref_free(&r);
	free(s);
	assert_true(asprintf(&s, "localhost:5000/%sb", path) > 0);
	assert_int_equal(image_ref_parse(s, &r, &err), -EINVAL);
	berth_err_clear(&err);
	free(s);
	free(path);

	/* Tags: 128 characters at most. */
	char *tag = repeat('t', 128);
	assert_true(asprintf(&s, "app:%s", tag) > 0);
	assert_int_equal(image_ref_parse(s, &r, &err), 0);
	assert_string_equal(r.tag, tag);
	image_ref_free(&r);
	free(s);
	assert_true(asprintf(&s, "app:%st", tag) > 0);
	assert_int_equal(image_ref_parse(s, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "invalid reference format: bad tag"));
	berth_err_clear(&err);
	free(s);
	free(tag);
}

static void test_parse_name(void **state)
{
	(void)state;
	struct image_ref r;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(image_ref_parse_name("busybox", &r, &err), 0);
	assert_null(r.tag);
	assert_null(r.digest);
	char *s = image_ref_string(&r);
	assert_string_equal(s, "docker.io/library/busybox");
	free(s);
	s = image_ref_familiar(&r);
	assert_string_equal(s, "busybox");
	free(s);
	image_ref_free(&r);

	assert_int_equal(image_ref_parse_name("localhost:5000/team/app", &r, &err), 0);
	assert_string_equal(r.domain, "localhost:5000");
	assert_string_equal(r.path, "team/app");
	image_ref_free(&r);

	assert_int_equal(image_ref_parse_name("busybox:1", &r, &err), -EINVAL);
	assert_string_equal(
		err.msg,
		"\"busybox:1\": a repository name is wanted here, without a tag or digest");
	berth_err_clear(&err);
	assert_int_equal(image_ref_parse_name("busybox@" DIGEST, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "without a tag or digest"));
	berth_err_clear(&err);
	/* Grammar errors come first, as for image_ref_parse. */
	assert_int_equal(image_ref_parse_name("Busybox", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "repository name must be lowercase"));
	berth_err_clear(&err);
}

static void test_digest_and_id(void **state)
{
	(void)state;
	assert_true(image_digest_valid(DIGEST));
	assert_false(image_digest_valid(D64));
	assert_false(image_digest_valid("sha256:" D64 "a"));
	assert_false(image_digest_valid("sha256:7cc4b5"));
	assert_false(image_digest_valid(
		"sha256:7CC4B5AEFD1D0CADF8D97D4350462BA51C694EBCA145B08D7D41B41ACC8DB5AA"));
	assert_false(image_digest_valid("sha512:" D64));
	assert_false(image_digest_valid("sha256:" D64 "\n"));
	assert_false(image_digest_valid(""));
	assert_false(image_digest_valid(NULL));

	assert_true(image_id_prefix_ok("7cc4b5"));
	assert_true(image_id_prefix_ok("7"));
	assert_true(image_id_prefix_ok(D64));
	assert_false(image_id_prefix_ok(D64 "a"));
	assert_false(image_id_prefix_ok(""));
	assert_false(image_id_prefix_ok(NULL));
	assert_false(image_id_prefix_ok("7CC4B5"));
	assert_false(image_id_prefix_ok("busybox"));
	assert_false(image_id_prefix_ok("sha256:7cc4b5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),          cmocka_unit_test(test_bad),
		cmocka_unit_test(test_lengths),       cmocka_unit_test(test_parse_name),
		cmocka_unit_test(test_digest_and_id),
	};
	return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
