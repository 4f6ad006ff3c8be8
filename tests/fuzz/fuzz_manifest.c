/* fuzz_manifest.c - libFuzzer harness for manifests, indexes and image configs.
 *
 * The same bytes go to every parser, as a registry may send anything under
 * any Content-Type. Each must yield a result or one error message; never a
 * crash, leak or undefined behaviour. Run:
 * build-fuzz/tests/fuzz/fuzz_manifest tests/fuzz/corpus-manifest */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "image/manifest.h"
#include "image/reference.h"

static void check_desc(const struct image_desc *d)
{
	if (!d->media_type || !image_digest_valid(d->digest) || d->size < 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	berth_err err = BERTH_ERR_INIT;

	enum manifest_kind kind = manifest_kind(body, size, NULL, &err);
	if (kind == MANIFEST_UNKNOWN && !err.msg)
		__builtin_trap();
	berth_err_clear(&err);

	struct image_manifest m;
	if (manifest_parse(body, size, &m, &err) == 0) {
		check_desc(&m.config);
		for (size_t i = 0; i < m.n_layers; i++)
			check_desc(&m.layers[i]);
		manifest_free(&m);
	} else if (!err.msg) {
		__builtin_trap();
	}
	berth_err_clear(&err);

	struct image_index idx;
	if (index_parse(body, size, &idx, &err) == 0) {
		for (size_t i = 0; i < idx.n_manifests; i++)
			check_desc(&idx.manifests[i]);
		struct image_platform want;
		platform_default(&want);
		int r = index_select(&idx, &want, &err);
		if (r >= 0 ? (size_t)r >= idx.n_manifests : !err.msg)
			__builtin_trap();
		berth_err_clear(&err);
		platform_free(&want);
		index_free(&idx);
	} else if (!err.msg) {
		__builtin_trap();
	}
	berth_err_clear(&err);

	struct image_config c;
	if (config_parse(body, size, &c, &err) == 0) {
		if (!c.json || !c.os || !c.architecture || c.diff_ids[c.n_diff_ids])
			__builtin_trap();
		char **chain = layer_chain_ids(c.diff_ids, c.n_diff_ids);
		for (size_t i = 0; i < c.n_diff_ids; i++) {
			if (!image_digest_valid(chain[i]))
				__builtin_trap();
			free(chain[i]);
		}
		free(chain);
		config_free(&c);
	} else if (!err.msg) {
		__builtin_trap();
	}
	berth_err_clear(&err);

	/* The platform parser gets the bytes as a string too. */
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
		struct image_platform p;
		if (platform_parse(s, &p, &err) == 0) {
			free(platform_string(&p));
			platform_free(&p);
		} else if (!err.msg) {
			__builtin_trap();
		}
		berth_err_clear(&err);
		free(s);
	}
	return 0;
}
