/* test_signals.c - signal names and numbers as kill(1) and runc accept them. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/signals.h"

static void test_parse_names(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "SIGTERM", SIGTERM }, { "TERM", SIGTERM },   { "term", SIGTERM },
		{ "SigTerm", SIGTERM }, { "sigkill", SIGKILL }, { "KILL", 9 },
		{ "HUP", 1 },		{ "INT", 2 },	       { "QUIT", 3 },
		{ "USR1", 10 },		{ "USR2", 12 },	       { "SIGCHLD", SIGCHLD },
		{ "CLD", SIGCHLD },	{ "IOT", SIGABRT },    { "POLL", SIGIO },
		{ "SIGWINCH", 28 },	{ "STKFLT", 16 },      { "PWR", 30 },
		{ "SYS", 31 },		{ "VTALRM", 26 },      { "SIGSTOP", 19 },
		{ "CONT", 18 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (signal_parse(cases[i].in) != cases[i].want)
			fail_msg("signal_parse(\"%s\") = %d, want %d", cases[i].in,
				 signal_parse(cases[i].in), cases[i].want);
}

static void test_parse_numbers_and_rt(void **state)
{
	(void)state;
	assert_int_equal(signal_parse("1"), 1);
	assert_int_equal(signal_parse("15"), 15);
	assert_int_equal(signal_parse("32"), 32);
	char max[16];
	snprintf(max, sizeof(max), "%d", SIGRTMAX);
	assert_int_equal(signal_parse(max), SIGRTMAX);

	assert_int_equal(signal_parse("RTMIN"), SIGRTMIN);
	assert_int_equal(signal_parse("SIGRTMIN"), SIGRTMIN);
	assert_int_equal(signal_parse("sigrtmin+3"), SIGRTMIN + 3);
	assert_int_equal(signal_parse("RTMIN+0"), SIGRTMIN);
	assert_int_equal(signal_parse("RTMAX"), SIGRTMAX);
	assert_int_equal(signal_parse("SIGRTMAX-1"), SIGRTMAX - 1);
	char s[32];
	snprintf(s, sizeof(s), "RTMIN+%d", SIGRTMAX - SIGRTMIN);
	assert_int_equal(signal_parse(s), SIGRTMAX);
	snprintf(s, sizeof(s), "RTMAX-%d", SIGRTMAX - SIGRTMIN);
	assert_int_equal(signal_parse(s), SIGRTMIN);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	char over[16];
	snprintf(over, sizeof(over), "%d", SIGRTMAX + 1);
	char rt_over[32];
	snprintf(rt_over, sizeof(rt_over), "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
	char rt_under[32];
	snprintf(rt_under, sizeof(rt_under), "RTMAX-%d", SIGRTMAX - SIGRTMIN + 1);
	const char *bad[] = {
		"0",	  "", "-1",	 "+15",	    "15x",     " 15",	  over,	 "99999999999999999999",
		"SIG",	  "SIGFOO", "TERMX", "SIGSIGTERM", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+x",
		rt_over, rt_under,  "SIG15", "RTMIN+-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (signal_parse(bad[i]) != -EINVAL)
			fail_msg("signal_parse(\"%s\") = %d, want -EINVAL", bad[i], signal_parse(bad[i]));
	assert_int_equal(signal_parse(NULL), -EINVAL);
}

static void test_name(void **state)
{
	(void)state;
	assert_string_equal(signal_name(SIGTERM), "SIGTERM");
	assert_string_equal(signal_name(SIGKILL), "SIGKILL");
	assert_string_equal(signal_name(SIGCHLD), "SIGCHLD");
	assert_string_equal(signal_name(SIGABRT), "SIGABRT");
	assert_string_equal(signal_name(SIGIO), "SIGIO");
	assert_string_equal(signal_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(signal_name(SIGRTMIN + 1), "SIGRTMIN+1");
	assert_string_equal(signal_name(SIGRTMAX), "SIGRTMAX");
	assert_string_equal(signal_name(SIGRTMAX - 1), "SIGRTMAX-1");
	assert_null(signal_name(0));
	assert_null(signal_name(-1));
	assert_null(signal_name(SIGRTMAX + 1));

	/* Every number has a name that parses back to it. */
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		const char *n = signal_name(sig);
		assert_non_null(n);
		if (signal_parse(n) != sig && !(sig >= 32 && sig < SIGRTMIN))
			fail_msg("signal_parse(signal_name(%d) = \"%s\") = %d", sig, n, signal_parse(n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_parse_numbers_and_rt),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
