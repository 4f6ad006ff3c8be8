/* berth_init.c - berth-init, the PID 1 that `berth run --init` puts in a container.
 *
 * It runs the command as its only direct child, passes on every signal it is sent,
 * reaps the orphans the kernel reparents to it, and exits with the command's status.
 *
 * It is linked statically and bind-mounted into rootfs that may hold no libc, so it
 * depends on nothing of Berth's and stays off stdio: messages are built from string
 * pieces and written with one writev(), so they do not interleave with the command's.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Docker's codes: the command could not be run (126) or found (127); the init itself
 * failed before the command ran (125, what docker uses for its own failures). */
#define EXIT_INIT_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND   127

#define MSG_PARTS_MAX 8

struct options {
	bool subreaper; /* -s */
	bool pgroup;    /* -g */
	bool verbose;   /* -v */
	char **argv;    /* the command */
};

static bool verbose;

/* Write "berth-init: " and the NULL-terminated pieces, then a newline, to stderr. */
static void msg(const char *first, ...)
{
	struct iovec iov[MSG_PARTS_MAX + 2];
	size_t n = 0;
	va_list ap;

	iov[n++] = (struct iovec){ .iov_base = (void *)"berth-init: ", .iov_len = 12 };
	va_start(ap, first);
	for (const char *s = first; s != NULL && n < MSG_PARTS_MAX + 1;
	     s = va_arg(ap, const char *))
		iov[n++] = (struct iovec){ .iov_base = (void *)s, .iov_len = strlen(s) };
	va_end(ap);
	iov[n++] = (struct iovec){ .iov_base = (void *)"\n", .iov_len = 1 };

	ssize_t r;
	do
		r = writev(STDERR_FILENO, iov, (int)n);
	while (r < 0 && errno == EINTR);
}

#define debug(...)                                                                                 \
	do {                                                                                       \
		if (verbose)                                                                       \
			msg(__VA_ARGS__, NULL);                                                    \
	} while (0)

/* Decimal text of v at the end of buf (21 bytes hold any long); returns its start. */
static const char *fmt_long(char *buf, size_t size, long v)
{
	char *p = buf + size - 1;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	*p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && p > buf + 1); /* + 1: room for the sign */
	if (v < 0)
		*--p = '-';
	return p;
}

static void usage(int fd)
{
	static const char text[] =
		"Usage: berth-init [-s] [-g] [-v] [--] COMMAND [ARG...]\n"
		"Run COMMAND as the child of a minimal init: forward signals to it, reap zombies,\n"
		"and exit with its status.\n"
		"  -s  register as a child subreaper when not PID 1\n"
		"  -g  forward signals to the command's process group, not only to it\n"
		"  -v  say what happens on stderr\n";
	ssize_t r;
	do
		r = write(fd, text, sizeof(text) - 1);
	while (r < 0 && errno == EINTR);
}

/* Options come first, bundled or not ("-sv"); "--" or the first word that is not an
 * option starts the command, so the command's own options are never taken. */
static int parse_args(int argc, char **argv, struct options *opts)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][1] == '\0')
			return -EINVAL;
		for (const char *c = argv[i] + 1; *c; c++) {
			switch (*c) {
			case 's': opts->subreaper = true; break;
			case 'g': opts->pgroup = true; break;
			case 'v': opts->verbose = true; break;
			case 'h': return -ENOENT;
			default: return -EINVAL;
			}
		}
	}
	if (i >= argc)
		return -EINVAL;
	opts->argv = argv + i;
	return 0;
}

/* In the forked child: a process group of its own, the terminal's foreground when stdin
 * is one (as a shell does for a job), then the original signal mask and the command.
 * tcsetpgrp() from what is now a background group would stop us with SIGTTOU, but it
 * is still blocked here, which the tty layer takes as "go ahead". */
static _Noreturn void child_exec(char **argv, const sigset_t *orig_mask)
{
	if (setpgid(0, 0) < 0)
		debug("setpgid: ", strerror(errno));
	if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0)
		debug("tcsetpgrp: ", strerror(errno));
	if (sigprocmask(SIG_SETMASK, orig_mask, NULL) < 0) {
		msg("sigprocmask: ", strerror(errno), NULL);
		_exit(EXIT_INIT_FAILED);
	}

	execvp(argv[0], argv);

	int err = errno;
	msg("exec ", argv[0], ": ", strerror(err), NULL);
	_exit(err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

static const char *signal_text(char *buf, size_t size, int sig)
{
	const char *name = sigabbrev_np(sig);
	return name ? name : fmt_long(buf, size, sig);
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_INIT_FAILED;
}

/* Reap every child that has exited, ours or reparented; return true when the command
 * was among them, with its status in *status. */
static bool reap_zombies(pid_t child, int *status)
{
	bool child_gone = false;
	char pbuf[24], sbuf[24];

	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break; /* none left to reap now (0), or no children at all (ECHILD) */
		if (pid == child) {
			*status = st;
			child_gone = true;
			debug("command ", fmt_long(pbuf, sizeof(pbuf), pid), " exited, status ",
			      fmt_long(sbuf, sizeof(sbuf), exit_code_of(st)));
		} else {
			debug("reaped ", fmt_long(pbuf, sizeof(pbuf), pid));
		}
	}
	return child_gone;
}

static void forward_signal(const struct signalfd_siginfo *si, pid_t child, bool pgroup)
{
	char sbuf[24], pbuf[24];
	pid_t target = pgroup ? -child : child;

	/* A signal we raised ourselves (SIGPIPE from a write to a closed stderr) is ours. */
	if (si->ssi_code == SI_USER && (pid_t)si->ssi_pid == getpid())
		return;
	debug("forwarding SIG", signal_text(sbuf, sizeof(sbuf), (int)si->ssi_signo), " to ",
	      fmt_long(pbuf, sizeof(pbuf), target));
	/* ESRCH: the command has just gone; its SIGCHLD is on the way. */
	if (kill(target, (int)si->ssi_signo) < 0 && errno != ESRCH)
		msg("kill: ", strerror(errno), NULL);
}

int main(int argc, char **argv)
{
	struct options opts = { 0 };
	sigset_t all, orig_mask;
	char buf[24];
	int r;

	r = parse_args(argc, argv, &opts);
	if (r < 0) {
		/* -h asked for it: stdout and success; a bad command line: stderr, failure. */
		usage(r == -ENOENT ? STDOUT_FILENO : STDERR_FILENO);
		return r == -ENOENT ? 0 : EXIT_INIT_FAILED;
	}
	verbose = opts.verbose;

	if (getpid() != 1) {
		if (opts.subreaper) {
			if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
				msg("PR_SET_CHILD_SUBREAPER: ", strerror(errno), NULL);
				return EXIT_INIT_FAILED;
			}
			debug("registered as a child subreaper");
		} else {
			debug("not PID 1 and no -s: orphans will not be reaped here");
		}
	}

	/* Every signal is taken through the signalfd, SIGKILL and SIGSTOP aside (the kernel
	 * never blocks them). Blocked rather than handled also matters as PID 1: the kernel
	 * drops a signal sent from inside the namespace to a PID 1 that leaves it at
	 * SIG_DFL, but queues one that is blocked. A fault of our own still kills us. */
	if (sigfillset(&all) < 0 || sigprocmask(SIG_SETMASK, &all, &orig_mask) < 0) {
		msg("sigprocmask: ", strerror(errno), NULL);
		return EXIT_INIT_FAILED;
	}
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		msg("signalfd: ", strerror(errno), NULL);
		return EXIT_INIT_FAILED;
	}

	pid_t child = fork();
	if (child < 0) {
		msg("fork: ", strerror(errno), NULL);
		return EXIT_INIT_FAILED;
	}
	if (child == 0)
		child_exec(opts.argv, &orig_mask);

	/* Also from this side, so a signal forwarded with -g before the child ran its
	 * setpgid() reaches it; EACCES means the child has exec'd and did it already. */
	if (setpgid(child, child) < 0 && errno != EACCES && errno != ESRCH)
		debug("setpgid: ", strerror(errno));
	debug("started ", opts.argv[0], " as ", fmt_long(buf, sizeof(buf), child));

	int status = 0;
	for (;;) {
		struct signalfd_siginfo si[16];
		ssize_t n = read(sfd, si, sizeof(si));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			msg("read signalfd: ", strerror(errno), NULL);
			return EXIT_INIT_FAILED;
		}
		bool child_gone = false;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				child_gone |= reap_zombies(child, &status);
			else
				forward_signal(&si[i], child, opts.pgroup);
		}
		if (child_gone)
			break;
	}

	/* What exited meanwhile is reaped; what still runs is killed by the kernel when
	 * PID 1 exits, and is reparented further up otherwise. */
	reap_zombies(child, &status);
	return exit_code_of(status);
}
