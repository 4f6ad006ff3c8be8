/* test_sha256.c - SHA-256 against the FIPS 180-2 test vectors, one-shot and streaming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sha256.h"

static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void test_oneshot(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char out[SHA256_HEX_LEN + 1];
		memset(out, 'X', sizeof(out));
		sha256_hex(vectors[i].in, strlen(vectors[i].in), out);
		assert_string_equal(out, vectors[i].hex);
	}
}

static void test_streaming(void **state)
{
	(void)state;
	/* "abc" fed a byte at a time, with empty updates in between. */
	struct sha256_ctx c;
	char out[SHA256_HEX_LEN + 1];
	sha256_init(&c);
	sha256_update(&c, "a", 1);
	sha256_update(&c, "", 0);
	sha256_update(&c, "b", 1);
	sha256_update(&c, "c", 1);
	sha256_final_hex(&c, out);
	assert_string_equal(out, vectors[1].hex);

	/* One million 'a' in uneven chunks (FIPS 180-2 long message). */
	size_t total = 1000000, chunk = 4093;
	char *buf = malloc(chunk);
	assert_non_null(buf);
	memset(buf, 'a', chunk);
	sha256_init(&c);
	for (size_t done = 0; done < total;) {
		size_t n = total - done < chunk ? total - done : chunk;
		sha256_update(&c, buf, n);
		done += n;
	}
	sha256_final_hex(&c, out);
	free(buf);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_binary(void **state)
{
	(void)state;
	/* NUL bytes count: the length is authoritative, not strlen. */
	char a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
	sha256_hex("ab\0c", 4, a);
	sha256_hex("ab", 2, b);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), SHA256_HEX_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), SHA256_HEX_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oneshot),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_binary),
	};
	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
