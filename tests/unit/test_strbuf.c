/* test_strbuf.c - strbuf keeps its invariants through every operation and never
 * writes to the shared strbuf_empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/strbuf.h"

static void check_invariants(const struct strbuf *sb)
{
	assert_non_null(sb->buf);
	assert_int_equal(sb->buf[sb->len], '\0');
	if (sb->alloc == 0) {
		assert_ptr_equal(sb->buf, strbuf_empty);
		assert_int_equal(sb->len, 0);
	} else {
		assert_true(sb->len < sb->alloc);
		assert_ptr_not_equal(sb->buf, strbuf_empty);
	}
}

static void test_init_and_empty(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	check_invariants(&sb);
	assert_string_equal(sb.buf, "");
	strbuf_reset(&sb);
	strbuf_setlen(&sb, 0);
	strbuf_add(&sb, "", 0);
	strbuf_addstr(&sb, "");
	check_invariants(&sb);
	assert_int_equal(sb.alloc, 0);

	struct strbuf h;
	strbuf_init(&h, 100);
	check_invariants(&h);
	assert_true(h.alloc >= 101);
	char *before = h.buf;
	for (int i = 0; i < 100; i++)
		strbuf_addch(&h, 'x');
	assert_ptr_equal(h.buf, before); /* the hint was honoured: no realloc */
	assert_int_equal(h.len, 100);
	check_invariants(&h);
	strbuf_release(&h);
	check_invariants(&h);
	assert_int_equal(h.alloc, 0);
}

static void test_add_binary_and_grow(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, "a\0b", 3);
	check_invariants(&sb);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "a\0b\0", 4);

	for (int i = 0; i < 10000; i++) {
		strbuf_addch(&sb, (char)('a' + i % 26));
		if (i % 997 == 0)
			check_invariants(&sb);
	}
	assert_int_equal(sb.len, 10003);
	assert_int_equal(sb.buf[3], 'a');
	assert_int_equal(sb.buf[10002], (char)('a' + 9999 % 26));
	check_invariants(&sb);

	strbuf_setlen(&sb, 2);
	check_invariants(&sb);
	assert_memory_equal(sb.buf, "a\0", 3);
	strbuf_reset(&sb);
	check_invariants(&sb);
	assert_true(sb.alloc > 0); /* reset keeps memory */
	strbuf_addstr(&sb, "hello");
	strbuf_addstr(&sb, ", world");
	assert_string_equal(sb.buf, "hello, world");
	assert_int_equal(sb.len, 12);
}

static void test_addf(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s=%d", "pid", 42);
	check_invariants(&sb);
	assert_string_equal(sb.buf, "pid=42");
	/* Longer than whatever room there is: the second vsnprintf pass. */
	strbuf_addf(&sb, ";%0300d;", 7);
	check_invariants(&sb);
	assert_int_equal(sb.len, 6 + 302);
	assert_int_equal(sb.buf[6], ';');
	assert_int_equal(sb.buf[306], '7');
	assert_int_equal(sb.buf[307], ';');
	assert_int_equal(strlen(sb.buf), sb.len);
	strbuf_addf(&sb, "%s", "");
	assert_int_equal(sb.len, 308);

	_cleanup_strbuf_ struct strbuf big = STRBUF_INIT;
	strbuf_addf(&big, "%5000s|", "x");
	check_invariants(&big);
	assert_int_equal(big.len, 5001);
	assert_int_equal(big.buf[4999], 'x');
}

static void test_detach(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	assert_ptr_not_equal(s, strbuf_empty);
	free(s); /* always malloc'd */
	check_invariants(&sb);

	strbuf_addstr(&sb, "owned");
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "owned");
	check_invariants(&sb);
	assert_int_equal(sb.alloc, 0);
	free(s);
	s = strbuf_detach(&sb, NULL);
	free(s);
}

/* Every operation on empty buffers, with strbuf_empty's page read-only: a write
 * to it kills the child with SIGSEGV. Runs after the other tests so that the
 * libc functions strbuf calls are already bound (their GOT slots share the page). */
static void test_empty_never_written(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long page = sysconf(_SC_PAGESIZE);
		void *p = (void *)((uintptr_t)strbuf_empty & ~(uintptr_t)(page - 1));
		if (mprotect(p, (size_t)page, PROT_READ) < 0)
			_exit(2);
		struct strbuf sb = STRBUF_INIT;
		strbuf_reset(&sb);
		strbuf_setlen(&sb, 0);
		strbuf_add(&sb, "x", 0);
		strbuf_addstr(&sb, "");
		strbuf_release(&sb);
		strbuf_addf(&sb, "%s", "");
		strbuf_release(&sb);
		struct strbuf sb2 = STRBUF_INIT;
		strbuf_grow(&sb2, 0);
		strbuf_release(&sb2);
		strbuf_addch(&sb2, 'a');
		strbuf_release(&sb2);
		free(strbuf_detach(&sb2, NULL));
		/* The page also holds .got.plt: lazy binding of _exit would write there. */
		if (mprotect(p, (size_t)page, PROT_READ | PROT_WRITE) < 0)
			_exit(4);
		_exit(strbuf_empty[0] == '\0' ? 0 : 3);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child status %#x (signal %d)", status,
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_empty),	  cmocka_unit_test(test_add_binary_and_grow),
		cmocka_unit_test(test_addf),		  cmocka_unit_test(test_detach),
		cmocka_unit_test(test_empty_never_written),
	};
	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
