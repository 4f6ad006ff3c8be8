/* monitor.c - berth-monitor: one per running container, its init's parent.
 *
 * Started by the engine (src/engine/ctr_start.c) in the process that
 * created the container, so the init is its child; it execs this small
 * static program, keeping the descriptors it set up:
 *
 *   3  monitor.lock, flock()ed: held as long as this process (and the exit
 *      command it execs) lives, so anyone can tell a live monitor
 *   4  attach.sock, listening (attach_proto.h)
 *   5  the container's stdout (or its pty master), -1 closed
 *   6  the container's stderr, or closed
 *   7  the container's stdin (write end), or closed
 *
 * argv: ID EXITFILE LOGPATH MAXSIZE MAXFILE FLAGS INITPID HEALTH -- EXITCMD...
 *   FLAGS: 't' tty, 'n' stdin once, 'l' write the json-file log
 *   HEALTH: "0", or "INTERVAL,START_PERIOD,START_INTERVAL" in ms: run the
 *   health check command (EXITCMD with its "cleanup" word replaced by
 *   "healthcheck": `berth container healthcheck ID`) one at a time, at
 *   START_INTERVAL during the start period and INTERVAL after it
 *
 * It streams output to the log and to attached clients, feeds stdin from
 * them, and when the init is gone (and its output drained) writes EXITFILE
 * ("CODE NANOSECONDS\n", atomically), tells the clients, and execs EXITCMD
 * (`berth container cleanup ID`), which records the exit in the database,
 * cleans up and applies --rm or the restart policy.
 *
 * No JSON library, no allocation on the hot path: it should stay a few
 * hundred KiB of RSS (issue 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/attach_proto.h"
#include "monitor/jsonlog.h"

enum { FD_LOCK = 3, FD_LISTEN = 4, FD_OUT = 5, FD_ERR = 6, FD_IN = 7 };
#define MAX_CLIENTS 16
/* After the init is gone, how long its output may still be drained (a
 * process outside the container could hold the pipe open forever). */
#define DRAIN_MS 2000

struct client {
	int fd;
	unsigned flags;
	bool hello;
};

static struct client clients[MAX_CLIENTS];
static int in_fd = FD_IN;
static bool tty, stdin_once;
static struct jsonlog *logw;
static unsigned char buf[ATTACH_MAX_PAYLOAD + 1];

static void die(const char *what)
{
	dprintf(2, "berth-monitor: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void client_drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static void client_read(struct client *c, int flags);

/* A client says HELLO before it lets the container start (ctr_start()), so
 * reading it right away means no output is sent before its flags are known. */
static void client_accept(void)
{
	int fd = accept4(FD_LISTEN, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd < 0) {
			/* A client that stops reading slows the container's output
			 * (as docker attach does), but never stops it for good. */
			struct timeval tv = { .tv_sec = 10 };
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			clients[i] = (struct client){ .fd = fd };
			client_read(&clients[i], MSG_DONTWAIT);
			return;
		}
	close(fd);
}

static void close_stdin(void)
{
	if (!tty && in_fd >= 0) {
		close(in_fd);
		in_fd = -1;
	}
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void client_read(struct client *c, int flags)
{
	ssize_t n = recv(c->fd, buf, sizeof(buf), flags);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		bool had_stdin = c->flags & ATTACH_STDIN;
		client_drop(c);
		if (had_stdin && stdin_once)
			close_stdin();
		return;
	}
	switch (buf[0]) {
	case ATTACH_MSG_HELLO:
		c->flags = n > 1 ? buf[1] : 0;
		c->hello = true;
		break;
	case ATTACH_MSG_STDIN:
		if (in_fd >= 0 && (c->flags & ATTACH_STDIN))
			write_all(in_fd, buf + 1, (size_t)n - 1);
		break;
	case ATTACH_MSG_CLOSE:
		if (stdin_once)
			close_stdin();
		break;
	case ATTACH_MSG_RESIZE:
		if (tty && n >= 5) {
			uint16_t rc[2];
			memcpy(rc, buf + 1, sizeof(rc));
			struct winsize ws = { .ws_row = rc[0], .ws_col = rc[1] };
			ioctl(FD_OUT, TIOCSWINSZ, &ws);
		}
		break;
	}
}

static void broadcast(unsigned char type, unsigned flag, const unsigned char *data, size_t n)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd < 0 || !c->hello || (flag && !(c->flags & flag)))
			continue;
		struct iovec iov[2] = { { &type, 1 }, { (void *)data, n } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t r;
		do
			r = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			client_drop(c);
	}
}

/* One read of a container stream; false at its end. */
static bool stream_read(int fd, enum jsonlog_stream s)
{
	ssize_t n = read(fd, buf, ATTACH_MAX_PAYLOAD);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) /* EOF, or EIO from a pty whose other side is gone */
		return false;
	if (logw)
		jsonlog_write(logw, s, (const char *)buf, (size_t)n);
	broadcast(s == JSONLOG_STDOUT ? ATTACH_MSG_STDOUT : ATTACH_MSG_STDERR,
		  s == JSONLOG_STDOUT ? ATTACH_STDOUT : ATTACH_STDERR, buf, (size_t)n);
	return true;
}

/* The attached client that said ATTACH_CLEANUP records the exit itself:
 * true once it says DONE; false if it goes away first or takes too long. */
static bool cleanup_done_by(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)ATTACH_CLEANUP_WAIT_MS * 1000000;
	for (;;) {
		int left = (int)((end - now_ns(CLOCK_MONOTONIC)) / 1000000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (buf[0] == ATTACH_MSG_DONE)
			return true;
	}
}

static void write_exit_file(const char *path, int code)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dprintf(fd, "%d %lld\n", code, (long long)now_ns(CLOCK_REALTIME));
	close(fd);
	rename(tmp, path);
}

/* Health checks (HEALTH argument). */
static struct {
	int64_t interval, start_period, start_interval; /* ms; interval 0: none */
	int64_t started;                                /* CLOCK_MONOTONIC ns */
	int timer;
	pid_t pid; /* the running check, 0 when none */
	char **argv;
} health = { .timer = -1 };

static void health_arm(void)
{
	int64_t now = now_ns(CLOCK_MONOTONIC);
	bool starting = (now - health.started) / 1000000 < health.start_period;
	int64_t ms =
		starting && health.start_interval > 0 ? health.start_interval : health.interval;
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (ms % 1000) * 1000000 } };
	timerfd_settime(health.timer, 0, &its, NULL);
}

static void health_run(void)
{
	uint64_t ticks;
	while (read(health.timer, &ticks, sizeof(ticks)) < 0 && errno == EINTR)
		;
	if (health.pid > 0)
		return; /* one check at a time: the next is armed when this one ends */
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close_range(3, ~0U, 0); /* the check must not hold the monitor's lock */
		execv(health.argv[0], health.argv);
		_exit(127);
	}
	if (pid > 0)
		health.pid = pid;
	else
		health_arm();
}

static void health_setup(const char *spec, int argc, char **argv)
{
	long long iv = 0, sp = 0, si = 0;
	if (sscanf(spec, "%lld,%lld,%lld", &iv, &sp, &si) < 1 || iv <= 0)
		return;
	health.interval = iv;
	health.start_period = sp;
	health.start_interval = si;
	health.started = now_ns(CLOCK_MONOTONIC);
	health.argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!health.argv)
		return;
	for (int i = 0; i < argc; i++)
		health.argv[i] = strcmp(argv[i], "cleanup") == 0 ? "healthcheck" : argv[i];
	health.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (health.timer >= 0)
		health_arm();
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int main(int argc, char **argv)
{
	if (argc < 11 || strcmp(argv[9], "--") != 0) {
		dprintf(2, "berth-monitor: started by berth, not by hand\n");
		return 2;
	}
	const char *exit_file = argv[2], *log_path = argv[3], *flags = argv[6];
	long long max_size = atoll(argv[4]);
	int max_file = atoi(argv[5]);
	pid_t init = (pid_t)atol(argv[7]);
	health_setup(argv[8], argc - 10, argv + 10);
	tty = strchr(flags, 't') != NULL;
	stdin_once = strchr(flags, 'n') != NULL;
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (fcntl(FD_IN, F_GETFD) < 0)
		in_fd = -1;
	if (tty)
		in_fd = FD_OUT;
	bool out_open = fcntl(FD_OUT, F_GETFD) >= 0, err_open = fcntl(FD_ERR, F_GETFD) >= 0;
	/* Orphans of a container that joined other namespaces become ours. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (strchr(flags, 'l')) {
		logw = jsonlog_open(log_path, max_size, max_file);
		if (!logw)
			die(log_path);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd");

	bool exited = false, first = true;
	int code = 255;
	int64_t drain_deadline = 0;
	for (;;) {
		struct pollfd p[5 + MAX_CLIENTS];
		int n = 0;
		p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = exited ? -1 : FD_LISTEN, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = out_open ? FD_OUT : -1, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = err_open ? FD_ERR : -1, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = exited ? -1 : health.timer, .events = POLLIN };
		if (exited && !out_open && !err_open)
			break;
		int timeout = -1;
		if (exited) {
			int64_t left = (drain_deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
			if (left <= 0)
				break;
			timeout = (int)left;
		}
		int r = poll(p, (nfds_t)n, first ? 0 : timeout);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r <= 0 && !first)
			continue;
		/* Reap on SIGCHLD, and once at the start: the init may have
		 * exited before this program set up its signalfd. */
		if (p[0].revents || first) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			int status;
			pid_t w;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0)
				if (w == health.pid) {
					health.pid = 0;
					health_arm();
				} else if (w == init && !exited) {
					exited = true;
					code = exit_code_of(status);
					drain_deadline = now_ns(CLOCK_MONOTONIC) +
							 (int64_t)DRAIN_MS * 1000000;
				}
			first = false;
		}
		/* Clients first: a new one is registered before output it should see. */
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (p[4 + i].revents && clients[i].fd >= 0)
				client_read(&clients[i], 0);
		if (p[4 + MAX_CLIENTS].revents)
			health_run();
		if (p[1].revents)
			client_accept();
		if (p[2].revents && !stream_read(FD_OUT, JSONLOG_STDOUT))
			out_open = false;
		if (p[3].revents && !stream_read(FD_ERR, JSONLOG_STDERR))
			err_open = false;
	}
	if (health.pid > 0) /* a check still running has nothing left to check */
		kill(health.pid, SIGKILL);
	if (logw) {
		jsonlog_flush(logw);
		jsonlog_close(logw);
	}
	write_exit_file(exit_file, code);
	int32_t c32 = code;
	broadcast(ATTACH_MSG_EXIT, 0, (const unsigned char *)&c32, sizeof(c32));
	int keeper = -1;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd >= 0 && keeper < 0 && clients[i].hello &&
		    (clients[i].flags & ATTACH_CLEANUP))
			keeper = i;
		else if (clients[i].fd >= 0)
			client_drop(&clients[i]);
	}
	if (keeper >= 0 && cleanup_done_by(clients[keeper].fd))
		_exit(0);
	close(FD_LISTEN);
	close(FD_OUT);
	close(FD_ERR);
	if (in_fd >= 0 && in_fd != FD_OUT)
		close(in_fd);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	/* FD_LOCK stays open across the exec: the exit command is still "the monitor". */
	execv(argv[10], argv + 10);
	die(argv[10]);
}
