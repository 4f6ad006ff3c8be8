/* signals.c - signal names <-> numbers, accepting what kill(1), runc and docker accept:
 * "TERM", "SIGTERM", "sigterm", "15", "RTMIN", "SIGRTMIN+3", "RTMAX-2". Numbers come
 * from <signal.h> so they are right on every architecture; the real-time range is
 * glibc's (SIGRTMIN is 34 there: 32 and 33 belong to the threading library).
 */
#include "signals.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"

struct signame {
	const char *name; /* without "SIG" */
	int num;
};

/* Canonical names first: signal_name() returns the first match. */
static const struct signame signames[] = {
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
	{ "BUS", SIGBUS },
	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },
	{ "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },
	{ "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
#ifdef SIGEMT
	{ "EMT", SIGEMT },
#endif
#ifdef SIGLOST
	{ "LOST", SIGLOST },
#endif
	/* Aliases, accepted by signal_parse() only. */
	{ "IOT", SIGIOT },
	{ "CLD", SIGCHLD },
	{ "POLL", SIGPOLL },
};

/* A decimal number of at most a few digits, nothing else; -1 if not. */
static int parse_small_uint(const char *s)
{
	if (!*s)
		return -1;
	int v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 1000)
			return -1;
	}
	return v;
}

static int parse_rt(const char *s)
{
	int base, sign;
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (!*s)
		return base;
	if (*s != (sign > 0 ? '+' : '-'))
		return -EINVAL;
	int n = parse_small_uint(s + 1);
	if (n < 0)
		return -EINVAL;
	int sig = base + sign * n;
	if (sig < SIGRTMIN || sig > SIGRTMAX)
		return -EINVAL;
	return sig;
}

int signal_parse(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		int n = parse_small_uint(s);
		if (n < 1 || n > SIGRTMAX)
			return -EINVAL;
		return n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
		if (strcasecmp(s, signames[i].name) == 0)
			return signames[i].num;
	return parse_rt(s);
}

const char *signal_name(int sig)
{
	static const char *const full[] = {
#define N(x) [SIG##x] = "SIG" #x
		N(HUP),	 N(INT),  N(QUIT), N(ILL),  N(TRAP), N(ABRT), N(BUS),  N(FPE),    N(KILL),
		N(USR1), N(SEGV), N(USR2), N(PIPE), N(ALRM), N(TERM), N(CHLD), N(CONT),   N(STOP),
		N(TSTP), N(TTIN), N(TTOU), N(URG),  N(XCPU), N(XFSZ), N(PROF), N(VTALRM), N(WINCH),
		N(IO),	 N(SYS),
#ifdef SIGSTKFLT
		N(STKFLT),
#endif
#ifdef SIGPWR
		N(PWR),
#endif
#undef N
	};
	static __thread char buf[32];

	if (sig < 1 || sig > SIGRTMAX)
		return NULL;
	if ((size_t)sig < ARRAY_SIZE(full) && full[sig])
		return full[sig];
	if (sig == SIGRTMIN)
		return "SIGRTMIN";
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	/* kill -l's split: the lower half counts up from RTMIN, the upper down from RTMAX. */
	if (sig > SIGRTMIN && sig <= (SIGRTMIN + SIGRTMAX) / 2)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	else if (sig > SIGRTMIN)
		snprintf(buf, sizeof(buf), "SIGRTMAX-%d", SIGRTMAX - sig);
	else
		snprintf(buf, sizeof(buf), "SIG%d", sig); /* 32, 33: taken by glibc, unnamed */
	return buf;
}
