/* test_manifest.c - manifests, indexes, configs, platforms and ChainIDs.
 *
 * The documents are the examples of the OCI image spec (manifest.md,
 * image-index.md, config.md) and of Docker's image manifest v2 schema 2
 * page, plus a manifest list shaped like Docker Hub's multi-platform images. */
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
#include "image/manifest.h"

#define DG(x) "sha256:" x
#define H_CONFIG "b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
#define H_L1 "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"
#define H_L2 "3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"
#define H_L3 "ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736"
#define H_PPC "e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"
#define H_AMD "5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"

/* OCI image spec, manifest.md "Example Image Manifest". */
static const char oci_manifest[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
	"  \"config\": {\n"
	"    \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
	"    \"digest\": \"" DG(
		H_CONFIG) "\",\n"
			  "    \"size\": 7023\n"
			  "  },\n"
			  "  \"layers\": [\n"
			  "    { \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
			  "      \"digest\": \"" DG(
				  H_L1) "\", \"size\": 32654 },\n"
					"    { \"mediaType\": "
					"\"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
					"      \"digest\": \"" DG(
						H_L2) "\", \"size\": 16724 },\n"
						      "    { \"mediaType\": "
						      "\"application/"
						      "vnd.oci.image.layer.v1.tar+gzip\",\n"
						      "      \"digest\": \"" DG(
							      H_L3) "\", \"size\": 73109 }\n"
								    "  ],\n"
								    "  \"subject\": {\n"
								    "    \"mediaType\": "
								    "\"application/"
								    "vnd.oci.image.manifest.v1+"
								    "json\",\n"
								    "    \"size\": 7682,\n"
								    "    \"digest\": \"" DG(
									    H_AMD) "\"\n"
										   "  },\n"
										   "  "
										   "\"annotations\""
										   ": { "
										   "\"com.example."
										   "key1\": "
										   "\"value1\", "
										   "\"com.example."
										   "key2\": "
										   "\"value2\" }\n"
										   "}\n";

/* Docker's schema 2 example (docs/spec/manifest-v2-2.md), foreign layer included. */
static const char docker_manifest[] =
	"{\"schemaVersion\": 2,"
	" \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\","
	" \"config\": {\"mediaType\": \"application/vnd.docker.container.image.v1+json\","
	"   \"size\": 7023, \"digest\": \"" DG(
		H_CONFIG) "\"},"
			  " \"layers\": ["
			  "  {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\","
			  "   \"size\": 32654, \"digest\": \"" DG(
				  H_L1) "\"},"
					"  {\"mediaType\": "
					"\"application/"
					"vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
					"   \"size\": 16724, \"digest\": \"" DG(
						H_L2) "\","
						      "   \"urls\": "
						      "[\"https://example.com/layer\"]}]}";

/* OCI image spec, image-index.md "Example Image Index". */
static const char oci_index[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.oci.image.index.v1+json\",\n"
	"  \"manifests\": [\n"
	"    {\n"
	"      \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
	"      \"size\": 7143,\n"
	"      \"digest\": \"" DG(
		H_PPC) "\",\n"
		       "      \"platform\": { \"architecture\": \"ppc64le\", \"os\": \"linux\" }\n"
		       "    },\n"
		       "    {\n"
		       "      \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
		       "      \"size\": 7682,\n"
		       "      \"digest\": \"" DG(
			       H_AMD) "\",\n"
				      "      \"platform\": { \"architecture\": \"amd64\", \"os\": "
				      "\"linux\" }\n"
				      "    }\n"
				      "  ],\n"
				      "  \"annotations\": { \"com.example.key1\": \"value1\", "
				      "\"com.example.key2\": \"value2\" }\n"
				      "}\n";

/* A Docker manifest list of a multi-platform image; digests made from the index. */
#define ENTRY(n, plat)                                                                             \
	"{\"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\", \"size\": 527," \
	" \"digest\": \"sha256:" n "0000000000000000000000000000000000000000000000000000000000"    \
	"000\", \"platform\": " plat "}"
static const char docker_list
	[] = "{\"schemaVersion\": 2,"
	     " \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\","
	     " \"manifests\": [" ENTRY(
		     "a01",
		     "{\"architecture\": \"amd64\", \"os\": "
		     "\"linux\"}") "," ENTRY("a02",
					     "{\"architectur"
					     "e\": \"arm\", "
					     "\"os\": "
					     "\"linux\", "
					     "\"variant\": "
					     "\"v5\"}") "," ENTRY("a03",
								  "{\"architecture\": \"arm\", "
								  "\"os\": \"linux\", \"variant\": "
								  "\"v6\"}") "," ENTRY("a04", "{\"a"
											      "rchi"
											      "tect"
											      "ure"
											      "\": "
											      "\"ar"
											      "m\","
											      " \"o"
											      "s\":"
											      " \"l"
											      "inux"
											      "\", "
											      "\"va"
											      "rian"
											      "t\":"
											      " \"v"
											      "7\""
											      "}") "," ENTRY("a05",
													     "{\"architecture\": \"arm64\", \"os\": \"linux\", \"variant\": "
													     "\"v8\"}") "," ENTRY("a06",
																  "{\"architecture\": \"386\", \"os\": "
																  "\"linux\"}") "," ENTRY("a07",
																			  "{\"architecture\": "
																			  "\"ppc64le\", \"os\": "
																			  "\"linux\"}") "," ENTRY("a08",
																						  "{\"architecture\": \"s390x\", \"os\": \"linux\"}") "," ENTRY("a09",
																														"{\"architecture\": \"amd64\", \"os\": \"windows\", \"os.version\": "
																														"\"10.0.17763.5122\"}") "]}";

/* OCI image spec, config.md "Example". */
static const char oci_config[] =
	"{\n"
	"  \"created\": \"2015-10-31T22:22:56.015925234Z\",\n"
	"  \"author\": \"Alyssa P. Hacker <alyspdev@example.com>\",\n"
	"  \"architecture\": \"amd64\",\n"
	"  \"os\": \"linux\",\n"
	"  \"config\": {\n"
	"    \"User\": \"alice\",\n"
	"    \"ExposedPorts\": { \"8080/tcp\": {} },\n"
	"    \"Env\": [ \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	" \"FOO=oci_is_a\", \"BAR=well_written_spec\" ],\n"
	"    \"Entrypoint\": [ \"/bin/my-app-binary\" ],\n"
	"    \"Cmd\": [ \"--foreground\", \"--config\", \"/etc/my-app.d/default.cfg\" ],\n"
	"    \"Volumes\": { \"/var/job-result-data\": {}, \"/var/log/my-app-logs\": {} },\n"
	"    \"WorkingDir\": \"/home/alice\",\n"
	"    \"Labels\": { \"com.example.project.git.url\": \"https://example.com/project.git\" }\n"
	"  },\n"
	"  \"rootfs\": {\n"
	"    \"diff_ids\": [\n"
	"      \"sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1\",\n"
	"      \"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"\n"
	"    ],\n"
	"    \"type\": \"layers\"\n"
	"  },\n"
	"  \"history\": [\n"
	"    { \"created\": \"2015-10-31T22:22:54.690851953Z\",\n"
	"      \"created_by\": \"/bin/sh -c #(nop) ADD "
	"file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /\" },\n"
	"    { \"created\": \"2015-10-31T22:22:55.613815829Z\",\n"
	"      \"created_by\": \"/bin/sh -c #(nop) CMD [\\\"sh\\\"]\",\n"
	"      \"empty_layer\": true },\n"
	"    { \"created\": \"2015-10-31T22:22:56.329850019Z\",\n"
	"      \"created_by\": \"/bin/sh -c apk add curl\", \"comment\": "
	"\"buildkit.dockerfile.v0\" }\n"
	"  ]\n"
	"}\n";

/* A Docker schema 1 manifest, cut down (docker/distribution's testdata). */
static const char schema1[] =
	"{\"schemaVersion\": 1, \"name\": \"hello-world\", \"tag\": \"latest\","
	" \"architecture\": \"amd64\", \"fsLayers\": [{\"blobSum\": \"sha256:"
	"5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"}],"
	" \"history\": [], \"signatures\": []}";

static void expect_err(int rc, int want_rc, berth_err *err, const char *want_msg)
{
	assert_int_equal(rc, want_rc);
	assert_non_null(err->msg);
	if (strcmp(err->msg, want_msg) != 0)
		fail_msg("got \"%s\", want \"%s\"", err->msg, want_msg);
	berth_err_clear(err);
}

static void expect_err_has(int rc, berth_err *err, const char *part)
{
	assert_true(rc < 0);
	assert_non_null(err->msg);
	assert_non_null(err->msg);
	if (!strstr(err->msg, part))
		fail_msg("got \"%s\", want it to hold \"%s\"", err->msg, part);
	berth_err_clear(err);
}

static void test_kind(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
#define KIND(doc, ct) manifest_kind(doc, strlen(doc), ct, &err)
	assert_int_equal(KIND(oci_manifest, NULL), MANIFEST_IMAGE);
	assert_int_equal(KIND(docker_manifest, NULL), MANIFEST_IMAGE);
	assert_int_equal(KIND(oci_index, NULL), MANIFEST_INDEX);
	assert_int_equal(KIND(docker_list, MT_DOCKER_LIST), MANIFEST_INDEX);
	assert_null(err.msg);

	/* No mediaType: the Content-Type, then the fields decide. */
	const char *bare_index = "{\"schemaVersion\":2,\"manifests\":[]}";
	const char *bare_image = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
	assert_int_equal(KIND(bare_index, NULL), MANIFEST_INDEX);
	assert_int_equal(KIND(bare_image, NULL), MANIFEST_IMAGE);
	assert_int_equal(KIND(bare_image, "application/json"), MANIFEST_IMAGE);
	assert_int_equal(KIND(bare_image, MT_OCI_INDEX "; charset=utf-8"), MANIFEST_INDEX);
	assert_int_equal(KIND("{}", MT_DOCKER_MANIFEST), MANIFEST_IMAGE);
	/* The body's own mediaType wins over the HTTP header. */
	assert_int_equal(KIND(oci_index, MT_OCI_MANIFEST), MANIFEST_INDEX);

	expect_err(KIND(schema1, NULL), MANIFEST_UNKNOWN, &err,
		   "schema 1 manifests are not supported: schemaVersion 1 (push the image again "
		   "with a current docker or skopeo)");
	expect_err(KIND("{\"schemaVersion\":1}", MT_DOCKER_SCHEMA1_SIGNED), MANIFEST_UNKNOWN, &err,
		   "schema 1 manifests are not supported: " MT_DOCKER_SCHEMA1_SIGNED
		   " (push the image again with a current docker or skopeo)");
	expect_err(KIND("{\"mediaType\":\"" MT_DOCKER_SCHEMA1 "\"}", NULL), MANIFEST_UNKNOWN, &err,
		   "schema 1 manifests are not supported: " MT_DOCKER_SCHEMA1
		   " (push the image again with a current docker or skopeo)");
	expect_err(KIND("{\"mediaType\":\"text/html\"}", NULL), MANIFEST_UNKNOWN, &err,
		   "manifest: unsupported media type \"text/html\"");
	expect_err(KIND("{\"mediaType\":7}", NULL), MANIFEST_UNKNOWN, &err,
		   "manifest: mediaType: must be a string, not an integer");
	expect_err(KIND("{\"schemaVersion\":2}", NULL), MANIFEST_UNKNOWN, &err,
		   "manifest: no mediaType, and neither \"manifests\" nor \"layers\": cannot tell "
		   "an index from an image manifest");
	expect_err(KIND("[1,2]", NULL), MANIFEST_UNKNOWN, &err,
		   "manifest: must be a JSON object, not an array");
	expect_err_has(KIND("<html>", "text/html") == MANIFEST_UNKNOWN ? -1 : 0, &err,
		       "manifest: not valid JSON: line 1");
	expect_err_has(manifest_kind("", 0, NULL, &err) == MANIFEST_UNKNOWN ? -1 : 0, &err,
		       "manifest: not valid JSON");
	expect_err_has(KIND("{\"a\":1,\"a\":2}", NULL) == MANIFEST_UNKNOWN ? -1 : 0, &err,
		       "duplicate object key");
#undef KIND

	/* Over the cap: refused before parsing (the buffer is not even read). */
	static const char tiny[] = "{}";
	expect_err(manifest_kind(tiny, MANIFEST_MAX_SIZE + 1, NULL, &err), MANIFEST_UNKNOWN, &err,
		   "manifest: 4194305 bytes is over the limit of 4194304 bytes");
}

static void test_manifest_oci(void **state)
{
	(void)state;
	struct image_manifest m;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(manifest_parse(oci_manifest, strlen(oci_manifest), &m, &err), 0);
	assert_string_equal(m.media_type, MT_OCI_MANIFEST);
	assert_string_equal(m.config.media_type, MT_OCI_CONFIG);
	assert_string_equal(m.config.digest, DG(H_CONFIG));
	assert_int_equal(m.config.size, 7023);
	assert_null(m.config.platform.os);
	assert_int_equal(m.n_layers, 3);
	assert_string_equal(m.layers[0].media_type, MT_OCI_LAYER_GZIP);
	assert_string_equal(m.layers[0].digest, DG(H_L1));
	assert_int_equal(m.layers[0].size, 32654);
	assert_string_equal(m.layers[2].digest, DG(H_L3));
	assert_int_equal(m.layers[2].size, 73109);
	manifest_free(&m);
	assert_null(m.layers);
	manifest_free(&m); /* twice is harmless */
}

static void test_manifest_docker(void **state)
{
	(void)state;
	struct image_manifest m;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(manifest_parse(docker_manifest, strlen(docker_manifest), &m, &err), 0);
	assert_string_equal(m.media_type, MT_DOCKER_MANIFEST);
	assert_string_equal(m.config.media_type, MT_DOCKER_CONFIG);
	assert_int_equal(m.n_layers, 2);
	assert_string_equal(m.layers[0].media_type, MT_DOCKER_LAYER_GZIP);
	assert_string_equal(m.layers[1].media_type, MT_DOCKER_FOREIGN_LAYER);
	manifest_free(&m);

	/* mediaType omitted (allowed by OCI): taken as an OCI manifest; no layers is valid. */
	const char *bare = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG
			   "\",\"digest\":\"" DG(H_CONFIG) "\",\"size\":0},\"layers\":[]}";
	assert_int_equal(manifest_parse(bare, strlen(bare), &m, &err), 0);
	assert_string_equal(m.media_type, MT_OCI_MANIFEST);
	assert_int_equal(m.n_layers, 0);
	assert_int_equal(m.config.size, 0);
	manifest_free(&m);
}

/* Replace the first occurrence of from with to in doc (test helper). */
static char *edit(const char *doc, const char *from, const char *to)
{
	const char *at = strstr(doc, from);
	assert_non_null(at);
	char *out;
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - doc), doc, to, at + strlen(from)) > 0);
	return out;
}

static void test_manifest_bad(void **state)
{
	(void)state;
	struct image_manifest m;
	berth_err err = BERTH_ERR_INIT;
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
		{ "\"schemaVersion\": 2", "\"schemaVersion\": 1",
		  "schema 1 manifests are not supported: manifest: schemaVersion 1 (push the image "
		  "again with a current docker or skopeo)" },
		{ "\"schemaVersion\": 2", "\"schemaVersion\": 3",
		  "manifest: schemaVersion: 3 is not supported (only 2)" },
		{ "\"schemaVersion\": 2", "\"schemaVersion\": \"2\"",
		  "manifest: schemaVersion: must be an integer, not a string" },
		{ "\"schemaVersion\": 2,", "",
		  "manifest: schemaVersion: required field is missing" },
		{ "\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\"",
		  "\"mediaType\": \"" MT_OCI_INDEX "\"",
		  "manifest: mediaType: \"" MT_OCI_INDEX "\" is an index, not an image manifest" },
		{ "\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\"",
		  "\"mediaType\": \"application/x-foo\"",
		  "manifest: mediaType: unsupported media type \"application/x-foo\"" },
		{ "\"digest\": \"" DG(H_CONFIG) "\"", "\"digest\": \"sha256:abc\"",
		  "manifest: config: digest: \"sha256:abc\" is not a valid sha256 digest" },
		{ "\"digest\": \"" DG(H_CONFIG) "\"",
		  "\"digest\": \"sha512:" H_CONFIG H_CONFIG "\"",
		  "manifest: config: digest: \"sha512:" H_CONFIG H_CONFIG
		  "\" is not a valid sha256 digest" },
		{ "\"digest\": \"" DG(H_CONFIG) "\",", "",
		  "manifest: config: digest: required field is missing" },
		{ "\"size\": 7023", "\"size\": -1", "manifest: config: size: -1 is negative" },
		{ "\"size\": 7023", "\"size\": 7023.5",
		  "manifest: config: size: must be an integer, not a number" },
		{ ",\n    \"size\": 7023", "",
		  "manifest: config: size: required field is missing" },
		{ "\"mediaType\": \"application/vnd.oci.image.config.v1+json\",", "",
		  "manifest: config: mediaType: required field is missing" },
		{ "\"digest\": \"" DG(H_L2) "\"", "\"digest\": \"sha256:" H_L2 "\\n\"",
		  "manifest: layers[1]: digest: \"sha256:" H_L2
		  "\n\" is not a valid sha256 digest" },
		{ "\"digest\": \"" DG(H_L3) "\", \"size\": 73109",
		  "\"digest\": \"" DG(H_L3) "\", \"size\": -5",
		  "manifest: layers[2]: size: -5 is negative" },
		{ "\"layers\": [", "\"layers\": 3, \"x\": [",
		  "manifest: layers: must be an array, not an integer" },
		{ "\"layers\": [", "\"layers\": [ 7, ",
		  "manifest: layers[0]: must be an object, not an integer" },
		{ "\"config\": {", "\"config\": 1, \"x\": {",
		  "manifest: config: must be an object, not an integer" },
		{ "\"config\": {", "\"cfg\": {",
		  "manifest: config: must be an object, not missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *doc = edit(oci_manifest, cases[i].from, cases[i].to);
		int rc = manifest_parse(doc, strlen(doc), &m, &err);
		if (rc >= 0)
			fail_msg("case %zu parsed", i);
		assert_null(m.layers);
		assert_null(m.media_type);
		expect_err(rc, rc, &err, cases[i].msg);
		free(doc);
	}
	assert_int_equal(manifest_parse(schema1, strlen(schema1), &m, &err), -ENOTSUP);
	berth_err_clear(&err);
	expect_err(manifest_parse(oci_index, strlen(oci_index), &m, &err), -EINVAL, &err,
		   "manifest: mediaType: \"" MT_OCI_INDEX "\" is an index, not an image manifest");
	const char *bare_index = "{\"schemaVersion\":2,\"manifests\":[]}";
	expect_err(manifest_parse(bare_index, strlen(bare_index), &m, &err), -EINVAL, &err,
		   "manifest: has \"manifests\": an index, not an image manifest");
	expect_err(manifest_parse(oci_manifest, MANIFEST_MAX_SIZE + 1, &m, &err), -EFBIG, &err,
		   "manifest: 4194305 bytes is over the limit of 4194304 bytes");
	/* Truncated input: the length is authoritative, not a NUL. */
	expect_err_has(manifest_parse(oci_manifest, 40, &m, &err), &err,
		       "manifest: not valid JSON");
}

static void test_index(void **state)
{
	(void)state;
	struct image_index idx;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(index_parse(oci_index, strlen(oci_index), &idx, &err), 0);
	assert_string_equal(idx.media_type, MT_OCI_INDEX);
	assert_int_equal(idx.n_manifests, 2);
	assert_string_equal(idx.manifests[0].digest, DG(H_PPC));
	assert_int_equal(idx.manifests[0].size, 7143);
	assert_string_equal(idx.manifests[0].platform.os, "linux");
	assert_string_equal(idx.manifests[0].platform.architecture, "ppc64le");
	assert_null(idx.manifests[0].platform.variant);
	assert_string_equal(idx.manifests[1].platform.architecture, "amd64");

	struct image_platform want = { "linux", "amd64", NULL };
	assert_int_equal(index_select(&idx, &want, &err), 1);
	want.architecture = "ppc64le";
	assert_int_equal(index_select(&idx, &want, &err), 0);
	want.architecture = "arm64";
	expect_err(index_select(&idx, &want, &err), -ENOENT, &err,
		   "no matching manifest for linux/arm64 in the manifest list entries (the index "
		   "has: linux/ppc64le, linux/amd64)");
	index_free(&idx);

	/* An entry without a platform (an OCI layout's index.json) parses, and never matches. */
	const char *layout =
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
		"\",\"digest\":\"" DG(H_AMD) "\",\"size\":7682,\"annotations\":"
					     "{\"org.opencontainers.image.ref.name\":\"1.0\"}}]}";
	assert_int_equal(index_parse(layout, strlen(layout), &idx, &err), 0);
	assert_string_equal(idx.media_type, MT_OCI_INDEX);
	assert_int_equal(idx.n_manifests, 1);
	assert_null(idx.manifests[0].platform.os);
	want.architecture = "amd64";
	expect_err(index_select(&idx, &want, &err), -ENOENT, &err,
		   "no matching manifest for linux/amd64 in the manifest list entries (the index "
		   "names no platform)");
	index_free(&idx);

	const char *empty =
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[]}";
	assert_int_equal(index_parse(empty, strlen(empty), &idx, &err), 0);
	assert_int_equal(idx.n_manifests, 0);
	assert_int_equal(index_select(&idx, &want, &err), -ENOENT);
	berth_err_clear(&err);
	index_free(&idx);
}

static void test_index_bad(void **state)
{
	(void)state;
	struct image_index idx;
	berth_err err = BERTH_ERR_INIT;
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
		{ "\"os\": \"linux\" }\n    },", "\"os\": 5 }\n    },",
		  "index: manifests[0]: platform.os: must be a string, not an integer" },
		{ "\"architecture\": \"amd64\", ", "",
		  "index: manifests[1]: platform.architecture: required field is missing" },
		{ "\"platform\": {", "\"platform\": [], \"x\": {",
		  "index: manifests[0]: platform: must be an object, not an array" },
		{ "\"digest\": \"" DG(H_AMD) "\"", "\"digest\": \"" H_AMD "\"",
		  "index: manifests[1]: digest: \"" H_AMD "\" is not a valid sha256 digest" },
		{ "\"size\": 7143", "\"size\": -7143",
		  "index: manifests[0]: size: -7143 is negative" },
		{ "\"manifests\": [", "\"manifests\": {}, \"x\": [",
		  "index: manifests: must be an array, not an object" },
		{ "\"manifests\": [", "\"m\": [", "index: manifests: required field is missing" },
		{ "\"mediaType\": \"application/vnd.oci.image.index.v1+json\"",
		  "\"mediaType\": \"" MT_DOCKER_MANIFEST "\"",
		  "index: mediaType: \"" MT_DOCKER_MANIFEST
		  "\" is an image manifest, not an index" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *doc = edit(oci_index, cases[i].from, cases[i].to);
		int rc = index_parse(doc, strlen(doc), &idx, &err);
		if (rc >= 0)
			fail_msg("case %zu parsed", i);
		assert_null(idx.manifests);
		expect_err(rc, -EINVAL, &err, cases[i].msg);
		free(doc);
	}
	assert_int_equal(index_parse(schema1, strlen(schema1), &idx, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "schema 1 manifests are not supported"));
	berth_err_clear(&err);
}

static int select_str(const struct image_index *idx, const char *platform, berth_err *err)
{
	struct image_platform p;
	if (platform_parse(platform, &p, err) < 0)
		fail_msg("%s: %s", platform, err->msg);
	int r = index_select(idx, &p, err);
	platform_free(&p);
	return r;
}

static void test_select_docker_list(void **state)
{
	(void)state;
	struct image_index idx;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(index_parse(docker_list, strlen(docker_list), &idx, &err), 0);
	assert_string_equal(idx.media_type, MT_DOCKER_LIST);
	assert_int_equal(idx.n_manifests, 9);
	assert_string_equal(idx.manifests[4].platform.variant, "v8");
	assert_string_equal(idx.manifests[4].media_type, MT_DOCKER_MANIFEST);

	static const struct {
		const char *want;
		int index;
	} cases[] = {
		{ "linux/amd64", 0 },    { "linux/x86_64", 0 }, /* uname's name */
		{ "linux/amd64/v3", 0 }, /* amd64 variants are not told apart */
		{ "LINUX/AMD64", 0 },    /* case-insensitive, as containerd */
		{ "amd64", 0 },          /* an architecture alone is on Linux */
		{ "linux/arm/v5", 1 },   { "linux/arm/v6", 2 },
		{ "linux/arm/v7", 3 },   { "linux/arm", 3 }, /* arm without variant is v7 */
		{ "linux/armhf", 3 },    { "linux/armel", 2 },
		{ "linux/arm64", 4 }, /* arm64: no variant and v8 are the same */
		{ "linux/arm64/v8", 4 }, { "linux/aarch64", 4 },
		{ "linux/386", 5 },      { "linux/i386", 5 },
		{ "linux/ppc64le", 6 },  { "linux/s390x", 7 },
		{ "windows/amd64", 8 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = select_str(&idx, cases[i].want, &err);
		if (r != cases[i].index)
			fail_msg("%s: got %d, want %d (%s)", cases[i].want, r, cases[i].index,
				 err.msg ? err.msg : "");
	}
	expect_err(select_str(&idx, "linux/arm/v8", &err), -ENOENT, &err,
		   "no matching manifest for linux/arm/v8 in the manifest list entries (the index "
		   "has: linux/amd64, linux/arm/v5, linux/arm/v6, linux/arm/v7, linux/arm64/v8, "
		   "linux/386, linux/ppc64le, linux/s390x, windows/amd64)");
	expect_err_has(select_str(&idx, "linux/riscv64", &err), &err,
		       "no matching manifest for linux/riscv64 in the manifest list entries");
	expect_err_has(select_str(&idx, "linux/arm64/v9", &err), &err, "linux/arm64/v9");
	expect_err_has(select_str(&idx, "darwin/amd64", &err), &err, "darwin/amd64");
	index_free(&idx);
}

static void test_select_preference(void **state)
{
	(void)state;
	struct image_index idx;
	berth_err err = BERTH_ERR_INIT;
	/* arm64 listed with an odd variant first, then the plain one; amd64 v3 before v1;
	 * a nested index and an attestation entry that must never be chosen. */
	const char *doc =
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" MT_OCI_INDEX "\",\"size\":1,\"digest\":\"" DG(
			H_L1) "\","
			      " \"platform\":{\"os\":\"linux\",\"architecture\":\"riscv64\"}},"
			      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" DG(
				      H_L2) "\","
					    " \"platform\":{\"os\":\"linux\",\"architecture\":"
					    "\"arm64\","
					    "\"variant\":\"v9\"}},"
					    "{\"mediaType\":\"" MT_OCI_MANIFEST
					    "\",\"size\":1,\"digest\":\"" DG(
						    H_L3) "\","
							  " \"platform\":{\"os\":\"linux\","
							  "\"architecture\":"
							  "\"arm64\"}},"
							  "{\"mediaType\":\"" MT_OCI_MANIFEST
							  "\",\"size\":1,\"digest\":\"" DG(
								  H_PPC) "\","
									 " \"platform\":{\"os\":"
									 "\"linux\","
									 "\"architecture\":"
									 "\"amd64\",\"variant\":"
									 "\"v3\"}},"
									 "{\"mediaType\":"
									 "\"" MT_OCI_MANIFEST
									 "\",\"size\":1,\"digest\":"
									 "\"" DG(H_AMD) "\","
											" \"platfor"
											"m\":{"
											"\"os\":"
											"\"linux\","
											"\"architec"
											"ture\":"
											"\"amd64\"}"
											"},"
											"{\"mediaTy"
											"pe\":"
											"\"" MT_OCI_MANIFEST
											"\","
											"\"size\":"
											"1,"
											"\"digest\""
											":\"" DG(
												H_CONFIG) "\","
													  " \"platform\":{"
													  "\"os\":\"unknown\","
													  "\"architecture\":"
													  "\"unknown\"}}]}";
	assert_int_equal(index_parse(doc, strlen(doc), &idx, &err), 0);
	struct image_platform want = { "linux", "arm64", NULL };
	assert_int_equal(index_select(&idx, &want, &err), 2);
	want.variant = "v8";
	assert_int_equal(index_select(&idx, &want, &err), 2);
	want.variant = "v9";
	assert_int_equal(index_select(&idx, &want, &err), 1);
	want = (struct image_platform){ "linux", "amd64", NULL };
	assert_int_equal(index_select(&idx, &want, &err), 4);
	want.variant = "v3";
	assert_int_equal(index_select(&idx, &want, &err), 3);
	want.variant = "v2";
	assert_int_equal(index_select(&idx, &want, &err), 4); /* the plain build first */
	want = (struct image_platform){ "linux", "riscv64", NULL };
	expect_err_has(index_select(&idx, &want, &err), &err, "linux/riscv64 in the manifest");
	index_free(&idx);

	/* Only a non-default variant present: taken when none is wanted. */
	const char *only_v6 =
		"{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" DG(
			H_L1) "\","
			      " \"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
			      "\"variant\":\"v6\"}}]}";
	assert_int_equal(index_parse(only_v6, strlen(only_v6), &idx, &err), 0);
	want = (struct image_platform){ "linux", "arm", NULL };
	assert_int_equal(index_select(&idx, &want, &err), 0);
	want.variant = "v7";
	assert_int_equal(index_select(&idx, &want, &err), -ENOENT);
	berth_err_clear(&err);
	index_free(&idx);
}

static void test_platform(void **state)
{
	(void)state;
	struct image_platform p;
	berth_err err = BERTH_ERR_INIT;
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "linux/arm64/v8", "linux/arm64/v8" },
		{ "linux/arm64", "linux/arm64" },
		{ "linux/amd64", "linux/amd64" },
		{ "linux/amd64/v1", "linux/amd64" },
		{ "linux/arm/v6", "linux/arm/v6" },
		{ "linux/arm", "linux/arm/v7" },
		{ "linux/arm/7", "linux/arm/v7" },
		{ "linux/aarch64/8", "linux/arm64/v8" },
		{ "Linux/X86_64", "linux/amd64" },
		{ "windows/amd64", "windows/amd64" },
		{ "macos/arm64", "darwin/arm64" },
		{ "linux/riscv64", "linux/riscv64" },
		{ "s390x", "linux/s390x" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (platform_parse(good[i].in, &p, &err) != 0)
			fail_msg("%s: %s", good[i].in, err.msg);
		char *s = platform_string(&p);
		assert_string_equal(s, good[i].out);
		free(s);
		platform_free(&p);
		assert_null(p.os);
	}
	assert_int_equal(platform_parse("linux/arm64/v8", &p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.architecture, "arm64");
	assert_string_equal(p.variant, "v8");
	platform_free(&p);

	struct image_platform def;
	platform_default(&def);
	assert_string_equal(def.os, "linux");
	assert_int_equal(platform_parse("linux", &p, &err), 0);
	char *a = platform_string(&p), *b = platform_string(&def);
	assert_string_equal(a, b);
#if defined(__x86_64__)
	assert_string_equal(b, "linux/amd64");
#endif
	free(a);
	free(b);
	platform_free(&p);
	platform_free(&def);

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "\"\": invalid platform: want os[/arch[/variant]]" },
		{ "linux/", "\"linux/\": invalid platform: want os[/arch[/variant]]" },
		{ "/amd64", "\"/amd64\": invalid platform: want os[/arch[/variant]]" },
		{ "linux//amd64", "\"linux//amd64\": invalid platform: want os[/arch[/variant]]" },
		{ "linux/arm/v7/x", "\"linux/arm/v7/x\": invalid platform: too many parts (want "
				    "os[/arch[/variant]])" },
		{ "linux/amd 64", "\"linux/amd 64\": invalid platform: \"amd 64\" may hold only "
				  "letters, digits, '_' "
				  "and '-'" },
		{ "plan9", "\"plan9\": unknown operating system or architecture" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_err(platform_parse(bad[i].in, &p, &err), -EINVAL, &err, bad[i].msg);
		assert_null(p.os);
	}
	assert_int_equal(platform_parse(NULL, &p, &err), -EINVAL);
	berth_err_clear(&err);

	struct image_platform none = { 0 };
	char *s = platform_string(&none);
	assert_string_equal(s, "unknown/unknown");
	free(s);
}

static void test_config(void **state)
{
	(void)state;
	struct image_config c;
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(config_parse(oci_config, strlen(oci_config), &c, &err), 0);
	assert_string_equal(c.os, "linux");
	assert_string_equal(c.architecture, "amd64");
	assert_null(c.variant);
	assert_string_equal(c.created, "2015-10-31T22:22:56.015925234Z");
	assert_int_equal(c.n_diff_ids, 2);
	assert_string_equal(
		c.diff_ids[0],
		"sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1");
	assert_string_equal(
		c.diff_ids[1],
		"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
	assert_int_equal(c.n_history, 3);
	assert_string_equal(c.history[0].created, "2015-10-31T22:22:54.690851953Z");
	assert_non_null(strstr(c.history[0].created_by, "ADD file:a3bc1e84"));
	assert_null(c.history[0].comment);
	assert_false(c.history[0].empty_layer);
	assert_string_equal(c.history[1].created_by, "/bin/sh -c #(nop) CMD [\"sh\"]");
	assert_true(c.history[1].empty_layer);
	assert_string_equal(c.history[2].comment, "buildkit.dockerfile.v0");
	/* The whole document is kept for inspect. */
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(c.json, "config"), "WorkingDir")),
		"/home/alice");
	config_free(&c);
	assert_null(c.json);

	/* A Docker config of an image without layers: diff_ids and history omitted. */
	const char *empty = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","
			    "\"rootfs\":{\"type\":\"layers\"}}";
	assert_int_equal(config_parse(empty, strlen(empty), &c, &err), 0);
	assert_int_equal(c.n_diff_ids, 0);
	assert_non_null(c.diff_ids);
	assert_null(c.diff_ids[0]);
	assert_int_equal(c.n_history, 0);
	assert_string_equal(c.variant, "v8");
	assert_null(c.created);
	config_free(&c);

	static const struct {
		const char *from, *to, *msg;
	} bad[] = {
		{ "\"type\": \"layers\"", "\"type\": \"tarballs\"",
		  "image config: rootfs.type: \"tarballs\" is not supported (only \"layers\")" },
		{ ",\n    \"type\": \"layers\"", "",
		  "image config: rootfs.type: required field is missing" },
		{ "\"rootfs\": {", "\"rootfs\": [], \"x\": {",
		  "image config: rootfs: must be an object, not an array" },
		{ "\"rootfs\": {", "\"r\": {", "image config: rootfs: required field is missing" },
		{ "\"sha256:5f70bf18", "\"sha256:5F70BF18",
		  "image config: rootfs.diff_ids[1]: "
		  "\"sha256:5F70BF18a086007016e948b04aed3b82103a36bea"
		  "41755b6cddfaf10ace3c6ef\" is not a valid sha256 digest" },
		{ "\"diff_ids\": [", "\"diff_ids\": [ 1, ",
		  "image config: rootfs.diff_ids[0]: must be a string, not an integer" },
		{ "\"diff_ids\": [", "\"diff_ids\": \"x\", \"y\": [",
		  "image config: rootfs.diff_ids: must be an array, not a string" },
		{ "\"os\": \"linux\",", "", "image config: os: required field is missing" },
		{ "\"architecture\": \"amd64\",", "\"architecture\": [],",
		  "image config: architecture: must be a string, not an array" },
		{ "\"created\": \"2015-10-31T22:22:56.015925234Z\"", "\"created\": 2015",
		  "image config: created: must be a string, not an integer" },
		{ "\"empty_layer\": true", "\"empty_layer\": \"yes\"",
		  "image config: history[1].empty_layer: must be a boolean, not a string" },
		{ "\"comment\": \"buildkit.dockerfile.v0\"", "\"comment\": {}",
		  "image config: history[2].comment: must be a string, not an object" },
		{ "\"history\": [", "\"history\": [ null, ",
		  "image config: history[0]: must be an object, not null" },
		{ "\"history\": [", "\"history\": {}, \"h\": [",
		  "image config: history: must be an array, not an object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *doc = edit(oci_config, bad[i].from, bad[i].to);
		int rc = config_parse(doc, strlen(doc), &c, &err);
		if (rc >= 0)
			fail_msg("case %zu parsed", i);
		assert_null(c.json);
		assert_null(c.diff_ids);
		expect_err(rc, -EINVAL, &err, bad[i].msg);
		free(doc);
	}
	expect_err(config_parse(oci_config, MANIFEST_MAX_SIZE + 1, &c, &err), -EFBIG, &err,
		   "image config: 4194305 bytes is over the limit of 4194304 bytes");
	expect_err_has(config_parse("{", 1, &c, &err), &err, "image config: not valid JSON");
}

static void test_chain_ids(void **state)
{
	(void)state;
	char *diff[] = {
		"sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
		"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
		"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
	};
	char **chain = layer_chain_ids(diff, 3);
	/* ChainID(L0) = DiffID(L0) */
	assert_string_equal(chain[0], diff[0]);
	/* printf 'sha256:c6f9...bbd1 sha256:5f70...c6ef' | sha256sum */
	assert_string_equal(
		chain[1],
		"sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
	/* printf 'sha256:c319...b93f sha256:9834...e8f0' | sha256sum */
	assert_string_equal(
		chain[2],
		"sha256:e41570e337b8082655f2fc08224fbe3b3cd4056754f91266c40e8d77a941ddee");
	assert_null(chain[3]);
	for (size_t i = 0; chain[i]; i++)
		free(chain[i]);
	free(chain);

	chain = layer_chain_ids(diff, 0);
	assert_non_null(chain);
	assert_null(chain[0]);
	free(chain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_manifest_oci),
		cmocka_unit_test(test_manifest_docker),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_index_bad),
		cmocka_unit_test(test_select_docker_list),
		cmocka_unit_test(test_select_preference),
		cmocka_unit_test(test_platform),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_chain_ids),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
