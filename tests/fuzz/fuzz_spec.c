/* fuzz_spec.c - libFuzzer harness for the config.json parser and validator.
 *
 * Any input must yield either a validated tree or one error message; never a
 * crash, leak or undefined behaviour. Run: build-fuzz/tests/fuzz/fuzz_spec tests/fuzz/corpus */
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *spec = NULL;
	berth_err err = BERTH_ERR_INIT;
	if (spec_parse((const char *)data, size, &spec, &err) == 0) {
		if (!spec)
			__builtin_trap();
		json_decref(spec);
	} else if (!err.msg) {
		__builtin_trap(); /* every failure must say why */
	}
	berth_err_clear(&err);
	return 0;
}
