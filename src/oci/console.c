/* console.c - the container's pty: open, make controlling, hand over, proxy; see console.h. */
#include "oci/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/xalloc.h"

int console_open_pty(int *master, char **slave_path, berth_err *err)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return berth_error_errno(err, "cannot open a pty (/dev/ptmx)");
	char name[128];
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0) {
		int e = errno;
		close(m);
		return berth_error(err, e, "cannot set up the pty");
	}
	*master = m;
	*slave_path = xstrdup(name);
	return 0;
}

int console_make_ctty(const char *slave_path, berth_err *err)
{
	if (setsid() < 0)
		return berth_error_errno(err, "setsid");
	int s = open(slave_path, O_RDWR | O_NOCTTY);
	if (s < 0)
		return berth_error_errno(err, "cannot open %s", slave_path);
	if (ioctl(s, TIOCSCTTY, 0) < 0) {
		int e = errno;
		close(s);
		return berth_error(err, e, "cannot make %s the controlling terminal", slave_path);
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(s, fd) < 0) {
			int e = errno;
			close(s);
			return berth_error(err, e, "dup2 of the terminal");
		}
	if (s > 2)
		close(s);
	return 0;
}

int console_set_size(int fd, unsigned int rows, unsigned int cols, berth_err *err)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return berth_error_errno(err, "cannot set the terminal size");
	return 0;
}

int console_send_master(const char *socket_path, int master, const char *name, berth_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return berth_error_code(err, ENAMETOOLONG, "%s: path too long for a unix socket", socket_path);
	strcpy(sa.sun_path, socket_path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return berth_error_errno(err, "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berth_error_errno(err, "cannot connect to %s", socket_path);
	int r = fd_send(s, master, name, strlen(name));
	if (r < 0)
		return berth_error(err, -r, "cannot send the terminal to %s", socket_path);
	return 0;
}

static int copy_once(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = to, .events = POLLOUT };
			poll(&p, 1, 100);
			continue;
		}
		if (w < 0)
			return -1;
		off += w;
	}
	return 1;
}

int console_proxy(int master, int in_fd, int out_fd, berth_err *err)
{
	struct termios saved;
	bool raw = isatty(in_fd) && tcgetattr(in_fd, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(in_fd, TCSANOW, &t);
		struct winsize ws;
		/* A terminal that does not know its size must not erase consoleSize. */
		if (ioctl(in_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	bool in_open = true;
	int r = 0;
	while (true) {
		struct pollfd p[3] = { { .fd = master, .events = POLLIN },
				       { .fd = in_open ? in_fd : -1, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = berth_error_errno(err, "poll");
			break;
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0) {
				struct winsize ws;
				if (ioctl(in_fd, TIOCGWINSZ, &ws) == 0)
					ioctl(master, TIOCSWINSZ, &ws);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (copy_once(in_fd, master) <= 0) {
				/* End of input: the terminal's EOF character, as a user's ^D. */
				struct termios t;
				char eof = tcgetattr(master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
				ssize_t w = write(master, &eof, 1);
				(void)w;
				in_open = false;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int c = copy_once(master, out_fd);
			if (c <= 0)
				break; /* EIO: every slave fd is closed, the process is gone */
		}
	}
	if (raw)
		tcsetattr(in_fd, TCSANOW, &saved);
	return r;
}
