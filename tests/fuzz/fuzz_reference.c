/* fuzz_reference.c - libFuzzer harness for image reference parsing.
 *
 * Any input must parse into a reference whose canonical form parses back to
 * the same string, or fail with one error message; never a crash, leak or
 * undefined behaviour. Run: build-fuzz/tests/fuzz/fuzz_reference tests/fuzz/corpus-reference */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* References are C strings: cut at the first NUL. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	struct image_ref r;
	berth_err err = BERTH_ERR_INIT;
	if (image_ref_parse(s, &r, &err) == 0) {
		if (!r.domain || !r.path || (!r.tag && !r.digest))
			__builtin_trap();
		char *canon = image_ref_string(&r);
		char *fam = image_ref_familiar(&r);
		char *repo = image_ref_repo(&r);
		char *frepo = image_ref_familiar_repo(&r);
		/* Both forms name the same image. */
		struct image_ref again;
		for (int i = 0; i < 2; i++) {
			if (image_ref_parse(i ? fam : canon, &again, &err) != 0)
				__builtin_trap();
			char *back = image_ref_string(&again);
			if (strcmp(back, canon) != 0)
				__builtin_trap();
			free(back);
			image_ref_free(&again);
		}
		if (strncmp(canon, repo, strlen(repo)) != 0)
			__builtin_trap();
		free(canon);
		free(fam);
		free(repo);
		free(frepo);
		image_ref_free(&r);
	} else if (!err.msg) {
		__builtin_trap(); /* every failure must say why */
	}
	berth_err_clear(&err);

	if (image_ref_parse_name(s, &r, &err) == 0) {
		if (r.tag || r.digest)
			__builtin_trap();
		image_ref_free(&r);
	} else if (!err.msg) {
		__builtin_trap();
	}
	berth_err_clear(&err);
	(void)image_digest_valid(s);
	(void)image_id_prefix_ok(s);
	free(s);
	return 0;
}
